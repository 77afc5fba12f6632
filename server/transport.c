/*
 * transport.c - the base protocol's framing on stdio.  See transport.h.
 *
 * Header block rules (LSP 3.17 "Base Protocol"): header lines are
 * "Name: value\r\n", the block ends with an empty line, Content-Length is
 * required, Content-Type is optional (any value is accepted: the body is
 * parsed as UTF-8 JSON regardless, as every client sends).  Names are
 * compared case-insensitively.
 */
#include "transport.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/ceilings.h"
#include "../common/log.h"

/* A write request and its bytes are one allocation, freed when the write
 * has completed (or failed). */
struct transport_write {
  union {
    uv_write_t stream;
    uv_fs_t fs;
  } req;
  struct transport *t;
  struct transport_write *next;
  size_t len;
  size_t off; /* bytes already written (files may write partially) */
  char data[];
};

static const char transport__cl[] = "content-length";

/* ---- framing ---------------------------------------------------------- */

/* Case-insensitive search for "content-length" in [s, s+n). */
static const char *transport__find_cl(const char *s, size_t n) {
  size_t k = sizeof(transport__cl) - 1;
  for (size_t i = 0; i + k <= n; i++)
    if (strncasecmp(s + i, transport__cl, k) == 0)
      return s + i;
  return NULL;
}

static const char *transport__find_end(const char *s, size_t n) {
  for (size_t i = 0; i + 4 <= n; i++)
    if (s[i] == '\r' && memcmp(s + i, "\r\n\r\n", 4) == 0)
      return s + i;
  return NULL;
}

/*
 * Parses one header block [s, s+n) (without the final CRLFCRLF).  Returns
 * 0 and the Content-Length, or -1 when the block is not a header block.
 * A length too large for size_t is reported as SIZE_MAX so the caller
 * treats it as oversize.
 */
static int transport__parse_headers(const char *s, size_t n, size_t *len) {
  bool have_len = false;
  const char *end = s + n;
  while (s < end) {
    const char *eol = s;
    while (eol + 1 < end && !(eol[0] == '\r' && eol[1] == '\n'))
      eol++;
    if (eol + 1 >= end)
      eol = end;
    const char *colon = memchr(s, ':', (size_t)(eol - s));
    if (colon == NULL || colon == s)
      return -1;
    for (const char *p = s; p < colon; p++)
      if (!isalnum((unsigned char)*p) && *p != '-')
        return -1;
    const char *v = colon + 1;
    while (v < eol && (*v == ' ' || *v == '\t'))
      v++;
    const char *ve = eol;
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
      ve--;
    if ((size_t)(colon - s) == sizeof(transport__cl) - 1 &&
        strncasecmp(s, transport__cl, sizeof(transport__cl) - 1) == 0) {
      if (v == ve)
        return -1;
      size_t x = 0;
      for (const char *p = v; p < ve; p++) {
        if (*p < '0' || *p > '9')
          return -1;
        if (x > (SIZE_MAX - 9) / 10)
          x = SIZE_MAX; /* saturate: oversize */
        else
          x = x * 10 + (size_t)(*p - '0');
      }
      *len = x;
      have_len = true;
    }
    /* Other headers (Content-Type) are accepted and ignored. */
    s = eol == end ? end : eol + 2;
  }
  return have_len ? 0 : -1;
}

/* Drops the consumed prefix once it is worth the memmove, so many small
 * messages in one large read stay linear. */
static void transport__compact(struct transport *t) {
  if (t->pos == t->acc.len) {
    buf_reset(&t->acc);
    t->pos = 0;
  } else if (t->pos > 65536 && t->pos > t->acc.len / 2) {
    memmove(t->acc.data, t->acc.data + t->pos, t->acc.len - t->pos);
    t->acc.len -= t->pos;
    t->pos = 0;
  }
}

