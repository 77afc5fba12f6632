/*
 * protocol.h - LSP's structures, read from and written to JSON.  The only
 * file that builds JSON payloads (jsonrpc.c builds the envelopes), so the
 * features work on plain structs.
 *
 * Readers borrow from the params object: strings in the outputs live as
 * long as the message.  They return 0, or RPC_INVALID_PARAMS with err->msg
 * naming the field.  Builders return a new reference (consumed by
 * rpc_send and friends).
 */
#ifndef DW_PROTOCOL_H
#define DW_PROTOCOL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../analysis/analysis.h"
#include "../common/buf.h"
#include "../common/err.h"
#include "documents.h"
#include "server.h"

struct proto_initialize {
  int64_t process_id; /* 0 when null or absent */
  struct client_caps caps;
  enum doc_encoding encoding; /* the negotiated one */
  enum server_trace trace;
  json_object *init_options; /* borrowed; NULL when absent */
  const char *client_name;   /* borrowed; NULL when absent */
};

struct proto_change {
  bool has_range; /* false: the text replaces the document */
  struct lsp_range range;
  const char *text; /* borrowed */
  size_t len;
};

struct proto_did_open {
  const char *uri;
  int64_t version;
  const char *text;
  size_t len;
};

struct proto_did_change {
  const char *uri;
  int64_t version;
  struct proto_change *changes; /* owned array: proto_did_change_cleanup */
  size_t nchanges;
};

int proto_read_initialize(json_object *params, struct proto_initialize *out,
                          struct err *err) DW_WARN_UNUSED;
int proto_read_did_open(json_object *params, struct proto_did_open *out,
                        struct err *err) DW_WARN_UNUSED;
int proto_read_did_change(json_object *params, struct proto_did_change *out,
                          struct err *err) DW_WARN_UNUSED;
void proto_did_change_cleanup(struct proto_did_change *c);
/* {textDocument: {uri}} (didClose); *previous is the diagnostic pull's
 * previousResultId or NULL (pass NULL when not wanted). */
int proto_read_text_document(json_object *params, const char **uri,
                             const char **previous,
                             struct err *err) DW_WARN_UNUSED;
/* $/cancelRequest: the id, borrowed. */
int proto_read_cancel(json_object *params, json_object **id,
                      struct err *err) DW_WARN_UNUSED;
/* $/setTrace */
int proto_read_trace(json_object *params, enum server_trace *out,
                     struct err *err) DW_WARN_UNUSED;
/* The "dockwright" object of initializationOptions, of
 * didChangeConfiguration's settings, or the first item of a
 * workspace/configuration result (borrowed; NULL when there is none). */
json_object *proto_settings_section(json_object *settings);

json_object *proto_initialize_result(unsigned caps, enum doc_encoding enc);
json_object *proto_configuration_params(void);
json_object *proto_log_trace(const char *message, const char *verbose);

/* The params of textDocument/publishDiagnostics, appended to b as JSON
 * text (see rpc_notify_begin), positions in the client's encoding; `l`
 * may be NULL (none). */
void proto_publish_diagnostics(struct buf *b, struct server *self,
                               struct doc *d, const struct diag_list *l);
json_object *proto_publish_empty(const char *uri);
json_object *proto_diagnostic_report(struct server *self, struct doc *d,
                                     const struct diag_list *l,
                                     const char *result_id);
json_object *proto_diagnostic_unchanged(const char *result_id);

/* ---- position requests (completion, hover, signature help) ---------- */

/* {textDocument: {uri}, position}: the uri (borrowed) and the position. */
int proto_read_position(json_object *params, const char **uri,
                        struct lsp_pos *pos, struct err *err) DW_WARN_UNUSED;

