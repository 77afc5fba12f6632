/*
 * dispatch.c - runs a Dockerfile.
 *
 * DESIGN: the Dockerfile model gives stages and instructions.  Global ARGs
 * are read first (with --build-arg overrides) for the FROM lines; then the
 * stages the target needs (through FROM <stage> and COPY --from) run in
 * order; the others are skipped.  A stage's state is its image config (the
 * JSON document, edited in place), its layers, and, only when an
 * instruction needs to look at files (COPY's destination, WORKDIR, --chown
 * by name, COPY --from), a directory with its layers applied
 * ("materialized"), kept up to date lazily.  COPY packs straight from the
 * source into a layer blob: files are read once.
 */
#include "dispatch.h"

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
#include "ref.h"
#include "registry.h"
#include "store.h"

#define DEFAULT_PATH                                                          \
  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"                   \
  "/sbin:/bin"

struct lref {
  char digest[DIGEST_STR_LEN];
  char diffid[DIGEST_STR_LEN];
  uint64_t size;
  char *media_type; /* owned */
};

struct stage {
  bool needed, done;
  json_object *cfg; /* owned: the whole image config document */
  struct lref *layers;
  size_t nlayers;
  char *rootfs;   /* owned or NULL: every layer applied, made only for
                     what reads a whole tree (COPY --from, bind mounts) */
  size_t applied; /* layers applied to rootfs */
  char **lowers;  /* owned: extracted dirs of layers[0..nlowers) */
  size_t nlowers;
  struct strv args; /* "K=V" in scope */
  bool cmd_set;
  char key[DIGEST_HEX_LEN + 1]; /* cache key of the last step run */
};

/* A RUN layer packing on a worker thread while the next steps run, and
 * what waits for its digest. */
struct d_pending {
  struct layer_job job;
  struct stage *s; /* borrowed: the stage the layer belongs to */
  size_t layer;    /* its index in s->layers (a placeholder until joined) */
  size_t nentries;
  char *rundir;             /* owned: the RUN's directory */
  char *upper;              /* owned: rundir/upper, already a lower */
  json_object *cache_entry; /* owned or NULL: the step's cache entry */
  char key[DIGEST_HEX_LEN + 1];
};

struct dctx {
  const struct build_request *req;
  uv_loop_t *loop;
  const atomic_bool *cancel;
  const struct dispatch_sink *sink;
  struct store *store;
  struct registry *reg;
  struct dockerfile *df;
  struct context ctx;
  struct image_platform plat;
  struct strv meta;       /* global ARGs "K=V" after overrides */
  struct strv build_args; /* --build-arg "K=V" */
  struct stage *st;
  int64_t epoch;
  bool have_epoch;
  unsigned step, nsteps;
  char escape;
  unsigned cur_line; /* the instruction running, for RUN's log lines */
  unsigned nonce;    /* keys of steps that cannot be cached */
  unsigned runs;     /* RUN commands executed (not from the cache) */
  bool has_pending;
  struct d_pending pending;
};

static void d_log(struct dctx *d, const char *fmt, ...) DW_PRINTF(2, 3);
static void d_log(struct dctx *d, const char *fmt, ...) {
  struct buf b = BUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&b, fmt, ap);
  va_end(ap);
  if (d->sink && d->sink->log)
    d->sink->log(d->sink->ctx, b.data);
  buf_cleanup(&b);
}

static void d_reg_log(void *ctx, const char *line) {
  d_log(ctx, "%s", line);
}

static double d_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool d_cancelled(struct dctx *d) {
  return d->cancel && atomic_load(d->cancel);
}

/* --- key/value vectors ------------------------------------------------ */

/* Value of name in "K=V" entries (last wins), or NULL. */
static const char *kv_get(const struct strv *kv, const char *name, size_t n) {
  for (size_t i = kv->n; i-- > 0;) {
    const char *e = kv->v[i];
    if (strncmp(e, name, n) == 0 && e[n] == '=')
      return e + n + 1;
  }
  return NULL;
}

static void kv_set(struct strv *kv, const char *name, const char *value) {
  size_t n = strlen(name);
  struct buf b = BUF_INIT;
  buf_printf(&b, "%s=%s", name, value);
  for (size_t i = 0; i < kv->n; i++)
    if (strncmp(kv->v[i], name, n) == 0 && kv->v[i][n] == '=') {
      free(kv->v[i]);
      kv->v[i] = buf_take(&b);
      return;
    }
  strv_push_take(kv, buf_take(&b));
}

/* --- the config document ---------------------------------------------- */

static json_object *cfg_config(json_object *cfg) {
  json_object *c;
  if (!json_object_object_get_ex(cfg, "config", &c) ||
      !json_object_is_type(c, json_type_object)) {
    c = json_object_new_object();
    json_object_object_add(cfg, "config", c);
  }
  return c;
}

/* Env of a config as "K=V" (appended to out). */
static void cfg_env(json_object *cfg, struct strv *out) {
  json_object *env;
  if (json_object_object_get_ex(cfg_config(cfg), "Env", &env) &&
      json_object_is_type(env, json_type_array))
    for (size_t i = 0; i < json_object_array_length(env); i++) {
      const char *s =
          json_object_get_string(json_object_array_get_idx(env, i));
      if (s && strchr(s, '='))
        strv_push(out, s);
    }
}

static void cfg_set_env(json_object *cfg, const char *k, const char *v) {
  struct strv env = STRV_INIT;
  cfg_env(cfg, &env);
  kv_set(&env, k, v);
  json_object *arr = json_object_new_array();
  for (size_t i = 0; i < env.n; i++)
    json_object_array_add(arr, json_object_new_string(env.v[i]));
  json_object_object_add(cfg_config(cfg), "Env", arr);
  strv_cleanup(&env);
}

static char *d_now(struct dctx *d) {
  time_t t = d->have_epoch ? (time_t)d->epoch : time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  char s[64];
  strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return xstrdup(s);
}

static void cfg_history(struct dctx *d, json_object *cfg,
                        const char *created_by, bool empty) {
  json_object *h;
  if (!json_object_object_get_ex(cfg, "history", &h) ||
      !json_object_is_type(h, json_type_array)) {
    h = json_object_new_array();
    json_object_object_add(cfg, "history", h);
  }
  json_object *e = json_object_new_object();
  char *now = d_now(d);
  json_object_object_add(e, "created", json_object_new_string(now));
  free(now);
  json_object_object_add(e, "created_by", json_object_new_string(created_by));
  json_object_object_add(e, "comment",
                         json_object_new_string("buildkit.dockerfile.v0"));
  if (empty)
    json_object_object_add(e, "empty_layer", json_object_new_boolean(1));
  json_object_array_add(h, e);
}

static json_object *cfg_new_scratch(struct dctx *d) {
  json_object *cfg = json_object_new_object();
  json_object_object_add(cfg, "architecture",
                         json_object_new_string(d->plat.arch));
  json_object_object_add(cfg, "os", json_object_new_string(d->plat.os));
  if (d->plat.variant[0])
    json_object_object_add(cfg, "variant",
                           json_object_new_string(d->plat.variant));
  json_object *rootfs = json_object_new_object();
  json_object_object_add(rootfs, "type", json_object_new_string("layers"));
  json_object_object_add(rootfs, "diff_ids", json_object_new_array());
  json_object_object_add(cfg, "rootfs", rootfs);
  json_object *c = json_object_new_object();
  json_object_object_add(cfg, "config", c);
  return cfg;
}

static json_object *json_clone(json_object *o) {
  json_object *c = NULL;
  if (json_object_deep_copy(o, &c, NULL) != 0)
    return json_object_new_object();
  return c;
}

/* --- expansion -------------------------------------------------------- */

struct d_env {
  struct strv env;         /* config Env */
  const struct strv *args; /* ARGs in scope */
};

static const char *d_lookup(void *ctx, const char *name, size_t len) {
  struct d_env *e = ctx;
  const char *v = kv_get(&e->env, name, len);
  if (v == NULL && e->args)
    v = kv_get(e->args, name, len);
  return v;
}

static int d_expand(struct dctx *d, struct stage *s, const char *word,
                    size_t len, char **out, struct err *err) {
  struct d_env e = {STRV_INIT, s ? &s->args : &d->meta};
  if (s)
    cfg_env(s->cfg, &e.env);
  struct expand_env env = {d_lookup, &e};
  struct expand_opts o = {d->escape, 0};
  int rc = expand_word(word, len, &o, &env, NULL, out, err);
  strv_cleanup(&e.env);
  return rc;
}

/* --- stages and layers ------------------------------------------------ */

static void stage_cleanup(struct dctx *d, struct stage *s) {
  json_object_put(s->cfg);
  for (size_t i = 0; i < s->nlayers; i++)
    free(s->layers[i].media_type);
  free(s->layers);
  if (s->rootfs) {
    struct err e;
    if (store_rmtree(d->store, s->rootfs, &e) < 0)
      d_log(d, "cleanup: %s", e.msg);
    free(s->rootfs);
  }
  for (size_t i = 0; i < s->nlowers; i++)
    free(s->lowers[i]);
  free(s->lowers);
  strv_cleanup(&s->args);
  memset(s, 0, sizeof(*s));
}

static void stage_add_layer(struct stage *s, const struct lref *l) {
  s->layers = xrealloc(s->layers, (s->nlayers + 1) * sizeof(*s->layers));
  s->layers[s->nlayers] = *l;
  s->layers[s->nlayers].media_type = xstrdup(l->media_type);
  s->nlayers++;
  json_object *rootfs, *ids;
  if (json_object_object_get_ex(s->cfg, "rootfs", &rootfs) &&
      json_object_object_get_ex(rootfs, "diff_ids", &ids))
    json_object_array_add(ids, json_object_new_string(l->diffid));
}

/* Brings the stage's directory up to date with its layers. */
static int stage_materialize(struct dctx *d, struct stage *s,
                             struct err *err) {
  if (s->rootfs == NULL) {
    int rc = store_tmpdir(d->store, "rootfs", &s->rootfs, err);
    if (rc < 0)
      return rc;
    (void)chmod(s->rootfs, 0755);
    s->applied = 0;
  }
  for (; s->applied < s->nlayers; s->applied++) {
    char *p = store_blob_path(d->store, s->layers[s->applied].digest);
    struct layer_apply_stats stats;
    int rc = layer_apply(p, s->rootfs, d->cancel, &stats, err);
    free(p);
    if (rc < 0)
      return rc;
    if (stats.skipped_devices)
      d_log(d, "layer %.19s: %llu device nodes not extracted",
            s->layers[s->applied].digest,
            (unsigned long long)stats.skipped_devices);
  }
  return 0;
}

/* The stage's filesystem as a merged view of its extracted layers (kept
 * per store, shared with RUN's overlay): looking at a destination or
 * /etc/passwd then costs a few lstat calls per layer, where applying
 * every layer to one directory costs the whole image.  v borrows
 * s->lowers until the stage changes. */
static int stage_view(struct dctx *d, struct stage *s, struct layer_view *v,
                      struct err *err) {
  /* A cache hit replaces the layer list; keep only the prefix that
   * still matches (lowers are named by their layer's digest). */
  size_t keep = 0;
  while (keep < s->nlowers && keep < s->nlayers) {
    const char *hex = digest_hex(s->layers[keep].digest);
    size_t ll = strlen(s->lowers[keep]), hl = strlen(hex);
    if (ll < hl || strcmp(s->lowers[keep] + ll - hl, hex) != 0)
      break;
    keep++;
  }
  while (s->nlowers > keep)
    free(s->lowers[--s->nlowers]);
  if (s->nlowers < s->nlayers)
    s->lowers = xrealloc(s->lowers, s->nlayers * sizeof(*s->lowers));
  for (; s->nlowers < s->nlayers; s->nlowers++) {
    int rc = cache_lower_dir(d->store, s->layers[s->nlowers].digest, d->cancel,
                             &s->lowers[s->nlowers], err);
    if (rc < 0)
      return rc;
  }
  v->dirs = (const char *const *)s->lowers;
  v->n = s->nlowers;
  return 0;
}

/* Loads an image (pulling it when the store lacks it) as a stage state. */
static int d_load_image(struct dctx *d, const char *name,
                        const struct image_platform *p, struct stage *s,
                        struct err *err) {
  struct ref r;
  int rc = ref_parse(name, &r, err);
  if (rc < 0)
    return rc;
  char *full = ref_string(&r);
  struct store_tag tag;
  rc = store_tag_get(d->store, full, &tag, err);
  if (rc == ERR_NOTFOUND) {
    err_clear(err);
    d_log(d, "pulling %s", full);
    struct registry_pulled pulled;
    rc = registry_pull(d->reg, &r, p, &pulled, err);
    if (rc == 0) {
      rc = store_tag_set(d->store, full, pulled.digest, pulled.media_type,
                         pulled.size, err);
      free(pulled.media_type);
    }
    if (rc == 0)
      rc = store_tag_get(d->store, full, &tag, err);
  }
  ref_cleanup(&r);
  if (rc < 0) {
    free(full);
    return rc;
  }
  struct image_manifest m;
  json_object *cfg = NULL;
  char *mdigest = NULL;
  rc = image_load(d->store, tag.digest, tag.media_type, p, &m, &cfg, &mdigest,
                  err);
  store_tag_cleanup(&tag);
  if (rc == 0) {
    char k[DIGEST_STR_LEN];
    struct buf kb = BUF_INIT;
    buf_printf(&kb, "image\n%s", mdigest ? mdigest : full);
    digest_buf(kb.data, kb.len, k);
    buf_cleanup(&kb);
    memcpy(s->key, digest_hex(k), DIGEST_HEX_LEN + 1);
  }
  if (rc < 0) {
    free(full);
    return rc;
  }
  json_object *rootfs, *ids;
  if (!json_object_object_get_ex(cfg, "rootfs", &rootfs) ||
      !json_object_object_get_ex(rootfs, "diff_ids", &ids) ||
      !json_object_is_type(ids, json_type_array) ||
      json_object_array_length(ids) != m.nlayers) {
    rc = err_set(err, ERR_SYNTAX,
                 "image %s: config diff_ids do not match "
                 "its %zu layers",
                 full, m.nlayers);
  }
  for (size_t i = 0; rc == 0 && i < m.nlayers; i++) {
    const char *id = json_object_get_string(json_object_array_get_idx(ids, i));
    if (!digest_valid(id)) {
      rc = err_set(err, ERR_SYNTAX, "image %s: bad diff_id", full);
      break;
    }
    if (!store_blob_exists(d->store, m.layers[i].digest)) {
      rc = err_set(err, ERR_NOTFOUND,
                   "image %s: layer %s is missing from "
                   "the store (run dockwright pull again)",
                   full, m.layers[i].digest);
      break;
    }
  }
  if (rc == 0) {
    /* diff_ids are re-added by stage_add_layer. */
    ids = json_object_get(ids);
    json_object_object_add(rootfs, "diff_ids", json_object_new_array());
    s->cfg = cfg;
    cfg = NULL;
    for (size_t i = 0; i < m.nlayers; i++) {
      struct lref l;
      memset(&l, 0, sizeof(l));
      snprintf(l.digest, sizeof(l.digest), "%s", m.layers[i].digest);
      snprintf(l.diffid, sizeof(l.diffid), "%s",
               json_object_get_string(json_object_array_get_idx(ids, i)));
      l.size = (uint64_t)m.layers[i].size;
      l.media_type = m.layers[i].media_type;
      stage_add_layer(s, &l);
    }
    json_object_put(ids);
  }
  json_object_put(cfg);
  image_manifest_cleanup(&m);
  free(mdigest);
  free(full);
  return rc;
}