/* Runs the state machine over the collected bytes. */
static void transport__frame(struct transport *t) {
  for (;;) {
    if (t->closing)
      return; /* acc may no longer be ours to compact */
    const char *s = t->acc.data + t->pos;
    size_t avail = t->acc.len - t->pos;
    if (t->state == TRANSPORT_BODY) {
      if (avail < t->need)
        break;
      t->pos += t->need;
      t->state = TRANSPORT_HEADER;
      t->cb.on_message(t->ctx, s, t->need);
      continue;
    }
    if (avail == 0)
      break;
    const char *hend = transport__find_end(s, avail);
    if (hend == NULL) {
      if (avail <= DW_MAX_LSP_HEADER_BYTES)
        break;
      /* No header block in sight: skip to a later "Content-Length" or
       * keep only a tail that might be the start of one. */
      const char *cl = transport__find_cl(s + 1, avail - 1);
      size_t drop =
          cl ? (size_t)(cl - s) : avail - (sizeof(transport__cl) - 2);
      log_warn("skipping %zu bytes of input that are not a message header",
               drop);
      t->pos += drop;
      continue;
    }
    size_t hlen = (size_t)(hend - s);
    size_t len = 0;
    if (transport__parse_headers(s, hlen, &len) < 0) {
      /* Garbage before a header: resynchronise on "Content-Length". */
      const char *cl = transport__find_cl(s + 1, hlen - (hlen > 0));
      size_t drop = cl ? (size_t)(cl - s) : hlen + 4;
      log_warn("skipping %zu bytes of input that are not a message header",
               drop);
      t->pos += drop;
      continue;
    }
    t->pos += hlen + 4;
    if (len > DW_MAX_LSP_MESSAGE_BYTES) {
      log_error("message of %zu bytes is over the %u-byte limit; skipped", len,
                (unsigned)DW_MAX_LSP_MESSAGE_BYTES);
      t->state = TRANSPORT_SKIP;
      t->need = len;
      t->cb.on_oversize(t->ctx, len);
      /* Bytes already collected count towards the skip. */
      size_t have = t->acc.len - t->pos;
      size_t d = have < t->need ? have : t->need;
      t->pos += d;
      t->need -= d;
      if (t->need == 0)
        t->state = TRANSPORT_HEADER;
      continue;
    }
    t->state = TRANSPORT_BODY;
    t->need = len;
    /* Room for the whole body at once: a large didOpen would otherwise
     * grow the buffer by doubling, copying and touching twice the pages
     * (each first touch is a page fault). */
    size_t have = t->acc.len - t->pos;
    if (len > have)
      buf_reserve(&t->acc, len - have);
  }
  transport__compact(t);
}

static void transport__feed(struct transport *t, const char *data, size_t n) {
  if (t->state == TRANSPORT_SKIP) {
    size_t d = n < t->need ? n : t->need;
    t->need -= d;
    data += d;
    n -= d;
    if (t->need > 0)
      return;
    t->state = TRANSPORT_HEADER;
  }
  buf_append(&t->acc, data, n);
  transport__frame(t);
}

static void transport__hangup(struct transport *t) {
  if (t->hung_up)
    return;
  t->hung_up = true;
  if (t->acc.len > t->pos || t->state != TRANSPORT_HEADER)
    log_warn("input ended inside a message (%zu bytes unread)",
             t->acc.len - t->pos);
  if (!t->closing)
    t->cb.on_hangup(t->ctx);
}

/* ---- input ------------------------------------------------------------ */

static void transport__alloc(uv_handle_t *h, size_t hint, uv_buf_t *b) {
  struct transport *t = h->data;
  b->base = t->chunk;
  b->len = sizeof(t->chunk);
}

static void transport__on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  struct transport *t = s->data;
  if (n > 0) {
    transport__feed(t, b->base, (size_t)n);
    return;
  }
  if (n == 0) /* EAGAIN: nothing this time */
    return;
  if (n != UV_EOF)
    log_warn("reading standard input: %s", uv_strerror((int)n));
  uv_read_stop(s);
  transport__hangup(t);
}

static void transport__file_read(struct transport *t);
static void transport__maybe_finish(struct transport *t);

static void transport__on_file_read(uv_fs_t *req) {
  struct transport *t = req->data;
  ssize_t n = req->result;
  uv_fs_req_cleanup(req);
  t->in_reading = false;
  if (t->closing) {
    transport__maybe_finish(t);
    return;
  }
  if (n > 0) {
    transport__feed(t, t->chunk, (size_t)n);
    if (!t->closing)
      transport__file_read(t);
    return;
  }
  if (n < 0)
    log_warn("reading standard input: %s", uv_strerror((int)n));
  transport__hangup(t);
}

