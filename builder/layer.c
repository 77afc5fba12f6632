/*
 * layer.c - pack entries into a layer blob; apply a layer to a directory.
 * See layer.h for the rules.
 */
#include "layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "../common/buf.h"
#include "../common/ceilings.h"
#include "pgzip.h"

/* --- entries ---------------------------------------------------------- */

void layer_list_init(struct layer_list *l) {
  memset(l, 0, sizeof(*l));
}

static void layer__entry_cleanup(struct layer_entry *e) {
  free(e->path);
  free(e->src);
  free(e->data);
  free(e->link);
  for (size_t i = 0; i < e->nxattrs; i++) {
    free(e->xattrs[i].name);
    free(e->xattrs[i].value);
  }
  free(e->xattrs);
}

void layer_list_cleanup(struct layer_list *l) {
  for (size_t i = 0; i < l->n; i++)
    layer__entry_cleanup(&l->v[i]);
  free(l->v);
  memset(l, 0, sizeof(*l));
}

struct layer_entry *layer_list_add(struct layer_list *l, const char *path) {
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 64;
    l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
  }
  struct layer_entry *e = &l->v[l->n++];
  memset(e, 0, sizeof(*e));
  e->path = xstrdup(path);
  return e;
}

/* Component-wise order: '/' sorts before every other byte. */
static int layer__path_cmp(const char *a, const char *b) {
  for (;; a++, b++) {
    unsigned char ca = (unsigned char)*a, cb = (unsigned char)*b;
    if (ca == cb) {
      if (ca == 0)
        return 0;
      continue;
    }
    if (ca == 0)
      return -1;
    if (cb == 0)
      return 1;
    if (ca == '/')
      return -1;
    if (cb == '/')
      return 1;
    return ca < cb ? -1 : 1;
  }
}

struct layer__idx {
  const struct layer_entry *e;
  size_t order;
};

static int layer__idx_cmp(const void *x, const void *y) {
  const struct layer__idx *a = x, *b = y;
  int c = layer__path_cmp(a->e->path, b->e->path);
  if (c)
    return c;
  return a->order < b->order ? -1 : a->order > b->order;
}

void layer_list_sort(struct layer_list *l) {
  if (l->n < 2)
    return;
  struct layer__idx *ix = xmalloc(l->n * sizeof(*ix));
  for (size_t i = 0; i < l->n; i++) {
    ix[i].e = &l->v[i];
    ix[i].order = i;
  }
  qsort(ix, l->n, sizeof(*ix), layer__idx_cmp);
  struct layer_entry *nv = xmalloc(l->cap * sizeof(*nv));
  size_t m = 0;
  for (size_t i = 0; i < l->n; i++) {
    /* Keep the last of equal paths (stable sort by insertion order). */
    if (i + 1 < l->n && strcmp(ix[i].e->path, ix[i + 1].e->path) == 0) {
      layer__entry_cleanup((struct layer_entry *)ix[i].e);
      continue;
    }
    nv[m++] = *ix[i].e;
  }
  free(ix);
  free(l->v);
  l->v = nv;
  l->n = m;
  /* A hardlink must follow its target in the tar: when the target sorts
   * later, the first of the group becomes the file and the rest link to
   * it. */
  for (size_t i = 0; i < l->n; i++) {
    struct layer_entry *e = &l->v[i];
    if (!e->hardlink || e->link == NULL)
      continue;
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (layer__path_cmp(l->v[mid].path, e->link) < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo >= l->n || strcmp(l->v[lo].path, e->link) != 0 || lo < i)
      continue;
    struct layer_entry *t = &l->v[lo];
    char *old = t->path;
    e->hardlink = false;
    free(e->link);
    e->link = NULL;
    e->src = t->src;
    e->data = t->data;
    e->size = t->size;
    t->src = NULL;
    t->data = NULL;
    t->hardlink = true;
    t->link = xstrdup(e->path);
    for (size_t k = i + 1; k < l->n; k++)
      if (k != lo && l->v[k].hardlink && l->v[k].link &&
          strcmp(l->v[k].link, old) == 0) {
        free(l->v[k].link);
        l->v[k].link = xstrdup(e->path);
      }
  }
}

