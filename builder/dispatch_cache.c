/*
 * dispatch_cache.c - the build cache's side of a step: its key (parent,
 * instruction, ARG/ENV, the checksum of COPY/ADD sources) and the entry
 * stored after it.
 */
#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/ceilings.h"
#include "../model/dockerfile.h"
#include "../model/expand.h"
#include "cache.h"
#include "context.h"
#include "exec.h"
#include "image.h"
#include "layer.h"
#include "layer_job.h"
#include "output.h"
#include "../model/ref.h"
#include "registry.h"
#include "store.h"
#include "registry.h"
#include "store.h"
#include "dispatch_int.h"

/* --- the build cache -------------------------------------------------- */

/* Restores a stage's state from a cache entry. */
void d_cache_restore(struct stage *s, json_object *entry) {
  json_object *cfg = json_object_object_get(entry, "config");
  json_object *layers = json_object_object_get(entry, "layers");
  json_object_put(s->cfg);
  s->cfg = d_json_clone(cfg);
  for (size_t i = 0; i < s->nlayers; i++)
    free(s->layers[i].media_type);
  size_t n = json_object_array_length(layers);
  s->layers = xrealloc(s->layers, (n ? n : 1) * sizeof(*s->layers));
  for (size_t i = 0; i < n; i++) {
    json_object *l = json_object_array_get_idx(layers, i);
    struct lref *r = &s->layers[i];
    memset(r, 0, sizeof(*r));
    snprintf(r->digest, sizeof(r->digest), "%s",
             json_object_get_string(json_object_object_get(l, "digest")));
    snprintf(r->diffid, sizeof(r->diffid), "%s",
             json_object_get_string(json_object_object_get(l, "diffID")));
    r->size =
        (uint64_t)json_object_get_int64(json_object_object_get(l, "size"));
    const char *mt =
        json_object_get_string(json_object_object_get(l, "mediaType"));
    r->media_type = xstrdup(mt ? mt : MT_OCI_LAYER_GZIP);
  }
  s->nlayers = n;
}

json_object *d_cache_entry(const struct stage *s) {
  json_object *e = json_object_new_object();
  json_object_object_add(e, "config", d_json_clone(s->cfg));
  json_object *ls = json_object_new_array();
  for (size_t i = 0; i < s->nlayers; i++) {
    json_object *l = json_object_new_object();
    json_object_object_add(l, "digest",
                           json_object_new_string(s->layers[i].digest));
    json_object_object_add(l, "diffID",
                           json_object_new_string(s->layers[i].diffid));
    json_object_object_add(l, "size",
                           json_object_new_int64((int64_t)s->layers[i].size));
    json_object_object_add(l, "mediaType",
                           json_object_new_string(s->layers[i].media_type));
    json_object_array_add(ls, l);
  }
  json_object_object_add(e, "layers", ls);
  return e;
}

/* Hashes a context (or stage) path for a COPY/ADD/bind key: relative
 * paths, types, modes, owners, sizes, contents and link targets, not
 * mtimes; what .dockerignore excludes is left out. */
