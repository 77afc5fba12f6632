/*
 * dockerfile.h - the Dockerfile model: what a Dockerfile says, read exactly
 * as BuildKit reads it.  This is the boundary header of model/; the server's
 * analysis and the builder include only this (and expand.h).
 *
 * DESIGN
 * The grammar (grammar/) gives an incremental tree for the editor.  The
 * model turns that tree into instructions: each top-level instruction node
 * (or ERROR node, while the user is typing) marks a run of source lines, and
 * the model reads those lines with BuildKit's own rules (line continuation,
 * comments inside continuations, flag extraction, JSON-or-shell form,
 * ENV/LABEL forms, heredocs).  BuildKit's rules are line-based and full of
 * quirks; applying them to the lines the tree delimits keeps the model exact
 * while the tree decides where one instruction ends and the next begins.
 * Without a tree the whole file is one run, which is BuildKit's reading.
 *
 * Reading never fails: problems BuildKit would reject are recorded as
 * `struct df_problem` with a range, and the instruction is kept (marked
 * `invalid`) so the editor still sees it.  The first problem in source
 * order is what BuildKit would have reported.
 *
 * Positions: `row` is 0-based, `col` is a 0-based byte offset in the row,
 * `byte` is the 0-based offset in the text.
 *
 * Ownership: dockerfile_parse returns a `struct dockerfile` the caller frees
 * with dockerfile_free.  Everything reachable from it is owned by it: every
 * string and array below ("owned" in the field comments) lives in the
 * model's arena (common/arena.h) and is freed all at once by
 * dockerfile_free.  Callers must treat them as read-only: never free,
 * realloc or keep one past dockerfile_free (copy what must outlive the
 * model).  Strings may share storage (a flag's value is the tail of its
 * text, a stage's base is its FROM's first argument).  The text passed in
 * is only borrowed during the call.
 *
 * The model does no IO and knows nothing of JSON-RPC or LSP.
 */
#ifndef DW_DOCKERFILE_H
#define DW_DOCKERFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/arena.h"
#include "../common/buf.h"
#include "../common/err.h"

struct TSTree;  /* from tree_sitter/api.h; optional input */
struct df_incr; /* private to model/reader.c */

struct df_pos {
  uint32_t row;
  uint32_t col;
  uint32_t byte;
};

struct df_range {
  struct df_pos start;
  struct df_pos end; /* exclusive */
};

/* One table for every instruction: enum name, keyword. */
#define DF_INSTR_MAP(X)                                                       \
  X(ADD, "add")                                                               \
  X(ARG, "arg")                                                               \
  X(CMD, "cmd")                                                               \
  X(COPY, "copy")                                                             \
  X(ENTRYPOINT, "entrypoint")                                                 \
  X(ENV, "env")                                                               \
  X(EXPOSE, "expose")                                                         \
  X(FROM, "from")                                                             \
  X(HEALTHCHECK, "healthcheck")                                               \
  X(LABEL, "label")                                                           \
  X(MAINTAINER, "maintainer")                                                 \
  X(ONBUILD, "onbuild")                                                       \
  X(RUN, "run")                                                               \
  X(SHELL, "shell")                                                           \
  X(STOPSIGNAL, "stopsignal")                                                 \
  X(USER, "user")                                                             \
  X(VOLUME, "volume")                                                         \
  X(WORKDIR, "workdir")

enum df_kind {
  DF_UNKNOWN = 0,
#define DF_KIND_ENUM(name, kw) DF_##name,
  DF_INSTR_MAP(DF_KIND_ENUM)
#undef DF_KIND_ENUM
      DF_KIND_COUNT
};

/* How the arguments were read. */
enum df_form {
  DF_FORM_NONE,   /* no arguments */
  DF_FORM_JSON,   /* exec form: a JSON array of strings */
  DF_FORM_SHELL,  /* one string: the rest of the line (RUN/CMD/...) */
  DF_FORM_LIST,   /* whitespace-separated words (FROM, EXPOSE, COPY...) */
  DF_FORM_WORDS,  /* shell-like words with quotes kept (ARG) */
  DF_FORM_KEYVAL, /* key/value/separator triples (ENV, LABEL) */
  DF_FORM_STRING, /* the rest of the line as one string (USER, ...) */
  DF_FORM_HEALTH, /* HEALTHCHECK: type word, then maybe-JSON */
  DF_FORM_SUB,    /* ONBUILD: a nested instruction in `sub` */
};

/* A flag as BuildKit keeps it: "--name=value" or "--name", with quotes and
 * backslashes already processed. */
struct df_flag {
  char *text;  /* owned; the whole flag, e.g. "--from=build" */
  char *name;  /* owned; "from" */
  char *value; /* owned; NULL when the flag has no '=' */
  struct df_range range;
};

/* One argument value, as in BuildKit's node chain. */
struct df_arg {
  char *value; /* owned; NUL-terminated, may also hold NUL bytes (JSON
                  \u0000), so `len` is the length */
  size_t len;
  struct df_range range;
};

