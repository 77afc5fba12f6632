/*
 * locate.c - positions in a Dockerfile and the variables in scope there.
 * See locate.h.
 *
 * Variables follow BuildKit's scoping (dispatch.go): a FROM line sees the
 * global ARGs declared above it and the automatic platform ARGs; inside a
 * stage only what the stage declares above the line is in scope: its ENVs,
 * its ARGs (a bare `ARG NAME` takes the global's default, or the automatic
 * ARG's value), and the ENVs of the stage it is built FROM when that is an
 * earlier stage.  An ENV wins over an ARG of the same name whatever the
 * order.  RUN also sees the predefined proxy ARGs.
 */
#include "locate.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../model/expand.h"
#include "../../model/knowledge.h"

bool locate_is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_';
}

static bool locate__blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

/* Is the line [p, e) a parser directive ("# name=value")? */
static bool locate__directive_line(const char *p, const char *e) {
  while (p < e && locate__blank(*p))
    p++;
  if (p == e || *p != '#')
    return false;
  p++;
  while (p < e && locate__blank(*p))
    p++;
  const char *name = p;
  while (p < e && locate_is_name_char(*p))
    p++;
  if (p == name)
    return false;
  while (p < e && locate__blank(*p))
    p++;
  return p < e && *p == '=';
}

/* The cursor's line is a comment: is it still in the directive block (every
 * line above it a directive)?  BuildKit stops looking for directives at the
 * first line that is not one. */
static bool locate__in_directives(const struct locate *l) {
  const char *t = l->text;
  size_t p = 0;
  while (p < l->line_start) {
    const char *nl = memchr(t + p, '\n', l->line_start - p);
    size_t e = nl ? (size_t)(nl - t) : l->line_start;
    if (!locate__directive_line(t + p, t + e))
      return false;
    p = e + 1;
  }
  return true;
}

/* The instruction whose text holds off: its range, or the end of its last
 * line (the cursor sits after the last character while typing). */
static const struct df_instr *locate__instr(const struct dockerfile *df,
                                            size_t off, size_t *index) {
  /* Binary search for the last instruction starting at or before off. */
  size_t lo = 0, hi = df->ninstrs;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (df->instrs[mid].range.start.byte <= off)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0)
    return NULL;
  const struct df_instr *in = &df->instrs[lo - 1];
  if (off > in->range.end.byte)
    return NULL;
  *index = lo - 1;
  return in;
}

/* Splits [from, to) into words like the shell would for the purpose of
 * counting: blanks and line continuations separate, quotes keep blanks.
 * Returns the number of words and of those starting with "--" before the
 * first that does not. */
static void locate__count_words(struct locate *l, size_t from, size_t to) {
  const char *t = l->text;
  char esc = l->df->escape;
  size_t n = 0, nflags = 0;
  bool flags = true;
  size_t p = from;
  while (p < to) {
    char c = t[p];
    if (locate__blank(c) || c == '\n') {
      p++;
      continue;
    }
    if (c == esc && p + 1 < to && (t[p + 1] == '\n' || t[p + 1] == '\r')) {
      p += 2;
      continue;
    }
    /* A word. */
    size_t start = p;
    char quote = 0;
    while (p < to) {
      c = t[p];
      if (quote) {
        if (c == quote)
          quote = 0;
        else if (c == esc && quote == '"' && p + 1 < to)
          p++;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == esc && p + 1 < to && t[p + 1] != '\n') {
        p++;
      } else if (locate__blank(c) || c == '\n') {
        break;
      }
      p++;
    }
    n++;
    if (flags && p - start >= 2 && t[start] == '-' && t[start + 1] == '-')
      nflags++;
    else
      flags = false;
  }
  l->nwords_before = n;
  l->nflags_before = nflags;
  l->flags_region = flags;
}

