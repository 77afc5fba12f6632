/*
 * images.h - the image store behind `pull`, `push`, `images`, `rmi` and
 * `prune`: data and events in, nothing printed.
 *
 * DESIGN: pull and push move blobs over the network, so they run like a
 * build: build_start with BUILD_ACTION_PULL or BUILD_ACTION_PUSH (build.h)
 * runs images_pull_run / images_push_run on the build thread, with the same
 * events and cancel; so does a registry's tag list (BUILD_ACTION_TAGS,
 * images_tags_run), which needs no store.  Listing and removing only touch the
 * store, so they are plain calls that return data.  Callers reach all of it
 * through the plugin table (plugin.h).
 */
#ifndef DW_IMAGES_H
#define DW_IMAGES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "build.h"

struct dispatch_sink;

/* Which store: root, or the default found in env (see build.h). */
struct images_store {
  const char *root;
  const char *const *env; /* "K=V" */
  size_t nenv;
};

struct images_entry {
  char *name;    /* owned; normalised reference */
  char *digest;  /* owned */
  uint64_t size; /* config + layers, compressed */
};

/* Every tag in the store, sorted by name.  Free with images_list_free. */
int images_list(const struct images_store *where, struct images_entry **out,
                size_t *n, struct err *err) DW_WARN_UNUSED;
void images_list_free(struct images_entry *v, size_t n);

/* What a removal or a prune did. */
struct images_gc {
  size_t cache_entries; /* build cache entries dropped (prune) */
  size_t blobs;         /* blobs removed */
  uint64_t bytes;       /* their size */
  bool busy;            /* rmi: the store was in use, blobs kept */
};

/* Removes the tags `refs` (each pushed to `untagged` as it goes, so a
 * failure part way still says what was done), then the blobs no other tag
 * needs unless the store is in use (gc->busy). */
int images_remove(const struct images_store *where, const char *const *refs,
                  size_t n, struct strv *untagged, struct images_gc *gc,
                  struct err *err) DW_WARN_UNUSED;

/* Removes blobs no tag or cache entry needs, the least recently used
 * cache beyond DW_CACHE_KEEP_BYTES and leftover temporary files; with
 * `all`, every tag and the whole build cache first. */
int images_prune(const struct images_store *where, bool all,
                 struct images_gc *gc, struct err *err) DW_WARN_UNUSED;

/* Build thread only (build.c): a PULL or PUSH request run to the end.
 * digest_out: the last image's digest. */
int images_pull_run(const struct build_request *req, uv_loop_t *loop,
                    const atomic_bool *cancel,
                    const struct dispatch_sink *sink, char digest_out[72],
                    struct err *err) DW_WARN_UNUSED;
int images_push_run(const struct build_request *req, uv_loop_t *loop,
                    const atomic_bool *cancel,
                    const struct dispatch_sink *sink, char digest_out[72],
                    struct err *err) DW_WARN_UNUSED;

/* Build thread only (build.c): the build cache shared through a registry.
 * Import, before the build: every req->cache_from ("type=registry,
 * ref=REF") is pulled (an OCI manifest whose config lists cache entries,
 * its layers the entries' layers) and its entries added to the local
 * cache where missing.  Export, after it: the entries the build wrote or
 * hit since `since` (mode=max; mode=min, the default: only those whose
 * layers are all in the image `digest`) pushed as such a manifest to
 * req->cache_to's ref. */
int images_cache_import_run(const struct build_request *req, uv_loop_t *loop,
                            const atomic_bool *cancel,
                            const struct dispatch_sink *sink,
                            struct err *err) DW_WARN_UNUSED;
int images_cache_export_run(const struct build_request *req, uv_loop_t *loop,
                            const atomic_bool *cancel,
                            const struct dispatch_sink *sink,
                            const char *digest, const struct timespec *since,
                            struct err *err) DW_WARN_UNUSED;
/* Build thread only (build.c): a TAGS request.  cb gets each page of
 * tags[0]'s repository tags (registry_tags), on this thread. */
typedef void (*images_tags_fn)(void *ctx, const char *const *tags, size_t n);
int images_tags_run(const struct build_request *req, uv_loop_t *loop,
                    const atomic_bool *cancel, images_tags_fn cb, void *ctx,
                    struct err *err) DW_WARN_UNUSED;

#endif
