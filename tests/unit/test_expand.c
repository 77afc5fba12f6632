/*
 * test_expand.c - unit tests for the BuildKit shell-word expander.
 *
 * Expected values come from BuildKit's own tests (lex_test.go: modifiers,
 * patterns, matches) and its heredoc detection, which runs ProcessWords
 * with RawQuotes + RawEscapes + SkipUnsetEnv.  The fixtures are copied in
 * so the tests do not depend on the conformance tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/buf.h"
#include "../../common/err.h"
#include "../../model/expand.h"

/* NULL-terminated list of "NAME=VALUE" strings. */
typedef const char *const kvlist[];

static const char *const no_env[] = {NULL};

static void env_load(struct strv *sv, const char *const *kv) {
  strv_init(sv);
  for (size_t i = 0; kv[i] != NULL; i++)
    strv_push(sv, kv[i]);
}

static void check_word_opts(const char *const *kv, char escape, unsigned flags,
                            const char *in, const char *want) {
  struct strv sv;
  env_load(&sv, kv);
  struct expand_env env = expand_env_from_strv(&sv);
  struct expand_opts opts = {escape, flags};
  struct err e;
  char *got = NULL;
  err_clear(&e);
  int rc = expand_word(in, strlen(in), &opts, &env, NULL, &got, &e);
  if (rc != 0)
    fail_msg("expand_word(%s) failed: %s", in, e.msg);
  assert_string_equal(got, want);
  free(got);
  strv_cleanup(&sv);
}

static void check_word(const char *const *kv, const char *in,
                       const char *want) {
  check_word_opts(kv, '\\', 0, in, want);
}

static void check_error_opts(const char *const *kv, unsigned flags,
                             const char *in, int code, unsigned col,
                             const char *msg) {
  struct strv sv;
  env_load(&sv, kv);
  struct expand_env env = expand_env_from_strv(&sv);
  struct expand_opts opts = {'\\', flags};
  struct err e;
  char *got = (char *)"sentinel";
  err_clear(&e);
  int rc = expand_word(in, strlen(in), &opts, &env, NULL, &got, &e);
  if (rc == 0)
    fail_msg("expand_word(%s) succeeded with [%s]", in, got);
  assert_null(got);
  assert_int_equal(rc, code);
  assert_int_equal(e.code, code);
  assert_string_equal(e.msg, msg);
  if (col != 0)
    assert_int_equal(e.col, col);
  strv_cleanup(&sv);
}

static void check_error(const char *const *kv, const char *in,
                        const char *msg) {
  check_error_opts(kv, 0, in, ERR_SYNTAX, 0, msg);
}

static void check_words_opts(const char *const *kv, unsigned flags,
                             const char *in, const char *const *want) {
  struct strv sv, got;
  env_load(&sv, kv);
  strv_init(&got);
  struct expand_env env = expand_env_from_strv(&sv);
  struct expand_opts opts = {'\\', flags};
  struct err e;
  err_clear(&e);
  int rc = expand_words(in, strlen(in), &opts, &env, NULL, &got, &e);
  if (rc != 0)
    fail_msg("expand_words(%s) failed: %s", in, e.msg);
  size_t n = 0;
  while (want[n] != NULL)
    n++;
  if (got.n != n)
    fail_msg("expand_words(%s): %zu words, want %zu", in, got.n, n);
  for (size_t i = 0; i < n; i++)
    assert_string_equal(got.v[i], want[i]);
  strv_cleanup(&got);
  strv_cleanup(&sv);
}

static void check_words(const char *const *kv, const char *in,
                        const char *const *want) {
  check_words_opts(kv, 0, in, want);
}

/* Checks a report list against a NULL-terminated list, in order. */
static void check_names(const struct strv *got, const char *const *want) {
  size_t n = 0;
  while (want[n] != NULL)
    n++;
  assert_int_equal(got->n, n);
  for (size_t i = 0; i < n; i++)
    assert_string_equal(got->v[i], want[i]);
}

/* ---- plain words, quotes, escapes ---- */

