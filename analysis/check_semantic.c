/*
 * check_semantic.c - values BuildKit accepts when it parses but refuses
 * when it runs the instruction (image references, --platform, --chmod,
 * RUN --mount, --network and --security, HEALTHCHECK durations and
 * retries, EXPOSE ports, STOPSIGNAL: model/refuse.h's, reported by
 * check_buildkit.c with the rest of the builder's preflight), and
 * COPY --from naming a stage that is not earlier; and dockerfile-utils'
 * instruction casing.
 *
 * Values holding a variable are left alone: what they expand to is only
 * known at build time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../model/flags.h"
#include "check.h"

/* ---- COPY --from ------------------------------------------------------- */

static void semantic__copy_from(struct check_ctx *c, size_t idx) {
  const struct dockerfile *df = c->df;
  const struct df_instr *in = &df->instrs[idx];
  const struct df_flag *f = df_instr_flag_at(in, "from");
  if (f == NULL || f->value == NULL || f->value[0] == '\0' ||
      strchr(f->value, '$'))
    return;
  size_t cur = check__stage_of(df, idx);
  if (cur == SIZE_MAX)
    return;
  char *name = check__lower(f->value);
  /* The last stage of that name before this one, else the first. */
  size_t found = SIZE_MAX, nnamed;
  const size_t *named = check__stages_named(c, name, &nnamed);
  for (size_t k = 0; k < nnamed; k++)
    if (found == SIZE_MAX || named[k] < cur)
      found = named[k];
  bool numeric = name[0] != '\0' && strspn(name, "0123456789") == strlen(name);
  /* A later stage or a bad index is the builder's refusal, reported by
   * check_buildkit.c (model/refuse.h); here only a word that names no
   * stage, so pulled as an image. */
  if (found == SIZE_MAX && !numeric && strpbrk(f->value, ":/@") == NULL) {
    /* A bare word that is no stage: most likely a typo of one. */
    const char *best = NULL;
    unsigned best_d = 3;
    for (size_t s = 0; s < cur; s++) {
      const char *sn = df->stages[s].name;
      if (sn == NULL)
        continue;
      unsigned d = check__distance(name, sn);
      if (d < best_d) {
        best_d = d;
        best = sn;
      }
    }
    if (best)
      check__emit(c, RULE_CopyFromImage, f->range,
                  "'%s' is not the name of an earlier stage, so it is pulled "
                  "as an image (did you mean %s?)",
                  f->value, best);
    else
      check__emit(c, RULE_CopyFromImage, f->range,
                  "'%s' is not the name of an earlier stage, so it is pulled "
                  "as an image",
                  f->value);
  }
  free(name);
}

/* ---- instruction casing --------------------------------------------------
 */

/* dockerfile-utils' "instructions should be upper case", for keywords
 * written consistently in lower case in a file that is mostly lower case:
 * where the file mixes cases, BuildKit's ConsistentInstructionCasing
 * already speaks. */
static void semantic__casing(struct check_ctx *c) {
  const struct dockerfile *df = c->df;
  size_t lower, upper;
  check__keyword_casing(df, &lower, &upper);
  if (lower <= upper)
    return;
  for (size_t i = 0; i < df->ninstrs; i++) {
    const struct df_instr *in = &df->instrs[i];
    if (in->kind == DF_UNKNOWN || check__has_upper(in->keyword))
      continue;
    char *up = check__upper(in->keyword);
    struct diag *d = check__emit(c, RULE_InstructionCasing, in->keyword_range,
                                 "Instruction '%s' is conventionally written "
                                 "in upper case: %s",
                                 in->keyword, up);
    struct buf t = BUF_INIT;
    buf_printf(&t, "Change to %s", up);
    check__fix(d, buf_cstr(&t), in->keyword_range, up);
    buf_cleanup(&t);
    free(up);
  }
}

void check_semantic(struct check_ctx *c) {
  const struct dockerfile *df = c->df;
  for (size_t i = 0; i < df->ninstrs; i++) {
    const struct df_instr *in = &df->instrs[i];
    switch (in->kind) {
    case DF_COPY:
      semantic__copy_from(c, i);
      break;
    default:
      break;
    }
  }
  semantic__casing(c);
}
