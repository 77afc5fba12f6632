/*
 * layer_apply.c - applying a layer blob to a directory, or extracting it as an
 * overlayfs lower layer (whiteouts, opaque directories, hardlinks, scoped
 * paths).
 * See layer.h for the rules.
 */
#include "layer.h"
#include "layer_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/ceilings.h"

/* --- applying --------------------------------------------------------- */

/* A set of strings (paths this layer created), open addressing. */
struct layer__set {
  char **slot;
  size_t cap, n;
};

static uint64_t layer__hash(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static void layer__set_add(struct layer__set *set, const char *s);
static void layer__set_grow(struct layer__set *set) {
  struct layer__set old = *set;
  set->cap = old.cap ? old.cap * 2 : 1024;
  set->slot = xcalloc(set->cap, sizeof(char *));
  set->n = 0;
  for (size_t i = 0; i < old.cap; i++)
    if (old.slot[i]) {
      layer__set_add(set, old.slot[i]);
      free(old.slot[i]);
    }
  free(old.slot);
}

static bool layer__set_has(const struct layer__set *set, const char *s) {
  if (set->cap == 0)
    return false;
  for (size_t i = layer__hash(s) & (set->cap - 1);;
       i = (i + 1) & (set->cap - 1)) {
    if (set->slot[i] == NULL)
      return false;
    if (strcmp(set->slot[i], s) == 0)
      return true;
  }
}

static void layer__set_add(struct layer__set *set, const char *s) {
  if ((set->n + 1) * 2 > set->cap)
    layer__set_grow(set);
  size_t i = layer__hash(s) & (set->cap - 1);
  while (set->slot[i]) {
    if (strcmp(set->slot[i], s) == 0)
      return;
    i = (i + 1) & (set->cap - 1);
  }
  set->slot[i] = xstrdup(s);
  set->n++;
}

static void layer__set_free(struct layer__set *set) {
  for (size_t i = 0; i < set->cap; i++)
    free(set->slot[i]);
  free(set->slot);
  memset(set, 0, sizeof(*set));
}

static int layer__rm_cb(const char *p, const struct stat *sb, int flag,
                        struct FTW *ftw) {
  (void)sb;
  (void)ftw;
  if (flag == FTW_DP)
    return rmdir(p) == 0 || errno == ENOENT ? 0 : -1;
  return unlink(p) == 0 || errno == ENOENT ? 0 : -1;
}

/* Removes path (file or tree) without following symlinks. */
static int layer__rm(const char *path, struct err *err) {
  struct stat st;
  if (lstat(path, &st) != 0)
    return 0;
  if (!S_ISDIR(st.st_mode)) {
    if (unlink(path) != 0 && errno != ENOENT)
      return err_set(err, ERR_IO, "remove %s: %s", path, strerror(errno));
    return 0;
  }
  if (nftw(path, layer__rm_cb, 64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0)
    return err_set(err, ERR_IO, "remove %s: %s", path, strerror(errno));
  return 0;
}

/* Opaque directory: remove what lower layers put in dir. */
static int layer__opaque(const char *dir, const struct layer__set *created,
                         struct err *err) {
  struct stat st;
  if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
    return 0;
  struct strv names = STRV_INIT;
  if (store_dir_names(dir, true, &names) < 0)
    return 0;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < names.n; i++) {
    struct buf p = BUF_INIT;
    buf_printf(&p, "%s/%s", dir, names.v[i]);
    if (!layer__set_has(created, p.data))
      rc = layer__rm(p.data, err);
    buf_cleanup(&p);
  }
  strv_cleanup(&names);
  return rc;
}

void layer_read_filters(struct archive *a) {
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_bzip2(a);
  archive_read_support_filter_xz(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_filter_none(a);
}

/* A whiteout entry (".wh.NAME" or the opaque marker) in directory
 * rparent: applied (what it hides removed) or, for an overlay lower
 * layer, kept in overlayfs's own form (a 0/0 character device, the opaque
 * xattr on the directory). */
static int layer__whiteout(const char *rparent, const char *base, bool overlay,
                           struct layer__set *created, struct err *err) {
  bool opq = strcmp(base, ".wh..wh..opq") == 0;
  const char *name = base + 4;
  bool named = name[0] != '\0' && strcmp(name, ".") && strcmp(name, "..");
  int rc = 0;
  if (!overlay) {
    if (opq)
      return layer__opaque(rparent, created, err);
    if (named) {
      struct buf t = BUF_INIT;
      buf_printf(&t, "%s/%s", rparent, name);
      rc = layer__rm(t.data, err);
      buf_cleanup(&t);
    }
    return rc;
  }
  struct stat pst;
  if (lstat(rparent, &pst) != 0)
    rc = store_mkdirs(rparent, err);
  if (rc == 0 && opq) {
    if (lsetxattr(rparent, LAYER_OVL_OPAQUE, "y", 1, 0) != 0)
      rc =
          err_set(err, ERR_IO, "mark %s opaque: %s", rparent, strerror(errno));
  } else if (rc == 0 && named) {
    struct buf t = BUF_INIT;
    buf_printf(&t, "%s/%s", rparent, name);
    rc = layer__rm(t.data, err);
    if (rc == 0 && mknod(t.data, S_IFCHR | 0, makedev(0, 0)) != 0)
      rc = err_set(err, ERR_IO, "whiteout %s: %s", t.data, strerror(errno));
    buf_cleanup(&t);
  }
  return rc;
}

/* A hardlink's target, resolved inside root; it must exist and not be a
 * directory. */
static int layer__hardlink(struct archive_entry *e, const char *root,
                           const char *clean, const char *hl,
                           struct err *err) {
  char *hclean = NULL, *hres = NULL;
  int rc = 0;
  if (!layer_clean_path(hl, &hclean) || hclean[0] == '\0') {
    rc = err_set(err, ERR_PERM,
                 "hardlink \"%.200s\" -> \"%.200s\" leaves the root; refused",
                 clean, hl);
  } else {
    rc = layer_resolve(root, hclean, false, &hres, err);
    struct stat hs;
    if (rc == 0 && (lstat(hres, &hs) != 0 || S_ISDIR(hs.st_mode)))
      rc = err_set(err, ERR_INVALID,
                   "hardlink %.200s: target %.200s missing or a directory",
                   clean, hl);
    if (rc == 0)
      archive_entry_set_hardlink(e, hres);
  }
  free(hclean);
  free(hres);
  return rc;
}

/* Writes entry e (its data from in) at target. */
static int layer__write(struct archive *in, struct archive *out,
                        struct archive_entry *e, const char *target,
                        const char *clean, const char *blob_path,
                        struct err *err) {
  archive_entry_set_pathname(e, target);
  int rc = 0;
  if (archive_write_header(out, e) < ARCHIVE_WARN)
    return err_set(err, ERR_IO, "extract %.200s: %s", clean,
                   archive_error_string(out));
  if (archive_entry_size(e) > 0 && archive_entry_hardlink(e) == NULL) {
    const void *buf;
    size_t sz;
    la_int64_t off;
    int dr;
    while ((dr = archive_read_data_block(in, &buf, &sz, &off)) == ARCHIVE_OK) {
      if (archive_write_data_block(out, buf, sz, off) < ARCHIVE_WARN) {
        rc = err_set(err, ERR_IO, "extract %.200s: %s", clean,
                     archive_error_string(out));
        break;
      }
    }
    if (rc == 0 && dr != ARCHIVE_EOF)
      rc = err_set(err, ERR_SYNTAX, "layer %s: %s", blob_path,
                   archive_error_string(in));
  }
  if (rc == 0 && archive_write_finish_entry(out) < ARCHIVE_WARN)
    rc = err_set(err, ERR_IO, "extract %.200s: %s", clean,
                 archive_error_string(out));
  return rc;
}

/* One entry of the layer: its path cleaned and resolved inside root;
 * then a whiteout, a device (skipped), or a file, directory or link that
 * replaces what is there (unless both are directories). */
static int layer__entry(struct archive *in, struct archive *out,
                        struct archive_entry *e, const char *root,
                        bool overlay, const char *blob_path,
                        struct layer__set *created,
                        struct layer_apply_stats *stats, struct err *err) {
  const char *raw = archive_entry_pathname(e);
  char *clean = NULL;
  if (raw == NULL || !layer_clean_path(raw, &clean)) {
    free(clean);
    return err_set(err, ERR_PERM,
                   "layer entry \"%.200s\" leaves the root; "
                   "refused",
                   raw ? raw : "(null)");
  }
  if (clean[0] == '\0') {
    free(clean);
    return 0; /* the root itself */
  }
  char *slash = strrchr(clean, '/');
  const char *base = slash ? slash + 1 : clean;
  char *parent =
      slash ? xstrndup(clean, (size_t)(slash - clean)) : xstrdup("");
  char *rparent = NULL;
  int rc = layer_resolve(root, parent, true, &rparent, err);
  free(parent);
  mode_t type = archive_entry_filetype(e);
  if (rc < 0) {
    /* keep rc */
  } else if (strncmp(base, ".wh.", 4) == 0) {
    stats->whiteouts++;
    rc = layer__whiteout(rparent, base, overlay, created, err);
  } else if (type == AE_IFCHR || type == AE_IFBLK) {
    stats->skipped_devices++;
  } else {
    struct buf target = BUF_INIT;
    buf_printf(&target, "%s/%s", rparent, base);
    struct stat st;
    if (lstat(target.data, &st) == 0 &&
        !(S_ISDIR(st.st_mode) && type == AE_IFDIR))
      rc = layer__rm(target.data, err);
    const char *hl = archive_entry_hardlink(e);
    if (rc == 0 && hl)
      rc = layer__hardlink(e, root, clean, hl, err);
    if (rc == 0)
      rc = layer__write(in, out, e, target.data, clean, blob_path, err);
    if (rc == 0)
      layer__set_add(created, target.data);
    buf_cleanup(&target);
  }
  free(rparent);
  free(clean);
  return rc;
}

static int layer__apply(const char *blob_path, const char *root, bool overlay,
                        const atomic_bool *cancel,
                        struct layer_apply_stats *stats, struct err *err) {
  struct layer_apply_stats local;
  if (stats == NULL)
    stats = &local;
  memset(stats, 0, sizeof(*stats));
  struct archive *in = archive_read_new();
  layer_read_filters(in);
  archive_read_support_format_tar(in);
  struct archive *out = archive_write_disk_new();
  /* No ARCHIVE_EXTRACT_SECURE_SYMLINKS: every path handed to the writer
   * is already resolved inside the root by layer_resolve, and an existing
   * last component is removed first, so libarchive's own walk (an open
   * and a stat per path component, most of an extraction's system calls)
   * would only repeat that check. */
  int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
              ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_NODOTDOT;
  if (geteuid() == 0)
    flags |= ARCHIVE_EXTRACT_OWNER;
  archive_write_disk_set_options(out, flags);
  int rc = 0;
  if (archive_read_open_filename(in, blob_path, 1 << 20) != ARCHIVE_OK)
    rc = err_set(err, ERR_IO, "open layer %s: %s", blob_path,
                 archive_error_string(in));
  struct layer__set created = {0};
  struct archive_entry *e;
  while (rc == 0) {
    /* ARCHIVE_WARN: a name not in the reader's charset, kept as bytes. */
    int r = archive_read_next_header(in, &e);
    if (r == ARCHIVE_EOF)
      break;
    if (r < ARCHIVE_WARN)
      rc = err_set(err, ERR_SYNTAX, "layer %s: %s", blob_path,
                   archive_error_string(in));
    else if (cancel && atomic_load(cancel))
      rc = err_set(err, ERR_CANCELLED, "cancelled");
    else if (++stats->entries > DW_MAX_LAYER_ENTRIES)
      rc = err_set(err, ERR_TOOBIG, "layer with more than %u entries",
                   DW_MAX_LAYER_ENTRIES);
    else
      rc = layer__entry(in, out, e, root, overlay, blob_path, &created, stats,
                        err);
  }
  if (archive_write_close(out) != ARCHIVE_OK && rc == 0)
    rc = err_set(err, ERR_IO, "extract: %s", archive_error_string(out));
  archive_write_free(out);
  archive_read_free(in);
  layer__set_free(&created);
  return rc;
}

int layer_apply(const char *blob_path, const char *root,
                const atomic_bool *cancel, struct layer_apply_stats *stats,
                struct err *err) {
  return layer__apply(blob_path, root, false, cancel, stats, err);
}

int layer_extract_lower(const char *blob_path, const char *dir,
                        const atomic_bool *cancel,
                        struct layer_apply_stats *stats, struct err *err) {
  return layer__apply(blob_path, dir, true, cancel, stats, err);
}