static void transport__file_read(struct transport *t) {
  uv_buf_t b = uv_buf_init(t->chunk, sizeof(t->chunk));
  t->in_req.data = t;
  int rc = uv_fs_read(t->loop, &t->in_req, t->in_fd, &b, 1, -1,
                      transport__on_file_read);
  if (rc < 0) {
    log_warn("reading standard input: %s", uv_strerror(rc));
    transport__hangup(t);
    return;
  }
  t->in_reading = true;
}

/* ---- output ----------------------------------------------------------- */

static void transport__write_failed(struct transport *t, int rc) {
  log_error("writing standard output: %s", uv_strerror(rc));
  transport__hangup(t);
}

static void transport__on_stream_write(uv_write_t *req, int status) {
  struct transport_write *w = (struct transport_write *)req;
  struct transport *t = w->t;
  free(w);
  t->writes_pending--;
  if (status < 0 && status != UV_ECANCELED)
    transport__write_failed(t, status);
  transport__maybe_finish(t);
}

static void transport__file_write_next(struct transport *t);

static void transport__on_file_write(uv_fs_t *req) {
  struct transport_write *w = (struct transport_write *)req;
  struct transport *t = w->t;
  ssize_t n = req->result;
  uv_fs_req_cleanup(req);
  if (n < 0) {
    transport__write_failed(t, (int)n);
    /* Drop everything queued: the output is gone. */
    while (t->fq_head) {
      struct transport_write *x = t->fq_head;
      t->fq_head = x->next;
      free(x);
      t->writes_pending--;
    }
    t->fq_tail = NULL;
    transport__maybe_finish(t);
    return;
  }
  w->off += (size_t)n;
  if (w->off < w->len) { /* partial write: continue with the rest */
    transport__file_write_next(t);
    return;
  }
  t->fq_head = w->next;
  if (t->fq_head == NULL)
    t->fq_tail = NULL;
  free(w);
  t->writes_pending--;
  if (t->fq_head)
    transport__file_write_next(t);
  else
    transport__maybe_finish(t);
}

static void transport__file_write_next(struct transport *t) {
  struct transport_write *w = t->fq_head;
  uv_buf_t b = uv_buf_init(w->data + w->off, (unsigned)(w->len - w->off));
  int rc = uv_fs_write(t->loop, &w->req.fs, t->out_fd, &b, 1, -1,
                       transport__on_file_write);
  if (rc < 0) {
    w->req.fs.result = rc;
    transport__on_file_write(&w->req.fs);
  }
}

void transport_send(struct transport *t, const char *body, size_t len) {
  if (t->hung_up || !t->out_ok || t->finished) {
    log_debug("output closed; dropping a %zu-byte message", len);
    return;
  }
  char head[64];
  int hn = snprintf(head, sizeof(head), "Content-Length: %zu\r\n\r\n", len);
  struct transport_write *w = xmalloc(sizeof(*w) + (size_t)hn + len);
  memset(&w->req, 0, sizeof(w->req));
  w->t = t;
  w->next = NULL;
  w->len = (size_t)hn + len;
  w->off = 0;
  memcpy(w->data, head, (size_t)hn);
  memcpy(w->data + hn, body, len);
  t->writes_pending++;
  if (t->out_io == TRANSPORT_FILE) {
    bool idle = t->fq_head == NULL;
    if (t->fq_tail)
      t->fq_tail->next = w;
    else
      t->fq_head = w;
    t->fq_tail = w;
    if (idle)
      transport__file_write_next(t);
    return;
  }
  uv_buf_t b = uv_buf_init(w->data, (unsigned)w->len);
  int rc = uv_write(&w->req.stream, &t->out.stream, &b, 1,
                    transport__on_stream_write);
  if (rc < 0) { /* the callback will not run */
    free(w);
    t->writes_pending--;
    transport__write_failed(t, rc);
  }
}

/* ---- set-up and tear-down --------------------------------------------- */