/* --- packing ---------------------------------------------------------- */

int64_t layer_packed_mtime(const struct layer_entry *e,
                           const struct layer_pack_opts *o) {
  return o->clamp && e->mtime > o->epoch ? o->epoch : e->mtime;
}

#define LAYER_OUT_CHUNK (1u << 20)

struct layer__sink {
  const struct layer_pack_opts *o;
  struct store_writer w;
  struct digest_ctx diffid;
  struct pgzip *gz;
  ZSTD_CCtx *zs;
  unsigned char *out;
  struct err *err;
  int rc;
};

static int layer__emit(struct layer__sink *s, const void *data, size_t n) {
  if (s->rc == 0 && n)
    s->rc = store_writer_write(&s->w, data, n, s->err);
  return s->rc;
}

/* Compresses in[0..n); with finish set, flushes the stream's end. */
static int layer__compress(struct layer__sink *s, const void *in, size_t n,
                           bool finish) {
  if (s->o->compression == LAYER_UNCOMPRESSED)
    return layer__emit(s, in, n);
  if (s->o->compression == LAYER_GZIP) {
    int rc = finish ? pgzip_finish(s->gz, s->err)
                    : pgzip_write(s->gz, in, n, s->err);
    if (rc < 0 && s->rc == 0)
      s->rc = rc;
    return s->rc;
  }
  ZSTD_inBuffer ib = {in, n, 0};
  for (;;) {
    ZSTD_outBuffer ob = {s->out, LAYER_OUT_CHUNK, 0};
    size_t left = ZSTD_compressStream2(s->zs, &ob, &ib,
                                       finish ? ZSTD_e_end : ZSTD_e_continue);
    if (ZSTD_isError(left))
      return s->rc = err_set(s->err, ERR_INTERNAL, "zstd: %s",
                             ZSTD_getErrorName(left));
    if (layer__emit(s, s->out, ob.pos) < 0)
      return s->rc;
    if (finish ? left == 0 : ib.pos == ib.size)
      break;
  }
  return 0;
}

static int layer__gz_out(void *ctx, const void *data, size_t n,
                         struct err *err) {
  struct layer__sink *s = ctx;
  (void)err; /* layer__emit reports through s->err, the same struct */
  return layer__emit(s, data, n);
}

static la_ssize_t layer__write_cb(struct archive *a, void *ctx,
                                  const void *buf, size_t n) {
  struct layer__sink *s = ctx;
  digest_update(&s->diffid, buf, n);
  if (layer__compress(s, buf, n, false) < 0) {
    archive_set_error(a, EIO, "layer write failed");
    return -1;
  }
  return (la_ssize_t)n;
}

