/*
 * analysis.c - analysis_run: runs every check family over one Dockerfile,
 * then applies what the user asked for, in this order:
 *
 *   1. `# check=skip=...;error=true` (BuildKit's directive) on the rules
 *      flagged RULE_F_CHECK: skip drops them, error=true raises them to
 *      errors, as BuildKit fails the build on them;
 *   2. the configuration (analysis_config): a severity or "off" per rule,
 *      which wins over the directive because it is the user's own choice;
 *   3. `# dockwright-ignore=ID[,ID]` comments on the lines just above an
 *      instruction (no "=IDs": every rule) drop those rules' diagnostics
 *      that start inside the instruction;
 *
 * and sorts the result by position.  Also the rule table, the diagnostic
 * list and the configuration.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define ANALYSIS_DOCS                                                         \
  "https://github.com/dockwright/dockwright/blob/main/docs/diagnostics.md#"

static const struct analysis_rule analysis_table[] = {
#define RULE_ROW(id, anchor, sev, flags, summary)                             \
  {#id, summary, ANALYSIS_DOCS anchor, sev, ((flags)&RULE_F_CHECK) != 0},
    RULE_MAP(RULE_ROW)
#undef RULE_ROW
};

const struct analysis_rule *analysis_rules(size_t *n) {
  *n = RULE_COUNT;
  return analysis_table;
}

const struct analysis_rule *rule_get(enum rule_id id) {
  return &analysis_table[id < RULE_COUNT ? id : 0];
}

enum rule_id rule_find(const char *name) {
  /* A diagnostic's rule is the table's own string: a pointer compare
   * finds it without a strcmp per row. */
  for (size_t i = 0; i < RULE_COUNT; i++)
    if (analysis_table[i].id == name)
      return (enum rule_id)i;
  for (size_t i = 0; i < RULE_COUNT; i++)
    if (strcmp(analysis_table[i].id, name) == 0)
      return (enum rule_id)i;
  return RULE_COUNT;
}

const char *analysis_rule_doc_url(const char *rule) {
  enum rule_id id = rule ? rule_find(rule) : RULE_COUNT;
  return id == RULE_COUNT ? NULL : analysis_table[id].doc_url;
}

/* ---- diagnostics ------------------------------------------------------ */

void diag_list_init(struct diag_list *l) {
  memset(l, 0, sizeof(*l));
}

static void analysis__diag_cleanup(struct diag *d) {
  free(d->message);
  for (size_t i = 0; i < d->nrelated; i++)
    free(d->related[i].message);
  free(d->related);
  for (size_t i = 0; i < d->nfixes; i++) {
    free(d->fixes[i].title);
    free(d->fixes[i].new_text);
  }
  free(d->fixes);
}

void diag_list_cleanup(struct diag_list *l) {
  for (size_t i = 0; i < l->n; i++)
    analysis__diag_cleanup(&l->v[i]);
  free(l->v);
  memset(l, 0, sizeof(*l));
}

struct diag *check__emit(struct check_ctx *c, enum rule_id rule,
                         struct df_range range, const char *fmt, ...) {
  struct diag_list *l = c->out;
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 16;
    l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
  }
  struct diag *d = &l->v[l->n++];
  memset(d, 0, sizeof(*d));
  d->rule = analysis_table[rule].id;
  d->severity = analysis_table[rule].severity;
  d->range = range;
  struct buf b = BUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&b, fmt, ap);
  va_end(ap);
  d->message = buf_take(&b);
  return d;
}

void check__fix(struct diag *d, const char *title, struct df_range range,
                const char *new_text) {
  d->fixes = xrealloc(d->fixes, (d->nfixes + 1) * sizeof(*d->fixes));
  struct diag_fix *f = &d->fixes[d->nfixes++];
  f->title = xstrdup(title);
  f->range = range;
  f->new_text = xstrdup(new_text);
}

void check__related(struct diag *d, struct df_range range, const char *fmt,
                    ...) {
  d->related = xrealloc(d->related, (d->nrelated + 1) * sizeof(*d->related));
  struct diag_related *r = &d->related[d->nrelated++];
  r->range = range;
  struct buf b = BUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&b, fmt, ap);
  va_end(ap);
  r->message = buf_take(&b);
}

