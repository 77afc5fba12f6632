/*
 * check_semantic.c - values BuildKit accepts when it parses but refuses
 * when it runs the instruction (HEALTHCHECK durations and retries,
 * --chmod modes, RUN --network/--security/--mount types, EXPOSE ports,
 * STOPSIGNAL signals, COPY --from naming a stage that is not earlier),
 * and dockerfile-utils' instruction casing.
 *
 * Values holding a variable are left alone: what they expand to is only
 * known at build time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../model/flags.h"
#include "check.h"
#include "../model/knowledge.h"

/* ---- Go's time.ParseDuration ------------------------------------------- */

/* Returns false on syntax errors; *ns saturates far beyond any sane
 * interval, which is enough to compare with one millisecond. */
static bool semantic__duration(const char *s, double *ns) {
  static const struct {
    const char *unit;
    double ns;
  } units[] = {{"ns", 1},          {"us", 1e3},  {"\xC2\xB5s", 1e3},
               {"\xCE\xBCs", 1e3}, {"ms", 1e6},  {"s", 1e9},
               {"m", 60e9},        {"h", 3600e9}};
  double sign = 1, total = 0;
  if (*s == '-' || *s == '+') {
    sign = *s == '-' ? -1 : 1;
    s++;
  }
  if (strcmp(s, "0") == 0) {
    *ns = 0;
    return true;
  }
  if (*s == '\0')
    return false;
  while (*s) {
    double v = 0, frac = 0, scale = 1;
    bool digits = false;
    while (*s >= '0' && *s <= '9') {
      v = v * 10 + (*s++ - '0');
      digits = true;
    }
    if (*s == '.') {
      s++;
      while (*s >= '0' && *s <= '9') {
        frac = frac * 10 + (*s++ - '0');
        scale *= 10;
        digits = true;
      }
    }
    if (!digits)
      return false;
    size_t best = 0;
    double mult = 0;
    for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++) {
      size_t n = strlen(units[i].unit);
      if (strncmp(s, units[i].unit, n) == 0 && n > best) {
        /* "m" must not take the "m" of "ms". */
        best = n;
        mult = units[i].ns;
      }
    }
    if (best == 0)
      return false;
    s += best;
    total += (v + frac / scale) * mult;
  }
  *ns = sign * total;
  return true;
}

static void semantic__healthcheck(struct check_ctx *c,
                                  const struct df_instr *in) {
  if (in->nargs > 0 && check__ieq(in->args[0].value, "none"))
    return;
  static const char *const durations[] = {"interval", "timeout",
                                          "start-period", "start-interval"};
  for (size_t i = 0; i < in->nflags; i++) {
    const struct df_flag *f = &in->flags[i];
    if (f->value == NULL || f->value[0] == '\0')
      continue;
    for (size_t k = 0; k < 4; k++) {
      if (strcmp(f->name, durations[k]) != 0)
        continue;
      double ns;
      if (!semantic__duration(f->value, &ns))
        check__emit(c, RULE_InvalidFlagValue, f->range,
                    "time: invalid duration \"%s\" (use e.g. 30s, 1m30s, "
                    "500ms)",
                    f->value);
      else if (ns != 0 && ns < 1e6)
        check__emit(c, RULE_InvalidFlagValue, f->range,
                    "Interval \"%s\" cannot be less than 1ms", f->name);
    }
    if (strcmp(f->name, "retries") == 0) {
      const char *p = f->value;
      bool neg = *p == '-';
      if (*p == '-' || *p == '+')
        p++;
      bool ok = *p != '\0';
      long long v = 0;
      for (; ok && *p; p++) {
        if (*p < '0' || *p > '9')
          ok = false;
        else if (v < 10000000000LL)
          v = v * 10 + (*p - '0');
      }
      if (!ok || v > 2147483647LL + neg)
        check__emit(c, RULE_InvalidFlagValue, f->range,
                    "--retries must be an integer, not \"%s\"", f->value);
      else if (neg && v > 0)
        check__emit(c, RULE_InvalidFlagValue, f->range,
                    "--retries cannot be negative (%s)", f->value);
    }
  }
}

