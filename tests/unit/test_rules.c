/*
 * test_rules.c - the diagnostics engine.  Every rule has a case that
 * fires (the rule's diagnostics on the given lines) and a near miss that
 * must stay silent; all go through one check().  Then the configuration,
 * `# dockwright-ignore=`, `# check=`, fixes, .dockerignore matching and
 * the docs (a section per rule).
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
#include "../../model/dockerignore.h"
#include "../../common/buf.h"
#include "../../model/knowledge.h"
#include "tree-sitter-dockerfile.h"

struct run_opts {
  const char *dockerignore;
  const struct analysis_config *config;
};

/* Runs the analysis on text with the grammar's tree and the model. */
static void run(const char *text, const struct run_opts *o,
                struct diag_list *out) {
  TSParser *parser = ts_parser_new();
  ts_parser_set_language(parser, tree_sitter_dockerfile());
  TSTree *tree =
      ts_parser_parse_string(parser, NULL, text, (uint32_t)strlen(text));
  struct dockerfile *df = dockerfile_parse(text, strlen(text), tree);
  struct analysis_input in;
  memset(&in, 0, sizeof(in));
  in.text = text;
  in.len = strlen(text);
  in.tree = tree;
  in.df = df;
  if (o) {
    in.dockerignore = o->dockerignore;
    in.dockerignore_len = o->dockerignore ? strlen(o->dockerignore) : 0;
    in.config = o->config;
  }
  diag_list_init(out);
  analysis_run(&in, out);
  dockerfile_free(df);
  ts_tree_delete(tree);
  ts_parser_delete(parser);
}

/* "Rule:line" for every diagnostic of `rule` (all rules when NULL),
 * space-separated, in order. */
static char *got_of(const struct diag_list *l, const char *rule) {
  struct buf b = BUF_INIT;
  for (size_t i = 0; i < l->n; i++) {
    if (rule && strcmp(l->v[i].rule, rule) != 0)
      continue;
    buf_printf(&b, "%s%s:%u", b.len ? " " : "", l->v[i].rule,
               l->v[i].range.start.row + 1);
  }
  return buf_take(&b);
}

/* The one check: `text` gives exactly `want` for `rule` ("" = silent). */
static void check(const char *text, const char *rule, const char *want,
                  const struct run_opts *o) {
  struct diag_list l;
  run(text, o, &l);
  char *got = got_of(&l, rule);
  if (strcmp(got, want) != 0) {
    char *all = got_of(&l, NULL);
    fail_msg("rule %s\n--- text\n%s--- want\n%s\n--- got\n%s\n--- all\n%s",
             rule ? rule : "(all)", text, want, got, all);
  }
  free(got);
  diag_list_cleanup(&l);
}

/* ---- one case per rule ----------------------------------------------------
 */

struct rule_case {
  const char *rule;
  const char *fires;  /* text */
  const char *lines;  /* "3" or "3 5": lines it fires on */
  const char *misses; /* a near miss: silent */
  const char *dockerignore;
};

