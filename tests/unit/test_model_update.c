/*
 * test_model_update.c - dockerfile_update against dockerfile_parse: after
 * every one of many random edits (deterministic seeds), the model updated
 * in place must equal, field by field, the model read from scratch from
 * the same text and tree, and the diagnostics of both must be the same.
 *
 * The edits are the ones that move run boundaries: newlines, line
 * continuations, heredoc markers and terminators, comments, directives,
 * instruction keywords, a BOM, deletions across lines.  Several edits
 * sometimes go into one update, as when the server coalesces keystrokes.
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
#include "../../model/dockerfile.h"
#include "tree-sitter-dockerfile.h"

/* ---- comparing two models --------------------------------------------- */

/* The first difference found, for the failure message. */
static char mu_why[512];

static bool mu_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(mu_why, sizeof(mu_why), fmt, ap);
  va_end(ap);
  return false;
}

static bool mu_pos_eq(struct df_pos a, struct df_pos b) {
  return a.row == b.row && a.col == b.col && a.byte == b.byte;
}

static bool mu_range_eq(struct df_range a, struct df_range b) {
  return mu_pos_eq(a.start, b.start) && mu_pos_eq(a.end, b.end);
}

static bool mu_str_eq(const char *a, const char *b) {
  if (a == NULL || b == NULL)
    return a == b;
  return strcmp(a, b) == 0;
}

static bool mu_instr_eq(const struct df_instr *a, const struct df_instr *b,
                        size_t i) {
  if (a->kind != b->kind || !mu_str_eq(a->keyword, b->keyword) ||
      !mu_str_eq(a->original, b->original) ||
      !mu_range_eq(a->range, b->range) ||
      !mu_range_eq(a->keyword_range, b->keyword_range) ||
      a->start_line != b->start_line || a->end_line != b->end_line ||
      a->form != b->form || a->nflags != b->nflags || a->nargs != b->nargs ||
      !mu_range_eq(a->args_range, b->args_range) ||
      a->nheredocs != b->nheredocs || a->invalid != b->invalid ||
      a->empty_continuation != b->empty_continuation ||
      a->node_index != b->node_index || (a->sub == NULL) != (b->sub == NULL))
    return mu_fail("instruction %zu ('%s' vs '%s') differs", i, a->original,
                   b->original);
  for (size_t k = 0; k < a->nflags; k++) {
    const struct df_flag *x = &a->flags[k], *y = &b->flags[k];
    if (!mu_str_eq(x->text, y->text) || !mu_str_eq(x->name, y->name) ||
        !mu_str_eq(x->value, y->value) || !mu_range_eq(x->range, y->range))
      return mu_fail("instruction %zu: flag %zu differs", i, k);
  }
  for (size_t k = 0; k < a->nargs; k++) {
    const struct df_arg *x = &a->args[k], *y = &b->args[k];
    if (x->len != y->len || memcmp(x->value, y->value, x->len) != 0 ||
        !mu_range_eq(x->range, y->range))
      return mu_fail("instruction %zu: argument %zu differs", i, k);
  }
  for (size_t k = 0; k < a->nheredocs; k++) {
    const struct df_heredoc *x = &a->heredocs[k], *y = &b->heredocs[k];
    if (!mu_str_eq(x->name, y->name) || x->fd != y->fd ||
        x->expand != y->expand || x->chomp != y->chomp ||
        x->content_len != y->content_len ||
        memcmp(x->content, y->content, x->content_len) != 0 ||
        !mu_range_eq(x->marker, y->marker) || !mu_range_eq(x->body, y->body))
      return mu_fail("instruction %zu: heredoc %zu differs: name '%s'/'%s' "
                     "len %zu/%zu marker %u-%u/%u-%u body %u:%u-%u:%u/"
                     "%u:%u-%u:%u",
                     i, k, x->name, y->name, x->content_len, y->content_len,
                     x->marker.start.byte, x->marker.end.byte,
                     y->marker.start.byte, y->marker.end.byte,
                     x->body.start.row, x->body.start.byte, x->body.end.row,
                     x->body.end.byte, y->body.start.row, y->body.start.byte,
                     y->body.end.row, y->body.end.byte);
  }
  if (a->sub)
    return mu_instr_eq(a->sub, b->sub, i);
  return true;
}