/* --- users ------------------------------------------------------------ */

static bool d_numeric(const char *s, unsigned long *out) {
  if (*s == '\0')
    return false;
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (*end || errno || v > 0xfffffffful)
    return false;
  *out = v;
  return true;
}

/* Looks name up in <rootfs>/etc/passwd (field 3 uid, 4 gid) or
 * etc/group (field 3 gid). */
static int d_lookup_db(struct dctx *d, struct stage *s, const char *file,
                       const char *name, unsigned long *id, unsigned long *gid,
                       struct err *err) {
  struct layer_view v;
  int rc = stage_view(d, s, &v, err);
  if (rc < 0)
    return rc;
  struct layer_found lf;
  rc = layer_view_resolve(&v, file, true, &lf, err);
  if (rc < 0)
    return rc;
  FILE *f = lf.exists && S_ISREG(lf.st.st_mode) ? fopen(lf.host, "r") : NULL;
  layer_found_cleanup(&lf);
  if (f == NULL)
    return err_set(err, ERR_NOTFOUND,
                   "unable to find user %s: no %s in "
                   "the image",
                   name, file);
  char *line = NULL;
  size_t cap = 0;
  rc = ERR_NOTFOUND;
  while (getline(&line, &cap, f) >= 0) {
    char *save = NULL;
    char *f0 = strtok_r(line, ":\n", &save);
    if (f0 == NULL || strcmp(f0, name) != 0)
      continue;
    strtok_r(NULL, ":\n", &save); /* password */
    char *f2 = strtok_r(NULL, ":\n", &save);
    char *f3 = strtok_r(NULL, ":\n", &save);
    if (f2 && d_numeric(f2, id)) {
      if (gid && f3)
        (void)d_numeric(f3, gid);
      rc = 0;
    }
    break;
  }
  free(line);
  fclose(f);
  if (rc == ERR_NOTFOUND)
    return err_set(err, ERR_NOTFOUND, "unable to find %s %s in %s",
                   strcmp(file, "/etc/group") ? "user" : "group", name, file);
  return 0;
}

/* "user[:group]" to ids, BuildKit's rules. */
static int d_chown(struct dctx *d, struct stage *s, const char *spec,
                   uid_t *uid, gid_t *gid, struct err *err) {
  char *u = xstrdup(spec);
  char *g = strchr(u, ':');
  if (g)
    *g++ = '\0';
  unsigned long uv = 0, gv = 0, pg = 0;
  int rc = 0;
  if (d_numeric(u, &uv)) {
    pg = uv;
  } else {
    rc = d_lookup_db(d, s, "/etc/passwd", u, &uv, &pg, err);
  }
  if (rc == 0) {
    if (g == NULL)
      gv = pg;
    else if (!d_numeric(g, &gv))
      rc = d_lookup_db(d, s, "/etc/group", g, &gv, NULL, err);
  }
  free(u);
  *uid = (uid_t)uv;
  *gid = (gid_t)gv;
  return rc;
}

/* --- COPY / ADD ------------------------------------------------------- */

struct hl {
  dev_t dev;
  ino_t ino;
  char *path;
};

struct copyop {
  struct dctx *d;
  struct stage *s;
  struct layer_list list;
  const struct match_rules *ignore; /* context only */
  struct match_rules excludes;
  bool from_context; /* owners become 0:0 (or --chown) */
  bool chown;
  uid_t uid;
  gid_t gid;
  bool chmod;
  mode_t mode;
  struct hl *hls;
  size_t nhls;
  struct strv dirs_added;
  int64_t now;
  struct layer_view dst; /* the stage before this step (borrowed) */
  struct layer_view src; /* COPY --from: the source stage (borrowed) */
};

static void copy_cleanup(struct copyop *op) {
  layer_list_cleanup(&op->list);
  match_rules_cleanup(&op->excludes);
  for (size_t i = 0; i < op->nhls; i++)
    free(op->hls[i].path);
  free(op->hls);
  strv_cleanup(&op->dirs_added);
}

/* Adds missing parent directories of lpath (a layer path) that do not
 * exist in the stage. */
static void copy_parents(struct copyop *op, const char *lpath,
                         bool include_self) {
  char *tmp = xstrdup(lpath);
  size_t n = strlen(tmp);
  for (size_t i = 1; i <= n; i++) {
    if (tmp[i] != '/' && !(tmp[i] == '\0' && include_self))
      continue;
    char c = tmp[i];
    tmp[i] = '\0';
    bool known = false;
    for (size_t k = 0; k < op->dirs_added.n && !known; k++)
      known = strcmp(op->dirs_added.v[k], tmp) == 0;
    struct layer_found lf = {0};
    struct err le;
    if (!known && layer_view_resolve(&op->dst, tmp, false, &lf, &le) < 0)
      err_clear(&le); /* unresolvable: a parent entry does no harm */
    if (!known && !lf.exists) {
      struct layer_entry *e = layer_list_add(&op->list, tmp);
      e->mode = S_IFDIR | 0755;
      e->uid = op->chown ? op->uid : 0;
      e->gid = op->chown ? op->gid : 0;
      e->mtime = op->now;
      strv_push(&op->dirs_added, tmp);
    }
    layer_found_cleanup(&lf);
    tmp[i] = c;
  }
  free(tmp);
}

/* Adds host path `src` (or, with vf, the entry vf found in op->src) at
 * layer path lpath; recurses into directories.  rel: the path relative to
 * the source root (for .dockerignore), xrel: relative to the copy source
 * (for --exclude). */
/* A file the step makes itself (a heredoc, a download) at the
 * destination, or under it by `name` when it is a directory. */
static struct layer_entry *copy_new_file(struct copyop *op,
                                         const char *dst_layer, bool into_dir,
                                         const char *name, mode_t def_mode) {
  struct buf lp = BUF_INIT;
  if (into_dir)
    buf_printf(&lp, "%s%s%s", dst_layer, dst_layer[0] ? "/" : "", name);
  else
    buf_puts(&lp, dst_layer);
  copy_parents(op, lp.data, false);
  struct layer_entry *e = layer_list_add(&op->list, lp.data);
  e->mode = S_IFREG | (op->chmod ? op->mode : def_mode);
  e->uid = op->chown ? op->uid : 0;
  e->gid = op->chown ? op->gid : 0;
  e->mtime = op->now;
  buf_cleanup(&lp);
  return e;
}

static int copy_add(struct copyop *op, const char *src,
                    const struct layer_found *vf, const char *rel,
                    const char *xrel, const char *lpath, unsigned depth,
                    bool is_top, struct err *err) {
  if (depth > DW_MAX_PATH_DEPTH)
    return err_set(err, ERR_TOOBIG, "%s: deeper than %u", rel,
                   DW_MAX_PATH_DEPTH);
  if (d_cancelled(op->d))
    return err_set(err, ERR_CANCELLED, "cancelled");
  struct stat st;
  if (vf) {
    if (!vf->exists || vf->host == NULL)
      return err_set(err, ERR_NOTFOUND, "%s: not found", rel);
    st = vf->st;
    src = vf->host; /* the topmost copy: what the stage shows */
  } else if (lstat(src, &st) != 0) {
    return err_set(err, ERR_NOTFOUND, "%s: %s", rel, strerror(errno));
  }
  bool skip_self = false;
  if (!is_top && op->ignore && rel[0] &&
      match_rules_excluded(op->ignore, rel)) {
    if (!S_ISDIR(st.st_mode) || !op->ignore->has_exceptions)
      return 0;
    skip_self = true;
  }
  if (!is_top && xrel[0] && match_rules_excluded(&op->excludes, xrel)) {
    if (!S_ISDIR(st.st_mode) || !op->excludes.has_exceptions)
      return 0;
    skip_self = true;
  }
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISSOCK(st.st_mode)) {
    d_log(op->d, "skipping %s: device or socket", rel);
    return 0;
  }
  if (!skip_self && lpath[0]) {
    struct layer_entry *e = layer_list_add(&op->list, lpath);
    e->mode = st.st_mode;
    if (op->chmod && !S_ISLNK(st.st_mode))
      e->mode = (st.st_mode & S_IFMT) | op->mode;
    e->uid = op->chown ? op->uid : op->from_context ? 0 : st.st_uid;
    e->gid = op->chown ? op->gid : op->from_context ? 0 : st.st_gid;
    e->mtime = st.st_mtim.tv_sec;
    e->mtime_nsec = st.st_mtim.tv_nsec;
    if (S_ISREG(st.st_mode)) {
      e->size = (uint64_t)st.st_size;
      bool linked = false;
      if (st.st_nlink > 1) {
        for (size_t i = 0; i < op->nhls && !linked; i++)
          if (op->hls[i].dev == st.st_dev && op->hls[i].ino == st.st_ino) {
            e->hardlink = true;
            e->link = xstrdup(op->hls[i].path);
            linked = true;
          }
        if (!linked) {
          op->hls = xrealloc(op->hls, (op->nhls + 1) * sizeof(*op->hls));
          op->hls[op->nhls].dev = st.st_dev;
          op->hls[op->nhls].ino = st.st_ino;
          op->hls[op->nhls++].path = xstrdup(lpath);
        }
      }
      if (!linked)
        e->src = xstrdup(src);
    } else if (S_ISLNK(st.st_mode)) {
      char t[4096];
      ssize_t n = readlink(src, t, sizeof(t) - 1);
      if (n < 0)
        return err_set(err, ERR_IO, "readlink %s: %s", rel, strerror(errno));
      t[n] = '\0';
      e->link = xstrdup(t);
    }
    if (S_ISDIR(st.st_mode))
      strv_push(&op->dirs_added, lpath);
  }
  if (!S_ISDIR(st.st_mode))
    return 0;
  struct strv names = STRV_INIT;
  int rc = 0;
  if (vf) {
    rc = layer_view_list(&op->src, vf, &names, err);
  } else {
    if (store_dir_names(src, false, &names) < 0)
      return err_set(err, ERR_IO, "open %s: %s", rel, strerror(errno));
  }
  struct buf a = BUF_INIT, b = BUF_INIT, c = BUF_INIT, x = BUF_INIT;
  for (size_t i = 0; rc == 0 && i < names.n; i++) {
    buf_reset(&a);
    buf_reset(&b);
    buf_reset(&c);
    buf_reset(&x);
    buf_printf(&a, "%s/%s", src, names.v[i]);
    buf_printf(&b, "%s%s%s", rel, rel[0] ? "/" : "", names.v[i]);
    buf_printf(&x, "%s%s%s", xrel, xrel[0] ? "/" : "", names.v[i]);
    buf_printf(&c, "%s%s%s", lpath, lpath[0] ? "/" : "", names.v[i]);
    if (vf) {
      struct layer_found cf;
      rc = layer_view_child(&op->src, vf, names.v[i], &cf, err);
      if (rc == 0)
        rc = copy_add(op, NULL, &cf, b.data, x.data, c.data, depth + 1, false,
                      err);
      layer_found_cleanup(&cf);
    } else {
      rc = copy_add(op, a.data, NULL, b.data, x.data, c.data, depth + 1, false,
                    err);
    }
  }
  buf_cleanup(&a);
  buf_cleanup(&b);
  buf_cleanup(&c);
  buf_cleanup(&x);
  strv_cleanup(&names);
  return rc;
}

/* Lists source-relative paths under root matching a glob (walks). */
static void copy_glob_walk(const char *root, const char *rel,
                           const char *pattern,
                           const struct match_rules *ignore, struct strv *out,
                           unsigned depth) {
  if (depth > 64)
    return;
  struct buf p = BUF_INIT;
  buf_printf(&p, "%s%s%s", root, rel[0] ? "/" : "", rel);
  struct strv names = STRV_INIT;
  int lr = store_dir_names(p.data, false, &names);
  buf_cleanup(&p);
  if (lr < 0)
    return;
  size_t pdepth = 1;
  for (const char *c = pattern; *c; c++)
    pdepth += *c == '/';
  for (size_t i = 0; i < names.n; i++) {
    struct buf r = BUF_INIT;
    buf_printf(&r, "%s%s%s", rel, rel[0] ? "/" : "", names.v[i]);
    if (ignore && match_rules_excluded(ignore, r.data)) {
      buf_cleanup(&r);
      continue;
    }
    if (match_glob(pattern, r.data))
      strv_push(out, r.data);
    size_t rdepth = 1;
    for (const char *c = r.data; *c; c++)
      rdepth += *c == '/';
    struct stat st;
    struct buf h = BUF_INIT;
    buf_printf(&h, "%s/%s", root, r.data);
    if (rdepth < pdepth && lstat(h.data, &st) == 0 && S_ISDIR(st.st_mode))
      copy_glob_walk(root, r.data, pattern, ignore, out, depth + 1);
    buf_cleanup(&h);
    buf_cleanup(&r);
  }
  strv_cleanup(&names);
}

/* copy_glob_walk for a source stage seen through its layers. */
static int copy_glob_view(const struct layer_view *v,
                          const struct layer_found *dir, const char *pattern,
                          struct strv *out, unsigned depth, struct err *err) {
  if (depth > 64)
    return 0;
  struct strv names = STRV_INIT;
  int rc = layer_view_list(v, dir, &names, err);
  size_t pdepth = 1;
  for (const char *c = pattern; *c; c++)
    pdepth += *c == '/';
  for (size_t i = 0; rc == 0 && i < names.n; i++) {
    struct layer_found cf;
    rc = layer_view_child(v, dir, names.v[i], &cf, err);
    if (rc < 0)
      break;
    if (match_glob(pattern, cf.rel))
      strv_push(out, cf.rel);
    size_t rdepth = 1;
    for (const char *c = cf.rel; *c; c++)
      rdepth += *c == '/';
    if (rdepth < pdepth && cf.exists && S_ISDIR(cf.st.st_mode))
      rc = copy_glob_view(v, &cf, pattern, out, depth + 1, err);
    layer_found_cleanup(&cf);
  }
  strv_cleanup(&names);
  return rc;
}

static int strv_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* True when a file is a tar archive (plain or compressed). */
static bool d_is_archive(const char *path) {
  struct archive *a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  struct archive_entry *e;
  bool ok = archive_read_open_filename(a, path, 65536) == ARCHIVE_OK &&
            archive_read_next_header(a, &e) == ARCHIVE_OK;
  archive_read_free(a);
  return ok;
}

static const char *d_flag(const struct df_instr *in, const char *name) {
  const char *v = NULL;
  for (size_t i = 0; i < in->nflags; i++)
    if (strcmp(in->flags[i].name, name) == 0)
      v = in->flags[i].value ? in->flags[i].value : "";
  return v;
}

static int d_stage_index(struct dctx *d, const char *name) {
  for (size_t i = 0; i < d->df->nstages; i++)
    if (d->df->stages[i].name && strcasecmp(d->df->stages[i].name, name) == 0)
      return (int)i;
  unsigned long v;
  if (d_numeric(name, &v) && v < d->df->nstages)
    return (int)v;
  return -1;
}