static const struct rule_case cases[] = {
    {"BuildKitParse", "FROM a\nENV A\n", "2", "FROM a\nENV A=1\n", NULL},
    {"UnknownInstruction", "FROM a\nFORM b\n", "2", "FROM a\nFROM b\n", NULL},
    {"InvalidFromArguments", "FROM a b\n", "1", "FROM a AS b\n", NULL},
    {"InvalidStageName", "FROM a AS 1st\n", "1", "FROM a AS first\n", NULL},
    {"UnknownFlag", "FROM a\nCOPY --form=b x y\n", "2",
     "FROM a\nCOPY --from=b x y\n", NULL},
    {"FlagMissingValue", "FROM a\nCOPY --chown x y\n", "2",
     "FROM a\nCOPY --chown=1 x y\n", NULL},
    {"DuplicateFlag", "FROM a\nCOPY --chown=1 --chown=2 x y\n", "2",
     "FROM a\nRUN --mount=type=cache,target=/a --mount=type=tmpfs,target=/b "
     "true\n",
     NULL},
    {"MissingArguments", "FROM a\nCOPY x\n", "2", "FROM a\nCOPY x y\n", NULL},
    {"ExtraArguments", "FROM a\nHEALTHCHECK NONE x\n", "2",
     "FROM a\nHEALTHCHECK NONE\n", NULL},
    {"ShellNotJson", "FROM a\nSHELL /bin/sh -c\n", "2",
     "FROM a\nSHELL [\"/bin/sh\", \"-c\"]\n", NULL},
    {"InvalidOnbuildTrigger", "FROM a\nONBUILD FROM b\n", "2",
     "FROM a\nONBUILD RUN b\n", NULL},
    {"HeredocDestination", "FROM a\nCOPY x <<EOF\nhi\nEOF\n", "2",
     "FROM a\nCOPY <<EOF /x\nhi\nEOF\n", NULL},
    {"InvalidVariableSyntax", "FROM a\nWORKDIR ${}\n", "2",
     "FROM a\nWORKDIR ${x}\n", NULL},
    {"InvalidDirective", "# check=skip=all;foo=bar\nFROM a\n", "1",
     "# check=skip=all;error=true\nFROM a\n", NULL},
    {"MisplacedDirective", "# licence\n# syntax=docker/dockerfile:1\nFROM a\n",
     "2", "# syntax=docker/dockerfile:1\n# licence\nFROM a\n", NULL},
    {"InvalidFlagValue", "FROM a\nCOPY --link=yes x y\n", "2",
     "FROM a\nCOPY --link=true x y\n", NULL},
    {"InvalidReference", "FROM a\nFROM Ubuntu\n", "2", "FROM a\nFROM ubuntu\n",
     NULL},
    {"InvalidPlatform", "FROM --platform=linux-amd64 a\n", "1",
     "FROM --platform=linux/amd64 a\n", NULL},
    {"InvalidHealthcheck", "FROM a\nHEALTHCHECK RUN x\n", "2",
     "FROM a\nHEALTHCHECK CMD x\n", NULL},
    {"HealthcheckMissingCommand", "FROM a\nHEALTHCHECK CMD\n", "2",
     "FROM a\nHEALTHCHECK CMD true\n", NULL},
    {"InvalidPort", "FROM a\nEXPOSE 70000\n", "2", "FROM a\nEXPOSE 65535\n",
     NULL},
    {"InvalidStopSignal", "FROM a\nSTOPSIGNAL SIGFOO\n", "2",
     "FROM a\nSTOPSIGNAL SIGRTMIN+3\n", NULL},
    {"InvalidCopyFrom", "FROM a AS one\nCOPY --from=two x y\nFROM b AS two\n",
     "2", "FROM a AS two\nFROM b AS one\nCOPY --from=two x y\n", NULL},
    {"CopyFromImage", "FROM a AS build\nFROM b\nCOPY --from=biuld x y\n", "3",
     "FROM a AS build\nFROM b\nCOPY --from=build x y\n", NULL},
    {"InstructionCasing", "from a\nrun x\n", "1 2", "FROM a\nRUN x\n", NULL},
    {"StageNameCasing", "FROM a AS Build\n", "1", "FROM a AS build\n", NULL},
    {"FromAsCasing", "FROM a as b\n", "1", "from a as b\n", NULL},
    {"NoEmptyContinuation", "FROM a\nRUN x \\\n\n  y\n", "3",
     "FROM a\nRUN x \\\n  y\n", NULL},
    {"ConsistentInstructionCasing", "FROM a\nRUN x\nrun y\n", "3",
     "FROM a\nRUN x\nRUN y\n", NULL},
    {"DuplicateStageName", "FROM a AS b\nFROM c AS b\n", "2",
     "FROM a AS b\nFROM c AS d\n", NULL},
    {"ReservedStageName", "FROM a AS scratch\n", "1", "FROM a AS scratchy\n",
     NULL},
    {"JSONArgsRecommended", "FROM a\nCMD run x\n", "2",
     "FROM a\nCMD [\"run\", \"x\"]\n", NULL},
    {"MaintainerDeprecated", "FROM a\nMAINTAINER me\n", "2",
     "FROM a\nLABEL org.opencontainers.image.authors=me\n", NULL},
    {"UndefinedArgInFrom", "FROM a:$TAG\n", "1", "ARG TAG\nFROM a:$TAG\n",
     NULL},
    {"WorkdirRelativePath", "FROM a\nWORKDIR app\n", "2",
     "FROM a\nWORKDIR /app\n", NULL},
    {"UndefinedVar", "FROM scratch\nCOPY $SRC /x\n", "2",
     "FROM scratch\nARG SRC\nCOPY $SRC /x\n", NULL},
    {"MultipleInstructionsDisallowed", "FROM a\nCMD [\"x\"]\nCMD [\"y\"]\n",
     "2", "FROM a\nCMD [\"x\"]\nFROM b\nCMD [\"y\"]\n", NULL},
    {"LegacyKeyValueFormat", "FROM a\nENV A b\n", "2", "FROM a\nENV A=b\n",
     NULL},
    {"RedundantTargetPlatform", "FROM --platform=$TARGETPLATFORM a\n", "1",
     "FROM --platform=$BUILDPLATFORM a\n", NULL},
    {"SecretsUsedInArgOrEnv", "FROM a\nENV DB_PASSWORD=x\n", "2",
     "FROM a\nENV DB_PASSWORDLESS=x\n", NULL},
    {"InvalidDefaultArgInFrom", "ARG TAG\nFROM a:${TAG}\n", "2",
     "ARG TAG=1\nFROM a:${TAG}\n", NULL},
    {"FromPlatformFlagConstDisallowed", "FROM --platform=linux/arm64 a\n", "1",
     "FROM --platform=linux/arm64 a AS build-arm64\n", NULL},
    {"CopyIgnoredFile", "FROM a\nCOPY secret.txt /x\n", "2",
     "FROM a\nCOPY public.txt /x\n", "secret*\n"},
    {"ExposeProtoCasing", "FROM a\nEXPOSE 80/TCP\n", "2",
     "FROM a\nEXPOSE 80/tcp\n", NULL},
    {"ExposeInvalidFormat", "FROM a\nEXPOSE 8080:80\n", "2",
     "FROM a\nEXPOSE 8080 80\n", NULL},
    {"ImageTagLatest", "FROM alpine\n", "1", "FROM alpine:3.20\n", NULL},
    {"AptGetMissingYes", "FROM a\nRUN apt-get install curl\n", "2",
     "FROM a\nRUN apt-get install -y curl\n", NULL},
    {"AptGetNoInstallRecommends", "FROM a\nRUN apt-get install -y curl\n", "2",
     "FROM a\nRUN apt-get install -y --no-install-recommends curl\n", NULL},
    {"AptListsNotRemoved", "FROM a\nRUN apt-get install -y curl\n", "2",
     "FROM a\nRUN apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
     NULL},
    {"AptUpdateAlone", "FROM a\nRUN apt-get update\n", "2",
     "FROM a\nRUN apt-get update && apt-get install -y x\n", NULL},
    {"CdInRun", "FROM a\nRUN cd /src && make\n", "2",
     "FROM a\nRUN make -C /src && cd /\n", NULL},
    {"AddInsteadOfCopy", "FROM a\nADD app.py /app/\n", "2",
     "FROM a\nADD app.tar.gz /app/\n", NULL},
    {"SudoInRun", "FROM a\nRUN sudo make install\n", "2",
     "FROM a\nRUN make install # no sudo\n", NULL},
    {"LastUserRoot", "FROM a\nUSER app\nUSER root\n", "3",
     "FROM a\nUSER root\nUSER app\n", NULL},
    {"ConsecutiveRun", "FROM a\nRUN x\nRUN y\n", "3",
     "FROM a\nRUN x\nCOPY a b\nRUN y\n", NULL},
    {"PipeWithoutPipefail", "FROM a\nRUN x | y\n", "2",
     "FROM a\nRUN set -o pipefail && x | y\n", NULL},
    {"ApkAddNoCache", "FROM a\nRUN apk add curl\n", "2",
     "FROM a\nRUN apk add --no-cache curl\n", NULL},
    {"PipNoCacheDir", "FROM a\nRUN pip install flask\n", "2",
     "FROM a\nRUN pip install --no-cache-dir flask\n", NULL},
    {"CurlPipeShell", "FROM a\nRUN curl -fsSL https://x/i.sh | sh\n", "2",
     "FROM a\nRUN curl -fsSL https://x/i.sh -o i.sh\n", NULL},
    {"CopyAllBeforeInstall", "FROM a\nCOPY . .\nRUN npm ci\n", "2",
     "FROM a\nCOPY package.json .\nRUN npm ci\nCOPY . .\n", NULL},
    {"SyntaxError", "FROM a\nENV =\n", "2", "FROM a\nENV a=\n", NULL},
    /* The tutorial's typo, in RUN, WORKDIR and CMD (once each). */
    {"MistypedPath",
     "FROM a\nCOPY . /opt/sour_code\nRUN pip install -r "
     "/opt/source_code/req.txt /opt/source_code/b\nWORKDIR /opt/sourcecode\n"
     "CMD [\"python\", \"/opt/source_code/app.py\"]\n",
     "3 4 5",
     "FROM a\nCOPY . /opt/source_code\nRUN pip install -r "
     "/opt/source_code/req.txt\nWORKDIR /opt/source_code\n"
     "CMD [\"python\", \"/opt/source_code/app.py\"]\n",
     NULL},
    /* Where the base image could hold the path, or the stage made it:
     * a system directory, a standard top-level name, a RUN that makes
     * it, another stage's COPY, a file copied into a directory, a
     * relative WORKDIR, a variable. */
    {"MistypedPath",
     "FROM a\nCOPY app.py /opt/ap/\nCMD [\"python\", \"/opt/app/app.py\"]\n",
     "3",
     "FROM a\nCOPY pip.conf /etc/pip.conf\nCOPY x /app\nRUN cat "
     "/etc/pip3.conf /usr/bin/pyhton /bin/sh /opt/x\n"
     "RUN mkdir /opt/source_code && cp -r /opt/sour_code/. "
     "/opt/source_code\nCOPY . /opt/sour_code\n"
     "CMD [\"/opt/source_code/app.py\", \"$HOME/x\", \"/ap*/x\"]\n"
     "FROM a\nCOPY . /build/srcs\nFROM a\nCMD [\"/build/src/x\"]\n"
     "FROM a\nCOPY run.sh /app/\nCMD [\"/app/run.sh\"]\n"
     "FROM a\nWORKDIR /w\nCOPY . code\nCMD [\"/w/code/x\"]\n",
     NULL},
    /* The ways package lists really leave an image (apt 2.7+ dist-clean,
     * clean + rm, a cache or tmpfs mount over them), and near misses. */
    {"AptListsNotRemoved",
     "FROM a\nRUN apt-get install -y x && apt-get clean\n", "2",
     "FROM a\nRUN apt-get install -y x && apt-get dist-clean\n", NULL},
    {"AptListsNotRemoved",
     "FROM a\nRUN apt-get install -y x && apt-get clean && rm -rf /tmp/x\n",
     "2",
     "FROM a\nRUN apt-get install -y x && apt-get clean && rm -rf "
     "/var/lib/apt/lists/*\n",
     NULL},
    {"AptListsNotRemoved",
     "FROM a\nRUN --mount=type=cache,target=/root/.cache apt-get install -y "
     "x\n",
     "2",
     "FROM a\nRUN --mount=type=cache,target=/var/lib/apt,sharing=locked "
     "apt-get install -y x\n",
     NULL},
    {"AptListsNotRemoved",
     "FROM a\nRUN --mount=type=cache,target=/var/cache/apt apt-get install "
     "-y x\n",
     "2",
     "FROM a\nRUN --mount=type=tmpfs,dst=/var/lib/apt/lists/ apt-get "
     "install -y x\n",
     NULL},
    /* echo and printf cannot fail: checking a sum through a pipe is fine. */
    {"PipeWithoutPipefail", "FROM a\nRUN curl -fsSL u | tar -x\n", "2",
     "FROM a\nRUN echo \"$SUM *f\" | sha256sum -c -\n", NULL},
    /* apk add --no-network reads no index. */
    {"ApkAddNoCache", "FROM a\nRUN apk add --virtual .d x\n", "2",
     "FROM a\nRUN apk add --no-network --virtual .d x\n", NULL},
};

