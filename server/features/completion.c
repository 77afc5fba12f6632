/*
 * completion.c - textDocument/completion and completionItem/resolve.
 *
 * DESIGN
 * The position is located in the model (locate.c: keyword, arguments,
 * comment, directive, heredoc body) and the items come from the knowledge
 * table (model/knowledge.h), the model (stages, variables, WORKDIRs) and
 * two directories read with uv_fs_scandir on libuv's thread pool: the
 * document's directory (the build context, for COPY/ADD sources, with its
 * .dockerignore applied) and the image store's tags (FROM).  The contexts,
 * in the order they are tried:
 *   - nothing in a heredoc body or an ordinary comment;
 *   - parser directives at the top: names, `syntax` and `escape` values,
 *     `check` keys and the build checks' names after `skip=`;
 *   - a keyword: FROM and ARG before the first FROM, every instruction
 *     after it (FROM first), the triggers after ONBUILD;
 *   - after `$` or `${`: the variables in scope (locate_vars), with their
 *     values as detail; after `${name:` the modifiers;
 *   - `--` before the arguments: the instruction's flags; after `--flag=`
 *     its values: enumerations, earlier stages (`--from`), mount types and
 *     keys and their values (`--mount`), platforms, durations;
 *   - by instruction: FROM's image (local images and earlier stages) and
 *     AS (nothing after AS), HEALTHCHECK CMD/NONE, STOPSIGNAL names, EXPOSE
 *     protocols, exec-form brackets, COPY/ADD sources and WORKDIR
 *     destinations, ARG's automatic names.
 * Every item replaces the partly typed word (a textEdit on that word's
 * bytes, converted to the client's encoding by protocol.c).
 *
 * A listing not yet read defers the request (rpc_defer) until the read
 * ends, so the answer is complete when it comes; listings are kept for
 * COMPLETION_DIR_TTL_MS.  With completionItem/resolve the documentation
 * is left out of the list and sent by resolve (the key in data).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../analysis/analysis.h"
#include "../../common/arena.h"
#include "../../common/buf.h"
#include "../../common/log.h"
#include "../../model/dockerignore.h"
#include "../../model/knowledge.h"
#include "../hooks.h"
#include "../imagestore.h"
#include "../methods.h"
#include "../protocol.h"
#include "../server.h"
#include "locate.h"
#include "tags.h"

/* How long a directory listing is trusted. */
#define COMPLETION_DIR_TTL_MS 2000
/* Entries kept from one directory. */
#define COMPLETION_DIR_MAX 2000

struct completion_dir {
  char *path;         /* owned */
  bool tags;          /* the image store's tag directory */
  struct strv names;  /* entries; directories end in '/' */
  uint64_t loaded_at; /* loop time (ms) */
  bool loading;
  uv_fs_t req;
  struct server *self;
  struct completion_dir *next;
};

struct completion_wait {
  struct rpc_pending *p;
  json_object *params;        /* owned reference */
  struct completion_dir *dir; /* the listing awaited, or NULL: */
  struct doc *doc;            /* the document whose .dockerignore is */
  unsigned waited;            /* times it waited */
  struct completion_wait *next;
};

struct completion_state {
  struct completion_dir *dirs;
  struct completion_wait *waits;
  unsigned loading; /* reads in flight */
  bool stopped;
};

/* ---- the items being built -------------------------------------------- */

struct completion_out {
  struct server *self;
  struct doc *d;
  struct arena arena; /* the items' strings */
  struct proto_completion_item *v;
  size_t n, cap;
  size_t start, end;           /* what the items replace unless they say */
  struct completion_dir *need; /* a listing to read first */
  bool need_ignore;            /* the document's .dockerignore, first */
  bool incomplete;             /* a list is still loading (tags) */
};

static struct proto_completion_item *completion__add(struct completion_out *o,
                                                     const char *label,
                                                     enum proto_ci_kind kind) {
  if (o->n == o->cap) {
    size_t cap = o->cap ? o->cap * 2 : 32;
    o->v = arena_realloc(&o->arena, o->v, o->cap * sizeof(*o->v),
                         cap * sizeof(*o->v));
    o->cap = cap;
  }
  struct proto_completion_item *it = &o->v[o->n++];
  memset(it, 0, sizeof(*it));
  it->label = arena_strdup(&o->arena, label);
  it->kind = kind;
  it->start = o->start;
  it->end = o->end;
  return it;
}

static char *completion__fmt(struct completion_out *o, const char *fmt, ...)
    DW_PRINTF(2, 3);
static char *completion__fmt(struct completion_out *o, const char *fmt, ...) {
  struct buf b = BUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&b, fmt, ap);
  va_end(ap);
  char *s = arena_strdup(&o->arena, buf_cstr(&b));
  buf_cleanup(&b);
  return s;
}

/* Documentation with its link, or a resolve key instead when the client
 * resolves documentation lazily. */
static void completion__doc(struct completion_out *o,
                            struct proto_completion_item *it, const char *key,
                            const char *doc, const char *anchor) {
  if (o->self->caps.completion_resolve) {
    it->resolve = arena_strdup(&o->arena, key);
    return;
  }
  char url[256];
  it->doc = completion__fmt(o, "%s\n\n[Dockerfile reference](%s)", doc,
                            know_url(anchor, url, sizeof(url)));
}

/* Each "a|b|c" value as an item. */
static void completion__values(struct completion_out *o, const char *values,
                               enum proto_ci_kind kind, const char *detail) {
  for (const char *p = values; p && *p;) {
    const char *e = strchr(p, '|');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    char *v = arena_strndup(&o->arena, p, n);
    struct proto_completion_item *it = completion__add(o, v, kind);
    it->detail = detail;
    p += n;
    if (*p == '|')
      p++;
  }
}

/* ---- keywords ------------------------------------------------------------
 */

