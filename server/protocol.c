/*
 * protocol.c - LSP structures to and from JSON.  See protocol.h.
 */
#include "protocol.h"

#include <inttypes.h>
#include <json-c/printbuf.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/utf8.h"
#include "dw_config.h"
#include "features/build.h"
#include "features/semtokens.h"
#include "jsonrpc.h"
#include "methods.h"

/* ---- reading ---------------------------------------------------------- */

/* o.k1.k2...: the member, or NULL when a step is missing or not an
 * object. */
static json_object *proto__path(json_object *o, ...) {
  va_list ap;
  va_start(ap, o);
  const char *k;
  while (o != NULL && (k = va_arg(ap, const char *)) != NULL) {
    json_object *next = NULL;
    if (!json_object_is_type(o, json_type_object) ||
        !json_object_object_get_ex(o, k, &next))
      next = NULL;
    o = next;
  }
  va_end(ap);
  return o;
}

static bool proto__bool(json_object *o) {
  return json_object_is_type(o, json_type_boolean) &&
         json_object_get_boolean(o);
}

/* Does the string array list `what`? */
static bool proto__lists(json_object *a, const char *what) {
  if (!json_object_is_type(a, json_type_array))
    return false;
  for (size_t i = 0; i < json_object_array_length(a); i++) {
    json_object *e = json_object_array_get_idx(a, i);
    if (json_object_is_type(e, json_type_string) &&
        strcmp(json_object_get_string(e), what) == 0)
      return true;
  }
  return false;
}

/* A MarkupKind list in the client's order of preference: is markdown the
 * first one we speak?  (Absent: plain text, LSP's default.) */
static bool proto__markdown_first(json_object *a) {
  if (!json_object_is_type(a, json_type_array))
    return false;
  for (size_t i = 0; i < json_object_array_length(a); i++) {
    json_object *e = json_object_array_get_idx(a, i);
    if (!json_object_is_type(e, json_type_string))
      continue;
    if (strcmp(json_object_get_string(e), "markdown") == 0)
      return true;
    if (strcmp(json_object_get_string(e), "plaintext") == 0)
      return false;
  }
  return false;
}

static int proto__object(json_object *params, const char *what,
                         struct err *err) {
  if (!json_object_is_type(params, json_type_object)) {
    err_set(err, ERR_INVALID, "%s: params must be an object", what);
    return RPC_INVALID_PARAMS;
  }
  return 0;
}

/* A required string member. */
static int proto__string(json_object *o, const char *key, const char *where,
                         const char **out, size_t *len, struct err *err) {
  json_object *v = proto__path(o, key, NULL);
  if (!json_object_is_type(v, json_type_string)) {
    err_set(err, ERR_INVALID, "%s.%s must be a string", where, key);
    return RPC_INVALID_PARAMS;
  }
  *out = json_object_get_string(v);
  if (len)
    *len = (size_t)json_object_get_string_len(v);
  return 0;
}

static int proto__uint(json_object *o, const char *key, const char *where,
                       uint32_t *out, struct err *err) {
  json_object *v = proto__path(o, key, NULL);
  if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) {
    err_set(err, ERR_INVALID, "%s.%s must be a non-negative integer", where,
            key);
    return RPC_INVALID_PARAMS;
  }
  int64_t x = json_object_get_int64(v);
  /* Past the end is clamped later; here only keep it representable. */
  *out = x > UINT32_MAX ? UINT32_MAX : (uint32_t)x;
  return 0;
}

static int proto__range(json_object *r, const char *where,
                        struct lsp_range *out, struct err *err) {
  json_object *s = proto__path(r, "start", NULL);
  json_object *e = proto__path(r, "end", NULL);
  if (!json_object_is_type(s, json_type_object) ||
      !json_object_is_type(e, json_type_object)) {
    err_set(err, ERR_INVALID, "%s needs start and end positions", where);
    return RPC_INVALID_PARAMS;
  }
  int rc = proto__uint(s, "line", "range.start", &out->start.line, err);
  if (rc == 0)
    rc =
        proto__uint(s, "character", "range.start", &out->start.character, err);
  if (rc == 0)
    rc = proto__uint(e, "line", "range.end", &out->end.line, err);
  if (rc == 0)
    rc = proto__uint(e, "character", "range.end", &out->end.character, err);
  return rc;
}

static enum server_trace proto__trace_value(const char *s, bool *ok) {
  *ok = true;
  if (strcmp(s, "off") == 0)
    return TRACE_OFF;
  if (strcmp(s, "messages") == 0)
    return TRACE_MESSAGES;
  if (strcmp(s, "verbose") == 0)
    return TRACE_VERBOSE;
  *ok = false;
  return TRACE_OFF;
}

int proto_read_initialize(json_object *params, struct proto_initialize *out,
                          struct err *err) {
  memset(out, 0, sizeof(*out));
  int rc = proto__object(params, "initialize", err);
  if (rc)
    return rc;
  json_object *pid = proto__path(params, "processId", NULL);
  if (pid != NULL && !json_object_is_type(pid, json_type_int)) {
    err_set(err, ERR_INVALID, "processId must be an integer or null");
    return RPC_INVALID_PARAMS;
  }
  if (pid != NULL && json_object_get_int64(pid) > 0 &&
      json_object_get_int64(pid) <= INT32_MAX)
    out->process_id = json_object_get_int64(pid);

  json_object *caps = proto__path(params, "capabilities", NULL);
  if (caps != NULL && !json_object_is_type(caps, json_type_object)) {
    err_set(err, ERR_INVALID, "capabilities must be an object");
    return RPC_INVALID_PARAMS;
  }
  /* Inside capabilities, a value of the wrong type counts as absent:
   * clients differ and a missing feature is better than no session. */
  struct client_caps *c = &out->caps;
  c->configuration =
      proto__bool(proto__path(caps, "workspace", "configuration", NULL));
  c->diagnostic_refresh = proto__bool(
      proto__path(caps, "workspace", "diagnostics", "refreshSupport", NULL));
  c->pull_diagnostics = json_object_is_type(
      proto__path(caps, "textDocument", "diagnostic", NULL), json_type_object);
  json_object *pub =
      proto__path(caps, "textDocument", "publishDiagnostics", NULL);
  c->related_information =
      proto__bool(proto__path(pub, "relatedInformation", NULL));
  c->code_description =
      proto__bool(proto__path(pub, "codeDescriptionSupport", NULL));
  c->data_support = proto__bool(proto__path(pub, "dataSupport", NULL));
  c->diagnostic_tags = json_object_is_type(
      proto__path(pub, "tagSupport", NULL), json_type_object);
  json_object *td = proto__path(caps, "textDocument", NULL);
  json_object *ci = proto__path(td, "completion", "completionItem", NULL);
  c->snippets = proto__bool(proto__path(ci, "snippetSupport", NULL));
  c->completion_markdown =
      proto__markdown_first(proto__path(ci, "documentationFormat", NULL));
  c->completion_resolve = proto__lists(
      proto__path(ci, "resolveSupport", "properties", NULL), "documentation");
  c->hover_markdown =
      proto__markdown_first(proto__path(td, "hover", "contentFormat", NULL));
  json_object *si =
      proto__path(td, "signatureHelp", "signatureInformation", NULL);
  c->signature_markdown =
      proto__markdown_first(proto__path(si, "documentationFormat", NULL));
  c->signature_offsets = proto__bool(
      proto__path(si, "parameterInformation", "labelOffsetSupport", NULL));
  json_object *ca = proto__path(td, "codeAction", NULL);
  c->code_action_literals = json_object_is_type(
      proto__path(ca, "codeActionLiteralSupport", NULL), json_type_object);
  c->code_action_resolve = proto__lists(
      proto__path(ca, "resolveSupport", "properties", NULL), "edit");
  c->document_changes = proto__bool(proto__path(
      caps, "workspace", "workspaceEdit", "documentChanges", NULL));
  c->work_done_progress =
      proto__bool(proto__path(caps, "window", "workDoneProgress", NULL));
  c->code_lens_refresh = proto__bool(
      proto__path(caps, "workspace", "codeLens", "refreshSupport", NULL));
  c->build_log = proto__bool(
      proto__path(caps, "experimental", "dockwright", "buildLog", NULL));

  /* The first encoding the client lists that we speak; UTF-16 when it
   * lists none (LSP's mandatory default). */
  out->encoding = DOC_UTF16;
  json_object *encs = proto__path(caps, "general", "positionEncodings", NULL);
  if (json_object_is_type(encs, json_type_array)) {
    size_t n = json_object_array_length(encs);
    for (size_t i = 0; i < n; i++) {
      json_object *e = json_object_array_get_idx(encs, i);
      if (!json_object_is_type(e, json_type_string))
        continue;
      int enc = doc_encoding_from_name(json_object_get_string(e));
      if (enc >= 0) {
        out->encoding = (enum doc_encoding)enc;
        break;
      }
    }
  }

  json_object *trace = proto__path(params, "trace", NULL);
  if (json_object_is_type(trace, json_type_string)) {
    bool ok;
    out->trace = proto__trace_value(json_object_get_string(trace), &ok);
  }
  out->init_options = proto__path(params, "initializationOptions", NULL);
  json_object *name = proto__path(params, "clientInfo", "name", NULL);
  if (json_object_is_type(name, json_type_string))
    out->client_name = json_object_get_string(name);
  return 0;
}

