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
#include "../model/ref.h"
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
  rc = registry_new(loop, n->store, &ro, cancel, &n->reg, err);
  if (rc == 0)
    registry_set_concurrency(n->reg, req->max_concurrent_uploads,
                             req->max_concurrent_downloads);
  return rc;
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

/* --- the build cache through a registry ---------------------------------- */

#define IMAGES_CACHE_CONFIG_MT                                                \
  "application/vnd.dockwright.cache.config.v1+json"

/* "type=registry,ref=REF[,mode=min|max]" -> ref (owned) and mode. */
static int images__cache_spec(const char *spec, char **ref, bool *max,
                              struct err *err) {
  *ref = NULL;
  *max = false;
  bool registry = false;
  int rc = 0;
  char *copy = xstrdup(spec);
  char *save = NULL;
  for (char *f = strtok_r(copy, ",", &save); f && rc == 0;
       f = strtok_r(NULL, ",", &save)) {
    if (strcmp(f, "type=registry") == 0) {
      registry = true;
    } else if (strncmp(f, "ref=", 4) == 0 && f[4]) {
      free(*ref);
      *ref = xstrdup(f + 4);
    } else if (strcmp(f, "mode=max") == 0) {
      *max = true;
    } else if (strcmp(f, "mode=min") == 0) {
      *max = false;
    } else if (strncmp(f, "type=", 5) == 0) {
      rc = err_set(err, ERR_UNSUPPORTED,
                   "cache type \"%.40s\": only type=registry is supported",
                   f + 5);
    } else {
      rc = err_set(err, ERR_INVALID, "cache option \"%.60s\" is unknown", f);
    }
  }
  free(copy);
  if (rc == 0 && (!registry || *ref == NULL))
    rc = err_set(err, ERR_INVALID,
                 "cache \"%.100s\": want type=registry,ref=REF", spec);
  if (rc < 0) {
    free(*ref);
    *ref = NULL;
  }
  return rc;
}

/* Adds the entries of one pulled cache manifest to the local cache. */
static int images__cache_adopt(struct images__net *n, const char *manifest,
                               size_t *added, struct err *err) {
  struct buf b = BUF_INIT;
  int rc = store_blob_read(n->store, manifest, DW_MAX_MANIFEST_BYTES, &b, err);
  struct image_manifest m;
  memset(&m, 0, sizeof(m));
  if (rc == 0)
    rc = image_manifest_parse(b.data, b.len, &m, err);
  buf_cleanup(&b);
  if (rc == 0 && (m.config.media_type == NULL ||
                  strcmp(m.config.media_type, IMAGES_CACHE_CONFIG_MT) != 0))
    rc = err_set(err, ERR_INVALID,
                 "not a dockwright build cache (config media type "
                 "\"%.100s\")",
                 m.config.media_type ? m.config.media_type : "");
  json_object *cfg = NULL;
  if (rc == 0)
    rc = store_blob_read(n->store, m.config.digest, DW_MAX_MANIFEST_BYTES, &b,
                         err);
  if (rc == 0) {
    cfg = json_tokener_parse(b.data ? b.data : "");
    if (cfg == NULL)
      rc = err_set(err, ERR_SYNTAX, "build cache config is not JSON");
  }
  buf_cleanup(&b);
  json_object *entries = NULL;
  if (rc == 0 && (!json_object_object_get_ex(cfg, "entries", &entries) ||
                  !json_object_is_type(entries, json_type_array)))
    rc = err_set(err, ERR_SYNTAX, "build cache config without entries");
  for (size_t i = 0; rc == 0 && i < json_object_array_length(entries); i++) {
    json_object *e = json_object_array_get_idx(entries, i), *key, *entry;
    if (!json_object_object_get_ex(e, "key", &key) ||
        !json_object_is_type(key, json_type_string) ||
        !json_object_object_get_ex(e, "entry", &entry))
      continue;
    json_object *have = NULL;
    struct err e2;
    int g = cache_get(n->store, json_object_get_string(key), &have, &e2);
    json_object_put(have);
    if (g == 0)
      continue; /* ours is as good */
    rc = cache_put(n->store, json_object_get_string(key), entry, err);
    if (rc == 0)
      (*added)++;
  }
  json_object_put(cfg);
  image_manifest_cleanup(&m);
  return rc;
}