static void completion__keyword(struct completion_out *o,
                                const struct know_instr *k, bool first) {
  struct proto_completion_item *it =
      completion__add(o, k->keyword, PROTO_CI_KEYWORD);
  if (o->self->caps.snippets && k->snippet) {
    it->insert = completion__fmt(o, "%s %s", k->keyword, k->snippet);
    it->snippet = true;
  } else {
    it->insert = completion__fmt(o, "%s ", k->keyword);
  }
  it->sort = completion__fmt(o, "%c%s", first ? '0' : '1', k->keyword);
  it->deprecated = k->kind == DF_MAINTAINER;
  completion__doc(o, it, completion__fmt(o, "i:%s", k->keyword), k->doc,
                  k->anchor);
}

static void completion__keywords(struct completion_out *o,
                                 const struct locate *l, bool trigger) {
  bool has_from = false;
  for (size_t i = 0; i < l->df->ninstrs && !has_from; i++)
    has_from = l->df->instrs[i].kind == DF_FROM &&
               l->df->instrs[i].range.start.byte < l->line_start;
  size_t n;
  const struct know_instr *ks = know_instrs(&n);
  for (size_t i = 0; i < n; i++) {
    enum df_kind k = ks[i].kind;
    if (trigger) {
      /* BuildKit refuses these as ONBUILD triggers. */
      if (k == DF_ONBUILD || k == DF_FROM || k == DF_MAINTAINER)
        continue;
    } else if (!has_from && k != DF_FROM && k != DF_ARG) {
      continue; /* only ARG may come before the first FROM */
    }
    completion__keyword(o, &ks[i], k == DF_FROM);
  }
}

/* ---- directives ----------------------------------------------------------
 */

static void completion__directive(struct completion_out *o,
                                  const struct locate *l) {
  const char *t = l->text;
  size_t p = l->line_start, off = l->off;
  while (p < off && (t[p] == ' ' || t[p] == '\t'))
    p++;
  if (p >= off || t[p] != '#')
    return;
  p++;
  while (p < off && (t[p] == ' ' || t[p] == '\t'))
    p++;
  size_t name = p;
  while (p < off && locate_is_name_char(t[p]))
    p++;
  size_t name_end = p;
  while (p < off && (t[p] == ' ' || t[p] == '\t'))
    p++;
  size_t n;
  const struct know_directive *ds = know_directives(&n);
  if (p == off && (name_end == off || name == name_end)) {
    /* The name itself. */
    o->start = name;
    o->end = name_end == off ? l->word_end : off;
    for (size_t i = 0; i < n; i++) {
      struct proto_completion_item *it =
          completion__add(o, ds[i].name, PROTO_CI_KEYWORD);
      it->insert = completion__fmt(o, "%s=", ds[i].name);
      completion__doc(o, it, completion__fmt(o, "d:%s", ds[i].name), ds[i].doc,
                      ds[i].anchor);
    }
    return;
  }
  if (p >= off || t[p] != '=')
    return;
  p++;
  const struct know_directive *dir = NULL;
  for (size_t i = 0; i < n; i++)
    if (strlen(ds[i].name) == name_end - name &&
        strncasecmp(ds[i].name, t + name, name_end - name) == 0)
      dir = &ds[i];
  if (dir == NULL)
    return;
  while (p < off && (t[p] == ' ' || t[p] == '\t'))
    p++;
  size_t line_end = off;
  while (line_end < l->len && t[line_end] != '\n' && t[line_end] != '\r')
    line_end++;
  if (strcmp(dir->name, "check") != 0) {
    o->start = p;
    o->end = line_end;
    completion__values(o, dir->values, PROTO_CI_VALUE, NULL);
    return;
  }
  /* check=skip=A,B;error=true */
  size_t seg = p;
  for (size_t k = p; k < off; k++)
    if (t[k] == ';')
      seg = k + 1;
  size_t eq = SIZE_MAX;
  for (size_t k = seg; k < off; k++)
    if (t[k] == '=') {
      eq = k;
      break;
    }
  size_t seg_end = off;
  while (seg_end < line_end && t[seg_end] != ';')
    seg_end++;
  if (eq == SIZE_MAX) {
    o->start = seg;
    o->end = seg_end;
    completion__values(o, "skip=|error=|experimental=", PROTO_CI_PROPERTY,
                       NULL);
    return;
  }
  size_t klen = eq - seg;
  if (klen == 5 && strncmp(t + seg, "error", 5) == 0) {
    o->start = eq + 1;
    o->end = seg_end;
    completion__values(o, "true|false", PROTO_CI_VALUE, NULL);
    return;
  }
  if (!((klen == 4 && strncmp(t + seg, "skip", 4) == 0) ||
        (klen == 12 && strncmp(t + seg, "experimental", 12) == 0)))
    return;
  size_t item = eq + 1;
  for (size_t k = eq + 1; k < off; k++)
    if (t[k] == ',')
      item = k + 1;
  size_t item_end = off;
  while (item_end < seg_end && t[item_end] != ',')
    item_end++;
  o->start = item;
  o->end = item_end;
  completion__add(o, "all", PROTO_CI_CONSTANT)->detail = "every build check";
  size_t nr;
  const struct analysis_rule *rules = analysis_rules(&nr);
  for (size_t i = 0; i < nr; i++) {
    if (!rules[i].buildkit_check)
      continue;
    struct proto_completion_item *it =
        completion__add(o, rules[i].id, PROTO_CI_ENUM_MEMBER);
    it->detail = rules[i].summary;
  }
}

/* ---- variables -----------------------------------------------------------
 */

static const char *completion__origin(enum locate_var_origin o) {
  switch (o) {
  case LOCATE_VAR_ARG:
    return "ARG";
  case LOCATE_VAR_ENV:
    return "ENV";
  case LOCATE_VAR_AUTOMATIC:
    return "automatic ARG";
  case LOCATE_VAR_PROXY:
    return "predefined ARG";
  }
  return "";
}

/* After `$` or `${` (dollar at byte dp): true when this was a variable
 * context (items added or not). */
