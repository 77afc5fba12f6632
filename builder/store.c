/*
 * store.c - the image store on disk.  See store.h for the layout.
 */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/ceilings.h"

struct store {
  char *root;
  int lock_fd;
  bool locked;
};

char *store_default_root(const char *const *env, size_t nenv) {
  const char *e = strv_getenv(env, nenv, "DOCKWRIGHT_ROOT");
  if (e && *e)
    return xstrdup(e);
  struct buf b = BUF_INIT;
  e = strv_getenv(env, nenv, "XDG_DATA_HOME");
  if (e && *e) {
    buf_printf(&b, "%s/dockwright", e);
  } else {
    const char *home = strv_getenv(env, nenv, "HOME");
    buf_printf(&b, "%s/.local/share/dockwright", home && *home ? home : "/");
  }
  return buf_take(&b);
}

int store_dir_names(const char *path, bool nofollow, struct strv *names) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
                          (nofollow ? O_NOFOLLOW : 0));
  if (fd < 0)
    return -1;
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    int en = errno;
    close(fd);
    errno = en;
    return -1;
  }
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
      strv_push(names, de->d_name);
  closedir(d);
  return 0;
}

int store_mkdirs(const char *path, struct err *err) {
  char tmp[PATH_MAX];
  size_t n = strlen(path);
  if (n == 0 || n >= sizeof(tmp))
    return err_set(err, ERR_INVALID, "path too long: %.100s", path);
  memcpy(tmp, path, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (tmp[i] != '/' && tmp[i] != '\0')
      continue;
    char c = tmp[i];
    tmp[i] = '\0';
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
      return err_set(err, ERR_IO, "mkdir %s: %s", tmp, strerror(errno));
    tmp[i] = c;
  }
  return 0;
}

static void store__fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
}

static char *store__dirname(const char *path) {
  const char *s = strrchr(path, '/');
  if (s == NULL)
    return xstrdup(".");
  if (s == path)
    return xstrdup("/");
  return xstrndup(path, (size_t)(s - path));
}

static int store__write_all(int fd, const void *data, size_t len,
                            const char *what, struct err *err) {
  const char *p = data;
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return err_set(err, ERR_IO, "write %s: %s", what, strerror(errno));
    }
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

int store_write_atomic(const char *path, const void *data, size_t len,
                       struct err *err) {
  struct buf tmp = BUF_INIT;
  buf_printf(&tmp, "%s.tmp-XXXXXX", path);
  int fd = mkostemp(tmp.data, O_CLOEXEC);
  if (fd < 0) {
    int rc = err_set(err, ERR_IO, "create %s: %s", tmp.data, strerror(errno));
    buf_cleanup(&tmp);
    return rc;
  }
  int rc = store__write_all(fd, data, len, path, err);
  if (rc == 0 && fchmod(fd, 0644) != 0)
    rc = err_set(err, ERR_IO, "chmod %s: %s", tmp.data, strerror(errno));
  if (rc == 0 && fsync(fd) != 0)
    rc = err_set(err, ERR_IO, "fsync %s: %s", tmp.data, strerror(errno));
  close(fd);
  if (rc == 0 && rename(tmp.data, path) != 0)
    rc = err_set(err, ERR_IO, "rename to %s: %s", path, strerror(errno));
  if (rc != 0) {
    unlink(tmp.data);
  } else {
    char *dir = store__dirname(path);
    store__fsync_dir(dir);
    free(dir);
  }
  buf_cleanup(&tmp);
  return rc;
}

