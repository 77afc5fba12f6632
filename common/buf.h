/*
 * buf.h - a growable byte buffer and a vector of owned strings.
 *
 * Ownership: a struct buf owns `data`; buf_take hands it to the caller and
 * leaves the buffer empty.  data is always NUL-terminated when non-NULL, so
 * it can be used as a C string when the content has no NUL byte.
 * Allocation failure aborts (xmalloc policy): every caller would otherwise
 * have to unwind on a condition the process cannot recover from anyway.
 */
#ifndef DW_BUF_H
#define DW_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct buf {
  char *data; /* owned; NULL while empty and never grown */
  size_t len;
  size_t cap;
};

#define BUF_INIT                                                              \
  { NULL, 0, 0 }

void buf_init(struct buf *b);
void buf_cleanup(struct buf *b); /* frees data; b is reusable */
void buf_reset(struct buf *b);   /* len = 0, keeps memory */
void buf_append(struct buf *b, const void *data, size_t len);
/* Makes room for `extra` more bytes at once (no growth by doubling). */
void buf_reserve(struct buf *b, size_t extra);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) DW_PRINTF(2, 3);
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* A decimal integer, without printf's parsing (JSON output of hundreds of
 * positions per message). */
void buf_putu(struct buf *b, uint64_t v);
void buf_puti(struct buf *b, int64_t v);
/* Returns the NUL-terminated content (never NULL; "" when empty); caller
 * frees it.  The buffer is left empty. */
char *buf_take(struct buf *b);
/* A NUL-terminated view of the content; valid until the next change. */
const char *buf_cstr(struct buf *b);

/* Appends the whole content of the file at `path` to *out (NUL-terminated
 * after it), refusing more than `max` bytes.  The file's size is reserved
 * first, so a regular file arrives in one allocation: no grown-out copy of
 * a secret or a credential is left in freed memory.  Errors:
 * ERR_NOTFOUND (no such file), ERR_IO (open or read failed), ERR_TOOBIG
 * ("PATH: larger than MAX bytes"); on error *out is as it was before. */
int buf_read_file(const char *path, size_t max, struct buf *out,
                  struct err *err) DW_WARN_UNUSED;
/* The same from an open descriptor (stdin), named `name` in messages; the
 * descriptor stays open. */
int buf_read_fd(int fd, const char *name, size_t max, struct buf *out,
                struct err *err) DW_WARN_UNUSED;

/* A vector of owned, NUL-terminated strings. */
struct strv {
  char **v; /* owned, each element owned */
  size_t n;
  size_t cap;
};

#define STRV_INIT                                                             \
  { NULL, 0, 0 }

void strv_init(struct strv *sv);
void strv_cleanup(struct strv *sv);
/* Takes ownership of s. */
void strv_push_take(struct strv *sv, char *s);
/* Copies s. */
void strv_push(struct strv *sv, const char *s);
void strv_pushn(struct strv *sv, const char *s, size_t len);
/* The value of `name` in an environment given as "K=V" strings (the last
 * one wins, as in a shell), or NULL. */
const char *strv_getenv(const char *const *env, size_t n, const char *name);

/* Allocation helpers that never return NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
