/*
 * methods.h - every LSP method the server handles, in one table (redis's
 * commands.def habit): the method name, its handler, whether it is a
 * request or a notification, and the server capability it makes true.
 *
 * server.c dispatches through this table and protocol.c derives the
 * initialize result's capabilities from it, so an advertised capability
 * always has a handler.  A new feature is one file under features/ and one
 * line here.
 *
 * A handler returns 0 when it has answered (requests), deferred the answer
 * (rpc_defer) or finished (notifications); otherwise an rpc_error code with
 * err->msg, which server.c turns into the error response (requests) or a
 * log line (notifications).
 */
#ifndef DW_METHODS_H
#define DW_METHODS_H

#include "../common/err.h"
#include "jsonrpc.h"

struct server;

enum method_kind { METHOD_REQUEST, METHOD_NOTIFICATION };

/* Server capabilities, as bits. */
enum method_cap {
  CAP_NONE = 0,
  CAP_TEXT_SYNC = 1u << 0,  /* textDocumentSync: open/close, incremental */
  CAP_DIAGNOSTIC = 1u << 1, /* diagnosticProvider (pull) */
  CAP_COMPLETION = 1u << 2, /* completionProvider */
  CAP_COMPLETION_RESOLVE = 1u << 3,  /* completionProvider.resolveProvider */
  CAP_CODE_ACTION = 1u << 4,         /* codeActionProvider */
  CAP_CODE_ACTION_RESOLVE = 1u << 5, /* codeActionProvider.resolveProvider */
  CAP_HOVER = 1u << 6,               /* hoverProvider */
  CAP_SIGNATURE = 1u << 7,           /* signatureHelpProvider */
  CAP_EXECUTE_COMMAND = 1u << 8,     /* executeCommandProvider */
  CAP_CODE_LENS = 1u << 9,           /* codeLensProvider */
  /* Language intelligence II. */
  CAP_DEFINITION = 1u << 10,         /* definitionProvider */
  CAP_REFERENCES = 1u << 11,         /* referencesProvider */
  CAP_HIGHLIGHT = 1u << 12,          /* documentHighlightProvider */
  CAP_RENAME = 1u << 13,             /* renameProvider (with prepare) */
  CAP_DOCUMENT_SYMBOL = 1u << 14,    /* documentSymbolProvider */
  CAP_WORKSPACE_SYMBOL = 1u << 15,   /* workspaceSymbolProvider */
  CAP_FOLDING = 1u << 16,            /* foldingRangeProvider */
  CAP_SELECTION = 1u << 17,          /* selectionRangeProvider */
  CAP_SEMANTIC_TOKENS = 1u << 18,    /* semanticTokensProvider */
  CAP_FORMATTING = 1u << 19,         /* documentFormattingProvider */
  CAP_RANGE_FORMATTING = 1u << 20,   /* documentRangeFormattingProvider */
  CAP_ON_TYPE_FORMATTING = 1u << 21, /* documentOnTypeFormattingProvider */
  CAP_DOCUMENT_LINK = 1u << 22,      /* documentLinkProvider */
  CAP_INLAY_HINT = 1u << 23,         /* inlayHintProvider */
};

