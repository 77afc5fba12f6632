/*
 * check_buildchecks.c - BuildKit's build checks (frontend/dockerfile/
 * linter), under BuildKit's names and with BuildKit's messages, so that
 * `# check=skip=Name` means the same here as in `docker build`.
 *
 * DESIGN
 * BuildKit runs most checks while it dispatches the stages, with the
 * environment each instruction sees.  We replay that walk without the
 * base images: every stage starts from its base stage's state (FROM
 * <earlier stage>), or from nothing.  What a base image brings (its ENV,
 * WORKDIR, SHELL) is unknown, so checks that depend on it stay quiet
 * where the image could decide the answer: UndefinedVar reports a name
 * in a stage built on an image only when it is one edit away from a name
 * the Dockerfile defines (a typo), and reports everything in stages built
 * FROM scratch.
 */
#include <stdlib.h>
#include <string.h>

#include "../model/flags.h"
#include "check.h"
#include "../model/dockerignore.h"

/* ---- small helpers ------------------------------------------------------ */

static bool bc__strv_has(const struct strv *sv, const char *s, size_t n) {
  for (size_t i = 0; i < sv->n; i++)
    if (strlen(sv->v[i]) == n && memcmp(sv->v[i], s, n) == 0)
      return true;
  return false;
}

/* Sets NAME=VALUE in kv (replacing an earlier NAME). */
/* "name=value" (new string): by hand, as printf's parsing of "%s=%s" was
 * most of the cost of setting a variable. */
static char *bc__kv_make(const char *name, size_t n, const char *value) {
  size_t vn = strlen(value);
  char *kv = xmalloc(n + 1 + vn + 1);
  memcpy(kv, name, n);
  kv[n] = '=';
  memcpy(kv + n + 1, value, vn + 1);
  return kv;
}

static void bc__kv_set(struct strv *kv, const char *name, const char *value) {
  size_t n = strlen(name);
  for (size_t i = 0; i < kv->n; i++) {
    if (strncmp(kv->v[i], name, n) == 0 && kv->v[i][n] == '=') {
      free(kv->v[i]);
      kv->v[i] = bc__kv_make(name, n, value);
      return;
    }
  }
  strv_push_take(kv, bc__kv_make(name, n, value));
}

static const char *bc__kv_get(const struct strv *kv, const char *name) {
  size_t n = strlen(name);
  for (size_t i = kv->n; i-- > 0;)
    if (strncmp(kv->v[i], name, n) == 0 && kv->v[i][n] == '=')
      return kv->v[i] + n + 1;
  return NULL;
}

static void bc__strv_copy(struct strv *dst, const struct strv *src) {
  for (size_t i = 0; i < src->n; i++)
    strv_push(dst, src->v[i]);
}

/* The closest of `names` to `word` within `max` edits, or NULL. */
static const char *bc__suggest(const char *word, const struct strv *names,
                               unsigned max) {
  const char *best = NULL;
  unsigned best_d = max + 1;
  for (size_t i = 0; i < names->n; i++) {
    const char *nm = names->v[i];
    size_t n = strcspn(nm, "=");
    char *k = xstrndup(nm, n);
    if (strcmp(k, word) != 0) {
      unsigned d = check__distance(word, k);
      if (d < best_d) {
        best_d = d;
        best = nm;
      }
    }
    free(k);
  }
  return best;
}

/* Expands `word` in env, appending unset names to *unset; returns the
 * result (caller frees) or NULL on a syntax error. */
static char *bc__expand(const struct check_ctx *c, const char *word,
                        size_t len, const struct strv *kv, struct strv *used,
                        struct strv *unset) {
  struct expand_opts opts = {c->df->escape, 0};
  struct expand_env env = expand_env_from_strv(kv);
  struct expand_report rep = {used, unset};
  struct err e;
  err_clear(&e);
  char *out = NULL;
  if (expand_word(word, len, &opts, &env, &rep, &out, &e) < 0)
    return NULL;
  return out;
}

/* ---- Docker image references ------------------------------------------ */

