/*
 * dispatch.c - runs a Dockerfile.
 *
 * DESIGN: the Dockerfile model gives stages and instructions.  Global ARGs
 * are read first (with --build-arg overrides) for the FROM lines; then the
 * stages the target needs (through FROM <stage> and COPY --from) run in
 * order; the others are skipped.  A stage's state is its image config (the
 * JSON document, edited in place) and its layers; what an instruction
 * needs to look at in its files (COPY's destination, WORKDIR, --chown by
 * name, COPY --from) it reads through the layers' extracted directories
 * as one merged view (stage_view).  COPY packs straight from the source
 * into a layer blob: files are read once.
 *
 * This file has the build's state, the config, the stages, the
 * instructions that only edit the config, and the step loop;
 * dispatch_copy.c has COPY and ADD, dispatch_run.c RUN (and the layer
 * packing in the background), dispatch_cache.c the cache keys and
 * entries.  dispatch_int.h is what they share.
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
#include "userdb.h"
#include "output.h"
#include "../model/refuse.h"
#include "../model/ref.h"
#include "registry.h"
#include "store.h"
#include "registry.h"
#include "store.h"
#include "dispatch_int.h"

void d_log(struct dctx *d, const char *fmt, ...) {
  struct buf b = BUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&b, fmt, ap);
  va_end(ap);
  if (d->sink && d->sink->log)
    d->sink->log(d->sink->ctx, b.data);
  buf_cleanup(&b);
}

void d_layer_event(struct dctx *d, unsigned line, const struct lref *l) {
  if (d->sink && d->sink->layer)
    d->sink->layer(d->sink->ctx, line, l->digest, l->size);
}

static void d_reg_log(void *ctx, const char *line) {
  d_log(ctx, "%s", line);
}

static void d_reg_progress(void *ctx, const char *verb, const char *digest,
                           uint64_t done, uint64_t total) {
  struct dctx *d = ctx;
  if (d->sink && d->sink->progress)
    d->sink->progress(d->sink->ctx, verb, digest, done, total);
}

double d_seconds(void) {
  return (double)uv_hrtime() / 1e9;
}

bool d_cancelled(struct dctx *d) {
  return d->cancel && atomic_load(d->cancel);
}

/* --- key/value vectors ------------------------------------------------ */

/* Value of name in "K=V" entries (last wins), or NULL. */
const char *d_kv_get(const struct strv *kv, const char *name, size_t n) {
  for (size_t i = kv->n; i-- > 0;) {
    const char *e = kv->v[i];
    if (strncmp(e, name, n) == 0 && e[n] == '=')
      return e + n + 1;
  }
  return NULL;
}

