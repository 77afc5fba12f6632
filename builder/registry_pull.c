/*
 * registry_pull.c - reading from a registry: manifests and indexes, blobs
 * downloaded in parallel, verified and resumed with Range, ADD <url>, and
 * tag lists (pages by Link on the same host).  Calls go through
 * registry__send (registry.c).
 */
#include "registry.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/ceilings.h"
#include "registry_int.h"
#include "retry.h"

/* The manifest kinds a pull takes (an index first). */
static const char registry__accept[] = MT_OCI_INDEX
    ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST ", " MT_DOCKER_MANIFEST;

/* GETs a manifest or index into memory; checks it against `digest` when
 * given, and returns its digest. */
static int registry__get_manifest(struct registry *self,
                                  struct registry__host *h, const char *path,
                                  const char *reference, const char *digest,
                                  struct buf *out, char **media_type,
                                  char digest_out[DIGEST_STR_LEN],
                                  struct err *err) {
  struct buf scope = BUF_INIT;
  buf_printf(&scope, "repository:%s:pull", path);
  char *url = registry__url(h, path, "manifests", reference);
  struct registry__call c;
  registry__call_init(&c, h, "GET", url);
  free(url);
  c.accept = registry__accept;
  c.req.max_body = DW_MAX_MANIFEST_BYTES;
  c.req.follow = true;
  struct registry__call *cs[] = {&c};
  int rc = registry__send(self, h, scope.data, cs, 1, err);
  if (rc == 0 && c.req.status != 200) {
    struct buf what = BUF_INIT;
    buf_printf(&what, "get manifest %.80s", reference);
    rc = registry__fail(err, h, path, what.data, &c);
    buf_cleanup(&what);
  }
  if (rc == 0) {
    digest_buf(c.req.body.data ? c.req.body.data : "", c.req.body.len,
               digest_out);
    if (digest && strcmp(digest, digest_out) != 0)
      rc = err_set(err, ERR_DIGEST,
                   "manifest %s/%s@%s: content hashes to "
                   "%s",
                   h->host, path, digest, digest_out);
  }
  if (rc == 0) {
    char *mt = image_sniff_media_type(c.req.body.data, c.req.body.len);
    if (mt == NULL)
      rc = err_set(err, ERR_SYNTAX, "manifest %s/%s:%s is not JSON", h->host,
                   path, reference);
    *media_type = mt;
    buf_append(out, c.req.body.data, c.req.body.len);
  }
  http_req_cleanup(&c.req);
  buf_cleanup(&scope);
  return rc;
}

struct registry__dl {
  struct registry__call call;
  struct store_writer w;
  const struct image_desc *d;
  bool open;
  struct registry__prog prog;
};

/* Downloads blobs in parallel into the store (skipping those present). */
static int registry__get_blobs(struct registry *self, struct registry__host *h,
                               const char *path, const struct image_desc *ds,
                               size_t n, struct err *err) {
  struct buf scope = BUF_INIT;
  buf_printf(&scope, "repository:%s:pull", path);
  struct registry__dl *dl = xcalloc(n ? n : 1, sizeof(*dl));
  struct registry__call **calls = xcalloc(n ? n : 1, sizeof(*calls));
  size_t m = 0;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    if (store_blob_exists(self->store, ds[i].digest))
      continue;
    bool dup = false;
    for (size_t j = 0; j < m; j++)
      if (strcmp(dl[j].d->digest, ds[i].digest) == 0)
        dup = true;
    if (dup)
      continue;
    struct registry__dl *x = &dl[m];
    x->d = &ds[i];
    char *url = registry__url(h, path, "blobs", ds[i].digest);
    registry__call_init(&x->call, h, "GET", url);
    free(url);
    x->call.req.follow = true;
    rc = store_writer_open(self->store, &x->w, err);
    if (rc < 0) {
      http_req_cleanup(&x->call.req);
      break;
    }
    x->open = true;
    x->call.req.sink = &x->w;
    x->call.req.sink_max = (uint64_t)ds[i].size;
    registry__prog_init(&x->prog, self, "pull", ds[i].digest,
                        (uint64_t)ds[i].size);
    registry__prog_attach(&x->call.req, &x->prog);
    calls[m++] = &x->call;
  }
  if (rc == 0 && m) {
    http_set_max_connections(self->http,
                             self->max_downloads ? self->max_downloads : 4);
    rc = registry__send(self, h, scope.data, calls, m, err);
  }
  for (size_t i = 0; i < m; i++) {
    struct registry__dl *x = &dl[i];
    if (rc == 0 && x->call.req.status != 200 && x->call.req.status != 206) {
      struct buf what = BUF_INIT;
      buf_printf(&what, "get blob %s", x->d->digest);
      rc = registry__fail(err, h, path, what.data, &x->call);
      buf_cleanup(&what);
    }
    if (rc == 0 && x->w.size != (uint64_t)x->d->size)
      rc = err_set(err, ERR_DIGEST,
                   "blob %s: got %llu bytes, the manifest "
                   "says %lld",
                   x->d->digest, (unsigned long long)x->w.size,
                   (long long)x->d->size);
    if (rc == 0) {
      uint64_t size = x->w.size;
      rc = store_writer_commit(&x->w, x->d->digest, NULL, err);
      if (rc == 0)
        registry__log(self, "pulled %.19s (%llu bytes)", x->d->digest,
                      (unsigned long long)size);
    } else {
      store_writer_abort(&x->w);
    }
    http_req_cleanup(&x->call.req);
  }
  free(calls);
  free(dl);
  buf_cleanup(&scope);
  /* Remember where the blobs are, for a later push to mount them. */
  for (size_t i = 0; rc == 0 && i < n; i++)
    if (store_blob_exists(self->store, ds[i].digest))
      registry__remember(self, h, path, ds[i].digest);
  return rc;
}