void locate_at(struct locate *l, const struct dockerfile *df, const char *text,
               size_t len, size_t off) {
  memset(l, 0, sizeof(*l));
  l->df = df;
  l->text = text;
  l->len = len;
  if (off > len)
    off = len;
  l->off = off;
  size_t ls = off;
  while (ls > 0 && text[ls - 1] != '\n')
    ls--;
  l->line_start = ls;
  /* The word around the cursor. */
  size_t ws = off, we = off;
  while (ws > ls && !locate__blank(text[ws - 1]))
    ws--;
  while (we < len && !locate__blank(text[we]) && text[we] != '\n')
    we++;
  l->word_start = ws;
  l->word_end = we;

  size_t index = 0;
  const struct df_instr *in = locate__instr(df, off, &index);
  for (size_t i = 0; in && i < in->nheredocs; i++) {
    const struct df_range *b = &in->heredocs[i].body;
    if (off >= b->start.byte && off < b->end.byte) {
      l->where = LOCATE_HEREDOC;
      return;
    }
  }
  /* A comment line (outside any instruction, or inside a continuation). */
  size_t first = ls;
  while (first < off && locate__blank(text[first]))
    first++;
  if (first < len && text[first] == '#' &&
      (in == NULL || in->range.start.byte < ls)) {
    l->where = locate__in_directives(l) && in == NULL ? LOCATE_DIRECTIVE
                                                      : LOCATE_COMMENT;
    return;
  }
  if (in == NULL) {
    l->where = first == off && ws == off ? LOCATE_NOWHERE : LOCATE_KEYWORD;
    if (ws < first)
      l->word_start = first;
    return;
  }
  l->top = in;
  l->top_index = index;
  l->instr = in;
  if (off <= in->keyword_range.end.byte) {
    l->where = LOCATE_KEYWORD;
    l->word_start = in->keyword_range.start.byte;
    return;
  }
  l->where = LOCATE_ARGS;
  l->args_start = in->keyword_range.end.byte;
  /* ONBUILD's trigger: once the cursor is past the trigger's keyword, the
   * trigger is the instruction. */
  if (in->kind == DF_ONBUILD && in->sub && in->sub->kind != DF_UNKNOWN &&
      off > in->sub->keyword_range.end.byte) {
    l->instr = in->sub;
    l->args_start = in->sub->keyword_range.end.byte;
  }
  locate__count_words(l, l->args_start,
                      ws > l->args_start ? ws : l->args_start);
}

const struct df_stage *locate_stage(const struct dockerfile *df, size_t i) {
  for (size_t s = df->nstages; s-- > 0;) {
    const struct df_stage *st = &df->stages[s];
    if (i >= st->from_instr)
      return i < st->from_instr + st->ninstrs ? st : NULL;
  }
  return NULL;
}

const struct df_stage *locate_stage_named(const struct dockerfile *df,
                                          const char *name, size_t len,
                                          size_t before) {
  bool digits = len > 0;
  size_t idx = 0;
  for (size_t i = 0; i < len; i++) {
    if (name[i] < '0' || name[i] > '9')
      digits = false;
    else if (idx < 100000)
      idx = idx * 10 + (size_t)(name[i] - '0');
  }
  for (size_t s = 0; s < df->nstages; s++) {
    const struct df_stage *st = &df->stages[s];
    if (st->from_instr >= before)
      break;
    if (digits ? st->index == idx
               : st->name && strlen(st->name) == len &&
                     strncasecmp(st->name, name, len) == 0)
      return st;
  }
  return NULL;
}

/* ---- variables --------------------------------------------------------- */

const struct locate_var *locate_var_find(const struct locate_vars *vs,
                                         const char *name, size_t len) {
  for (size_t i = 0; i < vs->n; i++)
    if (strlen(vs->v[i].name) == len && memcmp(vs->v[i].name, name, len) == 0)
      return &vs->v[i];
  return NULL;
}

/* The environment of expand_word: the variables declared so far. */
static const char *locate__lookup(void *ctx, const char *name, size_t len) {
  const struct locate_var *v = locate_var_find(ctx, name, len);
  return v ? v->value : NULL;
}

/* Adds or replaces a variable.  An ARG never replaces an ENV.  A value
 * written in the Dockerfile (`written`) is expanded as BuildKit expands it
 * there, with the variables declared so far (quotes removed, ${...}
 * applied); references to what the Dockerfile does not set (the base
 * image's PATH) stay as written. */