static void test_quotes_and_escapes(void **state) {
  (void)state;
  static kvlist kv = {"PWD=/home", NULL};
  check_word(kv, "he'll'o", "hello");
  check_word(kv, "he\\'llo", "he'llo");
  check_word(kv, "abc\\tdef", "abctdef");
  check_word(kv, "\"abc\\tdef\"", "abc\\tdef");
  check_word(kv, "'abc\\tdef'", "abc\\tdef");
  check_word(kv, "hello\\", "hello");
  check_word(kv, "hello\\\\", "hello\\");
  check_word(kv, "\"he\\$PWD\"", "he$PWD");
  check_word(kv, "\"he\\\\$PWD\"", "he\\/home");
  check_word(kv, "'he$PWD'", "he$PWD");
  check_word(kv, "\"he'$PWD'\"", "he'/home'");
  check_word(kv, "$.", "$.");
  check_word(kv, "he$1x", "hex");
  check_word(kv, "$@@@", "@@");
}

static void test_backtick_escape(void **state) {
  (void)state;
  static kvlist kv = {"PWD=/home", NULL};
  check_word_opts(kv, '`', 0, "he`$PWD", "he$PWD");
  check_word_opts(kv, '`', 0, "C:\\path\\$PWD", "C:\\path\\/home");
  check_word_opts(kv, '`', 0, "\"a`\"b\"", "a\"b");
  check_word_opts(kv, '`', 0, "\"a`xb\"", "a`xb");
  check_word_opts(kv, '`', 0, "hello``", "hello`");
  check_word_opts(kv, '`', 0, "hello`", "hello");
  check_word_opts(kv, '`', 0, "a` b", "a b");
  /* Patterns always use '\' as their escape, whatever the file says. */
  static kvlist star = {"FOO=a*b", NULL};
  check_word_opts(star, '`', 0, "${FOO#a\\*}", "b");
  check_word_opts(star, '`', EXPAND_RAW_ESCAPES, "a`$b", "a`$b");
}

/* ---- modifiers (BuildKit lex_test.go TestProcessWithMatches) ---- */

static void test_default_and_alternative(void **state) {
  (void)state;
  static kvlist kv = {"FOO=xxx", "BAR=", NULL};
  check_word(kv, "${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", "xxx  ccc");
  check_word(kv, "${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}", "xxx bbb ccc");
  check_word(kv, "${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}", "aaa bbb ");
  check_word(kv, "${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}", "aaa  ");
  check_word(kv, "${FOO:-}", "xxx");
  check_word(no_env, "${FOO:-}", "");
  check_word(kv, "${X:-${Y:-${FOO}}}", "xxx");
  check_word(kv, "${FOO:+${FOO}:}x", "xxx:x");
  check_word(kv, "${X:-\\${FOO}z}", "${FOOz}");
  check_word(kv, "${X:-\"a}b\"}", "a}b");
}

static void test_required(void **state) {
  (void)state;
  static kvlist set = {"VAR=plain", "ARG=x", NULL};
  static kvlist empty = {"VAR=", "ARG=x", NULL};
  static kvlist unset = {"ARG=x", NULL};
  check_word(set, "${VAR:?message here$ARG}", "plain");
  check_error_opts(empty, 0, "${VAR:?message here$ARG}", ERR_INVALID, 1,
                   "VAR: message herex");
  check_error_opts(unset, 0, "${VAR:?message here$ARG}", ERR_INVALID, 1,
                   "VAR: message herex");
  check_word(set, "${VAR?message here$ARG}", "plain");
  check_word(empty, "${VAR?message here$ARG}", "");
  check_error_opts(unset, 0, "ab${VAR?m}", ERR_INVALID, 3, "VAR: m");
  check_error_opts(unset, 0, "${VAR?}", ERR_INVALID, 1,
                   "VAR: is not allowed to be unset");
  check_error_opts(unset, 0, "${VAR:?}", ERR_INVALID, 1,
                   "VAR: is not allowed to be unset");
  check_error_opts(empty, 0, "${VAR:?}", ERR_INVALID, 1,
                   "VAR: is not allowed to be empty");
}

