/*
 * layer_upper.c - a RUN's overlay upper directory turned into layer entries
 * (whiteouts, opaque directories, xattrs, id maps, mount stubs left out).
 * See layer.h for the rules.
 */
#include "layer.h"
#include "layer_int.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/ceilings.h"

/* --- the upper directory of a RUN ------------------------------------- */

struct layer__walk {
  const struct layer_upper_opts *o;
  struct layer_list *out;
  struct layer__hl {
    dev_t dev;
    ino_t ino;
    char *path;
  } * hls;
  size_t nhls;
  uint64_t skipped;
  struct err *err;
};

static uint32_t layer__map(const struct layer_idmap *m, size_t n,
                           uint32_t host) {
  for (size_t i = 0; i < n; i++)
    if (host >= m[i].outside && host - m[i].outside < m[i].count)
      return m[i].inside + (host - m[i].outside);
  return n ? 65534u : host;
}

static bool layer__skipped(const struct layer_upper_opts *o, const char *rel) {
  for (size_t i = 0; i < o->nskip; i++)
    if (strcmp(o->skip[i], rel) == 0)
      return true;
  return false;
}

static void layer__xattrs(const char *path, struct layer_entry *e,
                          bool *opaque) {
  char names[65536];
  ssize_t n = llistxattr(path, names, sizeof(names));
  for (ssize_t i = 0; i < n;) {
    const char *name = names + i;
    size_t nl = strlen(name);
    i += (ssize_t)nl + 1;
    bool ovl = strncmp(name, "user.overlay.", 13) == 0 ||
               strncmp(name, "trusted.overlay.", 16) == 0;
    char val[65536];
    ssize_t vl = lgetxattr(path, name, val, sizeof(val));
    if (vl < 0)
      continue;
    if (ovl) {
      if (strcmp(strchr(name, '.') + 1, "overlay.opaque") == 0 && vl >= 1 &&
          val[0] == 'y')
        *opaque = true;
      continue;
    }
    e->xattrs = xrealloc(e->xattrs, (e->nxattrs + 1) * sizeof(*e->xattrs));
    struct layer_xattr *x = &e->xattrs[e->nxattrs++];
    x->name = xstrdup(name);
    x->value = xmalloc((size_t)vl + 1);
    memcpy(x->value, val, (size_t)vl);
    x->value[vl] = '\0';
    x->len = (size_t)vl;
  }
}