static void d_strip_tabs(struct buf *out, const char *s, size_t n) {
  bool bol = true;
  for (size_t i = 0; i < n; i++) {
    if (bol && s[i] == '\t')
      continue;
    bol = s[i] == '\n';
    buf_putc(out, s[i]);
  }
}

static int d_commit_layer(struct dctx *d, struct stage *s,
                          struct layer_list *list, const char *created_by,
                          struct err *err);

static int d_copy(struct dctx *d, struct stage *s, const struct df_instr *in,
                  bool is_add, unsigned stage_idx, struct err *err) {
  struct copyop op;
  memset(&op, 0, sizeof(op));
  op.d = d;
  op.s = s;
  op.now = d->have_epoch ? d->epoch : (int64_t)time(NULL);
  match_rules_init(&op.excludes);
  int rc = 0;
  struct stage *from = NULL;
  struct stage img;
  memset(&img, 0, sizeof(img));
  const char *src_root = d->ctx.root; /* the context; NULL: op.src */
  if (in->nargs < 2) {
    copy_cleanup(&op);
    return err_set(err, ERR_SYNTAX, "%s requires at least two arguments",
                   is_add ? "ADD" : "COPY");
  }
  for (size_t i = 0; i < in->nflags && rc == 0; i++) {
    const char *n = in->flags[i].name;
    static const char *const known[] = {"from",     "chown",        "chmod",
                                        "link",     "exclude",      "parents",
                                        "checksum", "keep-git-dir", "unpack"};
    bool ok = false;
    for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
      ok = ok || strcmp(n, known[k]) == 0;
    if (!ok || (!is_add &&
                (strcmp(n, "checksum") == 0 ||
                 strcmp(n, "keep-git-dir") == 0 || strcmp(n, "unpack") == 0)))
      rc = err_set(err, ERR_SYNTAX, "unknown flag: --%s", n);
    if (rc == 0 && strcmp(n, "exclude") == 0 && in->flags[i].value) {
      char *v = NULL;
      rc = d_expand(d, s, in->flags[i].value, strlen(in->flags[i].value), &v,
                    err);
      if (rc == 0)
        match_rules_add(&op.excludes, v);
      free(v);
    }
  }
  const char *fromv = d_flag(in, "from");
  const char *chownv = d_flag(in, "chown");
  const char *chmodv = d_flag(in, "chmod");
  const char *checksum = d_flag(in, "checksum");
  bool parents =
      d_flag(in, "parents") && strcmp(d_flag(in, "parents"), "false") != 0;
  if (rc == 0 && chownv && *chownv) {
    char *v = NULL;
    rc = d_expand(d, s, chownv, strlen(chownv), &v, err);
    if (rc == 0)
      rc = d_chown(d, s, v, &op.uid, &op.gid, err);
    op.chown = rc == 0;
    free(v);
  }
  if (rc == 0 && chmodv && *chmodv) {
    char *end;
    unsigned long m = strtoul(chmodv, &end, 8);
    if (*end || m > 07777)
      rc = err_set(err, ERR_SYNTAX,
                   "invalid chmod parameter: %s (only "
                   "octal modes are supported)",
                   chmodv);
    op.chmod = true;
    op.mode = (mode_t)m;
  }
  if (rc == 0 && fromv) {
    char *v = NULL;
    rc = d_expand(d, s, fromv, strlen(fromv), &v, err);
    if (rc == 0) {
      int idx = d_stage_index(d, v);
      if (idx >= 0 && (unsigned)idx >= stage_idx) {
        rc = err_set(err, ERR_INVALID,
                     "COPY --from=%s refers to this or a "
                     "later stage",
                     v);
      } else if (idx >= 0) {
        from = &d->st[idx];
      } else {
        rc = d_load_image(d, v, &d->plat, &img, err);
        from = &img;
      }
      /* Read through its layers: copying a few files out of a stage
       * must not cost applying all of them. */
      if (rc == 0)
        rc = stage_view(d, from, &op.src, err);
      if (rc == 0)
        src_root = NULL;
    }
    free(v);
  }
  op.from_context = from == NULL;
  op.ignore = from == NULL ? &d->ctx.ignore : NULL;
  if (rc == 0)
    rc = stage_view(d, s, &op.dst, err);
  /* Destination. */
  const struct df_arg *dst_arg = &in->args[in->nargs - 1];
  char *dst = NULL;
  if (rc == 0)
    rc = d_expand(d, s, dst_arg->value, dst_arg->len, &dst, err);
  size_t nsrc = in->nargs - 1;
  bool dst_dir = false;
  char *dst_layer = NULL;
  if (rc == 0) {
    size_t dl = strlen(dst);
    dst_dir = dl > 0 && (dst[dl - 1] == '/' ||
                         (dl >= 2 && strcmp(dst + dl - 2, "/.") == 0) ||
                         strcmp(dst, ".") == 0);
    struct buf full = BUF_INIT;
    if (dst[0] != '/') {
      const char *wd = json_object_get_string(
          json_object_object_get(cfg_config(s->cfg), "WorkingDir"));
      buf_printf(&full, "%s/", wd && *wd ? wd : "/");
    }
    buf_puts(&full, dst);
    struct layer_found lf;
    rc = layer_view_resolve(&op.dst, full.data, true, &lf, err);
    buf_cleanup(&full);
    if (rc == 0) {
      dst_layer = xstrdup(lf.rel);
      if (lf.exists && S_ISDIR(lf.st.st_mode))
        dst_dir = true;
      layer_found_cleanup(&lf);
    }
  }
  /* Sources. */
  struct strv srcs = STRV_INIT;
  for (size_t i = 0; rc == 0 && i < nsrc; i++) {
    const struct df_arg *a = &in->args[i];
    /* Heredoc sources: inline files. */
    const struct df_heredoc *hd = NULL;
    if (a->len > 2 && a->value[0] == '<' && a->value[1] == '<')
      for (size_t k = 0; k < in->nheredocs; k++) {
        struct df_heredoc parsed;
        char *msg = NULL;
        if (dockerfile_heredoc_word(a->value, &parsed, &msg) == 1) {
          if (strcmp(parsed.name, in->heredocs[k].name) == 0)
            hd = &in->heredocs[k];
          free(parsed.name);
        }
        free(msg);
      }
    if (hd) {
      struct buf content = BUF_INIT;
      if (hd->chomp)
        d_strip_tabs(&content, hd->content, hd->content_len);
      else
        buf_append(&content, hd->content, hd->content_len);
      char *data = NULL;
      if (hd->expand) {
        struct d_env e = {STRV_INIT, &s->args};
        cfg_env(s->cfg, &e.env);
        struct expand_env env = {d_lookup, &e};
        struct expand_opts o = {d->escape, EXPAND_SKIP_PROCESS_QUOTES};
        rc = expand_word(content.data ? content.data : "", content.len, &o,
                         &env, NULL, &data, err);
        strv_cleanup(&e.env);
      } else {
        data = xstrndup(content.data ? content.data : "", content.len);
      }
      buf_cleanup(&content);
      if (rc < 0)
        break;
      struct layer_entry *e =
          copy_new_file(&op, dst_layer, dst_dir || nsrc > 1, hd->name, 0644);
      e->size = strlen(data);
      e->data = data;
      continue;
    }
    char *sv = NULL;
    rc = d_expand(d, s, a->value, a->len, &sv, err);
    if (rc < 0)
      break;
    if (is_add &&
        (strncmp(sv, "http://", 7) == 0 || strncmp(sv, "https://", 8) == 0)) {
      char dg[DIGEST_STR_LEN];
      d_log(d, "downloading %s", sv);
      rc = registry_fetch_url(d->reg, sv, checksum, dg, err);
      if (rc == 0) {
        const char *q = strpbrk(sv, "?#");
        char *u = q ? xstrndup(sv, (size_t)(q - sv)) : xstrdup(sv);
        const char *base = strrchr(u, '/');
        base = base && base[1] ? base + 1 : "download";
        struct layer_entry *e =
            copy_new_file(&op, dst_layer, dst_dir || nsrc > 1, base, 0600);
        e->src = store_blob_path(d->store, dg);
        e->size = (uint64_t)store_blob_size(d->store, dg);
        free(u);
      }
      free(sv);
      continue;
    }
    if (is_add && checksum) {
      free(sv);
      rc = err_set(err, ERR_INVALID, "--checksum is only for URL sources");
      break;
    }
    /* Wildcards expand against the source root. */
    char *clean = NULL;
    (void)layer_clean_path(sv, &clean);
    struct strv matches = STRV_INIT;
    if (match_has_meta(clean) && src_root == NULL) {
      struct layer_found root;
      rc = layer_view_resolve(&op.src, "", true, &root, err);
      if (rc == 0)
        rc = copy_glob_view(&op.src, &root, clean, &matches, 0, err);
      layer_found_cleanup(&root);
      if (matches.n > 1)
        qsort(matches.v, matches.n, sizeof(char *), strv_cmp);
      if (rc == 0 && matches.n == 0)
        rc = err_set(err, ERR_NOTFOUND,
                     "no source files were specified: "
                     "%s matches nothing",
                     sv);
    } else if (match_has_meta(clean)) {
      copy_glob_walk(src_root, "", clean, op.ignore, &matches, 0);
      if (matches.n > 1)
        qsort(matches.v, matches.n, sizeof(char *), strv_cmp);
      if (matches.n == 0)
        rc = err_set(err, ERR_NOTFOUND,
                     "no source files were specified: "
                     "%s matches nothing",
                     sv);
    } else {
      strv_push(&matches, clean);
    }
    bool many = nsrc > 1 || matches.n > 1 || match_has_meta(clean);
    if (many && !dst_dir && rc == 0) {
      size_t dl = strlen(dst);
      if (dl == 0 || dst[dl - 1] != '/')
        rc = err_set(err, ERR_INVALID,
                     "When using %s with more than one "
                     "source file, the destination must be a directory and "
                     "end with a /",
                     is_add ? "ADD" : "COPY");
    }
    for (size_t m = 0; rc == 0 && m < matches.n; m++) {
      const char *rel = matches.v[m];
      if (op.ignore && rel[0] && match_rules_excluded(op.ignore, rel)) {
        rc = err_set(err, ERR_NOTFOUND,
                     "\"%s\" not found: excluded by "
                     ".dockerignore",
                     rel);
        break;
      }
      char *host = NULL;
      struct layer_found vf = {0};
      const struct layer_found *vfp = NULL;
      struct stat st;
      if (src_root == NULL) {
        rc = layer_view_resolve(&op.src, rel, true, &vf, err);
        if (rc < 0)
          break;
        vfp = &vf;
        st = vf.st;
        host = vf.exists ? xstrdup(vf.host) : NULL;
      } else {
        rc = layer_resolve(src_root, rel, true, &host, err);
        if (rc < 0)
          break;
      }
      if (src_root ? lstat(host, &st) != 0 : !vf.exists) {
        rc = err_set(err, ERR_NOTFOUND, "\"%s\" not found in the %s", rel,
                     from ? "source stage" : "build context");
        free(host);
        layer_found_cleanup(&vf);
        break;
      }
      const char *base = strrchr(rel, '/');
      base = base ? base + 1 : rel;
      struct buf lp = BUF_INIT;
      if (parents) {
        buf_printf(&lp, "%s%s%s", dst_layer, dst_layer[0] ? "/" : "", rel);
      } else if (S_ISDIR(st.st_mode)) {
        buf_puts(&lp, dst_layer);
      } else if (dst_dir || many) {
        buf_printf(&lp, "%s%s%s", dst_layer, dst_layer[0] ? "/" : "", base);
      } else {
        buf_puts(&lp, dst_layer);
      }
      if (S_ISDIR(st.st_mode)) {
        copy_parents(&op, lp.data, false);
        struct buf lpc = BUF_INIT;
        buf_puts(&lpc, lp.data);
        struct layer_found lf;
        rc = layer_view_resolve(&op.dst, lp.data, false, &lf, err);
        if (rc < 0) {
          buf_cleanup(&lpc);
          buf_cleanup(&lp);
          free(host);
          layer_found_cleanup(&vf);
          break;
        }
        bool exists = lf.exists;
        layer_found_cleanup(&lf);
        bool have = false;
        for (size_t k = 0; k < op.dirs_added.n && !have; k++)
          have = strcmp(op.dirs_added.v[k], lp.data) == 0;
        if (exists || have || lp.len == 0) {
          /* Copy only the contents: the directory stays as it is. */
          rc = copy_add(&op, host, vfp, rel[0] ? rel : "", "", lp.data, 0,
                        true, err);
          /* copy_add added the top as an entry; drop it again. */
          if (rc == 0 && lp.len && op.list.n) {
            for (size_t k = 0; k < op.list.n; k++)
              if (strcmp(op.list.v[k].path, lp.data) == 0 &&
                  op.list.v[k].src == NULL && S_ISDIR(op.list.v[k].mode)) {
                free(op.list.v[k].path);
                op.list.v[k].path = NULL;
              }
          }
        } else {
          /* A new destination directory is 0755 (owned by --chown), as
           * buildah and Docker make it; then the contents. */
          copy_parents(&op, lp.data, true);
          rc = copy_add(&op, host, vfp, rel[0] ? rel : "", "", lp.data, 0,
                        true, err);
          /* Drop the source directory's own entry (the last one for this
           * path), keeping the one copy_parents made. */
          for (size_t k = op.list.n; rc == 0 && k-- > 0;)
            if (op.list.v[k].path && strcmp(op.list.v[k].path, lp.data) == 0) {
              bool first = true;
              for (size_t j = 0; j < k; j++)
                if (op.list.v[j].path &&
                    strcmp(op.list.v[j].path, lp.data) == 0)
                  first = false;
              if (!first) {
                free(op.list.v[k].path);
                op.list.v[k].path = NULL;
              }
              break;
            }
        }
        buf_cleanup(&lpc);
      } else if (is_add && from == NULL && S_ISREG(st.st_mode) &&
                 d_is_archive(host)) {
        /* ADD of a local tar: extract it into the destination. */
        char *tmp = NULL;
        rc = store_tmpdir(d->store, "add", &tmp, err);
        if (rc == 0)
          rc = layer_apply(host, tmp, d->cancel, NULL, err);
        if (rc == 0) {
          struct buf dl = BUF_INIT;
          buf_puts(&dl, dst_layer);
          copy_parents(&op, dl.data, true);
          bool saved = op.from_context;
          op.from_context = false;
          rc = copy_add(&op, tmp, NULL, "", "", dl.data, 0, true, err);
          op.from_context = saved;
          for (size_t k = 0; rc == 0 && k < op.list.n; k++)
            if (op.list.v[k].path && strcmp(op.list.v[k].path, dl.data) == 0 &&
                op.list.v[k].src == NULL && S_ISDIR(op.list.v[k].mode)) {
              free(op.list.v[k].path);
              op.list.v[k].path = NULL;
            }
          buf_cleanup(&dl);
          /* The files are read when the layer is packed: keep tmp until
           * then (removed with the store's tmp on prune, or below). */
          strv_push(&op.dirs_added, "\x01");
          strv_push(&op.dirs_added, tmp);
        }
        free(tmp);
      } else {
        copy_parents(&op, lp.data, false);
        rc = copy_add(&op, host, vfp, rel, base, lp.data, 0, true, err);
      }
      buf_cleanup(&lp);
      free(host);
      layer_found_cleanup(&vf);
    }
    strv_cleanup(&matches);
    free(clean);
    free(sv);
  }
  strv_cleanup(&srcs);
  /* Drop entries removed above (path NULL). */
  size_t w = 0;
  for (size_t i = 0; i < op.list.n; i++) {
    if (op.list.v[i].path == NULL) {
      free(op.list.v[i].src);
      free(op.list.v[i].link);
      free(op.list.v[i].data);
      continue;
    }
    op.list.v[w++] = op.list.v[i];
  }
  op.list.n = w;
  if (rc == 0) {
    struct buf by = BUF_INIT;
    buf_printf(&by, "%s # buildkit", in->original);
    rc = d_commit_layer(d, s, &op.list, by.data, err);
    buf_cleanup(&by);
  }
  /* Temporary directories from ADD <tar>. */
  for (size_t i = 0; i + 1 < op.dirs_added.n; i++)
    if (strcmp(op.dirs_added.v[i], "\x01") == 0) {
      struct err e2;
      if (store_rmtree(d->store, op.dirs_added.v[i + 1], &e2) < 0)
        d_log(d, "cleanup: %s", e2.msg);
    }
  free(dst);
  free(dst_layer);
  if (from == &img)
    stage_cleanup(d, &img);
  copy_cleanup(&op);
  return rc;
}