static void test_rule_case(void **state) {
  const struct rule_case *rc = *state;
  struct run_opts o = {rc->dockerignore, NULL};
  struct buf want = BUF_INIT;
  const char *p = rc->lines;
  while (*p) {
    char *end;
    unsigned long line = strtoul(p, &end, 10);
    buf_printf(&want, "%s%s:%lu", want.len ? " " : "", rc->rule, line);
    p = end;
    while (*p == ' ')
      p++;
  }
  check(rc->fires, rc->rule, buf_cstr(&want), &o);
  check(rc->misses, rc->rule, "", &o);
  buf_cleanup(&want);
}

/* Every flag of the knowledge table (model/knowledge.h), the one
 * completion offers, is accepted where it belongs, and one it lacks is
 * refused: the analysis reads the same table. */
static void test_knowledge_flags(void **state) {
  (void)state;
  size_t n;
  const struct know_flag *fs = know_flags(&n);
  for (size_t i = 0; i < n; i++) {
    const struct know_flag *f = &fs[i];
    struct buf value = BUF_INIT;
    if (f->kind != KNOW_BOOL) {
      const char *v = f->values ? f->values : "x";
      buf_printf(&value, "=%.*s", (int)strcspn(v, "|"), v);
    }
    char *kw = strdup(df_kind_name(f->instr));
    for (char *p = kw; *p; p++)
      *p = (char)(*p - 'a' + 'A');
    const char *args = f->instr == DF_HEALTHCHECK ? "CMD true"
                       : f->instr == DF_RUN       ? "true"
                       : f->instr == DF_FROM      ? "b"
                                                  : "a /b";
    struct buf text = BUF_INIT;
    buf_printf(&text, "FROM a AS x\n%s --%s%s %s\n", kw, f->name,
               buf_cstr(&value), args);
    check(buf_cstr(&text), "UnknownFlag", "", NULL);
    buf_cleanup(&text);
    buf_cleanup(&value);
    free(kw);
  }
  check("FROM a\nCOPY --checksum=sha256:x a /b\n", "UnknownFlag",
        "UnknownFlag:2", NULL);
}