struct df_heredoc {
  char *name;    /* owned; the terminator word, unquoted */
  unsigned fd;   /* 3 for 3<<EOF, 0 when absent */
  bool expand;   /* false when the name was quoted */
  bool chomp;    /* <<- */
  char *content; /* owned; raw body including line ends */
  size_t content_len;
  struct df_range marker; /* the <<EOF word in the instruction line */
  struct df_range body;   /* body lines plus the terminator line */
};

struct df_instr {
  enum df_kind kind;
  char *keyword;         /* owned; as written ("from", "FROM", "Bogus") */
  char *original;        /* owned; the logical line (continuations joined);
                            the builder's history text */
  struct df_range range; /* keyword .. last line (incl. heredocs) */
  struct df_range keyword_range;
  uint32_t start_line; /* 1-based, as BuildKit reports */
  uint32_t end_line;   /* 1-based, inclusive */
  enum df_form form;
  struct df_flag *flags; /* owned array */
  size_t nflags;
  struct df_arg *args; /* owned array: BuildKit's value chain */
  size_t nargs;
  struct df_range args_range;  /* the text after the flags */
  struct df_instr *sub;        /* owned; ONBUILD's nested instruction */
  struct df_heredoc *heredocs; /* owned array */
  size_t nheredocs;
  bool invalid;            /* BuildKit rejects this instruction */
  bool empty_continuation; /* had a blank line inside a continuation */
  uint32_t node_index;     /* index of the tree node it came from, or
                              UINT32_MAX without a tree */
};

struct df_directive {
  char *name;  /* owned; lower-case key: syntax, escape, check */
  char *value; /* owned */
  struct df_range range;
};

enum df_problem_kind {
  DF_PROBLEM_ERROR,   /* BuildKit refuses the file */
  DF_PROBLEM_WARNING, /* BuildKit warns (empty continuation line) */
};

struct df_problem {
  enum df_problem_kind kind;
  char *message; /* owned; BuildKit's wording */
  struct df_range range;
};

/* A build stage: a FROM and the instructions after it. */
struct df_stage {
  size_t index;
  char *name;        /* owned; lower-cased AS name or NULL */
  char *base;        /* owned; the image word as written or NULL */
  size_t from_instr; /* index into instrs of the FROM */
  size_t ninstrs;    /* instructions in the stage, FROM included */
  struct df_range name_range;
};

struct dockerfile {
  char escape; /* '\\' or '`' */
  bool has_bom;
  struct df_directive *directives;
  size_t ndirectives;
  struct df_instr *instrs;
  size_t ninstrs;
  size_t nglobal; /* instructions before the first FROM (global ARGs) */
  struct df_stage *stages;
  size_t nstages;
  struct df_problem *problems; /* in source order */
  size_t nproblems;
  uint32_t nlines;
  struct arena arena;   /* private: holds every string and array above */
  struct df_incr *incr; /* private: what dockerfile_update reuses */
};

/*
 * Reads a Dockerfile.  `tree` may be NULL (read the whole text as one run,
 * BuildKit's way) or a tree-sitter tree of this text from our grammar.
 * Returns a new model (caller frees with dockerfile_free); never NULL.
 */
struct dockerfile *dockerfile_parse(const char *text, size_t len,
                                    const struct TSTree *tree);

void dockerfile_free(struct dockerfile *df);

/*
 * Makes df, a model from dockerfile_parse or dockerfile_update, the model
 * of `text` and `tree`, equal in every field to dockerfile_parse(text,
 * len, tree), reading again only the runs of lines an edit touched (see
 * the DESIGN note in reader.c).  The caller says what did not change
 * since df was read: the first `same_prefix` bytes and the last
 * `same_suffix` bytes of the new text are the same bytes as at the start
 * and the end of the old one.  Values that cannot be right (more than
 * either text holds) read everything.  Pointers into df's arrays and
 * strings may change: nothing read from df before survives the call.
 */
void dockerfile_update(struct dockerfile *df, const char *text, size_t len,
                       const struct TSTree *tree, size_t same_prefix,
                       size_t same_suffix);

/* The first problem BuildKit would stop on, or NULL when it accepts the
 * file.  "file with no instructions" counts. */
const struct df_problem *dockerfile_first_error(const struct dockerfile *df);

/*
 * BuildKit's ParseHeredoc on one shell word (e.g. "<<-'EOF'"): returns 1
 * and fills *out (name owned by the caller; content NULL) when it is a
 * heredoc marker, 0 when it is not, and -1 with a new *msg (caller frees)
 * when BuildKit refuses it.
 */
int dockerfile_heredoc_word(const char *word, struct df_heredoc *out,
                            char **msg);

/* The keyword of a kind in lower case ("from"); "" for DF_UNKNOWN. */
const char *df_kind_name(enum df_kind kind);

/* Kind of a keyword, case-insensitively; DF_UNKNOWN when none. */
enum df_kind df_kind_from_word(const char *word, size_t len);

#endif
