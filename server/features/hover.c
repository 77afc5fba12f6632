/*
 * hover.c - textDocument/hover.
 *
 * What is under the cursor, in this order, each a section of the answer:
 *   - an instruction keyword: its signature and documentation (the
 *     knowledge table), with a link to the Dockerfile reference;
 *   - a flag: its documentation; inside `--mount=`, the mount type's or the
 *     key's;
 *   - a variable reference ($NAME, ${NAME...}): its value as BuildKit
 *     scopes it there and the line that set it (locate_vars: global ARG,
 *     FROM, stage ARG and ENV, a parent stage's ENV);
 *   - a stage name (FROM's base, `--from=`): the stage's base and line;
 *   - a parser directive's name: its documentation;
 *   - a diagnostic's range: the message, the rule's summary and its page;
 *   - FROM's image when the local store has it: its digest, the size of its
 *     manifest and its platforms.  The store is read on the thread pool
 *     (imagestore.c does blocking reads) and the request deferred until
 *     then; an answer whose document changed meanwhile is null.
 * Markdown, turned into plain text by protocol.c for a client that prefers
 * it.  The range is the word (or keyword, flag, variable) hovered.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../analysis/analysis.h"
#include "../../common/buf.h"
#include "../../model/knowledge.h"
#include "../hooks.h"
#include "../imagestore.h"
#include "../methods.h"
#include "../protocol.h"
#include "../server.h"
#include "diagnostics.h"
#include "locate.h"

struct hover_out {
  struct buf md;
  size_t start, end;
  bool has_range;
  char *image; /* FROM's image word, normalised; owned; NULL: none */
  size_t image_start, image_end;
};

/* A hover waiting for the image store. */
struct hover_job {
  uv_work_t req;
  struct server *self;
  struct rpc_pending *p; /* NULL once cancelled or the session stopped */
  char *uri;             /* owned */
  uint64_t revision;
  char *root; /* owned */
  struct hover_out out;
  struct imagestore_info info;
  int rc;
  struct hover_job *next;
};

static void hover__section(struct hover_out *h, size_t start, size_t end) {
  if (h->md.len > 0)
    buf_puts(&h->md, "\n\n---\n\n");
  if (!h->has_range) {
    h->start = start;
    h->end = end;
    h->has_range = true;
  }
}

static void hover__link(struct hover_out *h, const char *anchor) {
  char url[256];
  buf_printf(&h->md, "\n\n[Dockerfile reference](%s)",
             know_url(anchor, url, sizeof(url)));
}

static void hover__instr(struct hover_out *h, const struct df_instr *in) {
  const struct know_instr *k = know_instr(in->kind);
  if (k == NULL)
    return;
  hover__section(h, in->keyword_range.start.byte, in->keyword_range.end.byte);
  buf_printf(&h->md, "```dockerfile\n%s", k->keyword);
  for (const char *const *p = k->parameters; *p; p++)
    buf_printf(&h->md, " %s", *p);
  buf_printf(&h->md, "\n```\n%s", k->doc);
  hover__link(h, k->anchor);
}

/* The flag word [ws, we) of instruction in. */
static void hover__flag(struct hover_out *h, const struct locate *l, size_t ws,
                        size_t we) {
  const char *t = l->text;
  size_t eq = ws;
  while (eq < we && t[eq] != '=')
    eq++;
  char *name = strndup(t + ws + 2, eq - ws - 2);
  const struct know_flag *f = know_flag(l->instr->kind, name);
  free(name);
  if (f == NULL)
    return;
  hover__section(h, ws, we);
  if (f->kind == KNOW_BOOL)
    buf_printf(&h->md, "`--%s`: %s", f->name, f->doc);
  else
    buf_printf(&h->md, "`--%s=%s`: %s", f->name, f->placeholder, f->doc);
  if (f->value == KNOW_V_ENUM)
    buf_printf(&h->md, "\n\nValues: `%s`", f->values);
  if (f->value == KNOW_V_MOUNT && l->off > eq) {
    /* The mount segment under the cursor. */
    size_t seg = eq + 1;
    for (size_t k = eq + 1; k < l->off; k++)
      if (t[k] == ',')
        seg = k + 1;
    size_t se = seg;
    while (se < we && t[se] != ',' && t[se] != '=')
      se++;
    char *key = strndup(t + seg, se - seg);
    size_t ve = se;
    while (ve < we && t[ve] != ',')
      ve++;
    if (strcasecmp(key, "type") == 0 && se < we && t[se] == '=') {
      char *type = strndup(t + se + 1, ve - se - 1);
      const struct know_mount_type *mt = know_mount_type(type);
      if (mt) {
        buf_printf(&h->md, "\n\n`type=%s`: %s", mt->name, mt->doc);
        hover__link(h, mt->anchor);
        free(type);
        free(key);
        return;
      }
      free(type);
    } else {
      const struct know_mount_key *mk = know_mount_key(key);
      if (mk)
        buf_printf(&h->md, "\n\n`%s`: %s", mk->key, mk->doc);
    }
    free(key);
  }
  hover__link(h, f->anchor);
}