static bool completion__variables(struct completion_out *o,
                                  const struct locate *l) {
  const char *t = l->text;
  size_t dp = SIZE_MAX;
  for (size_t k = l->off; k-- > l->word_start;)
    if (t[k] == '$') {
      dp = k;
      break;
    }
  if (dp == SIZE_MAX)
    return false;
  if (dp > l->word_start && t[dp - 1] == l->df->escape)
    return false; /* \$ is a dollar */
  /* In `$|{NAME}` the brace is after the cursor: as after a bare `$`. */
  bool brace = dp + 1 < l->off && t[dp + 1] == '{';
  size_t name = dp + 1 + (brace ? 1 : 0);
  if (name > l->off)
    return false;
  size_t k = name;
  while (k < l->off && locate_is_name_char(t[k]))
    k++;
  if (k < l->off) {
    /* ${name:  -> the modifiers */
    if (brace && t[k] == ':' && k + 1 == l->off) {
      o->start = o->end = l->off;
      static const char *const mods[][2] = {
          {"-", "`${name:-word}`: word when name is unset or empty"},
          {"+", "`${name:+word}`: word when name is set and not empty, else "
                "empty"},
          {"?", "`${name:?message}`: fails the build with message when name "
                "is unset or empty"},
      };
      for (size_t i = 0; i < 3; i++) {
        struct proto_completion_item *it =
            completion__add(o, mods[i][0], PROTO_CI_OPERATOR);
        it->detail = mods[i][1];
        it->sort = completion__fmt(o, "%zu", i);
      }
    }
    return true; /* past the name: nothing to offer */
  }
  size_t end = l->off;
  while (end < l->len && locate_is_name_char(t[end]))
    end++;
  bool close = brace && !(end < l->len && t[end] == '}');
  o->start = name;
  o->end = end;
  struct locate_vars vs;
  locate_vars(&vs, l->df, l->top_index);
  for (size_t i = 0; i < vs.n; i++) {
    const struct locate_var *v = &vs.v[i];
    struct proto_completion_item *it =
        completion__add(o, v->name, PROTO_CI_VARIABLE);
    if (close)
      it->insert = completion__fmt(o, "%s}", v->name);
    if (v->value && v->origin == LOCATE_VAR_AUTOMATIC)
      it->detail = completion__fmt(o, "%s (automatic, e.g. %s)", v->name,
                                   *v->value ? v->value : "empty");
    else if (v->value)
      it->detail = completion__fmt(o, "%s=%s", v->name, v->value);
    else
      it->detail = completion__fmt(o, "%s (%s, no value)", v->name,
                                   completion__origin(v->origin));
    if (v->line)
      it->doc = completion__fmt(
          o, "%s on line %u%s%s", completion__origin(v->origin), v->line,
          v->stage ? " of stage " : "", v->stage ? v->stage : "");
    else
      it->doc = completion__fmt(o, "%s", completion__origin(v->origin));
    /* Declared in this stage first, built-ins last. */
    it->sort = completion__fmt(o, "%c%s", v->line ? '0' : '1', v->name);
  }
  locate_vars_cleanup(&vs);
  return true;
}

/* ---- flags ---------------------------------------------------------------
 */

static void completion__flag_names(struct completion_out *o, enum df_kind kind,
                                   const struct df_instr *in) {
  size_t n;
  const struct know_flag *fs = know_flags(&n);
  for (size_t i = 0; i < n; i++) {
    const struct know_flag *f = &fs[i];
    if (f->instr != kind)
      continue;
    /* A flag given once is not offered again. */
    bool given = false;
    for (size_t k = 0; in && k < in->nflags && f->kind != KNOW_STRINGS; k++)
      given = given || (strcmp(in->flags[k].name, f->name) == 0 &&
                        in->flags[k].range.start.byte != o->start);
    if (given)
      continue;
    struct proto_completion_item *it = completion__add(
        o, completion__fmt(o, "--%s", f->name), PROTO_CI_PROPERTY);
    it->detail = f->kind == KNOW_BOOL
                     ? completion__fmt(o, "--%s", f->name)
                     : completion__fmt(o, "--%s=%s", f->name, f->placeholder);
    if (f->kind == KNOW_BOOL) {
      it->insert = completion__fmt(o, "--%s", f->name);
    } else if (o->self->caps.snippets && f->value == KNOW_V_MOUNT) {
      it->insert = completion__fmt(o,
                                   "--%s=type=${1|bind,cache,tmpfs,"
                                   "secret,ssh|}",
                                   f->name);
      it->snippet = true;
    } else if (o->self->caps.snippets && f->value == KNOW_V_ENUM) {
      struct buf b = BUF_INIT;
      for (const char *p = f->values; *p; p++)
        buf_putc(&b, *p == '|' ? ',' : *p);
      it->insert = completion__fmt(o, "--%s=${1|%s|}", f->name, buf_cstr(&b));
      it->snippet = true;
      buf_cleanup(&b);
    } else {
      it->insert = completion__fmt(o, "--%s=", f->name);
    }
    completion__doc(o, it,
                    completion__fmt(o, "f:%s:%s", df_kind_name(kind), f->name),
                    f->doc, f->anchor);
  }
}

/* Earlier stages (by name, or index when unnamed). */
static void completion__stages(struct completion_out *o,
                               const struct locate *l) {
  const struct dockerfile *df = l->df;
  for (size_t s = 0; s < df->nstages; s++) {
    const struct df_stage *st = &df->stages[s];
    if (st->from_instr >= l->top_index)
      break;
    if (st == locate_stage(df, l->top_index))
      continue; /* a stage cannot use itself */
    const char *label = st->name ? st->name : completion__fmt(o, "%zu", s);
    struct proto_completion_item *it =
        completion__add(o, label, PROTO_CI_REFERENCE);
    it->detail = completion__fmt(o, "stage %zu: FROM %s (line %u)", st->index,
                                 st->base ? st->base : "?",
                                 df->instrs[st->from_instr].start_line);
    it->sort = completion__fmt(o, "0%04zu", s);
  }
}

static bool completion__tags(struct completion_out *o, const struct locate *l,
                             size_t ws);
static void completion__store_images(struct completion_out *o);

