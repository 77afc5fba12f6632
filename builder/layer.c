/*
 * layer.c - layer entries, packing them into a blob, and root-scoped paths.
 * See layer.h for the rules.  The module's other files: layer_apply.c
 * (extracting a blob), layer_upper.c (a RUN's upper directory to
 * entries), layer_view.c (the merged view of extracted layers);
 * layer_int.h is what they share.
 */
#include "layer.h"
#include "layer_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

void layer__entry_cleanup(struct layer_entry *e) {
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

int layer__walk(const char *path, bool follow_last,
                const struct layer__walker *w, void *self, struct err *err) {
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
      w->up(self);
      continue;
    }
    bool last = true;
    for (size_t k = pos; k < rest.len && last; k++)
      last = rest.data[k] == '/';
    char target[PATH_MAX];
    bool link = false;
    rc = w->enter(self, comp, !last || follow_last, target, sizeof(target),
                  &link, err);
    if (rc < 0 || !link)
      continue;
    if (++hops > DW_MAX_SYMLINK_HOPS) {
      rc = err_set(err, ERR_TOOBIG, "too many symlinks in %.100s", path);
      break;
    }
    layer__splice_link(&rest, &pos, target);
    if (target[0] == '/')
      w->to_root(self);
  }
  buf_cleanup(&rest);
  return rc;
}

/* layer_resolve's position: a host path under root. */
struct layer__hostpos {
  struct buf cur;
  size_t root_len;
};

static int layer__host_enter(void *self, const char *comp, bool follow,
                             char *target, size_t cap, bool *is_link,
                             struct err *err) {
  struct layer__hostpos *h = self;
  size_t before = h->cur.len;
  buf_putc(&h->cur, '/');
  buf_puts(&h->cur, comp);
  struct stat st;
  /* missing (or below a file): kept as written */
  if (!follow || lstat(h->cur.data, &st) != 0 || !S_ISLNK(st.st_mode))
    return 0;
  ssize_t tn = readlink(h->cur.data, target, cap - 1);
  if (tn < 0)
    return err_set(err, ERR_IO, "readlink %s: %s", h->cur.data,
                   strerror(errno));
  target[tn] = '\0';
  h->cur.len = before; /* the link is replaced by its target */
  h->cur.data[before] = '\0';
  *is_link = true;
  return 0;
}

static void layer__host_up(void *self) {
  struct layer__hostpos *h = self;
  char *sl = strrchr(h->cur.data, '/');
  if (h->cur.len > h->root_len && sl) {
    h->cur.len = (size_t)(sl - h->cur.data);
    h->cur.data[h->cur.len] = '\0';
  }
}

static void layer__host_to_root(void *self) {
  struct layer__hostpos *h = self;
  h->cur.len = h->root_len;
  h->cur.data[h->cur.len] = '\0';
}

int layer_resolve(const char *root, const char *path, bool follow_last,
                  char **out, struct err *err) {
  static const struct layer__walker host = {layer__host_enter, layer__host_up,
                                            layer__host_to_root};
  *out = NULL;
  struct layer__hostpos h = {BUF_INIT, 0};
  buf_puts(&h.cur, root);
  h.root_len = h.cur.len;
  int rc = layer__walk(path, follow_last, &host, &h, err);
  if (rc < 0) {
    buf_cleanup(&h.cur);
    return rc;
  }
  *out = buf_take(&h.cur);
  return 0;
}
