/*
 * check_paths.c - MistypedPath: a path used in CMD, ENTRYPOINT, RUN or
 * WORKDIR that no instruction of its stage creates, while a COPY or ADD
 * of the stage creates one a typo away ("COPY . /opt/sour_code", then
 * "CMD python /opt/source_code/app.py": did you mean /opt/sour_code?).
 *
 * DESIGN
 * The base image is unknown, so the check only speaks where the stage
 * itself made the neighbour: the path and a COPY/ADD destination share
 * every directory above one component, that component is a near miss
 * (a few edits, not the same name), and the shared parent is no system
 * directory a base image fills (/usr/bin, /etc...; at the top level, no
 * standard name such as /usr).  A path under anything the stage creates
 * (a COPY/ADD destination, a file copied into a directory, a WORKDIR),
 * or named by an earlier RUN (which may have made it), is left alone.
 * Paths are the words of the command that start with '/', cut at shell
 * punctuation; a word holding a variable or a wildcard is skipped.
 * The fix rewrites the component where the command's text spells it.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"

struct paths__made {
  char *path;   /* owned; absolute, cleaned */
  size_t instr; /* the instruction that made it */
  bool by_copy; /* COPY/ADD (a candidate), or WORKDIR (only covers) */
};

struct paths__stage {
  struct paths__made *v; /* owned */
  size_t n, cap;
};

/* "/a/./b/../c/" -> "/a/c"; NULL for a relative path with no base. */
static char *paths__clean(const char *base, const char *p) {
  struct buf in = BUF_INIT;
  if (p[0] != '/') {
    if (base == NULL) {
      buf_cleanup(&in);
      return NULL;
    }
    buf_printf(&in, "%s/", base);
  }
  buf_puts(&in, p);
  struct buf out = BUF_INIT;
  const char *s = buf_cstr(&in);
  while (*s) {
    while (*s == '/')
      s++;
    const char *e = s;
    while (*e && *e != '/')
      e++;
    size_t n = (size_t)(e - s);
    if (n == 2 && s[0] == '.' && s[1] == '.') {
      char *sl = out.len ? strrchr(out.data, '/') : NULL;
      out.len = sl ? (size_t)(sl - out.data) : 0;
      if (out.data)
        out.data[out.len] = '\0';
    } else if (n > 0 && !(n == 1 && s[0] == '.')) {
      buf_putc(&out, '/');
      buf_append(&out, s, n);
    }
    s = e;
  }
  buf_cleanup(&in);
  if (out.len == 0)
    buf_putc(&out, '/');
  return buf_take(&out);
}

static void paths__add(struct paths__stage *st, char *path, size_t instr,
                       bool by_copy) {
  if (path == NULL)
    return;
  if (st->n == st->cap) {
    st->cap = st->cap ? st->cap * 2 : 8;
    st->v = xrealloc(st->v, st->cap * sizeof(*st->v));
  }
  st->v[st->n++] = (struct paths__made){path, instr, by_copy};
}