int store_open(const char *root, struct store **out, struct err *err) {
  *out = NULL;
  if (root == NULL || *root == '\0')
    return err_set(err, ERR_INVALID, "no image store root given");
  char *r = xstrdup(root);
  static const char *const sub[] = {"blobs/sha256", "tags", "tmp", "sources"};
  struct buf p = BUF_INIT;
  for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
    buf_reset(&p);
    buf_printf(&p, "%s/%s", r, sub[i]);
    int rc = store_mkdirs(p.data, err);
    if (rc < 0) {
      buf_cleanup(&p);
      free(r);
      return rc;
    }
  }
  buf_reset(&p);
  buf_printf(&p, "%s/lock", r);
  int fd = open(p.data, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    int rc = err_set(err, ERR_IO, "open %s: %s", p.data, strerror(errno));
    buf_cleanup(&p);
    free(r);
    return rc;
  }
  buf_cleanup(&p);
  /* Keep an absolute root: callers chdir-free, but tmp paths are compared
   * against it in store_rmtree. */
  char *abs = realpath(r, NULL);
  if (abs) {
    free(r);
    r = abs;
  }
  struct store *s = xcalloc(1, sizeof(*s));
  s->root = r;
  s->lock_fd = fd;
  *out = s;
  return 0;
}

void store_free(struct store *self) {
  if (self == NULL)
    return;
  if (self->lock_fd >= 0)
    close(self->lock_fd); /* drops the flock */
  free(self->root);
  free(self);
}

const char *store_root(const struct store *self) {
  return self->root;
}

int store_lock(struct store *self, bool exclusive, struct err *err) {
  int op = exclusive ? (LOCK_EX | LOCK_NB) : LOCK_SH;
  while (flock(self->lock_fd, op) != 0) {
    if (errno == EINTR)
      continue;
    if (errno == EWOULDBLOCK)
      return err_set(err, ERR_EXISTS,
                     "store %s is in use by a build or pull; try again "
                     "when it ends",
                     self->root);
    return err_set(err, ERR_IO, "lock %s: %s", self->root, strerror(errno));
  }
  self->locked = true;
  return 0;
}

void store_unlock(struct store *self) {
  if (self->locked)
    (void)flock(self->lock_fd, LOCK_UN);
  self->locked = false;
}

/* --- blobs ------------------------------------------------------------ */

char *store_blob_path(const struct store *self, const char *digest) {
  struct buf b = BUF_INIT;
  buf_printf(&b, "%s/blobs/sha256/%s", self->root, digest_hex(digest));
  return buf_take(&b);
}

bool store_blob_exists(const struct store *self, const char *digest) {
  if (!digest_valid(digest))
    return false;
  char *p = store_blob_path(self, digest);
  bool ok = access(p, F_OK) == 0;
  free(p);
  return ok;
}

int64_t store_blob_size(const struct store *self, const char *digest) {
  if (!digest_valid(digest))
    return -1;
  char *p = store_blob_path(self, digest);
  struct stat st;
  int64_t r = stat(p, &st) == 0 ? (int64_t)st.st_size : -1;
  free(p);
  return r;
}

int store_writer_open(struct store *self, struct store_writer *w,
                      struct err *err) {
  memset(w, 0, sizeof(*w));
  w->fd = -1;
  struct buf b = BUF_INIT;
  buf_printf(&b, "%s/tmp/blob-XXXXXX", self->root);
  int fd = mkostemp(b.data, O_CLOEXEC);
  if (fd < 0) {
    int rc = err_set(err, ERR_IO, "create %s: %s", b.data, strerror(errno));
    buf_cleanup(&b);
    return rc;
  }
  w->store = self;
  w->fd = fd;
  w->tmp_path = buf_take(&b);
  digest_init(&w->dg);
  return 0;
}

int store_writer_write(struct store_writer *w, const void *data, size_t len,
                       struct err *err) {
  digest_update(&w->dg, data, len);
  w->size += len;
  return store__write_all(w->fd, data, len, "blob", err);
}

int store_writer_rewind(struct store_writer *w, struct err *err) {
  if (ftruncate(w->fd, 0) != 0 || lseek(w->fd, 0, SEEK_SET) != 0)
    return err_set(err, ERR_IO, "truncate %s: %s", w->tmp_path,
                   strerror(errno));
  digest_cleanup(&w->dg);
  digest_init(&w->dg);
  w->size = 0;
  return 0;
}

