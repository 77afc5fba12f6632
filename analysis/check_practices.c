/*
 * check_practices.c - best practices, under our own rule names: base
 * image tags, package managers' caches and prompts, cd/sudo/curl|sh in
 * RUN, ADD where COPY does, the image's final USER, RUN instructions that
 * could be one, pipes without pipefail, and the build-cache order of
 * COPY . and dependency installs.
 *
 * DESIGN
 * RUN's shell-form text (and a RUN heredoc's body) is cut into simple
 * commands the way a POSIX shell would at the top level: words with
 * quotes and escapes resolved, separated by ; & && || | and newlines.
 * That is enough to recognise "apt-get install" and a pipe, and keeps
 * each word's offset so a fix can insert a flag at the right byte.  The
 * words and arrays of every script live in one arena that check_practices
 * frees at the end (a RUN is split once, its pieces die together).
 * Rules about what ends up in the image (caches, package lists) only look
 * at the stages the final image is built from.
 */
#include <stdlib.h>
#include <string.h>

#include "../model/flags.h"
#include "check.h"

/* ---- a small shell splitter --------------------------------------------- */

struct sh_word {
  char *text;        /* in the arena; quotes and escapes resolved */
  size_t start, end; /* offsets in the command text */
};

enum sh_sep { SH_END, SH_SEQ, SH_AND, SH_OR, SH_PIPE };

struct sh_cmd {
  struct sh_word *w; /* in the arena */
  size_t n, cap;
  size_t first; /* first word after VAR=value, sudo, env, exec... */
  size_t prog;  /* the program's word: first, past sudo and its options */
  const char *prog_name; /* its name without a directory, or "" */
  enum sh_sep sep;       /* what follows the command */
};

struct sh_script {
  struct sh_cmd *v; /* in the arena */
  size_t n, cap;
  struct arena *arena; /* borrowed: where the script's memory comes from */
};

static void sh__push_word(struct sh_script *sc, struct sh_cmd *cmd,
                          struct buf *w, size_t s, size_t e) {
  if (cmd->n == cmd->cap) {
    size_t cap = cmd->cap ? cmd->cap * 2 : 8;
    cmd->w = arena_realloc(sc->arena, cmd->w, cmd->cap * sizeof(*cmd->w),
                           cap * sizeof(*cmd->w));
    cmd->cap = cap;
  }
  cmd->w[cmd->n].text = arena_strndup(sc->arena, buf_cstr(w), w->len);
  buf_reset(w);
  cmd->w[cmd->n].start = s;
  cmd->w[cmd->n].end = e;
  cmd->n++;
}

/* The command's name without its directory, or "" when it has none. */
static const char *sh_name(const struct sh_cmd *cmd, size_t at) {
  if (at >= cmd->n)
    return "";
  const char *t = cmd->w[at].text;
  const char *sl = strrchr(t, '/');
  return sl ? sl + 1 : t;
}

static void sh__push_cmd(struct sh_script *sc, struct sh_cmd *cmd,
                         enum sh_sep sep) {
  if (cmd->n == 0)
    return; /* nothing to push; its array is kept for the next command */
  cmd->sep = sep;
  /* Skip assignments and wrappers to find the command itself. */
  size_t f = 0;
  while (f < cmd->n) {
    const char *t = cmd->w[f].text;
    const char *eq = strchr(t, '=');
    bool assign = eq && eq != t &&
                  strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                            "abcdefghijklmnopqrstuvwxyz"
                            "0123456789_") == (size_t)(eq - t);
    if (assign || strcmp(t, "env") == 0 || strcmp(t, "exec") == 0 ||
        strcmp(t, "time") == 0 || strcmp(t, "nohup") == 0 ||
        strcmp(t, "then") == 0 || strcmp(t, "do") == 0 ||
        strcmp(t, "else") == 0 || strcmp(t, "!") == 0)
      f++;
    else
      break;
  }
  cmd->first = f;
  /* The program, found once: the rules ask for it a dozen times. */
  if (strcmp(sh_name(cmd, f), "sudo") == 0) {
    f++;
    while (f < cmd->n && cmd->w[f].text[0] == '-')
      f++;
  }
  cmd->prog = f;
  cmd->prog_name = sh_name(cmd, f);
  if (sc->n == sc->cap) {
    size_t cap = sc->cap ? sc->cap * 2 : 8;
    sc->v = arena_realloc(sc->arena, sc->v, sc->cap * sizeof(*sc->v),
                          cap * sizeof(*sc->v));
    sc->cap = cap;
  }
  sc->v[sc->n++] = *cmd;
  memset(cmd, 0, sizeof(*cmd));
}