static bool mu_model_eq(const struct dockerfile *a,
                        const struct dockerfile *b) {
  if (a->escape != b->escape || a->has_bom != b->has_bom ||
      a->nlines != b->nlines)
    return mu_fail("header differs (escape, BOM or lines)");
  if (a->ndirectives != b->ndirectives)
    return mu_fail("%zu directives vs %zu", a->ndirectives, b->ndirectives);
  for (size_t i = 0; i < a->ndirectives; i++)
    if (!mu_str_eq(a->directives[i].name, b->directives[i].name) ||
        !mu_str_eq(a->directives[i].value, b->directives[i].value) ||
        !mu_range_eq(a->directives[i].range, b->directives[i].range))
      return mu_fail("directive %zu differs", i);
  if (a->ninstrs != b->ninstrs)
    return mu_fail("%zu instructions vs %zu", a->ninstrs, b->ninstrs);
  for (size_t i = 0; i < a->ninstrs; i++)
    if (!mu_instr_eq(&a->instrs[i], &b->instrs[i], i))
      return false;
  if (a->nglobal != b->nglobal || a->nstages != b->nstages)
    return mu_fail("stages differ (%zu vs %zu)", a->nstages, b->nstages);
  for (size_t i = 0; i < a->nstages; i++) {
    const struct df_stage *x = &a->stages[i], *y = &b->stages[i];
    if (x->index != y->index || !mu_str_eq(x->name, y->name) ||
        !mu_str_eq(x->base, y->base) || x->from_instr != y->from_instr ||
        x->ninstrs != y->ninstrs ||
        (x->name && !mu_range_eq(x->name_range, y->name_range)))
      return mu_fail("stage %zu differs", i);
  }
  if (a->nproblems != b->nproblems)
    return mu_fail("%zu problems vs %zu", a->nproblems, b->nproblems);
  for (size_t i = 0; i < a->nproblems; i++)
    if (a->problems[i].kind != b->problems[i].kind ||
        !mu_str_eq(a->problems[i].message, b->problems[i].message) ||
        !mu_range_eq(a->problems[i].range, b->problems[i].range))
      return mu_fail("problem %zu ('%s') differs", i, a->problems[i].message);
  return true;
}

static bool mu_diags_eq(const struct diag_list *a, const struct diag_list *b) {
  if (a->n != b->n)
    return mu_fail("%zu diagnostics vs %zu", a->n, b->n);
  for (size_t i = 0; i < a->n; i++) {
    const struct diag *x = &a->v[i], *y = &b->v[i];
    if (strcmp(x->rule, y->rule) != 0 || x->severity != y->severity ||
        !mu_range_eq(x->range, y->range) ||
        strcmp(x->message, y->message) != 0 || x->tags != y->tags ||
        x->nrelated != y->nrelated || x->nfixes != y->nfixes)
      return mu_fail("diagnostic %zu (%s: %s) differs", i, x->rule,
                     x->message);
    for (size_t k = 0; k < x->nrelated; k++)
      if (!mu_range_eq(x->related[k].range, y->related[k].range) ||
          strcmp(x->related[k].message, y->related[k].message) != 0)
        return mu_fail("diagnostic %zu: related %zu differs", i, k);
    for (size_t k = 0; k < x->nfixes; k++)
      if (!mu_range_eq(x->fixes[k].range, y->fixes[k].range) ||
          strcmp(x->fixes[k].title, y->fixes[k].title) != 0 ||
          strcmp(x->fixes[k].new_text, y->fixes[k].new_text) != 0)
        return mu_fail("diagnostic %zu: fix %zu differs", i, k);
  }
  return true;
}

static void mu_analyse(const char *text, size_t len, TSTree *tree,
                       const struct dockerfile *df, struct diag_list *out) {
  struct analysis_input in = {
      .text = text,
      .len = len,
      .tree = tree,
      .df = df,
      .dockerignore = "*.log\n",
      .dockerignore_len = 6,
      .config = NULL,
  };
  diag_list_init(out);
  analysis_run(&in, out);
}