static struct layer_pack_opts d_pack_opts(const struct dctx *d) {
  return (struct layer_pack_opts){
      .compression =
          d->req->compression == BUILD_ZSTD ? LAYER_ZSTD : LAYER_GZIP,
      .clamp = d->have_epoch,
      .epoch = d->epoch,
      .cancel = d->cancel,
  };
}

static char *d_layer_media_type(const struct dctx *d,
                                const struct layer_pack_opts *o) {
  bool docker = d->req->format == BUILD_FORMAT_DOCKER;
  return (char *)(o->compression == LAYER_ZSTD ? MT_OCI_LAYER_ZSTD
                  : docker                     ? MT_DOCKER_LAYER_GZIP
                                               : MT_OCI_LAYER_GZIP);
}

static int d_commit_layer(struct dctx *d, struct stage *s,
                          struct layer_list *list, const char *created_by,
                          struct err *err) {
  layer_list_sort(list);
  struct layer_pack_opts o = d_pack_opts(d);
  struct layer_info li;
  double t0 = d_seconds();
  int rc = layer_pack(list, &o, d->store, &li, err);
  if (rc < 0)
    return rc;
  struct lref l;
  memset(&l, 0, sizeof(l));
  memcpy(l.digest, li.digest, sizeof(l.digest));
  memcpy(l.diffid, li.diffid, sizeof(l.diffid));
  l.size = li.size;
  l.media_type = d_layer_media_type(d, &o);
  stage_add_layer(s, &l);
  cfg_history(d, s->cfg, created_by, false);
  d_log(d, "layer %.19s: %zu entries, %llu bytes, packed in %.1fs", li.digest,
        list->n, (unsigned long long)li.size, d_seconds() - t0);
  return 0;
}

/* --- other instructions ----------------------------------------------- */

static int d_workdir(struct dctx *d, struct stage *s,
                     const struct df_instr *in, struct err *err) {
  if (in->nargs < 1)
    return err_set(err, ERR_SYNTAX, "WORKDIR requires exactly one argument");
  char *v = NULL;
  int rc = d_expand(d, s, in->args[0].value, in->args[0].len, &v, err);
  if (rc < 0)
    return rc;
  struct buf full = BUF_INIT;
  if (v[0] != '/') {
    const char *wd = json_object_get_string(
        json_object_object_get(cfg_config(s->cfg), "WorkingDir"));
    buf_printf(&full, "%s/", wd && *wd ? wd : "");
  }
  buf_puts(&full, v);
  free(v);
  char *clean = NULL;
  (void)layer_clean_path(full.data, &clean);
  buf_cleanup(&full);
  struct buf abs = BUF_INIT;
  buf_printf(&abs, "/%s", clean);
  json_object_object_add(cfg_config(s->cfg), "WorkingDir",
                         json_object_new_string(abs.data));
  /* Create the directory when it is missing (a layer), as BuildKit does. */
  struct layer_view view;
  struct layer_found lf = {0};
  rc = stage_view(d, s, &view, err);
  if (rc == 0)
    rc = layer_view_resolve(&view, clean, true, &lf, err);
  if (rc == 0 && !lf.exists) {
    struct copyop op;
    memset(&op, 0, sizeof(op));
    op.d = d;
    op.s = s;
    op.dst = view;
    op.now = d->have_epoch ? d->epoch : (int64_t)time(NULL);
    copy_parents(&op, lf.rel, true);
    struct buf by = BUF_INIT;
    buf_printf(&by, "WORKDIR %s", abs.data);
    rc = d_commit_layer(d, s, &op.list, by.data, err);
    buf_cleanup(&by);
    copy_cleanup(&op);
  } else if (rc == 0) {
    struct buf by = BUF_INIT;
    buf_printf(&by, "WORKDIR %s", abs.data);
    cfg_history(d, s->cfg, by.data, true);
    buf_cleanup(&by);
  }
  layer_found_cleanup(&lf);
  free(clean);
  buf_cleanup(&abs);
  return rc;
}

/* ENV / LABEL: key, value, separator triples. */
static int d_keyval(struct dctx *d, struct stage *s, const struct df_instr *in,
                    bool label, struct err *err) {
  if (in->nargs == 0 || in->nargs % 3 != 0)
    return err_set(err, ERR_SYNTAX, "%s requires at least one argument",
                   label ? "LABEL" : "ENV");
  int rc = 0;
  struct buf by = BUF_INIT;
  buf_puts(&by, label ? "LABEL" : "ENV");
  for (size_t i = 0; rc == 0 && i + 2 < in->nargs; i += 3) {
    char *k = NULL, *v = NULL;
    rc = d_expand(d, s, in->args[i].value, in->args[i].len, &k, err);
    if (rc == 0)
      rc = d_expand(d, s, in->args[i + 1].value, in->args[i + 1].len, &v, err);
    if (rc == 0) {
      if (label) {
        json_object *c = cfg_config(s->cfg), *labels;
        if (!json_object_object_get_ex(c, "Labels", &labels) ||
            !json_object_is_type(labels, json_type_object)) {
          labels = json_object_new_object();
          json_object_object_add(c, "Labels", labels);
        }
        json_object_object_add(labels, k, json_object_new_string(v));
      } else {
        cfg_set_env(s->cfg, k, v);
      }
      buf_printf(&by, " %s=%s", k, v);
    }
    free(k);
    free(v);
  }
  if (rc == 0)
    cfg_history(d, s->cfg, by.data, true);
  buf_cleanup(&by);
  return rc;
}

/* ARG name[=default]: in scope from here on. */
static int d_arg(struct dctx *d, struct stage *s, const struct df_instr *in,
                 struct strv *scope, struct err *err) {
  for (size_t i = 0; i < in->nargs; i++) {
    const char *a = in->args[i].value;
    const char *eq = strchr(a, '=');
    char *name = eq ? xstrndup(a, (size_t)(eq - a)) : xstrdup(a);
    char *val = NULL;
    const char *bv = kv_get(&d->build_args, name, strlen(name));
    if (bv) {
      val = xstrdup(bv);
    } else if (eq) {
      int rc = d_expand(d, s, eq + 1, strlen(eq + 1), &val, err);
      if (rc < 0) {
        free(name);
        return rc;
      }
    } else if (s) {
      const char *mv = kv_get(&d->meta, name, strlen(name));
      if (mv)
        val = xstrdup(mv);
    }
    if (val)
      kv_set(scope, name, val);
    free(name);
    free(val);
  }
  if (s)
    cfg_history(d, s->cfg, in->original, true);
  return 0;
}

/* CMD / ENTRYPOINT / SHELL: exec form as is, shell form wrapped. */
static json_object *d_command(struct stage *s, const struct df_instr *in) {
  if (in->form == DF_FORM_JSON) {
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < in->nargs; i++)
      json_object_array_add(arr, json_object_new_string_len(
                                     in->args[i].value, (int)in->args[i].len));
    return arr;
  }
  json_object *arr = json_object_new_array();
  json_object *sh;
  if (json_object_object_get_ex(cfg_config(s->cfg), "Shell", &sh) &&
      json_object_is_type(sh, json_type_array) &&
      json_object_array_length(sh) > 0) {
    for (size_t i = 0; i < json_object_array_length(sh); i++)
      json_object_array_add(arr,
                            json_object_get(json_object_array_get_idx(sh, i)));
  } else {
    json_object_array_add(arr, json_object_new_string("/bin/sh"));
    json_object_array_add(arr, json_object_new_string("-c"));
  }
  if (in->nargs)
    json_object_array_add(arr, json_object_new_string(in->args[0].value));
  return arr;
}

static int64_t d_duration(const char *s, bool *ok) {
  /* Go durations: 30s, 1m30s, 500ms, 1h. */
  *ok = true;
  double total = 0;
  const char *p = s;
  if (*p == '\0') {
    *ok = false;
    return 0;
  }
  while (*p) {
    char *end;
    double v = strtod(p, &end);
    if (end == p) {
      *ok = false;
      return 0;
    }
    p = end;
    double mul;
    if (strncmp(p, "ns", 2) == 0) {
      mul = 1;
      p += 2;
    } else if (strncmp(p, "us", 2) == 0) {
      mul = 1e3;
      p += 2;
    } else if (strncmp(p, "ms", 2) == 0) {
      mul = 1e6;
      p += 2;
    } else if (*p == 's') {
      mul = 1e9;
      p++;
    } else if (*p == 'm') {
      mul = 60e9;
      p++;
    } else if (*p == 'h') {
      mul = 3600e9;
      p++;
    } else {
      *ok = false;
      return 0;
    }
    total += v * mul;
  }
  return (int64_t)total;
}

static int d_healthcheck(struct stage *s, const struct df_instr *in,
                         struct err *err) {
  json_object *c = cfg_config(s->cfg);
  json_object *hc = json_object_new_object();
  json_object *test = json_object_new_array();
  if (in->nargs >= 1 && strcasecmp(in->args[0].value, "NONE") == 0) {
    json_object_array_add(test, json_object_new_string("NONE"));
  } else if (in->nargs >= 2) {
    /* exec form: more than one value after CMD, or text that was JSON */
    const char *o = strstr(in->original, in->args[0].value);
    const char *after = o ? o + strlen(in->args[0].value) : "";
    while (*after == ' ' || *after == '\t')
      after++;
    bool json = *after == '[';
    if (json) {
      json_object_array_add(test, json_object_new_string("CMD"));
      for (size_t i = 1; i < in->nargs; i++)
        json_object_array_add(test, json_object_new_string(in->args[i].value));
    } else {
      json_object_array_add(test, json_object_new_string("CMD-SHELL"));
      json_object_array_add(test, json_object_new_string(in->args[1].value));
    }
  } else {
    json_object_put(test);
    json_object_put(hc);
    return err_set(err, ERR_SYNTAX, "HEALTHCHECK requires CMD or NONE");
  }
  json_object_object_add(hc, "Test", test);
  static const char *const durs[][2] = {{"interval", "Interval"},
                                        {"timeout", "Timeout"},
                                        {"start-period", "StartPeriod"},
                                        {"start-interval", "StartInterval"}};
  for (size_t i = 0; i < 4; i++) {
    const char *v = d_flag(in, durs[i][0]);
    if (v == NULL)
      continue;
    bool ok;
    int64_t ns = d_duration(v, &ok);
    if (!ok) {
      json_object_put(hc);
      return err_set(err, ERR_SYNTAX, "invalid --%s duration \"%s\"",
                     durs[i][0], v);
    }
    if (ns)
      json_object_object_add(hc, durs[i][1], json_object_new_int64(ns));
  }
  const char *r = d_flag(in, "retries");
  if (r) {
    unsigned long n;
    if (!d_numeric(r, &n)) {
      json_object_put(hc);
      return err_set(err, ERR_SYNTAX, "invalid --retries \"%s\"", r);
    }
    if (n)
      json_object_object_add(hc, "Retries", json_object_new_int64((int64_t)n));
  }
  json_object_object_add(c, "Healthcheck", hc);
  return 0;
}

static int d_map_words(struct dctx *d, struct stage *s,
                       const struct df_instr *in, const char *key, bool ports,
                       struct err *err) {
  json_object *c = cfg_config(s->cfg), *m;
  if (!json_object_object_get_ex(c, key, &m) ||
      !json_object_is_type(m, json_type_object)) {
    m = json_object_new_object();
    json_object_object_add(c, key, m);
  }
  for (size_t i = 0; i < in->nargs; i++) {
    char *v = NULL;
    int rc = d_expand(d, s, in->args[i].value, in->args[i].len, &v, err);
    if (rc < 0)
      return rc;
    if (v[0] == '\0') {
      free(v);
      if (!ports)
        return err_set(err, ERR_SYNTAX,
                       "VOLUME specified can not be an "
                       "empty string");
      continue;
    }
    struct buf k = BUF_INIT;
    buf_puts(&k, v);
    if (ports) {
      /* 80 -> 80/tcp; 8000-8002 -> one per port */
      char *slash = strchr(v, '/');
      const char *proto = slash ? slash + 1 : "tcp";
      if (slash)
        *slash = '\0';
      char *dash = strchr(v, '-');
      unsigned long lo, hi;
      char *p1 = dash ? xstrndup(v, (size_t)(dash - v)) : xstrdup(v);
      bool okp = d_numeric(p1, &lo) && lo <= 65535;
      hi = lo;
      if (okp && dash)
        okp = d_numeric(dash + 1, &hi) && hi >= lo && hi <= 65535;
      free(p1);
      if (!okp) {
        buf_cleanup(&k);
        int rc2 = err_set(err, ERR_SYNTAX, "invalid containerPort: %s", v);
        free(v);
        return rc2;
      }
      for (unsigned long pnum = lo; pnum <= hi; pnum++) {
        buf_reset(&k);
        buf_printf(&k, "%lu/%s", pnum, proto);
        for (char *q = k.data; *q; q++)
          *q = (char)tolower((unsigned char)*q);
        json_object_object_add(m, k.data, json_object_new_object());
      }
    } else {
      json_object_object_add(m, k.data, json_object_new_object());
    }
    buf_cleanup(&k);
    free(v);
  }
  cfg_history(d, s->cfg, in->original, true);
  return 0;
}

static int d_instr(struct dctx *d, struct stage *s, unsigned idx,
                   const struct df_instr *in, bool trigger, struct err *err);
static int d_run(struct dctx *d, struct stage *s, unsigned idx,
                 const struct df_instr *in, struct err *err);

