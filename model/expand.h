/*
 * expand.h - BuildKit's shell-word rules: quotes, escapes, variables and
 * every ${...} modifier, word splitting.
 *
 * DESIGN: a faithful C rendering of the rules BuildKit's frontend applies
 * (frontend/dockerfile/shell), checked against BuildKit's own tables
 * (shell/envVarTest and shell/wordsTest).  No IO; the environment is a
 * lookup callback so callers decide where variables come from (build args,
 * ENV in scope, a test table).
 */
#ifndef DW_EXPAND_H
#define DW_EXPAND_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/buf.h"
#include "../common/err.h"

/* Returns the value of NAME (len bytes, not NUL-terminated) or NULL when
 * the variable is unset.  The returned pointer is borrowed; it must stay
 * valid until the expand_* call returns. */
typedef const char *(*expand_lookup_fn)(void *ctx, const char *name,
                                        size_t len);

struct expand_env {
  expand_lookup_fn lookup; /* NULL: every variable is unset */
  void *ctx;
};

enum expand_flags {
  /* Keep quote characters in the output (BuildKit RawQuotes). */
  EXPAND_RAW_QUOTES = 1u << 0,
  /* Keep escape characters in the output (BuildKit RawEscapes). */
  EXPAND_RAW_ESCAPES = 1u << 1,
  /* Leave references to unset variables as written (SkipUnsetEnv). */
  EXPAND_SKIP_UNSET = 1u << 2,
  /* Do not treat quotes specially at all (SkipProcessQuotes). */
  EXPAND_SKIP_PROCESS_QUOTES = 1u << 3,
};

struct expand_opts {
  char escape;    /* '\\' or '`' (the file's escape directive); others: '\\' */
  unsigned flags; /* enum expand_flags */
};

/* Names seen while expanding: `used` gets every variable referenced that
 * was set, `unset` every one referenced that was not.  Either may be NULL.
 * Names are appended in lookup order, without duplicates; a ${a:-$b} looks
 * up b (its word) before a.  When a call fails the lists hold what was
 * looked up before the failure (BuildKit reports those too). */
struct expand_report {
  struct strv *used;
  struct strv *unset;
};

/*
 * Expands one word as BuildKit's ProcessWord does (no word splitting;
 * quotes removed, escapes applied, variables substituted).
 * On success *out is a new NUL-terminated string the caller frees.
 * On error returns a negative code, *out is NULL and err holds BuildKit's
 * message (e.g. "unexpected end of statement while looking for matching
 * double-quote"), with col set to the 1-based byte column in `word` of the
 * construct that failed (the opening quote, or the '$' of the ${...}).
 * BuildKit itself wraps the message as `failed to process "<word>": ...`;
 * that prefix is left to the caller.  Codes: ERR_INVALID for a ${var?msg}
 * or ${var:?msg} whose variable is unset/empty, ERR_TOOBIG for ${...}
 * nested more than 512 deep (a C stack guard BuildKit does not have),
 * ERR_SYNTAX otherwise.
 */
int expand_word(const char *word, size_t len, const struct expand_opts *opts,
                const struct expand_env *env, struct expand_report *report,
                char **out, struct err *err) DW_WARN_UNUSED;

/*
 * Expands and splits into words as BuildKit's ProcessWords does: unquoted
 * whitespace separates words, a variable's value is split unless quoted,
 * and (BuildKit v0.22+) an unquoted "<<" keeps the spaces, tabs and CRs
 * after it in its word, so "<< EOF" is one word for heredoc detection.
 * Appends the words to *out (which the caller owns and has initialised).
 * On error returns a negative code and *out is unchanged.
 */
int expand_words(const char *word, size_t len, const struct expand_opts *opts,
                 const struct expand_env *env, struct expand_report *report,
                 struct strv *out, struct err *err) DW_WARN_UNUSED;

/* An environment backed by a vector of "NAME=VALUE" strings (borrowed);
 * a later entry overrides an earlier one of the same name. */
struct expand_env expand_env_from_strv(const struct strv *kv);

#endif
