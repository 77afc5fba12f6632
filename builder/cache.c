/*
 * cache.c - the build cache index and the extracted layers (cache.h).
 */
#include "cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/ceilings.h"
#include "layer.h"

static char *cache__path(struct store *store, const char *sub,
                         const char *name) {
  struct buf b = BUF_INIT;
  buf_printf(&b, "%s/%s%s%s", store_root(store), sub, name ? "/" : "",
             name ? name : "");
  return buf_take(&b);
}

static bool cache__hex(const char *s) {
  size_t n = 0;
  for (; s[n]; n++)
    if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
      return false;
  return n == DIGEST_HEX_LEN;
}

int cache_get(struct store *store, const char *key_hex, json_object **out,
              struct err *err) {
  *out = NULL;
  if (!cache__hex(key_hex))
    return err_set(err, ERR_INVALID, "bad cache key");
  char *p = cache__path(store, "cache", key_hex);
  struct buf b = BUF_INIT;
  int rc = buf_read_file(p, DW_MAX_CACHE_ENTRY_BYTES, &b, err);
  if (rc == ERR_NOTFOUND || rc == ERR_IO) {
    /* no entry, or one we cannot read: a miss, not an error */
    err_clear(err);
    buf_cleanup(&b);
    free(p);
    return ERR_NOTFOUND;
  }
  if (rc == 0) {
    json_object *o = b.data ? json_tokener_parse(b.data) : NULL;
    json_object *layers;
    if (o == NULL || !json_object_object_get_ex(o, "layers", &layers) ||
        !json_object_is_type(layers, json_type_array) ||
        !json_object_object_get_ex(o, "config", NULL)) {
      json_object_put(o);
      rc = ERR_NOTFOUND; /* unreadable: a miss, rewritten after the step */
    } else {
      for (size_t i = 0; i < json_object_array_length(layers); i++) {
        const char *d = json_object_get_string(json_object_object_get(
            json_object_array_get_idx(layers, i), "digest"));
        if (d == NULL || !digest_valid(d) || !store_blob_exists(store, d))
          rc = ERR_NOTFOUND; /* a blob was collected */
      }
      if (rc == 0) {
        *out = o;
        (void)utimensat(AT_FDCWD, p, NULL, 0); /* last used */
      } else {
        json_object_put(o);
      }
    }
  }
  buf_cleanup(&b);
  free(p);
  return rc;
}

int cache_put(struct store *store, const char *key_hex, json_object *entry,
              struct err *err) {
  if (!cache__hex(key_hex))
    return err_set(err, ERR_INVALID, "bad cache key");
  char *dir = cache__path(store, "cache", NULL);
  int rc = store_mkdirs(dir, err);
  free(dir);
  if (rc < 0)
    return rc;
  char *p = cache__path(store, "cache", key_hex);
  const char *txt = json_object_to_json_string_ext(
      entry, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  rc = store_write_atomic(p, txt, strlen(txt), err);
  free(p);
  return rc;
}

struct cache__ent {
  char *name;
  struct timespec used;
  uint64_t bytes;
  struct strv digests;
};

static int cache__ent_cmp(const void *a, const void *b) {
  const struct cache__ent *x = a, *y = b;
  /* most recently used first */
  if (x->used.tv_sec != y->used.tv_sec)
    return x->used.tv_sec > y->used.tv_sec ? -1 : 1;
  if (x->used.tv_nsec != y->used.tv_nsec)
    return x->used.tv_nsec > y->used.tv_nsec ? -1 : 1;
  return strcmp(x->name, y->name);
}

/* Reads every entry (name, mtime, layer digests). */
static void cache__list(struct store *store, struct cache__ent **out,
                        size_t *n) {
  *out = NULL;
  *n = 0;
  char *dir = cache__path(store, "cache", NULL);
  DIR *d = opendir(dir);
  if (d == NULL) {
    free(dir);
    return;
  }
  size_t cap = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (!cache__hex(de->d_name))
      continue;
    char *p = cache__path(store, "cache", de->d_name);
    struct stat st;
    json_object *o = NULL;
    if (stat(p, &st) == 0 && st.st_size <= (off_t)DW_MAX_CACHE_ENTRY_BYTES)
      o = json_object_from_file(p);
    free(p);
    if (*n == cap) {
      cap = cap ? cap * 2 : 64;
      *out = xrealloc(*out, cap * sizeof(**out));
    }
    struct cache__ent *e = &(*out)[(*n)++];
    memset(e, 0, sizeof(*e));
    e->name = xstrdup(de->d_name);
    e->used = st.st_mtim;
    json_object *layers = NULL;
    if (o && json_object_object_get_ex(o, "layers", &layers))
      for (size_t i = 0; i < json_object_array_length(layers); i++) {
        json_object *l = json_object_array_get_idx(layers, i);
        const char *dg =
            json_object_get_string(json_object_object_get(l, "digest"));
        if (dg && digest_valid(dg)) {
          strv_push(&e->digests, dg);
          e->bytes += (uint64_t)json_object_get_int64(
              json_object_object_get(l, "size"));
        }
      }
    json_object_put(o);
  }
  closedir(d);
  free(dir);
}

static void cache__list_free(struct cache__ent *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(v[i].name);
    strv_cleanup(&v[i].digests);
  }
  free(v);
}