/* Is p the same as, or below, dir? */
static bool paths__under(const char *p, const char *dir) {
  size_t n = strlen(dir);
  if (strcmp(dir, "/") == 0)
    return true;
  return strncmp(p, dir, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

/* Directories base images fill: a near miss there is no evidence. */
static bool paths__system_parent(const char *parent) {
  static const char *const sys[] = {
      "/usr",       "/usr/local",     "/bin",           "/sbin",
      "/usr/bin",   "/usr/sbin",      "/usr/local/bin", "/usr/local/sbin",
      "/etc",       "/lib",           "/lib64",         "/usr/lib",
      "/usr/lib64", "/usr/local/lib", "/usr/share",     "/usr/local/share",
      "/var",       "/var/lib",       "/var/log",       "/var/cache",
      "/tmp",       "/root",          "/home",          "/run",
      "/dev",       "/proc",          "/sys",           "/srv",
      "/mnt",       "/media",         "/boot"};
  for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
    if (strcmp(parent, sys[i]) == 0)
      return true;
  return false;
}

static bool paths__standard_top(const char *name, size_t n) {
  static const char *const top[] = {
      "bin",   "boot",   "dev",   "etc", "home", "lib",  "lib32",
      "lib64", "libx32", "media", "mnt", "opt",  "proc", "root",
      "run",   "sbin",   "srv",   "sys", "tmp",  "usr",  "var"};
  for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
    if (strlen(top[i]) == n && strncmp(top[i], name, n) == 0)
      return true;
  return false;
}

/* How many edits still read as a typo of a name this long. */
static unsigned paths__budget(size_t len) {
  return len <= 2 ? 0 : len <= 5 ? 1 : len <= 12 ? 2 : 3;
}

/* The COPY/ADD destination nearest to used path u (absolute, cleaned), if
 * one is a typo away; *prefix_len gets the length of u's prefix that
 * differs (up to the near-miss component). */
static const struct paths__made *
paths__near(const struct paths__stage *st, const char *u, size_t *prefix_len) {
  const struct paths__made *best = NULL;
  unsigned best_d = ~0u;
  for (size_t i = 0; i < st->n; i++) {
    const struct paths__made *m = &st->v[i];
    if (!m->by_copy)
      continue;
    const char *last = strrchr(m->path, '/');
    size_t plen = (size_t)(last - m->path); /* parent, without the '/' */
    if (plen == 0 && last[1] == '\0')
      continue; /* "/" */
    if (strncmp(u, m->path, plen + 1) != 0)
      continue;
    const char *uc = u + plen + 1;
    size_t un = strcspn(uc, "/");
    const char *mc = last + 1;
    size_t mn = strlen(mc);
    if (un == 0 || (un == mn && strncmp(uc, mc, un) == 0))
      continue;
    char parent[4096];
    if (plen >= sizeof(parent))
      continue;
    memcpy(parent, m->path, plen);
    parent[plen] = '\0';
    if (plen == 0 ? paths__standard_top(uc, un) : paths__system_parent(parent))
      continue;
    char *a = xstrndup(uc, un);
    unsigned d = check__distance(a, mc);
    free(a);
    size_t longer = un > mn ? un : mn;
    if (d > paths__budget(longer) || d >= best_d)
      continue;
    best = m;
    best_d = d;
    *prefix_len = plen + 1 + un;
  }
  return best;
}

/* Where the instruction's text spells `word` as a whole path prefix:
 * a byte offset, or SIZE_MAX. */
static size_t paths__find(const struct check_ctx *c, const struct df_instr *in,
                          const char *word, size_t n) {
  size_t s = in->range.start.byte, e = in->range.end.byte;
  if (e > c->len || s >= e)
    return SIZE_MAX;
  for (size_t i = s; i + n <= e; i++) {
    if (memcmp(c->text + i, word, n) != 0)
      continue;
    char before = i > s ? c->text[i - 1] : ' ';
    char after = i + n < e ? c->text[i + n] : ' ';
    bool path_before = before != ' ' && before != '\t' && before != '"' &&
                       before != '\'' && before != '=' && before != ':' &&
                       before != '[' && before != ',' && before != '(' &&
                       before != ';' && before != '&' && before != '|' &&
                       before != '>' && before != '<';
    bool path_after = after != '/' && after != ' ' && after != '\t' &&
                      after != '"' && after != '\'' && after != '\\' &&
                      after != '\n' && after != '\r' && after != ';' &&
                      after != '&' && after != '|' && after != ')' &&
                      after != ',' && after != ':' && after != ']' &&
                      after != '>' && after != '<';
    if (!path_before && !path_after)
      return i;
  }
  return SIZE_MAX;
}

/* Does text hold one of the commands that make files as a word? */
static bool paths__makes_files(const char *text) {
  static const char *const makers[] = {
      "mkdir", "cp",   "mv",   "ln",    "touch", "git", "tar",
      "unzip", "wget", "curl", "rsync", "tee",   "dd"};
  for (size_t i = 0; i < sizeof(makers) / sizeof(makers[0]); i++) {
    size_t n = strlen(makers[i]);
    for (const char *q = strstr(text, makers[i]); q;
         q = strstr(q + 1, makers[i])) {
      bool start = q == text || strchr(" \t\n;&|(`/", q[-1]) != NULL;
      bool end = q[n] == '\0' || strchr(" \t\n;&|)`", q[n]) != NULL;
      if (start && end)
        return true;
    }
  }
  return false;
}

/* Did a RUN of the stage up to instruction `at` write to the path
 * p[0..n), or may it have (it names the path next to a command that
 * makes files, or a redirection)? */
static bool paths__named_by_run(const struct dockerfile *df, size_t first,
                                size_t at, const char *p, size_t n) {
  char *want = xstrndup(p, n);
  bool named = false;
  for (size_t i = first; i <= at && !named; i++) {
    const struct df_instr *in = &df->instrs[i];
    if (in->kind != DF_RUN)
      continue;
    for (size_t k = 0; k < in->nargs && !named; k++) {
      const char *v = in->args[k].value;
      const char *hit = strstr(v, want);
      /* "pip install -r /x/req.txt" reads it; "mkdir -p /x", "> /x/y",
       * "git clone url /x" may make it */
      named = hit && (strchr(v, '>') || paths__makes_files(v));
    }
    for (size_t h = 0; h < in->nheredocs && !named; h++)
      named = in->heredocs[h].content &&
              strstr(in->heredocs[h].content, want) != NULL;
  }
  free(want);
  return named;
}

static void paths__check_word(struct check_ctx *c,
                              const struct paths__stage *st, size_t first,
                              size_t idx, const char *word, size_t wn,
                              const char *workdir) {
  if (wn == 0 || word[0] != '/' || memchr(word, '$', wn) ||
      memchr(word, '*', wn) || memchr(word, '?', wn) || memchr(word, '[', wn))
    return;
  char *w = xstrndup(word, wn);
  char *u = paths__clean(workdir, w);
  free(w);
  bool made = false;
  for (size_t i = 0; i < st->n && !made; i++)
    made = paths__under(u, st->v[i].path);
  size_t plen = 0;
  const struct paths__made *near = made ? NULL : paths__near(st, u, &plen);
  const struct df_instr *in = &c->df->instrs[idx];
  if (near && !paths__named_by_run(c->df, first, idx, u, plen)) {
    char *bad = xstrndup(u, plen);
    /* once per instruction and path */
    for (size_t k = 0; k < c->out->n; k++) {
      const struct diag *o = &c->out->v[k];
      if (strcmp(o->rule, "MistypedPath") == 0 &&
          o->range.start.row >= in->range.start.row &&
          o->range.start.row <= in->range.end.row &&
          strncmp(o->message, bad, plen) == 0 && o->message[plen] == ' ') {
        free(bad);
        free(u);
        return;
      }
    }
    const char *kw =
        c->df->instrs[near->instr].kind == DF_ADD ? "ADD" : "COPY";
    struct diag *d = check__emit(
        c, RULE_MistypedPath, in->args_range,
        "%s is created by no instruction of this stage, but %s creates %s "
        "(did you mean %s?)",
        bad, kw, near->path, near->path);
    size_t at = paths__find(c, in, bad, plen);
    if (at != SIZE_MAX) {
      d->range = check__range(c, at, at + plen);
      struct buf t = BUF_INIT;
      buf_printf(&t, "Change to %s", near->path);
      check__fix(d, buf_cstr(&t), d->range, near->path);
      buf_cleanup(&t);
    }
    check__related(d, c->df->instrs[near->instr].range, "%s is created here",
                   near->path);
    free(bad);
  }
  free(u);
}

/* The words of a command that may be paths, cut at shell punctuation. */
static void paths__check_text(struct check_ctx *c,
                              const struct paths__stage *st, size_t first,
                              size_t idx, const char *text,
                              const char *workdir) {
  static const char cut[] = " \t\r\n;&|()<>'\"=,:`";
  const char *p = text;
  while (*p) {
    p += strspn(p, cut);
    size_t n = strcspn(p, cut);
    if (n)
      paths__check_word(c, st, first, idx, p, n, workdir);
    p += n;
  }
}

static void paths__stage(struct check_ctx *c, size_t s) {
  const struct dockerfile *df = c->df;
  const struct df_stage *sg = &df->stages[s];
  size_t first = sg->from_instr + 1, end = sg->from_instr + sg->ninstrs;
  struct paths__stage st = {NULL, 0, 0};
  char *workdir = NULL; /* NULL: the base image's, unknown */
  bool workdir_known = false;
  /* CMD and ENTRYPOINT run in the finished image: every COPY counts. */
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = first; i < end && i < df->ninstrs; i++) {
      const struct df_instr *in = &df->instrs[i];
      if (in->invalid)
        continue;
      bool runs = in->kind == DF_RUN;
      bool at_start = in->kind == DF_CMD || in->kind == DF_ENTRYPOINT;
      if (pass == 1) {
        if (at_start)
          for (size_t k = 0; k < in->nargs; k++)
            paths__check_text(c, &st, first, i, in->args[k].value,
                              workdir_known ? workdir : NULL);
        continue;
      }
      if (runs)
        for (size_t k = 0; k < in->nargs; k++)
          paths__check_text(c, &st, first, i, in->args[k].value,
                            workdir_known ? workdir : NULL);
      if (in->kind == DF_WORKDIR && in->nargs == 1 &&
          strchr(in->args[0].value, '$') == NULL) {
        paths__check_word(c, &st, first, i, in->args[0].value,
                          strlen(in->args[0].value),
                          workdir_known ? workdir : NULL);
        char *w =
            paths__clean(workdir_known ? workdir : NULL, in->args[0].value);
        free(workdir);
        workdir = w;
        workdir_known = w != NULL;
        if (w)
          paths__add(&st, xstrdup(w), i, false);
      } else if (in->kind == DF_WORKDIR) {
        free(workdir);
        workdir = NULL;
        workdir_known = false;
      }
      if ((in->kind == DF_COPY || in->kind == DF_ADD) && in->nargs >= 2) {
        const char *dest = in->args[in->nargs - 1].value;
        if (strchr(dest, '$') || strstr(dest, "<<"))
          continue;
        char *d = paths__clean(workdir_known ? workdir : NULL, dest);
        if (d == NULL)
          continue;
        size_t dl = strlen(dest);
        bool into_dir = dest[dl - 1] == '/' || in->nargs > 2;
        /* a file copied into a directory: dest/name */
        for (size_t k = 0; into_dir && k + 1 < in->nargs; k++) {
          const char *src = in->args[k].value;
          if (strpbrk(src, "$*?[") || strstr(src, "://") ||
              strncmp(src, "<<", 2) == 0)
            continue;
          char *sc = paths__clean("/", src);
          const char *base = strrchr(sc, '/') + 1;
          if (*base) {
            struct buf f = BUF_INIT;
            buf_printf(&f, "%s/%s", strcmp(d, "/") ? d : "", base);
            paths__add(&st, buf_take(&f), i, true);
          }
          free(sc);
        }
        paths__add(&st, d, i, true);
      }
    }
  }
  for (size_t i = 0; i < st.n; i++)
    free(st.v[i].path);
  free(st.v);
  free(workdir);
}

void check_paths(struct check_ctx *c) {
  for (size_t s = 0; s < c->df->nstages; s++)
    paths__stage(c, s);
}
