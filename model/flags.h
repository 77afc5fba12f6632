/*
 * flags.h - reading an instruction's flags as BuildKit does, for the
 * analysis (which reports), the builder (which refuses) and the editor
 * features, so they cannot drift.  Which flags each instruction declares
 * on its BFlags (labs-only flags included: a user of the labs syntax
 * should not see them refused) is the one knowledge table
 * (model/knowledge.h, KNOW_FLAG_MAP); the checks are BFlags.Parse's
 * (frontend/dockerfile/instructions/ bflag.go), in its order and words.
 */
#ifndef DW_FLAGS_H
#define DW_FLAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/buf.h"
#include "dockerfile.h"
#include "knowledge.h"

/* Does BuildKit parse this instruction's flags at all?  Not for STOPSIGNAL,
 * HEALTHCHECK NONE or an unknown instruction.  Which flags it takes, and
 * their kinds, are the knowledge table's (know_flag in knowledge.h). */
bool df_instr_parses_flags(const struct df_instr *in);

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
