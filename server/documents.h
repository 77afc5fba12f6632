/*
 * documents.h - the open documents: text, version, syntax tree, model, and
 * every conversion between LSP positions and byte offsets.
 *
 * DESIGN
 * The text is the ground truth; the tree and the model are derived.  An
 * edit changes the text, tells the old tree with ts_tree_edit, and after
 * all edits of one didChange doc_reparse hands the edited tree back to
 * tree-sitter (an incremental parse).  The model is kept from one analysis
 * to the next (features/diagnostics.c): each edit narrows the bytes known
 * to be unchanged since it was read, and dockerfile_update then reads
 * again only the runs of lines outside them.
 *
 * Positions: LSP counts lines separated by "\n" or "\r\n" and characters
 * in the negotiated encoding (UTF-16 code units by default, UTF-8 bytes or
 * code points when agreed).  Rows and byte columns are the tree's and the
 * model's.  This file is the only place that converts between the two.
 * A lone "\r" is not a line break here, as it is not for tree-sitter and
 * BuildKit.  Bytes that are not valid UTF-8 count as one unit each (as
 * U+FFFD would in the editor).  Positions past the end of a line or of the
 * document are clamped (LSP: "defaults back to the line length"); a
 * position inside a character moves to its start.
 *
 * Ownership: the store owns its documents; a document owns its text, tree
 * and model.  Pointers returned by doc_find stay valid until doc_close or
 * doc_store_cleanup of that document.
 */
#ifndef DW_DOCUMENTS_H
#define DW_DOCUMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tree_sitter/api.h>

#include "../common/err.h"
#include "../model/dockerfile.h"

struct rpc_pending;
struct ignore_read;
struct diag_job;
struct diag_list;

enum doc_encoding { DOC_UTF16 = 0, DOC_UTF8, DOC_UTF32 };

/* The LSP name of an encoding ("utf-16"), and back (-1 when unknown). */
const char *doc_encoding_name(enum doc_encoding enc);
int doc_encoding_from_name(const char *name);

struct lsp_pos {
  uint32_t line;
  uint32_t character;
};

struct lsp_range {
  struct lsp_pos start;
  struct lsp_pos end;
};

struct doc {
  char *uri;  /* owned */
  char *path; /* owned; the file's path for file: URIs, else NULL */
  char *text; /* owned; `len` bytes plus a NUL */
  size_t len;
  size_t cap;
  /* While an analysis reads the text on another thread (lent, see
   * doc_lend_text), the slot that takes the buffer over before the
   * document changes or frees it; NULL when not lent. */
  char **text_lent_to;
  int64_t version;
  uint64_t revision; /* bumped on every change, for result ids */
  TSTree *tree;      /* owned; NULL when the grammar gives none, or cold */
  TSParser *parser;  /* borrowed (the server's): rebuilds a cold tree */
  /* A document not used lately keeps only its text (doc_store_trim): the
   * tree and model are rebuilt when it is used again (doc_warm). */
  bool cold;
  uint64_t used; /* the store's clock when it was last used */
  bool too_big;  /* over DW_MAX_DOCKERFILE_BYTES: not parsed */

  /* The model of the text as the last analysis read it: owned; NULL
   * before the first analysis and while an analysis holds it.  The first
   * `model_prefix` and last `model_suffix` bytes of the text are unchanged
   * since that text (SIZE_MAX: nothing changed), what dockerfile_update
   * needs to bring it up to date. */
  struct dockerfile *model;
  size_t model_prefix;
  size_t model_suffix;

  uint32_t *lines; /* owned; start offset of each line, rebuilt lazily */
  size_t nlines;
  bool lines_dirty;

  /* The .dockerignore next to the file (server/dockerignore.c). */
  char *ignore; /* owned; NULL when there is none */
  size_t ignore_len;
  bool ignore_ready;              /* the read finished (found or not) */
  struct ignore_read *ignore_req; /* in flight; detached on close */

  /* Diagnostics scheduling (features/diagnostics.c). */
  bool diag_dirty;                  /* changed since the last analysis */
  uint64_t diag_due;                /* loop time (ms) the analysis is due */
  uint64_t diag_started;            /* loop time the last analysis began */
  struct rpc_pending *diag_waiting; /* pulls waiting for the analysis */
  struct diag_job *diag_job;        /* the analysis running, or NULL */
  /* The latest analysis result (owned by features/diagnostics.c, which
   * frees it) and the revision and settings generation it is of. */
  struct diag_list *diags;
  uint64_t diags_revision;
  unsigned diags_generation;
};

