/*
 * check.h - what every check_<family>.c shares: the context a check runs
 * in and the helpers that append diagnostics.  Internal to analysis/.
 *
 * A check reads the model (and the tree or the text when it must) and
 * calls check__emit; it never filters by configuration: analysis_run
 * applies severities, `# check=` and `# dockwright-ignore=` afterwards,
 * so every check stays a plain function of the input.
 */
#ifndef DW_CHECK_H
#define DW_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/dockerfile.h"
#include "../model/expand.h"
#include "analysis.h"
#include "rules.h"

struct check_ctx {
  const struct analysis_input *in; /* borrowed */
  const struct dockerfile *df;     /* borrowed */
  const char *text;                /* borrowed; in->text or "" */
  size_t len;
  uint32_t *line_start; /* owned; byte offset of each line's start */
  size_t nlines;
  /* The named stages sorted by (name, index), for check__stages_named:
   * lookups by name were a loop over every stage for each stage or COPY
   * --from, quadratic in the number of stages. */
  const char **stage_names; /* owned array; the names are the model's */
  size_t *stage_index;      /* owned; the stage of stage_names[i] */
  size_t nstage_names;
  struct diag_list *out; /* borrowed; diagnostics are appended */
};

/* Appends a diagnostic of `rule` with its default severity and returns it
 * so the caller can add tags, fixes and related information.  The pointer
 * is valid until the next check__emit. */
struct diag *check__emit(struct check_ctx *c, enum rule_id rule,
                         struct df_range range, const char *fmt, ...)
    DW_PRINTF(4, 5);
void check__fix(struct diag *d, const char *title, struct df_range range,
                const char *new_text);
void check__related(struct diag *d, struct df_range range, const char *fmt,
                    ...) DW_PRINTF(3, 4);

/* Position and range of byte offsets in the text. */
struct df_pos check__pos(const struct check_ctx *c, size_t byte);
struct df_range check__range(const struct check_ctx *c, size_t start,
                             size_t end);
/* An empty range at `pos`. */
struct df_range check__at(struct df_pos pos);

/* The source byte of offset `off` in an argument's value, following the
 * value through line continuations and the comment and blank lines inside
 * them.  False when the value does not come verbatim from the source (a
 * JSON string with escapes, say); fixes are then left out. */
bool check__source_offset(const struct check_ctx *c, const struct df_arg *arg,
                          size_t off, size_t *byte);

/* The stages named `name` (lower case, as the model keeps stage names):
 * *n indices in ascending order (borrowed from the context; *n is 0 when
 * none). */
const size_t *check__stages_named(const struct check_ctx *c, const char *name,
                                  size_t *n);

/* Index of the stage instruction `i` belongs to, or SIZE_MAX for the
 * global instructions before the first FROM. */
size_t check__stage_of(const struct dockerfile *df, size_t i);

/* Counts the stage instructions whose keyword is all lower case and all
 * upper case (global ARGs excluded, as in BuildKit). */
void check__keyword_casing(const struct dockerfile *df, size_t *lower,
                           size_t *upper);

/* Appends the blank-separated words of s as a JSON array of strings, the
 * exec-form fix of a shell-form instruction; words must need no escaping. */
void check__words_as_json(struct buf *b, const char *s);

/* ASCII helpers. */
bool check__ieq(const char *a, const char *b);
bool check__has_upper(const char *s);
bool check__has_lower(const char *s);
char *check__lower(const char *s); /* new string */
char *check__upper(const char *s); /* new string */
/* Edit distance (a swap of neighbours counts one), case-insensitive,
 * capped at 100. */
unsigned check__distance(const char *a, const char *b);

/* An expansion environment where every name is set (to "x"): only syntax
 * errors remain when a word is expanded with it. */
struct expand_env check__env_all_set(void);

/* The families, run in this order by analysis_run. */
void check_syntax(struct check_ctx *c);
void check_buildkit(struct check_ctx *c);
void check_semantic(struct check_ctx *c);
void check_buildchecks(struct check_ctx *c);
void check_practices(struct check_ctx *c);
void check_paths(struct check_ctx *c);

#endif