static int layer__write_entry(struct archive *a, struct archive_entry *ae,
                              const struct layer_entry *e,
                              const struct layer_pack_opts *o, char *buf,
                              size_t bufsz, struct err *err) {
  archive_entry_clear(ae);
  bool dir = S_ISDIR(e->mode);
  struct buf name = BUF_INIT;
  buf_puts(&name, e->path);
  if (dir)
    buf_putc(&name, '/');
  archive_entry_set_pathname(ae, name.data);
  buf_cleanup(&name);
  archive_entry_set_mtime(ae, (time_t)layer_packed_mtime(e, o), 0);
  archive_entry_set_uid(ae, e->uid);
  archive_entry_set_gid(ae, e->gid);
  archive_entry_set_perm(ae, e->mode & 07777);
  for (size_t i = 0; i < e->nxattrs; i++)
    archive_entry_xattr_add_entry(ae, e->xattrs[i].name, e->xattrs[i].value,
                                  e->xattrs[i].len);
  int fd = -1;
  uint64_t size = 0;
  if (e->hardlink) {
    archive_entry_set_filetype(ae, AE_IFREG);
    archive_entry_set_hardlink(ae, e->link);
    archive_entry_set_size(ae, 0);
  } else if (S_ISLNK(e->mode)) {
    archive_entry_set_filetype(ae, AE_IFLNK);
    archive_entry_set_symlink(ae, e->link);
  } else if (dir) {
    archive_entry_set_filetype(ae, AE_IFDIR);
  } else if (S_ISREG(e->mode)) {
    archive_entry_set_filetype(ae, AE_IFREG);
    if (e->src) {
      fd = open(e->src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      struct stat st;
      if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int en = errno;
        if (fd >= 0)
          close(fd);
        return err_set(err, ERR_IO, "read %s: %s", e->src,
                       fd >= 0 ? "not a regular file" : strerror(en));
      }
      size = (uint64_t)st.st_size;
    } else {
      size = e->size;
    }
    archive_entry_set_size(ae, (la_int64_t)size);
  } else if (S_ISFIFO(e->mode)) {
    archive_entry_set_filetype(ae, AE_IFIFO);
  } else {
    return err_set(err, ERR_UNSUPPORTED, "%s: file type not packed", e->path);
  }
  /* ARCHIVE_WARN: written, but a name is not UTF-8, so the pax writer
   * carried it as bytes (a "hdrcharset=BINARY" record). */
  if (archive_write_header(a, ae) < ARCHIVE_WARN) {
    if (fd >= 0)
      close(fd);
    return err_set(err, ERR_IO, "tar header %s: %s", e->path,
                   archive_error_string(a));
  }
  if (e->data && !e->hardlink && S_ISREG(e->mode)) {
    if (archive_write_data(a, e->data, size) < 0)
      return err_set(err, ERR_IO, "tar %s: %s", e->path,
                     archive_error_string(a));
  } else if (fd >= 0) {
    uint64_t left = size;
    while (left) {
      size_t want = left < bufsz ? (size_t)left : bufsz;
      ssize_t n = read(fd, buf, want);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        /* The file shrank while we read it: pad, as tar does. */
        if (n < 0) {
          close(fd);
          return err_set(err, ERR_IO, "read %s: %s", e->src, strerror(errno));
        }
        memset(buf, 0, want);
        n = (ssize_t)want;
      }
      if (archive_write_data(a, buf, (size_t)n) < 0) {
        close(fd);
        return err_set(err, ERR_IO, "tar %s: %s", e->path,
                       archive_error_string(a));
      }
      left -= (uint64_t)n;
    }
    close(fd);
  }
  return 0;
}