/* Runs the base image's ONBUILD triggers, then clears them. */
static int d_onbuild(struct dctx *d, struct stage *s, unsigned idx,
                     struct err *err) {
  json_object *c = cfg_config(s->cfg), *ob;
  if (!json_object_object_get_ex(c, "OnBuild", &ob) ||
      !json_object_is_type(ob, json_type_array))
    return 0;
  json_object *triggers = json_object_get(ob);
  json_object_object_del(c, "OnBuild");
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < json_object_array_length(triggers); i++) {
    const char *t =
        json_object_get_string(json_object_array_get_idx(triggers, i));
    if (t == NULL)
      continue;
    d_log(d, "running ONBUILD trigger: %s", t);
    struct dockerfile *tdf = dockerfile_parse(t, strlen(t), NULL);
    const struct df_problem *p = dockerfile_first_error(tdf);
    if (p || tdf->ninstrs != 1)
      rc = err_set(err, ERR_SYNTAX, "ONBUILD trigger \"%.100s\": %s", t,
                   p ? p->message : "not one instruction");
    else
      rc = d_instr(d, s, idx, &tdf->instrs[0], true, err);
    dockerfile_free(tdf);
  }
  json_object_put(triggers);
  return rc;
}

static int d_from(struct dctx *d, struct stage *s, unsigned idx,
                  const struct df_instr *in, struct err *err) {
  if (in->nargs != 1 &&
      !(in->nargs == 3 && strcasecmp(in->args[1].value, "as") == 0))
    return err_set(err, ERR_SYNTAX,
                   "FROM requires either one or three "
                   "arguments");
  char *base = NULL;
  int rc = d_expand(d, NULL, in->args[0].value, in->args[0].len, &base, err);
  if (rc < 0)
    return rc;
  struct image_platform plat = d->plat;
  const char *pf = d_flag(in, "platform");
  if (pf) {
    char *pv = NULL;
    rc = d_expand(d, NULL, pf, strlen(pf), &pv, err);
    if (rc == 0)
      rc = image_platform_parse(pv, &plat, err);
    free(pv);
  }
  int sidx = rc == 0 ? d_stage_index(d, base) : -1;
  bool named = false;
  for (size_t i = 0; i < idx && !named; i++)
    named =
        d->df->stages[i].name && strcasecmp(d->df->stages[i].name, base) == 0;
  if (rc < 0) {
    /* keep rc */
  } else if (strcasecmp(base, "scratch") == 0) {
    s->cfg = cfg_new_scratch(d);
    char k[DIGEST_STR_LEN];
    struct buf kb = BUF_INIT;
    buf_printf(&kb, "scratch\n%s/%s/%s", plat.os, plat.arch, plat.variant);
    digest_buf(kb.data, kb.len, k);
    buf_cleanup(&kb);
    memcpy(s->key, digest_hex(k), DIGEST_HEX_LEN + 1);
  } else if (named && sidx >= 0 && (unsigned)sidx < idx) {
    struct stage *b = &d->st[sidx];
    memcpy(s->key, b->key, sizeof(s->key));
    s->cfg = json_clone(b->cfg);
    json_object *rootfs;
    if (json_object_object_get_ex(s->cfg, "rootfs", &rootfs))
      json_object_object_add(rootfs, "diff_ids", json_object_new_array());
    for (size_t i = 0; i < b->nlayers; i++)
      stage_add_layer(s, &b->layers[i]);
  } else {
    rc = d_load_image(d, base, &plat, s, err);
    if (rc == 0)
      rc = d_onbuild(d, s, idx, err);
  }
  free(base);
  if (rc == 0) {
    /* BuildKit gives every Linux image a PATH. */
    struct strv env = STRV_INIT;
    cfg_env(s->cfg, &env);
    if (kv_get(&env, "PATH", 4) == NULL)
      cfg_set_env(s->cfg, "PATH", DEFAULT_PATH + 5);
    strv_cleanup(&env);
  }
  return rc;
}

static int d_instr_exec(struct dctx *d, struct stage *s, unsigned idx,
                        const struct df_instr *in, bool trigger,
                        struct err *err) {
  json_object *c = cfg_config(s->cfg);
  switch (in->kind) {
  case DF_RUN:
    return d_run(d, s, idx, in, err);
  case DF_COPY:
    return d_copy(d, s, in, false, idx, err);
  case DF_ADD:
    return d_copy(d, s, in, true, idx, err);
  case DF_ENV:
    return d_keyval(d, s, in, false, err);
  case DF_LABEL:
    return d_keyval(d, s, in, true, err);
  case DF_MAINTAINER:
    json_object_object_add(
        s->cfg, "author",
        json_object_new_string(in->nargs ? in->args[0].value : ""));
    cfg_history(d, s->cfg, in->original, true);
    return 0;
  case DF_ARG:
    return d_arg(d, s, in, &s->args, err);
  case DF_WORKDIR:
    return d_workdir(d, s, in, err);
  case DF_USER:
  case DF_STOPSIGNAL: {
    if (in->nargs < 1)
      return err_set(err, ERR_SYNTAX, "%s requires exactly one argument",
                     df_kind_name(in->kind));
    char *v = NULL;
    int rc = d_expand(d, s, in->args[0].value, in->args[0].len, &v, err);
    if (rc < 0)
      return rc;
    json_object_object_add(c, in->kind == DF_USER ? "User" : "StopSignal",
                           json_object_new_string(v));
    free(v);
    cfg_history(d, s->cfg, in->original, true);
    return 0;
  }
  case DF_EXPOSE:
    return d_map_words(d, s, in, "ExposedPorts", true, err);
  case DF_VOLUME:
    return d_map_words(d, s, in, "Volumes", false, err);
  case DF_CMD:
    json_object_object_add(c, "Cmd", d_command(s, in));
    s->cmd_set = true;
    cfg_history(d, s->cfg, in->original, true);
    return 0;
  case DF_ENTRYPOINT:
    json_object_object_add(c, "Entrypoint", d_command(s, in));
    if (!s->cmd_set)
      json_object_object_add(c, "Cmd", NULL);
    cfg_history(d, s->cfg, in->original, true);
    return 0;
  case DF_SHELL:
    if (in->form != DF_FORM_JSON || in->nargs == 0)
      return err_set(err, ERR_SYNTAX,
                     "SHELL requires the arguments to be "
                     "in JSON form");
    json_object_object_add(c, "Shell", d_command(s, in));
    cfg_history(d, s->cfg, in->original, true);
    return 0;
  case DF_HEALTHCHECK: {
    int rc = d_healthcheck(s, in, err);
    if (rc == 0)
      cfg_history(d, s->cfg, in->original, true);
    return rc;
  }
  case DF_ONBUILD: {
    if (trigger)
      return err_set(err, ERR_SYNTAX, "ONBUILD inside an ONBUILD trigger");
    if (in->sub == NULL)
      return err_set(err, ERR_SYNTAX, "ONBUILD requires an instruction");
    if (in->sub->kind == DF_FROM || in->sub->kind == DF_MAINTAINER ||
        in->sub->kind == DF_ONBUILD)
      return err_set(err, ERR_SYNTAX,
                     "%s isn't allowed as an ONBUILD "
                     "trigger",
                     df_kind_name(in->sub->kind));
    json_object *ob;
    if (!json_object_object_get_ex(c, "OnBuild", &ob) ||
        !json_object_is_type(ob, json_type_array)) {
      ob = json_object_new_array();
      json_object_object_add(c, "OnBuild", ob);
    }
    /* The trigger text as written after ONBUILD. */
    const char *t = in->original;
    while (*t && *t != ' ' && *t != '\t')
      t++;
    while (*t == ' ' || *t == '\t')
      t++;
    json_object_array_add(ob, json_object_new_string(t));
    cfg_history(d, s->cfg, in->original, true);
    return 0;
  }
  case DF_FROM:
  case DF_UNKNOWN:
  case DF_KIND_COUNT:
    break;
  }
  return err_set(err, ERR_SYNTAX, "unknown instruction: %s", in->keyword);
}

/* --- RUN -------------------------------------------------------------- */

static void d_run_line(void *ctx, const char *line) {
  struct dctx *d = ctx;
  if (d->sink && d->sink->log_at)
    d->sink->log_at(d->sink->ctx, d->cur_line, line);
  else if (d->sink && d->sink->log)
    d->sink->log(d->sink->ctx, line);
}

/* The topmost copy of a file (e.g. "etc/passwd") in extracted layer dirs,
 * through the merged view (whiteouts, opaque dirs, symlinks inside the
 * image), or NULL when absent or not a regular file. */
static char *d_lower_file(char *const *dirs, size_t n, const char *rel) {
  struct layer_view v = {(const char *const *)dirs, n};
  struct layer_found lf;
  struct err e;
  if (layer_view_resolve(&v, rel, true, &lf, &e) < 0) {
    err_clear(&e); /* unreadable: as if absent, as before */
    return NULL;
  }
  char *out = lf.exists && S_ISREG(lf.st.st_mode) ? lf.host : NULL;
  if (out)
    lf.host = NULL;
  layer_found_cleanup(&lf);
  return out;
}

/* Finds name (or a numeric id) in an /etc/passwd-style file: fields
 * [0]=name, [2]=id, [3]=gid, [5]=home. */
static bool d_db_find(const char *path, const char *name,
                      char fields[7][256]) {
  if (path == NULL)
    return false;
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return false;
  char line[2048];
  bool found = false;
  while (!found && fgets(line, sizeof(line), f)) {
    line[strcspn(line, "\n")] = '\0';
    size_t k = 0;
    char *p = line;
    for (k = 0; k < 7; k++) {
      char *c = strchr(p, ':');
      size_t n = c ? (size_t)(c - p) : strlen(p);
      snprintf(fields[k], 256, "%.*s", (int)n, p);
      if (c == NULL) {
        for (size_t j = k + 1; j < 7; j++)
          fields[j][0] = '\0';
        break;
      }
      p = c + 1;
    }
    found = strcmp(fields[0], name) == 0 || strcmp(fields[2], name) == 0;
  }
  fclose(f);
  return found;
}

/* USER as BuildKit resolves it for RUN: names from the image's
 * /etc/passwd and /etc/group; a uid alone takes its passwd gid (0 when
 * unknown); supplementary groups from /etc/group. */
static int d_run_user(const char *spec, char *const *dirs, size_t n,
                      struct exec_spec *x, gid_t *groups, size_t *ngroups,
                      char **home, struct err *err) {
  *ngroups = 0;
  *home = NULL;
  char *u = xstrdup(spec && *spec ? spec : "0");
  char *g = strchr(u, ':');
  if (g)
    *g++ = '\0';
  char *passwd = d_lower_file(dirs, n, "etc/passwd");
  char *group = d_lower_file(dirs, n, "etc/group");
  char f[7][256];
  unsigned long uid = 0, gid = 0;
  int rc = 0;
  bool known = d_db_find(passwd, u, f);
  const char *uname = known ? f[0] : NULL;
  char uname_buf[256] = "";
  if (known) {
    snprintf(uname_buf, sizeof(uname_buf), "%s", f[0]);
    uname = uname_buf;
    (void)d_numeric(f[2], &uid);
    (void)d_numeric(f[3], &gid);
    if (f[5][0])
      *home = xstrdup(f[5]);
  } else if (!d_numeric(u, &uid)) {
    rc = err_set(err, ERR_NOTFOUND,
                 "unable to find user %s: no matching "
                 "entries in passwd file",
                 u);
  }
  if (rc == 0 && g) {
    if (d_db_find(group, g, f))
      (void)d_numeric(f[2], &gid);
    else if (!d_numeric(g, &gid))
      rc = err_set(err, ERR_NOTFOUND,
                   "unable to find group %s: no "
                   "matching entries in group file",
                   g);
  }
  /* The primary group is a supplementary one too (runc's
   * additionalGids, what `id` shows under BuildKit and buildah). */
  if (rc == 0)
    groups[(*ngroups)++] = (gid_t)gid;
  if (rc == 0 && g == NULL && uname && group) {
    FILE *gf = fopen(group, "r");
    char line[4096];
    while (gf && *ngroups < 64 && fgets(line, sizeof(line), gf)) {
      line[strcspn(line, "\n")] = '\0';
      char *save = NULL, *name = strtok_r(line, ":", &save);
      (void)name;
      char *pw = strtok_r(NULL, ":", &save);
      char *id = pw ? strtok_r(NULL, ":", &save) : NULL;
      char *mem = id ? strtok_r(NULL, ":", &save) : NULL;
      unsigned long gv;
      for (char *m2 = mem ? strtok_r(mem, ",", &save) : NULL; m2;
           m2 = strtok_r(NULL, ",", &save))
        if (strcmp(m2, uname) == 0 && d_numeric(id, &gv) && gv != gid &&
            *ngroups < 64)
          groups[(*ngroups)++] = (gid_t)gv;
    }
    if (gf)
      fclose(gf);
  }
  if (rc == 0 && *home == NULL)
    *home = xstrdup(uid == 0 ? "/root" : "/");
  x->uid = (uid_t)uid;
  x->gid = (gid_t)gid;
  free(u);
  free(passwd);
  free(group);
  return rc;
}

/* One --mount=... value, parsed. */
struct d_mnt {
  char *type, *target, *source, *from, *id, *env, *mode, *uid, *gid;
  bool rw, required;
  unsigned long size;
};

static void d_mnt_cleanup(struct d_mnt *m) {
  free(m->type);
  free(m->target);
  free(m->source);
  free(m->from);
  free(m->id);
  free(m->env);
  free(m->mode);
  free(m->uid);
  free(m->gid);
  memset(m, 0, sizeof(*m));
}

static int d_mnt_parse(const char *v, struct d_mnt *m, struct err *err) {
  memset(m, 0, sizeof(*m));
  char *copy = xstrdup(v), *save = NULL;
  int rc = 0;
  for (char *kv = strtok_r(copy, ",", &save); kv && rc == 0;
       kv = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(kv, '=');
    const char *val = eq ? eq + 1 : "";
    if (eq)
      *eq = '\0';
    char **slot = NULL;
    if (strcmp(kv, "type") == 0)
      slot = &m->type;
    else if (strcmp(kv, "target") == 0 || strcmp(kv, "dst") == 0 ||
             strcmp(kv, "destination") == 0)
      slot = &m->target;
    else if (strcmp(kv, "source") == 0 || strcmp(kv, "src") == 0)
      slot = &m->source;
    else if (strcmp(kv, "from") == 0)
      slot = &m->from;
    else if (strcmp(kv, "id") == 0)
      slot = &m->id;
    else if (strcmp(kv, "env") == 0)
      slot = &m->env;
    else if (strcmp(kv, "mode") == 0)
      slot = &m->mode;
    else if (strcmp(kv, "uid") == 0)
      slot = &m->uid;
    else if (strcmp(kv, "gid") == 0)
      slot = &m->gid;
    else if (strcmp(kv, "rw") == 0 || strcmp(kv, "readwrite") == 0)
      m->rw = !eq || strcmp(val, "false") != 0;
    else if (strcmp(kv, "ro") == 0 || strcmp(kv, "readonly") == 0)
      m->rw = eq && strcmp(val, "false") == 0;
    else if (strcmp(kv, "required") == 0)
      m->required = !eq || strcmp(val, "false") != 0;
    else if (strcmp(kv, "size") == 0)
      m->size = strtoul(val, NULL, 10);
    else if (strcmp(kv, "sharing") != 0)
      rc = err_set(err, ERR_SYNTAX, "unexpected key '%s' in '%s'", kv, v);
    if (slot) {
      free(*slot);
      *slot = xstrdup(val);
    }
  }
  free(copy);
  if (rc == 0 && m->type == NULL)
    m->type = xstrdup("bind");
  return rc;
}