/* Every rule in the table has a case. */
static void test_every_rule_has_a_case(void **state) {
  (void)state;
  size_t n;
  const struct analysis_rule *rules = analysis_rules(&n);
  for (size_t i = 0; i < n; i++) {
    bool found = false;
    for (size_t k = 0; k < sizeof(cases) / sizeof(*cases); k++)
      if (strcmp(cases[k].rule, rules[i].id) == 0)
        found = true;
    if (!found)
      fail_msg("rule %s has no test case", rules[i].id);
  }
}

/* ---- syntax --------------------------------------------------------------
 */

static void test_syntax(void **state) {
  (void)state;
  /* A MISSING or ERROR node says what was expected, where. */
  struct diag_list l;
  run("FROM a\nRUN [\"a\", \n", NULL, &l);
  for (size_t i = 0; i < l.n; i++)
    if (strcmp(l.v[i].rule, "SyntaxError") == 0)
      assert_int_equal(l.v[i].severity, DIAG_ERROR);
  diag_list_cleanup(&l);
  /* Real files: nothing. */
  check("# syntax=docker/dockerfile:1\nFROM alpine:3 AS build\n"
        "RUN <<EOF\necho hi\nEOF\nCOPY --from=build --chmod=755 /a /b\n",
        "SyntaxError", "", NULL);
}