static int proto__version(json_object *td, const char *where, int64_t *out,
                          struct err *err) {
  json_object *v = proto__path(td, "version", NULL);
  if (!json_object_is_type(v, json_type_int)) {
    err_set(err, ERR_INVALID, "%s.version must be an integer", where);
    return RPC_INVALID_PARAMS;
  }
  *out = json_object_get_int64(v);
  return 0;
}

int proto_read_did_open(json_object *params, struct proto_did_open *out,
                        struct err *err) {
  memset(out, 0, sizeof(*out));
  int rc = proto__object(params, "didOpen", err);
  if (rc)
    return rc;
  json_object *td = proto__path(params, "textDocument", NULL);
  if (!json_object_is_type(td, json_type_object)) {
    err_set(err, ERR_INVALID, "textDocument must be an object");
    return RPC_INVALID_PARAMS;
  }
  rc = proto__string(td, "uri", "textDocument", &out->uri, NULL, err);
  if (rc == 0)
    rc = proto__string(td, "text", "textDocument", &out->text, &out->len, err);
  if (rc == 0)
    rc = proto__version(td, "textDocument", &out->version, err);
  return rc;
}

int proto_read_did_change(json_object *params, struct proto_did_change *out,
                          struct err *err) {
  memset(out, 0, sizeof(*out));
  int rc = proto__object(params, "didChange", err);
  if (rc)
    return rc;
  json_object *td = proto__path(params, "textDocument", NULL);
  if (!json_object_is_type(td, json_type_object)) {
    err_set(err, ERR_INVALID, "textDocument must be an object");
    return RPC_INVALID_PARAMS;
  }
  rc = proto__string(td, "uri", "textDocument", &out->uri, NULL, err);
  if (rc == 0)
    rc = proto__version(td, "textDocument", &out->version, err);
  if (rc)
    return rc;
  json_object *changes = proto__path(params, "contentChanges", NULL);
  if (!json_object_is_type(changes, json_type_array)) {
    err_set(err, ERR_INVALID, "contentChanges must be an array");
    return RPC_INVALID_PARAMS;
  }
  /* Read every change before applying any, so a bad one leaves the
   * document as it was instead of half-edited. */
  size_t n = json_object_array_length(changes);
  out->changes = xcalloc(n ? n : 1, sizeof(*out->changes));
  for (size_t i = 0; i < n; i++) {
    json_object *ch = json_object_array_get_idx(changes, i);
    struct proto_change *c = &out->changes[i];
    if (!json_object_is_type(ch, json_type_object)) {
      err_set(err, ERR_INVALID, "contentChanges[%zu] must be an object", i);
      return RPC_INVALID_PARAMS;
    }
    rc = proto__string(ch, "text", "contentChanges[]", &c->text, &c->len, err);
    if (rc)
      return rc;
    json_object *r = proto__path(ch, "range", NULL);
    if (r != NULL) {
      rc = proto__range(r, "contentChanges[].range", &c->range, err);
      if (rc)
        return rc;
      c->has_range = true;
    }
    out->nchanges = i + 1;
  }
  return 0;
}

void proto_did_change_cleanup(struct proto_did_change *c) {
  free(c->changes);
  c->changes = NULL;
  c->nchanges = 0;
}

int proto_read_text_document(json_object *params, const char **uri,
                             const char **previous, struct err *err) {
  int rc = proto__object(params, "textDocument params", err);
  if (rc)
    return rc;
  json_object *td = proto__path(params, "textDocument", NULL);
  if (!json_object_is_type(td, json_type_object)) {
    err_set(err, ERR_INVALID, "textDocument must be an object");
    return RPC_INVALID_PARAMS;
  }
  rc = proto__string(td, "uri", "textDocument", uri, NULL, err);
  if (rc)
    return rc;
  if (previous != NULL) {
    json_object *p = proto__path(params, "previousResultId", NULL);
    *previous = json_object_is_type(p, json_type_string)
                    ? json_object_get_string(p)
                    : NULL;
  }
  return 0;
}

int proto_read_cancel(json_object *params, json_object **id, struct err *err) {
  *id = proto__path(params, "id", NULL);
  if (!json_object_is_type(*id, json_type_int) &&
      !json_object_is_type(*id, json_type_string)) {
    err_set(err, ERR_INVALID,
            "$/cancelRequest: id must be an integer or a "
            "string");
    return RPC_INVALID_PARAMS;
  }
  return 0;
}

int proto_read_trace(json_object *params, enum server_trace *out,
                     struct err *err) {
  json_object *v = proto__path(params, "value", NULL);
  bool ok = false;
  if (json_object_is_type(v, json_type_string))
    *out = proto__trace_value(json_object_get_string(v), &ok);
  if (!ok) {
    err_set(err, ERR_INVALID,
            "$/setTrace: value must be \"off\", \"messages\" or \"verbose\"");
    return RPC_INVALID_PARAMS;
  }
  return 0;
}

json_object *proto_settings_section(json_object *settings) {
  if (json_object_is_type(settings, json_type_array))
    settings = json_object_array_length(settings) > 0
                   ? json_object_array_get_idx(settings, 0)
                   : NULL;
  if (!json_object_is_type(settings, json_type_object))
    return NULL;
  json_object *s = proto__path(settings, "dockwright", NULL);
  if (json_object_is_type(s, json_type_object))
    return s;
  /* A workspace/configuration answer for section "dockwright" is the
   * section itself; so may initializationOptions be. */
  if (proto__path(settings, "rules", NULL) ||
      proto__path(settings, "diagnostics", NULL) ||
      proto__path(settings, "root", NULL) ||
      proto__path(settings, "insecureRegistries", NULL))
    return settings;
  return NULL;
}

/* ---- writing ---------------------------------------------------------- */

/* The capabilities of language intelligence II (features/navigation.c,
 * symbols.c, folding.c, selection.c, semtokens.c, formatting.c, links.c,
 * inlay.c). */
static void proto__intel_caps(json_object *c, unsigned caps) {
  static const struct {
    unsigned cap;
    const char *name;
  } simple[] = {
      {CAP_DEFINITION, "definitionProvider"},
      {CAP_REFERENCES, "referencesProvider"},
      {CAP_HIGHLIGHT, "documentHighlightProvider"},
      {CAP_DOCUMENT_SYMBOL, "documentSymbolProvider"},
      {CAP_WORKSPACE_SYMBOL, "workspaceSymbolProvider"},
      {CAP_FOLDING, "foldingRangeProvider"},
      {CAP_SELECTION, "selectionRangeProvider"},
      {CAP_FORMATTING, "documentFormattingProvider"},
      {CAP_RANGE_FORMATTING, "documentRangeFormattingProvider"},
      {CAP_INLAY_HINT, "inlayHintProvider"},
  };
  for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
    if (caps & simple[i].cap)
      json_object_object_add(c, simple[i].name, json_object_new_boolean(1));
  if (caps & CAP_RENAME) {
    json_object *r = json_object_new_object();
    json_object_object_add(r, "prepareProvider", json_object_new_boolean(1));
    json_object_object_add(c, "renameProvider", r);
  }
  if (caps & CAP_ON_TYPE_FORMATTING) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "firstTriggerCharacter",
                           json_object_new_string("\n"));
    json_object_object_add(c, "documentOnTypeFormattingProvider", o);
  }
  if (caps & CAP_DOCUMENT_LINK) {
    json_object *l = json_object_new_object();
    json_object_object_add(l, "resolveProvider", json_object_new_boolean(0));
    json_object_object_add(c, "documentLinkProvider", l);
  }
  if (caps & CAP_SEMANTIC_TOKENS) {
    json_object *types = json_object_new_array();
    json_object *mods = json_object_new_array();
#define PROTO_SEMTOK_NAME(id, name)                                           \
  json_object_array_add(types, json_object_new_string(name));
    SEMTOK_TYPE_MAP(PROTO_SEMTOK_NAME)
#undef PROTO_SEMTOK_NAME
#define PROTO_SEMTOK_NAME(id, name)                                           \
  json_object_array_add(mods, json_object_new_string(name));
    SEMTOK_MOD_MAP(PROTO_SEMTOK_NAME)
#undef PROTO_SEMTOK_NAME
    json_object *legend = json_object_new_object();
    json_object_object_add(legend, "tokenTypes", types);
    json_object_object_add(legend, "tokenModifiers", mods);
    json_object *full = json_object_new_object();
    json_object_object_add(full, "delta", json_object_new_boolean(1));
    json_object *st = json_object_new_object();
    json_object_object_add(st, "legend", legend);
    json_object_object_add(st, "full", full);
    json_object_object_add(st, "range", json_object_new_boolean(1));
    json_object_object_add(c, "semanticTokensProvider", st);
  }
}