/* Bytes that end a run of plain word characters. */
static bool sh__special(char ch) {
  switch (ch) {
  case ' ':
  case '\t':
  case '\r':
  case ';':
  case '&':
  case '|':
  case '\n':
  case '(':
  case ')':
  case '\0':
  case '\\':
  case '\'':
  case '"':
    return true;
  default:
    return false;
  }
}

/* Splits s[0..len) into *sc, allocating from `arena`. */
static void sh_split(const char *s, size_t len, struct arena *arena,
                     struct sh_script *sc) {
  struct sh_cmd cmd;
  memset(&cmd, 0, sizeof(cmd));
  memset(sc, 0, sizeof(*sc));
  sc->arena = arena;
  struct buf w = BUF_INIT;
  bool in_word = false;
  size_t ws = 0;
  for (size_t i = 0; i <= len; i++) {
    char ch = i < len ? s[i] : '\0';
    bool blank = ch == ' ' || ch == '\t' || ch == '\r';
    bool op = ch == ';' || ch == '&' || ch == '|' || ch == '\n' || ch == '(' ||
              ch == ')' || ch == '\0';
    if ((blank || op) && in_word) {
      sh__push_word(sc, &cmd, &w, ws, i);
      in_word = false;
    }
    if (i == len) {
      sh__push_cmd(sc, &cmd, SH_END);
      break;
    }
    if (blank)
      continue;
    if (op) {
      enum sh_sep sep = SH_SEQ;
      if (ch == '&' && i + 1 < len && s[i + 1] == '&') {
        sep = SH_AND;
        i++;
      } else if (ch == '|' && i + 1 < len && s[i + 1] == '|') {
        sep = SH_OR;
        i++;
      } else if (ch == '|') {
        sep = SH_PIPE;
      }
      sh__push_cmd(sc, &cmd, sep);
      continue;
    }
    if (ch == '#' && !in_word) {
      while (i + 1 < len && s[i + 1] != '\n')
        i++;
      continue;
    }
    if (!in_word) {
      in_word = true;
      ws = i;
      buf_reset(&w);
    }
    if (ch == '\\' && i + 1 < len) {
      i++;
      if (s[i] != '\n')
        buf_putc(&w, s[i]);
    } else if (ch == '\'') {
      while (++i < len && s[i] != '\'')
        buf_putc(&w, s[i]);
    } else if (ch == '"') {
      while (++i < len && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < len)
          i++;
        buf_putc(&w, s[i]);
      }
    } else {
      /* A run of plain characters goes at once. */
      size_t j = i + 1;
      while (j < len && !sh__special(s[j]))
        j++;
      buf_append(&w, s + i, j - i);
      i = j - 1;
    }
  }
  buf_cleanup(&w);
}

static bool sh_is(const struct sh_cmd *cmd, const char *name) {
  return strcmp(cmd->prog_name, name) == 0;
}

/* Index of the first non-option word after the command name (the
 * subcommand), or n. */
static size_t sh_sub(const struct sh_cmd *cmd) {
  for (size_t i = cmd->prog + 1; i < cmd->n; i++) {
    const char *t = cmd->w[i].text;
    if (t[0] != '-')
      return i;
    /* Options that take a separate value. */
    if (strcmp(t, "-o") == 0 || strcmp(t, "-c") == 0 || strcmp(t, "-t") == 0 ||
        strcmp(t, "--target-release") == 0)
      i++;
  }
  return cmd->n;
}

static bool sh_has_word(const struct sh_cmd *cmd, const char *word) {
  for (size_t i = 0; i < cmd->n; i++)
    if (strcmp(cmd->w[i].text, word) == 0)
      return true;
  return false;
}

static bool sh_has_substr(const struct sh_cmd *cmd, const char *s) {
  for (size_t i = 0; i < cmd->n; i++)
    if (strstr(cmd->w[i].text, s))
      return true;
  return false;
}

static bool sh_script_has(const struct sh_script *sc, const char *s) {
  for (size_t i = 0; i < sc->n; i++)
    if (sh_has_substr(&sc->v[i], s))
      return true;
  return false;
}