/* A secret given to the build: "id=x,src=path" or "id=x,env=VAR". */
static int d_secret_find(struct dctx *d, const char *id, struct buf *out,
                         bool *found, struct err *err) {
  *found = false;
  for (size_t i = 0; i < d->req->nsecrets; i++) {
    char *copy = xstrdup(d->req->secrets[i]), *save = NULL;
    const char *sid = NULL, *src = NULL, *env = NULL;
    for (char *kv = strtok_r(copy, ",", &save); kv;
         kv = strtok_r(NULL, ",", &save)) {
      if (strncmp(kv, "id=", 3) == 0)
        sid = kv + 3;
      else if (strncmp(kv, "src=", 4) == 0 || strncmp(kv, "source=", 7) == 0)
        src = strchr(kv, '=') + 1;
      else if (strncmp(kv, "env=", 4) == 0)
        env = kv + 4;
    }
    if (sid && strcmp(sid, id) == 0) {
      int rc = 0;
      if (src) {
        FILE *f = fopen(src, "rb");
        if (f == NULL) {
          rc = err_set(err, ERR_NOTFOUND,
                       "secret %s: cannot read its "
                       "source: %s",
                       id, strerror(errno));
        } else {
          char chunk[8192];
          size_t n;
          while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
            if (out->len + n > DW_MAX_SECRET_BYTES)
              rc = err_set(err, ERR_TOOBIG,
                           "secret %s larger than %u "
                           "bytes",
                           id, DW_MAX_SECRET_BYTES);
            else
              buf_append(out, chunk, n);
          }
          fclose(f);
        }
      } else {
        const char *v = getenv(env ? env : sid);
        if (v)
          buf_puts(out, v);
        else
          rc = err_set(err, ERR_NOTFOUND,
                       "secret %s: environment variable "
                       "not set",
                       id);
      }
      free(copy);
      *found = rc == 0;
      return rc;
    }
    free(copy);
  }
  return 0;
}

static char *d_safe_id(const char *id) {
  struct buf b = BUF_INIT;
  for (const char *p = id; *p; p++)
    buf_putc(
        &b, (isalnum((unsigned char)*p) || *p == '-' || *p == '.' || *p == '_')
                ? *p
                : '_');
  char dg[DIGEST_STR_LEN];
  digest_buf(id, strlen(id), dg);
  buf_printf(&b, "-%.12s", digest_hex(dg));
  return buf_take(&b);
}

static int d_copy_file(const char *from, const char *to, struct err *err) {
  FILE *in = fopen(from, "rb");
  if (in == NULL)
    return err_set(err, ERR_IO, "read %s: %s", from, strerror(errno));
  FILE *out = fopen(to, "wb");
  if (out == NULL) {
    fclose(in);
    return err_set(err, ERR_IO, "write %s: %s", to, strerror(errno));
  }
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
    fwrite(chunk, 1, n, out);
  fclose(in);
  return fclose(out) == 0 ? 0 : err_set(err, ERR_IO, "write %s", to);
}

struct d_runctx {
  struct strv argv, env, keep, skip;
  struct exec_mount mounts[DW_MAX_RUN_MOUNTS];
  size_t nmounts;
  char **lowers;
  size_t nlowers;
  char *rundir;
  char *home;
  struct stage img; /* --mount from=<image> */
};

static int d_run_mounts(struct dctx *d, struct stage *s, unsigned idx,
                        const struct df_instr *in, struct d_runctx *r,
                        struct err *err) {
  int rc = 0;
  unsigned nsec = 0;
  for (size_t i = 0; rc == 0 && i < in->nflags; i++) {
    if (strcmp(in->flags[i].name, "mount") != 0)
      continue;
    if (r->nmounts >= DW_MAX_RUN_MOUNTS)
      return err_set(err, ERR_TOOBIG, "more than %u --mount flags",
                     DW_MAX_RUN_MOUNTS);
    char *v = NULL;
    rc =
        d_expand(d, s, in->flags[i].value ? in->flags[i].value : "",
                 in->flags[i].value ? strlen(in->flags[i].value) : 0, &v, err);
    if (rc < 0)
      break;
    struct d_mnt m;
    rc = d_mnt_parse(v, &m, err);
    free(v);
    if (rc < 0)
      break;
    struct exec_mount *x = &r->mounts[r->nmounts];
    memset(x, 0, sizeof(*x));
    struct buf tgt = BUF_INIT;
    if (m.target && m.target[0] != '/') {
      const char *wd = json_object_get_string(
          json_object_object_get(cfg_config(s->cfg), "WorkingDir"));
      buf_printf(&tgt, "%s/", wd && *wd ? wd : "");
    }
    if (m.target)
      buf_puts(&tgt, m.target);
    if (strcmp(m.type, "secret") == 0 && m.target == NULL)
      buf_printf(&tgt, "/run/secrets/%s", m.id ? m.id : "");
    char *clean = NULL;
    (void)layer_clean_path(tgt.data ? tgt.data : "", &clean);
    buf_cleanup(&tgt);
    if (clean[0] == '\0' && strcmp(m.type, "secret") != 0) {
      rc = err_set(err, ERR_SYNTAX, "--mount needs a target");
    } else if (strcmp(m.type, "secret") == 0) {
      struct buf data = BUF_INIT;
      bool found = false;
      if (m.id == NULL || !*m.id)
        rc = err_set(err, ERR_SYNTAX, "secret mount needs an id");
      else
        rc = d_secret_find(d, m.id, &data, &found, err);
      if (rc == 0 && !found && m.required)
        rc = err_set(err, ERR_NOTFOUND,
                     "secret %s not provided (use "
                     "--secret id=%s,src=FILE)",
                     m.id, m.id);
      if (rc == 0 && found) {
        struct buf p = BUF_INIT;
        buf_printf(&p, "%s/secrets", r->rundir);
        (void)mkdir(p.data, 0700);
        buf_printf(&p, "/%u", nsec++);
        int fd = open(p.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
        if (fd < 0 ||
            (data.len && write(fd, data.data, data.len) != (ssize_t)data.len))
          rc = err_set(err, ERR_IO, "secret %s: cannot stage it", m.id);
        if (fd >= 0)
          close(fd);
        unsigned long mode = 0400, su = 0, sg = 0;
        if (m.mode)
          mode = strtoul(m.mode, NULL, 8) & 07777;
        if (m.uid)
          (void)d_numeric(m.uid, &su);
        if (m.gid)
          (void)d_numeric(m.gid, &sg);
        if (rc == 0 && geteuid() == 0 &&
            chown(p.data, (uid_t)su, (gid_t)sg) != 0)
          rc = err_set(err, ERR_IO, "secret %s: chown", m.id);
        if (rc == 0)
          (void)chmod(p.data, (mode_t)mode);
        if (rc == 0) {
          strv_push(&r->keep, p.data);
          x->kind = EXEC_MOUNT_BIND;
          x->source = r->keep.v[r->keep.n - 1];
          strv_push_take(&r->keep, xstrdup("/"));
          buf_reset(&p);
          buf_printf(&p, "/%s", clean);
          strv_push(&r->keep, p.data);
          x->target = r->keep.v[r->keep.n - 1];
          strv_push(&r->skip, clean);
          r->nmounts++;
          if (m.env) {
            buf_reset(&p);
            buf_printf(&p, "%s=", m.env);
            buf_append(&p, data.data ? data.data : "", data.len);
            strv_push(&r->env, p.data);
          }
        }
        buf_cleanup(&p);
      }
      /* The secret's bytes are wiped from memory as soon as staged. */
      if (data.data)
        memset(data.data, 0, data.len);
      buf_cleanup(&data);
    } else if (strcmp(m.type, "tmpfs") == 0) {
      x->kind = EXEC_MOUNT_TMPFS;
      x->size = m.size;
      struct buf p = BUF_INIT;
      buf_printf(&p, "/%s", clean);
      strv_push(&r->keep, p.data);
      x->target = r->keep.v[r->keep.n - 1];
      buf_cleanup(&p);
      strv_push(&r->skip, clean);
      r->nmounts++;
    } else if (strcmp(m.type, "cache") == 0) {
      char *sid = d_safe_id(m.id && *m.id ? m.id : clean);
      struct buf p = BUF_INIT;
      buf_printf(&p, "%s/cache-mounts/%s", store_root(d->store), sid);
      free(sid);
      struct stat st;
      if (lstat(p.data, &st) != 0) {
        rc = store_mkdirs(p.data, err);
        unsigned long mode = 0755, cu = 0, cg = 0;
        if (m.mode)
          mode = strtoul(m.mode, NULL, 8) & 07777;
        if (m.uid)
          (void)d_numeric(m.uid, &cu);
        if (m.gid)
          (void)d_numeric(m.gid, &cg);
        if (rc == 0 && geteuid() == 0)
          (void)chown(p.data, (uid_t)cu, (gid_t)cg);
        if (rc == 0)
          (void)chmod(p.data, (mode_t)mode);
      }
      strv_push(&r->keep, p.data);
      x->kind = EXEC_MOUNT_BIND;
      x->rw = true;
      x->source = r->keep.v[r->keep.n - 1];
      buf_reset(&p);
      buf_printf(&p, "/%s", clean);
      strv_push(&r->keep, p.data);
      x->target = r->keep.v[r->keep.n - 1];
      buf_cleanup(&p);
      strv_push(&r->skip, clean);
      r->nmounts++;
    } else if (strcmp(m.type, "bind") == 0) {
      const char *root = d->ctx.root;
      if (m.from) {
        int fi = d_stage_index(d, m.from);
        struct stage *from = NULL;
        if (fi >= 0 && (unsigned)fi >= idx) {
          rc = err_set(err, ERR_INVALID,
                       "--mount from=%s refers to this "
                       "or a later stage",
                       m.from);
        } else if (fi >= 0) {
          from = &d->st[fi];
        } else {
          stage_cleanup(d, &r->img);
          rc = d_load_image(d, m.from, &d->plat, &r->img, err);
          from = &r->img;
        }
        if (rc == 0)
          rc = stage_materialize(d, from, err);
        if (rc == 0)
          root = from->rootfs;
      }
      char *host = NULL;
      if (rc == 0)
        rc = layer_resolve(root, m.source ? m.source : "", true, &host, err);
      if (rc == 0) {
        strv_push(&r->keep, host);
        x->kind = m.rw ? EXEC_MOUNT_OVERLAY : EXEC_MOUNT_BIND;
        x->source = r->keep.v[r->keep.n - 1];
        struct buf p = BUF_INIT;
        buf_printf(&p, "/%s", clean);
        strv_push(&r->keep, p.data);
        x->target = r->keep.v[r->keep.n - 1];
        buf_cleanup(&p);
        strv_push(&r->skip, clean);
        r->nmounts++;
        struct stat st;
        if (m.rw && (stat(host, &st) != 0 || !S_ISDIR(st.st_mode))) {
          x->kind = EXEC_MOUNT_BIND; /* a file: read-only */
          x->rw = false;
        }
      }
      free(host);
    } else {
      rc = err_set(err, ERR_UNSUPPORTED, "--mount type=%s is not supported",
                   m.type);
    }
    free(clean);
    d_mnt_cleanup(&m);
  }
  return rc;
}

static void d_runctx_cleanup(struct dctx *d, struct d_runctx *r) {
  strv_cleanup(&r->argv);
  strv_cleanup(&r->env);
  strv_cleanup(&r->keep);
  strv_cleanup(&r->skip);
  for (size_t i = 0; i < r->nlowers; i++)
    free(r->lowers[i]);
  free(r->lowers);
  if (r->rundir) {
    struct err e;
    if (store_rmtree(d->store, r->rundir, &e) < 0)
      d_log(d, "cleanup: %s", e.msg);
    free(r->rundir);
  }
  free(r->home);
  stage_cleanup(d, &r->img);
}

/* The upper directory becomes the new layer's lower directory, so the
 * next step does not unpack what was just packed (owners under a user
 * namespace are host ids, so only without one).  An optimisation: when it
 * fails, the lower is extracted from the blob when first needed. */
static void d_adopt_upper(struct dctx *d, const struct stage *s,
                          const char *upper, const struct layer_list *packed) {
  const char *digest = s->layers[s->nlayers - 1].digest;
  struct layer_pack_opts o = d_pack_opts(d);
  struct err e;
  if (layer_upper_to_lower(upper, packed, &o, &e) < 0 ||
      cache_adopt_lower(d->store, digest, upper, &e) < 0)
    d_log(d, "layer %.19s: upper directory not reused: %s", digest, e.msg);
}

/* Starts packing a RUN's layer on a worker thread (see layer_job.h) and
 * adds it to the stage with its digests left blank until d_join.  The
 * upper directory is made a lower first (packing reads only the entry
 * list and file contents, which that leaves alone), so the next RUN can
 * stack it at once.  False when it cannot: the caller packs in line. */
static bool d_pack_async(struct dctx *d, struct stage *s,
                         struct layer_list *list, const char *created_by,
                         char **rundir, const char *upper) {
  layer_list_sort(list);
  struct layer_pack_opts o = d_pack_opts(d);
  struct d_pending *p = &d->pending;
  size_t n = list->n;
  struct err e;
  if (layer_upper_to_lower(upper, list, &o, &e) < 0 ||
      layer_job_start(&p->job, list, &o, d->store, &e) < 0) {
    d_log(d, "packing in line: %s", e.msg);
    return false;
  }
  struct lref l;
  memset(&l, 0, sizeof(l));
  l.media_type = d_layer_media_type(d, &o);
  stage_add_layer(s, &l);
  cfg_history(d, s->cfg, created_by, false);
  p->s = s;
  p->layer = s->nlayers - 1;
  p->nentries = n;
  p->rundir = *rundir;
  *rundir = NULL;
  p->upper = xstrdup(upper);
  p->cache_entry = NULL;
  d->has_pending = true;
  return true;
}

static void d_set_layer_ids(json_object *cfg, json_object *layers, size_t i,
                            const struct lref *l) {
  json_object *rootfs, *ids;
  if (json_object_object_get_ex(cfg, "rootfs", &rootfs) &&
      json_object_object_get_ex(rootfs, "diff_ids", &ids) &&
      i < json_object_array_length(ids))
    json_object_array_put_idx(ids, i, json_object_new_string(l->diffid));
  json_object *e = layers ? json_object_array_get_idx(layers, i) : NULL;
  if (e) {
    json_object_object_add(e, "digest", json_object_new_string(l->digest));
    json_object_object_add(e, "diffID", json_object_new_string(l->diffid));
    json_object_object_add(e, "size", json_object_new_int64((int64_t)l->size));
  }
}

/* Waits for the layer packing in the background, if any, and completes
 * what waited for its digest: the stage's layer and config, the step's
 * cache entry, the lower directory's name. */
static int d_join(struct dctx *d, struct err *err) {
  if (!d->has_pending)
    return 0;
  struct d_pending *p = &d->pending;
  d->has_pending = false;
  double t0 = d_seconds();
  int rc = layer_job_join(&p->job, err);
  if (rc == 0) {
    struct lref *l = &p->s->layers[p->layer];
    memcpy(l->digest, p->job.info.digest, sizeof(l->digest));
    memcpy(l->diffid, p->job.info.diffid, sizeof(l->diffid));
    l->size = p->job.info.size;
    d_set_layer_ids(p->s->cfg, NULL, p->layer, l);
    d_log(d,
          "layer %.19s: %zu entries, %llu bytes, packed in %.1fs "
          "(%.1fs waited)",
          l->digest, p->nentries, (unsigned long long)l->size, p->job.seconds,
          d_seconds() - t0);
    if (p->cache_entry) {
      d_set_layer_ids(json_object_object_get(p->cache_entry, "config"),
                      json_object_object_get(p->cache_entry, "layers"),
                      p->layer, l);
      struct err e2;
      if (cache_put(d->store, p->key, p->cache_entry, &e2) < 0)
        d_log(d, "build cache: %s", e2.msg);
    }
    struct err e3;
    if (cache_adopt_lower(d->store, l->digest, p->upper, &e3) < 0)
      d_log(d, "layer %.19s: upper directory not reused: %s", l->digest,
            e3.msg);
  }
  json_object_put(p->cache_entry);
  struct err e4;
  if (store_rmtree(d->store, p->rundir, &e4) < 0)
    d_log(d, "cleanup: %s", e4.msg);
  free(p->rundir);
  free(p->upper);
  memset(p, 0, sizeof(*p));
  return rc;
}

/* BuildKit's predefined ARGs: proxy settings given with --build-arg reach
 * every RUN without an ARG line, and stay out of the history and the
 * cache key (a build behind a proxy gives the same image). */
static void d_proxy_env(const struct dctx *d, struct strv *env) {
  static const char *const names[] = {
      "HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY",
      "http_proxy", "https_proxy", "ftp_proxy", "no_proxy", "all_proxy"};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    size_t n = strlen(names[i]);
    const char *v = kv_get(&d->build_args, names[i], n);
    if (v && kv_get(env, names[i], n) == NULL)
      kv_set(env, names[i], v);
  }
}