static bool bc__lower_alnum(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

static bool bc__alnum(char ch) {
  return bc__lower_alnum(ch) || (ch >= 'A' && ch <= 'Z');
}

/* [a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)* */
static bool bc__path_component(const char *s, size_t n) {
  size_t i = 0;
  if (n == 0 || !bc__lower_alnum(s[0]))
    return false;
  while (i < n) {
    while (i < n && bc__lower_alnum(s[i]))
      i++;
    if (i == n)
      return true;
    size_t sep = i;
    if (s[i] == '.')
      i++;
    else if (s[i] == '_')
      i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
    else
      while (i < n && s[i] == '-')
        i++;
    if (i == sep || i == n || !bc__lower_alnum(s[i]))
      return false;
  }
  return true;
}

/* distribution/reference's ParseNormalizedNamed, enough to tell a usable
 * image reference from an empty or broken one. */
static bool bc__reference_ok(const char *ref) {
  size_t n = strlen(ref);
  if (n == 0)
    return false;
  const char *at = strchr(ref, '@');
  if (at) {
    const char *d = at + 1, *colon = strchr(d, ':');
    if (colon == NULL || colon == d || strlen(colon + 1) < 32)
      return false;
    for (const char *p = colon + 1; *p; p++)
      if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
            (*p >= 'A' && *p <= 'F')))
        return false;
    n = (size_t)(at - ref);
  }
  const char *slash_last = NULL;
  for (size_t i = 0; i < n; i++)
    if (ref[i] == '/')
      slash_last = ref + i;
  const char *tag = NULL;
  for (const char *p = slash_last ? slash_last : ref; p < ref + n; p++)
    if (*p == ':')
      tag = p;
  size_t name_len = tag ? (size_t)(tag - ref) : n;
  if (tag) {
    size_t tl = (size_t)(ref + n - tag - 1);
    if (tl == 0 || tl > 128)
      return false;
    for (size_t i = 0; i < tl; i++) {
      char ch = tag[1 + i];
      bool w = bc__alnum(ch) || ch == '_';
      if (!(w || (i > 0 && (ch == '.' || ch == '-'))))
        return false;
    }
  }
  if (name_len == 0 || name_len > 255)
    return false;
  /* The domain: a first component with '.' or ':', "localhost", or upper
   * case. */
  const char *p = ref, *end = ref + name_len;
  const char *first = memchr(p, '/', name_len);
  if (first) {
    size_t dl = (size_t)(first - p);
    bool domain = memchr(p, '.', dl) || memchr(p, ':', dl) ||
                  (dl == 9 && strncmp(p, "localhost", 9) == 0);
    for (size_t i = 0; !domain && i < dl; i++)
      domain = p[i] >= 'A' && p[i] <= 'Z';
    if (domain) {
      for (size_t i = 0; i < dl; i++)
        if (!(bc__alnum(p[i]) || p[i] == '.' || p[i] == '-' || p[i] == ':' ||
              p[i] == '[' || p[i] == ']'))
          return false;
      p = first + 1;
    }
  }
  while (p < end) {
    const char *s = memchr(p, '/', (size_t)(end - p));
    size_t cl = s ? (size_t)(s - p) : (size_t)(end - p);
    if (!bc__path_component(p, cl))
      return false;
    p += cl + (s ? 1 : 0);
    if (s && p == end)
      return false;
  }
  return true;
}

/* ---- platforms ---------------------------------------------------------- */

static const char *const bc__oses[] = {
    "aix",    "android", "darwin",  "dragonfly", "freebsd",
    "hurd",   "illumos", "ios",     "js",        "linux",
    "nacl",   "netbsd",  "openbsd", "plan9",     "solaris",
    "wasip1", "windows", "zos",     NULL};

static const struct {
  const char *in, *out;
} bc__arches[] = {
    {"amd64", "amd64"},     {"x86_64", "amd64"},    {"x86-64", "amd64"},
    {"386", "386"},         {"i386", "386"},        {"aarch64", "arm64"},
    {"arm64", "arm64"},     {"armhf", "arm"},       {"armel", "arm"},
    {"arm", "arm"},         {"ppc64le", "ppc64le"}, {"ppc64", "ppc64"},
    {"s390x", "s390x"},     {"riscv64", "riscv64"}, {"mips", "mips"},
    {"mipsle", "mipsle"},   {"mips64", "mips64"},   {"mips64le", "mips64le"},
    {"loong64", "loong64"}, {"wasm", "wasm"},       {NULL, NULL}};

static const char *bc__arch(const char *s, size_t n) {
  for (size_t i = 0; bc__arches[i].in; i++)
    if (strlen(bc__arches[i].in) == n &&
        strncasecmp(s, bc__arches[i].in, n) == 0)
      return bc__arches[i].out;
  return NULL;
}

static bool bc__os(const char *s, size_t n) {
  for (size_t i = 0; bc__oses[i]; i++)
    if (strlen(bc__oses[i]) == n && strncasecmp(s, bc__oses[i], n) == 0)
      return true;
  return false;
}

/* containerd's platforms.Parse, reduced to os and architecture. */
static bool bc__platform(const char *p, char **os, const char **arch) {
  const char *slash = strchr(p, '/');
  if (slash == NULL) {
    if (bc__os(p, strlen(p))) {
      *os = check__lower(p);
      *arch = "amd64";
      return true;
    }
    *arch = bc__arch(p, strlen(p));
    *os = xstrdup("linux");
    if (*arch == NULL) {
      free(*os);
      return false;
    }
    return true;
  }
  const char *s2 = strchr(slash + 1, '/');
  size_t al = s2 ? (size_t)(s2 - slash - 1) : strlen(slash + 1);
  if (!bc__os(p, (size_t)(slash - p)))
    return false;
  *arch = bc__arch(slash + 1, al);
  if (*arch == NULL)
    return false;
  *os = check__lower(p);
  (*os)[slash - p] = '\0';
  return true;
}