/* X(method, handler, kind, capability) */
#define METHOD_MAP(X)                                                         \
  X("initialize", lifecycle_initialize, METHOD_REQUEST, CAP_NONE)             \
  X("initialized", lifecycle_initialized, METHOD_NOTIFICATION, CAP_NONE)      \
  X("shutdown", lifecycle_shutdown, METHOD_REQUEST, CAP_NONE)                 \
  X("exit", lifecycle_exit, METHOD_NOTIFICATION, CAP_NONE)                    \
  X("$/cancelRequest", lifecycle_cancel, METHOD_NOTIFICATION, CAP_NONE)       \
  X("$/setTrace", lifecycle_set_trace, METHOD_NOTIFICATION, CAP_NONE)         \
  X("workspace/didChangeConfiguration", settings_did_change,                  \
    METHOD_NOTIFICATION, CAP_NONE)                                            \
  X("textDocument/didOpen", textsync_did_open, METHOD_NOTIFICATION,           \
    CAP_TEXT_SYNC)                                                            \
  X("textDocument/didChange", textsync_did_change, METHOD_NOTIFICATION,       \
    CAP_TEXT_SYNC)                                                            \
  X("textDocument/didClose", textsync_did_close, METHOD_NOTIFICATION,         \
    CAP_TEXT_SYNC)                                                            \
  X("textDocument/diagnostic", diagnostics_pull, METHOD_REQUEST,              \
    CAP_DIAGNOSTIC)                                                           \
  X("textDocument/completion", completion_handle, METHOD_REQUEST,             \
    CAP_COMPLETION)                                                           \
  X("completionItem/resolve", completion_resolve, METHOD_REQUEST,             \
    CAP_COMPLETION_RESOLVE)                                                   \
  X("textDocument/codeAction", codeaction_handle, METHOD_REQUEST,             \
    CAP_CODE_ACTION)                                                          \
  X("codeAction/resolve", codeaction_resolve, METHOD_REQUEST,                 \
    CAP_CODE_ACTION_RESOLVE)                                                  \
  X("textDocument/hover", hover_handle, METHOD_REQUEST, CAP_HOVER)            \
  X("textDocument/signatureHelp", signature_handle, METHOD_REQUEST,           \
    CAP_SIGNATURE)                                                            \
  X("workspace/executeCommand", build_execute_command, METHOD_REQUEST,        \
    CAP_EXECUTE_COMMAND)                                                      \
  X("window/workDoneProgress/cancel", build_progress_cancel,                  \
    METHOD_NOTIFICATION, CAP_NONE)                                            \
  X("textDocument/codeLens", build_code_lens, METHOD_REQUEST, CAP_CODE_LENS)  \
  X("textDocument/formatting", formatting_document, METHOD_REQUEST,           \
    CAP_FORMATTING)                                                           \
  X("textDocument/rangeFormatting", formatting_range, METHOD_REQUEST,         \
    CAP_RANGE_FORMATTING)                                                     \
  X("textDocument/onTypeFormatting", formatting_on_type, METHOD_REQUEST,      \
    CAP_ON_TYPE_FORMATTING)                                                   \
  X("textDocument/definition", navigation_definition, METHOD_REQUEST,         \
    CAP_DEFINITION)                                                           \
  X("textDocument/references", navigation_references, METHOD_REQUEST,         \
    CAP_REFERENCES)                                                           \
  X("textDocument/documentHighlight", navigation_highlight, METHOD_REQUEST,   \
    CAP_HIGHLIGHT)                                                            \
  X("textDocument/prepareRename", navigation_prepare_rename, METHOD_REQUEST,  \
    CAP_NONE)                                                                 \
  X("textDocument/rename", navigation_rename, METHOD_REQUEST, CAP_RENAME)     \
  X("textDocument/documentSymbol", symbols_document, METHOD_REQUEST,          \
    CAP_DOCUMENT_SYMBOL)                                                      \
  X("workspace/symbol", symbols_workspace, METHOD_REQUEST,                    \
    CAP_WORKSPACE_SYMBOL)                                                     \
  X("textDocument/foldingRange", folding_handle, METHOD_REQUEST, CAP_FOLDING) \
  X("textDocument/selectionRange", selection_handle, METHOD_REQUEST,          \
    CAP_SELECTION)                                                            \
  X("textDocument/semanticTokens/full", semtokens_full, METHOD_REQUEST,       \
    CAP_SEMANTIC_TOKENS)                                                      \
  X("textDocument/semanticTokens/full/delta", semtokens_delta,                \
    METHOD_REQUEST, CAP_NONE)                                                 \
  X("textDocument/semanticTokens/range", semtokens_range, METHOD_REQUEST,     \
    CAP_NONE)                                                                 \
  X("textDocument/documentLink", links_handle, METHOD_REQUEST,                \
    CAP_DOCUMENT_LINK)                                                        \
  X("textDocument/inlayHint", inlay_handle, METHOD_REQUEST, CAP_INLAY_HINT)   \
  X("dockwright/debugDocument", debug_document, METHOD_REQUEST, CAP_NONE)

typedef int (*method_handler)(struct server *self, const struct rpc_msg *msg,
                              struct err *err);

#define METHOD_DECLARE(name, handler, kind, cap)                              \
  int handler(struct server *self, const struct rpc_msg *msg, struct err *err);
METHOD_MAP(METHOD_DECLARE)
#undef METHOD_DECLARE

/* The capability bits of the whole table. */
#define METHOD_CAP_BIT(name, handler, kind, cap) | (cap)
#define METHOD_CAPS (0u METHOD_MAP(METHOD_CAP_BIT))

#endif