/* Inside --mount=...: the segment around the cursor. */
static void completion__mount(struct completion_out *o, const struct locate *l,
                              size_t value_start) {
  const char *t = l->text;
  size_t seg = value_start;
  for (size_t k = value_start; k < l->off; k++)
    if (t[k] == ',')
      seg = k + 1;
  size_t seg_end = l->off;
  while (seg_end < l->word_end && t[seg_end] != ',')
    seg_end++;
  size_t eq = SIZE_MAX;
  for (size_t k = seg; k < l->off; k++)
    if (t[k] == '=') {
      eq = k;
      break;
    }
  if (eq != SIZE_MAX) {
    char *key = arena_strndup(&o->arena, t + seg, eq - seg);
    o->start = eq + 1;
    o->end = seg_end;
    if (strcasecmp(key, "type") == 0) {
      size_t n;
      const struct know_mount_type *ts = know_mount_types(&n);
      for (size_t i = 0; i < n; i++) {
        struct proto_completion_item *it =
            completion__add(o, ts[i].name, PROTO_CI_ENUM_MEMBER);
        completion__doc(o, it, completion__fmt(o, "m:%s", ts[i].name),
                        ts[i].doc, ts[i].anchor);
      }
      return;
    }
    if (strcasecmp(key, "from") == 0) {
      if (completion__tags(o, l, eq + 1))
        return;
      completion__stages(o, l);
      completion__store_images(o);
      return;
    }
    const struct know_mount_key *mk = know_mount_key(key);
    if (mk && mk->values)
      completion__values(o, mk->values, PROTO_CI_VALUE, NULL);
    return;
  }
  /* A key: those of the mount's type (bind unless type= says). */
  unsigned type = KNOW_M_BIND;
  bool has_type = false;
  for (size_t k = value_start; k + 5 <= l->word_end; k++) {
    if ((k == value_start || t[k - 1] == ',') &&
        strncasecmp(t + k, "type=", 5) == 0) {
      size_t e = k + 5;
      while (e < l->word_end && t[e] != ',')
        e++;
      char *name = arena_strndup(&o->arena, t + k + 5, e - k - 5);
      const struct know_mount_type *mt = know_mount_type(name);
      if (mt)
        type = mt->bit;
      has_type = true;
    }
  }
  o->start = seg;
  o->end = seg_end;
  if (!has_type) {
    struct proto_completion_item *it =
        completion__add(o, "type", PROTO_CI_PROPERTY);
    it->insert = "type=";
    it->sort = "0type";
    it->detail = "bind, cache, tmpfs, secret or ssh";
  }
  size_t n;
  const struct know_mount_key *ks = know_mount_keys(&n);
  for (size_t i = 0; i < n; i++) {
    if (!(ks[i].types & type))
      continue;
    struct proto_completion_item *it =
        completion__add(o, ks[i].key, PROTO_CI_PROPERTY);
    it->insert = completion__fmt(o, "%s=", ks[i].key);
    it->detail = ks[i].values;
    it->doc = ks[i].doc;
  }
}

/* `--name=value` at the cursor; false when the word is not a flag. */
static bool completion__flag(struct completion_out *o, const struct locate *l,
                             enum df_kind kind) {
  const char *t = l->text;
  size_t ws = l->word_start;
  if (!(l->off >= ws + 2 && t[ws] == '-' && t[ws + 1] == '-'))
    return false;
  if (!l->flags_region || !know_instr_takes_flags(kind))
    return true;
  size_t eq = SIZE_MAX;
  for (size_t k = ws; k < l->off; k++)
    if (t[k] == '=') {
      eq = k;
      break;
    }
  if (eq == SIZE_MAX) {
    completion__flag_names(o, kind, l->instr);
    return true;
  }
  char *name = arena_strndup(&o->arena, t + ws + 2, eq - ws - 2);
  const struct know_flag *f = know_flag(kind, name);
  if (f == NULL)
    return true;
  o->start = eq + 1;
  o->end = l->word_end;
  switch (f->value) {
  case KNOW_V_MOUNT:
    completion__mount(o, l, eq + 1);
    break;
  case KNOW_V_STAGE:
    /* A name that is no stage is an image (BuildKit): an image's tags
     * after `name:`, else the stages and the local images. */
    if (completion__tags(o, l, eq + 1))
      break;
    completion__stages(o, l);
    completion__store_images(o);
    break;
  default:
    completion__values(o, f->values, PROTO_CI_VALUE, NULL);
    break;
  }
  return true;
}

/* ---- paths and images ----------------------------------------------------
 */

static struct completion_state *completion__state(struct server *self) {
  if (self->completion == NULL)
    self->completion = xcalloc(1, sizeof(*self->completion));
  return self->completion;
}

/* The cached listing of path: fresh, or NULL after arranging for it to be
 * read (o->need). */
static struct completion_dir *completion__dir(struct completion_out *o,
                                              const char *path, bool tags) {
  struct completion_state *cs = completion__state(o->self);
  uint64_t now = uv_now(o->self->loop);
  struct completion_dir *dir = NULL;
  for (struct completion_dir *x = cs->dirs; x; x = x->next)
    if (x->tags == tags && strcmp(x->path, path) == 0)
      dir = x;
  if (dir && !dir->loading && now - dir->loaded_at <= COMPLETION_DIR_TTL_MS)
    return dir;
  if (dir == NULL) {
    /* Listings past their time go before a new one comes (unless being
     * read or waited for), so the cache holds what was typed lately. */
    for (struct completion_dir **pp = &cs->dirs; *pp;) {
      struct completion_dir *x = *pp;
      bool waited = false;
      for (struct completion_wait *w = cs->waits; w && !waited; w = w->next)
        waited = w->dir == x;
      if (x->loading || waited ||
          now - x->loaded_at <= COMPLETION_DIR_TTL_MS) {
        pp = &x->next;
        continue;
      }
      *pp = x->next;
      free(x->path);
      strv_cleanup(&x->names);
      free(x);
    }
    dir = xcalloc(1, sizeof(*dir));
    dir->path = xstrdup(path);
    dir->tags = tags;
    dir->self = o->self;
    strv_init(&dir->names);
    dir->next = cs->dirs;
    cs->dirs = dir;
  }
  o->need = dir;
  return NULL;
}