/* ---- random text and edits --------------------------------------------- */

static uint64_t mu_seed;

static uint32_t mu_rand(void) {
  /* xorshift64*: deterministic across platforms. */
  mu_seed ^= mu_seed >> 12;
  mu_seed ^= mu_seed << 25;
  mu_seed ^= mu_seed >> 27;
  return (uint32_t)((mu_seed * 2685821657736338717ull) >> 32);
}

static size_t mu_below(size_t n) {
  return n ? mu_rand() % n : 0;
}

static const char *const mu_lines[] = {
    "FROM alpine:3.19 AS build\n",
    "from golang:1.22 as Builder\n",
    "FROM scratch\n",
    "FROM --platform=$BUILDPLATFORM build AS final\n",
    "ARG VERSION=1.0\n",
    "ARG TARGETOS\n",
    "ENV PATH=/usr/local/bin:$PATH \\\n    LANG=C.UTF-8\n",
    "ENV key value\n",
    "LABEL org.example.build=\"42\" \\\n      org.example.name=\"x\"\n",
    "RUN apt-get update && apt-get install curl\n",
    "RUN set -e; \\\n    cd /src && \\\n    make ${VERSION}\n",
    "RUN <<EOF\necho hello\nFROM inside\nEOF\n",
    "RUN <<-EOT bash\n\techo tab\n\tEOT\n",
    "COPY --from=build /out /usr/bin/\n",
    "COPY --frm=build a b\n",
    "COPY <<EOF /etc/conf\nkey=value\nEOF\n",
    "WORKDIR app\n",
    "USER root\n",
    "EXPOSE 80/tcp 99999\n",
    "HEALTHCHECK --interval=30s CMD curl -f http://localhost/\n",
    "CMD [\"/bin/app\", \"--flag\"]\n",
    "CMD /bin/app --flag\n",
    "ENTRYPOINT [\"tini\", \"--\"\n",
    "ONBUILD RUN make\n",
    "ONBUILD ONBUILD RUN x\n",
    "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n",
    "MAINTAINER someone@example.com\n",
    "STOPSIGNAL SIGKILL\n",
    "VOLUME /data\n",
    "# a comment\n",
    "# dockwright-ignore=MaintainerDeprecated\n",
    "\n",
    "RUN echo a \\\n# comment inside\n\n    echo b\n",
    "BOGUS instruction\n",
    "ADD https://example.com/x.tar.gz /x\n",
    "RUN echo ${a:x} ${}\n",
};
#define MU_NLINES (sizeof(mu_lines) / sizeof(mu_lines[0]))

static const char *const mu_heads[] = {
    "",
    "# syntax=docker/dockerfile:1\n",
    "# escape=`\n",
    "# check=skip=JSONArgsRecommended\n",
    "\xEF\xBB\xBF",
    "# escape=\\\n# syntax=x\n",
};
#define MU_NHEADS (sizeof(mu_heads) / sizeof(mu_heads[0]))

/* What an edit inserts: pieces that change where runs start and end. */
static const char *const mu_snippets[] = {
    "\n",      "\\\n",     "\\",       "`\n",          "x",
    "7",       " ",        "#",        "# ",           "<<EOF",
    "EOF\n",   "EOF",      "FROM x\n", "RUN y\n",      "\nFROM a AS b\n",
    "ARG Z\n", "\"",       "[",        "--from=",      "$",
    "${",      "\r\n",     "ONBUILD ", "# escape=`\n", "\t",
    "\n\n",    "\xC3\xA9", "\xFF",     "COPY a b\n",   "USER 0\n",
};
#define MU_NSNIPPETS (sizeof(mu_snippets) / sizeof(mu_snippets[0]))

static void mu_generate(struct buf *b, size_t nlines) {
  buf_reset(b);
  buf_puts(b, mu_heads[mu_below(MU_NHEADS)]);
  for (size_t i = 0; i < nlines; i++)
    buf_puts(b, mu_lines[mu_below(MU_NLINES)]);
}