static void semantic__chmod(struct check_ctx *c, const struct df_instr *in) {
  const struct df_flag *f = df_instr_flag_at(in, "chmod");
  if (f == NULL || f->value == NULL || strchr(f->value, '$'))
    return;
  const char *p = f->value;
  unsigned long v = 0;
  bool ok = *p != '\0';
  for (; ok && *p; p++) {
    if (*p < '0' || *p > '7')
      ok = false;
    else if (v <= 07777)
      v = v * 8 + (unsigned long)(*p - '0');
  }
  if (!ok || v > 07777)
    check__emit(c, RULE_InvalidFlagValue, f->range,
                "invalid chmod parameter: '%s'. it should be octal string "
                "and between 0 and 07777",
                f->value);
}

/* Allowed values come from the knowledge table (model/knowledge.h), the
 * one completion offers. */
static void semantic__run(struct check_ctx *c, const struct df_instr *in) {
  for (size_t i = 0; i < in->nflags; i++) {
    const struct df_flag *f = &in->flags[i];
    if (f->value == NULL || strchr(f->value, '$'))
      continue;
    if (strcmp(f->name, "network") == 0 &&
        !know_value_in(know_flag(DF_RUN, "network")->values, f->value))
      check__emit(c, RULE_InvalidFlagValue, f->range,
                  "unsupported network mode \"%s\" (default, none or host)",
                  f->value);
    if (strcmp(f->name, "security") == 0 &&
        !know_value_in(know_flag(DF_RUN, "security")->values, f->value))
      check__emit(c, RULE_InvalidFlagValue, f->range,
                  "unsupported security mode \"%s\" (sandbox or insecure)",
                  f->value);
    if (strcmp(f->name, "mount") == 0) {
      /* type=... anywhere in the comma-separated list; bind by default. */
      const char *p = f->value;
      while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n > 5 && strncasecmp(p, "type=", 5) == 0) {
          char *t = xstrndup(p + 5, n - 5);
          char *lt = check__lower(t);
          if (know_mount_type(lt) == NULL)
            check__emit(c, RULE_InvalidFlagValue, f->range,
                        "unsupported mount type \"%s\" (bind, cache, tmpfs, "
                        "secret or ssh)",
                        t);
          free(lt);
          free(t);
        }
        p += n;
        if (*p == ',')
          p++;
      }
    }
  }
}

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
  const struct df_stage *cs = &df->stages[cur];
  char *name = check__lower(f->value);
  /* The last stage of that name before this one, else the first. */
  size_t found = SIZE_MAX, nnamed;
  const size_t *named = check__stages_named(c, name, &nnamed);
  for (size_t k = 0; k < nnamed; k++)
    if (found == SIZE_MAX || named[k] < cur)
      found = named[k];
  bool numeric = name[0] != '\0' && strspn(name, "0123456789") == strlen(name);
  if (found == SIZE_MAX && numeric) {
    size_t n = strlen(name) > 9 ? SIZE_MAX : (size_t)strtoul(name, NULL, 10);
    if (n >= df->nstages)
      check__emit(c, RULE_InvalidCopyFrom, f->range, "invalid stage index %s",
                  f->value);
    else
      found = n;
  }
  if (found != SIZE_MAX && found >= cur) {
    const struct df_stage *fs = &df->stages[found];
    struct diag *d;
    if (found == cur)
      d = check__emit(c, RULE_InvalidCopyFrom, f->range,
                      "COPY --from=%s copies from the stage it is in "
                      "(circular dependency)",
                      f->value);
    else
      d = check__emit(c, RULE_InvalidCopyFrom, f->range,
                      "cannot copy from stage \"%s\", it needs to be defined "
                      "before current stage \"%s\"",
                      f->value, cs->name ? cs->name : "");
    check__related(d, df->instrs[fs->from_instr].range, "stage %s",
                   fs->name ? fs->name : f->value);
  } else if (found == SIZE_MAX && !numeric &&
             strpbrk(f->value, ":/@") == NULL) {
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

/* ---- EXPOSE ----------------------------------------------------------------
 */

static bool semantic__port(const char *s, size_t n, unsigned *v) {
  if (n == 0 || n > 5)
    return false;
  unsigned x = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    x = x * 10 + (unsigned)(s[i] - '0');
  }
  *v = x;
  return x <= 65535;
}

