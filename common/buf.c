#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void buf__oom(void) {
  /* Out of memory is not recoverable for a tool this size; fail loudly. */
  fputs("dockwright: out of memory\n", stderr);
  abort();
}

void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (p == NULL)
    buf__oom();
  return p;
}

void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (p == NULL)
    buf__oom();
  return p;
}

void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (q == NULL)
    buf__oom();
  return q;
}

char *xstrndup(const char *s, size_t n) {
  char *d = xmalloc(n + 1);
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

char *xstrdup(const char *s) {
  return xstrndup(s, strlen(s));
}

void buf_init(struct buf *b) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

void buf_cleanup(struct buf *b) {
  free(b->data);
  buf_init(b);
}

void buf_reset(struct buf *b) {
  b->len = 0;
  if (b->data)
    b->data[0] = '\0';
}

static void buf__grow(struct buf *b, size_t extra) {
  size_t need = b->len + extra + 1;
  if (need <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap *= 2;
  b->data = xrealloc(b->data, cap);
  b->cap = cap;
}

void buf_reserve(struct buf *b, size_t extra) {
  size_t need = b->len + extra + 1;
  if (need <= b->cap)
    return;
  b->data = xrealloc(b->data, need);
  b->cap = need;
}

void buf_append(struct buf *b, const void *data, size_t len) {
  buf__grow(b, len);
  if (len)
    memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s) {
  buf_append(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c) {
  buf_append(b, &c, 1);
}

void buf_putu(struct buf *b, uint64_t v) {
  char d[20];
  size_t n = 0;
  do {
    d[sizeof(d) - 1 - n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  buf_append(b, d + sizeof(d) - n, n);
}

void buf_puti(struct buf *b, int64_t v) {
  if (v < 0) {
    buf_putc(b, '-');
    buf_putu(b, (uint64_t)0 - (uint64_t)v);
    return;
  }
  buf_putu(b, (uint64_t)v);
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap) {
  va_list cp;
  if (fmt == NULL) /* also keeps gcc's sanitizer build from warning */
    return;
  /* One pass when the text fits in the room there is (made at least 128
   * bytes), as nearly every message does; a second one when it did not. */
  buf__grow(b, 128);
  size_t room = b->cap - b->len;
  va_copy(cp, ap);
  int n = vsnprintf(b->data + b->len, room, fmt, cp);
  va_end(cp);
  if (n < 0) {
    b->data[b->len] = '\0';
    return;
  }
  if ((size_t)n >= room) {
    buf__grow(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  }
  b->len += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(b, fmt, ap);
  va_end(ap);
}

char *buf_take(struct buf *b) {
  char *d = b->data;
  if (d == NULL)
    d = xstrdup("");
  buf_init(b);
  return d;
}

const char *buf_cstr(struct buf *b) {
  return b->data ? b->data : "";
}

void strv_init(struct strv *sv) {
  sv->v = NULL;
  sv->n = 0;
  sv->cap = 0;
}

void strv_cleanup(struct strv *sv) {
  for (size_t i = 0; i < sv->n; i++)
    free(sv->v[i]);
  free(sv->v);
  strv_init(sv);
}

void strv_push_take(struct strv *sv, char *s) {
  if (sv->n == sv->cap) {
    sv->cap = sv->cap ? sv->cap * 2 : 8;
    sv->v = xrealloc(sv->v, sv->cap * sizeof(*sv->v));
  }
  sv->v[sv->n++] = s;
}

void strv_push(struct strv *sv, const char *s) {
  strv_push_take(sv, xstrdup(s));
}

void strv_pushn(struct strv *sv, const char *s, size_t len) {
  strv_push_take(sv, xstrndup(s, len));
}

const char *strv_getenv(const char *const *env, size_t n, const char *name) {
  size_t len = strlen(name);
  const char *found = NULL;
  for (size_t i = 0; i < n; i++)
    if (env[i] && strncmp(env[i], name, len) == 0 && env[i][len] == '=')
      found = env[i] + len + 1;
  return found;
}

int buf_read_fd(int fd, const char *name, size_t max, struct buf *out,
                struct err *err) {
  size_t start = out->len;
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
      (uint64_t)st.st_size <= max)
    buf_reserve(out, (size_t)st.st_size + 1);
  for (;;) {
    /* Read into the buffer itself: no bounce copy, and one byte past the
     * ceiling is enough to know it was crossed. */
    size_t room = out->cap > out->len + 1 ? out->cap - out->len - 1 : 0;
    if (room == 0) {
      buf_reserve(out, out->len > 65536 ? out->len : 65536);
      room = out->cap - out->len - 1;
    }
    size_t want = max - (out->len - start) + 1;
    ssize_t n = read(fd, out->data + out->len, room < want ? room : want);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      out->len = start;
      out->data[start] = '\0';
      return err_set(err, ERR_IO, "%s: %s", name, strerror(e));
    }
    if (n == 0)
      break;
    out->len += (size_t)n;
    if (out->len - start > max) {
      out->len = start;
      out->data[start] = '\0';
      return err_set(err, ERR_TOOBIG, "%s: larger than %zu bytes", name, max);
    }
  }
  if (out->data)
    out->data[out->len] = '\0';
  return 0;
}

int buf_read_file(const char *path, size_t max, struct buf *out,
                  struct err *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "%s: %s",
                   path, strerror(errno));
  int rc = buf_read_fd(fd, path, max, out, err);
  close(fd);
  return rc;
}
