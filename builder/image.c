/*
 * image.c - manifests, indexes and the garbage collector.
 */
#include "image.h"

#include "cache.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#include "../common/ceilings.h"
#include "../model/refuse.h"

void image_desc_cleanup(struct image_desc *d) {
  free(d->media_type);
  free(d->digest);
  free(d->os);
  free(d->arch);
  free(d->variant);
  memset(d, 0, sizeof(*d));
}

void image_manifest_cleanup(struct image_manifest *m) {
  free(m->media_type);
  image_desc_cleanup(&m->config);
  for (size_t i = 0; i < m->nlayers; i++)
    image_desc_cleanup(&m->layers[i]);
  free(m->layers);
  memset(m, 0, sizeof(*m));
}

void image_index_cleanup(struct image_index *x) {
  free(x->media_type);
  for (size_t i = 0; i < x->n; i++)
    image_desc_cleanup(&x->manifests[i]);
  free(x->manifests);
  memset(x, 0, sizeof(*x));
}

bool image_is_index(const char *mt) {
  return mt &&
         (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0);
}

bool image_is_manifest(const char *mt) {
  return mt && (strcmp(mt, MT_OCI_MANIFEST) == 0 ||
                strcmp(mt, MT_DOCKER_MANIFEST) == 0);
}

bool image_is_layer(const char *mt) {
  static const char *const ok[] = {
      MT_OCI_LAYER,
      MT_OCI_LAYER_GZIP,
      MT_OCI_LAYER_ZSTD,
      MT_DOCKER_LAYER_GZIP,
      MT_DOCKER_LAYER,
      "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
      "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"};
  for (size_t i = 0; mt && i < sizeof(ok) / sizeof(ok[0]); i++)
    if (strcmp(mt, ok[i]) == 0)
      return true;
  return false;
}

static json_object *image__parse_json(const char *data, size_t len,
                                      struct err *err) {
  json_tokener *tok = json_tokener_new_ex(64);
  json_object *o = json_tokener_parse_ex(tok, data, (int)len);
  if (o == NULL || !json_object_is_type(o, json_type_object)) {
    json_object_put(o);
    o = NULL;
    err_set(err, ERR_SYNTAX, "not a JSON object: %s",
            json_tokener_error_desc(json_tokener_get_error(tok)));
  }
  json_tokener_free(tok);
  return o;
}

char *image_sniff_media_type(const char *data, size_t len) {
  json_object *o = image__parse_json(data, len, NULL);
  json_object *mt;
  char *r = NULL;
  if (o && json_object_object_get_ex(o, "mediaType", &mt))
    r = xstrdup(json_object_get_string(mt));
  else if (o && json_object_object_get_ex(o, "manifests", &mt))
    r = xstrdup(MT_OCI_INDEX);
  else if (o && json_object_object_get_ex(o, "config", &mt))
    r = xstrdup(MT_OCI_MANIFEST);
  json_object_put(o);
  return r;
}

static const char *image__str(json_object *o, const char *key) {
  json_object *v;
  if (o && json_object_object_get_ex(o, key, &v) &&
      json_object_is_type(v, json_type_string))
    return json_object_get_string(v);
  return NULL;
}

static int image__desc(json_object *o, struct image_desc *d, struct err *err) {
  memset(d, 0, sizeof(*d));
  const char *mt = image__str(o, "mediaType");
  const char *dg = image__str(o, "digest");
  json_object *sz;
  if (dg == NULL || !digest_valid(dg))
    return err_set(err, ERR_SYNTAX, "descriptor with a bad digest \"%.80s\"",
                   dg ? dg : "");
  if (!json_object_object_get_ex(o, "size", &sz) ||
      json_object_get_int64(sz) < 0)
    return err_set(err, ERR_SYNTAX, "descriptor %s without a size", dg);
  d->media_type = xstrdup(mt ? mt : "");
  d->digest = xstrdup(dg);
  d->size = json_object_get_int64(sz);
  json_object *pl;
  if (json_object_object_get_ex(o, "platform", &pl)) {
    const char *s;
    if ((s = image__str(pl, "os")))
      d->os = xstrdup(s);
    if ((s = image__str(pl, "architecture")))
      d->arch = xstrdup(s);
    if ((s = image__str(pl, "variant")))
      d->variant = xstrdup(s);
  }
  return 0;
}

