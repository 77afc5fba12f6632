/*
 * locate.h - where a byte offset is in a Dockerfile, for the features that
 * answer about a position (completion, hover, signature help): the
 * instruction around it, the word under it, whether it is in a comment or
 * a heredoc body, and which variables BuildKit has in scope there.
 *
 * Works on the model (struct dockerfile) and the text only: no LSP, no
 * JSON, no positions in editor units (documents.c converts those).
 */
#ifndef DW_FEATURES_LOCATE_H
#define DW_FEATURES_LOCATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../common/arena.h"
#include "../../model/dockerfile.h"

enum locate_where {
  LOCATE_NOWHERE,   /* a blank line or before any text: a keyword goes here */
  LOCATE_KEYWORD,   /* on an instruction's keyword (or a lone word) */
  LOCATE_ARGS,      /* after the keyword: flags and arguments */
  LOCATE_COMMENT,   /* in a comment line that is not a parser directive */
  LOCATE_DIRECTIVE, /* in a parser directive line at the top */
  LOCATE_HEREDOC,   /* in a heredoc body */
};

struct locate {
  const struct dockerfile *df; /* borrowed */
  const char *text;            /* borrowed */
  size_t len;
  size_t off;
  enum locate_where where;
  size_t line_start; /* byte offset of the cursor's line */
  /* The top-level instruction around the cursor (ONBUILD itself), its
   * index in df->instrs, and the instruction the cursor is in (ONBUILD's
   * trigger once the cursor is past the trigger's keyword). */
  const struct df_instr *top;
  size_t top_index;
  const struct df_instr *instr;
  /* The word around the cursor: [word_start, word_end) with off inside;
   * words end at blanks and line ends. */
  size_t word_start;
  size_t word_end;
  /* In LOCATE_ARGS: words before the cursor's word after the keyword, how
   * many of them were flags, and whether every one was (so a flag may
   * still come). */
  size_t nwords_before;
  size_t nflags_before;
  bool flags_region;
  size_t args_start; /* where the instruction's text after the keyword
                        starts (ONBUILD: after the trigger's keyword) */
};

/* Fills *l for `off` in text (len bytes) read as df. */
void locate_at(struct locate *l, const struct dockerfile *df, const char *text,
               size_t len, size_t off);

/* The stage whose instructions include index i, or NULL (the globals). */
const struct df_stage *locate_stage(const struct dockerfile *df, size_t i);
/* The stage named `name` (case-insensitive) or with that index, defined
 * before instruction `before`; NULL when none. */
const struct df_stage *locate_stage_named(const struct dockerfile *df,
                                          const char *name, size_t len,
                                          size_t before);

enum locate_var_origin {
  LOCATE_VAR_ARG,       /* ARG in the stage (or a global ARG in FROM) */
  LOCATE_VAR_ENV,       /* ENV in the stage or a parent stage */
  LOCATE_VAR_AUTOMATIC, /* BuildKit's automatic platform ARG */
  LOCATE_VAR_PROXY,     /* a predefined proxy ARG (RUN) */
};

struct locate_var {
  const char *name;  /* arena */
  const char *value; /* arena; as BuildKit expands it (quotes removed,
                        variables of the Dockerfile substituted); NULL
                        when unknown (a bare ARG) */
  const char *raw;   /* arena; as written, when that differs, else NULL */
  enum locate_var_origin origin;
  uint32_t line;         /* 1-based line that set it; 0: built in */
  const char *stage;     /* arena; the parent stage it came from, or NULL */
  struct df_range range; /* the declaration */
};

struct locate_vars {
  struct arena arena;
  char escape;          /* the file's escape character, for expanding values */
  struct locate_var *v; /* arena */
  size_t n;
  size_t cap;
};

/* The variables in scope at instruction `index` of df (BuildKit's rules:
 * see locate.c), with their values expanded.  Free with
 * locate_vars_cleanup. */
void locate_vars(struct locate_vars *out, const struct dockerfile *df,
                 size_t index);
void locate_vars_cleanup(struct locate_vars *out);
/* The variable called name (len bytes), or NULL. */
const struct locate_var *locate_var_find(const struct locate_vars *vs,
                                         const char *name, size_t len);

/* Is c a character of a variable name? */
bool locate_is_name_char(char c);

#endif