/* True when a shell-form RUN is nothing but one heredoc marker. */
static bool d_heredoc_only(const char *cmd, const struct df_heredoc *h) {
  const char *p = cmd;
  while (*p == ' ' || *p == '\t')
    p++;
  if (strncmp(p, "<<", 2) != 0)
    return false;
  p += 2;
  if (*p == '-')
    p++;
  if (*p == '"' || *p == '\'')
    p++;
  size_t n = strlen(h->name);
  if (strncmp(p, h->name, n) != 0)
    return false;
  p += n;
  if (*p == '"' || *p == '\'')
    p++;
  while (*p == ' ' || *p == '\t' || *p == '\n')
    p++;
  return *p == '\0';
}

static int d_run(struct dctx *d, struct stage *s, unsigned idx,
                 const struct df_instr *in, struct err *err) {
  struct d_runctx r;
  memset(&r, 0, sizeof(r));
  int rc = 0;
  bool net_none = false;
  for (size_t i = 0; rc == 0 && i < in->nflags; i++) {
    const char *n = in->flags[i].name, *v = in->flags[i].value;
    if (strcmp(n, "network") == 0) {
      if (v && strcmp(v, "none") == 0)
        net_none = true;
      else if (!v || (strcmp(v, "default") && strcmp(v, "host")))
        rc = err_set(err, ERR_SYNTAX,
                     "--network=%s: only default, host "
                     "and none",
                     v ? v : "");
    } else if (strcmp(n, "security") == 0) {
      if (!v || strcmp(v, "sandbox") != 0)
        rc = err_set(err, ERR_UNSUPPORTED,
                     "--security=%s is not "
                     "supported",
                     v ? v : "");
    } else if (strcmp(n, "mount") != 0) {
      rc = err_set(err, ERR_SYNTAX, "unknown flag: --%s", n);
    }
  }
  if (rc < 0)
    return rc;
  json_object *c = cfg_config(s->cfg);
  /* The command. */
  if (in->form == DF_FORM_JSON) {
    for (size_t i = 0; i < in->nargs; i++)
      strv_pushn(&r.argv, in->args[i].value, in->args[i].len);
    if (in->nargs == 0)
      return err_set(err, ERR_SYNTAX, "RUN needs a command");
  } else {
    json_object *sh;
    if (json_object_object_get_ex(c, "Shell", &sh) &&
        json_object_is_type(sh, json_type_array) &&
        json_object_array_length(sh) > 0) {
      for (size_t i = 0; i < json_object_array_length(sh); i++)
        strv_push(&r.argv,
                  json_object_get_string(json_object_array_get_idx(sh, i)));
    } else {
      strv_push(&r.argv, "/bin/sh");
      strv_push(&r.argv, "-c");
    }
    const char *cmd = in->nargs ? in->args[0].value : "";
    if (in->nheredocs == 1 && d_heredoc_only(cmd, &in->heredocs[0])) {
      /* BuildKit: the body is the script (run by the shell, or directly
       * when it has a #! line). */
      const struct df_heredoc *h = &in->heredocs[0];
      struct buf body = BUF_INIT;
      if (h->chomp)
        d_strip_tabs(&body, h->content, h->content_len);
      else
        buf_append(&body, h->content, h->content_len);
      if (body.len > 2 && body.data[0] == '#' && body.data[1] == '!') {
        strv_cleanup(&r.argv);
        rc = store_tmpdir(d->store, "run", &r.rundir, err);
        struct buf p = BUF_INIT;
        if (rc == 0) {
          buf_printf(&p, "%s/script", r.rundir);
          FILE *f = fopen(p.data, "wb");
          if (f == NULL || fwrite(body.data, 1, body.len, f) != body.len)
            rc = err_set(err, ERR_IO, "write %s", p.data);
          if (f)
            fclose(f);
          (void)chmod(p.data, 0755);
        }
        if (rc == 0) {
          strv_push(&r.keep, p.data);
          r.mounts[r.nmounts].kind = EXEC_MOUNT_BIND;
          r.mounts[r.nmounts].source = r.keep.v[r.keep.n - 1];
          buf_reset(&p);
          buf_printf(&p, "/dev/pipes/%s", h->name);
          strv_push(&r.keep, p.data);
          r.mounts[r.nmounts].target = r.keep.v[r.keep.n - 1];
          r.nmounts++;
          strv_push(&r.argv, p.data);
        }
        buf_cleanup(&p);
      } else {
        strv_pushn(&r.argv, body.data ? body.data : "", body.len);
      }
      buf_cleanup(&body);
    } else if (in->nheredocs) {
      /* The shell reads the heredocs itself. */
      struct buf script = BUF_INIT;
      buf_puts(&script, cmd);
      for (size_t i = 0; i < in->nheredocs; i++) {
        buf_putc(&script, '\n');
        buf_append(&script, in->heredocs[i].content,
                   in->heredocs[i].content_len);
        buf_puts(&script, in->heredocs[i].name);
      }
      strv_pushn(&r.argv, script.data, script.len);
      buf_cleanup(&script);
    } else {
      strv_push(&r.argv, cmd);
    }
  }
  /* The layers, extracted once per store. */
  r.lowers = xcalloc(s->nlayers ? s->nlayers : 1, sizeof(char *));
  for (size_t i = 0; rc == 0 && i < s->nlayers; i++) {
    if (d->has_pending && d->pending.s == s && d->pending.layer == i)
      r.lowers[i] = xstrdup(d->pending.upper); /* still packing */
    else
      rc = cache_lower_dir(d->store, s->layers[i].digest, d->cancel,
                           &r.lowers[i], err);
    if (rc == 0)
      r.nlowers++;
  }
  if (rc == 0 && r.rundir == NULL)
    rc = store_tmpdir(d->store, "run", &r.rundir, err);
  if (rc == 0)
    (void)chmod(r.rundir, 0755);
  struct exec_spec x;
  memset(&x, 0, sizeof(x));
  gid_t groups[64];
  size_t ngroups = 0;
  const char *user = json_object_get_string(json_object_object_get(c, "User"));
  if (rc == 0)
    rc = d_run_user(user, r.lowers, r.nlowers, &x, groups, &ngroups, &r.home,
                    err);
  if (rc == 0)
    rc = d_run_mounts(d, s, idx, in, &r, err);
  /* Environment: ENV, then ARGs ENV does not set, HOME. */
  struct strv env = STRV_INIT;
  cfg_env(s->cfg, &env);
  for (size_t i = 0; i < s->args.n; i++) {
    const char *eq = strchr(s->args.v[i], '=');
    if (eq && kv_get(&env, s->args.v[i], (size_t)(eq - s->args.v[i])) == NULL)
      strv_push(&env, s->args.v[i]);
  }
  if (kv_get(&env, "HOME", 4) == NULL && r.home)
    kv_set(&env, "HOME", r.home);
  d_proxy_env(d, &env);
  for (size_t i = 0; i < r.env.n; i++) { /* secret env= */
    const char *eq = strchr(r.env.v[i], '=');
    char *k = xstrndup(r.env.v[i], (size_t)(eq - r.env.v[i]));
    kv_set(&env, k, eq + 1);
    free(k);
  }
  /* Host files. */
  struct buf resolv = BUF_INIT, hosts = BUF_INIT;
  if (rc == 0) {
    buf_printf(&resolv, "%s/resolv.conf", r.rundir);
    buf_printf(&hosts, "%s/hosts", r.rundir);
    if (d_copy_file("/etc/resolv.conf", resolv.data, err) < 0) {
      err_clear(err);
      FILE *f = fopen(resolv.data, "w");
      if (f)
        fclose(f);
    }
    if (d_copy_file("/etc/hosts", hosts.data, err) < 0) {
      err_clear(err);
      FILE *f = fopen(hosts.data, "w");
      if (f) {
        fputs("127.0.0.1\tlocalhost\n::1\tlocalhost\n", f);
        fclose(f);
      }
    }
    (void)chmod(resolv.data, 0644);
    (void)chmod(hosts.data, 0644);
  }
  const char **argv = xcalloc(r.argv.n + 1, sizeof(char *));
  for (size_t i = 0; i < r.argv.n; i++)
    argv[i] = r.argv.v[i];
  const char **envp = xcalloc(env.n + 1, sizeof(char *));
  for (size_t i = 0; i < env.n; i++)
    envp[i] = env.v[i];
  const char *wd =
      json_object_get_string(json_object_object_get(c, "WorkingDir"));
  struct exec_result res;
  memset(&res, 0, sizeof(res));
  if (rc == 0) {
    x.lowers = (const char *const *)r.lowers;
    x.nlowers = r.nlowers;
    x.rundir = r.rundir;
    x.argv = argv;
    x.envp = envp;
    x.cwd = wd && *wd ? wd : "/";
    x.groups = groups;
    x.ngroups = ngroups;
    x.hostname = "buildkitsandbox";
    x.network_none = net_none;
    x.resolv_conf = resolv.data;
    x.hosts = hosts.data;
    x.mounts = r.mounts;
    x.nmounts = r.nmounts;
    if (geteuid() != 0) {
      x.userns = true;
      (void)exec_rootless_maps(&x);
    }
    d->runs++;
    rc = exec_run(&x, d->loop, d->cancel, d_run_line, d, &res, err);
  }
  /* Names the instruction, its line and the exit code. */
  if (rc == 0 && res.exit_code != 0) {
    struct buf shown = BUF_INIT;
    for (size_t i = 0; i < r.argv.n; i++)
      buf_printf(&shown, "%s%s", i ? " " : "", r.argv.v[i]);
    rc = err_set_at(err, ERR_INVALID, in->start_line, 1,
                    "RUN at line %u: process \"%.200s\" did not complete "
                    "successfully: exit code: %d",
                    in->start_line, shown.data ? shown.data : "",
                    res.exit_code);
    buf_cleanup(&shown);
  }
  /* The layer: the upper directory, as it is. */
  if (rc == 0) {
    struct layer_list list;
    layer_list_init(&list);
    for (size_t i = 0; i < res.created.n; i++)
      strv_push(&r.skip, res.created.v[i]);
    struct layer_idmap um[EXEC_MAX_IDMAP], gm[EXEC_MAX_IDMAP];
    for (size_t i = 0; i < x.nuidmap; i++)
      um[i] = (struct layer_idmap){x.uidmap[i].inside, x.uidmap[i].outside,
                                   x.uidmap[i].count};
    for (size_t i = 0; i < x.ngidmap; i++)
      gm[i] = (struct layer_idmap){x.gidmap[i].inside, x.gidmap[i].outside,
                                   x.gidmap[i].count};
    struct layer_upper_opts uo = {.uidmap = um,
                                  .gidmap = gm,
                                  .nuidmap = x.userns ? x.nuidmap : 0,
                                  .ngidmap = x.userns ? x.ngidmap : 0,
                                  .skip = (const char *const *)r.skip.v,
                                  .nskip = r.skip.n,
                                  .lowers = (const char *const *)r.lowers,
                                  .nlowers = r.nlowers,
                                  .cancel = d->cancel};
    struct buf up = BUF_INIT;
    buf_printf(&up, "%s/upper", r.rundir);
    uint64_t skipped = 0;
    rc = layer_diff_upper(up.data, &uo, &list, &skipped, err);
    if (skipped)
      d_log(d, "%llu device nodes or sockets left out of the layer",
            (unsigned long long)skipped);
    if (rc == 0) {
      /* History as BuildKit writes it: ARGs in scope, then the command. */
      struct buf by = BUF_INIT;
      buf_puts(&by, "RUN ");
      if (s->args.n) {
        buf_printf(&by, "|%zu", s->args.n);
        for (size_t i = 0; i < s->args.n; i++)
          buf_printf(&by, " %s", s->args.v[i]);
        buf_putc(&by, ' ');
      }
      for (size_t i = 0; i < r.argv.n; i++)
        buf_printf(&by, "%s%s", i ? " " : "", r.argv.v[i]);
      buf_puts(&by, " # buildkit");
      /* The previous RUN's layer has had this one's run to pack. */
      rc = d_join(d, err);
      if (rc == 0 && (x.userns || !d_pack_async(d, s, &list, by.data,
                                                &r.rundir, up.data))) {
        rc = d_commit_layer(d, s, &list, by.data, err);
        if (rc == 0 && !x.userns)
          d_adopt_upper(d, s, up.data, &list);
      }
      buf_cleanup(&by);
    }
    buf_cleanup(&up);
    layer_list_cleanup(&list);
  }
  exec_result_cleanup(&res);
  free(argv);
  free(envp);
  for (size_t i = 0; i < env.n; i++)
    memset(env.v[i], 0, strlen(env.v[i])); /* secret env= values */
  strv_cleanup(&env);
  buf_cleanup(&resolv);
  buf_cleanup(&hosts);
  d_runctx_cleanup(d, &r);
  return rc;
}

/* --- the build cache -------------------------------------------------- */

/* Restores a stage's state from a cache entry. */
static void d_cache_restore(struct stage *s, json_object *entry) {
  json_object *cfg = json_object_object_get(entry, "config");
  json_object *layers = json_object_object_get(entry, "layers");
  json_object_put(s->cfg);
  s->cfg = json_clone(cfg);
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
  if (s->applied > n)
    s->applied = n; /* cannot happen with a sound chain; stay safe */
}