int images_cache_import_run(const struct build_request *req, uv_loop_t *loop,
                            const atomic_bool *cancel,
                            const struct dispatch_sink *sink,
                            struct err *err) {
  if (req->ncache_from == 0 || req->no_cache)
    return 0;
  struct images__net n;
  int rc = images__net_open(&n, req, loop, cancel, sink, err);
  for (size_t i = 0; rc == 0 && i < req->ncache_from; i++) {
    char *refs = NULL;
    bool max;
    rc = images__cache_spec(req->cache_from[i], &refs, &max, err);
    struct ref r;
    if (rc == 0)
      rc = ref_parse(refs, &r, err);
    if (rc < 0) {
      free(refs);
      break;
    }
    struct image_platform plat;
    struct registry_pulled p;
    memset(&p, 0, sizeof(p));
    rc = image_platform_parse(NULL, &plat, err);
    if (rc == 0)
      rc = registry_pull(n.reg, &r, &plat, &p, err);
    size_t added = 0;
    if (rc == 0)
      rc = images__cache_adopt(&n, p.digest, &added, err);
    if (rc == 0) {
      struct buf line = BUF_INIT;
      buf_printf(&line, "build cache from %s: %zu new entries", refs, added);
      images__log((void *)sink, line.data);
      buf_cleanup(&line);
    } else if (rc != ERR_CANCELLED) {
      /* A missing or broken cache costs a slower build, not a failure. */
      struct buf line = BUF_INIT;
      buf_printf(&line, "build cache from %s not used: %s", refs, err->msg);
      images__log((void *)sink, line.data);
      buf_cleanup(&line);
      err_clear(err);
      rc = 0;
    }
    free(p.media_type);
    ref_cleanup(&r);
    free(refs);
  }
  images__net_close(&n, loop);
  return rc;
}

/* Whether every layer the entry names is in `layers`. */
static bool images__entry_within(json_object *entry, const struct strv *in) {
  json_object *layers;
  if (!json_object_object_get_ex(entry, "layers", &layers))
    return false;
  for (size_t i = 0; i < json_object_array_length(layers); i++) {
    const char *d = json_object_get_string(json_object_object_get(
        json_object_array_get_idx(layers, i), "digest"));
    bool found = false;
    for (size_t k = 0; d && k < in->n && !found; k++)
      found = strcmp(in->v[k], d) == 0;
    if (!found)
      return false;
  }
  return true;
}

