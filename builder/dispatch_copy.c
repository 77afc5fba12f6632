/*
 * dispatch_copy.c - COPY and ADD: sources from the context, a stage or an
 * image, globs, heredocs, downloads and archives, into one layer.
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
#include "output.h"
#include "../model/ref.h"
#include "registry.h"
#include "store.h"
#include "registry.h"
#include "store.h"
#include "dispatch_int.h"

/* --- COPY / ADD ------------------------------------------------------- */

void d_copyop_cleanup(struct copyop *op) {
  layer_list_cleanup(&op->list);
  match_rules_cleanup(&op->excludes);
  for (size_t i = 0; i < op->nhls; i++)
    free(op->hls[i].path);
  free(op->hls);
  strv_cleanup(&op->dirs_added);
}

/* True when the stage already has a directory at lpath; *st is then its
 * metadata. */
static bool copy_existing_dir(struct copyop *op, const char *lpath,
                              struct stat *st) {
  struct layer_found lf = {0};
  struct err le;
  bool dir = false;
  if (layer_view_resolve(&op->dst, lpath, false, &lf, &le) < 0)
    err_clear(&le); /* unresolvable: treated as missing */
  else if (lf.exists && S_ISDIR(lf.st.st_mode)) {
    *st = lf.st;
    dir = true;
  }
  layer_found_cleanup(&lf);
  return dir;
}

/* Adds the parent directories of lpath (a layer path), and lpath itself
 * with include_self: one missing from the stage is 0755, owned by
 * --chown or root; one the stage has is written as it is, owner and mode
 * kept (tonistiigi/fsutil's copy applies metadata only to directories it
 * creates: BuildKit's testCopyChownExistingDir), since a layer that
 * lacked it would make it a root-owned 0755 directory in the layer's
 * extracted copy, which overlays the real one (RUN, the merged view). */
