/*
 * test_refuse.c - one rulebook for what the builder refuses from the
 * Dockerfile alone (model/refuse.h): the value checks' corner cases in
 * BuildKit's words, then one corpus of bad Dockerfiles fed to the analysis
 * and to refuse_instr (the builder's preflight, d_check_values): the first
 * refusal must have the same words and range as the analysis's error.
 * tests/builder/refuse.sh runs the same comparison through `dockwright
 * build` itself.
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
#include "../../model/ref.h"
#include "../../model/refuse.h"
#include "tree-sitter-dockerfile.h"

typedef bool (*value_check)(const char *, struct buf *);

static void expect(value_check f, const char *v, const char *want) {
  struct buf m = BUF_INIT;
  bool refused = f(v, &m);
  if (want == NULL && refused)
    fail_msg("\"%s\": refused (%s), want accepted", v, m.data);
  if (want && (!refused || strcmp(m.data, want) != 0))
    fail_msg("\"%s\": \"%s\", want \"%s\"", v, refused ? m.data : "-", want);
  buf_cleanup(&m);
}

static void test_values(void **state) {
  (void)state;
  const char *up =
      "invalid reference format: repository name must be lowercase";
  expect(refuse_reference, "Ubuntu", up);
  expect(refuse_reference, "library/Ubuntu:22.04", up);
  expect(refuse_reference, "ubuntu:22.04", NULL);
  /* an upper-case first component is a domain, as splitDockerDomain has it */
  expect(refuse_reference, "Host/a", NULL);
  expect(refuse_reference, "a:b:c", "invalid reference format");
  expect(refuse_reference, "",
         "invalid reference format: repository name must have at least one "
         "component");
  char longname[300];
  memset(longname, 'a', sizeof(longname) - 1);
  longname[sizeof(longname) - 1] = '\0';
  expect(refuse_reference, longname,
         "invalid reference format: repository name must not be more than "
         "255 characters");
  expect(refuse_platform, "linux/arm64/v8", NULL);
  /* one word: an OS or an architecture, as containerd's platforms.Parse */
  expect(refuse_platform, "linux", NULL);
  expect(refuse_platform, "AMD64", NULL);
  expect(refuse_platform, "aarch64", NULL);
  expect(refuse_platform, "lnux",
         "bad platform \"lnux\" (want os/arch[/variant])");
  expect(refuse_platform, "linux//v7", "bad platform \"linux//v7\"");
  expect(refuse_chmod, "0755", NULL);
  expect(refuse_chmod, "",
         "invalid chmod parameter: ''. it should be octal string and between "
         "0 and 07777");
  expect(refuse_port, "8080:80/udp", NULL);
  expect(refuse_port, "1000-2000/SCTP", NULL);
  expect(refuse_port, "65536", "invalid containerPort: 65536");
  expect(refuse_port, "/tcp", "no port specified: /tcp<empty>");
  expect(refuse_signal, "sigrtmin+3", NULL);
  expect(refuse_signal, "KILL", NULL);
  expect(refuse_signal, "SIGRTMAX-16", "Invalid signal: SIGRTMAX-16");
  expect(refuse_signal, "4294967296", "Invalid signal: 4294967296");
  struct buf m = BUF_INIT;
  int64_t ns = 0;
  assert_false(refuse_duration("interval", "1m30.5s", &ns, &m));
  assert_true(ns == 90500000000LL);
  assert_false(refuse_duration("interval", "0", &ns, &m));
  assert_true(refuse_duration("interval", "-1s", NULL, &m));
  assert_string_equal(m.data, "Interval \"interval\" cannot be less than 1ms");
  buf_reset(&m);
  assert_true(refuse_duration("timeout", "1x", NULL, &m));
  assert_string_equal(m.data, "time: invalid duration \"1x\"");
  buf_reset(&m);
  int64_t n = 0;
  assert_false(refuse_retries("+3", &n, &m));
  assert_true(n == 3);
  assert_true(refuse_retries("2147483648", NULL, &m));
  assert_string_equal(m.data,
                      "--retries must be an integer, not \"2147483648\"");
  buf_cleanup(&m);
}