/* ---- configuration, ignore comments, check directive ---------------------
 */

static void test_config(void **state) {
  (void)state;
  struct analysis_config cfg;
  analysis_config_init(&cfg);
  struct err e;
  err_clear(&e);
  assert_int_equal(analysis_config_set(&cfg, "NoSuchRule", DIAG_OFF, &e), -1);
  assert_non_null(strstr(e.msg, "NoSuchRule"));
  assert_int_equal(analysis_config_set(&cfg, "ImageTagLatest", DIAG_OFF, &e),
                   0);
  assert_int_equal(
      analysis_config_set(&cfg, "MaintainerDeprecated", DIAG_ERROR, &e), 0);
  struct run_opts o = {NULL, &cfg};
  check("FROM alpine\nMAINTAINER me\n", "ImageTagLatest", "", &o);
  struct diag_list l;
  run("FROM alpine\nMAINTAINER me\n", &o, &l);
  bool seen = false;
  for (size_t i = 0; i < l.n; i++)
    if (strcmp(l.v[i].rule, "MaintainerDeprecated") == 0) {
      seen = true;
      assert_int_equal(l.v[i].severity, DIAG_ERROR);
      assert_true(l.v[i].tags & DIAG_TAG_DEPRECATED);
    }
  assert_true(seen);
  diag_list_cleanup(&l);
  /* Setting twice replaces. */
  assert_int_equal(
      analysis_config_set(&cfg, "MaintainerDeprecated", DIAG_OFF, &e), 0);
  assert_int_equal(cfg.nrules, 2);
  check("FROM alpine\nMAINTAINER me\n", "MaintainerDeprecated", "", &o);
  analysis_config_cleanup(&cfg);
}

