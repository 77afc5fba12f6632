/*
 * plugin.c - the one symbol libdockwright-builder.so exports: the table of
 * entry points the executable calls (see plugin.h).
 */
#include "plugin.h"

__attribute__((visibility("default")))
const struct builder_plugin dockwright_builder_plugin = {
    .abi = BUILDER_PLUGIN_ABI,
    .build_start = build_start,
    .build_cancel = build_cancel,
    .build_free = build_free,
    .build_run = build_run,
    .images_list = images_list,
    .images_list_free = images_list_free,
    .images_remove = images_remove,
    .images_prune = images_prune,
    .login_run = login_run,
    .login_logout = login_logout,
};