/* The local store's images (its tags directory, read once listed). */
static void completion__store_images(struct completion_out *o) {
  char *root = imagestore_root(o->self->settings.root);
  struct buf path = BUF_INIT;
  buf_printf(&path, "%s/tags", root);
  free(root);
  struct completion_dir *dir = completion__dir(o, buf_cstr(&path), true);
  buf_cleanup(&path);
  if (dir == NULL)
    return;
  for (size_t i = 0; i < dir->names.n; i++) {
    char *name = imagestore_unescape(dir->names.v[i]);
    const char *ref = arena_strdup(&o->arena, name);
    free(name);
    /* What users write: Docker Hub's official images without the prefix. */
    const char *shown = ref;
    if (strncmp(shown, "docker.io/library/", 18) == 0)
      shown += 18;
    else if (strncmp(shown, "docker.io/", 10) == 0)
      shown += 10;
    struct proto_completion_item *it =
        completion__add(o, shown, PROTO_CI_MODULE);
    it->detail = completion__fmt(o, "local image %s", ref);
    it->sort = completion__fmt(o, "2%s", shown);
  }
}

static void completion__images(struct completion_out *o,
                               const struct locate *l) {
  completion__stages(o, l);
  struct proto_completion_item *it =
      completion__add(o, "scratch", PROTO_CI_CONSTANT);
  it->detail = "an empty image";
  it->sort = "1scratch";
  completion__store_images(o);
}

/* An image's `name:` being typed from ws (FROM's image, COPY --from=,
 * --mount=from=): the registry's tags of name (tags.c), and those of the
 * local store.  False when the word is not a name and a colon. */
static bool completion__tags(struct completion_out *o, const struct locate *l,
                             size_t ws) {
  const char *t = l->text;
  size_t colon = SIZE_MAX;
  for (size_t k = ws; k < l->off; k++) {
    if (t[k] == '/')
      colon = SIZE_MAX;
    else if (t[k] == ':' && colon == SIZE_MAX)
      colon = k;
    else if (t[k] == '@' || t[k] == '$' || t[k] == ',')
      return colon != SIZE_MAX;
  }
  if (colon == SIZE_MAX)
    return false;
  o->start = colon + 1;
  o->end = l->word_end;
  for (size_t k = l->off; k < l->word_end; k++)
    if (t[k] == ',') { /* the next --mount key */
      o->end = k;
      break;
    }
  if (colon == ws)
    return true;
  /* A host's port ("localhost:5000/x") was no tag: a slash followed. */
  char *norm =
      imagestore_normalize(arena_strndup(&o->arena, t + ws, colon - ws));
  if (norm == NULL)
    return true;
  /* imagestore_normalize gave it ":latest"; the repository is before. */
  char *repo = arena_strndup(&o->arena, norm, strlen(norm) - 7);
  free(norm);
  /* The local store's tags of that repository come first. */
  char *root = imagestore_root(o->self->settings.root);
  struct buf path = BUF_INIT;
  buf_printf(&path, "%s/tags", root);
  free(root);
  struct completion_dir *dir = completion__dir(o, buf_cstr(&path), true);
  buf_cleanup(&path);
  size_t rn = strlen(repo);
  for (size_t i = 0; dir && i < dir->names.n; i++) {
    char *ref = imagestore_unescape(dir->names.v[i]);
    if (strncmp(ref, repo, rn) == 0 && ref[rn] == ':') {
      struct proto_completion_item *it =
          completion__add(o, ref + rn + 1, PROTO_CI_MODULE);
      it->detail = completion__fmt(o, "local image %s", ref);
      it->sort = completion__fmt(o, "0%s", it->label);
    }
    free(ref);
  }
  const char *const *tags;
  size_t n;
  switch (tags_lookup(o->self, repo, &tags, &n)) {
  case TAGS_LOADING:
    o->incomplete = true;
    break;
  case TAGS_READY:
    for (size_t i = 0; i < n; i++) {
      bool local = false;
      for (size_t k = 0; k < o->n && !local; k++)
        local = strcmp(o->v[k].label, tags[i]) == 0;
      if (local)
        continue;
      struct proto_completion_item *it =
          completion__add(o, tags[i], PROTO_CI_CONSTANT);
      it->detail = completion__fmt(o, "tag in %s", repo);
      /* The registry's order (usually by name). */
      it->sort = completion__fmt(o, "1%06zu", i);
    }
    break;
  case TAGS_NONE:
    break;
  }
  return true;
}

/* COPY/ADD sources: entries of the typed directory in the build context
 * (the document's directory), minus what .dockerignore excludes. */
static void completion__sources(struct completion_out *o,
                                const struct locate *l) {
  struct doc *d = o->d;
  if (d->path == NULL)
    return;
  if (!d->ignore_ready) {
    o->need_ignore = true;
    return;
  }
  const char *t = l->text;
  size_t ws = l->word_start;
  size_t slash = ws;
  for (size_t k = ws; k < l->off; k++)
    if (t[k] == '/')
      slash = k + 1;
  char *rel = arena_strndup(&o->arena, t + ws, slash - ws);
  if (strchr(rel, '$') || strstr(rel, "://") || strstr(rel, ".."))
    return;
  const char *dslash = strrchr(d->path, '/');
  struct buf dir_path = BUF_INIT;
  buf_append(&dir_path, d->path, dslash ? (size_t)(dslash - d->path) : 0);
  buf_putc(&dir_path, '/');
  buf_puts(&dir_path, rel[0] == '/' ? rel + 1 : rel);
  struct completion_dir *dir = completion__dir(o, buf_cstr(&dir_path), false);
  buf_cleanup(&dir_path);
  if (dir == NULL)
    return;
  o->start = slash;
  o->end = l->word_end;
  struct dockerignore *di =
      d->ignore ? dockerignore_new(d->ignore, d->ignore_len) : NULL;
  for (size_t i = 0; i < dir->names.n; i++) {
    const char *name = dir->names.v[i];
    size_t nlen = strlen(name);
    bool is_dir = nlen > 0 && name[nlen - 1] == '/';
    struct buf p = BUF_INIT;
    buf_printf(&p, "%s%.*s", rel[0] == '/' ? rel + 1 : rel,
               (int)(nlen - (is_dir ? 1 : 0)), name);
    bool excluded = di && dockerignore_excludes(di, buf_cstr(&p));
    buf_cleanup(&p);
    if (excluded)
      continue;
    struct proto_completion_item *it =
        completion__add(o, name, is_dir ? PROTO_CI_FOLDER : PROTO_CI_FILE);
    it->sort = completion__fmt(o, "0%s", name);
  }
  dockerignore_free(di);
}

