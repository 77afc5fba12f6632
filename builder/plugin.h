/*
 * plugin.h - how the dockwright executable reaches the builder.
 *
 * DESIGN: the builder links libcurl, OpenSSL and libarchive, which bring
 * some forty shared libraries (GnuTLS, Kerberos, LDAP, ICU ...).  Loading
 * them at every start would cost the language server tens of milliseconds
 * and half its memory, for a feature most editor sessions never use.  So
 * the builder is a shared module, libdockwright-builder.so, opened with
 * dlopen the first time a builder command (or, later, a build request from
 * the editor) needs it.  Its one exported symbol is a table of entry
 * points; the executable depends on nothing else from it.
 *
 * Where it is looked for, in order: $DOCKWRIGHT_BUILDER_PLUGIN; next to the
 * executable (the build tree); <exe dir>/../<libdir>/dockwright/ (the
 * installed layout).
 */
#ifndef DW_BUILDER_PLUGIN_H
#define DW_BUILDER_PLUGIN_H

#include <stdint.h>

#include "../common/err.h"

/* Bumped whenever struct builder_plugin changes. */
#define BUILDER_PLUGIN_ABI 1
#define BUILDER_PLUGIN_SYMBOL "dockwright_builder_plugin"
#define BUILDER_PLUGIN_FILE "libdockwright-builder.so"

struct builder_plugin {
  uint32_t abi; /* BUILDER_PLUGIN_ABI */
  /* Runs a builder subcommand (build, pull, push, images, rmi, prune) and
   * returns its exit status; -1 when `name` is not one of them. */
  int (*run_command)(const char *name, int argc, char **argv);
};

/* Opens the plugin (once; later calls return the same table).  On failure
 * returns NULL with a message that says where it looked. */
const struct builder_plugin *builder_plugin_load(struct err *err);

#endif