void cache_used_since(struct store *store, const struct timespec *since,
                      struct strv *keys) {
  struct cache__ent *v;
  size_t n;
  cache__list(store, &v, &n);
  for (size_t i = 0; i < n; i++)
    if (v[i].used.tv_sec > since->tv_sec ||
        (v[i].used.tv_sec == since->tv_sec &&
         v[i].used.tv_nsec >= since->tv_nsec))
      strv_push(keys, v[i].name);
  cache__list_free(v, n);
}

void cache_roots(struct store *store, struct strv *live) {
  struct cache__ent *v;
  size_t n;
  cache__list(store, &v, &n);
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < v[i].digests.n; k++)
      strv_push(live, v[i].digests.v[k]);
  cache__list_free(v, n);
}

int cache_prune(struct store *store, bool all, uint64_t keep_bytes,
                size_t *removed, struct err *err) {
  (void)err;
  struct cache__ent *v;
  size_t n;
  cache__list(store, &v, &n);
  if (n > 1)
    qsort(v, n, sizeof(*v), cache__ent_cmp);
  /* Layers shared by entries count once. */
  struct strv seen = STRV_INIT;
  uint64_t total = 0;
  size_t gone = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t add = 0;
    for (size_t k = 0; k < v[i].digests.n; k++) {
      bool dup = false;
      for (size_t j = 0; j < seen.n && !dup; j++)
        dup = strcmp(seen.v[j], v[i].digests.v[k]) == 0;
      if (!dup) {
        strv_push(&seen, v[i].digests.v[k]);
        add += v[i].bytes / (v[i].digests.n ? v[i].digests.n : 1);
      }
    }
    total += add;
    if (all || total > keep_bytes) {
      char *p = cache__path(store, "cache", v[i].name);
      if (unlink(p) == 0)
        gone++;
      free(p);
    }
  }
  strv_cleanup(&seen);
  cache__list_free(v, n);
  if (removed)
    *removed = gone;
  return 0;
}

/* *p: where the lower directory of layer `digest` lives (layers/ made). */
static int cache__lower_path(struct store *store, const char *digest, char **p,
                             struct err *err) {
  char *base = cache__path(store, "layers", NULL);
  int rc = store_mkdirs(base, err);
  free(base);
  *p = rc < 0 ? NULL : cache__path(store, "layers", digest_hex(digest));
  return rc;
}

int cache_adopt_lower(struct store *store, const char *digest, const char *dir,
                      struct err *err) {
  char *p;
  int rc = cache__lower_path(store, digest, &p, err);
  if (rc < 0)
    return rc;
  /* rename(2) onto an existing non-empty directory fails, so a lower
   * someone else made first stays as it is. */
  if (rename(dir, p) != 0 && errno != ENOTEMPTY && errno != EEXIST)
    rc = err_set(err, ERR_IO, "rename %s: %s", p, strerror(errno));
  free(p);
  return rc;
}

int cache_lower_dir(struct store *store, const char *digest,
                    const atomic_bool *cancel, char **dir, struct err *err) {
  *dir = NULL;
  char *p;
  int rc = cache__lower_path(store, digest, &p, err);
  if (rc < 0)
    return rc;
  struct stat st;
  if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
    *dir = p;
    return 0;
  }
  char *tmp = NULL;
  rc = store_tmpdir(store, "lower", &tmp, err);
  if (rc == 0) {
    (void)chmod(tmp, 0755);
    char *blob = store_blob_path(store, digest);
    rc = layer_extract_lower(blob, tmp, cancel, NULL, err);
    free(blob);
  }
  if (rc == 0 && rename(tmp, p) != 0) {
    if (errno == ENOTEMPTY || errno == EEXIST) {
      struct err e2; /* someone else extracted it first */
      if (store_rmtree(store, tmp, &e2) < 0)
        err_clear(&e2); /* left for prune */
    } else {
      rc = err_set(err, ERR_IO, "rename %s: %s", p, strerror(errno));
    }
  } else if (rc < 0 && tmp) {
    struct err e2;
    if (store_rmtree(store, tmp, &e2) < 0)
      err_clear(&e2); /* left for prune */
  }
  free(tmp);
  if (rc == 0)
    *dir = p;
  else
    free(p);
  return rc;
}

int cache_prune_lowers(struct store *store, bool all, struct err *err) {
  char *base = cache__path(store, "layers", NULL);
  DIR *d = opendir(base);
  if (d == NULL) {
    free(base);
    return 0;
  }
  struct strv names = STRV_INIT;
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    if (cache__hex(de->d_name))
      strv_push(&names, de->d_name);
  closedir(d);
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < names.n; i++) {
    struct buf dg = BUF_INIT;
    buf_printf(&dg, "sha256:%s", names.v[i]);
    if (all || !store_blob_exists(store, dg.data)) {
      /* Renamed into tmp/ first, so a half-removed tree is never seen as
       * an extracted layer. */
      char *tmp = NULL;
      rc = store_tmpdir(store, "gone", &tmp, err);
      if (rc == 0) {
        struct buf from = BUF_INIT, to = BUF_INIT;
        buf_printf(&from, "%s/%s", base, names.v[i]);
        buf_printf(&to, "%s/x", tmp);
        if (rename(from.data, to.data) != 0)
          rc = err_set(err, ERR_IO, "rename %s: %s", from.data,
                       strerror(errno));
        if (rc == 0)
          rc = store_rmtree(store, tmp, err);
        buf_cleanup(&from);
        buf_cleanup(&to);
      }
      free(tmp);
    }
    buf_cleanup(&dg);
  }
  strv_cleanup(&names);
  free(base);
  return rc;
}