/* ---- the differential check -------------------------------------------- */

static TSPoint mu_point(const char *text, size_t off) {
  TSPoint p = {0, 0};
  for (size_t i = 0; i < off; i++) {
    if (text[i] == '\n') {
      p.row++;
      p.column = 0;
    } else {
      p.column++;
    }
  }
  return p;
}

/* Replaces [start, end) of b with ins, tells the tree, and narrows the
 * unchanged prefix and suffix. */
static void mu_edit(struct buf *b, TSTree *tree, size_t start, size_t end,
                    const char *ins, size_t *prefix, size_t *suffix) {
  size_t n = strlen(ins);
  size_t old_len = b->len;
  TSInputEdit e;
  e.start_byte = (uint32_t)start;
  e.old_end_byte = (uint32_t)end;
  e.new_end_byte = (uint32_t)(start + n);
  e.start_point = mu_point(b->data, start);
  e.old_end_point = mu_point(b->data, end);
  struct buf nb = BUF_INIT;
  buf_append(&nb, b->data, start);
  buf_append(&nb, ins, n);
  buf_append(&nb, b->data + end, b->len - end);
  buf_reset(b);
  buf_append(b, nb.data, nb.len);
  buf_cleanup(&nb);
  e.new_end_point = mu_point(b->data, start + n);
  ts_tree_edit(tree, &e);
  if (*prefix > start)
    *prefix = start;
  if (*suffix > old_len - end)
    *suffix = old_len - end;
}

static void mu_run(uint64_t seed, size_t nlines, size_t nedits) {
  mu_seed = seed;
  TSParser *parser = ts_parser_new();
  ts_parser_set_language(parser, tree_sitter_dockerfile());
  struct buf text = BUF_INIT;
  mu_generate(&text, nlines);
  TSTree *tree = ts_parser_parse_string(parser, NULL, buf_cstr(&text),
                                        (uint32_t)text.len);
  struct dockerfile *df = dockerfile_parse(text.data, text.len, tree);

  for (size_t step = 0; step < nedits; step++) {
    size_t prefix = SIZE_MAX, suffix = SIZE_MAX;
    size_t nchanges = 1 + (mu_below(4) == 0 ? mu_below(3) : 0);
    for (size_t c = 0; c < nchanges; c++) {
      size_t start = mu_below(text.len + 1);
      size_t end = start;
      if (mu_below(3) == 0)
        end = start +
              mu_below(text.len - start < 40 ? text.len - start + 1 : 40);
      const char *ins =
          mu_below(4) == 0 ? "" : mu_snippets[mu_below(MU_NSNIPPETS)];
      mu_edit(&text, tree, start, end, ins, &prefix, &suffix);
    }
    TSTree *nt = ts_parser_parse_string(parser, tree, buf_cstr(&text),
                                        (uint32_t)text.len);
    ts_tree_delete(tree);
    tree = nt;

    dockerfile_update(df, text.data, text.len, tree, prefix, suffix);
    struct dockerfile *fresh = dockerfile_parse(text.data, text.len, tree);
    bool same = mu_model_eq(df, fresh);
    if (same) {
      struct diag_list a, b;
      mu_analyse(text.data, text.len, tree, df, &a);
      mu_analyse(text.data, text.len, tree, fresh, &b);
      same = mu_diags_eq(&a, &b);
      diag_list_cleanup(&a);
      diag_list_cleanup(&b);
    }
    dockerfile_free(fresh);
    if (!same)
      fail_msg("seed %llu, edit %zu: %s\n--- text\n%s",
               (unsigned long long)seed, step, mu_why, buf_cstr(&text));
  }
  dockerfile_free(df);
  ts_tree_delete(tree);
  ts_parser_delete(parser);
  buf_cleanup(&text);
}

/* Many small files: edits often reach the header, the first run, the
 * last line. */
static void test_small_files(void **state) {
  (void)state;
  for (uint64_t seed = 1; seed <= 300; seed++)
    mu_run(seed, 1 + seed % 12, 40);
}