/* ---- configuration ---------------------------------------------------- */

void analysis_config_init(struct analysis_config *c) {
  memset(c, 0, sizeof(*c));
}

void analysis_config_cleanup(struct analysis_config *c) {
  for (size_t i = 0; i < c->nrules; i++)
    free(c->rules[i].rule);
  free(c->rules);
  memset(c, 0, sizeof(*c));
}

int analysis_config_set(struct analysis_config *c, const char *rule,
                        enum diag_severity severity, struct err *err) {
  if (rule_find(rule) == RULE_COUNT) {
    err_set(err, ERR_INVALID, "unknown rule '%s'", rule);
    return -1;
  }
  for (size_t i = 0; i < c->nrules; i++) {
    if (strcmp(c->rules[i].rule, rule) == 0) {
      c->rules[i].severity = severity;
      return 0;
    }
  }
  c->rules = xrealloc(c->rules, (c->nrules + 1) * sizeof(*c->rules));
  c->rules[c->nrules].rule = xstrdup(rule);
  c->rules[c->nrules].severity = severity;
  c->nrules++;
  return 0;
}

/* ---- `# check=` -------------------------------------------------------- */

struct analysis_checks {
  bool skip_all;
  bool skip[RULE_COUNT];
  bool error;
};

static void analysis__trim(const char **s, const char **e) {
  while (*s < *e && (**s == ' ' || **s == '\t'))
    (*s)++;
  while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
    (*e)--;
}

static bool analysis__eqn(const char *s, const char *e, const char *word) {
  size_t n = strlen(word);
  return (size_t)(e - s) == n && strncasecmp(s, word, n) == 0;
}

/* BuildKit's ParseLintOptions, leniently: what check_buildkit reports as
 * InvalidDirective is ignored here. */
static void analysis__parse_checks(const struct dockerfile *df,
                                   struct analysis_checks *out) {
  memset(out, 0, sizeof(*out));
  for (size_t i = 0; i < df->ndirectives; i++) {
    if (strcmp(df->directives[i].name, "check") != 0)
      continue;
    const char *p = df->directives[i].value;
    while (*p) {
      const char *end = strchr(p, ';');
      if (end == NULL)
        end = p + strlen(p);
      const char *eq = memchr(p, '=', (size_t)(end - p));
      if (eq) {
        const char *ks = p, *ke = eq, *vs = eq + 1, *ve = end;
        analysis__trim(&ks, &ke);
        analysis__trim(&vs, &ve);
        if (analysis__eqn(ks, ke, "skip")) {
          const char *w = vs;
          while (w < ve) {
            const char *we = memchr(w, ',', (size_t)(ve - w));
            if (we == NULL)
              we = ve;
            const char *a = w, *b = we;
            analysis__trim(&a, &b);
            if (analysis__eqn(a, b, "all")) {
              out->skip_all = true;
            } else {
              char *name = xstrndup(a, (size_t)(b - a));
              enum rule_id id = rule_find(name);
              if (id != RULE_COUNT)
                out->skip[id] = true;
              free(name);
            }
            w = we < ve ? we + 1 : ve;
          }
        } else if (analysis__eqn(ks, ke, "error")) {
          out->error = analysis__eqn(vs, ve, "true") ||
                       analysis__eqn(vs, ve, "1") ||
                       analysis__eqn(vs, ve, "t");
        }
      }
      p = *end ? end + 1 : end;
    }
  }
}

/* ---- `# dockwright-ignore=` -------------------------------------------- */

#define ANALYSIS_IGNORE "dockwright-ignore"

/* If row holds "# dockwright-ignore[=ID,...]", returns true and sets
 * [*ids, *ids_end) to the ID list (empty: every rule). */