json_object *proto_initialize_result(unsigned caps, enum doc_encoding enc) {
  json_object *c = json_object_new_object();
  json_object_object_add(c, "positionEncoding",
                         json_object_new_string(doc_encoding_name(enc)));
  if (caps & CAP_TEXT_SYNC) {
    json_object *sync = json_object_new_object();
    json_object_object_add(sync, "openClose", json_object_new_boolean(1));
    json_object_object_add(sync, "change", json_object_new_int(2));
    json_object_object_add(c, "textDocumentSync", sync);
  }
  if (caps & CAP_DIAGNOSTIC) {
    json_object *d = json_object_new_object();
    json_object_object_add(d, "identifier",
                           json_object_new_string("dockwright"));
    json_object_object_add(d, "interFileDependencies",
                           json_object_new_boolean(0));
    json_object_object_add(d, "workspaceDiagnostics",
                           json_object_new_boolean(0));
    json_object_object_add(c, "diagnosticProvider", d);
  }
  if (caps & CAP_COMPLETION) {
    static const char *const triggers[] = {"$", "{", "-", "=", ",",
                                           "/", ":", " ", "#"};
    json_object *cp = json_object_new_object();
    json_object *tc = json_object_new_array();
    for (size_t i = 0; i < sizeof(triggers) / sizeof(triggers[0]); i++)
      json_object_array_add(tc, json_object_new_string(triggers[i]));
    json_object_object_add(cp, "triggerCharacters", tc);
    json_object_object_add(
        cp, "resolveProvider",
        json_object_new_boolean((caps & CAP_COMPLETION_RESOLVE) != 0));
    json_object_object_add(c, "completionProvider", cp);
  }
  if (caps & CAP_CODE_ACTION) {
    json_object *ca = json_object_new_object();
    json_object *kinds = json_object_new_array();
    json_object_array_add(kinds, json_object_new_string("quickfix"));
    json_object_array_add(kinds,
                          json_object_new_string("source.fixAll.dockwright"));
    json_object_object_add(ca, "codeActionKinds", kinds);
    json_object_object_add(
        ca, "resolveProvider",
        json_object_new_boolean((caps & CAP_CODE_ACTION_RESOLVE) != 0));
    json_object_object_add(c, "codeActionProvider", ca);
  }
  if (caps & CAP_HOVER)
    json_object_object_add(c, "hoverProvider", json_object_new_boolean(1));
  if (caps & CAP_SIGNATURE) {
    json_object *sh = json_object_new_object();
    json_object *tc = json_object_new_array();
    json_object_array_add(tc, json_object_new_string(" "));
    json_object_array_add(tc, json_object_new_string("="));
    json_object_array_add(tc, json_object_new_string(","));
    json_object_object_add(sh, "triggerCharacters", tc);
    json_object_object_add(c, "signatureHelpProvider", sh);
  }
  if (caps & CAP_EXECUTE_COMMAND) {
    json_object *cmds = json_object_new_array();
    for (size_t i = 0; build_commands[i]; i++)
      json_object_array_add(cmds, json_object_new_string(build_commands[i]));
    json_object *e = json_object_new_object();
    json_object_object_add(e, "commands", cmds);
    json_object_object_add(c, "executeCommandProvider", e);
  }
  if (caps & CAP_CODE_LENS) {
    json_object *l = json_object_new_object();
    json_object_object_add(l, "resolveProvider", json_object_new_boolean(0));
    json_object_object_add(c, "codeLensProvider", l);
  }
  proto__intel_caps(c, caps);
  json_object *info = json_object_new_object();
  json_object_object_add(info, "name", json_object_new_string("dockwright"));
  json_object_object_add(info, "version", json_object_new_string(DW_VERSION));
  json_object *r = json_object_new_object();
  json_object_object_add(r, "capabilities", c);
  json_object_object_add(r, "serverInfo", info);
  return r;
}

json_object *proto_configuration_params(void) {
  json_object *item = json_object_new_object();
  json_object_object_add(item, "section",
                         json_object_new_string("dockwright"));
  json_object *items = json_object_new_array();
  json_object_array_add(items, item);
  json_object *p = json_object_new_object();
  json_object_object_add(p, "items", items);
  return p;
}

json_object *proto_log_trace(const char *message, const char *verbose) {
  json_object *p = json_object_new_object();
  json_object_object_add(p, "message", json_object_new_string(message));
  if (verbose)
    json_object_object_add(p, "verbose", json_object_new_string(verbose));
  return p;
}

/* ---- diagnostics ---------------------------------------------------------
 *
 * A large file can carry hundreds of diagnostics, each about twenty JSON
 * values.  Building them as json-c objects cost as much as the analysis
 * itself (an allocation, a hash insert and a free per value), so the
 * diagnostics array is written straight into a buffer and handed to json-c
 * as one value with its own serializer: everything around it, and rpc_send,
 * stay json-c. */

struct proto_raw {
  size_t len;
  char data[];
};

static int proto__raw_serialize(struct json_object *jso, struct printbuf *pb,
                                int level, int flags) {
  (void)level;
  (void)flags;
  const struct proto_raw *raw = json_object_get_userdata(jso);
  printbuf_memappend(pb, raw->data, (int)raw->len);
  return 0;
}

static void proto__raw_free(struct json_object *jso, void *userdata) {
  (void)jso;
  free(userdata);
}

/* A json-c value that serializes as the JSON text in b (taken). */
static json_object *proto__raw_take(struct buf *b) {
  struct proto_raw *raw = xmalloc(sizeof(*raw) + b->len + 1);
  raw->len = b->len;
  memcpy(raw->data, b->data ? b->data : "", b->len);
  raw->data[b->len] = '\0';
  buf_cleanup(b);
  json_object *o = json_object_new_string("");
  json_object_set_serializer(o, proto__raw_serialize, raw, proto__raw_free);
  return o;
}

/* A JSON string literal: quotes, backslashes and control characters
 * escaped; other bytes (UTF-8) as they are. */
static void proto__jstr(struct buf *b, const char *s) {
  static const char hex[] = "0123456789abcdef";
  buf_putc(b, '"');
  const char *run = s;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    buf_append(b, run, (size_t)(s - run));
    run = s + 1;
    switch (c) {
    case '"':
      buf_puts(b, "\\\"");
      break;
    case '\\':
      buf_puts(b, "\\\\");
      break;
    case '\n':
      buf_puts(b, "\\n");
      break;
    case '\r':
      buf_puts(b, "\\r");
      break;
    case '\t':
      buf_puts(b, "\\t");
      break;
    default: {
      char u[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
      buf_puts(b, u);
    }
    }
  }
  buf_append(b, run, (size_t)(s - run));
  buf_putc(b, '"');
}

static void proto__jrange(struct buf *b, struct server *self, struct doc *d,
                          const struct df_range *r) {
  struct lsp_range lr = doc_range(d, r, self->encoding);
  /* No printf: a publish of a large file formats about a thousand of
   * these, and vsnprintf was most of the time spent building it. */
  buf_puts(b, "{\"start\":{\"line\":");
  buf_putu(b, lr.start.line);
  buf_puts(b, ",\"character\":");
  buf_putu(b, lr.start.character);
  buf_puts(b, "},\"end\":{\"line\":");
  buf_putu(b, lr.end.line);
  buf_puts(b, ",\"character\":");
  buf_putu(b, lr.end.character);
  buf_puts(b, "}}");
}