/* A short option cluster such as -qy holds `letter`. */
static bool sh_has_short(const struct sh_cmd *cmd, char letter) {
  for (size_t i = 0; i < cmd->n; i++) {
    const char *t = cmd->w[i].text;
    if (t[0] == '-' && t[1] != '-' && strchr(t + 1, letter))
      return true;
  }
  return false;
}

/* ---- per RUN -------------------------------------------------------------
 */

struct pr_run {
  const struct df_instr *in;
  const struct df_arg *arg; /* the shell text, or NULL for heredoc bodies */
  struct sh_script sc;
  bool has_cache_mount;
  /* A cache or tmpfs mount over /var/lib/apt (or its lists): the lists
   * never reach the layer. */
  bool apt_lists_mounted;
};

/* Inserts `text` after word `w` of a command, when the source allows. */
static void pr__insert_after(struct check_ctx *c, struct diag *d,
                             const struct pr_run *r, const struct sh_word *w,
                             const char *title, const char *text) {
  size_t at;
  if (r->arg == NULL || !check__source_offset(c, r->arg, w->end, &at))
    return;
  check__fix(d, title, check__at(check__pos(c, at)), text);
}

static struct df_range pr__word_range(struct check_ctx *c,
                                      const struct pr_run *r,
                                      const struct sh_word *w) {
  size_t s, e;
  if (r->arg && check__source_offset(c, r->arg, w->start, &s) &&
      check__source_offset(c, r->arg, w->end, &e))
    return check__range(c, s, e);
  return r->in->keyword_range;
}

static void pr__apt(struct check_ctx *c, const struct pr_run *r,
                    bool in_image) {
  bool install = false, update = false, lists = false;
  for (size_t i = 0; i < r->sc.n; i++) {
    const struct sh_cmd *cmd = &r->sc.v[i];
    bool apt_get = sh_is(cmd, "apt-get"), apt = sh_is(cmd, "apt");
    if (!apt_get && !apt)
      continue;
    size_t sub = sh_sub(cmd);
    if (sub == cmd->n)
      continue;
    const char *verb = cmd->w[sub].text;
    if (strcmp(verb, "update") == 0)
      update = true;
    /* apt 2.7+ (what current official images use): `dist-clean` removes
     * the lists as `rm -rf /var/lib/apt/lists` does. */
    if (strcmp(verb, "dist-clean") == 0)
      lists = true;
    if (strcmp(verb, "install") != 0)
      continue;
    install = true;
    const struct sh_word *vw = &cmd->w[sub];
    if (!sh_has_short(cmd, 'y') && !sh_has_word(cmd, "--yes") &&
        !sh_has_word(cmd, "--assume-yes") && !sh_has_short(cmd, 'q') &&
        !sh_has_substr(cmd, "--quiet=2")) {
      struct diag *d =
          check__emit(c, RULE_AptGetMissingYes, pr__word_range(c, r, vw),
                      "%s install without -y waits for a confirmation that "
                      "never comes in a build",
                      apt_get ? "apt-get" : "apt");
      pr__insert_after(c, d, r, vw, "Add -y", " -y");
    }
    if (!sh_has_substr(cmd, "no-install-recommends") &&
        !sh_has_substr(cmd, "Install-Recommends")) {
      struct diag *d = check__emit(
          c, RULE_AptGetNoInstallRecommends, pr__word_range(c, r, vw),
          "%s install without --no-install-recommends also installs "
          "recommended packages",
          apt_get ? "apt-get" : "apt");
      pr__insert_after(c, d, r, vw, "Add --no-install-recommends",
                       " --no-install-recommends");
    }
  }
  /* `clean` leaves the lists; removing them by path (rm, find -delete)
   * does not. */
  for (size_t i = 0; i < r->sc.n; i++)
    if (sh_has_substr(&r->sc.v[i], "/var/lib/apt/lists"))
      lists = true;
  if (install && !lists && in_image && !r->apt_lists_mounted)
    check__emit(c, RULE_AptListsNotRemoved, r->in->keyword_range,
                "apt-get install without 'rm -rf /var/lib/apt/lists/*' keeps "
                "the package lists in the image");
  if (update && !install) {
    /* Only a RUN that does nothing but update: anything else may be a
     * tool that installs with the fresh lists (mk-build-deps, a script). */
    bool only_update = true;
    for (size_t i = 0; i < r->sc.n; i++) {
      const struct sh_cmd *cmd = &r->sc.v[i];
      size_t sub = sh_sub(cmd);
      bool apt = sh_is(cmd, "apt-get") || sh_is(cmd, "apt");
      if (!apt || sub >= cmd->n || strcmp(cmd->w[sub].text, "update") != 0)
        only_update = false;
    }
    if (only_update)
      check__emit(c, RULE_AptUpdateAlone, r->in->keyword_range,
                  "apt-get update in a RUN of its own is cached: a later "
                  "apt-get install uses stale lists; update and install in "
                  "the same RUN");
  }
}