static void test_trim_prefix_suffix(void **state) {
  (void)state;
  static kvlist xxyy = {"FOO=xxyy", "BAR=x", "EMPTY=", NULL};
  check_word(xxyy, "${FOO#*x*y}", "y");
  check_word(xxyy, "${FOO#*}", "xxyy");
  check_word(xxyy, "${FOO#$BAR}", "xyy");
  check_word(xxyy, "${FOO#$EMPTY}", "xxyy");
  check_word(xxyy, "${FOO#}", "xxyy");
  check_word(xxyy, "${FOO##*x}", "yy");
  check_word(xxyy, "${FOO##}", "xxyy");
  check_word(xxyy, "${ABC:-.}${FOO%x}${ABC:-.}", ".xxyy.");
  check_word(xxyy, "${FOO%}", "xxyy");
  check_word(xxyy, "${FOO%%$EMPTY}", "xxyy");
  check_word(xxyy, "${FOO%y*}", "xxy");
  check_word(xxyy, "${FOO%%y*}", "xx");
  check_word(xxyy, "${NOPE#x}", "");

  static kvlist dots = {"F=a.b.c", NULL};
  check_word(dots, "${F#*.}", "b.c");
  check_word(dots, "${F##*.}", "c");
  check_word(dots, "${F%.*}", "a.b");
  check_word(dots, "${F%%.*}", "a");

  static kvlist special = {"FOO=()[]{}^$.*?|\\x", NULL};
  check_word(special, "${FOO#()[]{\\}^$.\\*\\?|\\\\}", "x");
  static kvlist stars = {"FOO=xx**", NULL};
  check_word(stars, "${FOO%%\\**}", "xx");
  static kvlist stars2 = {"FOO=a***yy*", NULL};
  check_word(stars2, "${FOO%%\\**\\*}", "a");
  static kvlist qm = {"FOO=???y", NULL};
  check_word(qm, "${FOO#?\\?}", "?y");

  /* Wildcards never match a newline (Go's `.`). */
  static kvlist nl = {"F=a\nb", NULL};
  check_word(nl, "${F#*b}", "a\nb");
  check_word(nl, "${F#a?}", "a\nb");
  check_word(nl, "${F#a}", "\nb");

  /* Patterns work on runes, not bytes. */
  static kvlist ko = {"K=\xEC\x95\x88\xEB\x85\x95\xED\x95\x98", NULL};
  check_word(ko, "${K#?}", "\xEB\x85\x95\xED\x95\x98");
  check_word(ko, "${K%?}", "\xEC\x95\x88\xEB\x85\x95");
  /* Brackets are literals in BuildKit, not classes. */
  static kvlist br = {"B=[ab]c", NULL};
  check_word(br, "${B#[ab]}", "c");
}

static void test_replace(void **state) {
  (void)state;
  static kvlist wild = {"FOO=/foo*/*/*.txt", "NEEDLE=\\*/", NULL};
  check_word(wild, "${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}",
             "/foo.*/*.txt - /foo..*.txt");
  static kvlist tmp = {"FOO=/tmp/tmp/bar.txt", "NEEDLE=/tmp", NULL};
  check_word(tmp, "${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}",
             "/tmp/bar.txt - /bar.txt");
  static kvlist q = {"FOO=/a/foo/b/c.txt", "NEEDLE=/?/", "REPLACEMENT=/",
                     NULL};
  check_word(q, "${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}",
             "/foo/b/c.txt - /foo/c.txt");
  static kvlist url = {"FOO=http://google.de", "NEEDLE=http://",
                       "REPLACEMENT=https://", NULL};
  check_word(url, "${FOO/$NEEDLE/$REPLACEMENT}", "https://google.de");
  static kvlist sl = {"FOO=/tmp/foo.txt", NULL};
  check_word(sl, "${FOO//\\//\\/}", "\\/tmp\\/foo.txt");
  static kvlist xxyy = {"FOO=xxyy", "BAR=", NULL};
  check_word(xxyy, "${FOO/$BAR/ww}", "wwxxyy");
  check_word(xxyy, "${FOO///}", "xxyy");
  check_word(no_env, "${FOO///}", "");
  /* An empty pattern matches between every rune, once per position. */
  check_word(xxyy, "${FOO//$BAR/-}", "-x-x-y-y-");
  check_word(xxyy, "${FOO//?/-}", "----");
  check_word(xxyy, "${FOO//*/-}", "-");

  /* ReplaceAll expands $0 (the match) and $$ in the replacement; a single
   * replacement inserts it as is. */
  static kvlist rep = {"FOO=foo",  "R0=<$0>", "RD=$$", "R1=[$1]",
                       "RB=${0}!", "RX=$",    NULL};
  check_word(rep, "${FOO//o/$R0}", "f<o><o>");
  check_word(rep, "${FOO//o/$RD}", "f$$");
  check_word(rep, "${FOO//o/$R1}", "f[][]");
  check_word(rep, "${FOO//o/$RB}", "fo!o!");
  check_word(rep, "${FOO//o/$RX}", "f$$");
  check_word(rep, "${FOO/o/$R0}", "f<$0>o");
}