int registry_pull(struct registry *self, const struct ref *ref,
                  const struct image_platform *p, struct registry_pulled *out,
                  struct err *err) {
  memset(out, 0, sizeof(*out));
  int rc;
  struct registry__host *h = registry__host(self, ref_api_host(ref), err, &rc);
  if (h == NULL)
    return rc;
  struct buf top = BUF_INIT;
  char *mt = NULL;
  const char *reference = ref->digest ? ref->digest : ref->tag;
  rc = registry__get_manifest(self, h, ref->path, reference, ref->digest, &top,
                              &mt, out->digest, err);
  if (rc < 0) {
    buf_cleanup(&top);
    return rc;
  }
  out->media_type = xstrdup(mt);
  out->size = top.len;
  struct buf man = BUF_INIT;
  char mdigest[DIGEST_STR_LEN];
  memcpy(mdigest, out->digest, sizeof(mdigest));
  if (image_is_index(mt)) {
    struct image_index x;
    rc = image_index_parse(top.data, top.len, &x, err);
    if (rc == 0) {
      const struct image_desc *d = image_index_select(&x, p);
      if (d == NULL) {
        rc = err_set(err, ERR_NOTFOUND, "%s/%s has no image for %s/%s%s%s",
                     ref->domain, ref->path, p->os, p->arch,
                     p->variant[0] ? "/" : "", p->variant);
      } else {
        free(mt);
        mt = NULL;
        rc = registry__get_manifest(self, h, ref->path, d->digest, d->digest,
                                    &man, &mt, mdigest, err);
      }
      image_index_cleanup(&x);
    }
    if (rc == 0)
      rc = store_blob_put(self->store, top.data, top.len, NULL, err);
  } else {
    buf_append(&man, top.data, top.len);
  }
  struct image_manifest m;
  memset(&m, 0, sizeof(m));
  if (rc == 0 && !image_is_manifest(mt))
    rc = err_set(err, ERR_UNSUPPORTED,
                 "%s/%s: media type \"%.100s\" is not "
                 "an image manifest",
                 ref->domain, ref->path, mt);
  if (rc == 0)
    rc = image_manifest_parse(man.data, man.len, &m, err);
  if (rc == 0) {
    struct image_desc *all = xcalloc(m.nlayers + 1, sizeof(*all));
    all[0] = m.config;
    for (size_t i = 0; i < m.nlayers; i++)
      all[i + 1] = m.layers[i];
    rc = registry__get_blobs(self, h, ref->path, all, m.nlayers + 1, err);
    free(all); /* shallow copies: m still owns the strings */
  }
  if (rc == 0)
    rc = store_blob_put(self->store, man.data, man.len, NULL, err);
  image_manifest_cleanup(&m);
  free(mt);
  buf_cleanup(&man);
  buf_cleanup(&top);
  if (rc < 0) {
    free(out->media_type);
    out->media_type = NULL;
  }
  return rc;
}

int registry_fetch_url(struct registry *self, const char *url,
                       const char *checksum, char digest_out[DIGEST_STR_LEN],
                       struct err *err) {
  if (checksum && !digest_valid(checksum))
    return err_set(err, ERR_INVALID,
                   "unsupported checksum \"%.80s\" (want "
                   "sha256:<64 hex>)",
                   checksum);
  struct store_writer w;
  int rc = store_writer_open(self->store, &w, err);
  if (rc < 0)
    return rc;
  struct http_req r;
  http_req_init(&r, "GET", url);
  r.follow = true;
  r.sink = &w;
  r.sink_max = DW_MAX_ADD_URL_BYTES;
  rc = registry__run_retried(self, &r, err);
  if (rc == 0 && (r.status < 200 || r.status >= 300))
    rc = err_set(err, ERR_NETWORK, "GET %s: HTTP %ld", url, r.status);
  http_req_cleanup(&r);
  if (rc == 0)
    rc = store_writer_commit(&w, checksum, digest_out, err);
  else
    store_writer_abort(&w);
  return rc;
}