static void pr__apk_pip(struct check_ctx *c, const struct pr_run *r,
                        bool in_image, bool pip_env) {
  for (size_t i = 0; i < r->sc.n; i++) {
    const struct sh_cmd *cmd = &r->sc.v[i];
    size_t sub = sh_sub(cmd);
    if (sub == cmd->n)
      continue;
    const char *verb = cmd->w[sub].text;
    if (sh_is(cmd, "apk") && strcmp(verb, "add") == 0 && in_image &&
        !r->has_cache_mount && !sh_has_word(cmd, "--no-cache") &&
        /* --no-network reads no index, so none is kept. */
        !sh_has_word(cmd, "--no-network") &&
        !sh_script_has(&r->sc, "/var/cache/apk")) {
      struct diag *d = check__emit(c, RULE_ApkAddNoCache,
                                   pr__word_range(c, r, &cmd->w[sub]),
                                   "apk add without --no-cache keeps the "
                                   "package index in the image");
      pr__insert_after(c, d, r, &cmd->w[sub], "Add --no-cache", " --no-cache");
    }
    bool pip = sh_is(cmd, "pip") || sh_is(cmd, "pip3");
    size_t inst = sub;
    if (!pip && (sh_is(cmd, "python") || sh_is(cmd, "python3"))) {
      /* python -m pip install */
      for (size_t k = cmd->first + 1; k + 2 < cmd->n; k++)
        if (strcmp(cmd->w[k].text, "-m") == 0 &&
            strcmp(cmd->w[k + 1].text, "pip") == 0) {
          pip = true;
          inst = k + 2;
          break;
        }
    }
    if (pip && inst < cmd->n && strcmp(cmd->w[inst].text, "install") == 0 &&
        in_image && !pip_env && !r->has_cache_mount &&
        !sh_has_word(cmd, "--no-cache-dir")) {
      struct diag *d = check__emit(c, RULE_PipNoCacheDir,
                                   pr__word_range(c, r, &cmd->w[inst]),
                                   "pip install without --no-cache-dir keeps "
                                   "pip's cache in the image");
      pr__insert_after(c, d, r, &cmd->w[inst], "Add --no-cache-dir",
                       " --no-cache-dir");
    }
  }
}

static void pr__shell_misc(struct check_ctx *c, const struct pr_run *r,
                           bool pipefail_shell) {
  const struct sh_script *sc = &r->sc;
  if (sc->n > 1 && sh_is(&sc->v[0], "cd") && sc->v[0].sep == SH_AND)
    check__emit(c, RULE_CdInRun, pr__word_range(c, r, &sc->v[0].w[0]),
                "Use WORKDIR to change the directory instead of starting RUN "
                "with cd");
  bool pipe = false, pipefail = pipefail_shell;
  for (size_t i = 0; i < sc->n; i++) {
    const struct sh_cmd *cmd = &sc->v[i];
    if (strcmp(sh_name(cmd, cmd->first), "sudo") == 0)
      check__emit(c, RULE_SudoInRun, pr__word_range(c, r, &cmd->w[cmd->first]),
                  "Do not use sudo in RUN: it needs a tty and a sudoers "
                  "entry; use USER to change users");
    if (sh_is(cmd, "set") && sh_has_substr(cmd, "pipefail"))
      pipefail = true;
    if (cmd->sep == SH_PIPE && i + 1 < sc->n) {
      /* `echo "$sum *file" | sha256sum -c -`, the official images' way of
       * checking a download: echo and printf cannot fail, so pipefail
       * would change nothing. */
      bool cannot_fail = sh_is(cmd, "echo") || sh_is(cmd, "printf");
      if (!pipefail && !cannot_fail)
        pipe = true;
      const struct sh_cmd *next = &sc->v[i + 1];
      const char *to = sh_name(next, next->first);
      if (strcmp(to, "sudo") == 0)
        to = sh_name(next, next->first + 1);
      bool shell = strcmp(to, "sh") == 0 || strcmp(to, "bash") == 0 ||
                   strcmp(to, "zsh") == 0 || strcmp(to, "dash") == 0 ||
                   strcmp(to, "ash") == 0;
      if ((sh_is(cmd, "curl") || sh_is(cmd, "wget")) && shell)
        check__emit(c, RULE_CurlPipeShell,
                    pr__word_range(c, r, &cmd->w[cmd->first]),
                    "A download piped into %s runs whatever the server "
                    "sends; download, verify a checksum, then run it",
                    to);
    }
  }
  if (pipe)
    check__emit(c, RULE_PipeWithoutPipefail, r->in->keyword_range,
                "A pipe in RUN succeeds when only its last command does; "
                "add 'set -o pipefail &&' or SHELL [\"/bin/bash\", \"-o\", "
                "\"pipefail\", \"-c\"]");
}