static int d_sum_tree(struct dctx *d, struct digest_ctx *c, const char *root,
                      const char *rel, const struct match_rules *ignore,
                      unsigned depth, struct err *err) {
  if (depth > DW_MAX_PATH_DEPTH)
    return err_set(err, ERR_TOOBIG, "%s: too deep", rel);
  if (d_cancelled(d))
    return err_set(err, ERR_CANCELLED, "cancelled");
  struct buf h = BUF_INIT;
  buf_printf(&h, "%s%s%s", root, rel[0] ? "/" : "", rel);
  struct stat st;
  if (lstat(h.data, &st) != 0) {
    buf_cleanup(&h);
    digest_update(c, "missing\n", 8);
    digest_update(c, rel, strlen(rel) + 1);
    return 0; /* the step itself reports it */
  }
  bool excluded = ignore && rel[0] && match_rules_excluded(ignore, rel);
  if (excluded && !(S_ISDIR(st.st_mode) && ignore->has_exceptions)) {
    buf_cleanup(&h);
    return 0;
  }
  char meta[128];
  int mn =
      snprintf(meta, sizeof(meta), "%o %u %u %llu\n", (unsigned)st.st_mode,
               (unsigned)st.st_uid, (unsigned)st.st_gid,
               S_ISREG(st.st_mode) ? (unsigned long long)st.st_size : 0ull);
  if (!excluded) {
    digest_update(c, rel, strlen(rel) + 1);
    digest_update(c, meta, (size_t)mn);
  }
  int rc = 0;
  if (!excluded && S_ISREG(st.st_mode)) {
    int fd = open(h.data, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      rc = err_set(err, ERR_IO, "read %s: %s", rel, strerror(errno));
    } else {
      char chunk[65536];
      ssize_t n;
      while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        digest_update(c, chunk, (size_t)n);
      close(fd);
    }
  } else if (!excluded && S_ISLNK(st.st_mode)) {
    char t[4096];
    ssize_t n = readlink(h.data, t, sizeof(t));
    if (n > 0)
      digest_update(c, t, (size_t)n);
  } else if (S_ISDIR(st.st_mode)) {
    DIR *dir = opendir(h.data);
    struct strv names = STRV_INIT;
    struct dirent *de;
    while (dir && (de = readdir(dir)) != NULL)
      if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
        strv_push(&names, de->d_name);
    if (dir)
      closedir(dir);
    if (names.n > 1)
      qsort(names.v, names.n, sizeof(char *), d_strv_cmp);
    struct buf r = BUF_INIT;
    for (size_t i = 0; rc == 0 && i < names.n; i++) {
      buf_reset(&r);
      buf_printf(&r, "%s%s%s", rel, rel[0] ? "/" : "", names.v[i]);
      rc = d_sum_tree(d, c, root, r.data, ignore, depth + 1, err);
    }
    buf_cleanup(&r);
    strv_cleanup(&names);
  }
  buf_cleanup(&h);
  return rc;
}

/* What a COPY/ADD/RUN key needs beyond its text: the sources' checksum,
 * or the source stage's key.  *cacheable false for ADD <url>. */
static int d_key_sources(struct dctx *d, struct stage *s,
                         const struct df_instr *in, struct digest_ctx *c,
                         bool *cacheable, struct err *err) {
  *cacheable = true;
  int rc = 0;
  if (in->kind == DF_RUN) {
    /* bind mounts: the context path's checksum or the stage's key */
    for (size_t i = 0; rc == 0 && i < in->nflags; i++) {
      if (strcmp(in->flags[i].name, "mount") != 0 || !in->flags[i].value)
        continue;
      const char *v = in->flags[i].value;
      if (strstr(v, "type=bind") == NULL)
        continue;
      char *copy = xstrdup(v), *save = NULL, *src = NULL, *from = NULL;
      for (char *kv = strtok_r(copy, ",", &save); kv;
           kv = strtok_r(NULL, ",", &save)) {
        if (strncmp(kv, "source=", 7) == 0 || strncmp(kv, "src=", 4) == 0)
          src = strchr(kv, '=') + 1;
        else if (strncmp(kv, "from=", 5) == 0)
          from = kv + 5;
      }
      if (from) {
        int idx = d_stage_index(d, from);
        digest_update(c, from, strlen(from) + 1);
        if (idx >= 0)
          digest_update(c, d->st[idx].key, strlen(d->st[idx].key) + 1);
      } else {
        char *clean = NULL;
        (void)layer_clean_path(src ? src : "", &clean);
        rc = d_sum_tree(d, c, d->ctx.root, clean, &d->ctx.ignore, 0, err);
        free(clean);
      }
      free(copy);
    }
    return rc;
  }
  const char *fromv = df_instr_flag(in, "from");
  if (fromv) {
    char *v = NULL;
    rc = d_expand(d, s, fromv, strlen(fromv), &v, err);
    if (rc < 0)
      return rc;
    int idx = d_stage_index(d, v);
    digest_update(c, v, strlen(v) + 1);
    if (idx >= 0) {
      digest_update(c, d->st[idx].key, strlen(d->st[idx].key) + 1);
    } else {
      struct ref r;
      struct store_tag tag;
      if (ref_parse(v, &r, err) == 0) {
        char *full = ref_string(&r);
        if (store_tag_get(d->store, full, &tag, err) == 0) {
          digest_update(c, tag.digest, strlen(tag.digest) + 1);
          store_tag_cleanup(&tag);
        }
        err_clear(err);
        free(full);
        ref_cleanup(&r);
      }
      err_clear(err);
    }
    free(v);
    return 0;
  }
  for (size_t i = 0; rc == 0 && i + 1 < in->nargs; i++) {
    const struct df_arg *a = &in->args[i];
    if (a->len > 2 && a->value[0] == '<' && a->value[1] == '<')
      continue; /* heredoc: its text is in the key */
    char *sv = NULL;
    rc = d_expand(d, s, a->value, a->len, &sv, err);
    if (rc < 0)
      break;
    if (strncmp(sv, "http://", 7) == 0 || strncmp(sv, "https://", 8) == 0) {
      *cacheable = false;
      free(sv);
      continue;
    }
    char *clean = NULL;
    (void)layer_clean_path(sv, &clean);
    struct strv matches = STRV_INIT;
    if (match_has_meta(clean)) {
      d_copy_glob_walk(d->ctx.root, "", clean, &d->ctx.ignore, &matches, 0);
      if (matches.n > 1)
        qsort(matches.v, matches.n, sizeof(char *), d_strv_cmp);
    } else {
      strv_push(&matches, clean);
    }
    for (size_t m = 0; rc == 0 && m < matches.n; m++) {
      digest_update(c, "src\n", 4);
      rc = d_sum_tree(d, c, d->ctx.root, matches.v[m], &d->ctx.ignore, 0, err);
    }
    strv_cleanup(&matches);
    free(clean);
    free(sv);
  }
  return rc;
}