int images_cache_export_run(const struct build_request *req, uv_loop_t *loop,
                            const atomic_bool *cancel,
                            const struct dispatch_sink *sink,
                            const char *digest, const struct timespec *since,
                            struct err *err) {
  char *refs = NULL;
  bool max;
  int rc = images__cache_spec(req->cache_to, &refs, &max, err);
  struct ref r;
  if (rc == 0)
    rc = ref_parse(refs, &r, err);
  if (rc < 0) {
    free(refs);
    return rc;
  }
  struct images__net n;
  rc = images__net_open(&n, req, loop, cancel, sink, err);
  /* The image's layers, for mode=min. */
  struct strv image_layers = STRV_INIT;
  if (rc == 0 && !max) {
    struct buf b = BUF_INIT;
    struct image_manifest m;
    if (store_blob_read(n.store, digest, DW_MAX_MANIFEST_BYTES, &b, err) ==
            0 &&
        image_manifest_parse(b.data, b.len, &m, err) == 0) {
      for (size_t i = 0; i < m.nlayers; i++)
        strv_push(&image_layers, m.layers[i].digest);
      image_manifest_cleanup(&m);
    } else {
      max = true; /* an index: every entry */
      err_clear(err);
    }
    buf_cleanup(&b);
  }
  struct strv keys = STRV_INIT;
  if (rc == 0)
    cache_used_since(n.store, since, &keys);
  json_object *entries = json_object_new_array();
  json_object *layers = json_object_new_array();
  struct strv seen = STRV_INIT;
  for (size_t i = 0; rc == 0 && i < keys.n; i++) {
    json_object *entry = NULL;
    struct err e2;
    if (cache_get(n.store, keys.v[i], &entry, &e2) < 0)
      continue;
    if (!max && !images__entry_within(entry, &image_layers)) {
      json_object_put(entry);
      continue;
    }
    json_object *ls = json_object_object_get(entry, "layers");
    for (size_t k = 0; k < json_object_array_length(ls); k++) {
      json_object *l = json_object_array_get_idx(ls, k);
      const char *d =
          json_object_get_string(json_object_object_get(l, "digest"));
      bool dup = false;
      for (size_t j = 0; j < seen.n && !dup; j++)
        dup = strcmp(seen.v[j], d) == 0;
      if (dup)
        continue;
      strv_push(&seen, d);
      json_object *desc = json_object_new_object();
      json_object *mt = json_object_object_get(l, "mediaType");
      json_object_object_add(
          desc, "mediaType",
          json_object_new_string(mt ? json_object_get_string(mt)
                                    : MT_OCI_LAYER_GZIP));
      json_object_object_add(desc, "digest", json_object_new_string(d));
      json_object_object_add(desc, "size",
                             json_object_new_int64(json_object_get_int64(
                                 json_object_object_get(l, "size"))));
      json_object_array_add(layers, desc);
    }
    json_object *e = json_object_new_object();
    json_object_object_add(e, "key", json_object_new_string(keys.v[i]));
    json_object_object_add(e, "entry", entry);
    json_object_array_add(entries, e);
  }
  char cdigest[DIGEST_STR_LEN], mdigest[DIGEST_STR_LEN];
  size_t nentries = json_object_array_length(entries);
  if (rc == 0) {
    json_object *cfg = json_object_new_object();
    json_object_object_add(cfg, "entries", entries);
    entries = NULL;
    const char *text =
        json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PLAIN);
    size_t clen = strlen(text);
    rc = store_blob_put(n.store, text, clen, cdigest, err);
    json_object_put(cfg);
    if (rc == 0) {
      json_object *man = json_object_new_object();
      json_object_object_add(man, "schemaVersion", json_object_new_int(2));
      json_object_object_add(man, "mediaType",
                             json_object_new_string(MT_OCI_MANIFEST));
      json_object *c = json_object_new_object();
      json_object_object_add(c, "mediaType",
                             json_object_new_string(IMAGES_CACHE_CONFIG_MT));
      json_object_object_add(c, "digest", json_object_new_string(cdigest));
      json_object_object_add(c, "size", json_object_new_int64((int64_t)clen));
      json_object_object_add(man, "config", c);
      json_object_object_add(man, "layers", layers);
      layers = NULL;
      const char *mt =
          json_object_to_json_string_ext(man, JSON_C_TO_STRING_PLAIN);
      rc = store_blob_put(n.store, mt, strlen(mt), mdigest, err);
      json_object_put(man);
    }
  }
  if (rc == 0)
    rc = registry_push(n.reg, &r, mdigest, MT_OCI_MANIFEST, err);
  if (rc == 0) {
    struct buf line = BUF_INIT;
    buf_printf(&line, "build cache to %s: %zu entries (mode=%s)", refs,
               nentries, max ? "max" : "min");
    images__log((void *)sink, line.data);
    buf_cleanup(&line);
  }
  json_object_put(entries);
  json_object_put(layers);
  strv_cleanup(&seen);
  strv_cleanup(&keys);
  strv_cleanup(&image_layers);
  images__net_close(&n, loop);
  ref_cleanup(&r);
  free(refs);
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
