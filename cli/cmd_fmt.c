/*
 * cmd_fmt.c - `dockwright fmt`: formats Dockerfiles with the formatter the
 * language server uses (analysis/format.c).
 *
 * Without options each FILE is rewritten in place (a temporary file next
 * to it, then rename) and "-" is formatted from standard input to standard
 * output.  --check writes nothing and names every file that would change;
 * --diff writes nothing and prints a unified diff.  Exit status: 1 when
 * --check found a file that would change, 2 on usage or I/O errors, else 0.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tree_sitter/api.h>
#include <unistd.h>

#include "../analysis/format.h"
#include "../common/buf.h"
#include "../model/dockerfile.h"
#include "cli.h"
#include "tree-sitter-dockerfile.h"

static void fmt_usage(FILE *out) {
  fprintf(out,
          "Usage: dockwright fmt [options] FILE...|-\n\n"
          "Formats Dockerfiles: keywords in upper case, continuation lines "
          "indented,\ntrailing blanks removed; heredoc bodies and quoted "
          "strings untouched, and\nBuildKit reads the result exactly as the "
          "original.\n\n"
          "Options:\n"
          "  --check              write nothing; list the files that would "
          "change and\n"
          "                       exit 1 if there is one\n"
          "  --diff               write nothing; print a unified diff\n"
          "  --indent N           spaces before a continuation line "
          "(default 4)\n"
          "  --operator-newline   start continuation lines with && and ||\n"
          "  -h, --help           this text\n\n"
          "FILE is rewritten in place; - reads standard input and writes "
          "standard output.\n");
}

/* One line of a text: [start, end) without its line end. */
static size_t fmt_line(const char *t, size_t len, size_t p, size_t *end) {
  const char *nl = memchr(t + p, '\n', len - p);
  *end = nl ? (size_t)(nl - t) : len;
  return nl ? *end + 1 : len;
}

struct fmt_lines {
  size_t *start, *end;
  size_t n;
};

static void fmt_split(const char *t, size_t len, struct fmt_lines *l) {
  size_t cap = 64;
  l->start = xmalloc(cap * sizeof(size_t));
  l->end = xmalloc(cap * sizeof(size_t));
  l->n = 0;
  for (size_t p = 0; p < len;) {
    if (l->n == cap) {
      cap *= 2;
      l->start = xrealloc(l->start, cap * sizeof(size_t));
      l->end = xrealloc(l->end, cap * sizeof(size_t));
    }
    l->start[l->n] = p;
    p = fmt_line(t, len, p, &l->end[l->n]);
    l->n++;
  }
}

static bool fmt_same(const char *a, const struct fmt_lines *la, const char *b,
                     const struct fmt_lines *lb, size_t i) {
  size_t na = la->end[i] - la->start[i], nb = lb->end[i] - lb->start[i];
  return na == nb && memcmp(a + la->start[i], b + lb->start[i], na) == 0;
}

/* A unified diff.  The formatter never adds or removes a line, so line i
 * of one text is line i of the other. */
static void fmt_diff(struct buf *o, const char *name, const char *a,
                     size_t alen, const char *b, size_t blen) {
  struct fmt_lines la, lb;
  fmt_split(a, alen, &la);
  fmt_split(b, blen, &lb);
  size_t n = la.n < lb.n ? la.n : lb.n;
  buf_printf(o, "--- %s\n+++ %s\n", name, name);
  const size_t ctx = 3;
  for (size_t i = 0; i < n;) {
    if (fmt_same(a, &la, b, &lb, i)) {
      i++;
      continue;
    }
    /* A hunk: from ctx lines before the change to ctx lines after the
     * last change that is less than 2*ctx lines from the next one. */
    size_t h0 = i > ctx ? i - ctx : 0, last = i;
    for (size_t k = i; k < n && k <= last + 2 * ctx; k++)
      if (!fmt_same(a, &la, b, &lb, k))
        last = k;
    size_t h1 = last + ctx + 1 < n ? last + ctx + 1 : n;
    buf_printf(o, "@@ -%zu,%zu +%zu,%zu @@\n", h0 + 1, h1 - h0, h0 + 1,
               h1 - h0);
    for (size_t k = h0; k < h1; k++) {
      if (fmt_same(a, &la, b, &lb, k)) {
        buf_putc(o, ' ');
        buf_append(o, a + la.start[k], la.end[k] - la.start[k]);
        buf_putc(o, '\n');
        continue;
      }
      buf_putc(o, '-');
      buf_append(o, a + la.start[k], la.end[k] - la.start[k]);
      buf_putc(o, '\n');
      buf_putc(o, '+');
      buf_append(o, b + lb.start[k], lb.end[k] - lb.start[k]);
      buf_putc(o, '\n');
    }
    i = h1;
  }
  free(la.start);
  free(la.end);
  free(lb.start);
  free(lb.end);
}