static int layer__walk_dir(struct layer__walk *w, const char *host,
                           const char *rel, unsigned depth) {
  if (depth > DW_MAX_PATH_DEPTH)
    return err_set(w->err, ERR_TOOBIG, "%s: deeper than %u", rel,
                   DW_MAX_PATH_DEPTH);
  struct strv names = STRV_INIT;
  if (store_dir_names(host, false, &names) < 0)
    return err_set(w->err, ERR_IO, "open %s: %s", host, strerror(errno));
  int rc = 0;
  struct buf h = BUF_INIT, r = BUF_INIT;
  for (size_t i = 0; rc == 0 && i < names.n; i++) {
    if (w->o->cancel && atomic_load(w->o->cancel)) {
      rc = err_set(w->err, ERR_CANCELLED, "cancelled");
      break;
    }
    buf_reset(&h);
    buf_reset(&r);
    buf_printf(&h, "%s/%s", host, names.v[i]);
    buf_printf(&r, "%s%s%s", rel, rel[0] ? "/" : "", names.v[i]);
    struct stat st;
    if (lstat(h.data, &st) != 0) {
      rc = err_set(w->err, ERR_IO, "lstat %s: %s", h.data, strerror(errno));
      break;
    }
    if (layer__skipped(w->o, r.data) &&
        ((S_ISREG(st.st_mode) && st.st_size == 0) || S_ISDIR(st.st_mode))) {
      /* A mount point the RUN setup made: not part of the layer, but
       * what the command put under a created directory is. */
      if (S_ISDIR(st.st_mode))
        rc = layer__walk_dir(w, h.data, r.data, depth + 1);
      continue;
    }
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
      struct buf wh = BUF_INIT;
      buf_printf(&wh, "%s%s.wh.%s", rel, rel[0] ? "/" : "", names.v[i]);
      struct layer_entry *e = layer_list_add(w->out, wh.data);
      e->mode = S_IFREG | 0644;
      e->mtime = st.st_mtim.tv_sec;
      buf_cleanup(&wh);
      continue;
    }
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISSOCK(st.st_mode)) {
      w->skipped++;
      continue;
    }
    struct layer_entry *e = layer_list_add(w->out, r.data);
    e->mode = st.st_mode;
    e->uid = layer__map(w->o->uidmap, w->o->nuidmap, st.st_uid);
    e->gid = layer__map(w->o->gidmap, w->o->ngidmap, st.st_gid);
    e->mtime = st.st_mtim.tv_sec;
    e->mtime_nsec = st.st_mtim.tv_nsec;
    bool opaque = false;
    layer__xattrs(h.data, e, &opaque);
    if (S_ISREG(st.st_mode)) {
      e->size = (uint64_t)st.st_size;
      bool linked = false;
      if (st.st_nlink > 1) {
        for (size_t k = 0; k < w->nhls && !linked; k++)
          if (w->hls[k].dev == st.st_dev && w->hls[k].ino == st.st_ino) {
            e->hardlink = true;
            e->link = xstrdup(w->hls[k].path);
            linked = true;
          }
        if (!linked) {
          w->hls = xrealloc(w->hls, (w->nhls + 1) * sizeof(*w->hls));
          w->hls[w->nhls].dev = st.st_dev;
          w->hls[w->nhls].ino = st.st_ino;
          w->hls[w->nhls++].path = xstrdup(r.data);
        }
      }
      if (!linked)
        e->src = xstrdup(h.data);
    } else if (S_ISLNK(st.st_mode)) {
      char t[PATH_MAX];
      ssize_t n = readlink(h.data, t, sizeof(t) - 1);
      if (n < 0) {
        rc = err_set(w->err, ERR_IO, "readlink %s: %s", h.data,
                     strerror(errno));
        break;
      }
      t[n] = '\0';
      e->link = xstrdup(t);
    } else if (S_ISDIR(st.st_mode)) {
      if (opaque) {
        struct buf op = BUF_INIT;
        buf_printf(&op, "%s/.wh..wh..opq", r.data);
        struct layer_entry *oe = layer_list_add(w->out, op.data);
        oe->mode = S_IFREG | 0644;
        oe->mtime = st.st_mtim.tv_sec;
        buf_cleanup(&op);
      }
      rc = layer__walk_dir(w, h.data, r.data, depth + 1);
    }
  }
  buf_cleanup(&h);
  buf_cleanup(&r);
  strv_cleanup(&names);
  return rc;
}

int layer_diff_upper(const char *upper, const struct layer_upper_opts *o,
                     struct layer_list *out, uint64_t *skipped,
                     struct err *err) {
  struct layer__walk w;
  memset(&w, 0, sizeof(w));
  w.o = o;
  w.out = out;
  w.err = err;
  size_t first = out->n;
  int rc = layer__walk_dir(&w, upper, "", 0);
  /* Directories copied up only because a mount point was made inside
   * them (/etc for /etc/hosts) are not changes: dropped when nothing
   * else in the layer is under them and the lower copy looks the same. */
  for (size_t i = first; rc == 0 && i < out->n; i++) {
    struct layer_entry *e = &out->v[i];
    if (!S_ISDIR(e->mode))
      continue;
    size_t pl = strlen(e->path);
    bool ancestor = false;
    for (size_t k = 0; k < o->nskip && !ancestor; k++)
      ancestor =
          strncmp(o->skip[k], e->path, pl) == 0 && o->skip[k][pl] == '/';
    if (!ancestor)
      continue;
    bool children = false;
    for (size_t k = first; k < out->n && !children; k++)
      children = k != i && strncmp(out->v[k].path, e->path, pl) == 0 &&
                 out->v[k].path[pl] == '/';
    if (children)
      continue;
    bool same = false;
    for (size_t k = o->nlowers; k-- > 0;) {
      struct buf lp = BUF_INIT;
      buf_printf(&lp, "%s/%s", o->lowers[k], e->path);
      struct stat st;
      int sr = lstat(lp.data, &st);
      buf_cleanup(&lp);
      if (sr != 0)
        continue;
      same = S_ISDIR(st.st_mode) &&
             (st.st_mode & 07777) == (e->mode & 07777) &&
             layer__map(o->uidmap, o->nuidmap, st.st_uid) == e->uid &&
             layer__map(o->gidmap, o->ngidmap, st.st_gid) == e->gid;
      break;
    }
    if (!same)
      continue;
    layer__entry_cleanup(e);
    memmove(e, e + 1, (out->n - i - 1) * sizeof(*e));
    out->n--;
    i = first - 1; /* a parent may now qualify too */
  }
  for (size_t i = 0; i < w.nhls; i++)
    free(w.hls[i].path);
  free(w.hls);
  if (skipped)
    *skipped = w.skipped;
  return rc;
}