int image_manifest_parse(const char *data, size_t len,
                         struct image_manifest *out, struct err *err) {
  memset(out, 0, sizeof(*out));
  json_object *o = image__parse_json(data, len, err);
  if (o == NULL)
    return ERR_SYNTAX;
  int rc = 0;
  json_object *cfg, *layers;
  const char *mt = image__str(o, "mediaType");
  json_object *sv;
  if (json_object_object_get_ex(o, "schemaVersion", &sv) &&
      json_object_get_int(sv) != 2) {
    rc = err_set(err, ERR_UNSUPPORTED,
                 "manifest schemaVersion %d is not "
                 "supported (only 2)",
                 json_object_get_int(sv));
    goto out;
  }
  out->media_type = xstrdup(mt ? mt : MT_OCI_MANIFEST);
  if (!json_object_object_get_ex(o, "config", &cfg) ||
      !json_object_object_get_ex(o, "layers", &layers) ||
      !json_object_is_type(layers, json_type_array)) {
    rc = err_set(err, ERR_SYNTAX, "manifest without config or layers");
    goto out;
  }
  rc = image__desc(cfg, &out->config, err);
  if (rc < 0)
    goto out;
  size_t n = json_object_array_length(layers);
  if (n > DW_MAX_LAYERS) {
    rc = err_set(err, ERR_TOOBIG, "manifest with %zu layers (limit %u)", n,
                 DW_MAX_LAYERS);
    goto out;
  }
  out->layers = xcalloc(n ? n : 1, sizeof(*out->layers));
  for (size_t i = 0; i < n; i++) {
    rc = image__desc(json_object_array_get_idx(layers, i), &out->layers[i],
                     err);
    if (rc < 0)
      goto out;
    out->nlayers++;
    if (!image_is_layer(out->layers[i].media_type)) {
      rc = err_set(err, ERR_UNSUPPORTED,
                   "layer media type \"%.100s\" is not "
                   "supported",
                   out->layers[i].media_type);
      goto out;
    }
  }
out:
  json_object_put(o);
  if (rc < 0)
    image_manifest_cleanup(out);
  return rc;
}

int image_index_parse(const char *data, size_t len, struct image_index *out,
                      struct err *err) {
  memset(out, 0, sizeof(*out));
  json_object *o = image__parse_json(data, len, err);
  if (o == NULL)
    return ERR_SYNTAX;
  int rc = 0;
  json_object *ms;
  const char *mt = image__str(o, "mediaType");
  out->media_type = xstrdup(mt ? mt : MT_OCI_INDEX);
  if (!json_object_object_get_ex(o, "manifests", &ms) ||
      !json_object_is_type(ms, json_type_array)) {
    rc = err_set(err, ERR_SYNTAX, "index without manifests");
    goto out;
  }
  size_t n = json_object_array_length(ms);
  if (n > DW_MAX_LAYERS) {
    rc = err_set(err, ERR_TOOBIG, "index with %zu manifests", n);
    goto out;
  }
  out->manifests = xcalloc(n ? n : 1, sizeof(*out->manifests));
  for (size_t i = 0; i < n; i++) {
    rc =
        image__desc(json_object_array_get_idx(ms, i), &out->manifests[i], err);
    if (rc < 0)
      goto out;
    out->n++;
  }
out:
  json_object_put(o);
  if (rc < 0)
    image_index_cleanup(out);
  return rc;
}

static void image__copy(char *dst, const char *s, size_t n) {
  snprintf(dst, 32, "%.*s", (int)n, s);
}