static void test_errors(void **state) {
  (void)state;
  static kvlist kv = {"PWD=/home", "FOO=xxyy", "P=ab\\", NULL};
  check_error_opts(kv, 0, "ab\"cd", ERR_SYNTAX, 3,
                   "unexpected end of statement while looking for matching "
                   "double-quote");
  check_error_opts(kv, 0, "'cd", ERR_SYNTAX, 1,
                   "unexpected end of statement while looking for matching "
                   "single-quote");
  check_error(kv, "\"hello\\\"",
              "unexpected end of statement while looking for matching "
              "double-quote");
  check_error_opts(kv, 0, "he${}", ERR_SYNTAX, 3,
                   "syntax error: bad substitution");
  check_error(kv, "${{aaa}", "syntax error: bad substitution");
  check_error(kv, "${:-bbb}", "syntax error: bad substitution");
  check_error(kv, "${", "syntax error: missing '}'");
  check_error(kv, "${aaa:-bbb", "syntax error: missing '}'");
  check_error(kv, "${aaa:-bbb ${foo}", "syntax error: missing '}'");
  check_error(kv, "${aaa:-\"x}", "syntax error: missing '}'");
  /* An inner error that is not at the end of input is passed up. */
  check_error_opts(kv, 0, "${a:-${}}", ERR_SYNTAX, 6,
                   "syntax error: bad substitution");
  check_error(kv, "${PWD:=000}", "unsupported modifier (:=) in substitution");
  check_error(kv, "${XXX:YYY}", "unsupported modifier (:Y) in substitution");
  check_error(kv, "he${.}", "unsupported modifier (.) in substitution");
  check_error(kv, "${FOO=aaa}", "unsupported modifier (=) in substitution");
  check_error(kv, "${FOO:#x}", "unsupported modifier (:#) in substitution");
  check_error(kv, "${FOO:%x}", "unsupported modifier (:%) in substitution");
  /* BuildKit prints the end of input as U+FFFD. */
  check_error(kv, "he${PWD",
              "unsupported modifier (\xEF\xBF\xBD) in substitution");
  check_error(kv, "${FOO//ww}", "syntax error: missing '/' in ${}");
  check_error(kv, "${FOO//}", "syntax error: missing '/' in ${}");
  check_error(kv, "${FOO#\\x}",
              "invalid pattern (\\x) in substitution: invalid escape '\\x'");
  /* A pattern ending in a lone '\' (here from a variable). */
  check_error(kv, "${FOO#$P}",
              "invalid pattern (ab\\) in substitution: invalid escape "
              "'\\\xEF\xBF\xBD'");
  /* For % the pattern is shown reversed, as BuildKit reports it. */
  check_error(kv, "${FOO%\\xab}",
              "invalid pattern (ba\\x) in substitution: invalid escape '\\x'");
  check_error(kv, "${FOO/\\q/r}",
              "invalid pattern (\\q) in substitution: invalid escape '\\q'");
}

