/*
 * check_buildkit.c - what BuildKit itself refuses, so the build fails:
 * the model's problems (its parser), then what BuildKit's instructions
 * package rejects per instruction (unknown instructions, FROM's
 * arguments, stage names, flags, argument counts, SHELL's form, ONBUILD
 * triggers, heredoc destinations, HEALTHCHECK's type), the words BuildKit
 * expands whose quoting or ${...} syntax is broken, and the `check`
 * directive's options.
 *
 * Messages keep BuildKit's wording where BuildKit has one, so a user who
 * later sees the build fail recognises it.  What the builder refuses from
 * the text alone (instructions, directives, values) is model/refuse.h's,
 * the builder's preflight: the same words, never a second copy here.
 */
#include <stdlib.h>
#include <string.h>

#include "../model/flags.h"
#include "../model/knowledge.h"
#include "../model/refuse.h"
#include "check.h"

/* ---- flags -------------------------------------------------------------- */

/* Which flags each instruction declares before BFlags.Parse is the one
 * knowledge table's (model/knowledge.h), which the builder refuses by
 * (model/flags.h) and completion and hover read; here each problem
 * becomes a diagnostic, with a suggestion. */
static void buildkit__flags(struct check_ctx *c, const struct df_instr *in) {
  if (!df_instr_parses_flags(in))
    return;
  size_t nflags;
  const struct know_flag *table = know_flags(&nflags);
  bool takes_any = false;
  for (size_t k = 0; k < nflags; k++)
    takes_any = takes_any || table[k].instr == in->kind;
  const char *kw = df_kind_name(in->kind);
  for (size_t i = 0; i < in->nflags; i++) {
    const struct df_flag *f = &in->flags[i];
    const struct know_flag *spec = know_flag(in->kind, f->name);
    if (spec == NULL) {
      const char *best = NULL;
      unsigned best_d = 3;
      for (size_t k = 0; k < nflags; k++) {
        if (table[k].instr != in->kind)
          continue;
        unsigned d = check__distance(f->name, table[k].name);
        if (d < best_d) {
          best_d = d;
          best = table[k].name;
        }
      }
      char *up = check__upper(kw);
      struct diag *d;
      if (best) {
        d = check__emit(c, RULE_UnknownFlag, f->range,
                        "unknown flag: %s (did you mean --%s?)", f->name,
                        best);
        struct buf nt = BUF_INIT;
        buf_printf(&nt, "--%s%s%s", best, f->value ? "=" : "",
                   f->value ? f->value : "");
        struct buf title = BUF_INIT;
        buf_printf(&title, "Change to --%s", best);
        /* Only when the flag is written plainly, so the text is known. */
        if (f->range.end.byte - f->range.start.byte == strlen(f->text))
          check__fix(d, buf_cstr(&title), f->range, buf_cstr(&nt));
        buf_cleanup(&nt);
        buf_cleanup(&title);
      } else if (!takes_any) {
        check__emit(c, RULE_UnknownFlag, f->range,
                    "unknown flag: %s (%s takes no flags)", f->name, up);
      } else {
        check__emit(c, RULE_UnknownFlag, f->range, "unknown flag: %s",
                    f->name);
      }
      free(up);
      continue;
    }
    if (spec->kind != KNOW_STRINGS) {
      for (size_t k = 0; k < i; k++) {
        if (strcmp(in->flags[k].name, f->name) == 0) {
          struct diag *d =
              check__emit(c, RULE_DuplicateFlag, f->range,
                          "Duplicate flag specified: %s", f->name);
          check__related(d, in->flags[k].range, "first --%s", f->name);
          break;
        }
      }
    }
    if (spec->kind == KNOW_BOOL) {
      if (f->value == NULL)
        continue;
      if (f->value[0] == '\0') {
        check__emit(c, RULE_FlagMissingValue, f->range,
                    "missing a value on flag: %s", f->name);
      } else if (!check__ieq(f->value, "true") &&
                 !check__ieq(f->value, "false")) {
        check__emit(c, RULE_InvalidFlagValue, f->range,
                    "expecting boolean value for flag %s, not: %s", f->name,
                    f->value);
      }
      continue;
    }
    if (f->value != NULL)
      continue;
    /* "--from build" : BuildKit needs "--from=build". */
    struct diag *d = check__emit(c, RULE_FlagMissingValue, f->range,
                                 "missing a value on flag: %s", f->name);
    if (in->nargs > 0 && in->form != DF_FORM_JSON) {
      const struct df_arg *a = &in->args[0];
      size_t gs = f->range.end.byte, ge = a->range.start.byte;
      bool blank = ge > gs && ge <= c->len;
      for (size_t k = gs; blank && k < ge; k++)
        blank = c->text[k] == ' ' || c->text[k] == '\t';
      if (blank && in->nargs > 1) {
        struct buf m = BUF_INIT;
        buf_printf(&m, "Write --%s=%s", f->name, a->value);
        check__fix(d, buf_cstr(&m), check__range(c, gs, ge), "=");
        buf_cleanup(&m);
      }
    }
  }
}

