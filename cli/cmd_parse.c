/*
 * cmd_parse.c - `dockwright parse`: the tree, BuildKit's AST dump, or the
 * model as JSON.  A file BuildKit refuses exits 1 with FILE:LINE:COL.
 */
#include <getopt.h>
#include <stdbool.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tree_sitter/api.h>

#include "../common/buf.h"
#include "../model/dockerfile.h"
#include "../model/dump.h"
#include "cli.h"
#include "tree-sitter-dockerfile.h"

enum parse_format { FORMAT_SEXP, FORMAT_BUILDKIT, FORMAT_JSON };

static void parse_usage(FILE *out) {
  fprintf(out,
          "Usage: dockwright parse [--format sexp|buildkit|json] FILE|-\n\n"
          "Reads a Dockerfile as BuildKit does and prints:\n"
          "  sexp      the syntax tree of Dockwright's tree-sitter grammar\n"
          "            (the default)\n"
          "  buildkit  BuildKit's AST dump, one line per instruction\n"
          "  json      instructions with ranges, flags, arguments, heredocs "
          "and stages\n\n"
          "Exits 1, printing FILE:LINE:COL: message, when BuildKit would "
          "refuse the file.\n");
}

static void parse_sexp_open(struct buf *out, TSTreeCursor *cur,
                            unsigned depth) {
  TSNode node = ts_tree_cursor_current_node(cur);
  if (out->len)
    buf_putc(out, '\n');
  for (unsigned i = 0; i < depth; i++)
    buf_puts(out, "  ");
  const char *field = ts_tree_cursor_current_field_name(cur);
  if (field)
    buf_printf(out, "%s: ", field);
  TSPoint s = ts_node_start_point(node), e = ts_node_end_point(node);
  buf_printf(out, "(%s%s [%u, %u] - [%u, %u]",
             ts_node_is_missing(node) ? "MISSING " : "", ts_node_type(node),
             s.row, s.column, e.row, e.column);
}

static bool parse_sexp_shown(TSNode node) {
  return ts_node_is_named(node) || ts_node_is_missing(node);
}

/* Prints the tree one named node per line, indented, with fields and
 * ranges, as `tree-sitter parse` does.  Iterative: nesting depth is input
 * controlled. */
static void parse_print_sexp(struct buf *out, TSNode root) {
  TSTreeCursor cur = ts_tree_cursor_new(root);
  bool *shown = NULL;
  size_t depth = 0, cap = 0;
  unsigned indent = 0;

  for (bool descend = true;;) {
    TSNode node = ts_tree_cursor_current_node(&cur);
    if (descend) {
      if (depth == cap) {
        cap = cap ? cap * 2 : 64;
        shown = xrealloc(shown, cap * sizeof(*shown));
      }
      shown[depth++] = parse_sexp_shown(node);
      if (shown[depth - 1])
        parse_sexp_open(out, &cur, indent++);
      if (ts_tree_cursor_goto_first_child(&cur))
        continue;
    }
    /* Close the current node, then move on to its sibling or parent. */
    if (shown[--depth]) {
      buf_putc(out, ')');
      indent--;
    }
    if (depth == 0)
      break;
    if (ts_tree_cursor_goto_next_sibling(&cur)) {
      descend = true;
      continue;
    }
    ts_tree_cursor_goto_parent(&cur);
    descend = false;
  }
  buf_putc(out, '\n');
  free(shown);
  ts_tree_cursor_delete(&cur);
}

static json_object *parse_json_pos(const struct df_pos *p) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "line", json_object_new_int64(p->row + 1));
  json_object_object_add(o, "column", json_object_new_int64(p->col + 1));
  json_object_object_add(o, "offset", json_object_new_int64(p->byte));
  return o;
}

static json_object *parse_json_range(const struct df_range *r) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "start", parse_json_pos(&r->start));
  json_object_object_add(o, "end", parse_json_pos(&r->end));
  return o;
}

