/*
 * context.c - the build context: its .dockerignore rules (model/
 * dockerignore.c) and COPY's source wildcards (model/glob.c).
 */
#include "context.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/ceilings.h"
#include "../model/glob.h"
#include "layer.h"

/* The rules are model/dockerignore.c's, shared with the analysis, so the
 * editor's CopyIgnoredFile and the build agree on every pattern. */
void match_rules_init(struct match_rules *m) {
  m->di = dockerignore_new("", 0);
  m->has_exceptions = false;
}

void match_rules_cleanup(struct match_rules *m) {
  dockerignore_free(m->di);
  memset(m, 0, sizeof(*m));
}

void match_rules_add(struct match_rules *m, const char *line) {
  dockerignore_add_line(m->di, line, strlen(line));
  m->has_exceptions = dockerignore_has_exceptions(m->di);
}

bool match_has_meta(const char *s) {
  return glob_has_meta(s);
}

/* fsutil's ResolveWildcards: filepath.Match, a bad pattern matching
 * nothing (its error is dropped there, so the wildcard copies nothing). */
bool match_glob(const char *pattern, const char *path) {
  return glob_match(pattern, path, GLOB_GO) == GLOB_MATCH;
}

bool match_rules_excluded(const struct match_rules *m, const char *path) {
  return dockerignore_excludes(m->di, path);
}

static int context__read_ignore(const char *path, struct match_rules *m,
                                struct err *err) {
  struct buf b = BUF_INIT;
  int rc = buf_read_file(path, DW_MAX_BUILD_IGNORE_BYTES, &b, err);
  if (rc == ERR_NOTFOUND)
    err_clear(err); /* no .dockerignore: nothing excluded */
  if (rc < 0) {
    buf_cleanup(&b);
    return rc;
  }
  /* A UTF-8 byte-order mark before the first pattern is not part of it. */
  char *line = b.data ? b.data : (char *)"";
  if (strncmp(line, "\xEF\xBB\xBF", 3) == 0)
    line += 3;
  while (line < b.data + b.len) {
    char *nl = memchr(line, '\n', (size_t)(b.data + b.len - line));
    if (nl)
      *nl = '\0';
    match_rules_add(m, line);
    if (nl == NULL)
      break;
    line = nl + 1;
  }
  buf_cleanup(&b);
  /* patternmatcher refuses the whole file for one bad pattern */
  const char *bad = dockerignore_bad_pattern(m->di);
  if (bad)
    return err_set(err, ERR_SYNTAX, "%s: syntax error in pattern: %s", path,
                   bad);
  return 0;
}

int context_open(const char *dir, const char *dockerfile, struct context *out,
                 struct err *err) {
  memset(out, 0, sizeof(*out));
  char *root = realpath(dir, NULL);
  if (root == NULL)
    return err_set(err, ERR_NOTFOUND, "build context %s: %s", dir,
                   strerror(errno));
  out->root = root;
  match_rules_init(&out->ignore);
  int rc = ERR_NOTFOUND;
  if (dockerfile) {
    struct buf p = BUF_INIT;
    buf_printf(&p, "%s.dockerignore", dockerfile);
    rc = context__read_ignore(p.data, &out->ignore, err);
    buf_cleanup(&p);
  }
  if (rc == ERR_NOTFOUND) {
    struct buf p = BUF_INIT;
    buf_printf(&p, "%s/.dockerignore", root);
    rc = context__read_ignore(p.data, &out->ignore, err);
    buf_cleanup(&p);
  }
  if (rc == ERR_NOTFOUND)
    rc = 0;
  if (rc < 0)
    context_cleanup(out);
  return rc;
}

void context_cleanup(struct context *c) {
  free(c->root);
  match_rules_cleanup(&c->ignore);
  memset(c, 0, sizeof(*c));
}