static void test_ignore_comment(void **state) {
  (void)state;
  check("# dockwright-ignore=ImageTagLatest\nFROM alpine\n", "ImageTagLatest",
        "", NULL);
  check("# dockwright-ignore=Other, ImageTagLatest\nFROM alpine\n",
        "ImageTagLatest", "", NULL);
  check("# dockwright-ignore\nFROM alpine\n", NULL, "", NULL);
  /* Other rules and other instructions are untouched. */
  check("# dockwright-ignore=ImageTagLatest\nFROM alpine\nFROM debian\n",
        "ImageTagLatest", "ImageTagLatest:3", NULL);
  check("# dockwright-ignore=LegacyKeyValueFormat\nFROM alpine\n",
        "ImageTagLatest", "ImageTagLatest:2", NULL);
  /* Spans the instruction's continuation lines. */
  check("FROM a\n# dockwright-ignore=AptGetMissingYes\nRUN true && \\\n"
        "  apt-get install x\n",
        "AptGetMissingYes", "", NULL);
}

static void test_check_directive(void **state) {
  (void)state;
  check("# check=skip=MaintainerDeprecated\nFROM a\nMAINTAINER me\n",
        "MaintainerDeprecated", "", NULL);
  check("# check=skip=all\nFROM a\nMAINTAINER me\nFROM a AS B\n", NULL,
        "ImageTagLatest:2 ImageTagLatest:4", NULL);
  /* skip governs BuildKit's checks only. */
  check("# check=skip=all\nFROM alpine\n", "ImageTagLatest",
        "ImageTagLatest:2", NULL);
  struct diag_list l;
  run("# check=error=true\nFROM a:1\nMAINTAINER me\n", NULL, &l);
  assert_int_equal(l.n, 1);
  assert_string_equal(l.v[0].rule, "MaintainerDeprecated");
  assert_int_equal(l.v[0].severity, DIAG_ERROR);
  diag_list_cleanup(&l);
  run("# check=skip=JSONArgsRecommended;error=true\nFROM a:1\nCMD x\n"
      "MAINTAINER me\n",
      NULL, &l);
  assert_int_equal(l.n, 1);
  assert_int_equal(l.v[0].severity, DIAG_ERROR);
  diag_list_cleanup(&l);
}

/* ---- fixes, related information, tags, order ------------------------------
 */

/* Applies the first fix of the first `rule` diagnostic. */
static char *apply_fix(const char *text, const char *rule) {
  struct diag_list l;
  run(text, NULL, &l);
  char *out = NULL;
  for (size_t i = 0; i < l.n && out == NULL; i++) {
    if (strcmp(l.v[i].rule, rule) != 0 || l.v[i].nfixes == 0)
      continue;
    const struct diag_fix *f = &l.v[i].fixes[0];
    struct buf b = BUF_INIT;
    buf_append(&b, text, f->range.start.byte);
    buf_puts(&b, f->new_text);
    buf_puts(&b, text + f->range.end.byte);
    out = buf_take(&b);
  }
  diag_list_cleanup(&l);
  if (out == NULL)
    fail_msg("no fix for %s in:\n%s", rule, text);
  return out;
}