/* ---- instructions ---------------------------------------------------------
 */

static const char *const buildkit__kinds[] = {
#define BUILDKIT_KW(name, kw) kw,
    DF_INSTR_MAP(BUILDKIT_KW)
#undef BUILDKIT_KW
};

static void buildkit__unknown(struct check_ctx *c, const struct df_instr *in) {
  const char *best = NULL;
  unsigned best_d = 100;
  for (size_t k = 0; k < sizeof(buildkit__kinds) / sizeof(*buildkit__kinds);
       k++) {
    unsigned d = check__distance(in->keyword, buildkit__kinds[k]);
    if (d < best_d) {
      best_d = d;
      best = buildkit__kinds[k];
    }
  }
  char *up = check__upper(in->keyword);
  size_t len = strlen(in->keyword);
  /* A suggestion only when it is close: two edits, or one for short
   * words. */
  bool close = best && best_d <= (len <= 4 ? 1u : 2u);
  if (!close) {
    check__emit(c, RULE_UnknownInstruction, in->keyword_range,
                "unknown instruction: %s", up);
    free(up);
    return;
  }
  char *sug = check__has_lower(in->keyword) && !check__has_upper(in->keyword)
                  ? xstrdup(best)
                  : check__upper(best);
  char *sug_up = check__upper(best);
  struct diag *d =
      check__emit(c, RULE_UnknownInstruction, in->keyword_range,
                  "unknown instruction: %s (did you mean %s?)", up, sug_up);
  struct buf title = BUF_INIT;
  buf_printf(&title, "Change to %s", sug);
  check__fix(d, buf_cstr(&title), in->keyword_range, sug);
  buf_cleanup(&title);
  free(sug);
  free(sug_up);
  free(up);
}

/* What the builder refuses from the text (model/refuse.h, one rulebook),
 * each kind under its rule; the analysis adds suggestions and fixes. */
static const enum rule_id buildkit__rules[] = {
    [REFUSE_UNKNOWN_INSTR] = RULE_UnknownInstruction,
    [REFUSE_FROM_ARGS] = RULE_InvalidFromArguments,
    [REFUSE_STAGE_NAME] = RULE_InvalidStageName,
    [REFUSE_MISSING_ARGS] = RULE_MissingArguments,
    [REFUSE_EXTRA_ARGS] = RULE_ExtraArguments,
    [REFUSE_SHELL_JSON] = RULE_ShellNotJson,
    [REFUSE_ONBUILD_TRIGGER] = RULE_InvalidOnbuildTrigger,
    [REFUSE_HEREDOC_DEST] = RULE_HeredocDestination,
    [REFUSE_HEALTHCHECK_TYPE] = RULE_InvalidHealthcheck,
    [REFUSE_HEALTHCHECK_CMD] = RULE_HealthcheckMissingCommand,
    [REFUSE_DIRECTIVE] = RULE_InvalidDirective,
    [REFUSE_COPY_FROM] = RULE_InvalidCopyFrom,
    [REFUSE_REFERENCE] = RULE_InvalidReference,
    [REFUSE_PLATFORM] = RULE_InvalidPlatform,
    [REFUSE_FLAG] = RULE_InvalidFlagValue,
    [REFUSE_PORT] = RULE_InvalidPort,
    [REFUSE_SIGNAL] = RULE_InvalidStopSignal,
};

