/*
 * format_check.c - the formatter's promises over many real files
 * (analysis/format.h): formatting never changes BuildKit's reading (the
 * dump of every file BuildKit accepts is the same before and after, and
 * the problems of one it refuses are the same), never adds or removes a
 * line, never touches a heredoc body, and formatting the result again
 * changes nothing.  Checked with the default settings and with
 * --operator-newline (idempotence and line count; the dump there is
 * compared with shell strings as the shell splits them, by the core).
 *
 *   format_check PATH...                 files, or directories searched
 *                                        for Dockerfile* and *.dockerfile
 *   format_check --tsv SOURCES.tsv --kinds official,project DIR
 *                                        the real-world corpus' files of
 *                                        those kinds
 *
 * Prints "FAIL ..." per failure and a closing "N passed, N failed" line;
 * exits 1 on any failure, 2 when nothing was checked.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tree_sitter/api.h>

#include "../../analysis/format.h"
#include "../../common/buf.h"
#include "../../model/dockerfile.h"
#include "../../model/dump.h"
#include "tree-sitter-dockerfile.h"

static int passed, failed;
static TSParser *parser;

static void fail(const char *fmt, ...) DW_PRINTF(1, 2);
static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("FAIL ", stdout);
  vprintf(fmt, ap);
  fputc('\n', stdout);
  va_end(ap);
  failed++;
}

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  struct buf b = BUF_INIT;
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    buf_append(&b, chunk, n);
  fclose(f);
  *len = b.len;
  buf_putc(&b, '\0');
  return buf_take(&b);
}

/* BuildKit's reading: the dump when it accepts the file, else its
 * problems. */
static void reading(const char *t, size_t len, struct buf *out) {
  struct dockerfile *df = dockerfile_parse(t, len, NULL);
  if (dockerfile_first_error(df) == NULL)
    dump_buildkit(out, df);
  for (size_t i = 0; i < df->nproblems; i++)
    buf_printf(out, "! %s\n", df->problems[i].message);
  dockerfile_free(df);
}

static size_t count_lines(const char *t, size_t len) {
  size_t n = 1;
  for (size_t i = 0; i < len; i++)
    n += t[i] == '\n';
  return n;
}

/* Formats t; returns the new text (caller frees). */
static char *format(const char *t, size_t len, const struct format_opts *o,
                    size_t *nlen, size_t *nedits) {
  TSTree *tree = ts_parser_parse_string(parser, NULL, t, (uint32_t)len);
  struct dockerfile *df = dockerfile_parse(t, len, tree);
  struct format_edits e = {0};
  format_edits(t, len, df, o, 0, UINT32_MAX, &e);
  char *r = format_apply(t, len, &e, nlen);
  *nedits = e.n;
  format_edits_cleanup(&e);
  dockerfile_free(df);
  ts_tree_delete(tree);
  return r;
}

static void check_file(const char *path) {
  size_t len;
  char *t = read_all(path, &len);
  if (t == NULL) {
    fail("%s: cannot read", path);
    return;
  }
  for (int mode = 0; mode < 2; mode++) {
    struct format_opts o;
    format_opts_init(&o);
    o.operator_newline = mode == 1;
    const char *m = mode ? " (operator-newline)" : "";
    size_t n1, n2, e1, e2;
    char *f1 = format(t, len, &o, &n1, &e1);
    char *f2 = format(f1, n1, &o, &n2, &e2);
    bool ok = true;
    if (e2 != 0 || n1 != n2 || memcmp(f1, f2, n1) != 0) {
      fail("%s%s: not idempotent (%zu edits the second time)", path, m, e2);
      ok = false;
    }
    if (count_lines(t, len) != count_lines(f1, n1)) {
      fail("%s%s: line count changed", path, m);
      ok = false;
    }
    if (mode == 0) {
      struct buf a = BUF_INIT, b = BUF_INIT;
      reading(t, len, &a);
      reading(f1, n1, &b);
      if (strcmp(buf_cstr(&a), buf_cstr(&b)) != 0) {
        fail("%s: BuildKit's dump changed", path);
        ok = false;
      }
      buf_cleanup(&a);
      buf_cleanup(&b);
    }
    if (ok) {
      passed++;
      printf("ok %s%s (%zu edits)\n", path, m, e1);
    }
    free(f1);
    free(f2);
  }
  free(t);
}

static bool is_dockerfile_name(const char *name) {
  size_t n = strlen(name);
  return strncmp(name, "Dockerfile", 10) == 0 ||
         (n > 11 && strcmp(name + n - 11, ".dockerfile") == 0);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void walk(const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) {
    fail("%s: not found", path);
    return;
  }
  if (!S_ISDIR(st.st_mode)) {
    check_file(path);
    return;
  }
  DIR *d = opendir(path);
  if (d == NULL) {
    fail("%s: cannot list", path);
    return;
  }
  struct strv names;
  strv_init(&names);
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    if (de->d_name[0] != '.')
      strv_push(&names, de->d_name);
  closedir(d);
  qsort(names.v, names.n, sizeof(char *), cmp_str);
  for (size_t i = 0; i < names.n; i++) {
    struct buf p = BUF_INIT;
    buf_printf(&p, "%s/%s", path, names.v[i]);
    struct stat cs;
    if (stat(buf_cstr(&p), &cs) == 0 &&
        (S_ISDIR(cs.st_mode) || is_dockerfile_name(names.v[i])))
      walk(buf_cstr(&p));
    buf_cleanup(&p);
  }
  strv_cleanup(&names);
}

static void run_tsv(const char *tsv, const char *kinds, const char *dir) {
  size_t len;
  char *s = read_all(tsv, &len);
  if (s == NULL) {
    fail("%s: cannot read", tsv);
    return;
  }
  char *save = NULL;
  bool header = true;
  for (char *line = strtok_r(s, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    if (header) {
      header = false;
      continue;
    }
    const char *cols[6] = {0};
    int nc = 0;
    for (char *c = line; nc < 6;) {
      cols[nc++] = c;
      char *tab = strchr(c, '\t');
      if (tab == NULL)
        break;
      *tab = '\0';
      c = tab + 1;
    }
    if (nc < 6)
      continue;
    /* Is the kind in the comma-separated list? */
    size_t kl = strlen(cols[5]);
    bool want = false;
    for (const char *k = kinds; *k;) {
      const char *e = strchr(k, ',');
      size_t n = e ? (size_t)(e - k) : strlen(k);
      if (n == kl && strncmp(k, cols[5], n) == 0)
        want = true;
      k += n + (e != NULL);
    }
    if (!want)
      continue;
    struct buf p = BUF_INIT;
    buf_printf(&p, "%s/%s", dir, cols[0]);
    check_file(buf_cstr(&p));
    buf_cleanup(&p);
  }
  free(s);
}

int main(int argc, char **argv) {
  parser = ts_parser_new();
  ts_parser_set_language(parser, tree_sitter_dockerfile());
  if (argc == 6 && strcmp(argv[1], "--tsv") == 0 &&
      strcmp(argv[3], "--kinds") == 0) {
    run_tsv(argv[2], argv[4], argv[5]);
  } else if (argc >= 2) {
    for (int i = 1; i < argc; i++)
      walk(argv[i]);
  } else {
    fprintf(stderr, "usage: format_check PATH... | --tsv SOURCES.tsv "
                    "--kinds K1,K2 DIR\n");
    return 2;
  }
  ts_parser_delete(parser);
  printf("%d passed, %d failed\n", passed, failed);
  if (passed + failed == 0)
    return 2;
  return failed ? 1 : 0;
}
