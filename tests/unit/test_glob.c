/*
 * test_glob.c - model/glob.c, the one filepath.Match port: Go's own
 * table (path/filepath match_test.go), the patternmatcher flavour used by
 * .dockerignore, and where the two matchers it replaced differed (an
 * unterminated '[', '!' as negation, runes for '?', recursion).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../model/dockerignore.h"
#include "../../model/glob.h"

static const struct {
  const char *pattern, *name;
  int want; /* GLOB_MATCH, GLOB_NOMATCH, GLOB_BAD */
} go_table[] = {
    {"abc", "abc", 1},
    {"*", "abc", 1},
    {"*c", "abc", 1},
    {"a*", "a", 1},
    {"a*", "abc", 1},
    {"a*", "ab/c", 0},
    {"a*/b", "abc/b", 1},
    {"a*/b", "a/c/b", 0},
    {"a*b*c*d*e*/f", "axbxcxdxe/f", 1},
    {"a*b*c*d*e*/f", "axbxcxdxexxx/f", 1},
    {"a*b*c*d*e*/f", "axbxcxdxe/xxx/f", 0},
    {"a*b*c*d*e*/f", "axbxcxdxexxx/fff", 0},
    {"a*b?c*x", "abxbbxdbxebxczzx", 1},
    {"a*b?c*x", "abxbbxdbxebxczzy", 0},
    {"ab[c]", "abc", 1},
    {"ab[b-d]", "abc", 1},
    {"ab[e-g]", "abc", 0},
    {"ab[^c]", "abc", 0},
    {"ab[^b-d]", "abc", 0},
    {"ab[^e-g]", "abc", 1},
    {"a\\*b", "a*b", 1},
    {"a\\*b", "ab", 0},
    {"a?b",
     "a\xE2\x98\xBA"
     "b",
     1},
    {"a[^a]b",
     "a\xE2\x98\xBA"
     "b",
     1},
    {"a???b",
     "a\xE2\x98\xBA"
     "b",
     0},
    {"a[^a][^a][^a]b",
     "a\xE2\x98\xBA"
     "b",
     0},
    {"[a-\xCE\xB6]*", "\xCE\xB1", 1},
    {"*[a-\xCE\xB6]", "A", 0},
    {"a?b", "a/b", 0},
    {"a*b", "a/b", 0},
    {"[\\]a]", "]", 1},
    {"[\\-]", "-", 1},
    {"[x\\-]", "x", 1},
    {"[x\\-]", "-", 1},
    {"[x\\-]", "z", 0},
    {"[\\-x]", "x", 1},
    {"[\\-x]", "-", 1},
    {"[\\-x]", "a", 0},
    {"[]a]", "]", GLOB_BAD},
    {"[-]", "-", GLOB_BAD},
    {"[x-]", "x", GLOB_BAD},
    {"[x-]", "-", GLOB_BAD},
    {"[x-]", "z", GLOB_BAD},
    {"[-x]", "x", GLOB_BAD},
    {"[-x]", "-", GLOB_BAD},
    {"[-x]", "a", GLOB_BAD},
    {"\\", "a", GLOB_BAD},
    {"[a-b-c]", "a", GLOB_BAD},
    {"[", "a", GLOB_BAD},
    {"[^", "a", GLOB_BAD},
    {"[^bc", "a", GLOB_BAD},
    {"a[", "a", GLOB_BAD},
    {"a[", "ab", GLOB_BAD},
    {"a[", "x", GLOB_BAD},
    {"a/b[", "x", GLOB_BAD},
    {"*x", "xxx", 1},
};

static void test_go_table(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(go_table) / sizeof(go_table[0]); i++) {
    int got = glob_match(go_table[i].pattern, go_table[i].name, GLOB_GO);
    if (got != go_table[i].want)
      fail_msg("Match(%s, %s) = %d, want %d", go_table[i].pattern,
               go_table[i].name, got, go_table[i].want);
  }
}

/* Where the two matchers this one replaced disagreed, or disagreed with
 * Go. */