/* ---- stages --------------------------------------------------------------
 */

static bool pr__is_archive(const char *v) {
  static const char *const ext[] = {
      ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2",
      ".tbz", ".tar.xz", ".txz", ".tar.zst", ".gz",
      ".bz2", ".xz",     ".zst", ".tzst",    NULL};
  size_t n = strlen(v);
  for (size_t i = 0; ext[i]; i++) {
    size_t e = strlen(ext[i]);
    if (n >= e && strcasecmp(v + n - e, ext[i]) == 0)
      return true;
  }
  return false;
}

static void pr__add(struct check_ctx *c, const struct df_instr *in) {
  if (in->nargs < 2 || in->nheredocs > 0 || df_instr_flag_at(in, "checksum") ||
      df_instr_flag_at(in, "keep-git-dir") || df_instr_flag_at(in, "unpack"))
    return;
  for (size_t i = 0; i + 1 < in->nargs; i++) {
    const char *v = in->args[i].value;
    if (strchr(v, '$') || strstr(v, "://") || strncmp(v, "git@", 4) == 0 ||
        pr__is_archive(v) || strchr(v, '*') || strchr(v, '?'))
      return;
  }
  const char *repl = check__has_lower(in->keyword) ? "copy" : "COPY";
  if (check__has_lower(in->keyword) && check__has_upper(in->keyword))
    repl = "COPY";
  struct diag *d = check__emit(c, RULE_AddInsteadOfCopy, in->keyword_range,
                               "Use COPY for local files: ADD also fetches "
                               "URLs and unpacks archives, COPY only copies");
  check__fix(d, "Change ADD to COPY", in->keyword_range, repl);
}

static bool pr__image_tagged(const char *base) {
  const char *slash = strrchr(base, '/');
  const char *name = slash ? slash + 1 : base;
  if (strchr(base, '@'))
    return true;
  const char *colon = strchr(name, ':');
  return colon && strcmp(colon + 1, "latest") != 0;
}

/* The stages the final image is made of: the last stage and its base
 * stages. */
static void pr__image_stages(const struct check_ctx *c, bool *in_image) {
  const struct dockerfile *df = c->df;
  if (df->nstages == 0)
    return;
  size_t s = df->nstages - 1;
  for (;;) {
    in_image[s] = true;
    const char *base = df->stages[s].base;
    if (base == NULL)
      break;
    char *lb = check__lower(base);
    size_t next = SIZE_MAX, nnamed;
    const size_t *named = check__stages_named(c, lb, &nnamed);
    for (size_t k = 0; k < nnamed && named[k] < s; k++)
      next = named[k]; /* the last one before s */
    free(lb);
    if (next == SIZE_MAX || in_image[next])
      break;
    s = next;
  }
}

