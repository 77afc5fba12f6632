/*
 * dispatch_mount.c - RUN --mount: parsing a mount's options, and making
 * each type ready for the exec (secret, tmpfs, cache, bind from the
 * context or from a stage or image); the mount points it makes are left
 * out of the RUN's layer (d_runctx.skip).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/ceilings.h"
#include "../model/refuse.h"
#include "digest.h"
#include "exec.h"
#include "layer.h"
#include "store.h"
#include "dispatch_int.h"

/* One --mount=... value, parsed. */
void d_mnt_cleanup(struct d_mnt *m) {
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

int d_mnt_parse(const char *v, struct d_mnt *m, struct err *err) {
  memset(m, 0, sizeof(*m));
  /* BuildKit's checks and words, the analysis's too (model/refuse.h). */
  struct buf why = BUF_INIT;
  if (refuse_mount(v, false, &why)) {
    int rc = err_set(err, ERR_SYNTAX, "%s", why.data);
    buf_cleanup(&why);
    return rc;
  }
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
  if (rc < 0)
    d_mnt_cleanup(m);
  return rc;
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

/* Adds the mount x at /clean: its target, and the stub to leave out. */
static void d_mount_at(struct d_runctx *r, struct exec_mount *x,
                       const char *clean) {
  struct buf p = BUF_INIT;
  buf_printf(&p, "/%s", clean);
  strv_push(&r->keep, p.data);
  x->target = r->keep.v[r->keep.n - 1];
  buf_cleanup(&p);
  strv_push(&r->skip, clean);
  r->nmounts++;
}

/* A mode, uid and gid option (octal, numbers), with defaults. */
static void d_mount_owner(const struct d_mnt *m, unsigned long *mode,
                          unsigned long *uid, unsigned long *gid) {
  if (m->mode)
    *mode = strtoul(m->mode, NULL, 8) & 07777;
  if (m->uid)
    (void)d_numeric(m->uid, uid);
  if (m->gid)
    (void)d_numeric(m->gid, gid);
}

/* type=secret: the secret's bytes staged in a 0400 file of the RUN's
 * directory (and env= in the environment), wiped from memory at once. */
static int d_mount_secret(struct dctx *d, const struct d_mnt *m,
                          const char *clean, struct d_runctx *r,
                          unsigned *nsec, struct err *err) {
  struct exec_mount *x = &r->mounts[r->nmounts];
  struct buf data = BUF_INIT;
  bool found = false;
  int rc = 0;
  if (m->id == NULL || !*m->id)
    rc = err_set(err, ERR_SYNTAX, "secret mount needs an id");
  else
    rc = d_secret_find(d, m->id, &data, &found, err);
  if (rc == 0 && !found && m->required)
    rc = err_set(err, ERR_NOTFOUND,
                 "secret %s not provided (use --secret id=%s,src=FILE)", m->id,
                 m->id);
  if (rc == 0 && found) {
    struct buf p = BUF_INIT;
    buf_printf(&p, "%s/secrets", r->rundir);
    (void)mkdir(p.data, 0700);
    buf_printf(&p, "/%u", (*nsec)++);
    int fd = open(p.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
    if (fd < 0 ||
        (data.len && write(fd, data.data, data.len) != (ssize_t)data.len))
      rc = err_set(err, ERR_IO, "secret %s: cannot stage it", m->id);
    if (fd >= 0)
      close(fd);
    unsigned long mode = 0400, su = 0, sg = 0;
    d_mount_owner(m, &mode, &su, &sg);
    if (rc == 0 && geteuid() == 0 && chown(p.data, (uid_t)su, (gid_t)sg) != 0)
      rc = err_set(err, ERR_IO, "secret %s: chown", m->id);
    if (rc == 0)
      (void)chmod(p.data, (mode_t)mode);
    if (rc == 0) {
      strv_push(&r->keep, p.data);
      x->kind = EXEC_MOUNT_BIND;
      x->source = r->keep.v[r->keep.n - 1];
      d_mount_at(r, x, clean);
      if (m->env) {
        buf_reset(&p);
        buf_printf(&p, "%s=", m->env);
        buf_append(&p, data.data ? data.data : "", data.len);
        strv_push(&r->env, p.data);
        memset(p.data, 0, p.len);
      }
    }
    buf_cleanup(&p);
  }
  if (data.data)
    memset(data.data, 0, data.len);
  buf_cleanup(&data);
  return rc;
}

/* type=cache: a directory of the store, per id (or target), kept across
 * builds; made with mode, uid and gid the first time. */
static int d_mount_cache(struct dctx *d, const struct d_mnt *m,
                         const char *clean, struct d_runctx *r,
                         struct err *err) {
  struct exec_mount *x = &r->mounts[r->nmounts];
  char *sid = d_safe_id(m->id && *m->id ? m->id : clean);
  struct buf p = BUF_INIT;
  buf_printf(&p, "%s/cache-mounts/%s", store_root(d->store), sid);
  free(sid);
  int rc = 0;
  struct stat st;
  if (lstat(p.data, &st) != 0) {
    rc = store_mkdirs(p.data, err);
    unsigned long mode = 0755, cu = 0, cg = 0;
    d_mount_owner(m, &mode, &cu, &cg);
    if (rc == 0 && geteuid() == 0)
      (void)chown(p.data, (uid_t)cu, (gid_t)cg);
    if (rc == 0)
      (void)chmod(p.data, (mode_t)mode);
  }
  strv_push(&r->keep, p.data);
  buf_cleanup(&p);
  x->kind = EXEC_MOUNT_BIND;
  x->rw = true;
  x->source = r->keep.v[r->keep.n - 1];
  d_mount_at(r, x, clean);
  return rc;
}

/* type=bind,from=<stage or image>: the source's extracted layers merged
 * by an overlay in the RUN's namespace (nothing is copied), the resolved
 * source path of it bound. */
static int d_mount_from(struct dctx *d, unsigned idx, const struct d_mnt *m,
                        const char *clean, struct d_runctx *r,
                        struct err *err) {
  struct exec_mount *x = &r->mounts[r->nmounts];
  int fi = d_stage_index(d, m->from);
  struct stage *from = NULL;
  int rc = 0;
  if (fi >= 0 && (unsigned)fi >= idx) {
    rc = err_set(err, ERR_INVALID,
                 "--mount from=%s refers to this or a later stage", m->from);
  } else if (fi >= 0) {
    from = &d->st[fi];
  } else {
    d_stage_cleanup(d, &r->img);
    rc = d_load_image(d, m->from, &d->plat, &r->img, err);
    from = &r->img;
  }
  struct layer_view view;
  struct layer_found lf = {0};
  if (rc == 0)
    rc = d_stage_view(d, from, &view, err);
  if (rc == 0)
    rc = layer_view_resolve(&view, m->source ? m->source : "", true, &lf, err);
  if (rc == 0 && !lf.exists)
    rc = err_set(err, ERR_NOTFOUND, "--mount from=%s: %s does not exist",
                 m->from, m->source ? m->source : "/");
  if (rc == 0) {
    /* Copies: the view borrows the stage's list, which a second
     * from=<image> mount would replace. */
    const char **ls = xcalloc(view.n ? view.n : 1, sizeof(*ls));
    for (size_t k = 0; k < view.n; k++) {
      strv_push(&r->keep, view.dirs[k]);
      ls[k] = r->keep.v[r->keep.n - 1];
    }
    r->lowerlists[r->nmounts] = ls;
    strv_push(&r->keep, lf.rel);
    x->kind = EXEC_MOUNT_LAYERS;
    x->rw = m->rw;
    x->lowers = ls;
    x->nlowers = view.n;
    x->subpath = r->keep.v[r->keep.n - 1];
    x->is_dir = S_ISDIR(lf.st.st_mode);
    d_mount_at(r, x, clean);
  }
  layer_found_cleanup(&lf);
  return rc;
}

/* type=bind from the context: read-only, or with rw an overlay whose
 * writes are dropped (a file stays read-only). */
static int d_mount_bind(struct dctx *d, const struct d_mnt *m,
                        const char *clean, struct d_runctx *r,
                        struct err *err) {
  struct exec_mount *x = &r->mounts[r->nmounts];
  char *host = NULL;
  int rc =
      layer_resolve(d->ctx.root, m->source ? m->source : "", true, &host, err);
  if (rc == 0) {
    strv_push(&r->keep, host);
    x->kind = m->rw ? EXEC_MOUNT_OVERLAY : EXEC_MOUNT_BIND;
    x->source = r->keep.v[r->keep.n - 1];
    struct stat st;
    if (m->rw && (stat(host, &st) != 0 || !S_ISDIR(st.st_mode))) {
      x->kind = EXEC_MOUNT_BIND; /* a file: read-only */
      x->rw = false;
    }
    d_mount_at(r, x, clean);
  }
  free(host);
  return rc;
}

/* Every --mount of a RUN, expanded (BuildKit's parseMount gets the
 * expander), its target relative to WORKDIR. */
int d_run_mounts(struct dctx *d, struct stage *s, unsigned idx,
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
    const char *fv = in->flags[i].value ? in->flags[i].value : "";
    char *v = NULL;
    rc = d_expand(d, s, fv, strlen(fv), &v, err);
    if (rc < 0)
      break;
    struct d_mnt m;
    rc = d_mnt_parse(v, &m, err);
    free(v);
    if (rc < 0)
      break;
    memset(&r->mounts[r->nmounts], 0, sizeof(r->mounts[0]));
    struct buf tgt = BUF_INIT;
    if (m.target && m.target[0] != '/') {
      const char *wd = json_object_get_string(
          json_object_object_get(d_cfg_config(s->cfg), "WorkingDir"));
      buf_printf(&tgt, "%s/", wd && *wd ? wd : "");
    }
    if (m.target)
      buf_puts(&tgt, m.target);
    bool secret = strcmp(m.type, "secret") == 0;
    if (secret && m.target == NULL)
      buf_printf(&tgt, "/run/secrets/%s", m.id ? m.id : "");
    char *clean = NULL;
    (void)layer_clean_path(tgt.data ? tgt.data : "", &clean);
    buf_cleanup(&tgt);
    if (clean[0] == '\0' && !secret)
      rc = err_set(err, ERR_SYNTAX, "--mount needs a target");
    else if (secret)
      rc = d_mount_secret(d, &m, clean, r, &nsec, err);
    else if (strcmp(m.type, "tmpfs") == 0) {
      struct exec_mount *x = &r->mounts[r->nmounts];
      x->kind = EXEC_MOUNT_TMPFS;
      x->size = m.size;
      d_mount_at(r, x, clean);
    } else if (strcmp(m.type, "cache") == 0)
      rc = d_mount_cache(d, &m, clean, r, err);
    else if (strcmp(m.type, "bind") == 0 && m.from)
      rc = d_mount_from(d, idx, &m, clean, r, err);
    else if (strcmp(m.type, "bind") == 0)
      rc = d_mount_bind(d, &m, clean, r, err);
    else
      rc = err_set(err, ERR_UNSUPPORTED, "--mount type=%s is not supported",
                   m.type);
    free(clean);
    d_mnt_cleanup(&m);
  }
  return rc;
}