void store_writer_abort(struct store_writer *w) {
  if (w->fd >= 0)
    close(w->fd);
  w->fd = -1;
  if (w->tmp_path) {
    unlink(w->tmp_path);
    free(w->tmp_path);
  }
  w->tmp_path = NULL;
  digest_cleanup(&w->dg);
}

int store_writer_commit(struct store_writer *w, const char *expected,
                        char digest_out[DIGEST_STR_LEN], struct err *err) {
  char d[DIGEST_STR_LEN];
  digest_final(&w->dg, d);
  if (digest_out)
    memcpy(digest_out, d, DIGEST_STR_LEN);
  int rc = 0;
  if (expected && strcmp(expected, d) != 0)
    rc = err_set(err, ERR_DIGEST, "digest mismatch: expected %s, got %s",
                 expected, d);
  if (rc == 0 && fchmod(w->fd, 0644) != 0)
    rc = err_set(err, ERR_IO, "chmod blob: %s", strerror(errno));
  if (rc == 0 && fsync(w->fd) != 0)
    rc = err_set(err, ERR_IO, "fsync blob: %s", strerror(errno));
  close(w->fd);
  w->fd = -1;
  if (rc == 0) {
    char *dst = store_blob_path(w->store, d);
    if (rename(w->tmp_path, dst) != 0)
      rc = err_set(err, ERR_IO, "rename blob %s: %s", d, strerror(errno));
    free(dst);
  }
  if (rc == 0) {
    struct buf dir = BUF_INIT;
    buf_printf(&dir, "%s/blobs/sha256", w->store->root);
    store__fsync_dir(dir.data);
    buf_cleanup(&dir);
    free(w->tmp_path);
    w->tmp_path = NULL;
  } else {
    store_writer_abort(w);
  }
  return rc;
}

int store_blob_put(struct store *self, const void *data, size_t len,
                   char digest_out[DIGEST_STR_LEN], struct err *err) {
  char d[DIGEST_STR_LEN];
  digest_buf(data, len, d);
  if (digest_out)
    memcpy(digest_out, d, DIGEST_STR_LEN);
  if (store_blob_exists(self, d))
    return 0;
  struct store_writer w;
  int rc = store_writer_open(self, &w, err);
  if (rc < 0)
    return rc;
  rc = store_writer_write(&w, data, len, err);
  if (rc < 0) {
    store_writer_abort(&w);
    return rc;
  }
  return store_writer_commit(&w, d, NULL, err);
}

int store_blob_read(const struct store *self, const char *digest, size_t max,
                    struct buf *out, struct err *err) {
  if (!digest_valid(digest))
    return err_set(err, ERR_INVALID, "invalid digest \"%.80s\"", digest);
  char *p = store_blob_path(self, digest);
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int rc = err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO,
                     "blob %s: %s", digest, strerror(errno));
    free(p);
    return rc;
  }
  free(p);
  size_t start = out->len;
  char chunk[65536];
  int rc = 0;
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      rc = err_set(err, ERR_IO, "read blob %s: %s", digest, strerror(errno));
      break;
    }
    if (n == 0)
      break;
    if (out->len - start + (size_t)n > max) {
      rc = err_set(err, ERR_TOOBIG, "blob %s is larger than %zu bytes", digest,
                   max);
      break;
    }
    buf_append(out, chunk, (size_t)n);
  }
  close(fd);
  if (rc == 0) {
    char d[DIGEST_STR_LEN];
    digest_buf(out->data ? out->data + start : "", out->len - start, d);
    if (strcmp(d, digest) != 0)
      rc = err_set(err, ERR_DIGEST,
                   "stored blob %s is corrupt (it hashes "
                   "to %s)",
                   digest, d);
  }
  if (rc < 0) {
    out->len = start;
    if (out->data)
      out->data[start] = '\0';
  }
  return rc;
}