int image_platform_parse(const char *s, struct image_platform *out,
                         struct err *err) {
  memset(out, 0, sizeof(*out));
  /* One word (platforms.Parse): an OS on the host's architecture, or an
   * architecture (normalised) on linux. */
  int word = s && *s && strchr(s, '/') == NULL ? refuse_platform_word(s) : 0;
  if (word == 'a') {
    static const char *const norm[][3] = {
        {"x86_64", "amd64", ""},    {"x86-64", "amd64", ""},
        {"aarch64", "arm64", "v8"}, {"arm64", "arm64", "v8"},
        {"armhf", "arm", "v7"},     {"armel", "arm", "v6"},
        {"i386", "386", ""}};
    const char *arch = s, *variant = "";
    for (size_t i = 0; i < sizeof(norm) / sizeof(norm[0]); i++)
      if (strcasecmp(s, norm[i][0]) == 0) {
        arch = norm[i][1];
        variant = norm[i][2];
      }
    image__copy(out->os, "linux", 5);
    image__copy(out->arch, arch, strlen(arch));
    image__copy(out->variant, variant, strlen(variant));
    for (char *p = out->arch; *p; p++)
      *p = (char)tolower((unsigned char)*p);
    return 0;
  }
  if (s == NULL || *s == '\0' || word == 'o') {
    struct utsname u;
    const char *arch = "amd64";
    if (uname(&u) == 0) {
      if (strcmp(u.machine, "aarch64") == 0)
        arch = "arm64";
      else if (strcmp(u.machine, "x86_64") != 0)
        arch = u.machine;
    }
    image__copy(out->os, word == 'o' ? s : "linux",
                word == 'o' ? strlen(s) : 5);
    for (char *p = out->os; *p; p++)
      *p = (char)tolower((unsigned char)*p);
    image__copy(out->arch, arch, strlen(arch));
    if (strcmp(arch, "arm64") == 0)
      image__copy(out->variant, "v8", 2);
    return 0;
  }
  /* The analysis reports the same refusal (model/refuse.h). */
  struct buf m = BUF_INIT;
  if (refuse_platform(s, &m)) {
    int rc = err_set(err, ERR_INVALID, "%s", m.data);
    buf_cleanup(&m);
    return rc;
  }
  const char *a = strchr(s, '/');
  image__copy(out->os, s, (size_t)(a - s));
  const char *v = strchr(a + 1, '/');
  size_t an = v ? (size_t)(v - a - 1) : strlen(a + 1);
  image__copy(out->arch, a + 1, an);
  if (v)
    image__copy(out->variant, v + 1, strlen(v + 1));
  else if (strcmp(out->arch, "arm64") == 0)
    image__copy(out->variant, "v8", 2);
  return 0;
}

const struct image_desc *image_index_select(const struct image_index *x,
                                            const struct image_platform *p) {
  const struct image_desc *loose = NULL;
  for (size_t i = 0; i < x->n; i++) {
    const struct image_desc *d = &x->manifests[i];
    if (!image_is_manifest(d->media_type) && d->media_type[0])
      continue;
    if (!d->os || !d->arch || strcmp(d->os, p->os) != 0 ||
        strcmp(d->arch, p->arch) != 0)
      continue;
    const char *dv = d->variant ? d->variant : "";
    if (strcmp(dv, p->variant) == 0)
      return d;
    /* arm64 images often omit v8. */
    if (loose == NULL && (dv[0] == '\0' || p->variant[0] == '\0'))
      loose = d;
  }
  return loose;
}