/* ---- flags ---- */

static void test_skip_unset(void **state) {
  (void)state;
  static kvlist kv = {"SET=v", NULL};
  check_word_opts(kv, '\\', EXPAND_SKIP_UNSET,
                  "$X ${X} ${X:-d} ${X-d} ${X+a} ${X?m} ${X#p} ${X%%p} $SET",
                  "$X ${X} ${X:-d} ${X-d} ${X+a} ${X?m} ${X#p} ${X%%p} v");
  /* BuildKit writes ${X//a/b} back with a single slash. */
  check_word_opts(kv, '\\', EXPAND_SKIP_UNSET, "${X//a/b} ${X/a/b}",
                  "${X/a/b} ${X/a/b}");
  /* The word inside is still expanded. */
  check_word_opts(kv, '\\', EXPAND_SKIP_UNSET, "${X:-$SET}", "${X:-v}");
}

static void test_raw_quotes_and_escapes(void **state) {
  (void)state;
  static kvlist kv = {"A=1", NULL};
  check_word_opts(kv, '\\', EXPAND_RAW_QUOTES, "\"a $A\"'b $A'",
                  "\"a 1\"'b $A'");
  check_word_opts(kv, '\\', EXPAND_RAW_ESCAPES, "a\\ b\\$A", "a\\ b\\$A");
  /* Inside double quotes a kept escape before an ordinary character is
   * written twice: once as the kept escape, once as the literal. */
  check_word_opts(kv, '\\', EXPAND_RAW_ESCAPES, "\"a\\\"b\\x\"",
                  "a\\\"b\\\\x");
  /* Words of - + ? drop escapes even when the caller keeps them. */
  check_word_opts(kv, '\\', EXPAND_RAW_ESCAPES, "${X:-a\\ b}", "a b");
  check_word_opts(kv, '\\', EXPAND_SKIP_PROCESS_QUOTES, "'$A' \"$A\"",
                  "'1' \"1\"");
  check_word_opts(kv, '\\', EXPAND_SKIP_PROCESS_QUOTES, "'unterminated",
                  "'unterminated");
}

/* BuildKit's heredoc detection: ProcessWords with RawQuotes, RawEscapes
 * and SkipUnsetEnv over the instruction line, no variables. */
static void test_heredoc_detection(void **state) {
  (void)state;
  const unsigned f =
      EXPAND_RAW_QUOTES | EXPAND_RAW_ESCAPES | EXPAND_SKIP_UNSET;
  check_words_opts(no_env, f, "RUN <<EOF cat",
                   (const char *[]){"RUN", "<<EOF", "cat", NULL});
  check_words_opts(no_env, f, "RUN <<\"EOF\" cat $FOO",
                   (const char *[]){"RUN", "<<\"EOF\"", "cat", "$FOO", NULL});
  check_words_opts(no_env, f, "COPY <<'EOF' /dest",
                   (const char *[]){"COPY", "<<'EOF'", "/dest", NULL});
  check_words_opts(no_env, f, "RUN <<$EOF",
                   (const char *[]){"RUN", "<<$EOF", NULL});
  check_words_opts(no_env, f, "RUN <<\\EOF",
                   (const char *[]){"RUN", "<<\\EOF", NULL});
  check_words_opts(no_env, f, "RUN 3<<-EOF <<EOT",
                   (const char *[]){"RUN", "3<<-EOF", "<<EOT", NULL});
  check_words_opts(no_env, f, "RUN \"<<NOHEREDOC\"",
                   (const char *[]){"RUN", "\"<<NOHEREDOC\"", NULL});
  check_words_opts(no_env, f, "RUN << EOF cat",
                   (const char *[]){"RUN", "<< EOF", "cat", NULL});
  check_words_opts(no_env, f, "RUN <<\t EOF",
                   (const char *[]){"RUN", "<<\t EOF", NULL});
  check_words_opts(no_env, f, "RUN a < b",
                   (const char *[]){"RUN", "a", "<", "b", NULL});
  /* The skipped reference is split like any value. */
  check_words_opts(no_env, f, "${X:-a b}",
                   (const char *[]){"${X:-a", "b}", NULL});
  check_words_opts(no_env, f, "a\\ b", (const char *[]){"a\\ b", NULL});
}