/* LSP's CompletionItemKind values we use. */
enum proto_ci_kind {
  PROTO_CI_TEXT = 1,
  PROTO_CI_FUNCTION = 3,
  PROTO_CI_FIELD = 5,
  PROTO_CI_VARIABLE = 6,
  PROTO_CI_MODULE = 9,
  PROTO_CI_PROPERTY = 10,
  PROTO_CI_VALUE = 12,
  PROTO_CI_KEYWORD = 14,
  PROTO_CI_SNIPPET = 15,
  PROTO_CI_FILE = 17,
  PROTO_CI_REFERENCE = 18,
  PROTO_CI_FOLDER = 19,
  PROTO_CI_ENUM_MEMBER = 20,
  PROTO_CI_CONSTANT = 21,
  PROTO_CI_EVENT = 23,
  PROTO_CI_OPERATOR = 24,
};

/* One completion item, as a feature fills it; strings are borrowed for the
 * call.  The edit replaces bytes [start, end) of the document with
 * `insert` (the label when NULL), a snippet when `snippet`. */
struct proto_completion_item {
  const char *label;
  enum proto_ci_kind kind;
  const char *detail; /* NULL: none */
  const char *doc;    /* markdown; NULL: none (or given by resolve) */
  const char *insert; /* NULL: the label */
  bool snippet;
  bool deprecated;
  const char *sort;    /* NULL: the label */
  const char *filter;  /* NULL: the label */
  const char *resolve; /* data.key for completionItem/resolve, or NULL */
  size_t start, end;
};

json_object *proto_completion_list(struct server *self, struct doc *d,
                                   const struct proto_completion_item *v,
                                   size_t n, bool incomplete);
/* completionItem/resolve: the key the item carries (borrowed) or NULL. */
const char *proto_read_completion_key(json_object *item);
/* A copy of the item with documentation (markdown, sent as the client
 * prefers) and detail when given. */
json_object *proto_completion_resolved(struct server *self, json_object *item,
                                       const char *detail, const char *doc);

/* textDocument/hover: markdown (turned into plain text for a client that
 * prefers it) shown for bytes [start, end); NULL markdown: null. */
json_object *proto_hover(struct server *self, struct doc *d,
                         const char *markdown, size_t start, size_t end);

/* One parameter of a signature: bytes [start, end) of the label. */
struct proto_parameter {
  size_t start, end;
  const char *doc; /* markdown or NULL */
};

struct proto_signature {
  const char *label;
  const char *doc; /* markdown or NULL */
  const struct proto_parameter *params;
  size_t nparams;
  size_t active; /* index into params */
};

/* textDocument/signatureHelp with n signatures, `active` the one shown;
 * n == 0: null. */
json_object *proto_signature_help(struct server *self,
                                  const struct proto_signature *sigs, size_t n,
                                  size_t active);

/* ---- code actions ------------------------------------------------------ */

/* Replace bytes [start, end) of the document with text. */
struct proto_edit {
  size_t start, end;
  const char *text; /* borrowed */
};

/* What codeAction/resolve needs to find an action again: the document and
 * its version, the diagnostic (rule and start byte), the action. */
struct proto_action_data {
  const char *uri; /* borrowed */
  int64_t version;
  const char *rule; /* borrowed */
  size_t at;
  const char *action; /* borrowed: "fix", "ignore", "skip", "all" */
  size_t fix;
};

struct proto_code_action {
  const char *title;
  const char *kind; /* "quickfix", "source.fixAll.dockwright" */
  bool preferred;
  const struct diag *diag;        /* the diagnostic it fixes, or NULL */
  const struct proto_edit *edits; /* sent unless `lazy` */
  size_t nedits;
  bool lazy; /* send `data` instead of the edit (codeAction/resolve) */
  struct proto_action_data data;
};

/* textDocument/codeAction: the uri, the range, and which kinds the client
 * asks for (context.only; both true when it says nothing). */
int proto_read_code_action(json_object *params, const char **uri,
                           struct lsp_range *range, bool *quickfix,
                           bool *fixall, struct err *err) DW_WARN_UNUSED;
json_object *proto_code_actions(struct server *self, struct doc *d,
                                const struct proto_code_action *v, size_t n);
/* codeAction/resolve: the data we put in the action (strings borrowed
 * from it). */
