/*
 * navigation.h - every name in a Dockerfile that navigation can follow:
 * stage names (declared by FROM ... AS, used by FROM, COPY --from= and
 * RUN --mount=from=), images where a stage could be named, ARG and ENV
 * variables (declarations and $NAME / ${NAME} uses, each use resolved with
 * BuildKit's scoping through locate.c), BuildKit's built-in ARGs, and
 * heredoc delimiters (the <<NAME marker and its terminator line).
 *
 * Occurrences that must be renamed together share a key: a stage's
 * index; for variables, the declarations BuildKit treats as one variable
 * (same name in one scope, a stage's bare `ARG NAME` and the global it
 * takes its default from, a stage and the stage it is built FROM) and the
 * uses that resolve to them; a heredoc's own number.
 *
 * Used by navigation.c (definition, references, highlights, rename) and
 * by the other features that mark names (semantic tokens, links).  Works
 * on the model and the text only: byte offsets, no LSP.
 */
#ifndef DW_FEATURES_NAVIGATION_H
#define DW_FEATURES_NAVIGATION_H

#include <stdbool.h>
#include <stddef.h>

#include "../../model/dockerfile.h"

enum nav_kind {
  NAV_STAGE,   /* a stage name */
  NAV_IMAGE,   /* an image where a stage name could be (FROM, --from=) */
  NAV_VAR,     /* an ARG or ENV variable of the Dockerfile */
  NAV_BUILTIN, /* a use of one of BuildKit's automatic or proxy ARGs */
  NAV_HEREDOC, /* a heredoc delimiter */
};

struct nav_item {
  enum nav_kind kind;
  size_t start, end; /* the name's bytes in the text */
  bool decl;         /* where it is declared (AS name, ARG, ENV, <<NAME) */
  bool bare;         /* an ARG without a value */
  size_t key;        /* occurrences with the same kind and key go together */
  size_t instr;      /* the top-level instruction it is in */
  size_t unit;       /* variables: the stage declaring it, SIZE_MAX global */
};

struct nav_index {
  struct nav_item *v; /* owned; sorted by start */
  size_t n, cap;
};

void nav_index_build(struct nav_index *ix, const struct dockerfile *df,
                     const char *text, size_t len);
void nav_index_cleanup(struct nav_index *ix);
/* The occurrence whose name holds off (start <= off <= end), or NULL. */
const struct nav_item *nav_index_at(const struct nav_index *ix, size_t off);

#endif