struct doc_store {
  struct doc **v; /* owned */
  size_t n;
  size_t cap;
  uint64_t clock; /* counts uses, for doc_touch */
  /* The last closed document's URI, text and tree (doc_store_closing),
   * for its reopening: editors close and reopen files as tabs come and
   * go, and the kept tree, edited to the reopened text, spares the full
   * parse.  One document at most; NULL uri when none. */
  struct {
    char *uri, *text;
    size_t len;
    TSTree *tree;
  } closed;
};

/* Documents that keep their tree and model while others are open: the
 * two used last (edited, asked about), so two files edited side by side
 * stay warm.  Each costs about 20 times its text (a 5,000-line file, 200 KB
 * of text, keeps 4 MB), so twenty open files would otherwise cost 80 MB;
 * rebuilding a cold one costs a full parse and analysis (about 20 ms for
 * 5,000 lines, well under one for a usual Dockerfile) the first time it is
 * used again. */
#define DOC_WARM_MAX 2

void doc_store_init(struct doc_store *s);
/* Frees every document.  In-flight .dockerignore reads must have been
 * detached (dockerignore_detach) first. */
void doc_store_cleanup(struct doc_store *s);

/* d is closing (removed from s, about to be freed): keeps its URI, text
 * and tree, when it has one, for a reopening, in place of the last closed
 * document's. */
void doc_store_closing(struct doc_store *s, struct doc *d);

/* Marks d as just used (an edit, a request, an analysis). */
void doc_touch(struct doc_store *s, struct doc *d);
/* A request's document: the one open at uri, marked as just used, or NULL;
 * *df gets its model (NULL when the document is not open).  Borrowed. */
struct doc *doc_use(struct doc_store *s, const char *uri,
                    const struct dockerfile **df);
/* Makes every document but the DOC_WARM_MAX most recently used cold
 * (frees its tree and model), skipping those an analysis is reading. */
void doc_store_trim(struct doc_store *s);
/* Rebuilds a cold document's tree (a full parse); no-op otherwise. */
void doc_warm(struct doc *d);

/* The document with this URI, or NULL. */
struct doc *doc_find(const struct doc_store *s, const char *uri);

/* Adds a document (copying uri and text) and parses it.  Fails (ERR_TOOBIG)
 * past DW_MAX_LSP_DOCUMENTS, or ERR_EXISTS when the URI is open. */
int doc_open(struct doc_store *s, TSParser *parser, const char *uri,
             int64_t version, const char *text, size_t len, struct doc **out,
             struct err *err) DW_WARN_UNUSED;

/* Removes the document from the store and returns it; the caller frees it
 * with doc_free once nothing refers to it. */
struct doc *doc_remove(struct doc_store *s, const char *uri);
void doc_free(struct doc *d);

/* Replaces `range` (clamped) with text, or the whole text when range is
 * NULL (as the edit between the common prefix and suffix of the old and
 * new text, so a full-text client gets the incremental reparse too), and
 * edits the tree to match.  Call doc_reparse after the last
 * change of a notification. */
void doc_apply_change(struct doc *d, const struct lsp_range *range,
                      enum doc_encoding enc, const char *text, size_t len);
/* Incremental reparse with the edited tree. */
void doc_reparse(struct doc *d, TSParser *parser);

/*
 * Lends the text to a reader on another thread without copying it: until
 * doc_unlend_text, the document does not change or free that buffer;
 * before it would, it stores the buffer in *slot (the borrower then owns
 * it and frees it) and goes on with a copy.  One borrower at a time.
 */
void doc_lend_text(struct doc *d, char **slot);
void doc_unlend_text(struct doc *d);

/*
 * The model of the current text, for the features that answer requests
 * (completion, hover, ...): the kept model brought up to date with
 * dockerfile_update (reading only the runs edited since), or a fresh one
 * while an analysis holds the kept model (the analysis then drops its own
 * when it ends).  NULL for a document over the size limit.  Owned by the
 * document; valid until the next change or analysis start.  On the loop
 * thread only.
 */
const struct dockerfile *doc_model(struct doc *d);

/* Byte offset of an LSP position (clamped). */
size_t doc_offset(struct doc *d, struct lsp_pos pos, enum doc_encoding enc);
/* LSP position of a byte offset (clamped to the text). */
struct lsp_pos doc_position(struct doc *d, size_t offset,
                            enum doc_encoding enc);
/* A model range in LSP terms. */
struct lsp_range doc_range(struct doc *d, const struct df_range *r,
                           enum doc_encoding enc);

/* The path of a file: URI (percent-decoded), new string the caller frees;
 * NULL for other schemes or a malformed URI. */
char *doc_uri_to_path(const char *uri);

#endif