static void proto__jdiagnostic(struct buf *b, struct server *self,
                               struct doc *d, const struct diag *g) {
  const struct client_caps *caps = &self->caps;
  buf_puts(b, "{\"range\":");
  proto__jrange(b, self, d, &g->range);
  buf_puts(b, ",\"severity\":");
  buf_putu(b, (unsigned)g->severity);
  buf_puts(b, ",\"code\":");
  proto__jstr(b, g->rule);
  buf_puts(b, ",\"source\":\"dockwright\",\"message\":");
  proto__jstr(b, g->message ? g->message : "");
  const char *href = analysis_rule_doc_url(g->rule);
  if (href != NULL && caps->code_description) {
    buf_puts(b, ",\"codeDescription\":{\"href\":");
    proto__jstr(b, href);
    buf_putc(b, '}');
  }
  if (g->tags != 0 && caps->diagnostic_tags) {
    buf_puts(b, ",\"tags\":[");
    bool first = true;
    if (g->tags & DIAG_TAG_UNNECESSARY) {
      buf_puts(b, "1");
      first = false;
    }
    if (g->tags & DIAG_TAG_DEPRECATED)
      buf_puts(b, first ? "2" : ",2");
    buf_putc(b, ']');
  }
  if (g->nrelated > 0 && caps->related_information) {
    buf_puts(b, ",\"relatedInformation\":[");
    for (size_t i = 0; i < g->nrelated; i++) {
      buf_puts(b, i ? ",{\"location\":{\"uri\":" : "{\"location\":{\"uri\":");
      proto__jstr(b, d->uri);
      buf_puts(b, ",\"range\":");
      proto__jrange(b, self, d, &g->related[i].range);
      buf_puts(b, "},\"message\":");
      proto__jstr(b, g->related[i].message ? g->related[i].message : "");
      buf_putc(b, '}');
    }
    buf_putc(b, ']');
  }
  /* The fixes travel with the diagnostic (LSP's `data`), so a code action
   * can apply them without running the analysis again; the version says
   * which text their ranges belong to.  Only to a client that keeps `data`
   * for its code actions (dataSupport), like every optional field here. */
  if (!caps->data_support) {
    buf_putc(b, '}');
    return;
  }
  buf_puts(b, ",\"data\":{\"version\":");
  buf_puti(b, d->version);
  buf_puts(b, ",\"fixes\":[");
  for (size_t i = 0; i < g->nfixes; i++) {
    const struct diag_fix *f = &g->fixes[i];
    buf_puts(b, i ? ",{\"title\":" : "{\"title\":");
    proto__jstr(b, f->title ? f->title : "");
    buf_puts(b, ",\"range\":");
    proto__jrange(b, self, d, &f->range);
    buf_puts(b, ",\"newText\":");
    proto__jstr(b, f->new_text ? f->new_text : "");
    buf_putc(b, '}');
  }
  buf_puts(b, "]}}");
}

/* About what one diagnostic takes as JSON text, to size the buffer once
 * instead of growing it by doubling (a large file's list is ~70 KB). */
#define PROTO_DIAG_BYTES 320

static void proto__jbuild_diag(struct buf *b,
                               const struct proto_build_diag *g) {
  const struct lsp_range *r = &g->range;
  buf_puts(b, "{\"range\":{\"start\":{\"line\":");
  buf_putu(b, r->start.line);
  buf_puts(b, ",\"character\":");
  buf_putu(b, r->start.character);
  buf_puts(b, "},\"end\":{\"line\":");
  buf_putu(b, r->end.line);
  buf_puts(b, ",\"character\":");
  buf_putu(b, r->end.character);
  buf_puts(b, "}},\"severity\":1,\"code\":\"BuildFailed\","
              "\"source\":\"dockwright build\",\"message\":");
  proto__jstr(b, g->message ? g->message : "");
  buf_putc(b, '}');
}

/* The analysis's diagnostics and, merged in, the last failed build's
 * (publishDiagnostics replaces the whole set of a document). */
static void proto__jdiagnostics(struct buf *b, struct server *self,
                                struct doc *d, const struct diag_list *l) {
  buf_reserve(b, 2 + (l ? l->n : 0) * PROTO_DIAG_BYTES);
  buf_putc(b, '[');
  size_t i = 0;
  for (; l != NULL && i < l->n; i++) {
    if (i)
      buf_putc(b, ',');
    proto__jdiagnostic(b, self, d, &l->v[i]);
  }
  const struct proto_build_diag *g = d ? build_diagnostic(self, d->uri) : NULL;
  if (g) {
    if (i)
      buf_putc(b, ',');
    proto__jbuild_diag(b, g);
  }
  buf_putc(b, ']');
}

static json_object *proto__diagnostics(struct server *self, struct doc *d,
                                       const struct diag_list *l) {
  struct buf b = BUF_INIT;
  proto__jdiagnostics(&b, self, d, l);
  return proto__raw_take(&b);
}

void proto_publish_diagnostics(struct buf *b, struct server *self,
                               struct doc *d, const struct diag_list *l) {
  buf_puts(b, "{\"uri\":");
  proto__jstr(b, d->uri);
  buf_puts(b, ",\"version\":");
  buf_puti(b, d->version);
  buf_puts(b, ",\"diagnostics\":");
  proto__jdiagnostics(b, self, d, l);
  buf_putc(b, '}');
}

json_object *proto_publish_empty(const char *uri) {
  json_object *p = json_object_new_object();
  json_object_object_add(p, "uri", json_object_new_string(uri));
  json_object_object_add(p, "diagnostics", json_object_new_array());
  return p;
}

json_object *proto_diagnostic_report(struct server *self, struct doc *d,
                                     const struct diag_list *l,
                                     const char *result_id) {
  json_object *r = json_object_new_object();
  json_object_object_add(r, "kind", json_object_new_string("full"));
  if (result_id)
    json_object_object_add(r, "resultId", json_object_new_string(result_id));
  json_object_object_add(r, "items", proto__diagnostics(self, d, l));
  return r;
}

json_object *proto_diagnostic_unchanged(const char *result_id) {
  json_object *r = json_object_new_object();
  json_object_object_add(r, "kind", json_object_new_string("unchanged"));
  json_object_object_add(r, "resultId", json_object_new_string(result_id));
  return r;
}

/* ---- position requests -------------------------------------------------- */

int proto_read_position(json_object *params, const char **uri,
                        struct lsp_pos *pos, struct err *err) {
  int rc = proto_read_text_document(params, uri, NULL, err);
  if (rc)
    return rc;
  json_object *p = proto__path(params, "position", NULL);
  if (!json_object_is_type(p, json_type_object)) {
    err_set(err, ERR_INVALID, "position must be an object");
    return RPC_INVALID_PARAMS;
  }
  rc = proto__uint(p, "line", "position", &pos->line, err);
  if (rc == 0)
    rc = proto__uint(p, "character", "position", &pos->character, err);
  return rc;
}

static json_object *proto__pos_json(struct lsp_pos p) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "line", json_object_new_int64(p.line));
  json_object_object_add(o, "character", json_object_new_int64(p.character));
  return o;
}

static json_object *proto__range_json(struct lsp_range r) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "start", proto__pos_json(r.start));
  json_object_object_add(o, "end", proto__pos_json(r.end));
  return o;
}

/* Bytes [start, end) of d as an LSP range in the client's encoding. */
static json_object *proto__bytes_range(struct server *self, struct doc *d,
                                       size_t start, size_t end) {
  struct lsp_range r;
  r.start = doc_position(d, start, self->encoding);
  r.end = doc_position(d, end, self->encoding);
  return proto__range_json(r);
}

/* MarkupContent in the format the client prefers. */
static json_object *proto__markup(bool markdown, const char *text) {
  json_object *o = json_object_new_object();
  json_object_object_add(
      o, "kind", json_object_new_string(markdown ? "markdown" : "plaintext"));
  json_object_object_add(o, "value", json_object_new_string(text));
  return o;
}

json_object *proto_completion_list(struct server *self, struct doc *d,
                                   const struct proto_completion_item *v,
                                   size_t n, bool incomplete) {
  json_object *items = json_object_new_array_ext((int)n);
  for (size_t i = 0; i < n; i++) {
    const struct proto_completion_item *it = &v[i];
    json_object *o = json_object_new_object();
    json_object_object_add(o, "label", json_object_new_string(it->label));
    json_object_object_add(o, "kind", json_object_new_int(it->kind));
    if (it->detail)
      json_object_object_add(o, "detail", json_object_new_string(it->detail));
    if (it->doc)
      json_object_object_add(
          o, "documentation",
          proto__markup(self->caps.completion_markdown, it->doc));
    if (it->deprecated) { /* CompletionItemTag.Deprecated */
      json_object *tags = json_object_new_array();
      json_object_array_add(tags, json_object_new_int(1));
      json_object_object_add(o, "tags", tags);
    }
    if (it->sort)
      json_object_object_add(o, "sortText", json_object_new_string(it->sort));
    if (it->filter)
      json_object_object_add(o, "filterText",
                             json_object_new_string(it->filter));
    json_object_object_add(o, "insertTextFormat",
                           json_object_new_int(it->snippet ? 2 : 1));
    json_object *edit = json_object_new_object();
    json_object_object_add(edit, "range",
                           proto__bytes_range(self, d, it->start, it->end));
    json_object_object_add(
        edit, "newText",
        json_object_new_string(it->insert ? it->insert : it->label));
    json_object_object_add(o, "textEdit", edit);
    if (it->resolve) {
      json_object *data = json_object_new_object();
      json_object_object_add(data, "key", json_object_new_string(it->resolve));
      json_object_object_add(o, "data", data);
    }
    json_object_array_add(items, o);
  }
  json_object *r = json_object_new_object();
  json_object_object_add(r, "isIncomplete",
                         json_object_new_boolean(incomplete));
  json_object_object_add(r, "items", items);
  return r;
}

