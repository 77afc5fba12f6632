/*
 * images.c - pull, push, list, remove and prune (see images.h).  Moved
 * here from the command line, which now only prints what these return.
 */
#include "images.h"

#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "../common/ceilings.h"
#include "cache.h"
#include "dispatch.h"
#include "image.h"
#include "ref.h"
#include "registry.h"
#include "store.h"

static int images__open(const struct images_store *where, struct store **s,
                        struct err *err) {
  if (where->root)
    return store_open(where->root, s, err);
  char *root = store_default_root(where->env, where->nenv);
  int rc = store_open(root, s, err);
  free(root);
  return rc;
}

/* --- pull and push (the build thread) ------------------------------------ */

static void images__log(void *ctx, const char *line) {
  const struct dispatch_sink *sink = ctx;
  if (sink && sink->log)
    sink->log(sink->ctx, line);
}

static void images__progress(void *ctx, const char *verb, const char *digest,
                             uint64_t done, uint64_t total) {
  const struct dispatch_sink *sink = ctx;
  if (sink && sink->progress)
    sink->progress(sink->ctx, verb, digest, done, total);
}

/* A store (locked shared) and a registry client on the build loop. */
struct images__net {
  struct store *store;
  struct registry *reg;
};

static int images__net_open(struct images__net *n,
                            const struct build_request *req, uv_loop_t *loop,
                            const atomic_bool *cancel,
                            const struct dispatch_sink *sink,
                            struct err *err) {
  memset(n, 0, sizeof(*n));
  struct images_store where = {req->root, req->env, req->nenv};
  int rc = images__open(&where, &n->store, err);
  if (rc == 0)
    rc = store_lock(n->store, false, err);
  if (rc < 0)
    return rc;
  struct registry_opts ro = {req->insecure, req->ninsecure,   images__log,
                             (void *)sink,  images__progress, req->env,
                             req->nenv};
  return registry_new(loop, n->store, &ro, cancel, &n->reg, err);
}

static void images__net_close(struct images__net *n, uv_loop_t *loop) {
  if (n->reg) {
    registry_free(n->reg);
    /* The registry's handles close on the loop. */
    uv_run(loop, UV_RUN_DEFAULT);
  }
  store_free(n->store);
}

int images_pull_run(const struct build_request *req, uv_loop_t *loop,
                    const atomic_bool *cancel,
                    const struct dispatch_sink *sink, char digest_out[72],
                    struct err *err) {
  digest_out[0] = '\0';
  if (req->ntags == 0)
    return err_set(err, ERR_INVALID, "pull needs a reference");
  struct image_platform plat;
  int rc = image_platform_parse(req->platform, &plat, err);
  if (rc < 0)
    return rc;
  struct images__net n;
  rc = images__net_open(&n, req, loop, cancel, sink, err);
  for (size_t i = 0; rc == 0 && i < req->ntags; i++) {
    struct ref r;
    rc = ref_parse(req->tags[i], &r, err);
    if (rc < 0)
      break;
    char *name = ref_string(&r);
    struct registry_pulled p;
    rc = registry_pull(n.reg, &r, &plat, &p, err);
    if (rc == 0) {
      rc = store_tag_set(n.store, name, p.digest, p.media_type, p.size, err);
      if (rc == 0) {
        snprintf(digest_out, 72, "%s", p.digest);
        if (sink && sink->image)
          sink->image(sink->ctx, name, p.digest, false);
      }
      free(p.media_type);
    }
    free(name);
    ref_cleanup(&r);
  }
  images__net_close(&n, loop);
  return rc;
}

/* Pushes the stored image `src` to `dst`. */
static int images__push_one(struct images__net *n, const char *src,
                            const char *dst, const struct dispatch_sink *sink,
                            char digest_out[72], struct err *err) {
  struct ref s, d;
  memset(&s, 0, sizeof(s));
  memset(&d, 0, sizeof(d));
  struct store_tag tag;
  memset(&tag, 0, sizeof(tag));
  int rc = ref_parse(src, &s, err);
  if (rc == 0)
    rc = ref_parse(dst, &d, err);
  if (rc == 0) {
    char *name = ref_string(&s);
    rc = store_tag_get(n->store, name, &tag, err);
    free(name);
  }
  if (rc == 0)
    rc = registry_push(n->reg, &d, tag.digest, tag.media_type, err);
  if (rc == 0) {
    char *name = ref_string(&d);
    snprintf(digest_out, 72, "%s", tag.digest);
    if (sink && sink->image)
      sink->image(sink->ctx, name, tag.digest, true);
    free(name);
  }
  store_tag_cleanup(&tag);
  ref_cleanup(&s);
  ref_cleanup(&d);
  return rc;
}

int images_push_run(const struct build_request *req, uv_loop_t *loop,
                    const atomic_bool *cancel,
                    const struct dispatch_sink *sink, char digest_out[72],
                    struct err *err) {
  digest_out[0] = '\0';
  if (req->ntags == 0)
    return err_set(err, ERR_INVALID, "push needs a reference (a tag)");
  if (req->push_dest && req->ntags != 1)
    return err_set(err, ERR_INVALID,
                   "push to a destination takes one "
                   "reference");
  struct images__net n;
  int rc = images__net_open(&n, req, loop, cancel, sink, err);
  for (size_t i = 0; rc == 0 && i < req->ntags; i++)
    rc = images__push_one(&n, req->tags[i],
                          req->push_dest ? req->push_dest : req->tags[i], sink,
                          digest_out, err);
  images__net_close(&n, loop);
  return rc;
}