/* ---- FROM ------------------------------------------------------------------
 */

/* The automatic platform ARGs BuildKit gives FROM, for the linux/amd64
 * default we assume. */
static const char *const bc__platform_args[] = {"BUILDPLATFORM=linux/amd64",
                                                "BUILDOS=linux",
                                                "BUILDARCH=amd64",
                                                "BUILDVARIANT=",
                                                "TARGETPLATFORM=linux/amd64",
                                                "TARGETOS=linux",
                                                "TARGETARCH=amd64",
                                                "TARGETVARIANT=",
                                                NULL};

struct bc_global {
  struct strv kv;       /* platform args, then ARG defaults */
  struct strv declared; /* every global ARG name, with or without value */
};

static void bc__globals(struct check_ctx *c, struct bc_global *g) {
  const struct dockerfile *df = c->df;
  for (size_t i = 0; bc__platform_args[i]; i++) {
    strv_push(&g->kv, bc__platform_args[i]);
    size_t n = strcspn(bc__platform_args[i], "=");
    strv_pushn(&g->declared, bc__platform_args[i], n);
  }
  strv_push(&g->declared, "TARGETSTAGE");
  strv_push(&g->declared, "BUILDOSVERSION");
  strv_push(&g->declared, "TARGETOSVERSION");
  for (size_t i = 0; i < df->nglobal; i++) {
    const struct df_instr *in = &df->instrs[i];
    if (in->kind != DF_ARG)
      continue;
    for (size_t k = 0; k < in->nargs; k++) {
      const char *a = in->args[k].value;
      const char *eq = strchr(a, '=');
      size_t kl = eq ? (size_t)(eq - a) : strlen(a);
      if (kl == 0)
        continue;
      char *key = xstrndup(a, kl);
      strv_push(&g->declared, key);
      if (eq) {
        char *v = bc__expand(c, eq + 1, strlen(eq + 1), &g->kv, NULL, NULL);
        if (v)
          bc__kv_set(&g->kv, key, v);
        free(v);
      }
      free(key);
    }
  }
}

static void bc__from(struct check_ctx *c, const struct df_instr *in,
                     const struct df_stage *st, const struct bc_global *g) {
  if (in->nargs == 0)
    return;
  const struct df_arg *base = &in->args[0];
  /* UndefinedArgInFrom, on the image and on --platform. */
  const struct df_flag *plat = df_instr_flag_at(in, "platform");
  for (int pass = 0; pass < 2; pass++) {
    const char *w = pass == 0 ? base->value : (plat ? plat->value : NULL);
    if (w == NULL || strchr(w, '$') == NULL)
      continue;
    struct strv unset = STRV_INIT;
    char *r = bc__expand(c, w, strlen(w), &g->kv, NULL, &unset);
    free(r);
    for (size_t i = 0; i < unset.n; i++) {
      if (bc__strv_has(&g->declared, unset.v[i], strlen(unset.v[i])))
        continue;
      const char *sug = bc__suggest(unset.v[i], &g->declared, 2);
      if (sug)
        check__emit(c, RULE_UndefinedArgInFrom,
                    pass == 0 ? base->range : plat->range,
                    "FROM argument '%s' is not declared (did you mean %s?)",
                    unset.v[i], sug);
      else
        check__emit(c, RULE_UndefinedArgInFrom,
                    pass == 0 ? base->range : plat->range,
                    "FROM argument '%s' is not declared", unset.v[i]);
    }
    strv_cleanup(&unset);
  }
  /* InvalidDefaultArgInFrom: the defaults alone must give an image. */
  if (strchr(base->value, '$')) {
    char *r = bc__expand(c, base->value, base->len, &g->kv, NULL, NULL);
    if (r && !bc__reference_ok(r))
      check__emit(c, RULE_InvalidDefaultArgInFrom, base->range,
                  "Default value for ARG %s results in empty or invalid "
                  "base image name",
                  base->value);
    free(r);
  }
  if (plat && plat->value) {
    struct strv used = STRV_INIT, unset = STRV_INIT;
    char *r =
        bc__expand(c, plat->value, strlen(plat->value), &g->kv, &used, &unset);
    if (r && used.n == 1 && unset.n == 0 &&
        strcmp(used.v[0], "TARGETPLATFORM") == 0 &&
        strcmp(r, "linux/amd64") == 0) {
      struct diag *d = check__emit(
          c, RULE_RedundantTargetPlatform, plat->range,
          "Setting platform to predefined %s in FROM is redundant as this is "
          "the default behavior",
          plat->value);
      d->tags |= DIAG_TAG_UNNECESSARY;
      /* Remove the flag and the blank after it. */
      size_t s = plat->range.start.byte, e = plat->range.end.byte;
      while (e < c->len && (c->text[e] == ' ' || c->text[e] == '\t'))
        e++;
      check__fix(d, "Remove --platform", check__range(c, s, e), "");
    }
    char *os = NULL;
    const char *arch = NULL;
    if (r && used.n == 0 && unset.n == 0 && bc__platform(r, &os, &arch)) {
      const char *name = st->name ? st->name : "";
      if (strstr(name, os) == NULL && strstr(name, arch) == NULL)
        check__emit(c, RULE_FromPlatformFlagConstDisallowed, plat->range,
                    "FROM --platform flag should not use constant value "
                    "\"%s\"",
                    r);
      free(os);
    }
    free(r);
    strv_cleanup(&used);
    strv_cleanup(&unset);
  }
}