/* Whole files; want: the first refusal's words, or NULL. */
static const struct {
  const char *text;
  const char *want;
} corpus[] = {
    {"FROM Ubuntu\n",
     "invalid reference format: repository name must be lowercase"},
    {"FROM scratch AS Build\nFROM build\n", NULL}, /* a stage, not an image */
    {"FROM scratch AS b\nFROM scratch\nCOPY --from=0 a /b\nCOPY --from=B a "
     "/c\n",
     NULL},
    {"FROM scratch AS b\nCOPY --from=b a /b\n",
     "cannot copy from stage \"b\", it needs to be defined before current "
     "stage \"b\""},
    {"FROM scratch\nCOPY --from=1 a /b\nFROM scratch\n",
     "cannot copy from stage \"1\", it needs to be defined before current "
     "stage \"stage-0\""},
    {"FROM scratch\nFROM scratch\nCOPY --from=2 a /b\n",
     "invalid stage index 2"},
    {"FROM scratch\nCOPY --from=Nope a /b\n",
     "invalid reference format: repository name must be lowercase"},
    {"FROM SCRATCH\n", NULL},
    {"ARG IMG=Ubuntu\nFROM ${IMG}\n", NULL}, /* known at build time */
    {"FROM --platform=$BUILDPLATFORM scratch\n", NULL},
    {"FROM --platform=linux scratch\nFROM --platform=arm64 scratch\n", NULL},
    {"FROM --platform=linux-amd64 scratch\n",
     "bad platform \"linux-amd64\" (want os/arch[/variant])"},
    {"FROM scratch\nADD --chmod=8 a /b\n",
     "invalid chmod parameter: '8'. it should be octal string and between 0 "
     "and 07777"},
    {"FROM scratch\nEXPOSE 80 443/udp 1-2\nEXPOSE 0x50\n",
     "invalid containerPort: 0x50"},
    {"FROM scratch\nEXPOSE \"80\" $P\n", NULL},
    {"FROM scratch\nSTOPSIGNAL TERM\nSTOPSIGNAL nope\n",
     "Invalid signal: nope"},
    {"FROM scratch\nHEALTHCHECK --interval=1s --start-period=1ms NONE\n",
     NULL},
    {"FROM scratch\nRUN --mount=type=secret,id=a,required --mount=type=ssh "
     "--mount=type=tmpfs,target=/t,size=64m --mount=type=cache,target=/c,"
     "sharing=locked,uid=1000,mode=0755 --mount=target=/b,from=x,rw=true "
     "--network=none --security=insecure true\n",
     NULL},
    {"FROM scratch\nARG T=cache\nRUN --mount=type=$T,target=/c,size=1 true\n",
     NULL},
    {"FROM scratch\nRUN --mount=type=secret,id=a,source=b true\n",
     "both source and id can't be set"},
    {"FROM scratch\nRUN --mount=type=secret,from=x,target=/s true\n",
     "secret mount should not have a from"},
    {"FROM scratch\nRUN --mount=type=tmpfs,target=/t,size=lots true\n",
     "invalid value for size: lots"},
    {"FROM scratch\nRUN --mount=type=bind,target=/t,ro=maybe true\n",
     "invalid value for ro: maybe"},
    {"FROM scratch\nRUN --mount=type=cache,target=/t,mode=0999 true\n",
     "invalid value 0999 for mode"},
    {"FROM scratch\nRUN --mount=type=bind,target=/t,sharing=locked true\n",
     "invalid cache sharing set for bind mount"},
    {"FROM scratch\nRUN --mount=type=secret true\n",
     "invalid secret mount. one of source, target required"},
    {"FROM scratch\nRUN --mount=type=cache,target=/t,readonly,z true\n",
     "invalid field 'z' must be a key=value pair"},
    {"FROM scratch\nRUN --security=privileged true\n",
     "unsupported security mode \"privileged\""},
    {"FROM scratch AS x.y-z_1\nFROM scratch AS B\n", NULL},
    {"FROM scratch AS 9\n", "invalid name for build stage: \"9\", name can't "
                            "start with a number or contain symbols"},
    {"FROM scratch\nHEALTHCHECK cmd\n",
     "Missing command after HEALTHCHECK CMD"},
    {"FROM scratch\nHEALTHCHECK --interval=1s none\n", NULL},
    {"FROM scratch\nHEALTHCHECK exec true\n",
     "Unknown type \"EXEC\" in HEALTHCHECK (try CMD)"},
    {"FROM scratch\nADD a <<-X\nX\n",
     "ADD cannot accept a heredoc as a destination"},
    {"FROM scratch\nENV =x\n", "ENV names can not be blank"},
    {"FROM scratch\nARG =x\n", "ARG names can not be blank"},
    {"FROM scratch\nVOLUME [\"\"]\n",
     "VOLUME specified can not be an empty string"},
    {"FROM scratch\nVOLUME \"$V\"\n", NULL},
    {"FROM scratch\nONBUILD ONBUILD RUN x\n",
     "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"},
    {"FROM scratch\nONBUILD\n", "ONBUILD requires at least one argument"},
    {"FROM scratch\nFROBNICATE x\n", "unknown instruction: FROBNICATE"},
    {"# check=error=maybe\nFROM scratch\n",
     "failed to parse check options: error=maybe is not a boolean"},
    {"# check=skip=all;error=true\nFROM scratch\n", NULL},
    {"FROM scratch\nHEALTHCHECK --start-interval=5 CMD true\n",
     "time: invalid duration \"5\""},
};

