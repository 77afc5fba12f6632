/*
 * flags.c - the flags each instruction takes.  See flags.h.
 */
#include "flags.h"

#include <string.h>
#include <strings.h>

bool df_instr_parses_flags(const struct df_instr *in) {
  /* HEALTHCHECK NONE never parses its flags (parseHealthcheck). */
  if (in->kind == DF_HEALTHCHECK && in->nargs > 0 &&
      strcasecmp(in->args[0].value, "none") == 0)
    return false;
  return know_instr_takes_flags(in->kind);
}

const struct df_flag *df_instr_flag_at(const struct df_instr *in,
                                       const char *name) {
  const struct df_flag *found = NULL;
  for (size_t i = 0; i < in->nflags; i++)
    if (strcmp(in->flags[i].name, name) == 0)
      found = &in->flags[i];
  return found;
}

const char *df_instr_flag(const struct df_instr *in, const char *name) {
  const struct df_flag *f = df_instr_flag_at(in, name);
  if (f == NULL)
    return NULL;
  return f->value ? f->value : "";
}

/* True when a flag before index i has the same name. */
static bool flags__repeated(const struct df_instr *in, size_t i) {
  for (size_t k = 0; k < i; k++)
    if (strcmp(in->flags[k].name, in->flags[i].name) == 0)
      return true;
  return false;
}

bool df_flags_problem(const struct df_instr *in, struct buf *msg, size_t *at) {
  if (!df_instr_parses_flags(in))
    return false;
  for (size_t i = 0; i < in->nflags; i++) {
    const struct df_flag *f = &in->flags[i];
    const struct know_flag *spec = know_flag(in->kind, f->name);
    bool bad = true;
    if (spec == NULL)
      buf_printf(msg, "unknown flag: %s", f->name);
    else if (spec->kind != KNOW_STRINGS && flags__repeated(in, i))
      buf_printf(msg, "Duplicate flag specified: %s", f->name);
    else if (spec->kind == KNOW_BOOL && f->value && f->value[0] == '\0')
      buf_printf(msg, "missing a value on flag: %s", f->name);
    else if (spec->kind == KNOW_BOOL && f->value &&
             strcasecmp(f->value, "true") != 0 &&
             strcasecmp(f->value, "false") != 0)
      buf_printf(msg, "expecting boolean value for flag %s, not: %s", f->name,
                 f->value);
    else if (spec->kind != KNOW_BOOL && f->value == NULL)
      buf_printf(msg, "missing a value on flag: %s", f->name);
    else
      bad = false;
    if (bad) {
      if (at)
        *at = i;
      return true;
    }
  }
  return false;
}