static void locate__put(struct locate_vars *vs, const char *name, size_t nlen,
                        const char *value, size_t vlen, bool has_value,
                        bool written, enum locate_var_origin origin,
                        uint32_t line, const char *stage,
                        struct df_range range) {
  char *resolved = NULL;
  if (has_value && written) {
    struct expand_opts opts = {vs->escape, EXPAND_SKIP_UNSET};
    struct expand_env env = {locate__lookup, vs};
    struct err err;
    err_clear(&err);
    if (expand_word(value, vlen, &opts, &env, NULL, &resolved, &err) < 0)
      resolved = NULL; /* BuildKit would refuse it: show it as written */
  }
  struct locate_var *v = (struct locate_var *)locate_var_find(vs, name, nlen);
  if (v != NULL && v->origin == LOCATE_VAR_ENV && origin == LOCATE_VAR_ARG) {
    free(resolved);
    return;
  }
  if (v == NULL) {
    if (vs->n == vs->cap) {
      size_t cap = vs->cap ? vs->cap * 2 : 16;
      vs->v = arena_realloc(&vs->arena, vs->v, vs->cap * sizeof(*vs->v),
                            cap * sizeof(*vs->v));
      vs->cap = cap;
    }
    v = &vs->v[vs->n++];
    v->name = arena_strndup(&vs->arena, name, nlen);
  }
  v->raw = NULL;
  if (resolved) {
    v->value = arena_strdup(&vs->arena, resolved);
    if (strlen(resolved) != vlen || memcmp(resolved, value, vlen) != 0)
      v->raw = arena_strndup(&vs->arena, value, vlen);
    free(resolved);
  } else {
    v->value = has_value ? arena_strndup(&vs->arena, value, vlen) : NULL;
  }
  v->origin = origin;
  v->line = line;
  v->stage = stage;
  v->range = range;
}

/* One ARG instruction's declarations; `globals` gives bare names their
 * global default. */
static void locate__arg(struct locate_vars *vs, const struct df_instr *in,
                        const struct locate_vars *globals, bool automatic) {
  size_t nauto;
  const struct know_arg *autos = know_auto_args(&nauto);
  for (size_t a = 0; a < in->nargs; a++) {
    const char *w = in->args[a].value;
    const char *eq = strchr(w, '=');
    size_t nlen = eq ? (size_t)(eq - w) : strlen(w);
    if (eq) {
      locate__put(vs, w, nlen, eq + 1, strlen(eq + 1), true, true,
                  LOCATE_VAR_ARG, in->start_line, NULL, in->args[a].range);
      continue;
    }
    const struct locate_var *g =
        globals ? locate_var_find(globals, w, nlen) : NULL;
    enum locate_var_origin origin = LOCATE_VAR_ARG;
    const char *val = g ? g->value : NULL;
    for (size_t k = 0; automatic && val == NULL && k < nauto; k++)
      if (strcmp(autos[k].name, w) == 0) {
        val = autos[k].example;
        origin = LOCATE_VAR_AUTOMATIC;
      }
    locate__put(vs, w, nlen, val, val ? strlen(val) : 0, val != NULL, false,
                origin, in->start_line, NULL, in->args[a].range);
  }
}

static void locate__env(struct locate_vars *vs, const struct df_instr *in,
                        const char *stage) {
  for (size_t a = 0; a + 1 < in->nargs; a += 3) {
    const struct df_arg *k = &in->args[a], *v = &in->args[a + 1];
    locate__put(vs, k->value, k->len, v->value, v->len, true, true,
                LOCATE_VAR_ENV, in->start_line, stage, k->range);
  }
}

/* The ENVs a stage ends with, its parents' first, each with the value it
 * has there (expanded with that stage's own ARGs, which do not carry
 * over). */