/* ---- stage state
 * ------------------------------------------------------------ */

struct bc_stage {
  struct strv kv;       /* ENV and ARG values the instructions see */
  struct strv declared; /* ARG names declared in the stage (or base) */
  bool from_image;      /* rooted in an image (not scratch) */
  bool workdir_set;
  bool shell_set;
  bool done;
};

static void bc__stage_cleanup(struct bc_stage *s) {
  strv_cleanup(&s->kv);
  strv_cleanup(&s->declared);
}

/* Reports the unset names a word uses, as BuildKit's UndefinedVar. */
static void bc__undefined(struct check_ctx *c, struct bc_stage *st,
                          const struct df_arg *arg, const char *word,
                          size_t len, struct strv *seen) {
  if (memchr(word, '$', len) == NULL)
    return;
  struct strv unset = STRV_INIT;
  char *r = bc__expand(c, word, len, &st->kv, NULL, &unset);
  free(r);
  for (size_t i = 0; i < unset.n; i++) {
    const char *name = unset.v[i];
    size_t n = strlen(name);
    if (bc__strv_has(&st->declared, name, n) || bc__strv_has(seen, name, n) ||
        strcmp(name, "PATH") == 0)
      continue;
    /* ${NAME:-default} and friends say what happens when NAME is unset. */
    struct buf pat = BUF_INIT;
    buf_printf(&pat, "${%s", name);
    const char *hit = memmem(word, len, pat.data, pat.len);
    buf_cleanup(&pat);
    if (hit && strchr(":-+?", hit[n + 2]) && hit[n + 2] != '\0')
      continue;
    strv_push(seen, name);
    const char *sug = bc__suggest(name, &st->kv, 2);
    if (sug == NULL)
      sug = bc__suggest(name, &st->declared, 2);
    size_t sl = sug ? strcspn(sug, "=") : 0;
    if (st->from_image) {
      /* The image may define it: report only a likely typo. */
      if (sug == NULL)
        continue;
      char *k = xstrndup(sug, sl);
      unsigned d = check__distance(name, k);
      free(k);
      if (d > 1)
        continue;
    }
    if (sug)
      check__emit(c, RULE_UndefinedVar, arg->range,
                  "Usage of undefined variable '$%s' (did you mean $%.*s?)",
                  name, (int)sl, sug);
    else
      check__emit(c, RULE_UndefinedVar, arg->range,
                  "Usage of undefined variable '$%s'", name);
  }
  strv_cleanup(&unset);
}

static bool bc__is_heredoc(const char *word) {
  struct df_heredoc hd;
  char *msg = NULL;
  int rc = dockerfile_heredoc_word(word, &hd, &msg);
  if (rc == 1)
    free(hd.name);
  free(msg);
  return rc != 0;
}

/* The words BuildKit expands in an instruction, checked for undefined
 * variables against the state before the instruction. */