/* COPY/ADD destinations: the stage's WORKDIRs, resolved as BuildKit
 * resolves a relative WORKDIR against the one before it. */
static void completion__workdirs(struct completion_out *o,
                                 const struct locate *l) {
  const struct df_stage *st = locate_stage(l->df, l->top_index);
  if (st == NULL)
    return;
  struct buf cur = BUF_INIT;
  buf_puts(&cur, "/");
  for (size_t i = st->from_instr + 1; i < l->top_index; i++) {
    const struct df_instr *in = &l->df->instrs[i];
    if (in->kind != DF_WORKDIR || in->nargs == 0)
      continue;
    const char *w = in->args[0].value;
    if (w[0] == '/') {
      buf_reset(&cur);
      buf_puts(&cur, w);
    } else {
      if (cur.len == 0 || cur.data[cur.len - 1] != '/')
        buf_putc(&cur, '/');
      buf_puts(&cur, w);
    }
    const char *path = buf_cstr(&cur);
    bool dup = false;
    for (size_t k = 0; k < o->n; k++)
      dup = dup || strcmp(o->v[k].label, path) == 0;
    if (dup)
      continue;
    struct proto_completion_item *it =
        completion__add(o, path, PROTO_CI_FOLDER);
    it->detail = completion__fmt(o, "WORKDIR on line %u", in->start_line);
    it->sort = completion__fmt(o, "1%s", path);
    it->start = l->word_start;
    it->end = l->word_end;
  }
  struct proto_completion_item *it = completion__add(o, "./", PROTO_CI_FOLDER);
  it->detail = "the working directory";
  it->sort = "1./";
  it->start = l->word_start;
  it->end = l->word_end;
  buf_cleanup(&cur);
}

/* ---- arguments by instruction ------------------------------------------- */

static void completion__exec_form(struct completion_out *o,
                                  enum df_kind kind) {
  static const char *const shells[] = {
      "[\"/bin/sh\", \"-c\"]", "[\"/bin/bash\", \"-c\"]",
      "[\"powershell\", \"-command\"]", "[\"cmd\", \"/S\", \"/C\"]"};
  if (kind == DF_SHELL) {
    for (size_t i = 0; i < 4; i++) {
      struct proto_completion_item *it =
          completion__add(o, shells[i], PROTO_CI_SNIPPET);
      it->sort = completion__fmt(o, "%zu", i);
    }
    return;
  }
  struct proto_completion_item *it =
      completion__add(o, "[\"executable\", \"param\"]", PROTO_CI_SNIPPET);
  it->detail = "exec form (no shell)";
  if (o->self->caps.snippets) {
    it->insert = "[\"${1:executable}\"${2:, \"${3:param}\"}]";
    it->snippet = true;
  }
}

static void completion__args(struct completion_out *o,
                             const struct locate *l) {
  const struct df_instr *in = l->instr;
  enum df_kind kind = in->kind;
  const char *t = l->text;
  o->start = l->word_start;
  o->end = l->word_end;
  /* ONBUILD's trigger keyword. */
  if (l->top->kind == DF_ONBUILD && in == l->top && l->nwords_before == 0) {
    completion__keywords(o, l, true);
    return;
  }
  if (completion__variables(o, l))
    return;
  if (completion__flag(o, l, kind))
    return;
  bool empty = l->off == l->word_start;
  /* Which argument the word is: the flags before the first one do not
   * count. */
  size_t argi = l->nwords_before - l->nflags_before;
  bool may_flag = empty && l->flags_region && know_instr_takes_flags(kind);
  switch (kind) {
  case DF_FROM:
    if (argi == 0) {
      if (completion__tags(o, l, l->word_start))
        return;
      completion__images(o, l);
    } else if (argi == 1) {
      struct proto_completion_item *it =
          completion__add(o, "AS", PROTO_CI_KEYWORD);
      it->insert = "AS ";
      it->detail = "AS <name>: names the stage";
    }
    if (argi == 0 && may_flag)
      completion__flag_names(o, kind, in);
    return;
  case DF_HEALTHCHECK:
    if (argi == 0) {
      struct proto_completion_item *it =
          completion__add(o, "CMD", PROTO_CI_KEYWORD);
      it->insert = "CMD ";
      it->detail = "CMD <command>: the check to run";
      it = completion__add(o, "NONE", PROTO_CI_KEYWORD);
      it->detail = "turns off the base image's check";
      if (may_flag)
        completion__flag_names(o, kind, in);
    }
    return;
  case DF_STOPSIGNAL:
    if (argi == 0)
      for (const char *const *s = know_signals(); *s; s++)
        completion__add(o, *s, PROTO_CI_CONSTANT);
    return;
  case DF_EXPOSE: {
    size_t slash = SIZE_MAX;
    for (size_t k = l->word_start; k < l->off; k++)
      if (t[k] == '/')
        slash = k;
    if (slash != SIZE_MAX) {
      o->start = slash + 1;
      for (const char *const *p = know_expose_protos(); *p; p++)
        completion__add(o, *p, PROTO_CI_ENUM_MEMBER);
    }
    return;
  }
  case DF_SHELL:
  case DF_CMD:
  case DF_ENTRYPOINT:
    if (argi == 0 &&
        (empty || (l->off == l->word_start + 1 && t[l->word_start] == '[')))
      completion__exec_form(o, kind);
    return;
  case DF_RUN:
    if (may_flag) {
      completion__flag_names(o, kind, in);
      completion__exec_form(o, kind);
    }
    return;
  case DF_COPY:
  case DF_ADD: {
    if (may_flag)
      completion__flag_names(o, kind, in);
    bool from_stage = false;
    for (size_t k = 0; k < in->nflags; k++)
      from_stage = from_stage || strcmp(in->flags[k].name, "from") == 0;
    if (!from_stage)
      completion__sources(o, l);
    if (argi >= 1)
      completion__workdirs(o, l);
    return;
  }
  case DF_ARG: {
    if (memchr(t + l->word_start, '=', l->off - l->word_start))
      return;
    if (locate_stage(l->df, l->top_index) == NULL)
      return;
    size_t n;
    const struct know_arg *as = know_auto_args(&n);
    for (size_t i = 0; i < n; i++) {
      struct proto_completion_item *it =
          completion__add(o, as[i].name, PROTO_CI_VARIABLE);
      it->detail = as[i].doc;
      it->sort = completion__fmt(o, "1%s", as[i].name);
    }
    for (size_t i = 0; i < l->df->nglobal; i++) {
      const struct df_instr *g = &l->df->instrs[i];
      for (size_t a = 0; g->kind == DF_ARG && a < g->nargs; a++) {
        const char *w = g->args[a].value;
        const char *eq = strchr(w, '=');
        struct proto_completion_item *it = completion__add(
            o, arena_strndup(&o->arena, w, eq ? (size_t)(eq - w) : strlen(w)),
            PROTO_CI_VARIABLE);
        it->detail = completion__fmt(o, "global ARG (line %u)", g->start_line);
        it->sort = completion__fmt(o, "0%s", it->label);
      }
    }
    for (const char *const *p = know_proxy_args(); *p; p++) {
      struct proto_completion_item *it =
          completion__add(o, *p, PROTO_CI_VARIABLE);
      it->detail = "predefined proxy ARG";
      it->sort = completion__fmt(o, "2%s", *p);
    }
    return;
  }
  default:
    if (may_flag)
      completion__flag_names(o, kind, in);
    return;
  }
}

