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

int d_copy(struct dctx *d, struct stage *s, const struct df_instr *in,
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
    d_copyop_cleanup(&op);
    return err_set(err, ERR_SYNTAX, "%s requires at least two arguments",
                   is_add ? "ADD" : "COPY");
  }
  /* (flags BuildKit's parser refuses were refused before the build
   * started: d_check_flags) */
  for (size_t i = 0; i < in->nflags && rc == 0; i++) {
    const char *n = in->flags[i].name;
    if (rc == 0 && strcmp(n, "exclude") == 0 && in->flags[i].value) {
      char *v = NULL;
      rc = d_expand(d, s, in->flags[i].value, strlen(in->flags[i].value), &v,
                    err);
      if (rc == 0)
        match_rules_add(&op.excludes, v);
      free(v);
    }
  }
  const char *fromv = df_instr_flag(in, "from");
  const char *chownv = df_instr_flag(in, "chown");
  const char *chmodv = df_instr_flag(in, "chmod");
  const char *checksum = df_instr_flag(in, "checksum");
  bool parents = df_instr_flag(in, "parents") &&
                 strcmp(df_instr_flag(in, "parents"), "false") != 0;
  if (rc == 0 && chownv && *chownv) {
    char *v = NULL;
    rc = d_expand(d, s, chownv, strlen(chownv), &v, err);
    if (rc == 0)
      rc = d_chown(d, s, v, &op.uid, &op.gid, err);
    op.chown = rc == 0;
    free(v);
  }
  /* --chown, --chmod, --from, --exclude and ADD's --checksum are
   * expanded (instructions/commands.go: CopyCommand.Expand and
   * AddCommand.Expand; --from in dispatchCopy's source lookup). */
  char *checksum_x = NULL;
  if (rc == 0 && checksum)
    rc = d_expand(d, s, checksum, strlen(checksum), &checksum_x, err);
  checksum = checksum_x;
  if (rc == 0 && chmodv && *chmodv) {
    char *v = NULL;
    rc = d_expand(d, s, chmodv, strlen(chmodv), &v, err);
    char *end = NULL;
    unsigned long m = rc == 0 ? strtoul(v, &end, 8) : 0;
    if (rc == 0 && (*end || m > 07777 || !*v))
      rc = err_set(err, ERR_SYNTAX,
                   "invalid chmod parameter: %s (only "
                   "octal modes are supported)",
                   v);
    op.chmod = true;
    op.mode = (mode_t)m;
    free(v);
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
        rc = d_stage_view(d, from, &op.src, err);
      if (rc == 0)
        src_root = NULL;
    }
    free(v);
  }
  op.from_context = from == NULL;
  op.ignore = from == NULL ? &d->ctx.ignore : NULL;
  if (rc == 0)
    rc = d_stage_view(d, s, &op.dst, err);
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
          json_object_object_get(d_cfg_config(s->cfg), "WorkingDir"));
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
    /* Hardlinks are kept within one source (a wildcard's matches
     * included), not across sources: BuildKit copies each source in its
     * own copy action, each with its own inode map (fsutil copy). */
    for (size_t k = 0; k < op.nhls; k++)
      free(op.hls[k].path);
    op.nhls = 0;
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
        d_cfg_env(s->cfg, &e.env);
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
        qsort(matches.v, matches.n, sizeof(char *), d_strv_cmp);
    } else if (match_has_meta(clean)) {
      d_copy_glob_walk(src_root, "", clean, op.ignore, &matches, 0);
      if (matches.n > 1)
        qsort(matches.v, matches.n, sizeof(char *), d_strv_cmp);
    } else {
      strv_push(&matches, clean);
    }
    /* A wildcard that matches nothing copies nothing (BuildKit's
     * dispatchCopy asks llb.Copy for AllowEmptyWildcard: true); a plain
     * path that does not exist fails below.  One match is one source: it
     * may go to a file destination (testCopyWildcards: COPY f*.go
     * foo2.go). */
    if (matches.n == 0)
      d_log(d, "%s matches nothing", sv);
    bool many = nsrc > 1 || matches.n > 1;
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
        /* The destination directory: made 0755 (owned by --chown) when
         * missing, kept as it is when the stage has it (or an earlier
         * match made it); then the contents. */
        struct buf lpc = BUF_INIT;
        d_copyop_parents(&op, lp.data, true);
        rc = copy_add(&op, host, vfp, rel[0] ? rel : "", "", lp.data, 0, true,
                      err);
        /* Drop the source directory's own entry (the last one for this
         * path), keeping the one d_copyop_parents made.  (Entries dropped
         * before have no path.) */
        for (size_t k = op.list.n; rc == 0 && lp.len && k-- > 0;)
          if (op.list.v[k].path && strcmp(op.list.v[k].path, lp.data) == 0) {
            bool first = true;
            for (size_t j = 0; j < k; j++)
              if (op.list.v[j].path && strcmp(op.list.v[j].path, lp.data) == 0)
                first = false;
            if (!first) {
              free(op.list.v[k].path);
              op.list.v[k].path = NULL;
            }
            break;
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
          d_copyop_parents(&op, dl.data, true);
          bool saved = op.from_context;
          op.from_context = false;
          op.untar = true;
          size_t before = op.list.n;
          rc = copy_add(&op, tmp, NULL, "", "", dl.data, 0, true, err);
          op.from_context = saved;
          op.untar = false;
          /* The extraction directory's own entry is no part of the tar:
           * the destination stays as d_copyop_parents wrote it. */
          for (size_t k = before; rc == 0 && k < op.list.n; k++)
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
        d_copyop_parents(&op, lp.data, false);
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
  free(checksum_x);
  if (from == &img)
    d_stage_cleanup(d, &img);
  d_copyop_cleanup(&op);
  return rc;
}
