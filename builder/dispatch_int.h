/*
 * dispatch_int.h - what the files of the dispatcher share (dispatch.c,
 * dispatch_copy.c, dispatch_run.c, dispatch_cache.c); nothing outside
 * builder/dispatch*.c includes it.  The build's state (struct dctx), a
 * stage's state (struct stage) and the helpers every instruction uses.
 */
#ifndef DW_DISPATCH_INT_H
#define DW_DISPATCH_INT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/buf.h"
#include "../common/ceilings.h"
#include "../model/dockerfile.h"
#include "../model/flags.h"
#include "context.h"
#include "digest.h"
#include "dispatch.h"
#include "exec.h"
#include "image.h"
#include "layer.h"
#include "layer_job.h"
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
  char **lowers; /* owned: extracted dirs of layers[0..nlowers): how every
                    step reads the stage's files (d_stage_view) */
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
  unsigned line;            /* the instruction's: layer event, packing error */
  char *rundir;             /* owned: the RUN's directory */
  char *upper;              /* owned: rundir/upper, already a lower */
  json_object *cache_entry; /* owned or NULL: the step's cache entry */
  char key[DIGEST_HEX_LEN + 1];
  unsigned step; /* the RUN's step: the log names it when joined later */
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
  bool step_cached;  /* the step running came from the build cache */
  unsigned nonce;    /* keys of steps that cannot be cached */
  unsigned runs;     /* RUN commands executed (not from the cache) */
  bool has_pending;
  struct d_pending pending;
};

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
  bool untar;        /* ADD <tar>: the tar's directories replace existing
                        ones' metadata, as moby's untar does */
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

/* What variable expansion looks names up in (d_lookup). */
struct d_env {
  struct strv env;         /* config Env */
  const struct strv *args; /* ARGs in scope */
};

/* dispatch.c: state, config, stages, the other instructions, the build */
/* Tells the sink a layer of the step at `line` is ready. */
void d_layer_event(struct dctx *d, unsigned line, const struct lref *l);

void d_log(struct dctx *d, const char *fmt, ...) DW_PRINTF(2, 3);
double d_seconds(void);
bool d_cancelled(struct dctx *d);
const char *d_kv_get(const struct strv *kv, const char *name, size_t n);
void d_kv_set(struct strv *kv, const char *name, const char *value);
json_object *d_cfg_config(json_object *cfg);
void d_cfg_env(json_object *cfg, struct strv *out);
void d_cfg_history(struct dctx *d, json_object *cfg, const char *created_by,
                   bool empty);
json_object *d_json_clone(json_object *o);
const char *d_lookup(void *ctx, const char *name, size_t len);
int d_expand(struct dctx *d, struct stage *s, const char *word, size_t len,
             char **out, struct err *err);
/* Expands and splits into words (BuildKit's ProcessWords), appended to
 * *out. */
int d_expand_words(struct dctx *d, struct stage *s, const char *word,
                   size_t len, struct strv *out, struct err *err);
void d_stage_cleanup(struct dctx *d, struct stage *s);
void d_stage_add_layer(struct stage *s, const struct lref *l);
int d_stage_view(struct dctx *d, struct stage *s, struct layer_view *v,
                 struct err *err);
int d_load_image(struct dctx *d, const char *name,
                 const struct image_platform *p, struct stage *s,
                 struct err *err);
bool d_numeric(const char *s, unsigned long *out);
int d_chown(struct dctx *d, struct stage *s, const char *spec, uid_t *uid,
            gid_t *gid, struct err *err);
int d_stage_index(struct dctx *d, const char *name);
void d_strip_tabs(struct buf *out, const char *s, size_t n);
int d_commit_layer(struct dctx *d, struct stage *s, struct layer_list *list,
                   const char *created_by, struct err *err);
struct layer_pack_opts d_pack_opts(const struct dctx *d);
char *d_layer_media_type(const struct dctx *d,
                         const struct layer_pack_opts *o);

/* dispatch_copy.c: COPY and ADD */
void d_copyop_cleanup(struct copyop *op);
void d_copyop_parents(struct copyop *op, const char *lpath, bool include_self);
void d_copy_glob_walk(const char *root, const char *rel, const char *pattern,
                      const struct match_rules *ignore, struct strv *out,
                      unsigned depth);
int d_strv_cmp(const void *a, const void *b);
int d_copy(struct dctx *d, struct stage *s, const struct df_instr *in,
           bool is_add, unsigned stage_idx, struct err *err);

/* A RUN --mount flag's keys (dispatch_run.c). */
struct d_mnt {
  char *type, *target, *source, *from, *id, *env, *mode, *uid, *gid;
  bool rw, required;
  unsigned long size;
};

/* dispatch_run.c: RUN */
int d_mnt_parse(const char *v, struct d_mnt *m, struct err *err);

/* One RUN while it is prepared and runs (dispatch_run.c, and its mounts
 * in dispatch_mount.c). */
struct d_runctx {
  struct strv argv, env, keep, skip;
  struct exec_mount mounts[DW_MAX_RUN_MOUNTS];
  const char **lowerlists[DW_MAX_RUN_MOUNTS]; /* owned: LAYERS mounts' */
  size_t nmounts;
  char **lowers;
  size_t nlowers;
  char *rundir;
  char *home;
  struct stage img; /* --mount from=<image> */
};

/* RUN --mount (dispatch_mount.c). */
int d_run_mounts(struct dctx *d, struct stage *s, unsigned idx,
                 const struct df_instr *in, struct d_runctx *r,
                 struct err *err);
/* The bytes of the build secret id (--secret), *found false when the
 * build has none by that id (dispatch_run.c). */
int d_secret_find(struct dctx *d, const char *id, struct buf *out, bool *found,
                  struct err *err);
void d_mnt_cleanup(struct d_mnt *m);
int d_run(struct dctx *d, struct stage *s, unsigned idx,
          const struct df_instr *in, struct err *err);
int d_join(struct dctx *d, struct err *err);

/* dispatch_cache.c: cache keys and entries */
void d_cache_restore(struct stage *s, json_object *entry);
json_object *d_cache_entry(const struct stage *s);
int d_key(struct dctx *d, struct stage *s, const struct df_instr *in,
          char out[DIGEST_HEX_LEN + 1], bool *cacheable, struct err *err);

/* The config instructions (dispatch_config.c). */
void d_cfg_set_env(json_object *cfg, const char *k, const char *v);
int d_workdir(struct dctx *d, struct stage *s, const struct df_instr *in,
              struct err *err);
int d_keyval(struct dctx *d, struct stage *s, const struct df_instr *in,
             bool label, struct err *err);
int d_arg(struct dctx *d, struct stage *s, const struct df_instr *in,
          struct strv *scope, struct err *err);
json_object *d_command(struct stage *s, const struct df_instr *in);
int d_healthcheck(struct stage *s, const struct df_instr *in, struct err *err);
int d_map_words(struct dctx *d, struct stage *s, const struct df_instr *in,
                const char *key, bool ports, struct err *err);

/* Reads the Dockerfile (the request's text, or the file at path) into
 * d->df and refuses what BuildKit would refuse before anything runs, in
 * its words (dispatch_read.c). */
int d_read_dockerfile(struct dctx *d, const char *path,
                      struct err *err) DW_WARN_UNUSED;

#endif