static const char *hover__origin(enum locate_var_origin o) {
  switch (o) {
  case LOCATE_VAR_ARG:
    return "ARG";
  case LOCATE_VAR_ENV:
    return "ENV";
  case LOCATE_VAR_AUTOMATIC:
    return "automatic platform ARG";
  case LOCATE_VAR_PROXY:
    return "predefined proxy ARG";
  }
  return "";
}

/* A $NAME or ${NAME} around the cursor: true when found. */
static bool hover__variable(struct hover_out *h, const struct locate *l) {
  const char *t = l->text;
  size_t s = l->off, e = l->off;
  while (s > l->word_start && locate_is_name_char(t[s - 1]))
    s--;
  while (e < l->word_end && locate_is_name_char(t[e]))
    e++;
  /* The cursor on the "$" or "{" itself. */
  if (s == e && s < l->word_end && (t[s] == '$' || t[s] == '{')) {
    s = e = s + (t[s] == '$' ? 1 : 0);
    if (s < l->word_end && t[s] == '{')
      s = e = s + 1;
    while (e < l->word_end && locate_is_name_char(t[e]))
      e++;
  }
  if (s == e)
    return false;
  size_t dollar;
  if (s >= 1 && t[s - 1] == '$')
    dollar = s - 1;
  else if (s >= 2 && t[s - 1] == '{' && t[s - 2] == '$')
    dollar = s - 2;
  else
    return false;
  if (dollar > l->word_start && t[dollar - 1] == l->df->escape)
    return false;
  struct locate_vars vs;
  locate_vars(&vs, l->df, l->top_index);
  const struct locate_var *v = locate_var_find(&vs, t + s, e - s);
  hover__section(h, dollar, e < l->len && t[e] == '}' ? e + 1 : e);
  enum df_kind k = l->instr->kind;
  if (v == NULL && (k == DF_RUN || k == DF_CMD || k == DF_ENTRYPOINT)) {
    /* BuildKit leaves these to the shell at run time. */
    buf_printf(&h->md,
               "`%.*s` is not set by this Dockerfile here: the shell sees it "
               "only if the base image's environment sets it",
               (int)(e - s), t + s);
  } else if (v == NULL) {
    buf_printf(&h->md,
               "`%.*s` is not declared here: BuildKit expands it to an empty "
               "string (declare it with ARG or ENV in this stage)",
               (int)(e - s), t + s);
  } else {
    if (v->value && v->origin == LOCATE_VAR_AUTOMATIC)
      buf_printf(&h->md, "`%s`: set by BuildKit (e.g. `%s`)", v->name,
                 v->value);
    else if (v->value && v->raw)
      buf_printf(&h->md, "`%s` = `%s` (written `%s`)", v->name, v->value,
                 v->raw);
    else if (v->value)
      buf_printf(&h->md, "`%s` = `%s`", v->name, v->value);
    else
      buf_printf(&h->md, "`%s` (no default value)", v->name);
    buf_printf(&h->md, "\n\n%s", hover__origin(v->origin));
    if (v->line)
      buf_printf(&h->md, " on line %u", v->line);
    if (v->stage)
      buf_printf(&h->md, " (inherited from stage `%s`)", v->stage);
  }
  locate_vars_cleanup(&vs);
  return true;
}