/* ---- word splitting ---- */

static void test_words(void **state) {
  (void)state;
  static kvlist kv = {"space=abc  def",
                      "leading=  ab c",
                      "trailing=ab c   ",
                      "ideo=a\xE3\x80\x80"
                      "b",
                      "nbsp=a\xC2\xA0"
                      "b",
                      NULL};
  check_words(kv, "hello${space}bye",
              (const char *[]){"helloabc", "defbye", NULL});
  check_words(kv, "hello\"${space}\"bye",
              (const char *[]){"helloabc  defbye", NULL});
  check_words(kv, "hello${leading}def",
              (const char *[]){"hello", "ab", "cdef", NULL});
  check_words(kv, "hel\"lo${trailing}\"",
              (const char *[]){"helloab c   ", NULL});
  check_words(kv, "hello\\ there", (const char *[]){"hello there", NULL});
  check_words(kv, "hello\\\" there",
              (const char *[]){"hello\"", "there", NULL});
  check_words(kv, "a \"\" b", (const char *[]){"a", "b", NULL});
  check_words(kv, "\"\"", (const char *[]){NULL});
  check_words(kv, "   ", (const char *[]){NULL});
  /* Values split on Unicode spaces too (Go's unicode.IsSpace). */
  check_words(kv, "$ideo", (const char *[]){"a", "b", NULL});
  check_words(kv, "$nbsp", (const char *[]){"a", "b", NULL});

  /* A failing call leaves the output vector as it was. */
  struct strv sv, out;
  env_load(&sv, kv);
  strv_init(&out);
  strv_push(&out, "keep");
  struct expand_env env = expand_env_from_strv(&sv);
  struct expand_opts opts = {'\\', 0};
  struct err e;
  err_clear(&e);
  assert_true(expand_words("a b \"c", 6, &opts, &env, NULL, &out, &e) < 0);
  assert_int_equal(out.n, 1);
  assert_string_equal(out.v[0], "keep");
  strv_cleanup(&out);
  strv_cleanup(&sv);
}

/* ---- reports, environments, text ---- */

static void test_report(void **state) {
  (void)state;
  static kvlist kv = {"FOO=xxx", "BAR=", NULL};
  struct strv sv, used, unset;
  env_load(&sv, kv);
  strv_init(&used);
  strv_init(&unset);
  struct expand_env env = expand_env_from_strv(&sv);
  struct expand_report rep = {&used, &unset};
  struct expand_opts opts = {'\\', 0};
  struct err e;
  char *out = NULL;
  const char *in = "${BAZ:-$FOO} $BAR ${FOO} ${BAZ} $1 \\$NOT '$NOT'";
  err_clear(&e);
  assert_int_equal(expand_word(in, strlen(in), &opts, &env, &rep, &out, &e),
                   0);
  assert_string_equal(out, "xxx  xxx   $NOT $NOT");
  check_names(&used, (const char *[]){"FOO", "BAR", NULL});
  check_names(&unset, (const char *[]){"BAZ", "1", NULL});
  free(out);

  /* A failing lookup is still reported. */
  strv_cleanup(&used);
  strv_cleanup(&unset);
  assert_true(expand_word("${Q?}", 5, &opts, &env, &rep, &out, &e) < 0);
  check_names(&used, (const char *[]){NULL});
  check_names(&unset, (const char *[]){"Q", NULL});

  /* Either list may be NULL. */
  strv_cleanup(&unset);
  struct expand_report only_unset = {NULL, &unset};
  assert_int_equal(
      expand_word("$FOO$NO", 7, &opts, &env, &only_unset, &out, &e), 0);
  assert_string_equal(out, "xxx");
  check_names(&unset, (const char *[]){"NO", NULL});
  free(out);

  strv_cleanup(&used);
  strv_cleanup(&unset);
  strv_cleanup(&sv);
}

