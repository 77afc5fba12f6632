/*
 * dockerignore.c - the asynchronous .dockerignore read.  See
 * dockerignore.h.
 */
#include "dockerignore.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "../common/buf.h"
#include "../common/ceilings.h"
#include "../common/log.h"
#include "documents.h"
#include "hooks.h"
#include "server.h"

struct ignore_read {
  uv_fs_t req; /* one step at a time */
  struct server *self;
  struct doc *doc; /* NULL once detached */
  char *paths[2];  /* owned; candidates in order */
  int which;
  uv_file fd;
  char *data; /* owned until handed to the document */
  size_t len;
  size_t size; /* from fstat */
};

static void ignore__open(struct ignore_read *r);

static void ignore__finish(struct ignore_read *r) {
  struct doc *d = r->doc;
  if (d != NULL) {
    d->ignore_req = NULL;
    d->ignore = r->data;
    d->ignore_len = r->len;
    d->ignore_ready = true;
    r->data = NULL;
    if (d->ignore)
      log_debug("%s: read %s (%zu bytes)", d->uri, r->paths[r->which],
                d->ignore_len);
    server_ignore_ready(r->self, d);
  }
  free(r->data);
  free(r->paths[0]);
  free(r->paths[1]);
  free(r);
}

static void ignore__on_close(uv_fs_t *req) {
  struct ignore_read *r = req->data;
  uv_fs_req_cleanup(req);
  ignore__finish(r);
}

static void ignore__close(struct ignore_read *r) {
  r->req.data = r;
  if (uv_fs_close(r->self->loop, &r->req, r->fd, ignore__on_close) < 0)
    ignore__finish(r);
}

static void ignore__read_more(struct ignore_read *r);

static void ignore__on_read(uv_fs_t *req) {
  struct ignore_read *r = req->data;
  ssize_t n = req->result;
  uv_fs_req_cleanup(req);
  if (n < 0) {
    log_warn("reading %s: %s", r->paths[r->which], uv_strerror((int)n));
    free(r->data);
    r->data = NULL;
    r->len = 0;
    ignore__close(r);
    return;
  }
  r->len += (size_t)n;
  if (n == 0 || r->len >= r->size) {
    r->data[r->len] = '\0';
    ignore__close(r);
    return;
  }
  ignore__read_more(r);
}

static void ignore__read_more(struct ignore_read *r) {
  uv_buf_t b = uv_buf_init(r->data + r->len, (unsigned)(r->size - r->len));
  r->req.data = r;
  if (uv_fs_read(r->self->loop, &r->req, r->fd, &b, 1, (int64_t)r->len,
                 ignore__on_read) < 0) {
    free(r->data);
    r->data = NULL;
    r->len = 0;
    ignore__close(r);
  }
}

static void ignore__on_stat(uv_fs_t *req) {
  struct ignore_read *r = req->data;
  ssize_t rc = req->result;
  uint64_t size = req->statbuf.st_size;
  bool regular = (req->statbuf.st_mode & S_IFMT) == S_IFREG;
  uv_fs_req_cleanup(req);
  if (rc < 0 || !regular || size > DW_MAX_DOCKERIGNORE_BYTES) {
    if (rc == 0 && regular)
      log_warn("%s: %llu bytes, over the %u-byte limit; not read",
               r->paths[r->which], (unsigned long long)size,
               (unsigned)DW_MAX_DOCKERIGNORE_BYTES);
    ignore__close(r);
    return;
  }
  r->size = (size_t)size;
  r->data = xmalloc(r->size + 1);
  r->len = 0;
  if (r->size == 0) {
    r->data[0] = '\0';
    ignore__close(r);
    return;
  }
  ignore__read_more(r);
}

static void ignore__on_open(uv_fs_t *req) {
  struct ignore_read *r = req->data;
  ssize_t fd = req->result;
  uv_fs_req_cleanup(req);
  if (fd < 0) {
    if (r->which == 0 && r->paths[1] != NULL) {
      r->which = 1;
      ignore__open(r);
      return;
    }
    ignore__finish(r); /* none: the common case */
    return;
  }
  r->fd = (uv_file)fd;
  r->req.data = r;
  if (uv_fs_fstat(r->self->loop, &r->req, r->fd, ignore__on_stat) < 0)
    ignore__close(r);
}

static void ignore__open(struct ignore_read *r) {
  r->req.data = r;
  if (uv_fs_open(r->self->loop, &r->req, r->paths[r->which],
                 O_RDONLY | O_CLOEXEC, 0, ignore__on_open) < 0)
    ignore__finish(r);
}

void dockerignore_load(struct server *self, struct doc *d) {
  if (d->path == NULL) {
    d->ignore_ready = true;
    return;
  }
  struct ignore_read *r = xcalloc(1, sizeof(*r));
  r->self = self;
  r->doc = d;
  struct buf b = BUF_INIT;
  buf_printf(&b, "%s.dockerignore", d->path);
  r->paths[0] = buf_take(&b);
  const char *slash = strrchr(d->path, '/');
  buf_append(&b, d->path, slash ? (size_t)(slash - d->path) + 1 : 0);
  buf_puts(&b, ".dockerignore");
  r->paths[1] = buf_take(&b);
  d->ignore_req = r;
  d->ignore_ready = false;
  ignore__open(r);
}

void dockerignore_detach(struct doc *d) {
  if (d->ignore_req)
    d->ignore_req->doc = NULL;
  d->ignore_req = NULL;
}