/* --- the store's data ---------------------------------------------------- */

/* Sum of config and layer sizes of a stored image. */
static uint64_t images__size(struct store *s, const struct store_tag *t) {
  struct image_manifest m;
  struct json_object *cfg = NULL;
  char *md = NULL;
  struct image_platform p;
  struct err e;
  if (image_platform_parse(NULL, &p, &e) < 0 ||
      image_load(s, t->digest, t->media_type, &p, &m, &cfg, &md, &e) < 0)
    return 0;
  uint64_t total = (uint64_t)m.config.size;
  for (size_t i = 0; i < m.nlayers; i++)
    total += (uint64_t)m.layers[i].size;
  image_manifest_cleanup(&m);
  json_object_put(cfg);
  free(md);
  return total;
}

int images_list(const struct images_store *where, struct images_entry **out,
                size_t *n, struct err *err) {
  *out = NULL;
  *n = 0;
  struct store *s = NULL;
  struct store_tag *tags = NULL;
  size_t nt = 0;
  int rc = images__open(where, &s, err);
  if (rc == 0)
    rc = store_tag_list(s, &tags, &nt, err);
  if (rc == 0 && nt) {
    struct images_entry *v = xcalloc(nt, sizeof(*v));
    for (size_t i = 0; i < nt; i++) {
      v[i].name = xstrdup(tags[i].name);
      v[i].digest = xstrdup(tags[i].digest);
      v[i].size = images__size(s, &tags[i]);
    }
    *out = v;
    *n = nt;
  }
  store_tags_free(tags, nt);
  store_free(s);
  return rc;
}

void images_list_free(struct images_entry *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(v[i].name);
    free(v[i].digest);
  }
  free(v);
}

/* Removes unreferenced blobs when the store is not in use. */
static int images__gc(struct store *s, struct images_gc *gc, struct err *err) {
  int rc = store_lock(s, true, err);
  if (rc == ERR_EXISTS) {
    gc->busy = true;
    err_clear(err);
    return 0;
  }
  if (rc < 0)
    return rc;
  rc = image_gc(s, &gc->bytes, &gc->blobs, err);
  store_unlock(s);
  return rc;
}

int images_remove(const struct images_store *where, const char *const *refs,
                  size_t n, struct strv *untagged, struct images_gc *gc,
                  struct err *err) {
  memset(gc, 0, sizeof(*gc));
  struct store *s = NULL;
  int rc = images__open(where, &s, err);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    struct ref r;
    rc = ref_parse(refs[i], &r, err);
    if (rc < 0)
      break;
    char *name = ref_string(&r);
    rc = store_tag_remove(s, name, err);
    if (rc == 0)
      strv_push(untagged, name);
    free(name);
    ref_cleanup(&r);
  }
  if (rc == 0)
    rc = images__gc(s, gc, err);
  store_free(s);
  return rc;
}

int images_prune(const struct images_store *where, bool all,
                 struct images_gc *gc, struct err *err) {
  memset(gc, 0, sizeof(*gc));
  struct store *s = NULL;
  int rc = images__open(where, &s, err);
  if (rc == 0 && all) {
    struct store_tag *tags = NULL;
    size_t n = 0;
    rc = store_tag_list(s, &tags, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
      rc = store_tag_remove(s, tags[i].name, err);
    store_tags_free(tags, n);
  }
  if (rc == 0) {
    rc = store_lock(s, true, err);
    if (rc == 0)
      rc = cache_prune(s, all, DW_CACHE_KEEP_BYTES, &gc->cache_entries, err);
    if (rc == 0 && all)
      rc = cache_prune_lowers(s, true, err);
    if (rc == 0)
      rc = image_gc(s, &gc->bytes, &gc->blobs, err);
  }
  store_free(s);
  return rc;
}

/* --- tag lists (the build thread) ---------------------------------------- */

int images_tags_run(const struct build_request *req, uv_loop_t *loop,
                    const atomic_bool *cancel, images_tags_fn cb, void *ctx,
                    struct err *err) {
  if (req->ntags != 1)
    return err_set(err, ERR_INVALID, "a tag list needs one repository");
  struct ref r;
  int rc = ref_parse(req->tags[0], &r, err);
  if (rc < 0)
    return rc;
  /* No store: registry.c needs one only to pull or push blobs. */
  struct registry_opts ro = {req->insecure, req->ninsecure, NULL,     NULL,
                             NULL,          req->env,       req->nenv};
  struct registry *reg = NULL;
  rc = registry_new(loop, NULL, &ro, cancel, &reg, err);
  if (rc == 0) {
    registry_set_timeout(reg, req->timeout_ms);
    rc = registry_tags(reg, &r, req->tags_page, cb, ctx, err);
  }
  if (reg) {
    registry_free(reg);
    uv_run(loop, UV_RUN_DEFAULT);
  }
  ref_cleanup(&r);
  return rc;
}