/* Larger files: most runs are reused, shifted or not. */
static void test_large_files(void **state) {
  (void)state;
  for (uint64_t seed = 1001; seed <= 1020; seed++)
    mu_run(seed, 150 + seed % 50, 150);
}

/* The same model updated thousands of times: garbage collection (a full
 * read once the arena is half garbage) must keep it equal too. */
static void test_long_session(void **state) {
  (void)state;
  mu_run(424242, 60, 3000);
}

/* Updates that change nothing, or everything, and a text emptied. */
static void test_edges(void **state) {
  (void)state;
  TSParser *parser = ts_parser_new();
  ts_parser_set_language(parser, tree_sitter_dockerfile());
  const char *a = "FROM a\nRUN x\n";
  const char *b = "";
  const char *c = "# escape=`\nFROM b\nRUN y `\n  z\n";
  TSTree *ta = ts_parser_parse_string(parser, NULL, a, (uint32_t)strlen(a));
  TSTree *tb = ts_parser_parse_string(parser, NULL, b, 0);
  TSTree *tc = ts_parser_parse_string(parser, NULL, c, (uint32_t)strlen(c));
  struct dockerfile *df = dockerfile_parse(a, strlen(a), ta);
  dockerfile_update(df, a, strlen(a), ta, strlen(a), 0);
  struct dockerfile *fresh = dockerfile_parse(a, strlen(a), ta);
  assert_true(mu_model_eq(df, fresh));
  dockerfile_free(fresh);
  dockerfile_update(df, b, 0, tb, 0, 0);
  fresh = dockerfile_parse(b, 0, tb);
  assert_true(mu_model_eq(df, fresh));
  dockerfile_free(fresh);
  /* Wrong (too large) prefix and suffix: read everything. */
  dockerfile_update(df, c, strlen(c), tc, 1000, 1000);
  fresh = dockerfile_parse(c, strlen(c), tc);
  assert_true(mu_model_eq(df, fresh));
  dockerfile_free(fresh);
  dockerfile_free(df);
  ts_tree_delete(ta);
  ts_tree_delete(tb);
  ts_tree_delete(tc);
  ts_parser_delete(parser);
}

/* The point of an update: unchanged runs before and after an edit are
 * kept (their strings stay where they were), also over two updates. */
static void test_reuses(void **state) {
  (void)state;
  TSParser *parser = ts_parser_new();
  ts_parser_set_language(parser, tree_sitter_dockerfile());
  struct buf text = BUF_INIT;
  buf_puts(&text, "FROM a AS b\nRUN one\nLABEL x=\"1\"\nRUN three\n");
  TSTree *tree =
      ts_parser_parse_string(parser, NULL, text.data, (uint32_t)text.len);
  struct dockerfile *df = dockerfile_parse(text.data, text.len, tree);
  const char *first = df->instrs[0].original;
  const char *last = df->instrs[3].original;
  for (int round = 0; round < 2; round++) {
    size_t prefix = SIZE_MAX, suffix = SIZE_MAX;
    const char *at = strstr(text.data, "x=\"") + 3;
    mu_edit(&text, tree, (size_t)(at - text.data), (size_t)(at - text.data),
            "7", &prefix, &suffix);
    TSTree *nt =
        ts_parser_parse_string(parser, tree, text.data, (uint32_t)text.len);
    ts_tree_delete(tree);
    tree = nt;
    dockerfile_update(df, text.data, text.len, tree, prefix, suffix);
    assert_ptr_equal(df->instrs[0].original, first);
    assert_ptr_equal(df->instrs[3].original, last);
    assert_int_equal(df->instrs[3].range.start.byte,
                     strstr(text.data, "RUN three") - text.data);
    struct dockerfile *fresh = dockerfile_parse(text.data, text.len, tree);
    assert_true(mu_model_eq(df, fresh));
    dockerfile_free(fresh);
  }
  dockerfile_free(df);
  ts_tree_delete(tree);
  ts_parser_delete(parser);
  buf_cleanup(&text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_edges),        cmocka_unit_test(test_reuses),
      cmocka_unit_test(test_small_files),  cmocka_unit_test(test_large_files),
      cmocka_unit_test(test_long_session),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
