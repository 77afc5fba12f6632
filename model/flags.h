/*
 * flags.h - the flags each instruction takes: one table, BuildKit's, for
 * the analysis (which reports) and the builder (which refuses), so the two
 * cannot drift.  The table is what BuildKit's instructions/parse.go
 * declares on each instruction's BFlags before BFlags.Parse (labs-only
 * flags included: a user of the labs syntax should not see them refused);
 * the checks are BFlags.Parse's (frontend/dockerfile/instructions/
 * bflag.go), in its order and words.
 */
#ifndef DW_FLAGS_H
#define DW_FLAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/buf.h"
#include "dockerfile.h"

enum df_flag_type {
  DF_FLAG_BOOL,    /* --name, --name=true|false */
  DF_FLAG_STRING,  /* --name=value, once */
  DF_FLAG_STRINGS, /* --name=value, any number of times */
};

struct df_flag_spec {
  const char *name; /* NULL ends a table */
  enum df_flag_type type;
};

/* The NULL-terminated table of the flags `in` takes (an empty one when it
 * takes none), or NULL when BuildKit never parses its flags at all
 * (STOPSIGNAL, HEALTHCHECK NONE, an unknown instruction).  Static. */
const struct df_flag_spec *df_flag_specs(const struct df_instr *in);

/* The entry of specs called name, or NULL. */
const struct df_flag_spec *df_flag_spec_find(const struct df_flag_spec *specs,
                                             const char *name);

/* The last flag of `in` called name (BuildKit keeps the last value of a
 * repeated flag), or NULL.  Borrowed from `in`. */
const struct df_flag *df_instr_flag_at(const struct df_instr *in,
                                       const char *name);

/* The value of df_instr_flag_at: "" for a flag written without '=',
 * NULL when absent. */
const char *df_instr_flag(const struct df_instr *in, const char *name);

/* The first problem BFlags.Parse reports for `in`, in its words: "unknown
 * flag: NAME", "Duplicate flag specified: NAME", "missing a value on flag:
 * NAME", "expecting boolean value for flag NAME, not: VALUE".  Returns
 * true and appends the message to *msg (and the flag's index to *at when
 * not NULL); false when BuildKit accepts the flags. */
bool df_flags_problem(const struct df_instr *in, struct buf *msg, size_t *at);

#endif