static void bc__words(struct check_ctx *c, struct bc_stage *st,
                      const struct df_instr *in) {
  struct strv seen = STRV_INIT;
  switch (in->kind) {
  case DF_ADD:
  case DF_COPY:
    for (size_t i = 0; i < in->nargs; i++)
      if (in->form == DF_FORM_JSON || !bc__is_heredoc(in->args[i].value))
        bc__undefined(c, st, &in->args[i], in->args[i].value, in->args[i].len,
                      &seen);
    break;
  case DF_ENV:
  case DF_LABEL:
    for (size_t i = 0; i + 1 < in->nargs; i += 3) {
      if (in->kind == DF_LABEL)
        bc__undefined(c, st, &in->args[i], in->args[i].value, in->args[i].len,
                      &seen);
      bc__undefined(c, st, &in->args[i + 1], in->args[i + 1].value,
                    in->args[i + 1].len, &seen);
    }
    break;
  case DF_ARG:
    for (size_t i = 0; i < in->nargs; i++) {
      const char *eq = strchr(in->args[i].value, '=');
      if (eq)
        bc__undefined(c, st, &in->args[i], eq + 1, strlen(eq + 1), &seen);
    }
    break;
  case DF_EXPOSE:
  case DF_STOPSIGNAL:
  case DF_USER:
  case DF_VOLUME:
  case DF_WORKDIR:
    for (size_t i = 0; i < in->nargs; i++)
      bc__undefined(c, st, &in->args[i], in->args[i].value, in->args[i].len,
                    &seen);
    break;
  default:
    break;
  }
  strv_cleanup(&seen);
}

/* What an instruction changes in the state. */
static void bc__apply(struct check_ctx *c, struct bc_stage *st,
                      const struct df_instr *in, const struct bc_global *g) {
  if (in->kind == DF_ENV) {
    for (size_t i = 0; i + 1 < in->nargs; i += 3) {
      char *v = bc__expand(c, in->args[i + 1].value, in->args[i + 1].len,
                           &st->kv, NULL, NULL);
      bc__kv_set(&st->kv, in->args[i].value, v ? v : "");
      free(v);
    }
  } else if (in->kind == DF_ARG) {
    for (size_t i = 0; i < in->nargs; i++) {
      const char *a = in->args[i].value;
      const char *eq = strchr(a, '=');
      char *key = eq ? xstrndup(a, (size_t)(eq - a)) : xstrdup(a);
      strv_push(&st->declared, key);
      char *v = NULL;
      if (eq)
        v = bc__expand(c, eq + 1, strlen(eq + 1), &st->kv, NULL, NULL);
      else if (bc__kv_get(&g->kv, key))
        v = xstrdup(bc__kv_get(&g->kv, key));
      if (v)
        bc__kv_set(&st->kv, key, v);
      free(v);
      free(key);
    }
  } else if (in->kind == DF_SHELL) {
    st->shell_set = true;
  }
}