static void test_old_differences(void **state) {
  (void)state;
  /* An unterminated '[': the builder's said "no match", the
   * .dockerignore one read the rest as a class; Go: ErrBadPattern. */
  assert_int_equal(glob_match("a[bc", "ab", GLOB_GO), GLOB_BAD);
  assert_int_equal(glob_match("a[bc", "ab", GLOB_DOUBLESTAR), GLOB_BAD);
  assert_false(glob_valid("x/[a-"));
  assert_true(glob_valid("x/[a-c]/\\*"));
  /* '!' was negation in both; Go's only negation is '^'. */
  assert_int_equal(glob_match("[!a]", "b", GLOB_GO), GLOB_NOMATCH);
  assert_int_equal(glob_match("[!a]", "!", GLOB_GO), GLOB_MATCH);
  /* '?' is one rune, not one byte. */
  assert_int_equal(glob_match("?", "\xC3\xA9", GLOB_GO), GLOB_MATCH);
  assert_int_equal(glob_match("??", "\xC3\xA9", GLOB_GO), GLOB_NOMATCH);
  /* `**`: filepath.Match's is `*`; patternmatcher's crosses directories */
  assert_int_equal(glob_match("a/**/b", "a/x/y/b", GLOB_GO), GLOB_NOMATCH);
  assert_int_equal(glob_match("a/**/b", "a/x/y/b", GLOB_DOUBLESTAR),
                   GLOB_MATCH);
  assert_int_equal(glob_match("a/**/b", "a/b", GLOB_DOUBLESTAR), GLOB_MATCH);
  assert_int_equal(glob_match("a**b", "a/x/b", GLOB_DOUBLESTAR), GLOB_MATCH);
  assert_int_equal(glob_match("a/**", "a/x/y", GLOB_DOUBLESTAR), GLOB_MATCH);
  /* a directory above the path */
  assert_int_equal(glob_match("a/*", "a/b/c", GLOB_DIR_PREFIX), GLOB_MATCH);
  assert_int_equal(glob_match("a/*", "a/b/c", GLOB_GO), GLOB_NOMATCH);
  /* .dockerignore: a bad pattern is reported and excludes nothing */
  const char *text = "*.log\nsrc/[ab\n";
  struct dockerignore *di = dockerignore_new(text, strlen(text));
  assert_string_equal(dockerignore_bad_pattern(di), "src/[ab");
  assert_true(dockerignore_excludes(di, "x.log"));
  assert_false(dockerignore_excludes(di, "src/[ab"));
  dockerignore_free(di);
}

/* Editor input: no pattern may take long or recurse deep. */
static void test_limits(void **state) {
  (void)state;
  char pattern[4096], name[4096];
  /* `*a*a*a...*b` against a run of a's: exponential for a naive
   * backtracker, linear per '*' here. */
  size_t n = 0;
  for (int i = 0; i < 1000; i++) {
    pattern[n++] = '*';
    pattern[n++] = 'a';
  }
  pattern[n++] = 'b';
  pattern[n] = '\0';
  memset(name, 'a', 3000);
  name[3000] = '\0';
  clock_t t0 = clock();
  assert_int_equal(glob_match(pattern, name, GLOB_GO), GLOB_NOMATCH);
  /* many `**`: nested at most GLOB_MAX_DOUBLESTARS deep */
  n = 0;
  for (int i = 0; i < 200; i++) {
    memcpy(pattern + n, "**/", 3);
    n += 3;
  }
  pattern[n++] = 'z';
  pattern[n] = '\0';
  n = 0;
  for (int i = 0; i < 100; i++) {
    memcpy(name + n, "d/", 2);
    n += 2;
  }
  name[n++] = 'y';
  name[n] = '\0';
  assert_int_equal(glob_match(pattern, name, GLOB_DOUBLESTAR), GLOB_NOMATCH);
  /* 40 distinct `**`: each (`**`, offset) is tried once */
  n = 0;
  for (int i = 0; i < 40; i++) {
    memcpy(pattern + n, "**/d/", 5);
    n += 5;
  }
  pattern[n++] = 'z';
  pattern[n] = '\0';
  assert_int_equal(glob_match(pattern, name, GLOB_DOUBLESTAR), GLOB_NOMATCH);
  name[strlen(name) - 1] = 'z';
  assert_int_equal(glob_match(pattern, name, GLOB_DOUBLESTAR), GLOB_MATCH);
  assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_go_table),
      cmocka_unit_test(test_old_differences),
      cmocka_unit_test(test_limits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