static void hover__stage(struct hover_out *h, const struct locate *l, size_t s,
                         size_t e) {
  const struct df_stage *st =
      locate_stage_named(l->df, l->text + s, e - s, l->top_index);
  if (st == NULL)
    return;
  hover__section(h, s, e);
  buf_printf(&h->md, "Stage %zu", st->index);
  if (st->name)
    buf_printf(&h->md, " `%s`", st->name);
  buf_printf(&h->md, ": `FROM %s` on line %u", st->base ? st->base : "?",
             l->df->instrs[st->from_instr].start_line);
}

static void hover__directive(struct hover_out *h, const struct locate *l) {
  size_t n;
  const struct know_directive *ds = know_directives(&n);
  const char *t = l->text;
  size_t p = l->line_start;
  while (p < l->len && (t[p] == ' ' || t[p] == '\t' || t[p] == '#'))
    p++;
  size_t e = p;
  while (e < l->len && locate_is_name_char(t[e]))
    e++;
  for (size_t i = 0; i < n; i++)
    if (strlen(ds[i].name) == e - p &&
        strncasecmp(ds[i].name, t + p, e - p) == 0) {
      hover__section(h, p, e);
      buf_printf(&h->md, "`# %s=`: %s", ds[i].name, ds[i].doc);
      hover__link(h, ds[i].anchor);
    }
}

static void hover__diagnostics(struct server *self, struct doc *d,
                               struct hover_out *h, size_t off) {
  const struct diag_list *l = diagnostics_current(self, d);
  if (l == NULL)
    return;
  size_t nr;
  const struct analysis_rule *rules = analysis_rules(&nr);
  for (size_t i = 0; i < l->n; i++) {
    const struct diag *g = &l->v[i];
    if (off < g->range.start.byte || off > g->range.end.byte)
      continue;
    hover__section(h, g->range.start.byte, g->range.end.byte);
    buf_printf(&h->md, "**%s**: %s", g->rule, g->message ? g->message : "");
    for (size_t k = 0; k < nr; k++)
      if (strcmp(rules[k].id, g->rule) == 0)
        buf_printf(&h->md, "\n\n%s. [%s](%s)", rules[k].summary, g->rule,
                   rules[k].doc_url);
  }
}

/* ---- the image store, on the thread pool ------------------------------- */

static void hover__work(uv_work_t *req) {
  struct hover_job *j = req->data;
  struct err err;
  err_clear(&err);
  j->rc = imagestore_lookup(j->root, j->out.image, &j->info, &err);
}

static void hover__after_work(uv_work_t *req, int status) {
  struct hover_job *j = req->data;
  struct server *self = j->self;
  for (struct hover_job **pp = &self->hover_jobs; *pp; pp = &(*pp)->next)
    if (*pp == j) {
      *pp = j->next;
      break;
    }
  struct doc *d = j->p ? doc_find(&self->docs, j->uri) : NULL;
  if (j->p && (d == NULL || d->revision != j->revision)) {
    rpc_pending_reply(&self->rpc, j->p, NULL); /* the text moved on */
  } else if (j->p) {
    struct hover_out *h = &j->out;
    if (status == 0 && j->rc == 0) {
      hover__section(h, h->image_start, h->image_end);
      buf_printf(&h->md, "Image `%s` in the local store\n\n- digest `%s`",
                 j->info.name, j->info.digest);
      buf_printf(&h->md, "\n- manifest: %llu bytes%s%s",
                 (unsigned long long)j->info.size,
                 j->info.media_type ? ", " : "",
                 j->info.media_type ? j->info.media_type : "");
      if (j->info.platforms)
        buf_printf(&h->md, "\n- platforms: %s", j->info.platforms);
    }
    rpc_pending_reply(&self->rpc, j->p,
                      proto_hover(self, d, h->md.len ? buf_cstr(&h->md) : NULL,
                                  h->start, h->end));
  }
  imagestore_info_cleanup(&j->info);
  buf_cleanup(&j->out.md);
  free(j->out.image);
  free(j->uri);
  free(j->root);
  free(j);
}