static void test_env(void **state) {
  (void)state;
  /* Later entries win; an entry without '=' is set and empty. */
  static kvlist kv = {"A=1", "A=2", "B", "C=x=y", NULL};
  check_word(kv, "$A|${B-unset}|${B:-empty}|$C", "2||empty|x=y");
  /* No environment at all: everything is unset. */
  struct expand_opts opts = {'\\', 0};
  struct err e;
  char *out = NULL;
  err_clear(&e);
  assert_int_equal(expand_word("a${X:-d}$Y", 10, &opts, NULL, NULL, &out, &e),
                   0);
  assert_string_equal(out, "ad");
  free(out);
  struct expand_env none = {NULL, NULL};
  assert_int_equal(expand_word("$X-", 3, NULL, &none, NULL, &out, &e), 0);
  assert_string_equal(out, "-");
  free(out);
}

static void test_names_and_text(void **state) {
  (void)state;
  /* Names take Unicode letters and digits, as Go's unicode package. */
  static kvlist kv = {"FOO\xED\x95\x9C=k", "FOO=f", "_1=u", NULL};
  check_word(kv, "$FOO\xED\x95\x9C", "k");
  check_word(kv, "$FOO\xE3\x80\x82", "f\xE3\x80\x82"); /* U+3002 is punct */
  check_word(kv, "$_1.", "u.");
  check_word(kv, "$0FOO", "FOO");
  check_word(kv, "$123FOO", "FOO");
  /* Invalid UTF-8 becomes U+FFFD; a leading BOM is skipped. */
  check_word(kv,
             "a\xFF"
             "b",
             "a\xEF\xBF\xBD"
             "b");
  check_word(kv, "\xEF\xBB\xBF$FOO", "f");
  /* Lengths are honoured: the word need not be NUL-terminated. */
  struct strv sv;
  env_load(&sv, kv);
  struct expand_env env = expand_env_from_strv(&sv);
  struct expand_opts opts = {'\\', 0};
  struct err e;
  char *out = NULL;
  err_clear(&e);
  assert_int_equal(expand_word("$FOOX", 4, &opts, &env, NULL, &out, &e), 0);
  assert_string_equal(out, "f");
  free(out);
  strv_cleanup(&sv);
}

static void test_nesting_limit(void **state) {
  (void)state;
  struct buf deep = BUF_INIT;
  struct expand_opts opts = {'\\', 0};
  struct err e;
  char *out = NULL;
  for (int i = 0; i < 500; i++)
    buf_puts(&deep, "${a:-");
  buf_puts(&deep, "x");
  for (int i = 0; i < 500; i++)
    buf_puts(&deep, "}");
  err_clear(&e);
  assert_int_equal(
      expand_word(deep.data, deep.len, &opts, NULL, NULL, &out, &e), 0);
  assert_string_equal(out, "x");
  free(out);

  buf_reset(&deep);
  for (int i = 0; i < 100000; i++)
    buf_puts(&deep, "${a:-\"");
  assert_int_equal(
      expand_word(deep.data, deep.len, &opts, NULL, NULL, &out, &e),
      ERR_TOOBIG);
  assert_null(out);
  assert_string_equal(e.msg,
                      "variable references nested deeper than 512 levels");
  buf_cleanup(&deep);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_quotes_and_escapes),
      cmocka_unit_test(test_backtick_escape),
      cmocka_unit_test(test_default_and_alternative),
      cmocka_unit_test(test_required),
      cmocka_unit_test(test_trim_prefix_suffix),
      cmocka_unit_test(test_replace),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_skip_unset),
      cmocka_unit_test(test_raw_quotes_and_escapes),
      cmocka_unit_test(test_heredoc_detection),
      cmocka_unit_test(test_words),
      cmocka_unit_test(test_report),
      cmocka_unit_test(test_env),
      cmocka_unit_test(test_names_and_text),
      cmocka_unit_test(test_nesting_limit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