/* Writes data to path through a temporary file and rename, keeping the
 * file's mode. */
static int fmt_write(const char *path, const char *data, size_t len,
                     struct err *err) {
  struct stat st;
  if (stat(path, &st) < 0)
    return err_set(err, ERR_IO, "%s: %s", path, strerror(errno));
  struct buf tmp = BUF_INIT;
  buf_printf(&tmp, "%s.dwfmt-XXXXXX", path);
  char *tpath = buf_take(&tmp);
  int fd = mkstemp(tpath);
  if (fd < 0) {
    int rc = err_set(err, ERR_IO, "%s: %s", tpath, strerror(errno));
    free(tpath);
    return rc;
  }
  size_t off = 0;
  int rc = 0;
  while (off < len) {
    ssize_t w = write(fd, data + off, len - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0) {
      rc = err_set(err, ERR_IO, "%s: %s", tpath, strerror(errno));
      break;
    }
    off += (size_t)w;
  }
  if (rc == 0 && fchmod(fd, st.st_mode & 07777) < 0)
    rc = err_set(err, ERR_IO, "%s: %s", tpath, strerror(errno));
  if (close(fd) < 0 && rc == 0)
    rc = err_set(err, ERR_IO, "%s: %s", tpath, strerror(errno));
  if (rc == 0 && rename(tpath, path) < 0)
    rc = err_set(err, ERR_IO, "%s: %s", path, strerror(errno));
  if (rc < 0)
    unlink(tpath);
  free(tpath);
  return rc;
}

int cmd_fmt_main(int argc, char **argv) {
  static const struct option opts[] = {
      {"check", no_argument, 0, 'c'},
      {"diff", no_argument, 0, 'd'},
      {"indent", required_argument, 0, 'i'},
      {"operator-newline", no_argument, 0, 'o'},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  bool check = false, diff = false;
  struct format_opts fo;
  format_opts_init(&fo);
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'c':
      check = true;
      break;
    case 'd':
      diff = true;
      break;
    case 'i': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*optarg == '\0' || *end != '\0' || v < 0 ||
          v > (long)FORMAT_INDENT_MAX) {
        cli_error("fmt: --indent must be a number from 0 to %u, not '%s'",
                  FORMAT_INDENT_MAX, optarg);
        return 2;
      }
      fo.indent = (unsigned)v;
      break;
    }
    case 'o':
      fo.operator_newline = true;
      break;
    case 'h':
      fmt_usage(stdout);
      return 0;
    default:
      fmt_usage(stderr);
      return 2;
    }
  }
  if (optind >= argc) {
    fmt_usage(stderr);
    return 2;
  }
  TSParser *parser = ts_parser_new();
  ts_parser_set_language(parser, tree_sitter_dockerfile());
  int status = 0;
  struct buf out = BUF_INIT;
  for (int a = optind; a < argc; a++) {
    const char *path = argv[a];
    bool is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "<stdin>" : path;
    char *text;
    size_t len;
    struct err e;
    err_clear(&e);
    if (cli_read_file(path, &text, &len, &e) < 0) {
      cli_error("%s", e.msg);
      status = 2;
      continue;
    }
    TSTree *tree = ts_parser_parse_string(parser, NULL, text, (uint32_t)len);
    struct dockerfile *df = dockerfile_parse(text, len, tree);
    struct format_edits edits = {0};
    format_edits(text, len, df, &fo, 0, UINT32_MAX, &edits);
    size_t nlen;
    char *nt = format_apply(text, len, &edits, &nlen);
    bool changed = edits.n > 0;
    buf_reset(&out);
    if (diff && changed)
      fmt_diff(&out, name, text, len, nt, nlen);
    if (check && changed)
      buf_printf(&out, "%s: would be reformatted\n", name);
    if (!check && !diff) {
      if (is_stdin) {
        buf_append(&out, nt, nlen);
      } else if (changed && fmt_write(path, nt, nlen, &e) < 0) {
        cli_error("%s", e.msg);
        status = 2;
      }
    }
    if (check && changed && status == 0)
      status = 1;
    fwrite(out.data ? out.data : "", 1, out.len, stdout);
    format_edits_cleanup(&edits);
    free(nt);
    dockerfile_free(df);
    ts_tree_delete(tree);
    free(text);
  }
  buf_cleanup(&out);
  ts_parser_delete(parser);
  return status;
}