int store_blob_remove(struct store *self, const char *digest,
                      struct err *err) {
  if (!digest_valid(digest))
    return err_set(err, ERR_INVALID, "invalid digest \"%.80s\"", digest);
  char *p = store_blob_path(self, digest);
  int rc = 0;
  if (unlink(p) != 0 && errno != ENOENT)
    rc = err_set(err, ERR_IO, "remove blob %s: %s", digest, strerror(errno));
  free(p);
  if (rc == 0) {
    struct buf sp = BUF_INIT;
    buf_printf(&sp, "%s/sources/%s", self->root, digest_hex(digest));
    (void)unlink(sp.data); /* a blob never pulled has none */
    buf_cleanup(&sp);
  }
  return rc;
}

/* sources/<hex>: one "host/path" line per repository the blob is known
 * to be in.  Appends are single short writes with O_APPEND, so two
 * builds adding at once interleave whole lines; readers skip a
 * duplicate. */
int store_source_add(struct store *self, const char *digest, const char *repo,
                     struct err *err) {
  if (!digest_valid(digest))
    return err_set(err, ERR_INVALID, "invalid digest \"%.80s\"", digest);
  if (strchr(repo, '\n') || strlen(repo) > 512)
    return err_set(err, ERR_INVALID, "bad repository name");
  struct strv have = STRV_INIT;
  int rc = store_source_list(self, digest, &have, err);
  for (size_t i = 0; rc == 0 && i < have.n; i++)
    if (strcmp(have.v[i], repo) == 0) {
      strv_cleanup(&have);
      return 0;
    }
  strv_cleanup(&have);
  if (rc < 0)
    return rc;
  struct buf p = BUF_INIT;
  buf_printf(&p, "%s/sources", self->root);
  rc = store_mkdirs(p.data, err);
  buf_printf(&p, "/%s", digest_hex(digest));
  int fd = rc == 0
               ? open(p.data, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)
               : -1;
  if (rc == 0 && fd < 0)
    rc = err_set(err, ERR_IO, "open %s: %s", p.data, strerror(errno));
  if (fd >= 0) {
    struct buf line = BUF_INIT;
    buf_printf(&line, "%s\n", repo);
    if (write(fd, line.data, line.len) != (ssize_t)line.len)
      rc = err_set(err, ERR_IO, "write %s: %s", p.data, strerror(errno));
    buf_cleanup(&line);
    close(fd);
  }
  buf_cleanup(&p);
  return rc;
}

int store_source_list(const struct store *self, const char *digest,
                      struct strv *out, struct err *err) {
  if (!digest_valid(digest))
    return err_set(err, ERR_INVALID, "invalid digest \"%.80s\"", digest);
  struct buf p = BUF_INIT;
  buf_printf(&p, "%s/sources/%s", self->root, digest_hex(digest));
  FILE *f = fopen(p.data, "re");
  buf_cleanup(&p);
  if (f == NULL)
    return 0;
  char line[600];
  size_t n = 0;
  while (fgets(line, sizeof(line), f) && n < 64) {
    size_t len = strcspn(line, "\n");
    if (len == 0 || line[len] != '\n')
      continue; /* a torn or overlong line */
    line[len] = '\0';
    strv_push(out, line);
    n++;
  }
  fclose(f);
  (void)err;
  return 0;
}

int store_blob_list(const struct store *self, struct strv *out,
                    struct err *err) {
  struct buf b = BUF_INIT;
  buf_printf(&b, "%s/blobs/sha256", self->root);
  DIR *d = opendir(b.data);
  if (d == NULL) {
    int rc = err_set(err, ERR_IO, "open %s: %s", b.data, strerror(errno));
    buf_cleanup(&b);
    return rc;
  }
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (strlen(de->d_name) != DIGEST_HEX_LEN)
      continue;
    char dg[DIGEST_STR_LEN];
    memcpy(dg, "sha256:", 7);
    memcpy(dg + 7, de->d_name, DIGEST_HEX_LEN + 1);
    if (digest_valid(dg))
      strv_push(out, dg);
  }
  closedir(d);
  buf_cleanup(&b);
  return 0;
}

