/*
 * lifecycle.c - initialize, initialized, shutdown, exit, $/cancelRequest
 * and $/setTrace.  The state checks themselves (what may come before
 * initialize or after shutdown) are in server.c's gate, so these handlers
 * only do their own job.
 */
#include <string.h>

#include "../common/log.h"
#include "features/build.h"
#include "features/diagnostics.h"
#include "methods.h"
#include "protocol.h"
#include "server.h"
#include "settings.h"

int lifecycle_initialize(struct server *self, const struct rpc_msg *msg,
                         struct err *err) {
  struct proto_initialize init;
  int rc = proto_read_initialize(msg->params, &init, err);
  if (rc)
    return rc;
  self->caps = init.caps;
  self->encoding = init.encoding;
  self->trace = init.trace;
  settings_apply_json(&self->settings,
                      proto_settings_section(init.init_options));
  server_watch_pid(self, init.process_id);
  self->state = SERVER_RUNNING;
  log_info("initialize from %s: encoding %s, %s diagnostics",
           init.client_name ? init.client_name : "an unnamed client",
           doc_encoding_name(self->encoding),
           self->caps.pull_diagnostics ? "pull" : "push");
  rpc_reply(&self->rpc, msg->id,
            proto_initialize_result(METHOD_CAPS, self->encoding));
  return 0;
}

int lifecycle_initialized(struct server *self, const struct rpc_msg *msg,
                          struct err *err) {
  settings_request(self);
  return 0;
}

int lifecycle_shutdown(struct server *self, const struct rpc_msg *msg,
                       struct err *err) {
  self->state = SERVER_SHUTDOWN;
  uv_timer_stop(&self->diag_timer);
  /* Deferred requests (pulls waiting for an analysis) get their answer
   * before the shutdown's: nothing is computed any more. */
  diagnostics_stop(self);
  build_stop(self);
  rpc_cancel_all(&self->rpc, RPC_SERVER_CANCELLED,
                 "the server is shutting down");
  rpc_reply(&self->rpc, msg->id, NULL);
  return 0;
}

int lifecycle_exit(struct server *self, const struct rpc_msg *msg,
                   struct err *err) {
  server_stop(self, self->state == SERVER_SHUTDOWN ? 0 : 1);
  return 0;
}

int lifecycle_cancel(struct server *self, const struct rpc_msg *msg,
                     struct err *err) {
  json_object *id;
  int rc = proto_read_cancel(msg->params, &id, err);
  if (rc)
    return rc;
  /* Requests are answered as they arrive unless deferred; a cancel for
   * one already answered is normal and ignored. */
  if (!rpc_cancel(&self->rpc, id))
    log_debug("$/cancelRequest for a request no longer pending");
  return 0;
}

int lifecycle_set_trace(struct server *self, const struct rpc_msg *msg,
                        struct err *err) {
  enum server_trace t;
  int rc = proto_read_trace(msg->params, &t, err);
  if (rc)
    return rc;
  self->trace = t;
  return 0;
}
