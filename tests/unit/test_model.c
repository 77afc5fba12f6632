/*
 * test_model.c - the Dockerfile model read the way BuildKit reads it.
 * Every case goes through one check(): text in, BuildKit dump out (or the
 * first error with its position).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <tree_sitter/api.h>

#include "../../model/dockerfile.h"
#include "../../model/dump.h"
#include "tree-sitter-dockerfile.h"

/* Parses with and without the tree; both must give `want`, which is the
 * dump or "ERR L:C: message" for the first error. */
static void check(const char *text, const char *want) {
  TSParser *parser = ts_parser_new();
  ts_parser_set_language(parser, tree_sitter_dockerfile());
  TSTree *tree = ts_parser_parse_string(parser, NULL, text, strlen(text));
  for (int with_tree = 0; with_tree < 2; with_tree++) {
    struct dockerfile *df =
        dockerfile_parse(text, strlen(text), with_tree ? tree : NULL);
    struct buf got = BUF_INIT;
    const struct df_problem *e = dockerfile_first_error(df);
    if (e)
      buf_printf(&got, "ERR %u:%u: %s", e->range.start.row + 1,
                 e->range.start.col + 1, e->message);
    else
      dump_buildkit(&got, df);
    if (strcmp(buf_cstr(&got), want) != 0)
      fail_msg("%s tree:\n--- text\n%s\n--- want\n%s\n--- got\n%s",
               with_tree ? "with" : "without", text, want, buf_cstr(&got));
    buf_cleanup(&got);
    dockerfile_free(df);
  }
  ts_tree_delete(tree);
  ts_parser_delete(parser);
}

static void test_forms(void **state) {
  (void)state;
  check("FROM a\nRUN [\"echo\", \"hi\"]\nRUN echo hi\n",
        "(from \"a\")\n(run \"echo\" \"hi\")\n(run \"echo hi\")\n");
  /* Text after the JSON array makes it shell form (json.Unmarshal). */
  check("CMD [\"a\"] # note\n", "(cmd \"[\\\"a\\\"] # note\")\n");
  check("CMD ['a']\n", "(cmd \"['a']\")\n");
  check("CMD [\"a\", 1]\n",
        "ERR 1:5: when using JSON array syntax, arrays must be comprised of "
        "strings only");
  check("COPY [\"a b\", \"/c\"]\nCOPY a  b\n",
        "(copy \"a b\" \"/c\")\n(copy \"a\" \"b\")\n");
}

static void test_env_label(void **state) {
  (void)state;
  check("ENV a b c\n", "(env \"a\" \"b c\" \"\")\n");
  check("ENV a=1 b=\"2 3\"\n",
        "(env \"a\" \"1\" \"=\" \"b\" \"\\\"2 3\\\"\" \"=\")\n");
  check("FROM x\nENV PATH\n", "ERR 2:5: ENV must have two arguments");
  check("LABEL a=1 b\n", "ERR 1:11: Syntax error - can't find = in \"b\". "
                         "Must be of the form: name=value");
  check("ARG a b=\"c d\"\n", "(arg \"a\" \"b=\\\"c d\\\"\")\n");
}

static void test_flags(void **state) {
  (void)state;
  check("COPY --from=b --chown=\"x y\" a /\n",
        "(copy [\"--from=b\" \"--chown=x y\"] \"a\" \"/\")\n");
  check("COPY -- --a /\n", "(copy \"--a\" \"/\")\n");
  check("CMD --doit [ \"a\" ]\n", "(cmd [\"--doit\"] \"a\")\n");
}

static void test_continuations(void **state) {
  (void)state;
  check("RUN a \\\n  b\n", "(run \"a   b\")\n");
  check("RUN a \\\n# c\n\n  b\n", "(run \"a   b\")\n");
  /* An escaped escape character does not continue the line. */
  check("RUN a \\\\\nRUN b\n", "(run \"a \\\\\\\\\")\n(run \"b\")\n");
  check("# escape=`\nRUN a `\n b\n", "(run \"a  b\")\n");
  check("RUN a\r\nRUN b \\\r\n c\r\n", "(run \"a\")\n(run \"b  c\")\n");
  check("\xEF\xBB\xBF"
        "FROM a",
        "(from \"a\")\n");
}

static void test_directives(void **state) {
  (void)state;
  check("# escape=x\nFROM a\n",
        "ERR 1:10: invalid escape token 'x' does not match ` or \\");
  check("# syntax=a\n# syntax=b\nFROM a\n",
        "ERR 2:1: only one syntax parser directive can be used");
  /* After a blank line it is a comment. */
  check("\n# escape=`\nRUN a `\nRUN b\n", "(run \"a `\")\n(run \"b\")\n");
}

static void test_heredocs(void **state) {
  (void)state;
  check("RUN <<EOF\necho a\nEOF\nRUN b\n", "(run \"<<EOF\")\n(run \"b\")\n");
  check("RUN <<EOF\necho\n", "ERR 1:5: unterminated heredoc");
  check("RUN [\"<<EOF\"]\nRUN b\n", "(run \"<<EOF\")\n(run \"b\")\n");
  check("COPY <<A <<B /d\na\nA\nb\nB\n", "(copy \"<<A\" \"<<B\" \"/d\")\n");
}

static void test_other(void **state) {
  (void)state;
  check("", "ERR 1:1: file with no instructions");
  check("# only\n# comments\n", "ERR 2:1: file with no instructions");
  check("bogus x\n", "(bogus \"\")\n");
  check("ONBUILD RUN [\"a\"]\nONBUILD\n",
        "(onbuild (run \"a\"))\n(onbuild)\n");
  check("HEALTHCHECK --retries=3 CMD [\"a\"]\nHEALTHCHECK NONE\n",
        "(healthcheck [\"--retries=3\"] \"CMD\" \"a\")\n(healthcheck "
        "\"NONE\")\n");
  /* Go prints U+FFFD as is: it is a graphic character. */
  check("CMD [\"\\u0000\\ud800x\\u00a0\"]\n", "(cmd \"\\x00\xEF\xBF\xBD"
                                              "x\\u00a0\")\n");
}

static void test_ranges(void **state) {
  (void)state;
  const char *text = "FROM a AS b\nCOPY --from=b \\\n  x /y\n";
  struct dockerfile *df = dockerfile_parse(text, strlen(text), NULL);
  assert_int_equal(df->ninstrs, 2);
  assert_int_equal(df->nstages, 1);
  assert_string_equal(df->stages[0].name, "b");
  const struct df_instr *cp = &df->instrs[1];
  assert_int_equal(cp->start_line, 2);
  assert_int_equal(cp->end_line, 3);
  assert_int_equal(cp->flags[0].range.start.row, 1);
  assert_int_equal(cp->flags[0].range.start.col, 5);
  /* "x" is on the third line, after two spaces. */
  assert_int_equal(cp->args[0].range.start.row, 2);
  assert_int_equal(cp->args[0].range.start.col, 2);
  assert_int_equal(cp->args[1].range.end.col, 6);
  dockerfile_free(df);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_forms),      cmocka_unit_test(test_env_label),
      cmocka_unit_test(test_flags),      cmocka_unit_test(test_continuations),
      cmocka_unit_test(test_directives), cmocka_unit_test(test_heredocs),
      cmocka_unit_test(test_other),      cmocka_unit_test(test_ranges),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
