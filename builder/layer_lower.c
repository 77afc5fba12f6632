/*
 * layer_lower.c - a RUN's overlay upper directory, once its layer is
 * packed, turned into the lower directory layer_extract_lower would make
 * from that layer's blob.
 *
 * WHY: the next RUN stacks this layer as an overlay lower; extracting the
 * blob we have just written costs a decompression and a copy of every
 * file (about a second per 50 MB), while the upper directory already
 * holds the same tree in the same form (0/0 character devices for
 * whiteouts, the opaque xattr).  What differs is what the layer leaves
 * out: mount points the RUN setup made, device nodes and sockets,
 * directories copied up only for a mount point, overlay's own xattrs
 * (origin, impure), and times the packer clamped.  Those are removed or
 * set here from the packed entry list, so the tree equals the blob's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/ceilings.h"
#include "layer.h"

struct lower__walk {
  const struct layer_entry **sorted; /* borrowed entries, by strcmp(path) */
  size_t n;
  struct err *err;
};

static int lower__cmp(const void *a, const void *b) {
  const struct layer_entry *const *x = a, *const *y = b;
  return strcmp((*x)->path, (*y)->path);
}

static int lower__key_cmp(const void *key, const void *elem) {
  const struct layer_entry *const *e = elem;
  return strcmp(key, (*e)->path);
}

static bool lower__in_layer(const struct lower__walk *w, const char *rel) {
  return bsearch(rel, w->sorted, w->n, sizeof(*w->sorted), lower__key_cmp) !=
         NULL;
}

/* Drops overlay's private xattrs except the opaque marker the layer
 * carries as .wh..wh..opq. */
static void lower__strip_xattrs(const char *path) {
  char names[65536];
  ssize_t n = llistxattr(path, names, sizeof(names));
  for (ssize_t i = 0; i < n;) {
    const char *name = names + i;
    i += (ssize_t)strlen(name) + 1;
    bool ovl = strncmp(name, "user.overlay.", 13) == 0 ||
               strncmp(name, "trusted.overlay.", 16) == 0;
    if (ovl && strcmp(name, LAYER_OVL_OPAQUE) != 0)
      (void)lremovexattr(path, name);
  }
}

/* Post-order: a directory is judged after what is in it. */
static int lower__walk_dir(struct lower__walk *w, const char *host,
                           const char *rel, unsigned depth) {
  if (depth > DW_MAX_PATH_DEPTH)
    return err_set(w->err, ERR_TOOBIG, "%s: deeper than %u", rel,
                   DW_MAX_PATH_DEPTH);
  struct strv names = STRV_INIT;
  if (store_dir_names(host, true, &names) < 0)
    return err_set(w->err, ERR_IO, "open %s: %s", host, strerror(errno));
  int rc = 0;
  struct buf h = BUF_INIT, r = BUF_INIT;
  for (size_t i = 0; rc == 0 && i < names.n; i++) {
    buf_reset(&h);
    buf_reset(&r);
    buf_printf(&h, "%s/%s", host, names.v[i]);
    struct stat st;
    if (lstat(h.data, &st) != 0) {
      rc = err_set(w->err, ERR_IO, "lstat %s: %s", h.data, strerror(errno));
      break;
    }
    bool whiteout = S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
    buf_printf(&r, "%s%s%s%s", rel, rel[0] ? "/" : "", whiteout ? ".wh." : "",
               names.v[i]);
    if (S_ISDIR(st.st_mode)) {
      rc = lower__walk_dir(w, h.data, r.data, depth + 1);
      if (rc < 0)
        break;
      if (!lower__in_layer(w, r.data)) {
        /* Left out of the layer (a mount point, or copied up only for
         * one): the lower layers' copy shows through, as after an
         * extraction.  Not empty: what the command put inside is in the
         * layer, and extraction would have made this parent too. */
        if (rmdir(h.data) == 0)
          continue;
      }
      lower__strip_xattrs(h.data);
    } else if (!lower__in_layer(w, r.data)) {
      if (unlink(h.data) != 0 && errno != ENOENT)
        rc = err_set(w->err, ERR_IO, "remove %s: %s", h.data, strerror(errno));
    } else if (!whiteout) {
      lower__strip_xattrs(h.data);
    }
  }
  buf_cleanup(&h);
  buf_cleanup(&r);
  strv_cleanup(&names);
  return rc;
}

int layer_upper_to_lower(const char *upper, const struct layer_list *packed,
                         const struct layer_pack_opts *o, struct err *err) {
  struct lower__walk w = {.n = packed->n, .err = err};
  w.sorted = xmalloc((packed->n ? packed->n : 1) * sizeof(*w.sorted));
  for (size_t i = 0; i < packed->n; i++)
    w.sorted[i] = &packed->v[i];
  qsort(w.sorted, w.n, sizeof(*w.sorted), lower__cmp);
  int rc = lower__walk_dir(&w, upper, "", 0);
  free(w.sorted);
  /* Times last: removing entries above changed their parents' mtimes.
   * The packer wrote these times (clamped to SOURCE_DATE_EPOCH), and an
   * extraction would have set them. */
  struct buf p = BUF_INIT;
  for (size_t i = 0; rc == 0 && i < packed->n; i++) {
    const struct layer_entry *e = &packed->v[i];
    const char *base = strrchr(e->path, '/');
    base = base ? base + 1 : e->path;
    if (strncmp(base, ".wh.", 4) == 0)
      continue; /* whiteouts and opaque markers: not files in a lower */
    buf_reset(&p);
    buf_printf(&p, "%s/%s", upper, e->path);
    struct timespec ts[2] = {
        {.tv_nsec = UTIME_OMIT},
        {.tv_sec = (time_t)layer_packed_mtime(e, o), .tv_nsec = 0}};
    if (utimensat(AT_FDCWD, p.data, ts, AT_SYMLINK_NOFOLLOW) != 0 &&
        errno != ENOENT)
      rc =
          err_set(err, ERR_IO, "set times of %s: %s", p.data, strerror(errno));
  }
  buf_cleanup(&p);
  /* An extracted lower's root is a fresh 0755 directory. */
  if (rc == 0 && chmod(upper, 0755) != 0)
    rc = err_set(err, ERR_IO, "chmod %s: %s", upper, strerror(errno));
  return rc;
}