/* Fills o for byte offset off of d.  o->need is set when a listing must be
 * read first. */
static void completion__collect(struct completion_out *o, size_t off) {
  doc_touch(&o->self->docs, o->d);
  const struct dockerfile *df = doc_model(o->d);
  if (df == NULL)
    return;
  struct locate l;
  locate_at(&l, df, o->d->text, o->d->len, off);
  o->start = l.word_start;
  o->end = l.word_end;
  switch (l.where) {
  case LOCATE_HEREDOC:
  case LOCATE_COMMENT:
    return;
  case LOCATE_DIRECTIVE:
    completion__directive(o, &l);
    return;
  case LOCATE_NOWHERE:
  case LOCATE_KEYWORD:
    /* Only a word of letters is a keyword being typed. */
    for (size_t k = l.word_start; k < l.off; k++)
      if (!((o->d->text[k] | 0x20) >= 'a' && (o->d->text[k] | 0x20) <= 'z'))
        return;
    completion__keywords(o, &l, false);
    return;
  case LOCATE_ARGS:
    completion__args(o, &l);
    return;
  }
}

/* ---- the requests --------------------------------------------------------
 */

static void completion__out_init(struct completion_out *o, struct server *self,
                                 struct doc *d) {
  memset(o, 0, sizeof(*o));
  o->self = self;
  o->d = d;
  arena_init(&o->arena);
}

static void completion__dir_read(struct server *self,
                                 struct completion_dir *dir);

/* Answers a completion request (now, or after what it waited for); returns
 * false with *need or *doc set when it must wait instead (only when need
 * is not NULL: a request that waited twice is answered with what there
 * is). */
static bool completion__answer(struct server *self, json_object *params,
                               json_object *id, struct rpc_pending *p,
                               struct completion_dir **need,
                               struct doc **doc) {
  const char *uri;
  struct lsp_pos pos;
  struct err err;
  err_clear(&err);
  json_object *result = NULL;
  if (proto_read_position(params, &uri, &pos, &err) == 0) {
    struct doc *d = doc_find(&self->docs, uri);
    if (d != NULL) {
      struct completion_out o;
      completion__out_init(&o, self, d);
      completion__collect(&o, doc_offset(d, pos, self->encoding));
      if ((o.need != NULL || o.need_ignore) && need != NULL) {
        *need = o.need_ignore ? NULL : o.need;
        *doc = o.need_ignore ? d : NULL;
        arena_cleanup(&o.arena);
        return false;
      }
      result = proto_completion_list(self, d, o.v, o.n, o.incomplete);
      arena_cleanup(&o.arena);
    }
  }
  if (result == NULL)
    result = proto_completion_list(self, NULL, NULL, 0, false);
  if (p)
    rpc_pending_reply(&self->rpc, p, result);
  else
    rpc_reply(&self->rpc, id, result);
  return true;
}

/* Answers (now) every request waiting for dir, or for doc's .dockerignore
 * (dir NULL). */
static void completion__wake(struct server *self, struct completion_dir *dir,
                             struct doc *doc) {
  struct completion_state *cs = self->completion;
  /* Take the matching waits out first: answering may queue new ones. */
  struct completion_wait *ready = NULL, **pw = &cs->waits;
  while (*pw) {
    struct completion_wait *w = *pw;
    if (dir ? w->dir != dir : w->doc != doc) {
      pw = &w->next;
      continue;
    }
    *pw = w->next;
    w->next = ready;
    ready = w;
  }
  while (ready) {
    struct completion_wait *w = ready;
    ready = w->next;
    struct completion_dir *need = NULL;
    struct doc *nd = NULL;
    /* The .dockerignore first, then the directory: at most two waits. */
    if (!completion__answer(self, w->params, NULL, w->p,
                            w->waited < 2 ? &need : NULL, &nd)) {
      w->waited++;
      w->dir = need;
      w->doc = nd;
      w->next = cs->waits;
      cs->waits = w;
      if (need && !need->loading)
        completion__dir_read(self, need);
      continue;
    }
    json_object_put(w->params);
    free(w);
  }
}

static void completion__on_cancel(void *owner, struct rpc_pending *p) {
  struct completion_state *cs = owner;
  for (struct completion_wait **w = &cs->waits; *w; w = &(*w)->next)
    if ((*w)->p == p) {
      struct completion_wait *x = *w;
      *w = x->next;
      json_object_put(x->params);
      free(x);
      return;
    }
}