static void semantic__expose(struct check_ctx *c, const struct df_instr *in) {
  for (size_t i = 0; i < in->nargs; i++) {
    const struct df_arg *a = &in->args[i];
    if (strpbrk(a->value, "$\"'\\"))
      continue;
    /* nat.ParsePortSpec: [ip:][hostPort:]containerPort[/proto]; the
     * mapping forms are ExposeInvalidFormat's business. */
    const char *cp = strrchr(a->value, ':');
    cp = cp ? cp + 1 : a->value;
    const char *slash = strchr(cp, '/');
    size_t n = slash ? (size_t)(slash - cp) : strlen(cp);
    if (slash) {
      char *proto = check__lower(slash + 1);
      bool ok = strcmp(proto, "tcp") == 0 || strcmp(proto, "udp") == 0 ||
                strcmp(proto, "sctp") == 0;
      if (!ok)
        check__emit(c, RULE_InvalidPort, a->range,
                    "invalid proto: %s (tcp, udp or sctp)", slash + 1);
      free(proto);
      if (!ok)
        continue;
    }
    const char *dash = memchr(cp, '-', n);
    unsigned lo, hi;
    if (n == 0) {
      check__emit(c, RULE_InvalidPort, a->range, "no port specified: %s",
                  a->value);
    } else if (dash) {
      size_t ln = (size_t)(dash - cp);
      if (!semantic__port(cp, ln, &lo) ||
          !semantic__port(dash + 1, n - ln - 1, &hi))
        check__emit(c, RULE_InvalidPort, a->range,
                    "invalid containerPort: %.*s (ports are 0-65535)", (int)n,
                    cp);
      else if (hi < lo)
        check__emit(c, RULE_InvalidPort, a->range,
                    "invalid range specified for container port: %.*s", (int)n,
                    cp);
    } else if (!semantic__port(cp, n, &lo)) {
      check__emit(c, RULE_InvalidPort, a->range,
                  "invalid containerPort: %.*s (ports are 0-65535)", (int)n,
                  cp);
    }
  }
}

/* ---- STOPSIGNAL ------------------------------------------------------------
 */

static void semantic__stopsignal(struct check_ctx *c,
                                 const struct df_instr *in) {
  if (in->nargs != 1 || strpbrk(in->args[0].value, "$\"'\\"))
    return;
  const char *v = in->args[0].value;
  if (v[0] >= '0' && v[0] <= '9') {
    size_t n = strspn(v, "0123456789");
    bool ok = v[n] == '\0' && n <= 10 && strtoull(v, NULL, 10) > 0 &&
              strtoull(v, NULL, 10) <= 4294967295ULL;
    if (!ok)
      check__emit(c, RULE_InvalidStopSignal, in->args[0].range,
                  "Invalid signal: %s", v);
    return;
  }
  char *up = check__upper(v);
  const char *name = strncmp(up, "SIG", 3) == 0 ? up + 3 : up;
  /* The names completion offers (model/knowledge.h), without "SIG". */
  bool ok = false;
  for (const char *const *k = know_signals(); *k && !ok; k++)
    ok = strcmp(*k + 3, name) == 0;
  /* SIGRTMIN+n and SIGRTMAX-n, n = 1..15. */
  if (!ok &&
      (strncmp(name, "RTMIN+", 6) == 0 || strncmp(name, "RTMAX-", 6) == 0)) {
    char *end;
    long n = strtol(name + 6, &end, 10);
    ok = *end == '\0' && n >= 1 && n <= 15 && name[6] >= '0' && name[6] <= '9';
  }
  if (!ok)
    check__emit(c, RULE_InvalidStopSignal, in->args[0].range,
                "Invalid signal: %s", v);
  free(up);
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
    case DF_HEALTHCHECK:
      semantic__healthcheck(c, in);
      break;
    case DF_COPY:
      semantic__chmod(c, in);
      semantic__copy_from(c, i);
      break;
    case DF_ADD:
      semantic__chmod(c, in);
      break;
    case DF_RUN:
      semantic__run(c, in);
      break;
    case DF_EXPOSE:
      semantic__expose(c, in);
      break;
    case DF_STOPSIGNAL:
      semantic__stopsignal(c, in);
      break;
    default:
      break;
    }
  }
  semantic__casing(c);
}