static const char *parse_form_name(enum df_form form) {
  switch (form) {
  case DF_FORM_NONE:
    return "none";
  case DF_FORM_JSON:
    return "exec";
  case DF_FORM_SHELL:
    return "shell";
  case DF_FORM_LIST:
    return "list";
  case DF_FORM_WORDS:
    return "words";
  case DF_FORM_KEYVAL:
    return "keyvalue";
  case DF_FORM_STRING:
    return "string";
  case DF_FORM_HEALTH:
    return "healthcheck";
  case DF_FORM_SUB:
    return "instruction";
  }
  return "none";
}

static json_object *parse_json_instr(const struct df_instr *in) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "instruction",
                         json_object_new_string(in->kind == DF_UNKNOWN
                                                    ? in->keyword
                                                    : df_kind_name(in->kind)));
  json_object_object_add(o, "keyword", json_object_new_string(in->keyword));
  json_object_object_add(o, "known", json_object_new_boolean(in->kind != 0));
  json_object_object_add(o, "range", parse_json_range(&in->range));
  json_object_object_add(o, "startLine",
                         json_object_new_int64(in->start_line));
  json_object_object_add(o, "endLine", json_object_new_int64(in->end_line));
  json_object_object_add(o, "form",
                         json_object_new_string(parse_form_name(in->form)));
  json_object *flags = json_object_new_array();
  for (size_t i = 0; i < in->nflags; i++) {
    const struct df_flag *f = &in->flags[i];
    json_object *fo = json_object_new_object();
    json_object_object_add(fo, "name", json_object_new_string(f->name));
    json_object_object_add(fo, "value",
                           f->value ? json_object_new_string(f->value) : NULL);
    json_object_object_add(fo, "text", json_object_new_string(f->text));
    json_object_object_add(fo, "range", parse_json_range(&f->range));
    json_object_array_add(flags, fo);
  }
  json_object_object_add(o, "flags", flags);
  json_object *args = json_object_new_array();
  for (size_t i = 0; i < in->nargs; i++) {
    json_object *ao = json_object_new_object();
    json_object_object_add(ao, "value",
                           json_object_new_string(in->args[i].value));
    json_object_object_add(ao, "range", parse_json_range(&in->args[i].range));
    json_object_array_add(args, ao);
  }
  json_object_object_add(o, "arguments", args);
  if (in->sub)
    json_object_object_add(o, "subInstruction", parse_json_instr(in->sub));
  if (in->nheredocs) {
    json_object *hs = json_object_new_array();
    for (size_t i = 0; i < in->nheredocs; i++) {
      const struct df_heredoc *h = &in->heredocs[i];
      json_object *ho = json_object_new_object();
      json_object_object_add(ho, "name", json_object_new_string(h->name));
      json_object_object_add(ho, "fileDescriptor",
                             json_object_new_int64(h->fd));
      json_object_object_add(ho, "expand", json_object_new_boolean(h->expand));
      json_object_object_add(ho, "chomp", json_object_new_boolean(h->chomp));
      json_object_object_add(
          ho, "content",
          json_object_new_string_len(h->content, (int)h->content_len));
      json_object_object_add(ho, "marker", parse_json_range(&h->marker));
      json_object_object_add(ho, "body", parse_json_range(&h->body));
      json_object_array_add(hs, ho);
    }
    json_object_object_add(o, "heredocs", hs);
  }
  if (in->invalid)
    json_object_object_add(o, "invalid", json_object_new_boolean(1));
  return o;
}