static void buildkit__refused(void *ctx, const struct df_instr *in,
                              enum refuse_kind kind, struct df_range at,
                              const char *msg) {
  struct check_ctx *c = ctx;
  if (kind == REFUSE_UNKNOWN_INSTR) {
    buildkit__unknown(c, in); /* the same words, and a suggestion */
    return;
  }
  struct diag *d = check__emit(c, buildkit__rules[kind], at, "%s", msg);
  if (kind == REFUSE_SHELL_JSON) {
    /* The fix, for plain words only. */
    const char *v = in->args[0].value;
    bool plain = strpbrk(v, "\"'\\$`[]") == NULL &&
                 in->range.start.row == in->range.end.row;
    if (plain) {
      struct buf b = BUF_INIT;
      check__words_as_json(&b, v);
      check__fix(d, "Write SHELL as a JSON array", in->args_range,
                 buf_cstr(&b));
      buf_cleanup(&b);
    }
  }
}

/* ---- words BuildKit expands ------------------------------------------- */

/* Expands one word with every variable set, so only syntax errors remain,
 * and reports them where they are. */
static void buildkit__expand(struct check_ctx *c, const struct df_arg *arg,
                             const char *word, size_t len, size_t off,
                             bool words) {
  /* Every expansion error starts at a '$' or a quote (with every name
   * set, only syntax can fail): most words have neither, and need no
   * expansion to know they pass. */
  if (memchr(word, '$', len) == NULL && memchr(word, '\'', len) == NULL &&
      memchr(word, '"', len) == NULL)
    return;
  struct expand_opts opts = {c->df->escape, 0};
  struct expand_env env = check__env_all_set();
  struct err e;
  err_clear(&e);
  int rc;
  if (words) {
    struct strv out = STRV_INIT;
    rc = expand_words(word, len, &opts, &env, NULL, &out, &e);
    strv_cleanup(&out);
  } else {
    char *out = NULL;
    rc = expand_word(word, len, &opts, &env, NULL, &out, &e);
    free(out);
  }
  if (rc >= 0)
    return;
  struct df_range r = arg->range;
  size_t at;
  if (e.col > 0 && check__source_offset(c, arg, off + e.col - 1, &at)) {
    r.start = check__pos(c, at);
    if (r.end.byte < r.start.byte)
      r.end = r.start;
  }
  /* BuildKit prints the end of input as U+FFFD ("unsupported modifier
   * (\uFFFD)"); say what is wrong instead. */
  const char *msg = strstr(e.msg, "\xEF\xBF\xBD") ? "missing '}'" : e.msg;
  check__emit(c, RULE_InvalidVariableSyntax, r,
              "failed to process \"%.*s\": %s", (int)len, word, msg);
}

static bool buildkit__is_heredoc(const char *word) {
  struct df_heredoc hd;
  char *msg = NULL;
  int rc = dockerfile_heredoc_word(word, &hd, &msg);
  if (rc == 1)
    free(hd.name);
  free(msg);
  return rc != 0;
}

static void buildkit__expansions(struct check_ctx *c,
                                 const struct df_instr *in) {
  switch (in->kind) {
  case DF_ADD:
  case DF_COPY:
    for (size_t i = 0; i < in->nargs; i++) {
      const struct df_arg *a = &in->args[i];
      if (in->form != DF_FORM_JSON && buildkit__is_heredoc(a->value))
        continue;
      buildkit__expand(c, a, a->value, a->len, 0, false);
    }
    break;
  case DF_ENV:
  case DF_LABEL:
    for (size_t i = 0; i + 1 < in->nargs; i += 3) {
      if (in->kind == DF_LABEL)
        buildkit__expand(c, &in->args[i], in->args[i].value, in->args[i].len,
                         0, false);
      buildkit__expand(c, &in->args[i + 1], in->args[i + 1].value,
                       in->args[i + 1].len, 0, false);
    }
    break;
  case DF_ARG:
    for (size_t i = 0; i < in->nargs; i++) {
      const char *eq = strchr(in->args[i].value, '=');
      if (eq == NULL)
        continue;
      size_t off = (size_t)(eq + 1 - in->args[i].value);
      buildkit__expand(c, &in->args[i], eq + 1, in->args[i].len - off, off,
                       false);
    }
    break;
  case DF_EXPOSE:
    for (size_t i = 0; i < in->nargs; i++)
      buildkit__expand(c, &in->args[i], in->args[i].value, in->args[i].len, 0,
                       true);
    break;
  case DF_FROM:
    if (in->nargs > 0)
      buildkit__expand(c, &in->args[0], in->args[0].value, in->args[0].len, 0,
                       false);
    break;
  case DF_STOPSIGNAL:
  case DF_USER:
  case DF_VOLUME:
  case DF_WORKDIR:
    for (size_t i = 0; i < in->nargs; i++)
      buildkit__expand(c, &in->args[i], in->args[i].value, in->args[i].len, 0,
                       false);
    break;
  default:
    break;
  }
}

