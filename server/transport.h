/*
 * transport.h - LSP's base protocol on standard input and output:
 * "Content-Length: N\r\n\r\n" framing over whatever the fds are (pipe,
 * socket, tty or regular file), driven by libuv.
 *
 * DESIGN
 * Input arrives in arbitrary pieces: half a header, several messages in one
 * read, a body of many megabytes over hundreds of reads.  A small state
 * machine (HEADER -> BODY, or SKIP for a body over the ceiling) collects
 * bytes and hands each complete body to on_message.  Garbage is skipped up
 * to the next "Content-Length" so one bad write does not end the session.
 *
 * Pipes, sockets and ttys are libuv streams.  Regular files (and character
 * devices such as /dev/null) cannot be polled, so they are read and written
 * with uv_fs_* requests, which run on libuv's thread pool; one request is in
 * flight at a time so the order of bytes is kept.
 *
 * Ownership: struct transport is embedded by its owner and must stay alive
 * until the on_closed callback of transport_close has run (libuv handles
 * are only reusable in their close callbacks).  Bodies passed to
 * on_message are borrowed for the call.  transport_send copies the body.
 */
#ifndef DW_TRANSPORT_H
#define DW_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "../common/buf.h"
#include "../common/err.h"

struct transport;

struct transport_callbacks {
  /* One complete message body (not NUL-terminated). */
  void (*on_message)(void *ctx, const char *body, size_t len);
  /* A framing problem the peer should hear about (a body over the
   * ceiling).  Garbage that is merely skipped is only logged. */
  void (*on_oversize)(void *ctx, size_t len);
  /* Input ended (EOF or a read error) or output failed: the peer is
   * gone.  Called at most once. */
  void (*on_hangup)(void *ctx);
};

enum transport_io { TRANSPORT_STREAM, TRANSPORT_FILE };

union transport_handle {
  uv_handle_t handle;
  uv_stream_t stream;
  uv_pipe_t pipe;
  uv_tty_t tty;
  uv_tcp_t tcp;
};

/* The framing state machine; internal, in the header so it can be
 * embedded. */
enum transport_state {
  TRANSPORT_HEADER, /* collecting a header block */
  TRANSPORT_BODY,   /* collecting `need` body bytes */
  TRANSPORT_SKIP,   /* discarding `need` bytes of an oversize body */
};

struct transport {
  uv_loop_t *loop;
  struct transport_callbacks cb;
  void *ctx;

  /* input */
  int in_fd;
  enum transport_io in_io;
  union transport_handle in;
  bool in_open;      /* `in` was initialised and needs uv_close */
  uv_fs_t in_req;    /* the read in flight (TRANSPORT_FILE) */
  bool in_reading;   /* in_req is in flight */
  char chunk[65536]; /* read buffer; reads are sequential */

  /* framing */
  enum transport_state state;
  struct buf acc; /* bytes received and not yet consumed, from `pos` */
  size_t pos;
  size_t need;

  /* output */
  int out_fd;
  enum transport_io out_io;
  union transport_handle out;
  bool out_open;
  struct transport_write *fq_head; /* file writes, in order */
  struct transport_write *fq_tail;
  size_t writes_pending;

  bool out_ok; /* output usable (files have no handle to track) */
  bool hung_up;
  bool closing;
  bool finished; /* handles closed or closing */
  unsigned open_handles;
  void (*on_closed)(struct transport *t);
};

/* Opens fds in_fd and out_fd on `loop`; does not read yet.  Fails (ERR_IO,
 * with the fd and the reason) for fds libuv cannot drive. */
int transport_init(struct transport *t, uv_loop_t *loop, int in_fd, int out_fd,
                   const struct transport_callbacks *cb, void *ctx,
                   struct err *err) DW_WARN_UNUSED;

/* Starts reading. */
int transport_start(struct transport *t, struct err *err) DW_WARN_UNUSED;

/* Frames and queues one message.  The body is copied. Dropped (with a log
 * line) once the transport is closing or the peer hung up. */
void transport_send(struct transport *t, const char *body, size_t len);

/* Stops reading, lets queued writes finish, closes the handles, then calls
 * on_closed (which may be NULL).  Idempotent.  Also the way to undo a
 * failed transport_init. */
void transport_close(struct transport *t,
                     void (*on_closed)(struct transport *));

/* Frees the buffers, once the loop has finished (after on_closed). */
void transport_cleanup(struct transport *t);

#endif
