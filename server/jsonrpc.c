/*
 * jsonrpc.c - JSON-RPC 2.0 envelopes and bookkeeping.  See jsonrpc.h.
 *
 * Shapes follow the JSON-RPC 2.0 specification: a request has "jsonrpc":
 * "2.0", a string "method", an id that is an integer or a string (LSP's
 * choice) and optional structured params; a notification has no id; a
 * response has an id and exactly one of result and error.  Anything else is
 * InvalidRequest, answered with the id when the id itself was readable.
 * Batches (arrays) are not part of LSP and are refused the same way.
 */
#include "jsonrpc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/ceilings.h"
#include "../common/log.h"

void rpc_init(struct rpc *r, struct transport *t) {
  memset(r, 0, sizeof(*r));
  r->transport = t;
  r->tok = json_tokener_new_ex(DW_MAX_LSP_JSON_DEPTH);
  if (r->tok == NULL)
    abort(); /* json-c's allocation failed: the xmalloc policy */
  json_tokener_set_flags(r->tok, JSON_TOKENER_STRICT);
  r->next_id = 1;
}

void rpc_cleanup(struct rpc *r) {
  while (r->pending) {
    struct rpc_pending *p = r->pending;
    r->pending = p->next;
    json_object_put(p->id);
    free(p->method);
    free(p);
  }
  while (r->outgoing) {
    struct rpc_outgoing *o = r->outgoing;
    r->outgoing = o->next;
    if (o->cb)
      o->cb(o->data, NULL, NULL);
    free(o);
  }
  if (r->tok)
    json_tokener_free(r->tok);
  r->tok = NULL;
}

void rpc_id_text(json_object *id, char *out, size_t size) {
  const char *s =
      id ? json_object_to_json_string_ext(
               id, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
         : "null";
  snprintf(out, size, "%s", s);
}

static bool rpc__valid_id(json_object *id) {
  return json_object_is_type(id, json_type_int) ||
         json_object_is_type(id, json_type_string);
}

int rpc_parse(struct rpc *r, const char *body, size_t len, json_object **root,
              struct rpc_msg *msg, json_object **bad_id, struct err *err) {
  *root = NULL;
  *bad_id = NULL;
  memset(msg, 0, sizeof(*msg));
  if (len > (size_t)INT32_MAX) /* json-c takes an int length */
    return err_set(err, ERR_TOOBIG, "message too large"), RPC_PARSE_ERROR;

  json_tokener_reset(r->tok);
  json_object *obj = json_tokener_parse_ex(r->tok, body, (int)len);
  enum json_tokener_error jerr = json_tokener_get_error(r->tok);
  size_t end = json_tokener_get_parse_end(r->tok);
  if (jerr == json_tokener_continue && obj == NULL) {
    /* A bare number ("42") only ends at a terminator: json-c wants the
     * NUL byte passed explicitly.  The whole body was consumed. */
    obj = json_tokener_parse_ex(r->tok, "", 1);
    jerr = json_tokener_get_error(r->tok);
    end = len;
  }
  if (jerr == json_tokener_continue) {
    json_object_put(obj);
    err_set(err, ERR_SYNTAX, "incomplete JSON (%zu bytes)", len);
    return RPC_PARSE_ERROR;
  }
  if (jerr != json_tokener_success) {
    json_object_put(obj);
    err_set(err, ERR_SYNTAX, "invalid JSON at byte %zu: %s", end,
            json_tokener_error_desc(jerr));
    return RPC_PARSE_ERROR;
  }
  for (size_t i = end; i < len; i++) {
    char c = body[i];
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      json_object_put(obj);
      err_set(err, ERR_SYNTAX, "invalid JSON: trailing data at byte %zu", i);
      return RPC_PARSE_ERROR;
    }
  }

  if (!json_object_is_type(obj, json_type_object)) {
    const char *what = json_object_is_type(obj, json_type_array)
                           ? "batches are not supported"
                           : "a message must be a JSON object";
    json_object_put(obj);
    err_set(err, ERR_INVALID, "%s", what);
    return RPC_INVALID_REQUEST;
  }

  json_object *id = NULL, *method = NULL, *version = NULL;
  bool has_id = json_object_object_get_ex(obj, "id", &id);
  json_object_object_get_ex(obj, "method", &method);
  json_object_object_get_ex(obj, "jsonrpc", &version);
  json_object_object_get_ex(obj, "params", &msg->params);
  json_object_object_get_ex(obj, "result", &msg->result);
  bool has_result = json_object_object_get_ex(obj, "result", NULL);
  json_object_object_get_ex(obj, "error", &msg->error);

  const char *why = NULL;
  if (has_id && !rpc__valid_id(id)) {
    /* A response to a request whose id we could not read may carry a null
     * id; nothing can be matched, so it is refused like the others. */
    why = "\"id\" must be an integer or a string";
  } else if (!json_object_is_type(version, json_type_string) ||
             strcmp(json_object_get_string(version), "2.0") != 0) {
    why = "\"jsonrpc\" must be \"2.0\"";
  } else if (method != NULL) {
    if (!json_object_is_type(method, json_type_string))
      why = "\"method\" must be a string";
    else if (msg->params != NULL &&
             !json_object_is_type(msg->params, json_type_object) &&
             !json_object_is_type(msg->params, json_type_array))
      why = "\"params\" must be an object or an array";
  } else if (!has_id) {
    why = "a message needs a \"method\" or an \"id\"";
  } else if (has_result == (msg->error != NULL)) {
    why = "a response needs exactly one of \"result\" and \"error\"";
  }
  if (why != NULL) {
    if (has_id && rpc__valid_id(id))
      *bad_id = json_object_get(id);
    json_object_put(obj);
    memset(msg, 0, sizeof(*msg));
    err_set(err, ERR_INVALID, "%s", why);
    return RPC_INVALID_REQUEST;
  }

  if (method != NULL) {
    msg->kind = has_id ? RPC_REQUEST : RPC_NOTIFICATION;
    msg->method = json_object_get_string(method);
  } else {
    msg->kind = RPC_RESPONSE;
  }
  msg->id = has_id ? id : NULL;
  *root = obj;
  return 0;
}