/* ---- one instruction ------------------------------------------------------
 */

static void buildkit__instr(struct check_ctx *c, size_t i) {
  const struct df_instr *in = &c->df->instrs[i];
  refuse_each(c->df, i, buildkit__refused, c);
  if (in->kind == DF_UNKNOWN)
    return;
  buildkit__flags(c, in);
  if (in->kind == DF_ONBUILD && in->sub && in->sub->kind != DF_ONBUILD &&
      in->sub->kind != DF_FROM && in->sub->kind != DF_MAINTAINER) {
    /* The trigger fails the build of an image FROM this one: say so now. */
    refuse_each_instr(c->df, in->sub, check__stage_of(c->df, i),
                      buildkit__refused, c);
    buildkit__flags(c, in->sub);
    if (!in->sub->invalid)
      buildkit__expansions(c, in->sub);
    return;
  }
  if (!in->invalid)
    buildkit__expansions(c, in);
}

/* ---- directives -----------------------------------------------------------
 */

static bool buildkit__in_heredoc(const struct dockerfile *df, uint32_t row) {
  for (size_t i = 0; i < df->ninstrs; i++) {
    const struct df_instr *in = &df->instrs[i];
    if (in->sub)
      in = in->sub;
    for (size_t h = 0; h < in->nheredocs; h++)
      if (row >= in->heredocs[h].body.start.row &&
          row <= in->heredocs[h].body.end.row)
        return true;
  }
  return false;
}

/* A comment that looks like a directive but is not in the leading run of
 * directives: BuildKit reads it as a comment, so e.g. a `syntax=` after a
 * licence header silently selects nothing. */
static void buildkit__misplaced(struct check_ctx *c) {
  const struct dockerfile *df = c->df;
  for (size_t row = 0; row < c->nlines; row++) {
    const char *s = c->text + c->line_start[row];
    const char *e = row + 1 < c->nlines ? c->text + c->line_start[row + 1]
                                        : c->text + c->len;
    while (e > s &&
           (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
      e--;
    const char *p = s;
    if (row == 0 && e - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
      p += 3;
    while (p < e && (*p == ' ' || *p == '\t'))
      p++;
    if (p == e || *p != '#')
      continue;
    const char *k = p + 1;
    while (k < e && (*k == ' ' || *k == '\t'))
      k++;
    const char *ke = k;
    while (ke < e &&
           ((*ke >= 'a' && *ke <= 'z') || (*ke >= 'A' && *ke <= 'Z')))
      ke++;
    const char *q = ke;
    while (q < e && (*q == ' ' || *q == '\t'))
      q++;
    if (q == e || *q != '=' || q + 1 == e)
      continue;
    size_t kl = (size_t)(ke - k);
    bool known = (kl == 6 && strncasecmp(k, "syntax", 6) == 0) ||
                 (kl == 6 && strncasecmp(k, "escape", 6) == 0) ||
                 (kl == 5 && strncasecmp(k, "check", 5) == 0);
    if (!known)
      continue;
    bool is_directive = false;
    for (size_t i = 0; i < df->ndirectives; i++)
      if (df->directives[i].range.start.row == row)
        is_directive = true;
    if (is_directive || buildkit__in_heredoc(df, (uint32_t)row))
      continue;
    /* Only before the first instruction or after it: both are comments
     * to BuildKit once the directive run has ended. */
    size_t off = c->line_start[row];
    check__emit(c, RULE_MisplacedDirective,
                check__range(c, off + (size_t)(p - s), off + (size_t)(e - s)),
                "'%.*s' is not at the top of the file, so BuildKit reads it "
                "as a comment; parser directives must come before any "
                "other line",
                (int)(e - p), p);
  }
}

void check_buildkit(struct check_ctx *c) {
  const struct dockerfile *df = c->df;
  for (size_t i = 0; i < df->nproblems; i++) {
    const struct df_problem *p = &df->problems[i];
    if (p->kind == DF_PROBLEM_ERROR)
      check__emit(c, RULE_BuildKitParse, p->range, "%s", p->message);
  }
  refuse_directives(df, buildkit__refused, c);
  buildkit__misplaced(c);
  for (size_t i = 0; i < df->ninstrs; i++)
    buildkit__instr(c, i);
}