static void test_fixes(void **state) {
  (void)state;
  static const struct {
    const char *rule, *text, *want;
  } fixes[] = {
      {"FromAsCasing", "FROM a as b\n", "FROM a AS b\n"},
      {"StageNameCasing", "FROM a AS Build\n", "FROM a AS build\n"},
      {"UnknownInstruction", "FROM a\nFORM b\n", "FROM a\nFROM b\n"},
      {"AptGetMissingYes",
       "FROM a:1\nRUN apt-get update && \\\n  apt-get "
       "install curl\n",
       "FROM a:1\nRUN apt-get update && \\\n  apt-get install -y curl\n"},
      {"ApkAddNoCache", "FROM a\nRUN apk add curl\n",
       "FROM a\nRUN apk add --no-cache curl\n"},
      {"LegacyKeyValueFormat", "FROM a\nENV A b c\n",
       "FROM a\nENV A=\"b c\"\n"},
      {"ShellNotJson", "FROM a\nSHELL /bin/bash -c\n",
       "FROM a\nSHELL [\"/bin/bash\", \"-c\"]\n"},
      {"JSONArgsRecommended", "FROM a\nCMD nginx -g x\n",
       "FROM a\nCMD [\"nginx\", \"-g\", \"x\"]\n"},
      {"FlagMissingValue", "FROM a AS b\nFROM c\nCOPY --from b /x /y\n",
       "FROM a AS b\nFROM c\nCOPY --from=b /x /y\n"},
      {"MaintainerDeprecated", "FROM a\nMAINTAINER me\n",
       "FROM a\nLABEL org.opencontainers.image.authors=\"me\"\n"},
      {"MultipleInstructionsDisallowed", "FROM a\nCMD [\"x\"]\nCMD [\"y\"]\n",
       "FROM a\nCMD [\"y\"]\n"},
      {"AddInsteadOfCopy", "FROM a\nADD x /y\n", "FROM a\nCOPY x /y\n"},
      {"ExposeProtoCasing", "FROM a\nEXPOSE 53/UDP\n",
       "FROM a\nEXPOSE 53/udp\n"},
      {"NoEmptyContinuation", "FROM a\nRUN x \\\n\n  y\n",
       "FROM a\nRUN x \\\n  y\n"},
      {"RedundantTargetPlatform", "FROM --platform=$TARGETPLATFORM a\n",
       "FROM a\n"},
      {"MistypedPath",
       "FROM a\nCOPY . /opt/sour_code\nCMD python3 /opt/source_code/app.py\n",
       "FROM a\nCOPY . /opt/sour_code\nCMD python3 /opt/sour_code/app.py\n"},
  };
  for (size_t i = 0; i < sizeof(fixes) / sizeof(*fixes); i++) {
    char *got = apply_fix(fixes[i].text, fixes[i].rule);
    if (strcmp(got, fixes[i].want) != 0)
      fail_msg("%s fix:\n--- want\n%s--- got\n%s", fixes[i].rule,
               fixes[i].want, got);
    free(got);
  }
}

static void test_related_tags_order(void **state) {
  (void)state;
  struct diag_list l;
  run("FROM a:1 AS b\nFROM c:1 AS b\nCMD [\"x\"]\nCMD [\"y\"]\n", NULL, &l);
  const struct diag *dup = NULL, *multi = NULL;
  for (size_t i = 0; i < l.n; i++) {
    if (strcmp(l.v[i].rule, "DuplicateStageName") == 0)
      dup = &l.v[i];
    if (strcmp(l.v[i].rule, "MultipleInstructionsDisallowed") == 0)
      multi = &l.v[i];
    if (i > 0)
      assert_true(l.v[i - 1].range.start.byte <= l.v[i].range.start.byte);
  }
  assert_non_null(dup);
  assert_int_equal(dup->nrelated, 1);
  assert_int_equal(dup->related[0].range.start.row, 0);
  assert_non_null(multi);
  assert_true(multi->tags & DIAG_TAG_UNNECESSARY);
  assert_int_equal(multi->range.start.row, 2);
  diag_list_cleanup(&l);
  /* The text format's pieces: the doc link of every rule. */
  assert_string_equal(analysis_rule_doc_url("StageNameCasing"),
                      "https://github.com/dockwright/dockwright/blob/main/"
                      "docs/diagnostics.md#stagenamecasing");
  assert_null(analysis_rule_doc_url("Nope"));
}

/* Broken and odd input: no crash, no false alarm on the file as a whole. */
static void test_robust(void **state) {
  (void)state;
  static const char *const texts[] = {
      "",
      "\n\n",
      "FROM",
      "FROM a\nRUN \\",
      "FROM a\nCOPY <<EOF\n",
      "ONBUILD\n",
      "FROM a\nENV ${\n",
      "\xEF\xBB\xBF"
      "FROM a\n",
      "# escape=`\nFROM a\nRUN x `\n  y\n",
      "FROM a\r\nRUN x\r\n",
      "FROM a\nHEALTHCHECK --interval=1.5h30m --retries=99999999999 CMD x\n",
      "FROM a\nEXPOSE -1 /tcp 1-/udp :\n",
      "FROM a\nCOPY --chmod= x y\nCOPY --from= x y\n",
  };
  for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
    struct diag_list l;
    run(texts[i], NULL, &l);
    for (size_t k = 0; k < l.n; k++) {
      assert_non_null(l.v[k].message);
      assert_true(l.v[k].range.start.byte <= l.v[k].range.end.byte);
    }
    diag_list_cleanup(&l);
  }
  /* The escape directive applies to continuations and to the expander. */
  check("# escape=`\nFROM a:1\nRUN x `\n  y\n", NULL, "", NULL);
}

/* ---- .dockerignore -------------------------------------------------------
 */