static void locate__stage_env(struct locate_vars *vs,
                              const struct dockerfile *df,
                              const struct df_stage *st,
                              const struct locate_vars *globals,
                              unsigned depth) {
  if (depth > 64)
    return;
  struct locate_vars scope;
  memset(&scope, 0, sizeof(scope));
  arena_init(&scope.arena);
  scope.escape = df->escape;
  if (st->base) {
    const struct df_stage *parent =
        locate_stage_named(df, st->base, strlen(st->base), st->from_instr);
    if (parent && parent != st)
      locate__stage_env(&scope, df, parent, globals, depth + 1);
  }
  const char *label = st->name;
  for (size_t i = st->from_instr + 1; i < st->from_instr + st->ninstrs; i++) {
    const struct df_instr *in = &df->instrs[i];
    if (in->kind == DF_ARG)
      locate__arg(&scope, in, globals, true);
    else if (in->kind == DF_ENV)
      locate__env(&scope, in, label);
  }
  for (size_t i = 0; i < scope.n; i++) {
    const struct locate_var *v = &scope.v[i];
    if (v->origin != LOCATE_VAR_ENV)
      continue;
    locate__put(vs, v->name, strlen(v->name), v->value, strlen(v->value), true,
                false, LOCATE_VAR_ENV, v->line,
                v->stage ? arena_strdup(&vs->arena, v->stage) : NULL,
                v->range);
    struct locate_var *copy =
        (struct locate_var *)locate_var_find(vs, v->name, strlen(v->name));
    if (v->raw && copy)
      copy->raw = arena_strdup(&vs->arena, v->raw);
  }
  arena_cleanup(&scope.arena);
}

void locate_vars(struct locate_vars *out, const struct dockerfile *df,
                 size_t index) {
  memset(out, 0, sizeof(*out));
  arena_init(&out->arena);
  out->escape = df->escape;
  if (index >= df->ninstrs)
    index = df->ninstrs;
  const struct df_instr *at = index < df->ninstrs ? &df->instrs[index] : NULL;
  struct locate_vars globals;
  memset(&globals, 0, sizeof(globals));
  arena_init(&globals.arena);
  globals.escape = df->escape;
  size_t gend = index < df->nglobal ? index : df->nglobal;
  for (size_t i = 0; i < gend; i++)
    if (df->instrs[i].kind == DF_ARG)
      locate__arg(&globals, &df->instrs[i], &globals, false);

  const struct df_stage *st = locate_stage(df, index);
  if (st == NULL || (at && at->kind == DF_FROM)) {
    /* The global scope: FROM lines and the global ARGs themselves. */
    for (size_t i = 0; i < globals.n; i++) {
      const struct locate_var *g = &globals.v[i];
      locate__put(out, g->name, strlen(g->name), g->value,
                  g->value ? strlen(g->value) : 0, g->value != NULL, false,
                  LOCATE_VAR_ARG, g->line, NULL, g->range);
      struct locate_var *copy =
          (struct locate_var *)locate_var_find(out, g->name, strlen(g->name));
      if (g->raw && copy)
        copy->raw = arena_strdup(&out->arena, g->raw);
    }
    if (at && at->kind == DF_FROM) {
      size_t nauto;
      const struct know_arg *autos = know_auto_args(&nauto);
      struct df_range none;
      memset(&none, 0, sizeof(none));
      for (size_t k = 0; k < nauto; k++)
        if (locate_var_find(out, autos[k].name, strlen(autos[k].name)) == NULL)
          locate__put(out, autos[k].name, strlen(autos[k].name),
                      autos[k].example, strlen(autos[k].example), true, false,
                      LOCATE_VAR_AUTOMATIC, 0, NULL, none);
    }
    arena_cleanup(&globals.arena);
    return;
  }
  if (st->base) {
    const struct df_stage *parent =
        locate_stage_named(df, st->base, strlen(st->base), st->from_instr);
    if (parent && parent != st)
      locate__stage_env(out, df, parent, &globals, 0);
  }
  for (size_t i = st->from_instr + 1; i < index; i++) {
    const struct df_instr *in = &df->instrs[i];
    if (in->kind == DF_ARG)
      locate__arg(out, in, &globals, true);
    else if (in->kind == DF_ENV)
      locate__env(out, in, NULL);
  }
  const struct df_instr *run = at;
  if (run && run->kind == DF_ONBUILD && run->sub)
    run = run->sub;
  if (run && run->kind == DF_RUN) {
    struct df_range none;
    memset(&none, 0, sizeof(none));
    for (const char *const *p = know_proxy_args(); *p; p++)
      if (locate_var_find(out, *p, strlen(*p)) == NULL)
        locate__put(out, *p, strlen(*p), NULL, 0, false, false,
                    LOCATE_VAR_PROXY, 0, NULL, none);
  }
  arena_cleanup(&globals.arena);
}

void locate_vars_cleanup(struct locate_vars *out) {
  arena_cleanup(&out->arena);
  memset(out, 0, sizeof(*out));
}
