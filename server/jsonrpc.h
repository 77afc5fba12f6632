/*
 * jsonrpc.h - JSON-RPC 2.0 as LSP uses it: parsing and classifying one
 * message, the response and notification envelopes, our own requests to
 * the client (with a callback per response), and requests whose answer is
 * deferred (so $/cancelRequest can answer them RequestCancelled).
 *
 * Ownership: every function that takes a json_object * named `result`,
 * `params` or `msg` consumes the reference (json-c's put), including on
 * failure.  `id` arguments are borrowed (a reference is taken when kept).
 * A struct rpc_msg borrows from the root object returned by rpc_parse.
 */
#ifndef DW_JSONRPC_H
#define DW_JSONRPC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "../common/buf.h"
#include "transport.h"

/* JSON-RPC and LSP error codes. */
#define RPC_ERROR_MAP(X)                                                      \
  X(PARSE_ERROR, -32700)                                                      \
  X(INVALID_REQUEST, -32600)                                                  \
  X(METHOD_NOT_FOUND, -32601)                                                 \
  X(INVALID_PARAMS, -32602)                                                   \
  X(INTERNAL_ERROR, -32603)                                                   \
  X(SERVER_NOT_INITIALIZED, -32002)                                           \
  X(UNKNOWN_ERROR_CODE, -32001)                                               \
  X(REQUEST_FAILED, -32803)                                                   \
  X(SERVER_CANCELLED, -32802)                                                 \
  X(CONTENT_MODIFIED, -32801)                                                 \
  X(REQUEST_CANCELLED, -32800)

enum rpc_error {
#define RPC_ERROR_ENUM(name, val) RPC_##name = val,
  RPC_ERROR_MAP(RPC_ERROR_ENUM)
#undef RPC_ERROR_ENUM
};

enum rpc_kind { RPC_REQUEST, RPC_NOTIFICATION, RPC_RESPONSE };

/* One classified message; every pointer borrows from the parsed root. */
struct rpc_msg {
  enum rpc_kind kind;
  const char *method;  /* requests and notifications */
  json_object *id;     /* requests and responses; NULL for notifications */
  json_object *params; /* NULL when absent */
  json_object *result; /* responses: exactly one of result and error */
  json_object *error;
};

struct rpc;
struct rpc_pending;

/* Called with the response to one of our requests: result or error (the
 * other is NULL), both borrowed; both NULL when the request was dropped
 * because the session ends. */
typedef void (*rpc_response_cb)(void *data, json_object *result,
                                json_object *error);

/* Called when the client cancels a deferred request: the owner forgets
 * `p`, which rpc then answers and frees. */
typedef void (*rpc_cancel_cb)(void *owner, struct rpc_pending *p);

struct rpc_pending {
  json_object *id; /* owned reference */
  char *method;    /* owned */
  rpc_cancel_cb on_cancel;
  void *owner;
  struct rpc_pending *owner_next; /* free for the owner's own list */
  struct rpc_pending *next;       /* rpc's list */
};

struct rpc_outgoing {
  int64_t id;
  rpc_response_cb cb;
  void *data;
  struct rpc_outgoing *next;
};

struct rpc {
  struct transport *transport;   /* borrowed */
  json_tokener *tok;             /* owned */
  struct rpc_pending *pending;   /* deferred incoming requests */
  struct rpc_outgoing *outgoing; /* our requests awaiting answers */
  int64_t next_id;
};

void rpc_init(struct rpc *r, struct transport *t);
/* Drops pending requests unanswered and calls outgoing callbacks with
 * NULL, NULL. */
void rpc_cleanup(struct rpc *r);

/*
 * Parses and classifies one body.  On success returns 0, *root (a new
 * reference the caller puts after using *msg) and *msg.  On failure
 * returns an rpc_error (PARSE_ERROR or INVALID_REQUEST), *root is NULL,
 * err->msg says why, and *bad_id is the request's id when it could be read
 * (a new reference, or NULL): the caller answers with it.
 */
int rpc_parse(struct rpc *r, const char *body, size_t len, json_object **root,
              struct rpc_msg *msg, json_object **bad_id, struct err *err);

/* Serialises, frames and queues one message. */
void rpc_send(struct rpc *r, json_object *msg);
/* A success response; result may be NULL (JSON null). */
void rpc_reply(struct rpc *r, json_object *id, json_object *result);
/* An error response; id may be NULL (JSON null). */
void rpc_reply_error(struct rpc *r, json_object *id, int code,
                     const char *message);
void rpc_notify(struct rpc *r, const char *method, json_object *params);
/*
 * A notification whose params the caller writes as JSON text, for large
 * messages built as text (diagnostics): no json-c tree and one copy less.
 * rpc_notify_begin empties b and writes the envelope up to "params": (the
 * method must need no JSON escaping); the caller appends the params
 * value; rpc_notify_end closes the envelope, sends it and empties b.
 */
void rpc_notify_begin(struct buf *b, const char *method);
void rpc_notify_end(struct rpc *r, struct buf *b);
/* Sends a request to the client; cb (may be NULL) runs with its
 * response. */
void rpc_request(struct rpc *r, const char *method, json_object *params,
                 rpc_response_cb cb, void *data);
/* Routes a response to the callback of our request with that id. */
void rpc_handle_response(struct rpc *r, const struct rpc_msg *msg);

/* Keeps a request open past its handler.  The owner answers it later with
 * rpc_pending_reply (which frees it), or is told through on_cancel. */
struct rpc_pending *rpc_defer(struct rpc *r, json_object *id,
                              const char *method, rpc_cancel_cb on_cancel,
                              void *owner);
void rpc_pending_reply(struct rpc *r, struct rpc_pending *p,
                       json_object *result);
/* The same with an error response. */
void rpc_pending_reply_error(struct rpc *r, struct rpc_pending *p, int code,
                             const char *message);
/* $/cancelRequest: answers the deferred request `id` RequestCancelled.
 * Returns false when no such request is pending (already answered). */
bool rpc_cancel(struct rpc *r, json_object *id);

/* Answers every deferred request with an error (without calling the
 * owners' on_cancel: they must have forgotten them already). */
void rpc_cancel_all(struct rpc *r, int code, const char *message);

/* Writes the id as JSON ("7", "\"abc\"", "null") into out, for logs. */
void rpc_id_text(json_object *id, char *out, size_t size);

#endif