/* --- tag lists ----------------------------------------------------------- */

/* The next page's URL from a Link header (`<url>; rel="next"`), on the same
 * scheme and host only; NULL when there is none. */
static char *registry__next_link(const struct registry__host *h,
                                 const char *link) {
  for (const char *p = link; p && *p;) {
    const char *lt = strchr(p, '<');
    const char *gt = lt ? strchr(lt, '>') : NULL;
    if (gt == NULL)
      return NULL;
    const char *end = strchr(gt, ',');
    size_t plen = end ? (size_t)(end - gt) : strlen(gt);
    char *params = xstrndup(gt + 1, plen - 1);
    bool next = strstr(params, "rel=\"next\"") || strstr(params, "rel=next");
    free(params);
    if (next) {
      char *target = xstrndup(lt + 1, (size_t)(gt - lt - 1));
      struct buf b = BUF_INIT;
      buf_printf(&b, "%s://%s/", h->scheme, h->host);
      char *url = NULL;
      if (target[0] == '/') {
        buf_puts(&b, target + 1);
        url = buf_take(&b);
      } else if (strncmp(target, buf_cstr(&b), b.len) == 0) {
        url = xstrdup(target);
      }
      buf_cleanup(&b);
      free(target);
      return url;
    }
    p = end ? end + 1 : NULL;
  }
  return NULL;
}

/* A tag as the distribution spec allows it: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 * (anything else a registry sends is dropped, not shown in an editor). */
static bool registry__tag_ok(const char *t) {
  size_t n = strlen(t);
  if (n == 0 || n > 128 || t[0] == '.' || t[0] == '-')
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = t[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
      return false;
  }
  return true;
}

int registry_tags(struct registry *self, const struct ref *ref, unsigned page,
                  registry_tags_fn cb, void *ctx, struct err *err) {
  int rc;
  struct registry__host *h = registry__host(self, ref_api_host(ref), err, &rc);
  if (h == NULL)
    return rc;
  struct buf scope = BUF_INIT;
  buf_printf(&scope, "repository:%s:pull", ref->path);
  struct buf first = BUF_INIT;
  buf_printf(&first, "%s://%s/v2/%s/tags/list", h->scheme, h->host, ref->path);
  if (page > 0)
    buf_printf(&first, "?n=%u", page);
  char *url = buf_take(&first);
  size_t total = 0;
  for (unsigned pages = 0;
       url && rc == 0 && pages < DW_MAX_TAG_PAGES && total < DW_MAX_TAGS;
       pages++) {
    struct registry__call c;
    registry__call_init(&c, h, "GET", url);
    free(url);
    url = NULL;
    c.accept = "application/json";
    c.req.max_body = DW_MAX_TAG_PAGE_BYTES;
    struct registry__call *cs[] = {&c};
    rc = registry__send(self, h, scope.data, cs, 1, err);
    if (rc == 0 && c.req.status != 200)
      rc = registry__fail(err, h, ref->path, "list tags", &c);
    json_object *o = NULL, *tags = NULL;
    if (rc == 0) {
      o = json_tokener_parse(c.req.body.data ? c.req.body.data : "");
      if (!json_object_object_get_ex(o, "tags", &tags) ||
          !(json_object_is_type(tags, json_type_array) ||
            json_object_is_type(tags, json_type_null)))
        rc = err_set(err, ERR_SYNTAX,
                     "tags of %s/%s: the reply has no \"tags\" list", h->host,
                     ref->path);
    }
    if (rc == 0) {
      size_t n = json_object_is_type(tags, json_type_array)
                     ? json_object_array_length(tags)
                     : 0;
      const char **v = xcalloc(n ? n : 1, sizeof(*v));
      size_t m = 0;
      for (size_t i = 0; i < n && total + m < DW_MAX_TAGS; i++) {
        json_object *t = json_object_array_get_idx(tags, i);
        if (json_object_is_type(t, json_type_string) &&
            registry__tag_ok(json_object_get_string(t)))
          v[m++] = json_object_get_string(t);
      }
      total += m;
      cb(ctx, v, m);
      free(v);
      if (c.req.link)
        url = registry__next_link(h, c.req.link);
    }
    json_object_put(o);
    http_req_cleanup(&c.req);
  }
  free(url);
  buf_cleanup(&scope);
  return rc;
}