int proto_read_action_data(json_object *action, struct proto_action_data *out,
                           struct err *err) DW_WARN_UNUSED;
/* The action the client sent, with its edit filled in (a new object). */
json_object *proto_code_action_resolved(struct server *self, struct doc *d,
                                        json_object *action,
                                        const struct proto_edit *edits,
                                        size_t n);
/* ---- language intelligence II (navigation, structure, tokens, formatting,
 * links, inlay hints) ---------------------------------------------------- */

/* {textDocument: {uri}, range}: rangeFormatting, semanticTokens/range,
 * inlayHint. */
int proto_read_range_request(json_object *params, const char **uri,
                             struct lsp_range *range,
                             struct err *err) DW_WARN_UNUSED;
/* onTypeFormatting: the position and the character typed (borrowed). */
int proto_read_on_type(json_object *params, const char **uri,
                       struct lsp_pos *pos, const char **ch,
                       struct err *err) DW_WARN_UNUSED;
/* rename: the position and the new name (borrowed). */
int proto_read_rename(json_object *params, const char **uri,
                      struct lsp_pos *pos, const char **new_name,
                      struct err *err) DW_WARN_UNUSED;
/* references: the position and context.includeDeclaration (true when
 * absent). */
int proto_read_references(json_object *params, const char **uri,
                          struct lsp_pos *pos, bool *include_decl,
                          struct err *err) DW_WARN_UNUSED;
/* selectionRange: the positions (owned array, caller frees). */
int proto_read_selection(json_object *params, const char **uri,
                         struct lsp_pos **pos, size_t *n,
                         struct err *err) DW_WARN_UNUSED;
/* workspace/symbol: the query (borrowed; "" when absent). */
int proto_read_workspace_symbol(json_object *params, const char **query,
                                struct err *err) DW_WARN_UNUSED;
/* semanticTokens/full/delta: the uri and previousResultId (borrowed). */
int proto_read_tokens_delta(json_object *params, const char **uri,
                            const char **previous,
                            struct err *err) DW_WARN_UNUSED;

/* TextEdit[] (formatting). */
json_object *proto_text_edits(struct server *self, struct doc *d,
                              const struct proto_edit *e, size_t n);
/* A WorkspaceEdit of one document (rename). */
json_object *proto_rename_edit(struct server *self, struct doc *d,
                               const struct proto_edit *e, size_t n);

/* Bytes [start, end) of a document; kind: DocumentHighlightKind (1 text,
 * 2 read, 3 write), 0 when not wanted. */
struct proto_span {
  size_t start, end;
  int kind;
};
/* Location[] in d (definition, references). */
json_object *proto_locations(struct server *self, struct doc *d,
                             const struct proto_span *v, size_t n);
/* DocumentHighlight[]. */
json_object *proto_highlights(struct server *self, struct doc *d,
                              const struct proto_span *v, size_t n);
/* prepareRename: {range, placeholder}. */
json_object *proto_prepare_rename(struct server *self, struct doc *d,
                                  size_t start, size_t end,
                                  const char *placeholder);

/* One symbol: `parent` is the index of the enclosing one, or SIZE_MAX. */
struct proto_symbol {
  const char *name;   /* borrowed */
  const char *detail; /* borrowed; NULL: none */
  int kind;           /* SymbolKind */
  size_t start, end;  /* the whole symbol */
  size_t sel_start, sel_end;
  size_t parent;
};
/* DocumentSymbol[] (hierarchical: parents before their children). */
json_object *proto_document_symbols(struct server *self, struct doc *d,
                                    const struct proto_symbol *v, size_t n);
/* Appends d's symbols to a SymbolInformation[] (workspace/symbol). */
void proto_workspace_symbols_add(json_object *list, struct server *self,
                                 struct doc *d, const struct proto_symbol *v,
                                 size_t n);

struct proto_fold {
  uint32_t start_line, end_line;
  const char *kind; /* "comment", "region" or NULL */
};
json_object *proto_folding_ranges(const struct proto_fold *v, size_t n);