static bool bc__absolute(const char *p) {
  if (p[0] == '/' || p[0] == '\\')
    return true;
  /* Windows images: C:\ or C:/ */
  return ((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z')) &&
         p[1] == ':';
}

static void bc__workdir(struct check_ctx *c, struct bc_stage *st,
                        const struct df_instr *in) {
  if (in->nargs != 1 || st->workdir_set) {
    st->workdir_set = true;
    return;
  }
  st->workdir_set = true;
  struct strv unset = STRV_INIT;
  char *r =
      bc__expand(c, in->args[0].value, in->args[0].len, &st->kv, NULL, &unset);
  bool known = r && unset.n == 0;
  if (known && !bc__absolute(r)) {
    struct diag *d = check__emit(
        c, RULE_WorkdirRelativePath, in->args[0].range,
        "Relative workdir \"%s\" can have unexpected results if the base "
        "image changes",
        in->args[0].value);
    if (in->args[0].value[0] != '"' && in->args[0].value[0] != '\'')
      check__fix(d, "Make the path absolute",
                 check__at(in->args[0].range.start), "/");
  }
  free(r);
  strv_cleanup(&unset);
}

/* ---- one stage
 * ---------------------------------------------------------------- */

struct bc_tracker {
  const struct df_instr *last;
};

static void bc__once(struct check_ctx *c, struct bc_tracker *t,
                     const struct df_instr *in) {
  if (t->last) {
    char *up = check__upper(df_kind_name(in->kind));
    struct diag *d = check__emit(
        c, RULE_MultipleInstructionsDisallowed, t->last->range,
        "Multiple %s instructions should not be used in the same stage "
        "because only the last one will be used",
        up);
    d->tags |= DIAG_TAG_UNNECESSARY;
    check__related(d, in->range, "the %s that takes effect", up);
    /* Remove the whole lines of the earlier instruction. */
    size_t s = c->line_start[t->last->range.start.row];
    size_t er = t->last->range.end.row + 1;
    size_t e = er < c->nlines ? c->line_start[er] : c->len;
    struct buf title = BUF_INIT;
    buf_printf(&title, "Remove this %s", up);
    check__fix(d, buf_cstr(&title), check__range(c, s, e), "");
    buf_cleanup(&title);
    free(up);
  }
  t->last = in;
}

static bool bc__simple_words(const char *s) {
  return strpbrk(s, "\"'\\$`|&;<>(){}*?[]~#=\n") == NULL;
}

static void bc__json_args(struct check_ctx *c, const struct bc_stage *st,
                          const struct df_instr *in) {
  if (in->form != DF_FORM_SHELL || st->shell_set)
    return;
  char *up = check__upper(df_kind_name(in->kind));
  struct diag *d =
      check__emit(c, RULE_JSONArgsRecommended, in->args_range,
                  "JSON arguments recommended for %s to prevent unintended "
                  "behavior related to OS signals",
                  up);
  const char *v = in->args[0].value;
  if (in->nargs == 1 && bc__simple_words(v) &&
      in->range.start.row == in->range.end.row) {
    struct buf b = BUF_INIT;
    check__words_as_json(&b, v);
    check__fix(d, "Use the JSON (exec) form", in->args_range, buf_cstr(&b));
    buf_cleanup(&b);
  }
  free(up);
}

/* BuildKit's secretsRegexp: a token bounded by '_' or the ends. */
static bool bc__secret_name(const char *key) {
  static const char *const deny[] = {
      "apikey", "auth",   "credential", "credentials", "key", "password",
      "pword",  "passwd", "secret",     "token",       NULL};
  bool secret = false, allowed = false;
  const char *p = key;
  while (*p) {
    const char *e = strchr(p, '_');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    for (size_t i = 0; deny[i]; i++)
      if (strlen(deny[i]) == n && strncasecmp(p, deny[i], n) == 0)
        secret = true;
    if (n == 6 && strncasecmp(p, "public", 6) == 0)
      allowed = true;
    p += n;
    if (*p == '_')
      p++;
  }
  return secret && !allowed;
}

static void bc__keyval(struct check_ctx *c, const struct df_instr *in) {
  const char *kw = in->kind == DF_ENV ? "ENV" : "LABEL";
  bool legacy = false;
  for (size_t i = 0; i + 2 < in->nargs; i += 3) {
    if (in->args[i + 2].len == 0)
      legacy = true;
    if (in->kind == DF_ENV && bc__secret_name(in->args[i].value))
      check__emit(c, RULE_SecretsUsedInArgOrEnv, in->args[i].range,
                  "Do not use ARG or ENV instructions for sensitive data "
                  "(ENV \"%s\")",
                  in->args[i].value);
  }
  if (!legacy)
    return;
  struct diag *d = check__emit(c, RULE_LegacyKeyValueFormat, in->args_range,
                               "\"%s key=value\" should be used instead of "
                               "legacy \"%s key value\" format",
                               kw, kw);
  if (in->nargs != 3)
    return;
  const struct df_arg *k = &in->args[0], *v = &in->args[1];
  if (k->range.end.row != v->range.end.row)
    return;
  struct buf nt = BUF_INIT;
  if (strpbrk(v->value, " \t") == NULL)
    buf_printf(&nt, "=%s", v->value);
  else if (strpbrk(v->value, "\"'\\$`") == NULL)
    buf_printf(&nt, "=\"%s\"", v->value);
  if (nt.len)
    check__fix(d, "Use key=value",
               check__range(c, k->range.end.byte, v->range.end.byte),
               buf_cstr(&nt));
  buf_cleanup(&nt);
}

static void bc__expose(struct check_ctx *c, const struct df_instr *in) {
  for (size_t i = 0; i < in->nargs; i++) {
    const struct df_arg *a = &in->args[i];
    const char *colon = strrchr(a->value, ':');
    if (colon && strchr(a->value, '$') == NULL) {
      struct diag *d = check__emit(
          c, RULE_ExposeInvalidFormat, a->range,
          "EXPOSE instruction should not define an IP address or host-port "
          "mapping, found '%s'",
          a->value);
      if (a->range.end.byte - a->range.start.byte == a->len)
        check__fix(d, "Keep only the container port", a->range, colon + 1);
    }
    const char *slash = strchr(a->value, '/');
    if (slash && check__has_upper(slash + 1)) {
      struct diag *d = check__emit(
          c, RULE_ExposeProtoCasing, a->range,
          "Defined protocol '%s' in EXPOSE instruction should be lowercase",
          a->value);
      if (a->range.end.byte - a->range.start.byte == a->len) {
        char *low = check__lower(a->value);
        check__fix(d, "Lower-case the protocol", a->range, low);
        free(low);
      }
    }
  }
}

static void bc__copy_ignored(struct check_ctx *c, const struct df_instr *in,
                             const struct dockerignore *di) {
  if (in->kind == DF_COPY && df_instr_flag_at(in, "from"))
    return;
  const char *cmd = in->kind == DF_ADD ? "Add" : "Copy";
  for (size_t i = 0; i + 1 < in->nargs; i++) {
    const struct df_arg *a = &in->args[i];
    const char *v = a->value;
    if (strchr(v, '$') || strstr(v, "://") || strncmp(v, "git@", 4) == 0 ||
        (in->form != DF_FORM_JSON && bc__is_heredoc(v)))
      continue;
    /* "." is the whole context: .dockerignore is doing its job there. */
    if (strcmp(v, ".") == 0 || strcmp(v, "./") == 0 || strcmp(v, "/") == 0)
      continue;
    if (dockerignore_excludes(di, v))
      check__emit(c, RULE_CopyIgnoredFile, a->range,
                  "Attempting to %s file \"%s\" that is excluded by "
                  ".dockerignore",
                  cmd, v);
  }
}

static void bc__stages(struct check_ctx *c, const struct bc_global *g,
                       const struct dockerignore *di) {
  const struct dockerfile *df = c->df;
  struct bc_stage *states =
      xcalloc(df->nstages ? df->nstages : 1, sizeof(*states));
  for (size_t s = 0; s < df->nstages; s++) {
    const struct df_stage *stage = &df->stages[s];
    struct bc_stage *st = &states[s];
    const struct df_instr *from = &df->instrs[stage->from_instr];
    bc__from(c, from, stage, g);
    /* Inherit from an earlier stage named as the base. */
    st->from_image = true;
    if (stage->base) {
      char *base = check__lower(stage->base);
      if (strcmp(base, "scratch") == 0)
        st->from_image = false;
      /* The nearest earlier stage of that name. */
      size_t nnamed;
      const size_t *named = check__stages_named(c, base, &nnamed);
      for (size_t k = nnamed; k-- > 0;) {
        size_t b = named[k];
        if (b < s) {
          bc__strv_copy(&st->kv, &states[b].kv);
          bc__strv_copy(&st->declared, &states[b].declared);
          st->from_image = states[b].from_image;
          st->workdir_set = states[b].workdir_set;
          st->shell_set = states[b].shell_set;
          break;
        }
      }
      free(base);
    }
    struct bc_tracker cmd = {NULL}, entry = {NULL}, health = {NULL};
    for (size_t i = stage->from_instr + 1;
         i < stage->from_instr + stage->ninstrs; i++) {
      const struct df_instr *in = &df->instrs[i];
      if (in->invalid)
        continue;
      bc__words(c, st, in);
      switch (in->kind) {
      case DF_CMD:
        bc__once(c, &cmd, in);
        bc__json_args(c, st, in);
        break;
      case DF_ENTRYPOINT:
        bc__once(c, &entry, in);
        bc__json_args(c, st, in);
        break;
      case DF_HEALTHCHECK:
        bc__once(c, &health, in);
        break;
      case DF_WORKDIR:
        bc__workdir(c, st, in);
        break;
      case DF_ENV:
      case DF_LABEL:
        bc__keyval(c, in);
        break;
      case DF_ARG:
        for (size_t k = 0; k < in->nargs; k++) {
          char *key =
              xstrndup(in->args[k].value, strcspn(in->args[k].value, "="));
          if (bc__secret_name(key))
            check__emit(c, RULE_SecretsUsedInArgOrEnv, in->args[k].range,
                        "Do not use ARG or ENV instructions for sensitive "
                        "data (ARG \"%s\")",
                        key);
          free(key);
        }
        break;
      case DF_MAINTAINER: {
        struct diag *d = check__emit(
            c, RULE_MaintainerDeprecated, in->keyword_range,
            "Maintainer instruction is deprecated in favor of using label");
        d->tags |= DIAG_TAG_DEPRECATED;
        if (in->nargs == 1 && strpbrk(in->args[0].value, "\"\\$") == NULL &&
            in->range.start.row == in->range.end.row) {
          struct buf b = BUF_INIT;
          buf_printf(&b, "LABEL org.opencontainers.image.authors=\"%s\"",
                     in->args[0].value);
          check__fix(d, "Use a LABEL", in->range, buf_cstr(&b));
          buf_cleanup(&b);
        }
        break;
      }
      case DF_EXPOSE:
        bc__expose(c, in);
        break;
      case DF_ADD:
      case DF_COPY:
        if (di)
          bc__copy_ignored(c, in, di);
        break;
      default:
        break;
      }
      bc__apply(c, st, in, g);
    }
  }
  for (size_t s = 0; s < df->nstages; s++)
    bc__stage_cleanup(&states[s]);
  free(states);
}

/* ---- whole-file checks
 * ------------------------------------------------------ */

static void bc__stage_names(struct check_ctx *c) {
  const struct dockerfile *df = c->df;
  for (size_t s = 0; s < df->nstages; s++) {
    const struct df_stage *st = &df->stages[s];
    if (st->name == NULL)
      continue;
    const struct df_instr *from = &df->instrs[st->from_instr];
    const struct df_arg *as = &from->args[1], *name = &from->args[2];
    if (check__has_upper(name->value)) {
      struct diag *d =
          check__emit(c, RULE_StageNameCasing, name->range,
                      "Stage name '%s' should be lowercase", name->value);
      check__fix(d, "Lower-case the stage name", name->range, st->name);
    }
    /* FromAsCasing: FROM in one case, AS in the other. */
    const char *fkw = from->keyword;
    bool from_lower = !check__has_upper(fkw),
         from_upper = !check__has_lower(fkw);
    bool bad = (from_lower && check__has_upper(as->value)) ||
               (from_upper && !from_lower && check__has_lower(as->value));
    if (bad) {
      struct diag *d = check__emit(c, RULE_FromAsCasing, as->range,
                                   "'%s' and '%s' keywords' casing do not "
                                   "match",
                                   as->value, fkw);
      check__fix(d, from_lower ? "Change to 'as'" : "Change to 'AS'",
                 as->range, from_lower ? "as" : "AS");
    }
    if (strcmp(st->name, "context") == 0 || strcmp(st->name, "scratch") == 0)
      check__emit(c, RULE_ReservedStageName, name->range,
                  "Stage name should not use the same name as reserved stage "
                  "\"%s\"",
                  st->name);
    size_t nnamed;
    const size_t *named = check__stages_named(c, st->name, &nnamed);
    if (nnamed > 0 && named[0] < s) {
      size_t k = named[0]; /* the first definition */
      struct diag *d =
          check__emit(c, RULE_DuplicateStageName, name->range,
                      "Duplicate stage name \"%s\", stage names should be "
                      "unique",
                      st->name);
      check__related(d, df->stages[k].name_range,
                     "stage \"%s\" is first defined here", st->name);
    }
  }
}

/* ConsistentInstructionCasing: the majority casing of the stages'
 * instructions (global ARGs are not part of a stage, as in BuildKit). */
static void bc__casing(struct check_ctx *c) {
  const struct dockerfile *df = c->df;
  size_t lower, upper;
  check__keyword_casing(df, &lower, &upper);
  bool major_lower = lower > upper;
  for (size_t i = df->nglobal; i < df->ninstrs; i++) {
    const struct df_instr *in = &df->instrs[i];
    if (in->kind == DF_UNKNOWN)
      continue;
    const char *kw = in->keyword;
    bool bad = major_lower ? check__has_upper(kw) : check__has_lower(kw);
    if (!bad)
      continue;
    char *fixed = major_lower ? check__lower(kw) : check__upper(kw);
    struct diag *d = check__emit(
        c, RULE_ConsistentInstructionCasing, in->keyword_range,
        "Command '%s' should match the case of the command majority (%s)", kw,
        major_lower ? "lowercase" : "uppercase");
    struct buf t = BUF_INIT;
    buf_printf(&t, "Change to %s", fixed);
    check__fix(d, buf_cstr(&t), in->keyword_range, fixed);
    buf_cleanup(&t);
    free(fixed);
  }
}

/* NoEmptyContinuation, at the first blank line inside the continuation. */
static void bc__empty_continuation(struct check_ctx *c) {
  const struct dockerfile *df = c->df;
  for (size_t i = 0; i < df->ninstrs; i++) {
    const struct df_instr *in = &df->instrs[i];
    if (!in->empty_continuation)
      continue;
    uint32_t last = in->range.end.row;
    if (in->nheredocs > 0 && in->heredocs[0].body.start.row > 0)
      last = in->heredocs[0].body.start.row - 1;
    struct df_range at = in->range;
    bool found = false;
    for (uint32_t r = in->range.start.row + 1; r <= last && r < c->nlines;
         r++) {
      size_t s = c->line_start[r];
      size_t e = r + 1 < c->nlines ? c->line_start[r + 1] : c->len;
      size_t k = s;
      while (k < e && (c->text[k] == ' ' || c->text[k] == '\t' ||
                       c->text[k] == '\r' || c->text[k] == '\n'))
        k++;
      if (k == e && e > s) {
        at = check__range(c, s, e);
        found = true;
        break;
      }
    }
    struct diag *d = check__emit(c, RULE_NoEmptyContinuation,
                                 found ? check__at(at.start) : in->range,
                                 "Empty continuation line");
    if (found)
      check__fix(d, "Remove the empty line", at, "");
  }
}

void check_buildchecks(struct check_ctx *c) {
  struct bc_global g = {STRV_INIT, STRV_INIT};
  bc__globals(c, &g);
  struct dockerignore *di =
      c->in->dockerignore
          ? dockerignore_new(c->in->dockerignore, c->in->dockerignore_len)
          : NULL;
  bc__stage_names(c);
  bc__casing(c);
  bc__empty_continuation(c);
  bc__stages(c, &g, di);
  dockerignore_free(di);
  strv_cleanup(&g.kv);
  strv_cleanup(&g.declared);
}