static int transport__open(struct transport *t, union transport_handle *h,
                           int fd, bool readable, enum transport_io *io,
                           bool *inited, struct err *err) {
  uv_handle_type type = uv_guess_handle(fd);
  int rc;
  *io = TRANSPORT_STREAM;
  h->handle.data = t;
  switch (type) {
  case UV_NAMED_PIPE:
    rc = uv_pipe_init(t->loop, &h->pipe, 0);
    *inited = rc == 0;
    if (rc == 0)
      rc = uv_pipe_open(&h->pipe, fd);
    break;
  case UV_TTY:
    rc = uv_tty_init(t->loop, &h->tty, fd, readable);
    *inited = rc == 0;
    break;
  case UV_TCP:
    rc = uv_tcp_init(t->loop, &h->tcp);
    *inited = rc == 0;
    if (rc == 0)
      rc = uv_tcp_open(&h->tcp, fd);
    break;
  case UV_FILE:
    *io = TRANSPORT_FILE;
    return 0;
  default:
    return err_set(err, ERR_IO, "fd %d: unsupported kind of file (%s)", fd,
                   type == UV_UNKNOWN_HANDLE ? "closed or unknown"
                                             : uv_handle_type_name(type));
  }
  if (rc < 0) /* an initialised handle is closed by transport_close */
    return err_set(err, ERR_IO, "fd %d: %s", fd, uv_strerror(rc));
  h->handle.data = t; /* uv_*_init cleared it */
  return 0;
}

int transport_init(struct transport *t, uv_loop_t *loop, int in_fd, int out_fd,
                   const struct transport_callbacks *cb, void *ctx,
                   struct err *err) {
  memset(t, 0, sizeof(*t));
  t->loop = loop;
  t->cb = *cb;
  t->ctx = ctx;
  t->in_fd = in_fd;
  t->out_fd = out_fd;
  buf_init(&t->acc);
  /* On failure the caller still runs transport_close, which closes
   * whatever handle was initialised. */
  int rc =
      transport__open(t, &t->in, in_fd, true, &t->in_io, &t->in_open, err);
  if (rc < 0)
    return rc;
  rc = transport__open(t, &t->out, out_fd, false, &t->out_io, &t->out_open,
                       err);
  if (rc < 0)
    return rc;
  t->out_open = true; /* for files: "may write" */
  t->out_ok = true;
  return 0;
}

int transport_start(struct transport *t, struct err *err) {
  if (t->in_io == TRANSPORT_FILE) {
    transport__file_read(t);
    return 0;
  }
  int rc = uv_read_start(&t->in.stream, transport__alloc, transport__on_read);
  if (rc < 0)
    return err_set(err, ERR_IO, "reading fd %d: %s", t->in_fd,
                   uv_strerror(rc));
  return 0;
}

static void transport__on_handle_closed(uv_handle_t *h) {
  struct transport *t = h->data;
  if (--t->open_handles == 0 && t->on_closed)
    t->on_closed(t);
}

/* Closes what is left once no write is pending and no file read is in
 * flight (its callback still uses `t`). */
static void transport__maybe_finish(struct transport *t) {
  if (!t->closing || t->writes_pending > 0 || t->in_reading || t->finished)
    return;
  t->finished = true;
  bool any = false;
  if (t->in_open) {
    t->open_handles++;
    any = true;
  }
  if (t->out_open && t->out_io == TRANSPORT_STREAM) {
    t->open_handles++;
    any = true;
  }
  if (t->in_open)
    uv_close(&t->in.handle, transport__on_handle_closed);
  if (t->out_open && t->out_io == TRANSPORT_STREAM)
    uv_close(&t->out.handle, transport__on_handle_closed);
  t->in_open = false;
  t->out_open = false;
  if (!any && t->on_closed)
    t->on_closed(t);
}

void transport_close(struct transport *t,
                     void (*on_closed)(struct transport *)) {
  if (t->closing)
    return;
  t->closing = true;
  t->on_closed = on_closed;
  if (t->in_io == TRANSPORT_STREAM && t->in_open)
    uv_read_stop(&t->in.stream);
  if (t->in_reading && uv_cancel((uv_req_t *)&t->in_req) == 0)
    log_debug("cancelled the pending read");
  transport__maybe_finish(t);
}

void transport_cleanup(struct transport *t) {
  buf_cleanup(&t->acc);
}
