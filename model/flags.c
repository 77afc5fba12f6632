/*
 * flags.c - the flags each instruction takes.  See flags.h.
 */
#include "flags.h"

#include <string.h>
#include <strings.h>

static const struct df_flag_spec flags__add[] = {
    {"chown", DF_FLAG_STRING},    {"chmod", DF_FLAG_STRING},
    {"link", DF_FLAG_BOOL},       {"keep-git-dir", DF_FLAG_BOOL},
    {"checksum", DF_FLAG_STRING}, {"unpack", DF_FLAG_BOOL},
    {"exclude", DF_FLAG_STRINGS}, {NULL, DF_FLAG_BOOL}};
static const struct df_flag_spec flags__copy[] = {
    {"chown", DF_FLAG_STRING}, {"from", DF_FLAG_STRING},
    {"chmod", DF_FLAG_STRING}, {"link", DF_FLAG_BOOL},
    {"parents", DF_FLAG_BOOL}, {"exclude", DF_FLAG_STRINGS},
    {NULL, DF_FLAG_BOOL}};
static const struct df_flag_spec flags__from[] = {{"platform", DF_FLAG_STRING},
                                                  {NULL, DF_FLAG_BOOL}};
static const struct df_flag_spec flags__run[] = {{"mount", DF_FLAG_STRINGS},
                                                 {"network", DF_FLAG_STRING},
                                                 {"security", DF_FLAG_STRING},
                                                 {"device", DF_FLAG_STRINGS},
                                                 {NULL, DF_FLAG_BOOL}};
static const struct df_flag_spec flags__health[] = {
    {"interval", DF_FLAG_STRING},     {"timeout", DF_FLAG_STRING},
    {"start-period", DF_FLAG_STRING}, {"start-interval", DF_FLAG_STRING},
    {"retries", DF_FLAG_STRING},      {NULL, DF_FLAG_BOOL}};
static const struct df_flag_spec flags__none[] = {{NULL, DF_FLAG_BOOL}};

const struct df_flag_spec *df_flag_specs(const struct df_instr *in) {
  switch (in->kind) {
  case DF_ADD:
    return flags__add;
  case DF_COPY:
    return flags__copy;
  case DF_FROM:
    return flags__from;
  case DF_RUN:
    return flags__run;
  case DF_HEALTHCHECK:
    /* HEALTHCHECK NONE never parses its flags. */
    if (in->nargs > 0 && strcasecmp(in->args[0].value, "none") == 0)
      return NULL;
    return flags__health;
  case DF_STOPSIGNAL: /* parseStopSignal never parses flags */
  case DF_UNKNOWN:
  case DF_KIND_COUNT:
    return NULL;
  default:
    return flags__none;
  }
}

const struct df_flag_spec *df_flag_spec_find(const struct df_flag_spec *specs,
                                             const char *name) {
  for (const struct df_flag_spec *s = specs; s && s->name; s++)
    if (strcmp(s->name, name) == 0)
      return s;
  return NULL;
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
  const struct df_flag_spec *specs = df_flag_specs(in);
  if (specs == NULL)
    return false;
  for (size_t i = 0; i < in->nflags; i++) {
    const struct df_flag *f = &in->flags[i];
    const struct df_flag_spec *spec = df_flag_spec_find(specs, f->name);
    bool bad = true;
    if (spec == NULL)
      buf_printf(msg, "unknown flag: %s", f->name);
    else if (spec->type != DF_FLAG_STRINGS && flags__repeated(in, i))
      buf_printf(msg, "Duplicate flag specified: %s", f->name);
    else if (spec->type == DF_FLAG_BOOL && f->value && f->value[0] == '\0')
      buf_printf(msg, "missing a value on flag: %s", f->name);
    else if (spec->type == DF_FLAG_BOOL && f->value &&
             strcasecmp(f->value, "true") != 0 &&
             strcasecmp(f->value, "false") != 0)
      buf_printf(msg, "expecting boolean value for flag %s, not: %s", f->name,
                 f->value);
    else if (spec->type != DF_FLAG_BOOL && f->value == NULL)
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