static json_object *parse_json_model(const char *path,
                                     const struct dockerfile *df) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "file", json_object_new_string(path));
  char esc[2] = {df->escape, 0};
  json_object_object_add(o, "escape", json_object_new_string(esc));
  json_object *dirs = json_object_new_array();
  for (size_t i = 0; i < df->ndirectives; i++) {
    json_object *d = json_object_new_object();
    json_object_object_add(d, "name",
                           json_object_new_string(df->directives[i].name));
    json_object_object_add(d, "value",
                           json_object_new_string(df->directives[i].value));
    json_object_object_add(d, "range",
                           parse_json_range(&df->directives[i].range));
    json_object_array_add(dirs, d);
  }
  json_object_object_add(o, "directives", dirs);
  json_object *instrs = json_object_new_array();
  for (size_t i = 0; i < df->ninstrs; i++)
    json_object_array_add(instrs, parse_json_instr(&df->instrs[i]));
  json_object_object_add(o, "instructions", instrs);
  json_object *stages = json_object_new_array();
  for (size_t i = 0; i < df->nstages; i++) {
    const struct df_stage *st = &df->stages[i];
    json_object *so = json_object_new_object();
    json_object_object_add(so, "index", json_object_new_int64(st->index));
    json_object_object_add(so, "name",
                           st->name ? json_object_new_string(st->name) : NULL);
    json_object_object_add(so, "base",
                           st->base ? json_object_new_string(st->base) : NULL);
    json_object_object_add(so, "firstInstruction",
                           json_object_new_int64(st->from_instr));
    json_object_object_add(so, "instructionCount",
                           json_object_new_int64(st->ninstrs));
    json_object_array_add(stages, so);
  }
  json_object_object_add(o, "stages", stages);
  json_object *problems = json_object_new_array();
  for (size_t i = 0; i < df->nproblems; i++) {
    const struct df_problem *p = &df->problems[i];
    json_object *po = json_object_new_object();
    json_object_object_add(po, "severity",
                           json_object_new_string(p->kind == DF_PROBLEM_ERROR
                                                      ? "error"
                                                      : "warning"));
    json_object_object_add(po, "message", json_object_new_string(p->message));
    json_object_object_add(po, "range", parse_json_range(&p->range));
    json_object_array_add(problems, po);
  }
  json_object_object_add(o, "problems", problems);
  return o;
}

static void parse_report(const char *path, const struct df_problem *p,
                         const char *severity) {
  fprintf(stderr, "%s:%u:%u: %s%s\n", path, p->range.start.row + 1,
          p->range.start.col + 1, severity, p->message);
}

int cmd_parse_main(int argc, char **argv) {
  static const struct option opts[] = {{"format", required_argument, 0, 'f'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  enum parse_format format = FORMAT_SEXP;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
    switch (c) {
    case 'f':
      if (strcmp(optarg, "sexp") == 0) {
        format = FORMAT_SEXP;
      } else if (strcmp(optarg, "buildkit") == 0) {
        format = FORMAT_BUILDKIT;
      } else if (strcmp(optarg, "json") == 0) {
        format = FORMAT_JSON;
      } else {
        cli_error("parse: unknown format '%s' (sexp, buildkit or json)",
                  optarg);
        return 2;
      }
      break;
    case 'h':
      parse_usage(stdout);
      return 0;
    default:
      parse_usage(stderr);
      return 2;
    }
  }
  if (optind + 1 != argc) {
    parse_usage(stderr);
    return 2;
  }
  const char *path = argv[optind];
  char *text;
  size_t len;
  struct err e;
  err_clear(&e);
  if (cli_read_file(path, &text, &len, &e) < 0) {
    cli_error("%s", e.msg);
    return 2;
  }
  const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;

  TSParser *parser = ts_parser_new();
  ts_parser_set_language(parser, tree_sitter_dockerfile());
  TSTree *tree = ts_parser_parse_string(parser, NULL, text, (uint32_t)len);
  struct dockerfile *df = dockerfile_parse(text, len, tree);

  struct buf out = BUF_INIT;
  const struct df_problem *fatal = dockerfile_first_error(df);
  switch (format) {
  case FORMAT_SEXP:
    parse_print_sexp(&out, ts_tree_root_node(tree));
    break;
  case FORMAT_BUILDKIT:
    if (fatal == NULL)
      dump_buildkit(&out, df);
    break;
  case FORMAT_JSON: {
    json_object *j = parse_json_model(name, df);
    buf_puts(&out, json_object_to_json_string_ext(
                       j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                              JSON_C_TO_STRING_NOSLASHESCAPE));
    buf_putc(&out, '\n');
    json_object_put(j);
    break;
  }
  }
  fwrite(out.data ? out.data : "", 1, out.len, stdout);
  buf_cleanup(&out);

  for (size_t i = 0; i < df->nproblems; i++)
    if (df->problems[i].kind == DF_PROBLEM_WARNING)
      parse_report(name, &df->problems[i], "warning: ");
  if (fatal)
    parse_report(name, fatal, "");
  int rc = fatal ? 1 : 0;

  dockerfile_free(df);
  ts_tree_delete(tree);
  ts_parser_delete(parser);
  free(text);
  return rc;
}
