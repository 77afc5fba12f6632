/*
 * plugin.h - the builder's door: how the dockwright executable (the
 * command line and the language server) reaches the builder.
 *
 * DESIGN: the builder links libcurl, OpenSSL and libarchive, which bring
 * some forty shared libraries (GnuTLS, Kerberos, LDAP, ICU ...).  Loading
 * them at every start would cost the language server tens of milliseconds
 * and half its memory, for a feature most editor sessions never use.  So
 * the builder is a shared module, libdockwright-builder.so, opened with
 * dlopen the first time a builder command or an editor's build request
 * needs it.  Its one exported symbol is this table: build.h's API (a
 * request in; events out; cancel; free: builds, pulls, pushes, and the
 * registry tag lists behind the server's tag completion, which is what
 * loads the plugin when an editor asks for `FROM image:` completion) and
 * images.h's store facade (data out, nothing printed).  The executable depends
 * on nothing else from it, and the builder knows nothing of its callers: what
 * it would read from an environment comes in the request.
 *
 * Where it is looked for, in order: $DOCKWRIGHT_BUILDER_PLUGIN; next to the
 * executable (the build tree); <exe dir>/../<libdir>/dockwright/ (the
 * installed layout).
 */
#ifndef DW_BUILDER_PLUGIN_H
#define DW_BUILDER_PLUGIN_H

#include <stdint.h>

#include "../common/err.h"
#include "build.h"
#include "images.h"
#include "login.h"

/* Bumped whenever struct builder_plugin or a type it uses changes. */
#define BUILDER_PLUGIN_ABI 3
#define BUILDER_PLUGIN_SYMBOL "dockwright_builder_plugin"
#define BUILDER_PLUGIN_FILE "libdockwright-builder.so"

struct builder_plugin {
  uint32_t abi; /* BUILDER_PLUGIN_ABI */
  /* build.h: builds, pulls and pushes (the request's action). */
  int (*build_start)(uv_loop_t *loop, const struct build_request *req,
                     build_event_fn cb, void *ctx, struct build **out,
                     struct err *err);
  void (*build_cancel)(struct build *b);
  void (*build_free)(struct build *b);
  int (*build_run)(const struct build_request *req, build_event_fn cb,
                   void *ctx, struct build **handle_out, struct err *err);
  /* images.h: the store's data. */
  int (*images_list)(const struct images_store *where,
                     struct images_entry **out, size_t *n, struct err *err);
  void (*images_list_free)(struct images_entry *v, size_t n);
  int (*images_remove)(const struct images_store *where,
                       const char *const *refs, size_t n,
                       struct strv *untagged, struct images_gc *gc,
                       struct err *err);
  int (*images_prune)(const struct images_store *where, bool all,
                      struct images_gc *gc, struct err *err);
  /* login.h: credentials checked and stored, or removed. */
  int (*login_run)(const struct login_request *req, struct login_result *out,
                   struct err *err);
  int (*login_logout)(const char *registry, struct login_result *out,
                      struct err *err);
};

/* Opens the plugin (once; later calls return the same table).  On failure
 * returns NULL with a message that says where it looked. */
const struct builder_plugin *builder_plugin_load(struct err *err);

#endif