int layer_pack(const struct layer_list *l, const struct layer_pack_opts *o,
               struct store *store, struct layer_info *out, struct err *err) {
  memset(out, 0, sizeof(*out));
  struct layer__sink s;
  memset(&s, 0, sizeof(s));
  s.o = o;
  s.err = err;
  int rc = store_writer_open(store, &s.w, err);
  if (rc < 0)
    return rc;
  digest_init(&s.diffid);
  s.out = xmalloc(LAYER_OUT_CHUNK);
  if (o->compression == LAYER_GZIP) {
    /* Blocks compressed on every core (pgzip.h); the same bytes on any
     * machine. */
    rc = pgzip_new(o->level ? o->level : 1, pgzip_default_workers(),
                   layer__gz_out, &s, &s.gz, err);
  } else if (o->compression == LAYER_ZSTD) {
    s.zs = ZSTD_createCCtx();
    if (s.zs == NULL)
      rc = err_set(err, ERR_NOMEM, "zstd context");
    else {
      ZSTD_CCtx_setParameter(s.zs, ZSTD_c_compressionLevel,
                             o->level ? o->level : 3);
      /* Worker threads compress while this one reads and hashes.  With
       * one worker or more, zstd cuts jobs by the parameters alone, so
       * the bytes do not depend on the count (checked with zstd 1.5.4:
       * -T1, -T2 and -T4 give one digest); a libzstd without threads
       * ignores this. */
      unsigned workers = pgzip_default_workers();
      (void)ZSTD_CCtx_setParameter(s.zs, ZSTD_c_nbWorkers,
                                   workers ? (int)workers : 1);
    }
  }
  /* Names are bytes.  The pax writer turns a name into UTF-8 from the
   * thread's locale: in a UTF-8 locale a UTF-8 name goes into a plain
   * "path" record, as Go's archive/tar (BuildKit) writes it, and a name
   * that is not UTF-8 keeps its bytes behind "hdrcharset=BINARY"; in the C
   * locale every non-ASCII name would take the second way.  uselocale is
   * per thread, and the writer reads the charset when it is created. */
  locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
  locale_t saved = utf8 != (locale_t)0 ? uselocale(utf8) : (locale_t)0;
  struct archive *a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  /* Unblocked: data goes straight through; ends with two zero blocks. */
  archive_write_set_bytes_per_block(a, 0);
  if (rc == 0 &&
      archive_write_open(a, &s, NULL, layer__write_cb, NULL) != ARCHIVE_OK)
    rc = err_set(err, ERR_INTERNAL, "tar writer: %s", archive_error_string(a));
  size_t bufsz = 1u << 20;
  char *buf = xmalloc(bufsz);
  struct archive_entry *ae = archive_entry_new();
  for (size_t i = 0; rc == 0 && i < l->n; i++) {
    if (o->cancel && atomic_load(o->cancel))
      rc = err_set(err, ERR_CANCELLED, "cancelled");
    else
      rc = layer__write_entry(a, ae, &l->v[i], o, buf, bufsz, err);
    if (rc == 0 && s.rc < 0)
      rc = s.rc;
  }
  archive_entry_free(ae);
  free(buf);
  if (rc == 0 && archive_write_close(a) != ARCHIVE_OK)
    rc = s.rc < 0 ? s.rc
                  : err_set(err, ERR_IO, "tar: %s", archive_error_string(a));
  archive_write_free(a);
  if (utf8 != (locale_t)0) {
    uselocale(saved);
    freelocale(utf8);
  }
  if (rc == 0)
    rc = layer__compress(&s, NULL, 0, true);
  pgzip_free(s.gz);
  if (s.zs)
    ZSTD_freeCCtx(s.zs);
  free(s.out);
  digest_final(&s.diffid, out->diffid);
  if (rc == 0) {
    out->size = s.w.size;
    rc = store_writer_commit(&s.w, NULL, out->digest, err);
  } else {
    store_writer_abort(&s.w);
  }
  return rc;
}

/* --- paths ------------------------------------------------------------ */

bool layer_clean_path(const char *in, char **out) {
  struct strv parts = STRV_INIT;
  const char *p = in;
  bool ok = true;
  while (*p) {
    while (*p == '/')
      p++;
    const char *s = p;
    while (*p && *p != '/')
      p++;
    size_t n = (size_t)(p - s);
    if (n == 0 || (n == 1 && s[0] == '.'))
      continue;
    if (n == 2 && s[0] == '.' && s[1] == '.') {
      if (parts.n == 0) {
        ok = false;
        continue;
      }
      free(parts.v[--parts.n]);
      continue;
    }
    strv_pushn(&parts, s, n);
  }
  struct buf b = BUF_INIT;
  for (size_t i = 0; i < parts.n; i++) {
    if (i)
      buf_putc(&b, '/');
    buf_puts(&b, parts.v[i]);
  }
  strv_cleanup(&parts);
  *out = buf_take(&b);
  return ok;
}

/* Replaces a symlink met at rest[..pos) by its target, followed by what
 * is left of the path; resolution goes on from the start of rest. */