const char *proto_read_completion_key(json_object *item) {
  json_object *k = proto__path(item, "data", "key", NULL);
  return json_object_is_type(k, json_type_string) ? json_object_get_string(k)
                                                  : NULL;
}

json_object *proto_completion_resolved(struct server *self, json_object *item,
                                       const char *detail, const char *doc) {
  json_object *o = NULL;
  if (json_object_deep_copy(item, &o, NULL) != 0 || o == NULL)
    o = json_object_new_object();
  if (detail)
    json_object_object_add(o, "detail", json_object_new_string(detail));
  if (doc)
    json_object_object_add(o, "documentation",
                           proto__markup(self->caps.completion_markdown, doc));
  return o;
}

/* Markdown as plain text for a client that asked for it: no backticks or
 * emphasis, links as "text (url)". */
static char *proto__plain(const char *md) {
  struct buf b = BUF_INIT;
  for (const char *p = md; *p; p++) {
    if (*p == '`' || (p[0] == '*' && p[1] == '*')) {
      if (*p == '*')
        p++;
      continue;
    }
    if (*p == '[') {
      const char *close = strstr(p, "](");
      const char *end = close ? strchr(close, ')') : NULL;
      const char *nl = strchr(p, '\n');
      if (close && end && (nl == NULL || nl > end)) {
        buf_append(&b, p + 1, (size_t)(close - p - 1));
        buf_puts(&b, " (");
        buf_append(&b, close + 2, (size_t)(end - close - 2));
        buf_putc(&b, ')');
        p = end;
        continue;
      }
    }
    if (p[0] == '-' && p[1] == '-' && p[2] == '-' && (p[3] == '\n' || !p[3])) {
      buf_puts(&b, "--");
      p += 2;
      continue;
    }
    buf_putc(&b, *p);
  }
  return buf_take(&b);
}

static json_object *proto__markup_for(bool markdown, const char *md) {
  if (markdown)
    return proto__markup(true, md);
  char *plain = proto__plain(md);
  json_object *o = proto__markup(false, plain);
  free(plain);
  return o;
}

json_object *proto_hover(struct server *self, struct doc *d,
                         const char *markdown, size_t start, size_t end) {
  if (markdown == NULL)
    return NULL;
  json_object *h = json_object_new_object();
  json_object_object_add(
      h, "contents", proto__markup_for(self->caps.hover_markdown, markdown));
  json_object_object_add(h, "range", proto__bytes_range(self, d, start, end));
  return h;
}

json_object *proto_signature_help(struct server *self,
                                  const struct proto_signature *sigs, size_t n,
                                  size_t active) {
  if (n == 0)
    return NULL;
  json_object *list = json_object_new_array();
  for (size_t k = 0; k < n; k++) {
    const struct proto_signature *sig = &sigs[k];
    json_object *si = json_object_new_object();
    json_object_object_add(si, "label", json_object_new_string(sig->label));
    if (sig->doc)
      json_object_object_add(
          si, "documentation",
          proto__markup_for(self->caps.signature_markdown, sig->doc));
    json_object *params = json_object_new_array();
    for (size_t i = 0; i < sig->nparams; i++) {
      const struct proto_parameter *p = &sig->params[i];
      json_object *pi = json_object_new_object();
      if (self->caps.signature_offsets) {
        /* Offsets count UTF-16 units of the label; ours is ASCII. */
        json_object *off = json_object_new_array();
        json_object_array_add(off, json_object_new_int64((int64_t)p->start));
        json_object_array_add(off, json_object_new_int64((int64_t)p->end));
        json_object_object_add(pi, "label", off);
      } else {
        json_object_object_add(
            pi, "label",
            json_object_new_string_len(sig->label + p->start,
                                       (int)(p->end - p->start)));
      }
      if (p->doc)
        json_object_object_add(
            pi, "documentation",
            proto__markup_for(self->caps.signature_markdown, p->doc));
      json_object_array_add(params, pi);
    }
    json_object_object_add(si, "parameters", params);
    json_object_object_add(si, "activeParameter",
                           json_object_new_int64((int64_t)sig->active));
    json_object_array_add(list, si);
  }
  json_object *r = json_object_new_object();
  json_object_object_add(r, "signatures", list);
  json_object_object_add(r, "activeSignature",
                         json_object_new_int64((int64_t)active));
  json_object_object_add(r, "activeParameter",
                         json_object_new_int64((int64_t)sigs[active].active));
  return r;
}

/* ---- code actions ------------------------------------------------------ */

int proto_read_code_action(json_object *params, const char **uri,
                           struct lsp_range *range, bool *quickfix,
                           bool *fixall, struct err *err) {
  int rc = proto_read_text_document(params, uri, NULL, err);
  if (rc)
    return rc;
  json_object *r = proto__path(params, "range", NULL);
  if (!json_object_is_type(r, json_type_object)) {
    err_set(err, ERR_INVALID, "range must be an object");
    return RPC_INVALID_PARAMS;
  }
  rc = proto__range(r, "range", range, err);
  if (rc)
    return rc;
  json_object *only = proto__path(params, "context", "only", NULL);
  *quickfix = *fixall = true;
  if (json_object_is_type(only, json_type_array)) {
    *quickfix = *fixall = false;
    for (size_t i = 0; i < json_object_array_length(only); i++) {
      json_object *k = json_object_array_get_idx(only, i);
      if (!json_object_is_type(k, json_type_string))
        continue;
      const char *s = json_object_get_string(k);
      /* A kind asks for itself and everything under it. */
      if (strcmp(s, "quickfix") == 0)
        *quickfix = true;
      if (strcmp(s, "source") == 0 || strcmp(s, "source.fixAll") == 0 ||
          strcmp(s, "source.fixAll.dockwright") == 0)
        *fixall = true;
    }
  }
  return 0;
}

/* A WorkspaceEdit of one document: documentChanges with the version when
 * the client takes them, else changes. */
static json_object *proto__workspace_edit(struct server *self, struct doc *d,
                                          const struct proto_edit *e,
                                          size_t n) {
  json_object *edits = json_object_new_array();
  for (size_t i = 0; i < n; i++) {
    json_object *te = json_object_new_object();
    json_object_object_add(te, "range",
                           proto__bytes_range(self, d, e[i].start, e[i].end));
    json_object_object_add(te, "newText", json_object_new_string(e[i].text));
    json_object_array_add(edits, te);
  }
  json_object *we = json_object_new_object();
  if (self->caps.document_changes) {
    json_object *td = json_object_new_object();
    json_object_object_add(td, "uri", json_object_new_string(d->uri));
    json_object_object_add(td, "version", json_object_new_int64(d->version));
    json_object *tde = json_object_new_object();
    json_object_object_add(tde, "textDocument", td);
    json_object_object_add(tde, "edits", edits);
    json_object *dc = json_object_new_array();
    json_object_array_add(dc, tde);
    json_object_object_add(we, "documentChanges", dc);
  } else {
    json_object *ch = json_object_new_object();
    json_object_object_add(ch, d->uri, edits);
    json_object_object_add(we, "changes", ch);
  }
  return we;
}

json_object *proto_code_actions(struct server *self, struct doc *d,
                                const struct proto_code_action *v, size_t n) {
  json_object *list = json_object_new_array();
  for (size_t i = 0; i < n; i++) {
    const struct proto_code_action *a = &v[i];
    json_object *o = json_object_new_object();
    json_object_object_add(o, "title", json_object_new_string(a->title));
    json_object_object_add(o, "kind", json_object_new_string(a->kind));
    if (a->diag) {
      struct buf b = BUF_INIT;
      buf_putc(&b, '[');
      proto__jdiagnostic(&b, self, d, a->diag);
      buf_putc(&b, ']');
      json_object_object_add(o, "diagnostics", proto__raw_take(&b));
    }
    if (a->preferred)
      json_object_object_add(o, "isPreferred", json_object_new_boolean(1));
    if (a->lazy) {
      const struct proto_action_data *ad = &a->data;
      json_object *data = json_object_new_object();
      json_object_object_add(data, "uri", json_object_new_string(ad->uri));
      json_object_object_add(data, "version",
                             json_object_new_int64(ad->version));
      json_object_object_add(data, "rule", json_object_new_string(ad->rule));
      json_object_object_add(data, "at",
                             json_object_new_int64((int64_t)ad->at));
      json_object_object_add(data, "action",
                             json_object_new_string(ad->action));
      json_object_object_add(data, "fix",
                             json_object_new_int64((int64_t)ad->fix));
      json_object_object_add(o, "data", data);
    } else {
      json_object_object_add(
          o, "edit", proto__workspace_edit(self, d, a->edits, a->nedits));
    }
    json_object_array_add(list, o);
  }
  return list;
}

