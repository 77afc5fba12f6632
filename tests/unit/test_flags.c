/*
 * test_flags.c - one flag rulebook (model/flags.h): the same corpus of
 * instruction flags goes through the analysis (its flag diagnostics) and
 * through df_flags_problem (what the builder refuses before a build);
 * both must agree on every line, with the same words.  Then
 * df_instr_flag's last-one-wins lookup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tree_sitter/api.h>

#include "../../analysis/analysis.h"
#include "../../common/buf.h"
#include "../../model/flags.h"
#include "tree-sitter-dockerfile.h"

/* Each line follows "FROM busybox\n"; want: BuildKit's words for the
 * first flag problem, or NULL when BuildKit accepts the flags. */
static const struct {
  const char *line;
  const char *want;
} corpus[] = {
    {"ADD --from=build /a /b", "unknown flag: from"},
    {"ADD --parents a/b /c/", "unknown flag: parents"},
    {"ADD --checksum=sha256:00 https://x/y /y", NULL},
    {"ADD --keep-git-dir=true --unpack=false --link a /b", NULL},
    {"ADD --chown=1 --chmod=644 --exclude=*.md --exclude=x a /b", NULL},
    {"COPY --from=build --parents --link=false a /b/", NULL},
    {"COPY --link=yes a /b",
     "expecting boolean value for flag link, not: yes"},
    {"COPY --link= a /b", "missing a value on flag: link"},
    {"COPY --chown a /b", "missing a value on flag: chown"},
    {"COPY --chown=1 --chown=2 a /b", "Duplicate flag specified: chown"},
    {"COPY --exclude=a --exclude=b . /b", NULL},
    {"COPY --checksum=sha256:00 a /b", "unknown flag: checksum"},
    {"COPY --keep-git-dir a /b", "unknown flag: keep-git-dir"},
    {"COPY --frm=x a /b", "unknown flag: frm"},
    {"COPY --bogus --chown=1 --chown=2 a /b", "unknown flag: bogus"},
    {"COPY --chown=1 --bogus --chown=2 a /b", "unknown flag: bogus"},
    {"RUN --mount=type=cache,target=/c --mount=type=tmpfs,target=/t true",
     NULL},
    {"RUN --network=none --network=host true",
     "Duplicate flag specified: network"},
    {"RUN --security=insecure --device=a --device=b true", NULL},
    {"RUN --mount true", "missing a value on flag: mount"},
    {"RUN --chown=1 true", "unknown flag: chown"},
    {"HEALTHCHECK --interval=1s --timeout=2s --start-period=3s "
     "--start-interval=4s --retries=3 CMD true",
     NULL},
    {"HEALTHCHECK --intervall=1s CMD true", "unknown flag: intervall"},
    {"HEALTHCHECK --bogus NONE", NULL},
    {"STOPSIGNAL --bogus SIGTERM", NULL},
    {"WORKDIR --bogus /a", "unknown flag: bogus"},
    {"ENV --bogus=1 a=b", "unknown flag: bogus"},
    {"CMD --x true", "unknown flag: x"},
    {"EXPOSE 80", NULL},
};

static const char *const flag_rules[] = {
    "UnknownFlag", "DuplicateFlag", "FlagMissingValue", "InvalidFlagValue"};

static bool is_flag_rule(const char *rule) {
  for (size_t i = 0; i < sizeof(flag_rules) / sizeof(flag_rules[0]); i++)
    if (strcmp(rule, flag_rules[i]) == 0)
      return true;
  return false;
}

static void test_same_rulebook(void **state) {
  (void)state;
  TSParser *parser = ts_parser_new();
  ts_parser_set_language(parser, tree_sitter_dockerfile());
  for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
    struct buf text = BUF_INIT;
    buf_printf(&text, "FROM busybox\n%s\n", corpus[i].line);
    TSTree *tree =
        ts_parser_parse_string(parser, NULL, text.data, (uint32_t)text.len);
    struct dockerfile *df = dockerfile_parse(text.data, text.len, tree);
    /* the analysis */
    struct analysis_input in;
    memset(&in, 0, sizeof(in));
    in.text = text.data;
    in.len = text.len;
    in.tree = tree;
    in.df = df;
    struct diag_list l;
    diag_list_init(&l);
    analysis_run(&in, &l);
    const struct diag *first = NULL;
    for (size_t k = 0; k < l.n && first == NULL; k++)
      if (is_flag_rule(l.v[k].rule))
        first = &l.v[k];
    /* the builder's refusal */
    assert_int_equal(df->ninstrs, 2);
    struct buf msg = BUF_INIT;
    bool refused = df_flags_problem(&df->instrs[1], &msg, NULL);
    if (corpus[i].want == NULL) {
      if (refused || first)
        fail_msg("%s: accepted by BuildKit; builder: %s, analysis: %s",
                 corpus[i].line, refused ? msg.data : "-",
                 first ? first->message : "-");
    } else {
      if (!refused || strcmp(msg.data, corpus[i].want) != 0)
        fail_msg("%s: builder says \"%s\", want \"%s\"", corpus[i].line,
                 refused ? msg.data : "(nothing)", corpus[i].want);
      /* the analysis may add a suggestion: "(did you mean --from?)" */
      if (first == NULL ||
          strncmp(first->message, msg.data, strlen(msg.data)) != 0)
        fail_msg("%s: analysis says \"%s\", builder \"%s\"", corpus[i].line,
                 first ? first->message : "(nothing)", msg.data);
    }
    buf_cleanup(&msg);
    diag_list_cleanup(&l);
    dockerfile_free(df);
    ts_tree_delete(tree);
    buf_cleanup(&text);
  }
  ts_parser_delete(parser);
}

static void test_last_one_wins(void **state) {
  (void)state;
  const char *t = "FROM busybox\nCOPY --from=a --exclude=x --from=b "
                  "--exclude=y --link a /b\n";
  struct dockerfile *df = dockerfile_parse(t, strlen(t), NULL);
  const struct df_instr *in = &df->instrs[1];
  assert_string_equal(df_instr_flag(in, "from"), "b");
  assert_string_equal(df_instr_flag(in, "exclude"), "y");
  assert_string_equal(df_instr_flag(in, "link"), "");
  assert_null(df_instr_flag(in, "chown"));
  assert_ptr_equal(df_instr_flag_at(in, "from"), &in->flags[2]);
  assert_true(df_instr_parses_flags(in));
  assert_non_null(know_flag(in->kind, "parents"));
  assert_null(know_flag(in->kind, "checksum"));
  dockerfile_free(df);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_rulebook),
      cmocka_unit_test(test_last_one_wins),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
