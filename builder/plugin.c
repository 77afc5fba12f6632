/*
 * plugin.c - the one symbol libdockwright-builder.so exports: the table of
 * entry points the executable calls (see plugin.h).
 */
#include <string.h>

#include "../cli/cli.h"
#include "plugin.h"

static int plugin_run_command(const char *name, int argc, char **argv) {
#define PLUGIN_DISPATCH(cmd, summary)                                         \
  if (strcmp(name, #cmd) == 0)                                                \
    return cmd_##cmd##_main(argc, argv);
  CLI_BUILDER_COMMAND_MAP(PLUGIN_DISPATCH)
#undef PLUGIN_DISPATCH
  return -1;
}

__attribute__((visibility("default")))
const struct builder_plugin dockwright_builder_plugin = {
    .abi = BUILDER_PLUGIN_ABI,
    .run_command = plugin_run_command,
};