int proto_read_action_data(json_object *action, struct proto_action_data *out,
                           struct err *err) {
  memset(out, 0, sizeof(*out));
  json_object *data = proto__path(action, "data", NULL);
  json_object *ver = proto__path(data, "version", NULL);
  json_object *at = proto__path(data, "at", NULL);
  json_object *fix = proto__path(data, "fix", NULL);
  size_t n;
  if (!json_object_is_type(ver, json_type_int) ||
      !json_object_is_type(at, json_type_int) ||
      !json_object_is_type(fix, json_type_int) ||
      json_object_get_int64(at) < 0 || json_object_get_int64(fix) < 0 ||
      proto__string(data, "uri", "data", &out->uri, &n, err) ||
      proto__string(data, "rule", "data", &out->rule, &n, err) ||
      proto__string(data, "action", "data", &out->action, &n, err)) {
    err_set(err, ERR_INVALID,
            "codeAction/resolve: the action's data is not "
            "one of ours");
    return RPC_INVALID_PARAMS;
  }
  out->version = json_object_get_int64(ver);
  out->at = (size_t)json_object_get_int64(at);
  out->fix = (size_t)json_object_get_int64(fix);
  return 0;
}

json_object *proto_code_action_resolved(struct server *self, struct doc *d,
                                        json_object *action,
                                        const struct proto_edit *edits,
                                        size_t n) {
  json_object *o = NULL;
  if (json_object_deep_copy(action, &o, NULL) != 0 || o == NULL)
    o = json_object_new_object();
  if (d != NULL && edits != NULL)
    json_object_object_add(o, "edit",
                           proto__workspace_edit(self, d, edits, n));
  return o;
}

/* ---- language intelligence II ------------------------------------------ */

int proto_read_range_request(json_object *params, const char **uri,
                             struct lsp_range *range, struct err *err) {
  int rc = proto_read_text_document(params, uri, NULL, err);
  if (rc)
    return rc;
  return proto__range(proto__path(params, "range", NULL), "range", range, err);
}

int proto_read_on_type(json_object *params, const char **uri,
                       struct lsp_pos *pos, const char **ch, struct err *err) {
  int rc = proto_read_position(params, uri, pos, err);
  if (rc)
    return rc;
  return proto__string(params, "ch", "onTypeFormatting", ch, NULL, err);
}

int proto_read_rename(json_object *params, const char **uri,
                      struct lsp_pos *pos, const char **new_name,
                      struct err *err) {
  int rc = proto_read_position(params, uri, pos, err);
  if (rc)
    return rc;
  return proto__string(params, "newName", "rename", new_name, NULL, err);
}

int proto_read_references(json_object *params, const char **uri,
                          struct lsp_pos *pos, bool *include_decl,
                          struct err *err) {
  int rc = proto_read_position(params, uri, pos, err);
  if (rc)
    return rc;
  json_object *v = proto__path(params, "context", "includeDeclaration", NULL);
  *include_decl = v == NULL || proto__bool(v);
  return 0;
}

int proto_read_selection(json_object *params, const char **uri,
                         struct lsp_pos **pos, size_t *n, struct err *err) {
  *pos = NULL;
  *n = 0;
  int rc = proto_read_text_document(params, uri, NULL, err);
  if (rc)
    return rc;
  json_object *a = proto__path(params, "positions", NULL);
  if (!json_object_is_type(a, json_type_array)) {
    err_set(err, ERR_INVALID, "selectionRange: positions must be an array");
    return RPC_INVALID_PARAMS;
  }
  size_t len = json_object_array_length(a);
  if (len > 10000) {
    err_set(err, ERR_TOOBIG, "selectionRange: %zu positions (at most 10000)",
            len);
    return RPC_INVALID_PARAMS;
  }
  *pos = xcalloc(len ? len : 1, sizeof(**pos));
  for (size_t i = 0; i < len; i++) {
    json_object *p = json_object_array_get_idx(a, i);
    if (!json_object_is_type(p, json_type_object)) {
      err_set(err, ERR_INVALID,
              "selectionRange: positions[%zu] must be an "
              "object",
              i);
      rc = RPC_INVALID_PARAMS;
    }
    if (rc == 0)
      rc = proto__uint(p, "line", "position", &(*pos)[i].line, err);
    if (rc == 0)
      rc = proto__uint(p, "character", "position", &(*pos)[i].character, err);
    if (rc) {
      free(*pos);
      *pos = NULL;
      return rc;
    }
  }
  *n = len;
  return 0;
}

int proto_read_workspace_symbol(json_object *params, const char **query,
                                struct err *err) {
  *query = "";
  int rc = proto__object(params, "workspace/symbol", err);
  if (rc)
    return rc;
  json_object *q = proto__path(params, "query", NULL);
  if (q == NULL)
    return 0;
  return proto__string(params, "query", "workspace/symbol", query, NULL, err);
}

int proto_read_tokens_delta(json_object *params, const char **uri,
                            const char **previous, struct err *err) {
  int rc = proto_read_text_document(params, uri, NULL, err);
  if (rc)
    return rc;
  *previous = NULL;
  json_object *p = proto__path(params, "previousResultId", NULL);
  if (json_object_is_type(p, json_type_string))
    *previous = json_object_get_string(p);
  return 0;
}

json_object *proto_text_edits(struct server *self, struct doc *d,
                              const struct proto_edit *e, size_t n) {
  json_object *edits = json_object_new_array_ext((int)n);
  for (size_t i = 0; i < n; i++) {
    json_object *te = json_object_new_object();
    json_object_object_add(te, "range",
                           proto__bytes_range(self, d, e[i].start, e[i].end));
    json_object_object_add(te, "newText", json_object_new_string(e[i].text));
    json_object_array_add(edits, te);
  }
  return edits;
}

json_object *proto_rename_edit(struct server *self, struct doc *d,
                               const struct proto_edit *e, size_t n) {
  return proto__workspace_edit(self, d, e, n);
}

static json_object *proto__location(struct server *self, struct doc *d,
                                    size_t start, size_t end) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "uri", json_object_new_string(d->uri));
  json_object_object_add(o, "range", proto__bytes_range(self, d, start, end));
  return o;
}

json_object *proto_locations(struct server *self, struct doc *d,
                             const struct proto_span *v, size_t n) {
  json_object *a = json_object_new_array_ext((int)n);
  for (size_t i = 0; i < n; i++)
    json_object_array_add(a, proto__location(self, d, v[i].start, v[i].end));
  return a;
}

json_object *proto_highlights(struct server *self, struct doc *d,
                              const struct proto_span *v, size_t n) {
  json_object *a = json_object_new_array_ext((int)n);
  for (size_t i = 0; i < n; i++) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "range",
                           proto__bytes_range(self, d, v[i].start, v[i].end));
    if (v[i].kind)
      json_object_object_add(o, "kind", json_object_new_int(v[i].kind));
    json_object_array_add(a, o);
  }
  return a;
}

json_object *proto_prepare_rename(struct server *self, struct doc *d,
                                  size_t start, size_t end,
                                  const char *placeholder) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "range", proto__bytes_range(self, d, start, end));
  json_object_object_add(o, "placeholder",
                         json_object_new_string(placeholder));
  return o;
}

/* One DocumentSymbol and its children (kids[k] for k in [koff[i],
 * koff[i+1])), as JSON text: a 5,000-line file has about 2,000 symbols,
 * and json-c objects cost ten times the text. */
static void proto__jsymbol(struct buf *b, struct server *self, struct doc *d,
                           const struct proto_symbol *v, const size_t *kids,
                           const size_t *koff, size_t i, unsigned depth) {
  struct df_range r, sel;
  memset(&r, 0, sizeof(r));
  memset(&sel, 0, sizeof(sel));
  r.start.byte = (uint32_t)v[i].start;
  r.end.byte = (uint32_t)v[i].end;
  sel.start.byte = (uint32_t)v[i].sel_start;
  sel.end.byte = (uint32_t)v[i].sel_end;
  buf_puts(b, "{\"name\":");
  proto__jstr(b, v[i].name);
  if (v[i].detail) {
    buf_puts(b, ",\"detail\":");
    proto__jstr(b, v[i].detail);
  }
  buf_puts(b, ",\"kind\":");
  buf_putu(b, (uint64_t)v[i].kind);
  buf_puts(b, ",\"range\":");
  proto__jrange(b, self, d, &r);
  buf_puts(b, ",\"selectionRange\":");
  proto__jrange(b, self, d, &sel);
  if (koff[i + 1] > koff[i] && depth < 64) {
    buf_puts(b, ",\"children\":[");
    for (size_t k = koff[i]; k < koff[i + 1]; k++) {
      if (k > koff[i])
        buf_putc(b, ',');
      proto__jsymbol(b, self, d, v, kids, koff, kids[k], depth + 1);
    }
    buf_putc(b, ']');
  }
  buf_putc(b, '}');
}