int store_tmpdir(struct store *self, const char *prefix, char **path,
                 struct err *err) {
  struct buf b = BUF_INIT;
  buf_printf(&b, "%s/tmp/%s-XXXXXX", self->root, prefix);
  if (mkdtemp(b.data) == NULL) {
    int rc = err_set(err, ERR_IO, "mkdtemp %s: %s", b.data, strerror(errno));
    buf_cleanup(&b);
    return rc;
  }
  *path = buf_take(&b);
  return 0;
}

static int store__rm_at(int dirfd, const char *name, unsigned depth,
                        struct err *err) {
  if (depth > DW_MAX_PATH_DEPTH)
    return err_set(err, ERR_TOOBIG, "tree deeper than %u", DW_MAX_PATH_DEPTH);
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT
               ? 0
               : err_set(err, ERR_IO, "stat %s: %s", name, strerror(errno));
  if (S_ISDIR(st.st_mode)) {
    int fd =
        openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      /* A directory without read/exec permission: make it readable. */
      (void)fchmodat(dirfd, name, 0700, 0);
      fd =
          openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0)
      return err_set(err, ERR_IO, "open %s: %s", name, strerror(errno));
    DIR *d = fdopendir(fd);
    if (d == NULL) {
      close(fd);
      return err_set(err, ERR_IO, "opendir %s: %s", name, strerror(errno));
    }
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
        continue;
      rc = store__rm_at(fd, de->d_name, depth + 1, err);
    }
    closedir(d);
    if (rc < 0)
      return rc;
    if (unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
      return err_set(err, ERR_IO, "rmdir %s: %s", name, strerror(errno));
    return 0;
  }
  if (unlinkat(dirfd, name, 0) != 0 && errno != ENOENT)
    return err_set(err, ERR_IO, "unlink %s: %s", name, strerror(errno));
  return 0;
}

int store_rmtree(struct store *self, const char *path, struct err *err) {
  size_t rn = strlen(self->root);
  if (strncmp(path, self->root, rn) != 0 || path[rn] != '/' ||
      strstr(path, "/../") != NULL)
    return err_set(err, ERR_INVALID, "refusing to remove %s outside %s", path,
                   self->root);
  char *dir = store__dirname(path);
  const char *base = strrchr(path, '/') + 1;
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  free(dir);
  if (dfd < 0)
    return err_set(err, ERR_IO, "open parent of %s: %s", path,
                   strerror(errno));
  int rc = store__rm_at(dfd, base, 0, err);
  close(dfd);
  return rc;
}

int store_clean_tmp(struct store *self, struct err *err) {
  struct buf b = BUF_INIT;
  buf_printf(&b, "%s/tmp", self->root);
  DIR *d = opendir(b.data);
  if (d == NULL) {
    buf_cleanup(&b);
    return 0;
  }
  struct dirent *de;
  int rc = 0;
  while (rc == 0 && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    rc = store__rm_at(dirfd(d), de->d_name, 0, err);
  }
  closedir(d);
  buf_cleanup(&b);
  return rc;
}

/* --- tags ------------------------------------------------------------- */

/* A reference becomes one file name: [A-Za-z0-9._-] kept, the rest %XX.
 * A name never starts with '.' (escaped), so "." and ".." cannot occur. */
static char *store__tag_path(const struct store *self, const char *name) {
  struct buf b = BUF_INIT;
  buf_printf(&b, "%s/tags/", self->root);
  for (const char *p = name; *p; p++) {
    unsigned char c = (unsigned char)*p;
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                (c == '.' && p != name);
    if (keep)
      buf_putc(&b, (char)c);
    else
      buf_printf(&b, "%%%02X", c);
  }
  return buf_take(&b);
}

void store_tag_cleanup(struct store_tag *t) {
  free(t->name);
  free(t->digest);
  free(t->media_type);
  memset(t, 0, sizeof(*t));
}

void store_tags_free(struct store_tag *tags, size_t n) {
  for (size_t i = 0; i < n; i++)
    store_tag_cleanup(&tags[i]);
  free(tags);
}