void rpc_send(struct rpc *r, json_object *msg) {
  size_t len = 0;
  const char *s = json_object_to_json_string_length(
      msg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
  transport_send(r->transport, s, len);
  json_object_put(msg);
}

static json_object *rpc__envelope(void) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "jsonrpc", json_object_new_string("2.0"));
  return o;
}

void rpc_reply(struct rpc *r, json_object *id, json_object *result) {
  json_object *o = rpc__envelope();
  json_object_object_add(o, "id", json_object_get(id));
  json_object_object_add(o, "result", result);
  rpc_send(r, o);
}

void rpc_reply_error(struct rpc *r, json_object *id, int code,
                     const char *message) {
  json_object *e = json_object_new_object();
  json_object_object_add(e, "code", json_object_new_int(code));
  json_object_object_add(e, "message", json_object_new_string(message));
  json_object *o = rpc__envelope();
  json_object_object_add(o, "id", json_object_get(id));
  json_object_object_add(o, "error", e);
  rpc_send(r, o);
}

void rpc_notify(struct rpc *r, const char *method, json_object *params) {
  json_object *o = rpc__envelope();
  json_object_object_add(o, "method", json_object_new_string(method));
  if (params)
    json_object_object_add(o, "params", params);
  rpc_send(r, o);
}

void rpc_notify_begin(struct buf *b, const char *method) {
  buf_reset(b);
  buf_puts(b, "{\"jsonrpc\":\"2.0\",\"method\":\"");
  buf_puts(b, method);
  buf_puts(b, "\",\"params\":");
}

void rpc_notify_end(struct rpc *r, struct buf *b) {
  buf_putc(b, '}');
  transport_send(r->transport, b->data, b->len);
  buf_reset(b);
}

void rpc_request(struct rpc *r, const char *method, json_object *params,
                 rpc_response_cb cb, void *data) {
  struct rpc_outgoing *out = xcalloc(1, sizeof(*out));
  out->id = r->next_id++;
  out->cb = cb;
  out->data = data;
  out->next = r->outgoing;
  r->outgoing = out;
  json_object *o = rpc__envelope();
  json_object_object_add(o, "id", json_object_new_int64(out->id));
  json_object_object_add(o, "method", json_object_new_string(method));
  if (params)
    json_object_object_add(o, "params", params);
  rpc_send(r, o);
}

void rpc_handle_response(struct rpc *r, const struct rpc_msg *msg) {
  if (!json_object_is_type(msg->id, json_type_int)) {
    log_warn("response with an id we never sent; ignored");
    return;
  }
  int64_t id = json_object_get_int64(msg->id);
  for (struct rpc_outgoing **pp = &r->outgoing; *pp; pp = &(*pp)->next) {
    struct rpc_outgoing *o = *pp;
    if (o->id != id)
      continue;
    *pp = o->next;
    if (o->cb)
      o->cb(o->data, msg->error ? NULL : msg->result, msg->error);
    free(o);
    return;
  }
  log_warn("response to unknown request %" PRId64 "; ignored", id);
}

struct rpc_pending *rpc_defer(struct rpc *r, json_object *id,
                              const char *method, rpc_cancel_cb on_cancel,
                              void *owner) {
  struct rpc_pending *p = xcalloc(1, sizeof(*p));
  p->id = json_object_get(id);
  p->method = xstrdup(method);
  p->on_cancel = on_cancel;
  p->owner = owner;
  p->next = r->pending;
  r->pending = p;
  return p;
}

static void rpc__unlink(struct rpc *r, struct rpc_pending *p) {
  for (struct rpc_pending **pp = &r->pending; *pp; pp = &(*pp)->next)
    if (*pp == p) {
      *pp = p->next;
      return;
    }
}

static void rpc__pending_free(struct rpc_pending *p) {
  json_object_put(p->id);
  free(p->method);
  free(p);
}

void rpc_pending_reply(struct rpc *r, struct rpc_pending *p,
                       json_object *result) {
  rpc__unlink(r, p);
  rpc_reply(r, p->id, result);
  rpc__pending_free(p);
}

void rpc_pending_reply_error(struct rpc *r, struct rpc_pending *p, int code,
                             const char *message) {
  rpc__unlink(r, p);
  rpc_reply_error(r, p->id, code, message);
  rpc__pending_free(p);
}

bool rpc_cancel(struct rpc *r, json_object *id) {
  for (struct rpc_pending *p = r->pending; p; p = p->next) {
    if (!json_object_equal(p->id, id))
      continue;
    rpc__unlink(r, p);
    if (p->on_cancel)
      p->on_cancel(p->owner, p);
    char msg[160];
    snprintf(msg, sizeof(msg), "%s was cancelled", p->method);
    rpc_reply_error(r, p->id, RPC_REQUEST_CANCELLED, msg);
    rpc__pending_free(p);
    return true;
  }
  return false;
}

void rpc_cancel_all(struct rpc *r, int code, const char *message) {
  while (r->pending) {
    struct rpc_pending *p = r->pending;
    r->pending = p->next;
    rpc_reply_error(r, p->id, code, message);
    rpc__pending_free(p);
  }
}