json_object *proto_document_symbols(struct server *self, struct doc *d,
                                    const struct proto_symbol *v, size_t n) {
  /* Children grouped by parent (counting sort keeps their order). */
  size_t *koff = xcalloc(n + 2, sizeof(size_t));
  size_t *kids = xcalloc(n + 1, sizeof(size_t));
  for (size_t i = 0; i < n; i++)
    if (v[i].parent != SIZE_MAX && v[i].parent < i)
      koff[v[i].parent + 1]++;
  for (size_t i = 0; i < n; i++)
    koff[i + 1] += koff[i];
  size_t *fill = xcalloc(n + 1, sizeof(size_t));
  for (size_t i = 0; i < n; i++)
    if (v[i].parent != SIZE_MAX && v[i].parent < i)
      kids[koff[v[i].parent] + fill[v[i].parent]++] = i;
  struct buf b = BUF_INIT;
  buf_putc(&b, '[');
  bool first = true;
  for (size_t i = 0; i < n; i++) {
    if (v[i].parent != SIZE_MAX && v[i].parent < i)
      continue;
    if (!first)
      buf_putc(&b, ',');
    first = false;
    proto__jsymbol(&b, self, d, v, kids, koff, i, 0);
  }
  buf_putc(&b, ']');
  free(fill);
  free(kids);
  free(koff);
  return proto__raw_take(&b);
}

void proto_workspace_symbols_add(json_object *list, struct server *self,
                                 struct doc *d, const struct proto_symbol *v,
                                 size_t n) {
  for (size_t i = 0; i < n; i++) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(v[i].name));
    json_object_object_add(o, "kind", json_object_new_int(v[i].kind));
    json_object_object_add(
        o, "location", proto__location(self, d, v[i].sel_start, v[i].sel_end));
    if (v[i].parent != SIZE_MAX && v[i].parent < i)
      json_object_object_add(o, "containerName",
                             json_object_new_string(v[v[i].parent].name));
    json_object_array_add(list, o);
  }
}

json_object *proto_folding_ranges(const struct proto_fold *v, size_t n) {
  json_object *a = json_object_new_array_ext((int)n);
  for (size_t i = 0; i < n; i++) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "startLine",
                           json_object_new_int64(v[i].start_line));
    json_object_object_add(o, "endLine", json_object_new_int64(v[i].end_line));
    if (v[i].kind)
      json_object_object_add(o, "kind", json_object_new_string(v[i].kind));
    json_object_array_add(a, o);
  }
  return a;
}

json_object *proto_selection_ranges(struct server *self, struct doc *d,
                                    const struct proto_span *chains,
                                    const size_t *off, size_t npos) {
  json_object *a = json_object_new_array_ext((int)npos);
  for (size_t i = 0; i < npos; i++) {
    /* Built outermost first, each wrapping the next as its parent. */
    json_object *outer = NULL;
    for (size_t k = off[i + 1]; k > off[i]; k--) {
      json_object *o = json_object_new_object();
      json_object_object_add(
          o, "range",
          proto__bytes_range(self, d, chains[k - 1].start, chains[k - 1].end));
      if (outer)
        json_object_object_add(o, "parent", outer);
      outer = o;
    }
    json_object_array_add(a, outer ? outer : json_object_new_object());
  }
  return a;
}

/* A JSON array of unsigned integers, written as text (a 5,000-line file
 * has about 100,000: json-c objects would cost more than the tokens). */
static void proto__juints(struct buf *b, const uint32_t *v, size_t n) {
  buf_putc(b, '[');
  for (size_t i = 0; i < n; i++) {
    if (i)
      buf_putc(b, ',');
    buf_putu(b, v[i]);
  }
  buf_putc(b, ']');
}

json_object *proto_semantic_tokens(const char *result_id, const uint32_t *data,
                                   size_t n) {
  json_object *o = json_object_new_object();
  if (result_id)
    json_object_object_add(o, "resultId", json_object_new_string(result_id));
  struct buf b = BUF_INIT;
  proto__juints(&b, data, n);
  json_object_object_add(o, "data", proto__raw_take(&b));
  return o;
}

json_object *proto_semantic_delta(const char *result_id, size_t start,
                                  size_t del, const uint32_t *data, size_t n) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "resultId", json_object_new_string(result_id));
  json_object *edits = json_object_new_array();
  if (del || n) {
    json_object *e = json_object_new_object();
    json_object_object_add(e, "start", json_object_new_int64((int64_t)start));
    json_object_object_add(e, "deleteCount",
                           json_object_new_int64((int64_t)del));
    struct buf b = BUF_INIT;
    proto__juints(&b, data, n);
    json_object_object_add(e, "data", proto__raw_take(&b));
    json_object_array_add(edits, e);
  }
  json_object_object_add(o, "edits", edits);
  return o;
}

json_object *proto_document_links(struct server *self, struct doc *d,
                                  const struct proto_link *v, size_t n) {
  json_object *a = json_object_new_array_ext((int)n);
  for (size_t i = 0; i < n; i++) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "range",
                           proto__bytes_range(self, d, v[i].start, v[i].end));
    json_object_object_add(o, "target", json_object_new_string(v[i].target));
    if (v[i].tooltip)
      json_object_object_add(o, "tooltip",
                             json_object_new_string(v[i].tooltip));
    json_object_array_add(a, o);
  }
  return a;
}

json_object *proto_inlay_hints(struct server *self, struct doc *d,
                               const struct proto_inlay *v, size_t n) {
  json_object *a = json_object_new_array_ext((int)n);
  for (size_t i = 0; i < n; i++) {
    json_object *o = json_object_new_object();
    json_object_object_add(
        o, "position",
        proto__pos_json(doc_position(d, v[i].at, self->encoding)));
    json_object_object_add(o, "label", json_object_new_string(v[i].label));
    json_object_object_add(o, "kind", json_object_new_int(1)); /* Type */
    json_object_object_add(o, "paddingLeft", json_object_new_boolean(1));
    if (v[i].tooltip)
      json_object_object_add(o, "tooltip",
                             json_object_new_string(v[i].tooltip));
    json_object_array_add(a, o);
  }
  return a;
}

json_object *proto_debug_document(const struct doc *d, const char *tree,
                                  const char *fresh_tree) {
  json_object *r = json_object_new_object();
  json_object_object_add(r, "uri", json_object_new_string(d->uri));
  json_object_object_add(r, "version", json_object_new_int64(d->version));
  json_object_object_add(r, "text",
                         json_object_new_string_len(d->text, (int)d->len));
  json_object_object_add(r, "tree",
                         tree ? json_object_new_string(tree) : NULL);
  json_object_object_add(
      r, "freshTree", fresh_tree ? json_object_new_string(fresh_tree) : NULL);
  json_object_object_add(
      r, "ignoreFile",
      d->ignore ? json_object_new_string_len(d->ignore, (int)d->ignore_len)
                : NULL);
  return r;
}

/* ---- building from the editor ------------------------------------------ */

/* A JSON string of text that may not be UTF-8 (a RUN's output, a file read
 * from disk): each bad byte becomes U+FFFD, as the editor would show it,
 * so a strict client never sees an invalid message. */
static json_object *proto__text(const char *s) {
  size_t len = strlen(s), i = 0;
  struct buf b = BUF_INIT;
  while (i < len) {
    size_t w;
    uint32_t r = utf8_decode(s + i, len - i, &w);
    if (r == UTF8_RUNE_ERROR && w == 1)
      utf8_append(&b, r);
    else
      buf_append(&b, s + i, w);
    i += w;
  }
  json_object *o =
      json_object_new_string_len(b.data ? b.data : "", (int)b.len);
  buf_cleanup(&b);
  return o;
}

/* An optional string member: NULL when absent or null. */
static int proto__opt_string(json_object *o, const char *key, const char **out,
                             struct err *err) {
  json_object *v = proto__path(o, key, NULL);
  *out = NULL;
  if (v == NULL)
    return 0;
  if (!json_object_is_type(v, json_type_string)) {
    err_set(err, ERR_INVALID, "arguments[0].%s must be a string", key);
    return RPC_INVALID_PARAMS;
  }
  *out = json_object_get_string(v);
  return 0;
}