static json_object *d_cache_entry(const struct stage *s) {
  json_object *e = json_object_new_object();
  json_object_object_add(e, "config", json_clone(s->cfg));
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
      qsort(names.v, names.n, sizeof(char *), strv_cmp);
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
  const char *fromv = d_flag(in, "from");
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
      copy_glob_walk(d->ctx.root, "", clean, &d->ctx.ignore, &matches, 0);
      if (matches.n > 1)
        qsort(matches.v, matches.n, sizeof(char *), strv_cmp);
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
static int d_key(struct dctx *d, struct stage *s, const struct df_instr *in,
                 char out[DIGEST_HEX_LEN + 1], bool *cacheable,
                 struct err *err) {
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
  cfg_env(s->cfg, &env);
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
static int d_instr(struct dctx *d, struct stage *s, unsigned idx,
                   const struct df_instr *in, bool trigger, struct err *err) {
  char key[DIGEST_HEX_LEN + 1];
  bool cacheable = true;
  int rc = d_key(d, s, in, key, &cacheable, err);
  if (rc < 0)
    return rc;
  bool cached_kind = in->kind == DF_RUN || in->kind == DF_COPY ||
                     in->kind == DF_ADD || in->kind == DF_WORKDIR;
  /* COPY, ADD and WORKDIR look at the stage's files through its lower
   * directories, named by digest. */
  if (cached_kind && in->kind != DF_RUN && (rc = d_join(d, err)) < 0)
    return rc;
  if (cached_kind && cacheable && !d->req->no_cache) {
    json_object *entry = NULL;
    rc = cache_get(d->store, key, &entry, err);
    if (rc == 0 && (rc = d_join(d, err)) < 0) {
      json_object_put(entry);
      return rc;
    }
    if (rc == 0) {
      d_cache_restore(s, entry);
      json_object_put(entry);
      memcpy(s->key, key, sizeof(s->key));
      d_log(d, "CACHED");
      return 0;
    }
    err_clear(err);
  }
  rc = d_instr_exec(d, s, idx, in, trigger, err);
  if (rc < 0)
    return rc;
  memcpy(s->key, key, sizeof(s->key));
  if (cached_kind && cacheable) {
    json_object *entry = d_cache_entry(s);
    struct d_pending *p = &d->pending;
    if (d->has_pending && p->s == s && p->layer + 1 == s->nlayers &&
        p->cache_entry == NULL) {
      /* Written when the layer's digest is known. */
      p->cache_entry = entry;
      memcpy(p->key, key, sizeof(p->key));
      return 0;
    }
    struct err e2;
    if (cache_put(d->store, key, entry, &e2) < 0)
      d_log(d, "build cache: %s", e2.msg);
    json_object_put(entry);
  }
  return 0;
}

/* Marks the stages `idx` needs (FROM <stage>, COPY --from). */
static void d_mark(struct dctx *d, size_t idx, unsigned depth) {
  if (depth > 256 || d->st[idx].needed)
    return;
  d->st[idx].needed = true;
  const struct df_stage *st = &d->df->stages[idx];
  for (size_t k = 0; k < st->ninstrs; k++) {
    const struct df_instr *in = &d->df->instrs[st->from_instr + k];
    const char *ref = NULL;
    char *exp = NULL;
    if (in->kind == DF_FROM && in->nargs >= 1)
      ref = in->args[0].value;
    else if (in->kind == DF_COPY || in->kind == DF_ADD)
      ref = d_flag(in, "from");
    if (ref == NULL)
      continue;
    struct err e;
    if (d_expand(d, NULL, ref, strlen(ref), &exp, &e) == 0) {
      int j = d_stage_index(d, exp);
      bool by_name = false;
      for (size_t i = 0; i < idx && !by_name; i++)
        by_name = d->df->stages[i].name &&
                  strcasecmp(d->df->stages[i].name, exp) == 0;
      if (j >= 0 && (size_t)j < idx && (by_name || in->kind != DF_FROM))
        d_mark(d, (size_t)j, depth + 1);
    }
    free(exp);
  }
}

static unsigned d_count_steps(struct dctx *d) {
  unsigned n = 0;
  for (size_t i = 0; i < d->df->nstages; i++)
    if (d->st[i].needed)
      n += (unsigned)d->df->stages[i].ninstrs;
  return n;
}

static int d_run_stage(struct dctx *d, size_t idx, struct err *err) {
  const struct df_stage *ds = &d->df->stages[idx];
  struct stage *s = &d->st[idx];
  int rc = 0;
  for (size_t k = 0; rc == 0 && k < ds->ninstrs; k++) {
    if (d_cancelled(d))
      return err_set(err, ERR_CANCELLED, "cancelled");
    const struct df_instr *in = &d->df->instrs[ds->from_instr + k];
    d->step++;
    if (d->sink && d->sink->step) {
      struct buf t = BUF_INIT;
      buf_printf(&t, "[%s%zu/%zu] %s", ds->name ? ds->name : "stage-", k + 1,
                 ds->ninstrs, in->original);
      if (ds->name == NULL) {
        buf_reset(&t);
        buf_printf(&t, "[stage-%zu %zu/%zu] %s", idx, k + 1, ds->ninstrs,
                   in->original);
      } else {
        buf_reset(&t);
        buf_printf(&t, "[%s %zu/%zu] %s", ds->name, k + 1, ds->ninstrs,
                   in->original);
      }
      d->sink->step(d->sink->ctx, d->step, d->nsteps, in->start_line, t.data);
      buf_cleanup(&t);
    }
    d->cur_line = in->start_line;
    double t0 = d_seconds();
    if (k == 0)
      rc = d_from(d, s, (unsigned)idx, in, err);
    else
      rc = d_instr(d, s, (unsigned)idx, in, false, err);
    double took = d_seconds() - t0;
    if (rc == 0 && took >= 0.05)
      d_log(d, "DONE %.1fs", took);
    if (rc < 0 && err && err->line == 0)
      err->line = in->start_line;
  }
  /* The stage's layers are complete before anything else reads them. */
  if (rc == 0) {
    rc = d_join(d, err);
  } else {
    struct err e2;
    (void)d_join(d, &e2);
  }
  s->done = rc == 0;
  return rc;
}

/* Writes config + manifest for a stage; tags it. */
static int d_commit_image(struct dctx *d, struct stage *s,
                          char digest_out[DIGEST_STR_LEN], const char **mt,
                          uint64_t *msize, struct err *err) {
  bool docker = d->req->format == BUILD_FORMAT_DOCKER;
  if (!json_object_object_get_ex(s->cfg, "created", NULL)) {
    char *now = d_now(d);
    json_object_object_add(s->cfg, "created", json_object_new_string(now));
    free(now);
  } else {
    char *now = d_now(d);
    json_object_object_add(s->cfg, "created", json_object_new_string(now));
    free(now);
  }
  const char *cfg_txt = json_object_to_json_string_ext(
      s->cfg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  char cdigest[DIGEST_STR_LEN];
  size_t clen = strlen(cfg_txt);
  int rc = store_blob_put(d->store, cfg_txt, clen, cdigest, err);
  if (rc < 0)
    return rc;
  json_object *m = json_object_new_object();
  json_object_object_add(m, "schemaVersion", json_object_new_int(2));
  *mt = docker ? MT_DOCKER_MANIFEST : MT_OCI_MANIFEST;
  json_object_object_add(m, "mediaType", json_object_new_string(*mt));
  json_object *cd = json_object_new_object();
  json_object_object_add(
      cd, "mediaType",
      json_object_new_string(docker ? MT_DOCKER_CONFIG : MT_OCI_CONFIG));
  json_object_object_add(cd, "digest", json_object_new_string(cdigest));
  json_object_object_add(cd, "size", json_object_new_int64((int64_t)clen));
  json_object_object_add(m, "config", cd);
  json_object *ls = json_object_new_array();
  for (size_t i = 0; i < s->nlayers; i++) {
    const char *lmt = s->layers[i].media_type;
    /* Same bytes, the other format's name. */
    if (docker && strcmp(lmt, MT_OCI_LAYER_GZIP) == 0)
      lmt = MT_DOCKER_LAYER_GZIP;
    else if (docker && strcmp(lmt, MT_OCI_LAYER) == 0)
      lmt = MT_DOCKER_LAYER;
    else if (!docker && strcmp(lmt, MT_DOCKER_LAYER_GZIP) == 0)
      lmt = MT_OCI_LAYER_GZIP;
    else if (!docker && strcmp(lmt, MT_DOCKER_LAYER) == 0)
      lmt = MT_OCI_LAYER;
    json_object *l = json_object_new_object();
    json_object_object_add(l, "mediaType", json_object_new_string(lmt));
    json_object_object_add(l, "digest",
                           json_object_new_string(s->layers[i].digest));
    int64_t sz = store_blob_size(d->store, s->layers[i].digest);
    json_object_object_add(l, "size", json_object_new_int64(sz));
    json_object_array_add(ls, l);
  }
  json_object_object_add(m, "layers", ls);
  const char *mtxt = json_object_to_json_string_ext(
      m, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  *msize = strlen(mtxt);
  rc = store_blob_put(d->store, mtxt, *msize, digest_out, err);
  json_object_put(m);
  return rc;
}

int dispatch_run(const struct build_request *req, uv_loop_t *loop,
                 const atomic_bool *cancel, const struct dispatch_sink *sink,
                 char digest_out[72], struct err *err) {
  struct dctx dd;
  struct dctx *d = &dd;
  memset(d, 0, sizeof(*d));
  d->req = req;
  d->loop = loop;
  d->cancel = cancel;
  d->sink = sink;
  digest_out[0] = '\0';
  const char *sde = getenv("SOURCE_DATE_EPOCH");
  unsigned long sv;
  if (sde && d_numeric(sde, &sv)) {
    d->have_epoch = true;
    d->epoch = (int64_t)sv;
  }
  int rc = image_platform_parse(req->platform, &d->plat, err);
  if (rc < 0)
    return rc;
  /* The Dockerfile. */
  struct buf dfpath = BUF_INIT;
  if (req->dockerfile)
    buf_puts(&dfpath, req->dockerfile);
  else
    buf_printf(&dfpath, "%s/Dockerfile", req->context_dir);
  char *text = NULL;
  size_t tlen = 0;
  if (req->dockerfile_text) {
    text = xstrndup(req->dockerfile_text, req->dockerfile_len);
    tlen = req->dockerfile_len;
  } else {
    FILE *f = fopen(dfpath.data, "rb");
    if (f == NULL) {
      rc = err_set(err, ERR_NOTFOUND, "%s: %s", dfpath.data, strerror(errno));
      buf_cleanup(&dfpath);
      return rc;
    }
    struct buf b = BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
      if (b.len + n > DW_MAX_DOCKERFILE_BYTES) {
        rc = err_set(err, ERR_TOOBIG, "%s: too large", dfpath.data);
        break;
      }
      buf_append(&b, chunk, n);
    }
    fclose(f);
    tlen = b.len;
    text = buf_take(&b);
    if (rc < 0) {
      free(text);
      buf_cleanup(&dfpath);
      return rc;
    }
  }
  d->df = dockerfile_parse(text, tlen, NULL);
  free(text);
  d->escape = d->df->escape;
  const struct df_problem *p = dockerfile_first_error(d->df);
  if (p) {
    rc = err_set_at(err, ERR_SYNTAX, p->range.start.row + 1,
                    p->range.start.col + 1, "%s:%u: %s", dfpath.data,
                    p->range.start.row + 1, p->message);
    goto out;
  }
  rc = context_open(req->context_dir,
                    req->dockerfile_text ? NULL : dfpath.data, &d->ctx, err);
  if (rc < 0)
    goto out;
  for (size_t i = 0; i < req->nbuild_args; i++) {
    const char *a = req->build_args[i];
    const char *eq = strchr(a, '=');
    if (eq) {
      char *k = xstrndup(a, (size_t)(eq - a));
      kv_set(&d->build_args, k, eq + 1);
      free(k);
    } else if (getenv(a)) {
      kv_set(&d->build_args, a, getenv(a));
    }
  }
  /* Global ARGs, for FROM. */
  for (size_t i = 0; rc == 0 && i < d->df->nglobal; i++)
    if (d->df->instrs[i].kind == DF_ARG)
      rc = d_arg(d, NULL, &d->df->instrs[i], &d->meta, err);
  if (rc < 0)
    goto out;
  rc = store_open(req->root, &d->store, err);
  if (rc < 0)
    goto out;
  rc = store_lock(d->store, false, err);
  if (rc < 0)
    goto out;
  struct registry_opts ro = {req->insecure, req->ninsecure, d_reg_log, d};
  rc = registry_new(loop, d->store, &ro, cancel, &d->reg, err);
  if (rc < 0)
    goto out;
  d->st = xcalloc(d->df->nstages, sizeof(*d->st));
  size_t target = d->df->nstages - 1;
  if (req->target && *req->target) {
    bool found = false;
    for (size_t i = 0; i < d->df->nstages && !found; i++)
      if (d->df->stages[i].name &&
          strcasecmp(d->df->stages[i].name, req->target) == 0) {
        target = i;
        found = true;
      }
    if (!found) {
      rc = err_set(err, ERR_NOTFOUND,
                   "target stage \"%s\" could not be "
                   "found",
                   req->target);
      goto out;
    }
  }
  d_mark(d, target, 0);
  d->nsteps = d_count_steps(d);
  for (size_t i = 0; i <= target && rc == 0; i++) {
    if (!d->st[i].needed) {
      d_log(d, "skipping stage %zu%s%s (not needed for the target)", i,
            d->df->stages[i].name ? " " : "",
            d->df->stages[i].name ? d->df->stages[i].name : "");
      continue;
    }
    rc = d_run_stage(d, i, err);
  }
  if (rc < 0)
    goto out;
  char digest[DIGEST_STR_LEN];
  const char *mt = NULL;
  uint64_t msize = 0;
  rc = d_commit_image(d, &d->st[target], digest, &mt, &msize, err);
  if (rc < 0)
    goto out;
  char *first_name = NULL;
  for (size_t i = 0; rc == 0 && i < req->ntags; i++) {
    struct ref r;
    rc = ref_parse(req->tags[i], &r, err);
    if (rc < 0)
      break;
    char *name = ref_string(&r);
    ref_cleanup(&r);
    rc = store_tag_set(d->store, name, digest, mt, msize, err);
    if (rc == 0)
      d_log(d, "tagged %s", name);
    if (first_name == NULL)
      first_name = name;
    else
      free(name);
  }
  if (rc == 0 && req->output) {
    struct output_spec o;
    rc = output_parse(req->output, &o, err);
    if (rc == 0) {
      rc = output_write(d->store, &o, digest, mt, msize, first_name, err);
      if (rc == 0)
        d_log(d, "exported %s to %s", o.type, o.dest);
      output_spec_cleanup(&o);
    }
  }
  free(first_name);
  if (rc == 0)
    snprintf(digest_out, 72, "%s", digest);
out:
  if (d->has_pending) {
    struct err e2;
    (void)d_join(d, &e2);
  }
  if (d->st) {
    for (size_t i = 0; i < d->df->nstages; i++)
      stage_cleanup(d, &d->st[i]);
    free(d->st);
  }
  registry_free(d->reg);
  store_free(d->store);
  context_cleanup(&d->ctx);
  strv_cleanup(&d->meta);
  strv_cleanup(&d->build_args);
  dockerfile_free(d->df);
  buf_cleanup(&dfpath);
  return rc;
}