int store_tag_set(struct store *self, const char *name, const char *digest,
                  const char *media_type, uint64_t size, struct err *err) {
  if (!digest_valid(digest))
    return err_set(err, ERR_INVALID, "invalid digest \"%.80s\"", digest);
  json_object *o = json_object_new_object();
  json_object_object_add(o, "name", json_object_new_string(name));
  json_object_object_add(o, "digest", json_object_new_string(digest));
  json_object_object_add(o, "mediaType", json_object_new_string(media_type));
  json_object_object_add(o, "size", json_object_new_int64((int64_t)size));
  const char *txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
  char *path = store__tag_path(self, name);
  int rc = store_write_atomic(path, txt, strlen(txt), err);
  free(path);
  json_object_put(o);
  return rc;
}

static int store__tag_load(const char *path, struct store_tag *out,
                           struct err *err) {
  memset(out, 0, sizeof(*out));
  struct buf b = BUF_INIT;
  int rc = buf_read_file(path, DW_MAX_TAG_FILE_BYTES, &b, err);
  if (rc < 0) {
    buf_cleanup(&b);
    return rc;
  }
  json_object *o = json_tokener_parse(buf_cstr(&b));
  buf_cleanup(&b);
  json_object *name, *dg, *mt, *sz;
  if (o == NULL || !json_object_object_get_ex(o, "name", &name) ||
      !json_object_object_get_ex(o, "digest", &dg) ||
      !json_object_object_get_ex(o, "mediaType", &mt) ||
      !json_object_object_get_ex(o, "size", &sz) ||
      !digest_valid(json_object_get_string(dg))) {
    json_object_put(o);
    return err_set(err, ERR_SYNTAX, "corrupt tag file %s", path);
  }
  out->name = xstrdup(json_object_get_string(name));
  out->digest = xstrdup(json_object_get_string(dg));
  out->media_type = xstrdup(json_object_get_string(mt));
  out->size = (uint64_t)json_object_get_int64(sz);
  json_object_put(o);
  return 0;
}

int store_tag_get(const struct store *self, const char *name,
                  struct store_tag *out, struct err *err) {
  char *path = store__tag_path(self, name);
  int rc = store__tag_load(path, out, err);
  if (rc == ERR_NOTFOUND)
    rc = err_set(err, ERR_NOTFOUND, "no image %s in the store", name);
  free(path);
  return rc;
}

int store_tag_remove(struct store *self, const char *name, struct err *err) {
  char *path = store__tag_path(self, name);
  int rc = 0;
  if (unlink(path) != 0)
    rc = err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO,
                 "no image %s in the store", name);
  free(path);
  return rc;
}

static int store__tag_cmp(const void *a, const void *b) {
  return strcmp(((const struct store_tag *)a)->name,
                ((const struct store_tag *)b)->name);
}

int store_tag_list(const struct store *self, struct store_tag **out, size_t *n,
                   struct err *err) {
  *out = NULL;
  *n = 0;
  struct buf b = BUF_INIT;
  buf_printf(&b, "%s/tags", self->root);
  DIR *d = opendir(b.data);
  if (d == NULL) {
    int rc = err_set(err, ERR_IO, "open %s: %s", b.data, strerror(errno));
    buf_cleanup(&b);
    return rc;
  }
  size_t cap = 0;
  struct store_tag *v = NULL;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp-"))
      continue;
    struct buf p = BUF_INIT;
    buf_printf(&p, "%s/%s", b.data, de->d_name);
    struct store_tag t;
    struct err e2;
    if (store__tag_load(p.data, &t, &e2) == 0) {
      if (*n == cap) {
        cap = cap ? cap * 2 : 16;
        v = xrealloc(v, cap * sizeof(*v));
      }
      v[(*n)++] = t;
    }
    buf_cleanup(&p);
  }
  closedir(d);
  buf_cleanup(&b);
  if (*n)
    qsort(v, *n, sizeof(*v), store__tag_cmp);
  *out = v;
  return 0;
}