static bool pr__is_install(const struct sh_script *sc) {
  for (size_t i = 0; i < sc->n; i++) {
    const struct sh_cmd *cmd = &sc->v[i];
    size_t sub = sh_sub(cmd);
    const char *verb = sub < cmd->n ? cmd->w[sub].text : "";
    if ((sh_is(cmd, "npm") &&
         (strcmp(verb, "install") == 0 || strcmp(verb, "ci") == 0 ||
          strcmp(verb, "i") == 0)) ||
        (sh_is(cmd, "yarn") &&
         (sub == cmd->n || strcmp(verb, "install") == 0)) ||
        (sh_is(cmd, "pnpm") && strcmp(verb, "install") == 0) ||
        ((sh_is(cmd, "pip") || sh_is(cmd, "pip3")) &&
         strcmp(verb, "install") == 0 && sh_has_word(cmd, "-r")) ||
        (sh_is(cmd, "bundle") && strcmp(verb, "install") == 0) ||
        (sh_is(cmd, "composer") && strcmp(verb, "install") == 0) ||
        (sh_is(cmd, "go") && sub + 1 < cmd->n && strcmp(verb, "mod") == 0 &&
         strcmp(cmd->w[sub + 1].text, "download") == 0))
      return true;
  }
  return false;
}

/* Does the mount (key=value,...) target `dir` or a directory under it
 * that holds it ("/var/lib/apt" covers "/var/lib/apt/lists")?  A target
 * above dir covers it too. */
static bool pr__mount_target_is(const char *spec, const char *dir) {
  static const char *const keys[] = {"target=", "dst=", "destination="};
  for (const char *p = spec; *p;) {
    const char *e = strchr(p, ',');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    for (size_t k = 0; k < 3; k++) {
      size_t kl = strlen(keys[k]);
      if (n <= kl || strncmp(p, keys[k], kl) != 0)
        continue;
      const char *t = p + kl;
      size_t tl = n - kl;
      while (tl > 1 && t[tl - 1] == '/')
        tl--;
      size_t dl = strlen(dir);
      /* target is dir, under dir, or above it. */
      if ((tl >= dl && strncmp(t, dir, dl) == 0 &&
           (tl == dl || t[dl] == '/')) ||
          (tl < dl && strncmp(dir, t, tl) == 0 && dir[tl] == '/'))
        return true;
    }
    p += n;
    if (*p == ',')
      p++;
  }
  return false;
}

static void pr__run_prepare(const struct df_instr *in, struct arena *arena,
                            struct pr_run *r) {
  memset(r, 0, sizeof(*r));
  r->in = in;
  const struct df_flag *m = NULL;
  for (size_t i = 0; i < in->nflags; i++) {
    m = &in->flags[i];
    if (strcmp(m->name, "mount") != 0 || m->value == NULL)
      continue;
    bool cache = strstr(m->value, "type=cache") != NULL;
    if (cache)
      r->has_cache_mount = true;
    if ((cache || strstr(m->value, "type=tmpfs")) &&
        pr__mount_target_is(m->value, "/var/lib/apt"))
      r->apt_lists_mounted = true;
  }
  if (in->form != DF_FORM_SHELL || in->nargs == 0)
    return;
  if (in->nheredocs > 0) {
    /* RUN <<EOF: the script is the body. */
    const struct df_heredoc *h = &in->heredocs[0];
    sh_split(h->content, h->content_len, arena, &r->sc);
    return;
  }
  r->arg = &in->args[0];
  sh_split(r->arg->value, r->arg->len, arena, &r->sc);
}

