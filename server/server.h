/*
 * server.h - the language server: one struct owned by the loop thread and
 * passed as `self` to every handler.
 *
 * DESIGN
 * One thread, one uv loop.  The transport hands each framed body to
 * server_dispatch, which classifies it (jsonrpc.c), enforces the lifecycle
 * (initialize, initialized, shutdown, exit) and calls the handler listed in
 * methods.h.  Handlers answer at once, or defer a request (diagnostic pulls
 * wait for a pending analysis) so $/cancelRequest can still reach it.
 * Nothing on this thread waits for disk, network or a child: the
 * .dockerignore is read with uv_fs requests, and output is queued.
 *
 * The session ends on `exit`, when input closes, or when the client
 * process (initialize's processId) is gone; the exit code is 0 only after
 * a shutdown request.
 */
#ifndef DW_SERVER_H
#define DW_SERVER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <tree_sitter/api.h>
#include <uv.h>

#include "../common/err.h"
#include "documents.h"
#include "jsonrpc.h"
#include "settings.h"
#include "transport.h"

struct completion_state;
struct hover_job;
struct tags_state;

enum server_state {
  SERVER_UNINITIALIZED, /* before initialize */
  SERVER_RUNNING,       /* initialize answered */
  SERVER_SHUTDOWN,      /* shutdown answered: only exit is welcome */
};

enum server_trace { TRACE_OFF, TRACE_MESSAGES, TRACE_VERBOSE };

/* What the client said it can do (initialize's capabilities). */
struct client_caps {
  bool configuration;       /* workspace.configuration */
  bool pull_diagnostics;    /* textDocument.diagnostic */
  bool diagnostic_refresh;  /* workspace.diagnostics.refreshSupport */
  bool related_information; /* publishDiagnostics.relatedInformation */
  bool code_description;    /* publishDiagnostics.codeDescriptionSupport */
  bool diagnostic_tags;     /* publishDiagnostics.tagSupport */
  bool data_support;        /* publishDiagnostics.dataSupport */
  /* Completion, hover, signature help, code actions. */
  bool snippets;             /* completionItem.snippetSupport */
  bool completion_markdown;  /* completionItem.documentationFormat */
  bool completion_resolve;   /* resolveSupport lists "documentation" */
  bool hover_markdown;       /* hover.contentFormat prefers markdown */
  bool signature_markdown;   /* signatureInformation.documentationFormat */
  bool signature_offsets;    /* parameterInformation.labelOffsetSupport */
  bool code_action_literals; /* codeAction.codeActionLiteralSupport */
  bool code_action_resolve;  /* codeAction.resolveSupport lists "edit" */
  bool document_changes;     /* workspace.workspaceEdit.documentChanges */
  bool work_done_progress;   /* window.workDoneProgress */
  bool code_lens_refresh;    /* workspace.codeLens.refreshSupport */
  bool build_log;            /* experimental.dockwright.buildLog: it shows
                                dockwright/buildLog, so the log is not
                                sent again as window/logMessage */
};

struct build_state;
struct semtok_state;

struct server {
  uv_loop_t *loop; /* borrowed */
  struct transport transport;
  struct rpc rpc;
  struct doc_store docs;
  TSParser *parser; /* owned; used only on this thread */
  struct settings settings;

  enum server_state state;
  enum server_trace trace;
  enum doc_encoding encoding;
  struct client_caps caps;
  bool exiting;
  int exit_code;

  int64_t client_pid; /* 0 when the client gave none */
  uv_timer_t pid_timer;
  uv_timer_t diag_timer; /* features/diagnostics.c */
  unsigned open_handles; /* timers not yet closed */

  struct completion_state *completion; /* features/completion.c */
  struct hover_job *hover_jobs;        /* features/hover.c */

  bool config_pending;      /* workspace/configuration asked, no answer */
  uint64_t config_asked_at; /* loop time of the question */

  struct build_state *builds; /* features/build.c; NULL before a build */

  struct semtok_state *semtokens; /* features/semtokens.c; NULL before one */
  struct tags_state *tags;        /* features/tags.c; NULL before a tag list */
};

/* Runs a whole session on in_fd/out_fd.  Returns 0 and the process exit
 * code in *exit_code (0 after shutdown + exit, 1 otherwise), or a negative
 * code when the fds cannot be used (*exit_code is then 2). */
int server_run(int in_fd, int out_fd, int *exit_code,
               struct err *err) DW_WARN_UNUSED;

/* Polls the client process (kill(pid, 0)) and exits when it is gone. */
void server_watch_pid(struct server *self, int64_t pid);

/* Ends the session with `code`: stops timers, flushes output, closes
 * handles.  Idempotent (the first code wins). */
void server_stop(struct server *self, int code);

/* Sends $/logTrace when trace is on.  `verbose` may be NULL. */
void server_trace(struct server *self, const char *verbose, const char *fmt,
                  ...) DW_PRINTF(3, 4);

#endif
