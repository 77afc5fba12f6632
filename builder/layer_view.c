/*
 * layer_view.c - the merged view of a stage's extracted layers: resolving,
 * listing (whiteouts and opaque directories honoured, symlinks followed
 * inside the root).
 * See layer.h for the rules.
 */
#include "layer.h"
#include "layer_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/ceilings.h"

/* --- the merged view of extracted layers ------------------------------- */

void layer_found_cleanup(struct layer_found *f) {
  if (f == NULL)
    return;
  free(f->rel);
  free(f->host);
  memset(f, 0, sizeof(*f));
}

static bool layer__is_whiteout(const struct stat *st) {
  return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool layer__is_opaque(const char *path) {
  char v[2];
  ssize_t n = lgetxattr(path, LAYER_OVL_OPAQUE, v, sizeof(v));
  return n == 1 && v[0] == 'y';
}

static char *layer__join(const char *a, const char *b) {
  struct buf p = BUF_INIT;
  buf_printf(&p, "%s%s%s", a, a[0] && b[0] ? "/" : "", b);
  return buf_take(&p);
}

static void layer__view_root(const struct layer_view *v,
                             struct layer_found *out) {
  memset(out, 0, sizeof(*out));
  out->exists = true;
  out->rel = xstrdup("");
  out->st.st_mode = S_IFDIR | 0755;
  if (v->n == 0)
    return;
  out->top = v->n - 1;
  out->host = xstrdup(v->dirs[v->n - 1]);
  struct stat st;
  if (lstat(out->host, &st) == 0 && S_ISDIR(st.st_mode))
    out->st = st;
  /* A layer whose root is opaque hides everything below it. */
  for (size_t i = v->n; i-- > 0;)
    if (layer__is_opaque(v->dirs[i])) {
      out->lo = i;
      break;
    }
}

int layer_view_child(const struct layer_view *v, const struct layer_found *dir,
                     const char *name, struct layer_found *out,
                     struct err *err) {
  memset(out, 0, sizeof(*out));
  out->rel = layer__join(dir->rel, name);
  if (!dir->exists || !S_ISDIR(dir->st.st_mode) || v->n == 0)
    return 0;
  size_t lo = dir->lo;
  /* Layers above dir->top lack the directory, those below dir->lo are
   * hidden from it; in between, dir's path is a directory or absent, so
   * lstat below never passes through a symlink of a layer. */
  for (size_t i = dir->top + 1; i-- > dir->lo;) {
    char *p = layer__join(v->dirs[i], out->rel);
    struct stat st;
    if (lstat(p, &st) != 0) {
      int e = errno;
      free(p);
      if (e == ENOENT || e == ENOTDIR)
        continue;
      int rc = err_set(err, ERR_IO, "lstat %s: %s", out->rel, strerror(e));
      layer_found_cleanup(out);
      return rc;
    }
    if (!out->exists) {
      if (layer__is_whiteout(&st)) {
        free(p);
        break;
      }
      out->exists = true;
      out->top = i;
      out->st = st;
      out->host = p;
      if (!S_ISDIR(st.st_mode) || layer__is_opaque(p)) {
        lo = i;
        break;
      }
      continue;
    }
    bool stop_below = layer__is_whiteout(&st) || !S_ISDIR(st.st_mode);
    bool opaque = !stop_below && layer__is_opaque(p);
    free(p);
    if (stop_below) {
      lo = i + 1;
      break;
    }
    if (opaque) {
      lo = i;
      break;
    }
  }
  out->lo = out->exists ? lo : 0;
  return 0;
}

/* layer_view_resolve's position: stack[k] is the k-th component of the
 * path resolved so far, stack[0] the root. */
struct layer__viewpos {
  const struct layer_view *v;
  struct layer_found *stack;
  size_t depth, cap;
};

static int layer__view_enter(void *self, const char *comp, bool follow,
                             char *target, size_t cap, bool *is_link,
                             struct err *err) {
  struct layer__viewpos *w = self;
  struct layer_found f;
  int rc = layer_view_child(w->v, &w->stack[w->depth - 1], comp, &f, err);
  if (rc < 0)
    return rc;
  if (follow && f.exists && S_ISLNK(f.st.st_mode)) {
    /* read from the layer that holds it, never through the host's
     * lookup of a path with a link in it */
    ssize_t tn = readlink(f.host, target, cap - 1);
    if (tn < 0)
      rc = err_set(err, ERR_IO, "readlink %s: %s", f.rel, strerror(errno));
    else
      target[tn] = '\0';
    layer_found_cleanup(&f);
    *is_link = rc == 0;
    return rc;
  }
  if (w->depth == w->cap) {
    w->cap *= 2;
    w->stack = xrealloc(w->stack, w->cap * sizeof(*w->stack));
  }
  w->stack[w->depth++] = f;
  return 0;
}

static void layer__view_up(void *self) {
  struct layer__viewpos *w = self;
  if (w->depth > 1)
    layer_found_cleanup(&w->stack[--w->depth]);
}

static void layer__view_to_root(void *self) {
  struct layer__viewpos *w = self;
  while (w->depth > 1)
    layer_found_cleanup(&w->stack[--w->depth]);
}

int layer_view_resolve(const struct layer_view *v, const char *path,
                       bool follow_last, struct layer_found *out,
                       struct err *err) {
  static const struct layer__walker view = {layer__view_enter, layer__view_up,
                                            layer__view_to_root};
  memset(out, 0, sizeof(*out));
  struct layer__viewpos w = {v, xcalloc(1, sizeof(struct layer_found)), 1, 1};
  layer__view_root(v, &w.stack[0]);
  int rc = layer__walk(path, follow_last, &view, &w, err);
  if (rc == 0) {
    *out = w.stack[--w.depth];
    memset(&w.stack[w.depth], 0, sizeof(w.stack[w.depth]));
  }
  while (w.depth > 0)
    layer_found_cleanup(&w.stack[--w.depth]);
  free(w.stack);
  return rc;
}

struct layer__name {
  char *name;
  size_t order; /* discovery order: higher layers first */
  bool whiteout;
};

static int layer__name_cmp(const void *a, const void *b) {
  const struct layer__name *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  if (c)
    return c;
  return x->order < y->order ? -1 : x->order > y->order;
}

int layer_view_list(const struct layer_view *v, const struct layer_found *dir,
                    struct strv *names, struct err *err) {
  if (!dir->exists || !S_ISDIR(dir->st.st_mode) || v->n == 0)
    return 0;
  struct layer__name *all = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  for (size_t i = dir->top + 1; rc == 0 && i-- > dir->lo;) {
    char *p = layer__join(v->dirs[i], dir->rel);
    DIR *d = opendir(p);
    if (d == NULL) {
      if (errno != ENOENT && errno != ENOTDIR)
        rc = err_set(err, ERR_IO, "open %s: %s", dir->rel, strerror(errno));
      free(p);
      continue;
    }
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
        continue;
      if (n >= DW_MAX_LAYER_ENTRIES) {
        rc = err_set(err, ERR_TOOBIG, "%s: more than %u entries", dir->rel,
                     DW_MAX_LAYER_ENTRIES);
        break;
      }
      bool wh = false;
      if (de->d_type == DT_CHR || de->d_type == DT_UNKNOWN) {
        struct stat st;
        struct buf c = BUF_INIT;
        buf_printf(&c, "%s/%s", p, de->d_name);
        wh = lstat(c.data, &st) == 0 && layer__is_whiteout(&st);
        buf_cleanup(&c);
      }
      if (n == cap) {
        cap = cap ? cap * 2 : 64;
        all = xrealloc(all, cap * sizeof(*all));
      }
      all[n].name = xstrdup(de->d_name);
      all[n].order = n;
      all[n].whiteout = wh;
      n++;
    }
    closedir(d);
    free(p);
  }
  if (n > 1)
    qsort(all, n, sizeof(*all), layer__name_cmp);
  for (size_t i = 0; i < n; i++) {
    /* The first of each name is its topmost copy. */
    bool first = i == 0 || strcmp(all[i - 1].name, all[i].name) != 0;
    if (rc == 0 && first && !all[i].whiteout)
      strv_push(names, all[i].name);
  }
  for (size_t i = 0; i < n; i++)
    free(all[i].name);
  free(all);
  return rc;
}