/* The cache key of instruction `in` run on stage s (hex into out). */
int d_key(struct dctx *d, struct stage *s, const struct df_instr *in,
          char out[DIGEST_HEX_LEN + 1], bool *cacheable, struct err *err) {
  struct digest_ctx c;
  digest_init(&c);
  digest_update(&c, s->key, strlen(s->key) + 1);
  digest_update(&c, in->original, strlen(in->original) + 1);
  for (size_t i = 0; i < in->nflags; i++)
    digest_update(&c, in->flags[i].text, strlen(in->flags[i].text) + 1);
  for (size_t i = 0; i < in->nheredocs; i++) {
    digest_update(&c, in->heredocs[i].name, strlen(in->heredocs[i].name) + 1);
    digest_update(&c, in->heredocs[i].content, in->heredocs[i].content_len);
    digest_update(&c, in->heredocs[i].chomp ? "-" : "+", 1);
  }
  digest_update(&c, "args\n", 5);
  for (size_t i = 0; i < s->args.n; i++)
    digest_update(&c, s->args.v[i], strlen(s->args.v[i]) + 1);
  digest_update(&c, "env\n", 4);
  struct strv env = STRV_INIT;
  d_cfg_env(s->cfg, &env);
  for (size_t i = 0; i < env.n; i++)
    digest_update(&c, env.v[i], strlen(env.v[i]) + 1);
  strv_cleanup(&env);
  *cacheable = true;
  int rc = 0;
  if (in->kind == DF_COPY || in->kind == DF_ADD || in->kind == DF_RUN)
    rc = d_key_sources(d, s, in, &c, cacheable, err);
  if (!*cacheable) {
    char nonce[64];
    int n = snprintf(nonce, sizeof(nonce), "%ld %d %u", (long)time(NULL),
                     (int)getpid(), ++d->nonce);
    digest_update(&c, nonce, (size_t)n);
  }
  char dg[DIGEST_STR_LEN];
  digest_final(&c, dg);
  memcpy(out, digest_hex(dg), DIGEST_HEX_LEN + 1);
  return rc;
}

/* Runs one instruction through the cache: RUN, COPY, ADD and WORKDIR are
 * looked up by key (and stored after running); every instruction moves
 * the stage's key on. */