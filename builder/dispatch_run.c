/*
 * dispatch_run.c - RUN: the command, its user, environment and --mounts,
 * the exec in namespaces, and its layer (packed in the background).
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
#include "../model/refuse.h"
#include "cache.h"
#include "context.h"
#include "exec.h"
#include "image.h"
#include "layer.h"
#include "layer_job.h"
#include "userdb.h"
#include "output.h"
#include "../model/ref.h"
#include "registry.h"
#include "store.h"
#include "registry.h"
#include "store.h"
#include "dispatch_int.h"

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

/* USER for RUN (userdb_exec_user), with the image's /etc/passwd and
 * /etc/group as the RUN's lower directories show them. */
static int d_run_user(const char *spec, char *const *dirs, size_t n,
                      struct userdb_exec *ux, struct err *err) {
  char *passwd = d_lower_file(dirs, n, "etc/passwd");
  char *group = d_lower_file(dirs, n, "etc/group");
  int rc = userdb_exec_user(passwd, group, spec, ux, err);
  free(passwd);
  free(group);
  return rc;
}

/* A secret given to the build: "id=x,src=path" or "id=x,env=VAR". */
int d_secret_find(struct dctx *d, const char *id, struct buf *out, bool *found,
                  struct err *err) {
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
        rc = buf_read_file(src, DW_MAX_SECRET_BYTES, out, err);
        if (rc == ERR_TOOBIG)
          rc = err_set(err, ERR_TOOBIG, "secret %s larger than %u bytes", id,
                       DW_MAX_SECRET_BYTES);
        else if (rc < 0) {
          char why[ERR_MSG_MAX];
          snprintf(why, sizeof(why), "%s", err ? err->msg : "");
          rc = err_set(err, ERR_NOTFOUND,
                       "secret %s: cannot read its source: %s", id, why);
        }
      } else {
        const char *v =
            strv_getenv(d->req->env, d->req->nenv, env ? env : sid);
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

static void d_runctx_cleanup(struct dctx *d, struct d_runctx *r) {
  for (size_t i = 0; i < DW_MAX_RUN_MOUNTS; i++)
    free(r->lowerlists[i]);
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
  d_stage_cleanup(d, &r->img);
}

/* The upper directory becomes the new layer's lower directory, so the
 * next step does not unpack what was just packed (owners under a user
 * namespace are host ids, so only without one).  An optimisation: when it
 * fails, the lower is extracted from the blob when first needed. */
static bool d_upper_to_lower(struct dctx *d, struct layer_list *list,
                             const char *upper) {
  layer_list_sort(list);
  struct layer_pack_opts o = d_pack_opts(d);
  struct err e;
  if (layer_upper_to_lower(upper, list, &o, &e) == 0)
    return true;
  d_log(d, "upper directory not reused: %s", e.msg);
  return false;
}

/* Names a reused upper directory as the lower directory of its layer. */
static void d_adopt_upper(struct dctx *d, const char *digest,
                          const char *upper) {
  struct err e;
  if (cache_adopt_lower(d->store, digest, upper, &e) < 0)
    d_log(d, "layer %.19s: upper directory not reused: %s", digest, e.msg);
}

/* Starts packing a RUN's layer (its sorted list) on a worker thread (see
 * layer_job.h) and adds it to the stage with its digests left blank until
 * d_join.  The upper directory, already made a lower (packing reads only
 * the entry list and file contents, which that leaves alone), is the next
 * RUN's lower at once.  False when it cannot: the caller packs in line. */
static bool d_pack_async(struct dctx *d, struct stage *s,
                         struct layer_list *list, const char *created_by,
                         char **rundir, const char *upper) {
  struct layer_pack_opts o = d_pack_opts(d);
  /* The step has finished: its layer is packed even when the build is
   * cancelled meanwhile, so the cache keeps it (a cancel then waits for
   * the packing at the join). */
  o.cancel = NULL;
  struct d_pending *p = &d->pending;
  size_t n = list->n;
  struct err e;
  if (layer_job_start(&p->job, list, &o, d->store, &e) < 0) {
    d_log(d, "packing in line: %s", e.msg);
    return false;
  }
  struct lref l;
  memset(&l, 0, sizeof(l));
  l.media_type = d_layer_media_type(d, &o);
  d_stage_add_layer(s, &l);
  d_cfg_history(d, s->cfg, created_by, false);
  p->s = s;
  p->layer = s->nlayers - 1;
  p->nentries = n;
  p->step = d->step;
  p->line = d->cur_line;
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
int d_join(struct dctx *d, struct err *err) {
  if (!d->has_pending)
    return 0;
  struct d_pending *p = &d->pending;
  d->has_pending = false;
  double t0 = d_seconds();
  int rc = layer_job_join(&p->job, err);
  if (rc < 0 && err)
    err->line = p->line; /* the RUN's error, whichever step waited */
  if (rc == 0) {
    struct lref *l = &p->s->layers[p->layer];
    memcpy(l->digest, p->job.info.digest, sizeof(l->digest));
    memcpy(l->diffid, p->job.info.diffid, sizeof(l->diffid));
    l->size = p->job.info.size;
    d_set_layer_ids(p->s->cfg, NULL, p->layer, l);
    /* Joined during a later step (or at the stage's end): the line names
     * the RUN it belongs to. */
    d_log(d,
          "layer %.19s of step #%u: %zu entries, %llu bytes, packed in %.1fs "
          "(%.1fs waited)",
          l->digest, p->step, p->nentries, (unsigned long long)l->size,
          p->job.seconds, d_seconds() - t0);
    d_layer_event(d, p->line, l);
    if (p->cache_entry) {
      d_set_layer_ids(json_object_object_get(p->cache_entry, "config"),
                      json_object_object_get(p->cache_entry, "layers"),
                      p->layer, l);
      struct err e2;
      if (cache_put(d->store, p->key, p->cache_entry, &e2) < 0)
        d_log(d, "build cache: %s", e2.msg);
    }
    d_adopt_upper(d, l->digest, p->upper);
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
    const char *v = d_kv_get(&d->build_args, names[i], n);
    if (v && d_kv_get(env, names[i], n) == NULL)
      d_kv_set(env, names[i], v);
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

/* RUN's own flags (--mount is d_run_mounts'): --network and --security,
 * what of them the builder supports. */
static int d_run_flags(const struct df_instr *in, bool *net_none,
                       struct err *err) {
  *net_none = false;
  for (size_t i = 0; i < in->nflags; i++) {
    const char *n = in->flags[i].name, *v = in->flags[i].value;
    struct buf why = BUF_INIT;
    if ((strcmp(n, "network") == 0 && refuse_network(v ? v : "", &why)) ||
        (strcmp(n, "security") == 0 && refuse_security(v ? v : "", &why))) {
      /* BuildKit's words, the analysis's too (model/refuse.h) */
      int rc = err_set(err, ERR_SYNTAX, "%s", why.data);
      buf_cleanup(&why);
      return rc;
    }
    if (strcmp(n, "network") == 0) {
      *net_none = v && strcmp(v, "none") == 0;
    } else if (strcmp(n, "security") == 0) {
      if (!v || strcmp(v, "sandbox") != 0)
        return err_set(err, ERR_UNSUPPORTED, "--security=%s is not supported",
                       v ? v : "");
    } else if (strcmp(n, "mount") != 0) {
      /* (BuildKit's parser takes it; d_check_flags let it through) */
      return err_set(err, ERR_UNSUPPORTED, "RUN --%s is not supported", n);
    }
  }
  return 0;
}

/* A RUN whose only heredoc is its whole command: the body is the script,
 * run by the shell, or directly when it has a #! line (bound at
 * /dev/pipes/NAME, as BuildKit does). */
static int d_run_heredoc_script(struct dctx *d, const struct df_heredoc *h,
                                struct d_runctx *r, struct err *err) {
  struct buf body = BUF_INIT;
  if (h->chomp)
    d_strip_tabs(&body, h->content, h->content_len);
  else
    buf_append(&body, h->content, h->content_len);
  int rc = 0;
  if (body.len > 2 && body.data[0] == '#' && body.data[1] == '!') {
    strv_cleanup(&r->argv);
    rc = store_tmpdir(d->store, "run", &r->rundir, err);
    struct buf p = BUF_INIT;
    if (rc == 0) {
      buf_printf(&p, "%s/script", r->rundir);
      FILE *f = fopen(p.data, "wb");
      if (f == NULL || fwrite(body.data, 1, body.len, f) != body.len)
        rc = err_set(err, ERR_IO, "write %s", p.data);
      if (f)
        fclose(f);
      (void)chmod(p.data, 0755);
    }
    if (rc == 0) {
      strv_push(&r->keep, p.data);
      r->mounts[r->nmounts].kind = EXEC_MOUNT_BIND;
      r->mounts[r->nmounts].source = r->keep.v[r->keep.n - 1];
      buf_reset(&p);
      buf_printf(&p, "/dev/pipes/%s", h->name);
      strv_push(&r->keep, p.data);
      r->mounts[r->nmounts].target = r->keep.v[r->keep.n - 1];
      r->nmounts++;
      strv_push(&r->argv, p.data);
    }
    buf_cleanup(&p);
  } else {
    strv_pushn(&r->argv, body.data ? body.data : "", body.len);
  }
  buf_cleanup(&body);
  return rc;
}

/* The command: the JSON form as it is; the shell form through SHELL (or
 * /bin/sh -c), heredocs as BuildKit's dispatchRun hands them over. */
static int d_run_argv(struct dctx *d, struct stage *s,
                      const struct df_instr *in, struct d_runctx *r,
                      struct err *err) {
  if (in->form == DF_FORM_JSON) {
    if (in->nargs == 0)
      return err_set(err, ERR_SYNTAX, "RUN needs a command");
    for (size_t i = 0; i < in->nargs; i++)
      strv_pushn(&r->argv, in->args[i].value, in->args[i].len);
    return 0;
  }
  json_object *sh;
  if (json_object_object_get_ex(d_cfg_config(s->cfg), "Shell", &sh) &&
      json_object_is_type(sh, json_type_array) &&
      json_object_array_length(sh) > 0) {
    for (size_t i = 0; i < json_object_array_length(sh); i++)
      strv_push(&r->argv,
                json_object_get_string(json_object_array_get_idx(sh, i)));
  } else {
    strv_push(&r->argv, "/bin/sh");
    strv_push(&r->argv, "-c");
  }
  const char *cmd = in->nargs ? in->args[0].value : "";
  if (in->nheredocs == 1 && d_heredoc_only(cmd, &in->heredocs[0]))
    return d_run_heredoc_script(d, &in->heredocs[0], r, err);
  if (in->nheredocs) {
    /* The shell reads the heredocs itself. */
    struct buf script = BUF_INIT;
    buf_puts(&script, cmd);
    for (size_t i = 0; i < in->nheredocs; i++) {
      buf_putc(&script, '\n');
      buf_append(&script, in->heredocs[i].content,
                 in->heredocs[i].content_len);
      buf_puts(&script, in->heredocs[i].name);
    }
    strv_pushn(&r->argv, script.data, script.len);
    buf_cleanup(&script);
    return 0;
  }
  strv_push(&r->argv, cmd);
  return 0;
}

/* The stage's layers as lower directories (extracted once per store; the
 * one still packing is its upper directory), and the RUN's directory. */
static int d_run_lowers(struct dctx *d, struct stage *s, struct d_runctx *r,
                        struct err *err) {
  int rc = 0;
  r->lowers = xcalloc(s->nlayers ? s->nlayers : 1, sizeof(char *));
  for (size_t i = 0; rc == 0 && i < s->nlayers; i++) {
    if (d->has_pending && d->pending.s == s && d->pending.layer == i)
      r->lowers[i] = xstrdup(d->pending.upper); /* still packing */
    else
      rc = cache_lower_dir(d->store, s->layers[i].digest, d->cancel,
                           &r->lowers[i], err);
    if (rc == 0)
      r->nlowers++;
  }
  if (rc == 0 && r->rundir == NULL)
    rc = store_tmpdir(d->store, "run", &r->rundir, err);
  if (rc == 0)
    (void)chmod(r->rundir, 0755);
  return rc;
}

/* The environment: ENV, then the ARGs ENV does not set, HOME, proxy
 * build args, secret env= values. */
static void d_run_env(struct dctx *d, struct stage *s,
                      const struct d_runctx *r, struct strv *env) {
  d_cfg_env(s->cfg, env);
  for (size_t i = 0; i < s->args.n; i++) {
    const char *eq = strchr(s->args.v[i], '=');
    if (eq && d_kv_get(env, s->args.v[i], (size_t)(eq - s->args.v[i])) == NULL)
      strv_push(env, s->args.v[i]);
  }
  if (d_kv_get(env, "HOME", 4) == NULL && r->home)
    d_kv_set(env, "HOME", r->home);
  d_proxy_env(d, env);
  for (size_t i = 0; i < r->env.n; i++) {
    const char *eq = strchr(r->env.v[i], '=');
    char *k = xstrndup(r->env.v[i], (size_t)(eq - r->env.v[i]));
    d_kv_set(env, k, eq + 1);
    free(k);
  }
}

/* The host's resolv.conf and hosts, copied into the RUN's directory to be
 * bound (a localhost-only hosts file when the host has none). */
static void d_run_hostfiles(const struct d_runctx *r, struct buf *resolv,
                            struct buf *hosts) {
  struct err e;
  buf_printf(resolv, "%s/resolv.conf", r->rundir);
  buf_printf(hosts, "%s/hosts", r->rundir);
  if (d_copy_file("/etc/resolv.conf", resolv->data, &e) < 0) {
    FILE *f = fopen(resolv->data, "w");
    if (f)
      fclose(f);
  }
  if (d_copy_file("/etc/hosts", hosts->data, &e) < 0) {
    FILE *f = fopen(hosts->data, "w");
    if (f) {
      fputs("127.0.0.1\tlocalhost\n::1\tlocalhost\n", f);
      fclose(f);
    }
  }
  (void)chmod(resolv->data, 0644);
  (void)chmod(hosts->data, 0644);
}

/* The layer: the upper directory as it is (mount stubs left out), packed
 * in the background when it can become the next RUN's lower at once. */
static int d_run_layer(struct dctx *d, struct stage *s, struct d_runctx *r,
                       const struct exec_spec *x,
                       const struct exec_result *res, struct err *err) {
  struct layer_list list;
  layer_list_init(&list);
  for (size_t i = 0; i < res->created.n; i++)
    strv_push(&r->skip, res->created.v[i]);
  struct layer_idmap um[EXEC_MAX_IDMAP], gm[EXEC_MAX_IDMAP];
  for (size_t i = 0; i < x->nuidmap; i++)
    um[i] = (struct layer_idmap){x->uidmap[i].inside, x->uidmap[i].outside,
                                 x->uidmap[i].count};
  for (size_t i = 0; i < x->ngidmap; i++)
    gm[i] = (struct layer_idmap){x->gidmap[i].inside, x->gidmap[i].outside,
                                 x->gidmap[i].count};
  struct layer_upper_opts uo = {.uidmap = um,
                                .gidmap = gm,
                                .nuidmap = x->userns ? x->nuidmap : 0,
                                .ngidmap = x->userns ? x->ngidmap : 0,
                                .skip = (const char *const *)r->skip.v,
                                .nskip = r->skip.n,
                                .lowers = (const char *const *)r->lowers,
                                .nlowers = r->nlowers,
                                .cancel = d->cancel};
  struct buf up = BUF_INIT;
  buf_printf(&up, "%s/upper", r->rundir);
  uint64_t skipped = 0;
  int rc = layer_diff_upper(up.data, &uo, &list, &skipped, err);
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
    for (size_t i = 0; i < r->argv.n; i++)
      buf_printf(&by, "%s%s", i ? " " : "", r->argv.v[i]);
    buf_puts(&by, " # buildkit");
    /* The previous RUN's layer has had this one's run to pack. */
    rc = d_join(d, err);
    bool reused = rc == 0 && !x->userns && d_upper_to_lower(d, &list, up.data);
    if (rc == 0 &&
        !(reused && d_pack_async(d, s, &list, by.data, &r->rundir, up.data))) {
      rc = d_commit_layer(d, s, &list, by.data, err);
      if (rc == 0 && reused)
        d_adopt_upper(d, s->layers[s->nlayers - 1].digest, up.data);
    }
    buf_cleanup(&by);
  }
  buf_cleanup(&up);
  layer_list_cleanup(&list);
  return rc;
}

/* RUN, in phases: flags, command, lower directories, user, mounts,
 * environment and host files, the process, its layer. */
int d_run(struct dctx *d, struct stage *s, unsigned idx,
          const struct df_instr *in, struct err *err) {
  struct d_runctx r;
  memset(&r, 0, sizeof(r));
  bool net_none = false;
  int rc = d_run_flags(in, &net_none, err);
  if (rc < 0)
    return rc;
  json_object *c = d_cfg_config(s->cfg);
  rc = d_run_argv(d, s, in, &r, err);
  if (rc == 0)
    rc = d_run_lowers(d, s, &r, err);
  struct exec_spec x;
  memset(&x, 0, sizeof(x));
  struct userdb_exec ux;
  memset(&ux, 0, sizeof(ux));
  const char *user = json_object_get_string(json_object_object_get(c, "User"));
  if (rc == 0)
    rc = d_run_user(user, r.lowers, r.nlowers, &ux, err);
  if (rc == 0) {
    x.uid = ux.uid;
    x.gid = ux.gid;
    r.home = ux.home;
    ux.home = NULL;
  }
  if (rc == 0)
    rc = d_run_mounts(d, s, idx, in, &r, err);
  struct strv env = STRV_INIT;
  d_run_env(d, s, &r, &env);
  struct buf resolv = BUF_INIT, hosts = BUF_INIT;
  if (rc == 0)
    d_run_hostfiles(&r, &resolv, &hosts);
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
    x.groups = ux.groups;
    x.ngroups = ux.ngroups;
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
  if (rc == 0)
    rc = d_run_layer(d, s, &r, &x, &res, err);
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