static const char *const refuse_rules[] = {
    "UnknownInstruction",        "InvalidFromArguments", "InvalidStageName",
    "MissingArguments",          "ExtraArguments",       "ShellNotJson",
    "InvalidOnbuildTrigger",     "HeredocDestination",   "InvalidHealthcheck",
    "HealthcheckMissingCommand", "InvalidDirective",     "InvalidReference",
    "InvalidPlatform",           "InvalidFlagValue",     "InvalidPort",
    "InvalidStopSignal",         "InvalidCopyFrom"};

static bool is_refuse_rule(const char *rule) {
  for (size_t i = 0; i < sizeof(refuse_rules) / sizeof(refuse_rules[0]); i++)
    if (strcmp(rule, refuse_rules[i]) == 0)
      return true;
  return false;
}

static void test_same_rulebook(void **state) {
  (void)state;
  TSParser *parser = ts_parser_new();
  ts_parser_set_language(parser, tree_sitter_dockerfile());
  for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
    const char *text = corpus[i].text;
    size_t len = strlen(text);
    TSTree *tree = ts_parser_parse_string(parser, NULL, text, (uint32_t)len);
    struct dockerfile *df = dockerfile_parse(text, len, tree);
    struct analysis_input in;
    memset(&in, 0, sizeof(in));
    in.text = text;
    in.len = len;
    in.tree = tree;
    in.df = df;
    struct diag_list l;
    diag_list_init(&l);
    analysis_run(&in, &l);
    const struct diag *first = NULL;
    for (size_t k = 0; k < l.n && first == NULL; k++)
      if (is_refuse_rule(l.v[k].rule))
        first = &l.v[k];
    /* the builder's preflight */
    struct buf msg = BUF_INIT;
    enum refuse_kind kind;
    struct df_range at;
    bool refused = refuse_first(df, &msg, &kind, &at);
    if (corpus[i].want == NULL) {
      if (refused || first)
        fail_msg("%s: accepted; builder: %s, analysis: %s", text,
                 refused ? msg.data : "-", first ? first->message : "-");
    } else {
      if (!refused || strcmp(msg.data, corpus[i].want) != 0)
        fail_msg("%s: builder says \"%s\", want \"%s\"", text,
                 refused ? msg.data : "(nothing)", corpus[i].want);
      /* the analysis may add a suggestion after the builder's words */
      if (first == NULL ||
          strncmp(first->message, msg.data, strlen(msg.data)) != 0)
        fail_msg("%s: analysis says \"%s\", builder \"%s\"", text,
                 first ? first->message : "(nothing)", msg.data);
      assert_int_equal(first->range.start.row, at.start.row);
      assert_int_equal(first->range.start.col, at.start.col);
    }
    buf_cleanup(&msg);
    diag_list_cleanup(&l);
    dockerfile_free(df);
    ts_tree_delete(tree);
  }
  ts_parser_delete(parser);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_values),
      cmocka_unit_test(test_same_rulebook),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