static void layer__splice_link(struct buf *rest, size_t *pos,
                               const char *target) {
  struct buf nr = BUF_INIT;
  buf_puts(&nr, target);
  buf_putc(&nr, '/');
  buf_append(&nr, rest->data + *pos, rest->len - *pos);
  buf_cleanup(rest);
  *rest = nr;
  *pos = 0;
}

int layer_resolve(const char *root, const char *path, bool follow_last,
                  char **out, struct err *err) {
  *out = NULL;
  struct buf cur = BUF_INIT;
  buf_puts(&cur, root);
  size_t root_len = cur.len;
  struct buf rest = BUF_INIT;
  buf_puts(&rest, path);
  unsigned hops = 0, depth = 0;
  size_t pos = 0;
  bool missing = false;
  while (pos < rest.len) {
    while (pos < rest.len && rest.data[pos] == '/')
      pos++;
    if (pos >= rest.len)
      break;
    size_t s = pos;
    while (pos < rest.len && rest.data[pos] != '/')
      pos++;
    size_t n = pos - s;
    char comp[NAME_MAX + 1];
    if (n > NAME_MAX) {
      buf_cleanup(&cur);
      buf_cleanup(&rest);
      return err_set(err, ERR_TOOBIG, "path component too long");
    }
    memcpy(comp, rest.data + s, n);
    comp[n] = '\0';
    if (++depth > DW_MAX_PATH_DEPTH * 4) {
      buf_cleanup(&cur);
      buf_cleanup(&rest);
      return err_set(err, ERR_TOOBIG, "path too deep: %.100s", path);
    }
    if (strcmp(comp, ".") == 0)
      continue;
    if (strcmp(comp, "..") == 0) {
      char *sl = strrchr(cur.data, '/');
      if (cur.len > root_len && sl) {
        cur.len = (size_t)(sl - cur.data);
        cur.data[cur.len] = '\0';
      }
      continue;
    }
    size_t before = cur.len;
    buf_putc(&cur, '/');
    buf_puts(&cur, comp);
    if (missing)
      continue;
    bool last = true;
    for (size_t k = pos; k < rest.len; k++)
      if (rest.data[k] != '/') {
        last = false;
        break;
      }
    struct stat st;
    if (lstat(cur.data, &st) != 0) {
      missing = true; /* the rest is kept as written */
      continue;
    }
    if (!S_ISLNK(st.st_mode) || (last && !follow_last))
      continue;
    if (++hops > DW_MAX_SYMLINK_HOPS) {
      buf_cleanup(&cur);
      buf_cleanup(&rest);
      return err_set(err, ERR_TOOBIG, "too many symlinks in %.100s", path);
    }
    char target[PATH_MAX];
    ssize_t tn = readlink(cur.data, target, sizeof(target) - 1);
    if (tn < 0) {
      int rc =
          err_set(err, ERR_IO, "readlink %s: %s", cur.data, strerror(errno));
      buf_cleanup(&cur);
      buf_cleanup(&rest);
      return rc;
    }
    target[tn] = '\0';
    layer__splice_link(&rest, &pos, target);
    if (target[0] == '/') {
      cur.len = root_len;
      cur.data[cur.len] = '\0';
    } else {
      cur.len = before;
      cur.data[cur.len] = '\0';
    }
  }
  buf_cleanup(&rest);
  *out = buf_take(&cur);
  return 0;
}

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
    int r = archive_read_next_header(in, &e);
    if (r == ARCHIVE_EOF)
      break;
    if (r < ARCHIVE_WARN) {
      rc = err_set(err, ERR_SYNTAX, "layer %s: %s", blob_path,
                   archive_error_string(in));
      break;
    }
    if (cancel && atomic_load(cancel)) {
      rc = err_set(err, ERR_CANCELLED, "cancelled");
      break;
    }
    if (++stats->entries > DW_MAX_LAYER_ENTRIES) {
      rc = err_set(err, ERR_TOOBIG, "layer with more than %u entries",
                   DW_MAX_LAYER_ENTRIES);
      break;
    }
    const char *raw = archive_entry_pathname(e);
    char *clean = NULL;
    if (raw == NULL || !layer_clean_path(raw, &clean)) {
      rc = err_set(err, ERR_PERM,
                   "layer entry \"%.200s\" leaves the root; "
                   "refused",
                   raw ? raw : "(null)");
      free(clean);
      break;
    }
    if (clean[0] == '\0') {
      free(clean);
      continue; /* the root itself */
    }
    char *slash = strrchr(clean, '/');
    const char *base = slash ? slash + 1 : clean;
    char *parent =
        slash ? xstrndup(clean, (size_t)(slash - clean)) : xstrdup("");
    char *rparent = NULL;
    rc = layer_resolve(root, parent, true, &rparent, err);
    free(parent);
    if (rc < 0) {
      free(clean);
      break;
    }
    if (strncmp(base, ".wh.", 4) == 0 && overlay) {
      /* An overlay lower layer keeps whiteouts in overlayfs's own form:
       * a 0/0 character device, an opaque xattr on the directory. */
      stats->whiteouts++;
      struct stat pst;
      if (lstat(rparent, &pst) != 0)
        rc = store_mkdirs(rparent, err);
      if (rc == 0 && strcmp(base, ".wh..wh..opq") == 0) {
        if (lsetxattr(rparent, LAYER_OVL_OPAQUE, "y", 1, 0) != 0)
          rc = err_set(err, ERR_IO, "mark %s opaque: %s", rparent,
                       strerror(errno));
      } else if (rc == 0 && base[4] != '\0' && strcmp(base + 4, ".") &&
                 strcmp(base + 4, "..")) {
        struct buf t = BUF_INIT;
        buf_printf(&t, "%s/%s", rparent, base + 4);
        rc = layer__rm(t.data, err);
        if (rc == 0 && mknod(t.data, S_IFCHR | 0, makedev(0, 0)) != 0)
          rc =
              err_set(err, ERR_IO, "whiteout %s: %s", t.data, strerror(errno));
        buf_cleanup(&t);
      }
      free(rparent);
      free(clean);
      continue;
    }
    if (strncmp(base, ".wh.", 4) == 0) {
      stats->whiteouts++;
      if (strcmp(base, ".wh..wh..opq") == 0) {
        rc = layer__opaque(rparent, &created, err);
      } else if (base[4] != '\0') {
        struct buf t = BUF_INIT;
        buf_printf(&t, "%s/%s", rparent, base + 4);
        if (strcmp(base + 4, ".") && strcmp(base + 4, ".."))
          rc = layer__rm(t.data, err);
        buf_cleanup(&t);
      }
      free(rparent);
      free(clean);
      continue;
    }
    mode_t type = archive_entry_filetype(e);
    if (type == AE_IFCHR || type == AE_IFBLK) {
      stats->skipped_devices++;
      free(rparent);
      free(clean);
      continue;
    }
    struct buf target = BUF_INIT;
    buf_printf(&target, "%s/%s", rparent, base);
    free(rparent);
    /* Replace what is there unless both are directories. */
    struct stat st;
    if (lstat(target.data, &st) == 0 &&
        !(S_ISDIR(st.st_mode) && type == AE_IFDIR))
      rc = layer__rm(target.data, err);
    const char *hl = archive_entry_hardlink(e);
    if (rc == 0 && hl) {
      char *hclean = NULL, *hres = NULL;
      if (!layer_clean_path(hl, &hclean) || hclean[0] == '\0') {
        rc = err_set(err, ERR_PERM,
                     "hardlink \"%.200s\" -> \"%.200s\" "
                     "leaves the root; refused",
                     clean, hl);
      } else {
        rc = layer_resolve(root, hclean, false, &hres, err);
        struct stat hs;
        if (rc == 0 && (lstat(hres, &hs) != 0 || S_ISDIR(hs.st_mode)))
          rc = err_set(err, ERR_INVALID,
                       "hardlink %.200s: target %.200s "
                       "missing or a directory",
                       clean, hl);
        if (rc == 0)
          archive_entry_set_hardlink(e, hres);
      }
      free(hclean);
      free(hres);
    }
    if (rc == 0) {
      archive_entry_set_pathname(e, target.data);
      int w = archive_write_header(out, e);
      if (w < ARCHIVE_WARN) {
        rc = err_set(err, ERR_IO, "extract %.200s: %s", clean,
                     archive_error_string(out));
      } else if (archive_entry_size(e) > 0 && hl == NULL) {
        const void *buf;
        size_t sz;
        la_int64_t off;
        int dr;
        while ((dr = archive_read_data_block(in, &buf, &sz, &off)) ==
               ARCHIVE_OK) {
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
      layer__set_add(&created, target.data);
    }
    buf_cleanup(&target);
    free(clean);
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

int layer_view_resolve(const struct layer_view *v, const char *path,
                       bool follow_last, struct layer_found *out,
                       struct err *err) {
  memset(out, 0, sizeof(*out));
  /* stack[k] is the k-th component of the path resolved so far. */
  struct layer_found *stack = xcalloc(1, sizeof(*stack));
  size_t depth = 1, cap = 1;
  layer__view_root(v, &stack[0]);
  struct buf rest = BUF_INIT;
  buf_puts(&rest, path);
  unsigned hops = 0, comps = 0;
  size_t pos = 0;
  int rc = 0;
  while (rc == 0 && pos < rest.len) {
    while (pos < rest.len && rest.data[pos] == '/')
      pos++;
    if (pos >= rest.len)
      break;
    size_t s = pos;
    while (pos < rest.len && rest.data[pos] != '/')
      pos++;
    size_t n = pos - s;
    if (n > NAME_MAX) {
      rc = err_set(err, ERR_TOOBIG, "path component too long");
      break;
    }
    if (++comps > DW_MAX_PATH_DEPTH * 4) {
      rc = err_set(err, ERR_TOOBIG, "path too deep: %.100s", path);
      break;
    }
    char comp[NAME_MAX + 1];
    memcpy(comp, rest.data + s, n);
    comp[n] = '\0';
    if (strcmp(comp, ".") == 0)
      continue;
    if (strcmp(comp, "..") == 0) {
      if (depth > 1)
        layer_found_cleanup(&stack[--depth]);
      continue;
    }
    struct layer_found f;
    rc = layer_view_child(v, &stack[depth - 1], comp, &f, err);
    if (rc < 0)
      break;
    bool last = true;
    for (size_t k = pos; k < rest.len; k++)
      if (rest.data[k] != '/') {
        last = false;
        break;
      }
    if (f.exists && S_ISLNK(f.st.st_mode) && (!last || follow_last)) {
      char target[PATH_MAX];
      ssize_t tn = -1;
      if (++hops > DW_MAX_SYMLINK_HOPS)
        rc = err_set(err, ERR_TOOBIG, "too many symlinks in %.100s", path);
      else if ((tn = readlink(f.host, target, sizeof(target) - 1)) < 0)
        rc = err_set(err, ERR_IO, "readlink %s: %s", f.rel, strerror(errno));
      layer_found_cleanup(&f);
      if (rc < 0)
        break;
      target[tn] = '\0';
      layer__splice_link(&rest, &pos, target);
      if (target[0] == '/')
        while (depth > 1)
          layer_found_cleanup(&stack[--depth]);
      continue;
    }
    if (depth == cap) {
      cap *= 2;
      stack = xrealloc(stack, cap * sizeof(*stack));
    }
    stack[depth++] = f;
  }
  buf_cleanup(&rest);
  if (rc == 0) {
    *out = stack[--depth];
    memset(&stack[depth], 0, sizeof(stack[depth]));
  }
  while (depth > 0)
    layer_found_cleanup(&stack[--depth]);
  free(stack);
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