int completion_handle(struct server *self, const struct rpc_msg *msg,
                      struct err *err) {
  const char *uri;
  struct lsp_pos pos;
  int rc = proto_read_position(msg->params, &uri, &pos, err);
  if (rc)
    return rc;
  struct completion_dir *need = NULL;
  struct doc *doc = NULL;
  if (completion__answer(self, msg->params, msg->id, NULL, &need, &doc))
    return 0;
  struct completion_state *cs = completion__state(self);
  struct completion_wait *w = xcalloc(1, sizeof(*w));
  w->p =
      rpc_defer(&self->rpc, msg->id, msg->method, completion__on_cancel, cs);
  w->params = json_object_get(msg->params);
  w->dir = need;
  w->doc = doc;
  w->waited = 1;
  w->next = cs->waits;
  cs->waits = w;
  if (need && !need->loading)
    completion__dir_read(self, need);
  return 0;
}

/* ---- reading a directory -------------------------------------------------
 */

static void completion__free_state(struct server *self) {
  struct completion_state *cs = self->completion;
  while (cs->dirs) {
    struct completion_dir *x = cs->dirs;
    cs->dirs = x->next;
    free(x->path);
    strv_cleanup(&x->names);
    free(x);
  }
  free(cs);
  self->completion = NULL;
}

static void completion__on_scandir(uv_fs_t *req) {
  struct completion_dir *dir = req->data;
  struct server *self = dir->self;
  struct completion_state *cs = self->completion;
  dir->loading = false;
  cs->loading--;
  strv_cleanup(&dir->names);
  strv_init(&dir->names);
  if (req->result >= 0) {
    uv_dirent_t ent;
    while (uv_fs_scandir_next(req, &ent) != UV_EOF &&
           dir->names.n < COMPLETION_DIR_MAX) {
      if (dir->tags) {
        if (ent.name[0] == '.' || strstr(ent.name, ".tmp-"))
          continue;
        strv_push(&dir->names, ent.name);
      } else if (ent.type == UV_DIRENT_DIR) {
        struct buf b = BUF_INIT;
        buf_printf(&b, "%s/", ent.name);
        strv_push_take(&dir->names, buf_take(&b));
      } else {
        strv_push(&dir->names, ent.name);
      }
    }
  } else {
    log_debug("completion: cannot list %s: %s", dir->path,
              uv_strerror((int)req->result));
  }
  uv_fs_req_cleanup(req);
  dir->loaded_at = uv_now(self->loop);
  if (cs->stopped) {
    if (cs->loading == 0)
      completion__free_state(self);
    return;
  }
  completion__wake(self, dir, NULL);
}

static void completion__dir_read(struct server *self,
                                 struct completion_dir *dir) {
  dir->req.data = dir;
  int rc = uv_fs_scandir(self->loop, &dir->req, dir->path, 0,
                         completion__on_scandir);
  if (rc < 0) { /* the callback will not run: answer with what there is */
    log_debug("completion: cannot list %s: %s", dir->path, uv_strerror(rc));
    dir->loaded_at = uv_now(self->loop);
    completion__wake(self, dir, NULL);
    return;
  }
  dir->loading = true;
  self->completion->loading++;
}

void completion_ignore_ready(struct server *self, struct doc *d) {
  if (self->completion && !self->completion->stopped)
    completion__wake(self, NULL, d);
}

void completion_forget(struct server *self, struct doc *d) {
  /* Waiting for its .dockerignore, which will never come now: answer with
   * what there is (the document is gone: an empty list). */
  if (self->completion && !self->completion->stopped) {
    d->ignore_ready = true;
    completion__wake(self, NULL, d);
  }
}

void completion_stop(struct server *self) {
  struct completion_state *cs = self->completion;
  if (cs == NULL)
    return;
  /* rpc answers or drops the deferred requests themselves. */
  while (cs->waits) {
    struct completion_wait *w = cs->waits;
    cs->waits = w->next;
    json_object_put(w->params);
    free(w);
  }
  cs->stopped = true;
  if (cs->loading == 0)
    completion__free_state(self);
}

/* ---- completionItem/resolve ----------------------------------------------
 */

int completion_resolve(struct server *self, const struct rpc_msg *msg,
                       struct err *err) {
  if (!json_object_is_type(msg->params, json_type_object)) {
    err_set(err, ERR_INVALID,
            "completionItem/resolve: params must be an "
            "item");
    return RPC_INVALID_PARAMS;
  }
  const char *key = proto_read_completion_key(msg->params);
  const char *doc = NULL, *anchor = NULL;
  if (key && strncmp(key, "i:", 2) == 0) {
    const struct know_instr *k =
        know_instr(df_kind_from_word(key + 2, strlen(key + 2)));
    if (k) {
      doc = k->doc;
      anchor = k->anchor;
    }
  } else if (key && strncmp(key, "f:", 2) == 0) {
    const char *colon = strchr(key + 2, ':');
    if (colon) {
      const struct know_flag *f = know_flag(
          df_kind_from_word(key + 2, (size_t)(colon - key - 2)), colon + 1);
      if (f) {
        doc = f->doc;
        anchor = f->anchor;
      }
    }
  } else if (key && strncmp(key, "m:", 2) == 0) {
    const struct know_mount_type *m = know_mount_type(key + 2);
    if (m) {
      doc = m->doc;
      anchor = m->anchor;
    }
  } else if (key && strncmp(key, "d:", 2) == 0) {
    size_t n;
    const struct know_directive *ds = know_directives(&n);
    for (size_t i = 0; i < n; i++)
      if (strcmp(ds[i].name, key + 2) == 0) {
        doc = ds[i].doc;
        anchor = ds[i].anchor;
      }
  }
  char *text = NULL;
  if (doc) {
    char url[256];
    struct buf b = BUF_INIT;
    buf_printf(&b, "%s\n\n[Dockerfile reference](%s)", doc,
               know_url(anchor, url, sizeof(url)));
    text = buf_take(&b);
  }
  rpc_reply(&self->rpc, msg->id,
            proto_completion_resolved(self, msg->params, NULL, text));
  free(text);
  return 0;
}