int image_load(struct store *store, const char *digest, const char *media_type,
               const struct image_platform *p, struct image_manifest *m_out,
               struct json_object **config_out, char **manifest_digest_out,
               struct err *err) {
  memset(m_out, 0, sizeof(*m_out));
  *config_out = NULL;
  *manifest_digest_out = NULL;
  struct buf b = BUF_INIT;
  char *mdigest = xstrdup(digest);
  int rc = store_blob_read(store, digest, DW_MAX_MANIFEST_BYTES, &b, err);
  if (rc == 0 && image_is_index(media_type)) {
    struct image_index x;
    rc = image_index_parse(b.data, b.len, &x, err);
    if (rc == 0) {
      const struct image_desc *d = image_index_select(&x, p);
      if (d == NULL) {
        rc = err_set(err, ERR_NOTFOUND,
                     "image %s has no manifest for "
                     "%s/%s",
                     digest, p->os, p->arch);
      } else {
        free(mdigest);
        mdigest = xstrdup(d->digest);
        buf_reset(&b);
        rc = store_blob_read(store, d->digest, DW_MAX_MANIFEST_BYTES, &b, err);
      }
      image_index_cleanup(&x);
    }
  }
  if (rc == 0)
    rc = image_manifest_parse(b.data, b.len, m_out, err);
  if (rc == 0) {
    buf_reset(&b);
    rc = store_blob_read(store, m_out->config.digest, DW_MAX_CONFIG_BYTES, &b,
                         err);
  }
  if (rc == 0) {
    *config_out = image__parse_json(b.data, b.len, err);
    if (*config_out == NULL)
      rc = ERR_SYNTAX;
  }
  buf_cleanup(&b);
  if (rc < 0) {
    image_manifest_cleanup(m_out);
    free(mdigest);
    return rc;
  }
  *manifest_digest_out = mdigest;
  return 0;
}

/* Marks a blob and everything it references. */
static void image__mark(struct store *store, const char *digest,
                        struct strv *live, unsigned depth) {
  if (depth > 8 || !digest_valid(digest))
    return;
  strv_push(live, digest);
  struct buf b = BUF_INIT;
  struct err e;
  if (store_blob_read(store, digest, DW_MAX_MANIFEST_BYTES, &b, &e) < 0) {
    buf_cleanup(&b);
    return; /* a layer or config (too big or not JSON): a leaf */
  }
  char *mt = image_sniff_media_type(b.data, b.len);
  if (mt && image_is_index(mt)) {
    struct image_index x;
    if (image_index_parse(b.data, b.len, &x, &e) == 0) {
      for (size_t i = 0; i < x.n; i++)
        image__mark(store, x.manifests[i].digest, live, depth + 1);
      image_index_cleanup(&x);
    }
  } else if (mt && image_is_manifest(mt)) {
    struct image_manifest m;
    if (image_manifest_parse(b.data, b.len, &m, &e) == 0) {
      strv_push(live, m.config.digest);
      for (size_t i = 0; i < m.nlayers; i++)
        strv_push(live, m.layers[i].digest);
      image_manifest_cleanup(&m);
    }
  }
  free(mt);
  buf_cleanup(&b);
}

static int image__strcmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int image_gc(struct store *store, uint64_t *freed, size_t *removed,
             struct err *err) {
  if (freed)
    *freed = 0;
  if (removed)
    *removed = 0;
  struct store_tag *tags;
  size_t ntags;
  int rc = store_tag_list(store, &tags, &ntags, err);
  if (rc < 0)
    return rc;
  struct strv live = STRV_INIT, all = STRV_INIT;
  for (size_t i = 0; i < ntags; i++)
    image__mark(store, tags[i].digest, &live, 0);
  store_tags_free(tags, ntags);
  /* The build cache's layers stay until `prune` drops their entries. */
  cache_roots(store, &live);
  if (live.n)
    qsort(live.v, live.n, sizeof(char *), image__strcmp);
  rc = store_blob_list(store, &all, err);
  for (size_t i = 0; rc == 0 && i < all.n; i++) {
    if (live.n &&
        bsearch(&all.v[i], live.v, live.n, sizeof(char *), image__strcmp))
      continue;
    int64_t sz = store_blob_size(store, all.v[i]);
    rc = store_blob_remove(store, all.v[i], err);
    if (rc == 0) {
      if (freed && sz > 0)
        *freed += (uint64_t)sz;
      if (removed)
        (*removed)++;
    }
  }
  if (rc == 0)
    rc = store_clean_tmp(store, err);
  if (rc == 0)
    rc = cache_prune_lowers(store, false, err);
  strv_cleanup(&live);
  strv_cleanup(&all);
  return rc;
}
