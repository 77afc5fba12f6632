/*
 * shell_tables.c - runs BuildKit's shell conformance tables through the
 * expander.
 *
 *   shell_tables ENVVARTEST WORDSTEST
 *
 * The tables come from moby/buildkit frontend/dockerfile/shell and are
 * read the way its lex_test.go reads them:
 *   envVarTest  "P|input|expected" with P = A (all), U (Unix), W (Windows,
 *               skipped); fields trimmed; "error" means the call must fail.
 *               Environment: PWD=/home SHELL=bash KOREAN=한국어 NULL=.
 *   wordsTest   "input|w1,w2,..." through expand_words; "ENV k=v" lines
 *               add variables for the rows after them; only leading spaces
 *               of the expected side are trimmed, so trailing spaces count.
 * Lines starting with '#' are comments.  Every failure is printed with
 * its line number; the last line is "N passed, N failed" and the exit
 * status is non-zero when anything failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/buf.h"
#include "../../common/err.h"
#include "../../model/expand.h"

struct tally {
  unsigned passed;
  unsigned failed;
};

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
         c == '\r';
}

/* Trims in place and returns the start of the trimmed text. */
static char *trim(char *s, int left_only) {
  while (is_space(*s))
    s++;
  if (!left_only) {
    size_t n = strlen(s);
    while (n > 0 && is_space(s[n - 1]))
      s[--n] = '\0';
  }
  return s;
}

static char *trim_left_spaces(char *s) {
  while (*s == ' ')
    s++;
  return s;
}

/* Reads one line without its "\n" or "\r\n" (as Go's bufio.ScanLines);
 * returns NULL at end of file. */
static char *read_line(FILE *f, char **line, size_t *cap) {
  ssize_t n = getline(line, cap, f);
  if (n < 0)
    return NULL;
  if (n > 0 && (*line)[n - 1] == '\n')
    (*line)[--n] = '\0';
  if (n > 0 && (*line)[n - 1] == '\r')
    (*line)[--n] = '\0';
  return *line;
}

static int run_env_var_test(const char *path, struct tally *t) {
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    perror(path);
    return -1;
  }
  struct strv envs = STRV_INIT;
  strv_push(&envs, "PWD=/home");
  strv_push(&envs, "SHELL=bash");
  strv_push(&envs, "KOREAN=\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4");
  strv_push(&envs, "NULL=");
  struct expand_env env = expand_env_from_strv(&envs);
  struct expand_opts opts = {'\\', 0};

  char *line = NULL;
  size_t cap = 0;
  unsigned lineno = 0;
  while (read_line(f, &line, &cap) != NULL) {
    lineno++;
    if (line[0] == '#')
      continue;
    char *s = trim(line, 0);
    if (*s == '\0')
      continue;

    char *bar1 = strchr(s, '|');
    char *bar2 = bar1 != NULL ? strchr(bar1 + 1, '|') : NULL;
    if (bar2 == NULL || strchr(bar2 + 1, '|') != NULL) {
      printf("%s:%u: malformed row: %s\n", path, lineno, s);
      t->failed++;
      continue;
    }
    *bar1 = '\0';
    *bar2 = '\0';
    const char *platform = trim(s, 0);
    const char *input = trim(bar1 + 1, 0);
    const char *expected = trim(bar2 + 1, 0);
    if (strcmp(platform, "W") == 0)
      continue;

    char *got = NULL;
    struct err e;
    err_clear(&e);
    int rc = expand_word(input, strlen(input), &opts, &env, NULL, &got, &e);
    int want_error = strcmp(expected, "error") == 0;
    int ok = want_error ? rc < 0 : rc == 0 && strcmp(got, expected) == 0;
    if (ok) {
      t->passed++;
    } else {
      t->failed++;
      if (rc < 0)
        printf("%s:%u: input [%s] expected [%s] got error: %s\n", path, lineno,
               input, expected, e.msg);
      else
        printf("%s:%u: input [%s] expected [%s] got [%s]\n", path, lineno,
               input, expected, got);
    }
    free(got);
  }
  free(line);
  strv_cleanup(&envs);
  fclose(f);
  return 0;
}

static void print_list(const struct strv *sv) {
  for (size_t i = 0; i < sv->n; i++)
    printf("%s[%s]", i ? "," : "", sv->v[i]);
}

static int run_words_test(const char *path, struct tally *t) {
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    perror(path);
    return -1;
  }
  struct strv envs = STRV_INIT;
  struct expand_env env = expand_env_from_strv(&envs);
  struct expand_opts opts = {'\\', 0};

  char *line = NULL;
  size_t cap = 0;
  unsigned lineno = 0;
  while (read_line(f, &line, &cap) != NULL) {
    lineno++;
    if (line[0] == '#' || line[0] == '\0')
      continue;
    if (strncmp(line, "ENV ", 4) == 0) {
      strv_push(&envs, trim_left_spaces(line + 3));
      continue;
    }
    char *bar = strchr(line, '|');
    if (bar == NULL || strchr(bar + 1, '|') != NULL) {
      printf("%s:%u: malformed row: %s\n", path, lineno, line);
      t->failed++;
      continue;
    }
    *bar = '\0';
    const char *input = trim(line, 0);

    struct strv expected = STRV_INIT;
    char *p = trim_left_spaces(bar + 1);
    for (;;) {
      char *comma = strchr(p, ',');
      if (comma == NULL) {
        strv_push(&expected, p);
        break;
      }
      strv_pushn(&expected, p, (size_t)(comma - p));
      p = comma + 1;
    }

    struct strv got = STRV_INIT;
    struct err e;
    err_clear(&e);
    if (expand_words(input, strlen(input), &opts, &env, NULL, &got, &e) < 0)
      strv_push(&got, "error");

    int ok = got.n == expected.n;
    for (size_t i = 0; ok && i < got.n; i++)
      ok = strcmp(got.v[i], expected.v[i]) == 0;
    if (ok) {
      t->passed++;
    } else {
      t->failed++;
      printf("%s:%u: input [%s] expected ", path, lineno, input);
      print_list(&expected);
      printf(" got ");
      print_list(&got);
      if (e.code != 0)
        printf(" (%s)", e.msg);
      printf("\n");
    }
    strv_cleanup(&expected);
    strv_cleanup(&got);
  }
  free(line);
  strv_cleanup(&envs);
  fclose(f);
  return 0;
}

int main(int argc, char **argv) {
  struct tally t = {0, 0};
  if (argc != 3) {
    fprintf(stderr, "usage: %s ENVVARTEST WORDSTEST\n", argv[0]);
    return 2;
  }
  struct tally env_t = {0, 0}, words_t = {0, 0};
  if (run_env_var_test(argv[1], &env_t) < 0 ||
      run_words_test(argv[2], &words_t) < 0)
    return 2;
  printf("%s: %u passed, %u failed\n", argv[1], env_t.passed, env_t.failed);
  printf("%s: %u passed, %u failed\n", argv[2], words_t.passed,
         words_t.failed);
  t.passed = env_t.passed + words_t.passed;
  t.failed = env_t.failed + words_t.failed;
  printf("%u passed, %u failed\n", t.passed, t.failed);
  return t.failed != 0;
}
