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
  const char **lowerlists[DW_MAX_RUN_MOUNTS]; /* owned: LAYERS mounts' */
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
          json_object_object_get(d_cfg_config(s->cfg), "WorkingDir"));
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
          d_stage_cleanup(d, &r->img);
          rc = d_load_image(d, m.from, &d->plat, &r->img, err);
          from = &r->img;
        }
        /* The stage's extracted layers, merged by an overlay in the RUN's
         * namespace: nothing is copied. */
        struct layer_view view;
        struct layer_found lf = {0};
        if (rc == 0)
          rc = d_stage_view(d, from, &view, err);
        if (rc == 0)
          rc = layer_view_resolve(&view, m.source ? m.source : "", true, &lf,
                                  err);
        if (rc == 0 && !lf.exists)
          rc = err_set(err, ERR_NOTFOUND, "--mount from=%s: %s does not exist",
                       m.from, m.source ? m.source : "/");
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
          x->rw = m.rw;
          x->lowers = ls;
          x->nlowers = view.n;
          x->subpath = r->keep.v[r->keep.n - 1];
          x->is_dir = S_ISDIR(lf.st.st_mode);
          struct buf p = BUF_INIT;
          buf_printf(&p, "/%s", clean);
          strv_push(&r->keep, p.data);
          x->target = r->keep.v[r->keep.n - 1];
          buf_cleanup(&p);
          strv_push(&r->skip, clean);
          r->nmounts++;
        }
        layer_found_cleanup(&lf);
        free(clean);
        d_mnt_cleanup(&m);
        continue;
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

int d_run(struct dctx *d, struct stage *s, unsigned idx,
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
  json_object *c = d_cfg_config(s->cfg);
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
  d_cfg_env(s->cfg, &env);
  for (size_t i = 0; i < s->args.n; i++) {
    const char *eq = strchr(s->args.v[i], '=');
    if (eq &&
        d_kv_get(&env, s->args.v[i], (size_t)(eq - s->args.v[i])) == NULL)
      strv_push(&env, s->args.v[i]);
  }
  if (d_kv_get(&env, "HOME", 4) == NULL && r.home)
    d_kv_set(&env, "HOME", r.home);
  d_proxy_env(d, &env);
  for (size_t i = 0; i < r.env.n; i++) { /* secret env= */
    const char *eq = strchr(r.env.v[i], '=');
    char *k = xstrndup(r.env.v[i], (size_t)(eq - r.env.v[i]));
    d_kv_set(&env, k, eq + 1);
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
      bool reused =
          rc == 0 && !x.userns && d_upper_to_lower(d, &list, up.data);
      if (rc == 0 && !(reused && d_pack_async(d, s, &list, by.data, &r.rundir,
                                              up.data))) {
        rc = d_commit_layer(d, s, &list, by.data, err);
        if (rc == 0 && reused)
          d_adopt_upper(d, s->layers[s->nlayers - 1].digest, up.data);
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