int proto_read_execute_command(json_object *params,
                               struct proto_build_cmd *out, struct err *err) {
  memset(out, 0, sizeof(*out));
  int rc = proto__object(params, "workspace/executeCommand", err);
  if (rc == 0)
    rc = proto__string(params, "command", "executeCommand", &out->command,
                       NULL, err);
  if (rc)
    return rc;
  out->work_done_token = proto__path(params, "workDoneToken", NULL);
  json_object *args = proto__path(params, "arguments", NULL);
  json_object *a = json_object_is_type(args, json_type_array) &&
                           json_object_array_length(args) > 0
                       ? json_object_array_get_idx(args, 0)
                       : NULL;
  /* No argument at all: the caller decides (clients like Helix send
   * none). */
  if (a == NULL &&
      (args == NULL || json_object_is_type(args, json_type_array)))
    return 0;
  if (!json_object_is_type(a, json_type_object)) {
    err_set(err, ERR_INVALID,
            "%s takes one argument object with at least \"uri\"",
            out->command);
    return RPC_INVALID_PARAMS;
  }
  rc = proto__string(a, "uri", "arguments[0]", &out->uri, NULL, err);
  if (rc == 0)
    rc = proto__opt_string(a, "target", &out->target, err);
  if (rc == 0)
    rc = proto__opt_string(a, "context", &out->context, err);
  if (rc == 0)
    rc = proto__opt_string(a, "platform", &out->platform, err);
  if (rc == 0)
    rc = proto__opt_string(a, "output", &out->output, err);
  if (rc)
    return rc;
  json_object *nc = proto__path(a, "noCache", NULL);
  if (nc != NULL && !json_object_is_type(nc, json_type_boolean)) {
    err_set(err, ERR_INVALID, "arguments[0].noCache must be a boolean");
    return RPC_INVALID_PARAMS;
  }
  out->no_cache = proto__bool(nc);
  json_object *tags = proto__path(a, "tags", NULL);
  if (tags != NULL) {
    if (!json_object_is_type(tags, json_type_array)) {
      err_set(err, ERR_INVALID,
              "arguments[0].tags must be an array of "
              "strings");
      return RPC_INVALID_PARAMS;
    }
    size_t n = json_object_array_length(tags);
    out->tags = xcalloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
      json_object *t = json_object_array_get_idx(tags, i);
      if (!json_object_is_type(t, json_type_string) ||
          json_object_get_string_len(t) == 0) {
        err_set(err, ERR_INVALID,
                "arguments[0].tags[%zu] must be a non-empty string", i);
        return RPC_INVALID_PARAMS;
      }
      out->tags[out->ntags++] = json_object_get_string(t);
    }
  }
  json_object *ba = proto__path(a, "buildArgs", NULL);
  if (ba != NULL) {
    if (!json_object_is_type(ba, json_type_object)) {
      err_set(err, ERR_INVALID, "arguments[0].buildArgs must be an object");
      return RPC_INVALID_PARAMS;
    }
    size_t n = (size_t)json_object_object_length(ba);
    out->arg_keys = xcalloc(n ? n : 1, sizeof(char *));
    out->arg_values = xcalloc(n ? n : 1, sizeof(char *));
    json_object_object_foreach(ba, k, v) {
      if (k[0] == '\0' || strchr(k, '=') != NULL) {
        err_set(err, ERR_INVALID,
                "arguments[0].buildArgs: \"%.100s\" is not an argument name",
                k);
        return RPC_INVALID_PARAMS;
      }
      if (!json_object_is_type(v, json_type_string)) {
        err_set(err, ERR_INVALID,
                "arguments[0].buildArgs.%.100s must be a string", k);
        return RPC_INVALID_PARAMS;
      }
      out->arg_keys[out->nargs] = k;
      out->arg_values[out->nargs++] = json_object_get_string(v);
    }
  }
  return 0;
}

void proto_build_cmd_cleanup(struct proto_build_cmd *c) {
  free(c->tags);
  free(c->arg_keys);
  free(c->arg_values);
  memset(c, 0, sizeof(*c));
}

int proto_read_progress_cancel(json_object *params, json_object **token,
                               struct err *err) {
  int rc = proto__object(params, "window/workDoneProgress/cancel", err);
  if (rc)
    return rc;
  *token = proto__path(params, "token", NULL);
  if (!json_object_is_type(*token, json_type_string) &&
      !json_object_is_type(*token, json_type_int)) {
    err_set(err, ERR_INVALID,
            "window/workDoneProgress/cancel: token must "
            "be a string or an integer");
    return RPC_INVALID_PARAMS;
  }
  return 0;
}

json_object *proto_build_result(const char *digest, const char *const *tags,
                                size_t ntags,
                                const struct proto_build_step *steps,
                                size_t nsteps) {
  json_object *r = json_object_new_object();
  json_object_object_add(r, "digest", json_object_new_string(digest));
  json_object *t = json_object_new_array();
  for (size_t i = 0; i < ntags; i++)
    json_object_array_add(t, json_object_new_string(tags[i]));
  json_object_object_add(r, "tags", t);
  json_object *s = json_object_new_array();
  for (size_t i = 0; i < nsteps; i++) {
    const struct proto_build_step *st = &steps[i];
    json_object *o = json_object_new_object();
    json_object_object_add(o, "step", json_object_new_int64(st->step));
    json_object_object_add(o, "line", json_object_new_int64(st->line));
    json_object_object_add(o, "text", proto__text(st->text ? st->text : ""));
    json_object_object_add(o, "cached", json_object_new_boolean(st->cached));
    /* Milliseconds are all a reader of the result can use. */
    json_object_object_add(
        o, "seconds",
        json_object_new_double((double)(int64_t)(st->seconds * 1000) / 1000));
    if (st->has_layer)
      json_object_object_add(o, "layerSize",
                             json_object_new_int64((int64_t)st->layer_size));
    json_object_array_add(s, o);
  }
  json_object_object_add(r, "steps", s);
  return r;
}

json_object *proto_progress(json_object *token, const char *kind,
                            const char *title, const char *message, int pct) {
  json_object *v = json_object_new_object();
  json_object_object_add(v, "kind", json_object_new_string(kind));
  if (title)
    json_object_object_add(v, "title", json_object_new_string(title));
  if (strcmp(kind, "begin") == 0)
    json_object_object_add(v, "cancellable", json_object_new_boolean(1));
  if (message)
    json_object_object_add(v, "message", proto__text(message));
  if (pct >= 0 && strcmp(kind, "end") != 0)
    json_object_object_add(v, "percentage", json_object_new_int(pct));
  json_object *p = json_object_new_object();
  json_object_object_add(p, "token", json_object_get(token));
  json_object_object_add(p, "value", v);
  return p;
}

json_object *proto_progress_create(json_object *token) {
  json_object *p = json_object_new_object();
  json_object_object_add(p, "token", json_object_get(token));
  return p;
}

json_object *proto_build_log(const char *uri, unsigned step,
                             const char *stream, const char *text) {
  json_object *p = json_object_new_object();
  json_object_object_add(p, "uri", json_object_new_string(uri));
  json_object_object_add(p, "step", json_object_new_int64(step));
  json_object_object_add(p, "stream", json_object_new_string(stream));
  json_object_object_add(p, "text", proto__text(text));
  return p;
}

json_object *proto_log_message(int type, const char *text) {
  json_object *p = json_object_new_object();
  json_object_object_add(p, "type", json_object_new_int(type));
  json_object_object_add(p, "message", proto__text(text));
  return p;
}

json_object *proto_publish_build(const char *uri,
                                 const struct proto_build_diag *g) {
  struct buf b = BUF_INIT;
  buf_putc(&b, '[');
  if (g)
    proto__jbuild_diag(&b, g);
  buf_putc(&b, ']');
  json_object *p = json_object_new_object();
  json_object_object_add(p, "uri", json_object_new_string(uri));
  json_object_object_add(p, "diagnostics", proto__raw_take(&b));
  return p;
}

json_object *proto_code_lenses(const struct proto_lens *v, size_t n) {
  json_object *a = json_object_new_array();
  for (size_t i = 0; i < n; i++) {
    json_object *pos = json_object_new_object();
    json_object_object_add(pos, "line", json_object_new_int64(v[i].line));
    json_object_object_add(pos, "character", json_object_new_int(0));
    json_object *range = json_object_new_object();
    json_object_object_add(range, "start", json_object_get(pos));
    json_object_object_add(range, "end", pos);
    json_object *cmd = json_object_new_object();
    json_object_object_add(cmd, "title", proto__text(v[i].title));
    json_object_object_add(cmd, "command",
                           json_object_new_string(v[i].command));
    if (v[i].uri) {
      json_object *arg = json_object_new_object();
      json_object_object_add(arg, "uri", json_object_new_string(v[i].uri));
      if (v[i].target)
        json_object_object_add(arg, "target",
                               json_object_new_string(v[i].target));
      json_object *args = json_object_new_array();
      json_object_array_add(args, arg);
      json_object_object_add(cmd, "arguments", args);
    }
    json_object *lens = json_object_new_object();
    json_object_object_add(lens, "range", range);
    json_object_object_add(lens, "command", cmd);
    json_object_array_add(a, lens);
  }
  return a;
}