/* SelectionRange[]: for position i, chains[off[i] .. off[i+1]) are its
 * nested byte ranges, innermost first. */
json_object *proto_selection_ranges(struct server *self, struct doc *d,
                                    const struct proto_span *chains,
                                    const size_t *off, size_t npos);

/* SemanticTokens {resultId, data}; data is LSP's relative encoding. */
json_object *proto_semantic_tokens(const char *result_id, const uint32_t *data,
                                   size_t n);
/* SemanticTokensDelta with one edit (none when del == 0 and n == 0). */
json_object *proto_semantic_delta(const char *result_id, size_t start,
                                  size_t del, const uint32_t *data, size_t n);

struct proto_link {
  size_t start, end;
  const char *target;  /* borrowed */
  const char *tooltip; /* borrowed; NULL: none */
};
json_object *proto_document_links(struct server *self, struct doc *d,
                                  const struct proto_link *v, size_t n);

struct proto_inlay {
  size_t at;
  const char *label;   /* borrowed */
  const char *tooltip; /* borrowed; NULL: none */
};
json_object *proto_inlay_hints(struct server *self, struct doc *d,
                               const struct proto_inlay *v, size_t n);

/* ---- building from the editor (features/build.c, docs/editor-protocol.md) */

/* workspace/executeCommand with one of the dockwright.* commands: the
 * argument object's fields, borrowed from params (the arrays are owned:
 * proto_build_cmd_cleanup). */
struct proto_build_cmd {
  const char *command;
  const char *uri; /* NULL when the command came without an argument */
  const char *target, *context, *platform, *output; /* NULL when absent */
  const char **tags;                                /* owned array */
  size_t ntags;
  const char **arg_keys, **arg_values; /* owned arrays: buildArgs */
  size_t nargs;
  bool no_cache;
  json_object *work_done_token; /* borrowed; NULL when absent */
};
int proto_read_execute_command(json_object *params,
                               struct proto_build_cmd *out,
                               struct err *err) DW_WARN_UNUSED;
void proto_build_cmd_cleanup(struct proto_build_cmd *c);
/* window/workDoneProgress/cancel: the token, borrowed. */
int proto_read_progress_cancel(json_object *params, json_object **token,
                               struct err *err) DW_WARN_UNUSED;

/* One instruction's result in a build. */
struct proto_build_step {
  unsigned step, line; /* line: 1-based, the instruction's first */
  char *text;          /* owned: "[3/9] RUN make" */
  bool done, cached;
  double seconds;
  bool has_layer;
  uint64_t layer_size;
};
/* A failed build's diagnostic (source "dockwright build"). */
struct proto_build_diag {
  struct lsp_range range; /* in the client's encoding */
  char *message;          /* owned */
};
json_object *proto_build_result(const char *digest, const char *const *tags,
                                size_t ntags,
                                const struct proto_build_step *steps,
                                size_t nsteps);
/* $/progress params; kind "begin" (title), "report" or "end"; pct < 0:
 * none. */
json_object *proto_progress(json_object *token, const char *kind,
                            const char *title, const char *message, int pct);
json_object *proto_progress_create(json_object *token);
json_object *proto_build_log(const char *uri, unsigned step,
                             const char *stream, const char *text);
json_object *proto_log_message(int type, const char *text);
/* A publishDiagnostics of a document that is not open: only the build's. */
json_object *proto_publish_build(const char *uri,
                                 const struct proto_build_diag *g);

struct proto_lens {
  uint32_t line;
  const char *title;
  const char *command; /* "" for a lens that only shows */
  const char *uri;     /* the argument object's uri (NULL: no arguments) */
  const char *target;  /* and target, or NULL */
};
json_object *proto_code_lenses(const struct proto_lens *v, size_t n);

/* dockwright/debugDocument: the text and two trees (S-expressions, either
 * may be NULL). */
json_object *proto_debug_document(const struct doc *d, const char *tree,
                                  const char *fresh_tree);

#endif