static void pr__stage(struct check_ctx *c, size_t s, bool in_image,
                      struct arena *arena, const struct df_instr **last_user) {
  const struct dockerfile *df = c->df;
  const struct df_stage *stage = &df->stages[s];
  const struct df_instr *from = &df->instrs[stage->from_instr];
  /* ImageTagLatest: images only, not stages or variables. */
  if (stage->base && strchr(stage->base, '$') == NULL &&
      !check__ieq(stage->base, "scratch")) {
    char *lb = check__lower(stage->base);
    size_t nnamed;
    const size_t *named = check__stages_named(c, lb, &nnamed);
    bool is_stage = nnamed > 0 && named[0] < s;
    free(lb);
    if (!is_stage && !pr__image_tagged(stage->base))
      check__emit(c, RULE_ImageTagLatest, from->args[0].range,
                  strchr(stage->base, ':')
                      ? "Image '%s' uses the latest tag: pin a version so "
                        "builds are repeatable"
                      : "Image '%s' has no tag, so it means latest: pin a "
                        "version so builds are repeatable",
                  stage->base);
  }
  bool pipefail_shell = false, pip_env = false, posix_shell = true;
  const struct df_instr *prev_run = NULL, *copy_all = NULL;
  for (size_t i = stage->from_instr + 1;
       i < stage->from_instr + stage->ninstrs; i++) {
    const struct df_instr *in = &df->instrs[i];
    if (in->invalid) {
      prev_run = NULL;
      continue;
    }
    switch (in->kind) {
    case DF_SHELL: {
      bool pf = false;
      posix_shell = false;
      for (size_t k = 0; k < in->nargs; k++) {
        if (strstr(in->args[k].value, "pipefail"))
          pf = true;
        const char *sl = strrchr(in->args[k].value, '/');
        const char *nm = sl ? sl + 1 : in->args[k].value;
        if (k == 0 && (strcmp(nm, "sh") == 0 || strcmp(nm, "bash") == 0 ||
                       strcmp(nm, "ash") == 0 || strcmp(nm, "zsh") == 0 ||
                       strcmp(nm, "dash") == 0))
          posix_shell = true;
      }
      pipefail_shell = pf;
      break;
    }
    case DF_ENV:
      for (size_t k = 0; k + 1 < in->nargs; k += 3)
        if (strcmp(in->args[k].value, "PIP_NO_CACHE_DIR") == 0)
          pip_env = true;
      break;
    case DF_USER:
      if (in->nargs == 1)
        *last_user = in;
      break;
    case DF_ADD:
      pr__add(c, in);
      break;
    case DF_COPY:
      if (df_instr_flag_at(in, "from") == NULL && copy_all == NULL)
        for (size_t k = 0; k + 1 < in->nargs; k++)
          if (strcmp(in->args[k].value, ".") == 0 ||
              strcmp(in->args[k].value, "./") == 0)
            copy_all = in;
      break;
    case DF_RUN: {
      struct pr_run r;
      pr__run_prepare(in, arena, &r);
      if (posix_shell) {
        pr__apt(c, &r, in_image);
        pr__apk_pip(c, &r, in_image, pip_env);
        if (in->nheredocs == 0)
          pr__shell_misc(c, &r, pipefail_shell);
      }
      if (copy_all && pr__is_install(&r.sc)) {
        struct diag *d = check__emit(
            c, RULE_CopyAllBeforeInstall, copy_all->range,
            "COPY of the whole context before installing dependencies: any "
            "change to any file reruns the install; copy the dependency "
            "manifests first, install, then copy the rest");
        check__related(d, in->range, "dependencies installed here");
        copy_all = NULL;
      }
      if (prev_run && prev_run->nflags == 0 && in->nflags == 0 &&
          prev_run->nheredocs == 0 && in->nheredocs == 0 &&
          prev_run->form == DF_FORM_SHELL && in->form == DF_FORM_SHELL &&
          prev_run->range.end.row + 1 == in->range.start.row) {
        struct diag *d = check__emit(c, RULE_ConsecutiveRun, in->keyword_range,
                                     "This RUN could be joined with the one "
                                     "before it ('&&'): one layer instead "
                                     "of two");
        check__related(d, prev_run->range, "the RUN before");
      }
      prev_run = in;
      continue;
    }
    default:
      break;
    }
    prev_run = NULL;
  }
}

void check_practices(struct check_ctx *c) {
  const struct dockerfile *df = c->df;
  if (df->nstages == 0)
    return;
  bool *in_image = xcalloc(df->nstages, sizeof(*in_image));
  pr__image_stages(c, in_image);
  const struct df_instr *last_user = NULL;
  struct arena arena = ARENA_INIT; /* the RUN scripts' words */
  for (size_t s = 0; s < df->nstages; s++) {
    if (in_image[s] == false) {
      const struct df_instr *ignored = NULL;
      pr__stage(c, s, false, &arena, &ignored);
    } else {
      pr__stage(c, s, true, &arena, &last_user);
    }
  }
  arena_cleanup(&arena);
  if (last_user) {
    const char *u = last_user->args[0].value;
    size_t n = strcspn(u, ":");
    if ((n == 4 && strncmp(u, "root", 4) == 0) || (n == 1 && u[0] == '0'))
      check__emit(c, RULE_LastUserRoot, last_user->args[0].range,
                  "The image's last USER is root: containers run as root "
                  "unless a USER with less privilege follows");
  }
  free(in_image);
}