void d_kv_set(struct strv *kv, const char *name, const char *value) {
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

json_object *d_cfg_config(json_object *cfg) {
  json_object *c;
  if (!json_object_object_get_ex(cfg, "config", &c) ||
      !json_object_is_type(c, json_type_object)) {
    c = json_object_new_object();
    json_object_object_add(cfg, "config", c);
  }
  return c;
}

/* Env of a config as "K=V" (appended to out). */
void d_cfg_env(json_object *cfg, struct strv *out) {
  json_object *env;
  if (json_object_object_get_ex(d_cfg_config(cfg), "Env", &env) &&
      json_object_is_type(env, json_type_array))
    for (size_t i = 0; i < json_object_array_length(env); i++) {
      const char *s =
          json_object_get_string(json_object_array_get_idx(env, i));
      if (s && strchr(s, '='))
        strv_push(out, s);
    }
}

void d_cfg_set_env(json_object *cfg, const char *k, const char *v) {
  struct strv env = STRV_INIT;
  d_cfg_env(cfg, &env);
  d_kv_set(&env, k, v);
  json_object *arr = json_object_new_array();
  for (size_t i = 0; i < env.n; i++)
    json_object_array_add(arr, json_object_new_string(env.v[i]));
  json_object_object_add(d_cfg_config(cfg), "Env", arr);
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

void d_cfg_history(struct dctx *d, json_object *cfg, const char *created_by,
                   bool empty) {
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

static json_object *d_cfg_new_scratch(struct dctx *d) {
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

json_object *d_json_clone(json_object *o) {
  json_object *c = NULL;
  if (json_object_deep_copy(o, &c, NULL) != 0)
    return json_object_new_object();
  return c;
}

/* --- expansion -------------------------------------------------------- */

const char *d_lookup(void *ctx, const char *name, size_t len) {
  struct d_env *e = ctx;
  const char *v = d_kv_get(&e->env, name, len);
  if (v == NULL && e->args)
    v = d_kv_get(e->args, name, len);
  return v;
}

int d_expand(struct dctx *d, struct stage *s, const char *word, size_t len,
             char **out, struct err *err) {
  struct d_env e = {STRV_INIT, s ? &s->args : &d->meta};
  if (s)
    d_cfg_env(s->cfg, &e.env);
  struct expand_env env = {d_lookup, &e};
  struct expand_opts o = {d->escape, 0};
  int rc = expand_word(word, len, &o, &env, NULL, out, err);
  strv_cleanup(&e.env);
  return rc;
}

int d_expand_words(struct dctx *d, struct stage *s, const char *word,
                   size_t len, struct strv *out, struct err *err) {
  struct d_env e = {STRV_INIT, s ? &s->args : &d->meta};
  if (s)
    d_cfg_env(s->cfg, &e.env);
  struct expand_env env = {d_lookup, &e};
  struct expand_opts o = {d->escape, 0};
  int rc = expand_words(word, len, &o, &env, NULL, out, err);
  strv_cleanup(&e.env);
  return rc;
}

struct layer_pack_opts d_pack_opts(const struct dctx *d) {
  return (struct layer_pack_opts){
      .compression =
          d->req->compression == BUILD_ZSTD ? LAYER_ZSTD : LAYER_GZIP,
      .clamp = d->have_epoch,
      .epoch = d->epoch,
      .cancel = d->cancel,
  };
}

char *d_layer_media_type(const struct dctx *d,
                         const struct layer_pack_opts *o) {
  bool docker = d->req->format == BUILD_FORMAT_DOCKER;
  return (char *)(o->compression == LAYER_ZSTD ? MT_OCI_LAYER_ZSTD
                  : docker                     ? MT_DOCKER_LAYER_GZIP
                                               : MT_OCI_LAYER_GZIP);
}

int d_commit_layer(struct dctx *d, struct stage *s, struct layer_list *list,
                   const char *created_by, struct err *err) {
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
  d_stage_add_layer(s, &l);
  d_cfg_history(d, s->cfg, created_by, false);
  d_log(d, "layer %.19s of step #%u: %zu entries, %llu bytes, packed in %.1fs",
        li.digest, d->step, list->n, (unsigned long long)li.size,
        d_seconds() - t0);
  d_layer_event(d, d->cur_line, &l);
  return 0;
}

static int d_instr(struct dctx *d, struct stage *s, unsigned idx,
                   const struct df_instr *in, bool trigger, struct err *err);

/* Runs the base image's ONBUILD triggers, then clears them. */
static int d_onbuild(struct dctx *d, struct stage *s, unsigned idx,
                     struct err *err) {
  json_object *c = d_cfg_config(s->cfg), *ob;
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
    struct buf fm = BUF_INIT;
    if (p || tdf->ninstrs != 1)
      rc = err_set(err, ERR_SYNTAX, "ONBUILD trigger \"%.100s\": %s", t,
                   p ? p->message : "not one instruction");
    else if (df_flags_problem(&tdf->instrs[0], &fm, NULL))
      rc = err_set(err, ERR_SYNTAX, "ONBUILD trigger \"%.100s\": %s", t,
                   fm.data);
    else
      rc = d_instr(d, s, idx, &tdf->instrs[0], true, err);
    buf_cleanup(&fm);
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
  const char *pf = df_instr_flag(in, "platform");
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
    s->cfg = d_cfg_new_scratch(d);
    char k[DIGEST_STR_LEN];
    struct buf kb = BUF_INIT;
    buf_printf(&kb, "scratch\n%s/%s/%s", plat.os, plat.arch, plat.variant);
    digest_buf(kb.data, kb.len, k);
    buf_cleanup(&kb);
    memcpy(s->key, digest_hex(k), DIGEST_HEX_LEN + 1);
  } else if (named && sidx >= 0 && (unsigned)sidx < idx) {
    struct stage *b = &d->st[sidx];
    memcpy(s->key, b->key, sizeof(s->key));
    s->cfg = d_json_clone(b->cfg);
    json_object *rootfs;
    if (json_object_object_get_ex(s->cfg, "rootfs", &rootfs))
      json_object_object_add(rootfs, "diff_ids", json_object_new_array());
    for (size_t i = 0; i < b->nlayers; i++)
      d_stage_add_layer(s, &b->layers[i]);
    /* A stage used as a base runs its ONBUILD triggers too
     * (dockerfile2llb/convert.go: initOnBuildTriggers gets the base
     * stage's OnbuildCommands). */
    rc = d_onbuild(d, s, idx, err);
  } else {
    rc = d_load_image(d, base, &plat, s, err);
    if (rc == 0)
      rc = d_onbuild(d, s, idx, err);
  }
  free(base);
  if (rc == 0) {
    /* BuildKit gives every Linux image a PATH. */
    struct strv env = STRV_INIT;
    d_cfg_env(s->cfg, &env);
    if (d_kv_get(&env, "PATH", 4) == NULL)
      d_cfg_set_env(s->cfg, "PATH", DEFAULT_PATH + 5);
    strv_cleanup(&env);
  }
  return rc;
}

static int d_instr_exec(struct dctx *d, struct stage *s, unsigned idx,
                        const struct df_instr *in, bool trigger,
                        struct err *err) {
  json_object *c = d_cfg_config(s->cfg);
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
    d_cfg_history(d, s->cfg, in->original, true);
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
    /* dispatchStopSignal: signal.ParseSignal (model/refuse.h) */
    struct buf m = BUF_INIT;
    if (in->kind == DF_STOPSIGNAL && refuse_signal(v, &m)) {
      rc = err_set(err, ERR_SYNTAX, "%s", m.data);
      buf_cleanup(&m);
      free(v);
      return rc;
    }
    json_object_object_add(c, in->kind == DF_USER ? "User" : "StopSignal",
                           json_object_new_string(v));
    free(v);
    d_cfg_history(d, s->cfg, in->original, true);
    return 0;
  }
  case DF_EXPOSE:
    return d_map_words(d, s, in, "ExposedPorts", true, err);
  case DF_VOLUME:
    return d_map_words(d, s, in, "Volumes", false, err);
  case DF_CMD:
    json_object_object_add(c, "Cmd", d_command(s, in));
    s->cmd_set = true;
    d_cfg_history(d, s->cfg, in->original, true);
    return 0;
  case DF_ENTRYPOINT:
    json_object_object_add(c, "Entrypoint", d_command(s, in));
    if (!s->cmd_set)
      json_object_object_add(c, "Cmd", NULL);
    d_cfg_history(d, s->cfg, in->original, true);
    return 0;
  case DF_SHELL:
    if (in->form != DF_FORM_JSON || in->nargs == 0)
      return err_set(err, ERR_SYNTAX,
                     "SHELL requires the arguments to be "
                     "in JSON form");
    json_object_object_add(c, "Shell", d_command(s, in));
    d_cfg_history(d, s->cfg, in->original, true);
    return 0;
  case DF_HEALTHCHECK: {
    int rc = d_healthcheck(s, in, err);
    if (rc == 0)
      d_cfg_history(d, s->cfg, in->original, true);
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
    d_cfg_history(d, s->cfg, in->original, true);
    return 0;
  }
  case DF_FROM:
  case DF_UNKNOWN:
  case DF_KIND_COUNT:
    break;
  }
  return err_set(err, ERR_SYNTAX, "unknown instruction: %s", in->keyword);
}

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
      size_t had = s->nlayers;
      d_cache_restore(s, entry);
      json_object_put(entry);
      memcpy(s->key, key, sizeof(s->key));
      d->step_cached = true;
      if (s->nlayers > had)
        d_layer_event(d, in->start_line, &s->layers[s->nlayers - 1]);
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

static void d_mark(struct dctx *d, size_t idx, unsigned depth);

/* Marks the stage `ref` names when it is an earlier one (FROM only by
 * name: a number there is an image tag). */
static void d_mark_ref(struct dctx *d, size_t idx, const struct df_instr *in,
                       const char *ref, unsigned depth) {
  char *exp = NULL;
  struct err e;
  if (d_expand(d, NULL, ref, strlen(ref), &exp, &e) == 0) {
    int j = d_stage_index(d, exp);
    bool by_name = false;
    for (size_t i = 0; i < idx && !by_name; i++)
      by_name =
          d->df->stages[i].name && strcasecmp(d->df->stages[i].name, exp) == 0;
    if (j >= 0 && (size_t)j < idx && (by_name || in->kind != DF_FROM))
      d_mark(d, (size_t)j, depth + 1);
  }
  free(exp);
}

/* Marks the stages `idx` needs (FROM <stage>, COPY --from, RUN
 * --mount=from=). */
static void d_mark(struct dctx *d, size_t idx, unsigned depth) {
  if (depth > 256 || d->st[idx].needed)
    return;
  d->st[idx].needed = true;
  const struct df_stage *st = &d->df->stages[idx];
  for (size_t k = 0; k < st->ninstrs; k++) {
    const struct df_instr *in = &d->df->instrs[st->from_instr + k];
    if (in->kind == DF_FROM && in->nargs >= 1) {
      d_mark_ref(d, idx, in, in->args[0].value, depth);
    } else if (in->kind == DF_COPY || in->kind == DF_ADD) {
      const char *ref = df_instr_flag(in, "from");
      if (ref)
        d_mark_ref(d, idx, in, ref, depth);
    } else if (in->kind == DF_RUN) {
      for (size_t f = 0; f < in->nflags; f++) {
        struct d_mnt m;
        struct err e;
        if (strcmp(in->flags[f].name, "mount") != 0 || !in->flags[f].value ||
            d_mnt_parse(in->flags[f].value, &m, &e) < 0)
          continue;
        if (m.from)
          d_mark_ref(d, idx, in, m.from, depth);
        d_mnt_cleanup(&m);
      }
    }
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
    d->step_cached = false;
    double t0 = d_seconds();
    if (k == 0)
      rc = d_from(d, s, (unsigned)idx, in, err);
    else
      rc = d_instr(d, s, (unsigned)idx, in, false, err);
    double took = d_seconds() - t0;
    if (rc == 0 && took >= 0.05)
      d_log(d, "DONE %.1fs", took);
    if (rc == 0 && d->sink && d->sink->step_done)
      d->sink->step_done(d->sink->ctx, d->step, d->nsteps, in->start_line,
                         d->step_cached, d->step_cached ? 0 : took);
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

/* --build-arg K=V, and K alone from the request's environment. */
static void d_build_args(struct dctx *d) {
  const struct build_request *req = d->req;
  for (size_t i = 0; i < req->nbuild_args; i++) {
    const char *a = req->build_args[i];
    const char *eq = strchr(a, '=');
    if (eq) {
      char *k = xstrndup(a, (size_t)(eq - a));
      d_kv_set(&d->build_args, k, eq + 1);
      free(k);
    } else if (strv_getenv(req->env, req->nenv, a)) {
      d_kv_set(&d->build_args, a, strv_getenv(req->env, req->nenv, a));
    }
  }
}

/* The stage --target names (by name, or an unnamed one by its index: the
 * editor's "Build stage" lens); the last one without. */
static int d_target(const struct dctx *d, size_t *target, struct err *err) {
  const char *t = d->req->target;
  *target = d->df->nstages - 1;
  if (t == NULL || *t == '\0')
    return 0;
  for (size_t i = 0; i < d->df->nstages; i++)
    if (d->df->stages[i].name && strcasecmp(d->df->stages[i].name, t) == 0) {
      *target = i;
      return 0;
    }
  char *end = NULL;
  unsigned long ix = strtoul(t, &end, 10);
  if (*end == '\0' && t[0] >= '0' && t[0] <= '9' && ix < d->df->nstages) {
    *target = (size_t)ix;
    return 0;
  }
  return err_set(err, ERR_NOTFOUND, "target stage \"%s\" could not be found",
                 t);
}

/* The built image's tags, then its export (--output). */
static int d_tag_and_export(struct dctx *d, const char *digest, const char *mt,
                            uint64_t msize, struct err *err) {
  const struct build_request *req = d->req;
  int rc = 0;
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
    if (rc == 0 && d->sink && d->sink->image)
      d->sink->image(d->sink->ctx, name, digest, false);
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
  return rc;
}

static void d_cleanup(struct dctx *d) {
  if (d->has_pending) {
    struct err e2;
    (void)d_join(d, &e2);
  }
  if (d->st) {
    for (size_t i = 0; i < d->df->nstages; i++)
      d_stage_cleanup(d, &d->st[i]);
    free(d->st);
  }
  registry_free(d->reg);
  store_free(d->store);
  context_cleanup(&d->ctx);
  strv_cleanup(&d->meta);
  strv_cleanup(&d->build_args);
  dockerfile_free(d->df);
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
  const char *sde = strv_getenv(req->env, req->nenv, "SOURCE_DATE_EPOCH");
  unsigned long sv;
  if (sde && d_numeric(sde, &sv)) {
    d->have_epoch = true;
    d->epoch = (int64_t)sv;
  }
  int rc = image_platform_parse(req->platform, &d->plat, err);
  if (rc < 0)
    return rc;
  struct buf dfpath = BUF_INIT;
  if (req->dockerfile)
    buf_puts(&dfpath, req->dockerfile);
  else
    buf_printf(&dfpath, "%s/Dockerfile", req->context_dir);
  rc = d_read_dockerfile(d, dfpath.data, err);
  if (rc == 0)
    rc = context_open(req->context_dir,
                      req->dockerfile_text ? NULL : dfpath.data, &d->ctx, err);
  if (rc == 0)
    d_build_args(d);
  /* Global ARGs, for FROM. */
  for (size_t i = 0; rc == 0 && i < d->df->nglobal; i++)
    if (d->df->instrs[i].kind == DF_ARG)
      rc = d_arg(d, NULL, &d->df->instrs[i], &d->meta, err);
  if (rc == 0)
    rc = store_open(req->root, &d->store, err);
  if (rc == 0)
    rc = store_lock(d->store, false, err);
  struct registry_opts ro = {req->insecure,  req->ninsecure, d_reg_log, d,
                             d_reg_progress, req->env,       req->nenv};
  if (rc == 0)
    rc = registry_new(loop, d->store, &ro, cancel, &d->reg, err);
  size_t target = 0;
  if (rc == 0)
    rc = d_target(d, &target, err);
  if (rc == 0) {
    d->st = xcalloc(d->df->nstages, sizeof(*d->st));
    d_mark(d, target, 0);
    d->nsteps = d_count_steps(d);
  }
  for (size_t i = 0; i <= target && rc == 0; i++) {
    if (!d->st[i].needed) {
      d_log(d, "skipping stage %zu%s%s (not needed for the target)", i,
            d->df->stages[i].name ? " " : "",
            d->df->stages[i].name ? d->df->stages[i].name : "");
      continue;
    }
    rc = d_run_stage(d, i, err);
  }
  char digest[DIGEST_STR_LEN];
  const char *mt = NULL;
  uint64_t msize = 0;
  if (rc == 0)
    rc = d_commit_image(d, &d->st[target], digest, &mt, &msize, err);
  if (rc == 0)
    rc = d_tag_and_export(d, digest, mt, msize, err);
  if (rc == 0)
    snprintf(digest_out, 72, "%s", digest);
  d_cleanup(d);
  buf_cleanup(&dfpath);
  return rc;
}