static bool analysis__ignore_line(const struct check_ctx *c, size_t row,
                                  const char **ids, const char **ids_end) {
  const char *s = c->text + c->line_start[row];
  const char *e = row + 1 < c->nlines ? c->text + c->line_start[row + 1]
                                      : c->text + c->len;
  while (e > s && (e[-1] == '\n' || e[-1] == '\r'))
    e--;
  analysis__trim(&s, &e);
  if (s == e || *s != '#')
    return false;
  s++;
  analysis__trim(&s, &e);
  size_t n = strlen(ANALYSIS_IGNORE);
  if ((size_t)(e - s) < n || strncasecmp(s, ANALYSIS_IGNORE, n) != 0)
    return false;
  s += n;
  analysis__trim(&s, &e);
  if (s == e) {
    *ids = *ids_end = s;
    return true;
  }
  if (*s != '=')
    return false;
  s++;
  analysis__trim(&s, &e);
  *ids = s;
  *ids_end = e;
  return true;
}

static bool analysis__ids_have(const char *s, const char *e,
                               const char *rule) {
  if (s == e)
    return true;
  while (s < e) {
    const char *we = memchr(s, ',', (size_t)(e - s));
    if (we == NULL)
      we = e;
    const char *a = s, *b = we;
    analysis__trim(&a, &b);
    size_t n = strlen(rule);
    if ((size_t)(b - a) == n && memcmp(a, rule, n) == 0)
      return true;
    s = we < e ? we + 1 : e;
  }
  return false;
}

static bool analysis__is_comment_row(const struct check_ctx *c, size_t row) {
  const char *s = c->text + c->line_start[row];
  const char *e = row + 1 < c->nlines ? c->text + c->line_start[row + 1]
                                      : c->text + c->len;
  while (s < e && (*s == ' ' || *s == '\t'))
    s++;
  return s < e && *s == '#';
}

/* Is diagnostic d suppressed by an ignore comment above its instruction? */
static bool analysis__ignored(const struct check_ctx *c,
                              const struct diag *d) {
  const struct dockerfile *df = c->df;
  uint32_t row = d->range.start.row;
  /* Instructions are in source order: binary search for the last one
   * starting at or before the row (a linear scan per diagnostic made large
   * files quadratic). */
  size_t lo = 0, hi = df->ninstrs;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (df->instrs[mid].range.start.row <= row)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0)
    return false;
  const struct df_instr *in = &df->instrs[lo - 1];
  if (row > in->range.end.row)
    return false;
  /* The comment lines right above the instruction. */
  for (size_t r = in->range.start.row; r-- > 0;) {
    if (r >= c->nlines || !analysis__is_comment_row(c, r))
      break;
    const char *ids, *ids_end;
    if (analysis__ignore_line(c, r, &ids, &ids_end) &&
        analysis__ids_have(ids, ids_end, d->rule))
      return true;
  }
  return false;
}

/* ---- running ------------------------------------------------------------ */

struct df_pos check__pos(const struct check_ctx *c, size_t byte) {
  struct df_pos p;
  if (byte > c->len)
    byte = c->len;
  size_t lo = 0, hi = c->nlines;
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    if (c->line_start[mid] <= byte)
      lo = mid;
    else
      hi = mid;
  }
  p.row = (uint32_t)lo;
  p.col = (uint32_t)(byte - c->line_start[lo]);
  p.byte = (uint32_t)byte;
  return p;
}

struct df_range check__range(const struct check_ctx *c, size_t start,
                             size_t end) {
  struct df_range r;
  r.start = check__pos(c, start);
  r.end = check__pos(c, end < start ? start : end);
  return r;
}

struct df_range check__at(struct df_pos pos) {
  struct df_range r;
  r.start = pos;
  r.end = pos;
  return r;
}

static int analysis__cmp(const void *a, const void *b) {
  const struct diag *x = a, *y = b;
  if (x->range.start.byte != y->range.start.byte)
    return x->range.start.byte < y->range.start.byte ? -1 : 1;
  if (x->range.end.byte != y->range.end.byte)
    return x->range.end.byte < y->range.end.byte ? -1 : 1;
  int r = strcmp(x->rule, y->rule);
  if (r != 0)
    return r;
  return strcmp(x->message, y->message);
}