static void test_dockerignore(void **state) {
  (void)state;
  static const struct {
    const char *patterns, *path;
    bool excluded;
  } t[] = {
      {"*.md\n", "README.md", true},
      {"*.md\n", "docs/README.md", false},
      {"**/*.md\n", "docs/a/README.md", true},
      {"**/*.md\n", "README.md", true},
      {"docs\n", "docs/a/b.txt", true},
      {"/docs/\n", "./docs", true},
      {"*\n!src\n", "src/main.c", false},
      {"*\n!src\n", "Makefile", true},
      {"secret?.txt\n", "secret1.txt", true},
      {"secret?.txt\n", "secret/.txt", false},
      {"[a-c].txt\n", "b.txt", true},
      /* '^' negates; '!' is a member (filepath.Match, and the regexp
       * patternmatcher builds) */
      {"[!a-c].txt\n", "b.txt", true},
      {"[^a-c].txt\n", "b.txt", false},
      {"[^a-c].txt\n", "d.txt", true},
      /* a malformed pattern matches nothing */
      {"[a-c.txt\n", "b.txt", false},
      {"# comment\n\n  node_modules  \n", "node_modules/x", true},
      {"a/**/b\n", "a/x/y/b", true},
      {"a/**/b\n", "a/b", true},
      {"!keep\n", "keep", false},
      {"build\n!build/keep\n", "build/keep", false},
      {"build\n!build/keep\nbuild/keep\n", "build/keep", true},
      {"\\*\n", "*", true},
      {"./x\n", "x", true},
      {"../x\n", "x", false},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++) {
    struct dockerignore *di =
        dockerignore_new(t[i].patterns, strlen(t[i].patterns));
    bool got = dockerignore_excludes(di, t[i].path);
    if (got != t[i].excluded)
      fail_msg("patterns %s path %s: want %d got %d", t[i].patterns, t[i].path,
               t[i].excluded, got);
    dockerignore_free(di);
  }
}

/* ---- the docs: a section per rule -----------------------------------------
 */

static void test_docs(void **state) {
  (void)state;
  FILE *f = fopen(DW_DOCS_DIAGNOSTICS, "rb");
  if (f == NULL)
    fail_msg("cannot open %s", DW_DOCS_DIAGNOSTICS);
  struct buf b = BUF_INIT;
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    buf_append(&b, chunk, n);
  fclose(f);
  size_t nrules;
  const struct analysis_rule *rules = analysis_rules(&nrules);
  for (size_t i = 0; i < nrules; i++) {
    struct buf h = BUF_INIT;
    buf_printf(&h, "\n## %s\n", rules[i].id);
    if (strstr(buf_cstr(&b), buf_cstr(&h)) == NULL)
      fail_msg("docs/diagnostics.md has no section '## %s'", rules[i].id);
    buf_cleanup(&h);
    /* The anchor is the id in lower case, as GitHub makes it. */
    const char *hash = strrchr(rules[i].doc_url, '#');
    assert_non_null(hash);
    for (size_t k = 0; rules[i].id[k]; k++) {
      char ch = rules[i].id[k];
      char low = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
      assert_int_equal(hash[1 + k], low);
    }
  }
  buf_cleanup(&b);
}

int main(void) {
  size_t ncases = sizeof(cases) / sizeof(*cases);
  static const struct CMUnitTest fixed[] = {
      cmocka_unit_test(test_every_rule_has_a_case),
      cmocka_unit_test(test_knowledge_flags),
      cmocka_unit_test(test_syntax),
      cmocka_unit_test(test_config),
      cmocka_unit_test(test_ignore_comment),
      cmocka_unit_test(test_check_directive),
      cmocka_unit_test(test_fixes),
      cmocka_unit_test(test_related_tags_order),
      cmocka_unit_test(test_robust),
      cmocka_unit_test(test_dockerignore),
      cmocka_unit_test(test_docs),
  };
  size_t nfixed = sizeof(fixed) / sizeof(*fixed);
  struct CMUnitTest *tests = calloc(ncases + nfixed, sizeof(*tests));
  for (size_t i = 0; i < ncases; i++) {
    tests[i].name = cases[i].rule;
    tests[i].test_func = test_rule_case;
    tests[i].initial_state = (void *)&cases[i];
  }
  memcpy(tests + ncases, fixed, sizeof(fixed));
  int rc =
      _cmocka_run_group_tests("rules", tests, ncases + nfixed, NULL, NULL);
  free(tests);
  return rc;
}