void d_copyop_parents(struct copyop *op, const char *lpath,
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
    if (!known && (!lf.exists || S_ISDIR(lf.st.st_mode))) {
      struct layer_entry *e = layer_list_add(&op->list, tmp);
      if (lf.exists) {
        e->mode = lf.st.st_mode;
        e->uid = lf.st.st_uid;
        e->gid = lf.st.st_gid;
        e->mtime = lf.st.st_mtim.tv_sec;
        e->mtime_nsec = lf.st.st_mtim.tv_nsec;
      } else {
        e->mode = S_IFDIR | 0755;
        e->uid = op->chown ? op->uid : 0;
        e->gid = op->chown ? op->gid : 0;
        e->mtime = op->now;
      }
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
  d_copyop_parents(op, lp.data, false);
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
  struct stat dst_st;
  if (!skip_self && lpath[0] && !is_top && !op->untar && S_ISDIR(st.st_mode) &&
      copy_existing_dir(op, lpath, &dst_st)) {
    /* A directory the stage has keeps its owner and mode (see
     * d_copyop_parents). */
    struct layer_entry *e = layer_list_add(&op->list, lpath);
    e->mode = dst_st.st_mode;
    e->uid = dst_st.st_uid;
    e->gid = dst_st.st_gid;
    e->mtime = dst_st.st_mtim.tv_sec;
    e->mtime_nsec = dst_st.st_mtim.tv_nsec;
    strv_push(&op->dirs_added, lpath);
  } else if (!skip_self && lpath[0]) {
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
void d_copy_glob_walk(const char *root, const char *rel, const char *pattern,
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
      d_copy_glob_walk(root, r.data, pattern, ignore, out, depth + 1);
    buf_cleanup(&h);
    buf_cleanup(&r);
  }
  strv_cleanup(&names);
}

/* d_copy_glob_walk for a source stage seen through its layers. */
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

int d_strv_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* True when a file is a tar archive, plain or compressed in a way BuildKit
 * opens (anything else is copied as it is).  ARCHIVE_WARN: a tar whose
 * first name is not in the reader's charset is still a tar. */
static bool d_is_archive(const char *path) {
  struct archive *a = archive_read_new();
  layer_read_filters(a);
  archive_read_support_format_tar(a);
  struct archive_entry *e;
  bool ok = archive_read_open_filename(a, path, 65536) == ARCHIVE_OK &&
            archive_read_next_header(a, &e) >= ARCHIVE_WARN;
  archive_read_free(a);
  return ok;
}

/* One COPY or ADD while it runs: the operation (op), where its sources
 * come from, and its destination.  d_copy's phases share it. */
struct copyctx {
  struct copyop op;
  const struct df_instr *in;
  bool is_add;
  bool parents;         /* --parents */
  char *checksum;       /* owned: ADD --checksum, expanded, or NULL */
  struct stage *from;   /* --from: a stage, or &img; NULL: the context */
  struct stage img;     /* --from an image */
  const char *src_root; /* the context's directory; NULL: op.src */
  char *dst;            /* owned: the destination as written, expanded */
  char *dst_layer;      /* owned: the destination resolved in the stage */
  bool dst_dir;         /* the destination is a directory */
  size_t nsrc;
  struct strv tmpdirs; /* owned: ADD <tar> extractions, read at packing */
};

/* --exclude, --chown, --chmod, ADD's --checksum and --from: all expanded
 * with the ARGs and ENV in scope (instructions/commands.go's Expand
 * methods for --chown and --checksum; BuildKit's testCopyChmod expands
 * --chmod=${mode}); --from here with the stage's ARGs too, where
 * BuildKit's toCommand takes the raw value.  Flags BuildKit's parser
 * refuses were refused before the build started (d_check_flags). */
static int copy_flags(struct copyctx *c, unsigned stage_idx, struct err *err) {
  struct dctx *d = c->op.d;
  struct stage *s = c->op.s;
  const struct df_instr *in = c->in;
  int rc = 0;
  for (size_t i = 0; i < in->nflags && rc == 0; i++) {
    if (strcmp(in->flags[i].name, "exclude") != 0 || !in->flags[i].value)
      continue;
    char *v = NULL;
    rc = d_expand(d, s, in->flags[i].value, strlen(in->flags[i].value), &v,
                  err);
    if (rc == 0)
      match_rules_add(&c->op.excludes, v);
    free(v);
  }
  const char *fromv = df_instr_flag(in, "from");
  const char *chownv = df_instr_flag(in, "chown");
  const char *chmodv = df_instr_flag(in, "chmod");
  const char *checksum = df_instr_flag(in, "checksum");
  const char *parents = df_instr_flag(in, "parents");
  c->parents = parents && strcasecmp(parents, "false") != 0;
  if (rc == 0 && chownv && *chownv) {
    char *v = NULL;
    rc = d_expand(d, s, chownv, strlen(chownv), &v, err);
    if (rc == 0)
      rc = d_chown(d, s, v, &c->op.uid, &c->op.gid, err);
    c->op.chown = rc == 0;
    free(v);
  }
  if (rc == 0 && checksum)
    rc = d_expand(d, s, checksum, strlen(checksum), &c->checksum, err);
  if (rc == 0 && chmodv && *chmodv) {
    char *v = NULL;
    rc = d_expand(d, s, chmodv, strlen(chmodv), &v, err);
    /* (BuildKit's words: dockerfile2llb/convert.go parseChmod; the
     * analysis reports the same, model/refuse.h) */
    struct buf m = BUF_INIT;
    if (rc == 0 && refuse_chmod(v, &m))
      rc = err_set(err, ERR_SYNTAX, "%s", m.data);
    buf_cleanup(&m);
    c->op.chmod = true;
    c->op.mode = rc == 0 ? (mode_t)strtoul(v, NULL, 8) : 0;
    free(v);
  }
  if (rc == 0 && fromv) {
    char *v = NULL;
    rc = d_expand(d, s, fromv, strlen(fromv), &v, err);
    /* an earlier stage, an image, or BuildKit's refusal in its words
     * (dockerfile2llb/convert.go; the analysis's too: model/refuse.h) */
    struct buf why = BUF_INIT;
    int idx = rc == 0 ? refuse_copy_from(d->df, stage_idx, v, &why) : 0;
    if (rc == 0 && idx == REFUSE_REFUSED)
      rc = err_set(err, ERR_INVALID, "%s", why.data);
    buf_cleanup(&why);
    if (rc == 0) {
      if (idx >= 0) {
        c->from = &d->st[idx];
      } else {
        rc = d_load_image(d, v, &d->plat, &c->img, err);
        c->from = &c->img;
      }
      /* Read through its layers: copying a few files out of a stage
       * must not cost applying all of them. */
      if (rc == 0)
        rc = d_stage_view(d, c->from, &c->op.src, err);
      if (rc == 0)
        c->src_root = NULL;
    }
    free(v);
  }
  c->op.from_context = c->from == NULL;
  c->op.ignore = c->from == NULL ? &d->ctx.ignore : NULL;
  return rc;
}

/* The destination: relative to WORKDIR, resolved in the stage (symlinks
 * followed inside it); a directory when it ends in '/' or "/." or is one
 * already. */
static int copy_dest(struct copyctx *c, struct err *err) {
  struct dctx *d = c->op.d;
  struct stage *s = c->op.s;
  int rc = d_stage_view(d, s, &c->op.dst, err);
  const struct df_arg *dst_arg = &c->in->args[c->in->nargs - 1];
  if (rc == 0)
    rc = d_expand(d, s, dst_arg->value, dst_arg->len, &c->dst, err);
  if (rc < 0)
    return rc;
  const char *dst = c->dst;
  size_t dl = strlen(dst);
  c->dst_dir = dl > 0 && (dst[dl - 1] == '/' ||
                          (dl >= 2 && strcmp(dst + dl - 2, "/.") == 0) ||
                          strcmp(dst, ".") == 0);
  struct buf full = BUF_INIT;
  if (dst[0] != '/') {
    const char *wd = json_object_get_string(
        json_object_object_get(d_cfg_config(s->cfg), "WorkingDir"));
    buf_printf(&full, "%s/", wd && *wd ? wd : "/");
  }
  buf_puts(&full, dst);
  struct layer_found lf;
  rc = layer_view_resolve(&c->op.dst, full.data, true, &lf, err);
  buf_cleanup(&full);
  if (rc == 0) {
    c->dst_layer = xstrdup(lf.rel);
    if (lf.exists && S_ISDIR(lf.st.st_mode))
      c->dst_dir = true;
    layer_found_cleanup(&lf);
  }
  return rc;
}

/* The heredoc an argument names ("<<EOF"), or NULL. */
static const struct df_heredoc *copy_heredoc_of(const struct df_instr *in,
                                                const struct df_arg *a) {
  const struct df_heredoc *hd = NULL;
  if (a->len <= 2 || a->value[0] != '<' || a->value[1] != '<')
    return NULL;
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
  return hd;
}

/* A heredoc source: an inline file, expanded unless its name was quoted. */
static int copy_heredoc(struct copyctx *c, const struct df_heredoc *hd,
                        struct err *err) {
  struct dctx *d = c->op.d;
  struct stage *s = c->op.s;
  struct buf content = BUF_INIT;
  if (hd->chomp)
    d_strip_tabs(&content, hd->content, hd->content_len);
  else
    buf_append(&content, hd->content, hd->content_len);
  char *data = NULL;
  int rc = 0;
  if (hd->expand) {
    struct d_env e = {STRV_INIT, &s->args};
    d_cfg_env(s->cfg, &e.env);
    struct expand_env env = {d_lookup, &e};
    struct expand_opts o = {d->escape, EXPAND_SKIP_PROCESS_QUOTES};
    rc = expand_word(content.data ? content.data : "", content.len, &o, &env,
                     NULL, &data, err);
    strv_cleanup(&e.env);
  } else {
    data = xstrndup(content.data ? content.data : "", content.len);
  }
  buf_cleanup(&content);
  if (rc < 0)
    return rc;
  struct layer_entry *e = copy_new_file(
      &c->op, c->dst_layer, c->dst_dir || c->nsrc > 1, hd->name, 0644);
  e->size = strlen(data);
  e->data = data;
  return 0;
}

/* ADD <url>: downloaded into the store (checked against --checksum),
 * named by the URL's last path segment, 0600 as BuildKit's HTTP source
 * makes it. */
static int copy_url(struct copyctx *c, const char *url, struct err *err) {
  struct dctx *d = c->op.d;
  char dg[DIGEST_STR_LEN];
  d_log(d, "downloading %s", url);
  int rc = registry_fetch_url(d->reg, url, c->checksum, dg, err);
  if (rc < 0)
    return rc;
  const char *q = strpbrk(url, "?#");
  char *u = q ? xstrndup(url, (size_t)(q - url)) : xstrdup(url);
  const char *base = strrchr(u, '/');
  base = base && base[1] ? base + 1 : "download";
  struct layer_entry *e = copy_new_file(&c->op, c->dst_layer,
                                        c->dst_dir || c->nsrc > 1, base, 0600);
  e->src = store_blob_path(d->store, dg);
  e->size = (uint64_t)store_blob_size(d->store, dg);
  free(u);
  return 0;
}

/* What a (cleaned) source path names: itself, or a wildcard's matches in
 * the source root, sorted.  A wildcard that matches nothing copies
 * nothing (BuildKit's dispatchCopy asks llb.Copy for AllowEmptyWildcard:
 * true); a plain path that does not exist fails in copy_match. */
static int copy_sources(struct copyctx *c, const char *clean,
                        struct strv *matches, struct err *err) {
  int rc = 0;
  if (!match_has_meta(clean)) {
    strv_push(matches, clean);
    return 0;
  }
  if (c->src_root == NULL) {
    struct layer_found root;
    rc = layer_view_resolve(&c->op.src, "", true, &root, err);
    if (rc == 0)
      rc = copy_glob_view(&c->op.src, &root, clean, matches, 0, err);
    layer_found_cleanup(&root);
  } else {
    d_copy_glob_walk(c->src_root, "", clean, c->op.ignore, matches, 0);
  }
  if (matches->n > 1)
    qsort(matches->v, matches->n, sizeof(char *), d_strv_cmp);
  if (rc == 0 && matches->n == 0)
    d_log(c->op.d, "%s matches nothing", clean);
  return rc;
}

/* Drops the last entry for lpath unless it is the first one: the source
 * directory's own entry, where d_copyop_parents wrote the destination's.
 * (Entries dropped before have no path.) */
static void copy_drop_dup(struct copyop *op, const char *lpath) {
  for (size_t k = op->list.n; k-- > 0;) {
    if (op->list.v[k].path == NULL || strcmp(op->list.v[k].path, lpath) != 0)
      continue;
    for (size_t j = 0; j < k; j++)
      if (op->list.v[j].path && strcmp(op->list.v[j].path, lpath) == 0) {
        free(op->list.v[k].path);
        op->list.v[k].path = NULL;
        break;
      }
    return;
  }
}

/* ADD of a local tar: extracted into a temporary directory, whose tree is
 * then added at the destination with the tar's owners and modes. */
static int copy_untar(struct copyctx *c, const char *host, struct err *err) {
  struct dctx *d = c->op.d;
  struct copyop *op = &c->op;
  char *tmp = NULL;
  int rc = store_tmpdir(d->store, "add", &tmp, err);
  if (rc < 0)
    return rc;
  /* Its files are read when the layer is packed: removed after that, by
   * copyctx_cleanup (on failure too). */
  strv_push_take(&c->tmpdirs, tmp);
  rc = layer_apply(host, tmp, d->cancel, NULL, err);
  if (rc < 0)
    return rc;
  const char *dl = c->dst_layer;
  d_copyop_parents(op, dl, true);
  bool saved = op->from_context;
  op->from_context = false;
  op->untar = true;
  size_t before = op->list.n;
  rc = copy_add(op, tmp, NULL, "", "", dl, 0, true, err);
  op->from_context = saved;
  op->untar = false;
  /* The extraction directory's own entry is no part of the tar: the
   * destination stays as d_copyop_parents wrote it. */
  for (size_t k = before; rc == 0 && k < op->list.n; k++)
    if (op->list.v[k].path && strcmp(op->list.v[k].path, dl) == 0 &&
        op->list.v[k].src == NULL && S_ISDIR(op->list.v[k].mode)) {
      free(op->list.v[k].path);
      op->list.v[k].path = NULL;
    }
  return rc;
}

/* True when an earlier source of this step made the destination a
 * directory (or found it one). */
static bool copy_dest_is_dir(const struct copyctx *c) {
  for (size_t i = 0; i < c->op.dirs_added.n; i++)
    if (strcmp(c->op.dirs_added.v[i], c->dst_layer) == 0)
      return true;
  return false;
}

/* One source path (rel, in the context or the --from stage) to the
 * destination: a directory's contents, an ADDed tar's tree, or one file
 * or link, which goes into the destination when that is a directory (it
 * ends in '/', exists as one, or an earlier source made it one) and
 * becomes it otherwise, the last one winning (fsutil copy, one action
 * after another). */
static int copy_match(struct copyctx *c, const char *rel, struct err *err) {
  struct copyop *op = &c->op;
  if (op->ignore && rel[0] && match_rules_excluded(op->ignore, rel))
    return err_set(err, ERR_NOTFOUND,
                   "\"%s\" not found: excluded by .dockerignore", rel);
  char *host = NULL;
  struct layer_found vf = {0};
  const struct layer_found *vfp = NULL;
  struct stat st;
  int rc;
  if (c->src_root == NULL) {
    rc = layer_view_resolve(&op->src, rel, true, &vf, err);
    if (rc < 0)
      return rc;
    vfp = &vf;
    st = vf.st;
    host = vf.exists ? xstrdup(vf.host) : NULL;
  } else {
    rc = layer_resolve(c->src_root, rel, true, &host, err);
    if (rc < 0)
      return rc;
  }
  if (c->src_root ? lstat(host, &st) != 0 : !vf.exists) {
    rc = err_set(err, ERR_NOTFOUND, "\"%s\" not found in the %s", rel,
                 c->from ? "source stage" : "build context");
    free(host);
    layer_found_cleanup(&vf);
    return rc;
  }
  const char *dl = c->dst_layer;
  const char *base = strrchr(rel, '/');
  base = base ? base + 1 : rel;
  struct buf lp = BUF_INIT;
  if (c->parents)
    buf_printf(&lp, "%s%s%s", dl, dl[0] ? "/" : "", rel);
  else if (S_ISDIR(st.st_mode))
    buf_puts(&lp, dl);
  else if (c->dst_dir || copy_dest_is_dir(c))
    buf_printf(&lp, "%s%s%s", dl, dl[0] ? "/" : "", base);
  else
    buf_puts(&lp, dl);
  if (S_ISDIR(st.st_mode)) {
    /* The destination directory: made 0755 (owned by --chown) when
     * missing, kept as it is when the stage has it (or an earlier match
     * made it); then the contents. */
    d_copyop_parents(op, lp.data, true);
    rc = copy_add(op, host, vfp, rel[0] ? rel : "", "", lp.data, 0, true, err);
    if (rc == 0 && lp.len)
      copy_drop_dup(op, lp.data);
  } else if (c->is_add && c->from == NULL && S_ISREG(st.st_mode) &&
             d_is_archive(host)) {
    rc = copy_untar(c, host, err);
  } else {
    d_copyop_parents(op, lp.data, false);
    rc = copy_add(op, host, vfp, rel, base, lp.data, 0, true, err);
  }
  buf_cleanup(&lp);
  free(host);
  layer_found_cleanup(&vf);
  return rc;
}

/* One source argument: a heredoc, a URL (ADD), or a path or wildcard. */
static int copy_source(struct copyctx *c, const struct df_arg *a,
                       struct err *err) {
  struct dctx *d = c->op.d;
  /* Hardlinks are kept within one source (a wildcard's matches
   * included), not across sources: BuildKit copies each source in its own
   * copy action, each with its own inode map (fsutil copy). */
  for (size_t k = 0; k < c->op.nhls; k++)
    free(c->op.hls[k].path);
  c->op.nhls = 0;
  const struct df_heredoc *hd = copy_heredoc_of(c->in, a);
  if (hd)
    return copy_heredoc(c, hd, err);
  char *sv = NULL;
  int rc = d_expand(d, c->op.s, a->value, a->len, &sv, err);
  if (rc < 0)
    return rc;
  bool url = strncmp(sv, "http://", 7) == 0 || strncmp(sv, "https://", 8) == 0;
  if (c->is_add && url) {
    rc = copy_url(c, sv, err);
    free(sv);
    return rc;
  }
  if (c->is_add && c->checksum) {
    free(sv);
    return err_set(err, ERR_INVALID, "--checksum is only for URL sources");
  }
  char *clean = NULL;
  (void)layer_clean_path(sv, &clean);
  struct strv matches = STRV_INIT;
  rc = copy_sources(c, clean, &matches, err);
  /* No "more than one source" check (the classic builder's): BuildKit
   * copies each source, or each match of a wildcard, in turn to the
   * destination (testExcludedFilesOnCopy: `ADD ... dir* /5`;
   * testCopyWildcards: `COPY f*.go foo2.go`); see copy_match. */
  for (size_t m = 0; rc == 0 && m < matches.n; m++)
    rc = copy_match(c, matches.v[m], err);
  strv_cleanup(&matches);
  free(clean);
  free(sv);
  return rc;
}

/* Drops the entries removed on the way (path NULL) and commits the
 * layer. */
static int copy_commit(struct copyctx *c, struct err *err) {
  struct copyop *op = &c->op;
  size_t w = 0;
  for (size_t i = 0; i < op->list.n; i++) {
    if (op->list.v[i].path == NULL) {
      free(op->list.v[i].src);
      free(op->list.v[i].link);
      free(op->list.v[i].data);
      continue;
    }
    op->list.v[w++] = op->list.v[i];
  }
  op->list.n = w;
  struct buf by = BUF_INIT;
  buf_printf(&by, "%s # buildkit", c->in->original);
  int rc = d_commit_layer(op->d, op->s, &op->list, by.data, err);
  buf_cleanup(&by);
  return rc;
}

static void copyctx_cleanup(struct copyctx *c) {
  struct dctx *d = c->op.d;
  for (size_t i = 0; i < c->tmpdirs.n; i++) {
    struct err e2;
    if (store_rmtree(d->store, c->tmpdirs.v[i], &e2) < 0)
      d_log(d, "cleanup: %s", e2.msg);
  }
  strv_cleanup(&c->tmpdirs);
  free(c->dst);
  free(c->dst_layer);
  free(c->checksum);
  if (c->from == &c->img)
    d_stage_cleanup(d, &c->img);
  d_copyop_cleanup(&c->op);
}

/* COPY and ADD, in phases: flags, destination, each source, commit. */
int d_copy(struct dctx *d, struct stage *s, const struct df_instr *in,
           bool is_add, unsigned stage_idx, struct err *err) {
  if (in->nargs < 2)
    return err_set(err, ERR_SYNTAX, "%s requires at least two arguments",
                   is_add ? "ADD" : "COPY");
  struct copyctx c;
  memset(&c, 0, sizeof(c));
  c.op.d = d;
  c.op.s = s;
  c.op.now = d->have_epoch ? d->epoch : (int64_t)time(NULL);
  match_rules_init(&c.op.excludes);
  c.in = in;
  c.is_add = is_add;
  c.src_root = d->ctx.root;
  c.nsrc = in->nargs - 1;
  int rc = copy_flags(&c, stage_idx, err);
  if (rc == 0)
    rc = copy_dest(&c, err);
  for (size_t i = 0; rc == 0 && i < c.nsrc; i++)
    rc = copy_source(&c, &in->args[i], err);
  if (rc == 0)
    rc = copy_commit(&c, err);
  copyctx_cleanup(&c);
  return rc;
}