static void analysis__lines(struct check_ctx *c) {
  size_t cap = 64;
  c->line_start = xmalloc(cap * sizeof(*c->line_start));
  c->nlines = 0;
  c->line_start[c->nlines++] = 0;
  const char *p = c->text, *end = c->text + c->len;
  while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
    p++;
    if (c->nlines == cap) {
      cap *= 2;
      c->line_start = xrealloc(c->line_start, cap * sizeof(*c->line_start));
    }
    c->line_start[c->nlines++] = (uint32_t)(p - c->text);
  }
}

struct analysis_named {
  const char *name;
  size_t index;
};

static int analysis__named_cmp(const void *a, const void *b) {
  const struct analysis_named *x = a, *y = b;
  int r = strcmp(x->name, y->name);
  if (r != 0)
    return r;
  return x->index < y->index ? -1 : x->index > y->index;
}

/* The context's sorted list of named stages (check__stages_named). */
static void analysis__stage_names(struct check_ctx *c) {
  const struct dockerfile *df = c->df;
  struct analysis_named *v =
      xmalloc((df->nstages ? df->nstages : 1) * sizeof(*v));
  size_t n = 0;
  for (size_t s = 0; s < df->nstages; s++)
    if (df->stages[s].name) {
      v[n].name = df->stages[s].name;
      v[n].index = s;
      n++;
    }
  qsort(v, n, sizeof(*v), analysis__named_cmp);
  c->stage_names = xmalloc((n ? n : 1) * sizeof(*c->stage_names));
  c->stage_index = xmalloc((n ? n : 1) * sizeof(*c->stage_index));
  for (size_t i = 0; i < n; i++) {
    c->stage_names[i] = v[i].name;
    c->stage_index[i] = v[i].index;
  }
  c->nstage_names = n;
  free(v);
}

static enum diag_severity
analysis__configured(const struct analysis_config *cfg, const char *rule,
                     bool *set) {
  *set = false;
  if (cfg == NULL)
    return DIAG_OFF;
  for (size_t i = 0; i < cfg->nrules; i++) {
    if (strcmp(cfg->rules[i].rule, rule) == 0) {
      *set = true;
      return cfg->rules[i].severity;
    }
  }
  return DIAG_OFF;
}

void analysis_run(const struct analysis_input *in, struct diag_list *out) {
  if (in == NULL || in->df == NULL)
    return;
  struct diag_list found;
  diag_list_init(&found);
  struct check_ctx c;
  memset(&c, 0, sizeof(c));
  c.in = in;
  c.df = in->df;
  c.text = in->text ? in->text : "";
  c.len = in->text ? in->len : 0;
  c.out = &found;
  analysis__lines(&c);
  analysis__stage_names(&c);

  check_syntax(&c);
  check_buildkit(&c);
  check_semantic(&c);
  check_buildchecks(&c);
  check_practices(&c);
  check_paths(&c);

  struct analysis_checks checks;
  analysis__parse_checks(c.df, &checks);
  size_t kept = 0;
  for (size_t i = 0; i < found.n; i++) {
    struct diag *d = &found.v[i];
    enum rule_id id = rule_find(d->rule);
    bool drop = false;
    if (analysis_table[id].buildkit_check) {
      if (checks.skip_all || checks.skip[id])
        drop = true;
      else if (checks.error)
        d->severity = DIAG_ERROR;
    }
    bool set;
    enum diag_severity sev = analysis__configured(in->config, d->rule, &set);
    if (set) {
      drop = sev == DIAG_OFF;
      if (!drop)
        d->severity = sev;
    }
    if (!drop && analysis__ignored(&c, d))
      drop = true;
    if (drop) {
      analysis__diag_cleanup(d);
      continue;
    }
    found.v[kept++] = *d;
  }
  found.n = kept;
  if (found.n > 1)
    qsort(found.v, found.n, sizeof(*found.v), analysis__cmp);

  for (size_t i = 0; i < found.n; i++) {
    if (out->n == out->cap) {
      out->cap = out->cap ? out->cap * 2 : 16;
      out->v = xrealloc(out->v, out->cap * sizeof(*out->v));
    }
    out->v[out->n++] = found.v[i];
  }
  free(found.v);
  free(c.line_start);
  free(c.stage_names);
  free(c.stage_index);
}