static void hover__on_cancel(void *owner, struct rpc_pending *p) {
  struct hover_job *j = owner;
  (void)p;
  j->p = NULL; /* rpc answers it */
}

/* Defers the answer until the store was read; false when it cannot be
 * queued (answer now, without the image). */
static bool hover__defer(struct server *self, const struct rpc_msg *msg,
                         struct doc *d, struct hover_out *h) {
  struct hover_job *j = xcalloc(1, sizeof(*j));
  j->self = self;
  j->uri = xstrdup(d->uri);
  j->revision = d->revision;
  j->root = imagestore_root(self->settings.root);
  j->out = *h; /* takes the text and the image */
  j->req.data = j;
  if (uv_queue_work(self->loop, &j->req, hover__work, hover__after_work) < 0) {
    *h = j->out;
    free(j->uri);
    free(j->root);
    free(j);
    return false;
  }
  j->p = rpc_defer(&self->rpc, msg->id, msg->method, hover__on_cancel, j);
  j->next = self->hover_jobs;
  self->hover_jobs = j;
  return true;
}

int hover_handle(struct server *self, const struct rpc_msg *msg,
                 struct err *err) {
  const char *uri;
  struct lsp_pos pos;
  int rc = proto_read_position(msg->params, &uri, &pos, err);
  if (rc)
    return rc;
  const struct dockerfile *df;
  struct doc *d = doc_use(&self->docs, uri, &df);
  if (df == NULL) {
    rpc_reply(&self->rpc, msg->id, NULL);
    return 0;
  }
  size_t off = doc_offset(d, pos, self->encoding);
  struct locate l;
  locate_at(&l, df, d->text, d->len, off);
  struct hover_out h;
  memset(&h, 0, sizeof(h));
  buf_init(&h.md);
  const char *t = d->text;
  switch (l.where) {
  case LOCATE_KEYWORD:
    if (l.top)
      hover__instr(&h, l.top);
    break;
  case LOCATE_DIRECTIVE:
    hover__directive(&h, &l);
    break;
  case LOCATE_ARGS: {
    size_t ws = l.word_start, we = l.word_end;
    const struct df_instr *sub = l.top->kind == DF_ONBUILD ? l.top->sub : NULL;
    if (sub && off <= sub->keyword_range.end.byte &&
        off >= sub->keyword_range.start.byte) {
      hover__instr(&h, sub); /* ONBUILD's trigger keyword */
      break;
    }
    if (hover__variable(&h, &l))
      break;
    if (we - ws > 2 && t[ws] == '-' && t[ws + 1] == '-') {
      size_t eq = ws;
      while (eq < we && t[eq] != '=')
        eq++;
      /* --from=<stage> names a stage when the cursor is on the value. */
      if (off > eq && eq < we && eq - ws == 6 &&
          strncmp(t + ws, "--from", 6) == 0) {
        hover__stage(&h, &l, eq + 1, we);
        if (h.has_range)
          break;
      }
      hover__flag(&h, &l, ws, we);
      break;
    }
    /* FROM's base: an earlier stage, or an image maybe in the store. */
    if (l.instr->kind == DF_FROM && l.nwords_before == l.nflags_before) {
      hover__stage(&h, &l, ws, we);
      if (!h.has_range && we > ws) {
        char *word = strndup(t + ws, we - ws);
        h.image = imagestore_normalize(word);
        h.image_start = ws;
        h.image_end = we;
        free(word);
      }
    }
    break;
  }
  default:
    break;
  }
  hover__diagnostics(self, d, &h, off);
  if (h.image && hover__defer(self, msg, d, &h))
    return 0; /* answered when the store was read */
  rpc_reply(
      &self->rpc, msg->id,
      proto_hover(self, d, h.md.len ? buf_cstr(&h.md) : NULL, h.start, h.end));
  buf_cleanup(&h.md);
  free(h.image);
  return 0;
}

void hover_stop(struct server *self) {
  /* rpc answers or drops the deferred requests themselves. */
  for (struct hover_job *j = self->hover_jobs; j; j = j->next)
    j->p = NULL;
}
