/*
 * check_syntax.c - the tree's ERROR and MISSING nodes, as SyntaxError.
 *
 * The grammar recovers from what it cannot parse with ERROR nodes and
 * inserts MISSING nodes for tokens it expected; both say where the text
 * stops being a Dockerfile.  A MISSING node's type is what was expected
 * and its parent says in which instruction, so the message reads
 * "expected an image name after FROM".  Only the outermost ERROR node is
 * reported, one per line; a line whose instruction the model already
 * refuses (BuildKitParse, UnknownInstruction) is left to those rules,
 * whose BuildKit wording is more useful than "unexpected text".
 */
#include <stdlib.h>
#include <string.h>
#include <tree_sitter/api.h>

#include "check.h"

static const struct {
  const char *type;
  const char *what;
} syntax__names[] = {
    {"image_spec", "an image name"},
    {"image_name", "an image name"},
    {"image_tag", "a tag"},
    {"image_digest", "a digest"},
    {"stage_name", "a stage name"},
    {"shell_command", "a command"},
    {"json_string_array", "a JSON array"},
    {"json_string", "a JSON string"},
    {"path", "a path"},
    {"env_pair", "KEY=value"},
    {"label_pair", "KEY=value"},
    {"arg_declaration", "an argument name"},
    {"expose_port", "a port"},
    {"heredoc_end", "the heredoc's end marker"},
    {"heredoc_body", "the heredoc's body"},
    {"flag", "a flag"},
    {"variable_expansion", "a variable"},
    {"unquoted_string", "a word"},
    {"double_quoted_string", "a quoted string"},
    {"single_quoted_string", "a quoted string"},
    {"directive_value", "a directive value"},
};

/* "an image name", "']'", or the type with spaces. */
static void syntax__describe(struct buf *b, TSNode node) {
  const char *type = ts_node_type(node);
  for (size_t i = 0; i < sizeof(syntax__names) / sizeof(*syntax__names); i++)
    if (strcmp(type, syntax__names[i].type) == 0) {
      buf_puts(b, syntax__names[i].what);
      return;
    }
  if (!ts_node_is_named(node)) {
    buf_printf(b, "'%s'", type);
    return;
  }
  for (const char *p = type; *p; p++)
    buf_putc(b, *p == '_' ? ' ' : *p);
}

/* The keyword of the instruction `node` is in ("FROM"), or NULL. */
static char *syntax__instruction(TSNode node) {
  for (TSNode n = node; !ts_node_is_null(n); n = ts_node_parent(n)) {
    const char *t = ts_node_type(n);
    const char *suffix = strstr(t, "_instruction");
    if (suffix && suffix[strlen("_instruction")] == '\0' && suffix > t) {
      char *kw = xstrndup(t, (size_t)(suffix - t));
      char *up = check__upper(kw);
      free(kw);
      return up;
    }
  }
  return NULL;
}

/* True when the model already has something to say about this row. */
static bool syntax__row_refused(const struct check_ctx *c, uint32_t row) {
  const struct dockerfile *df = c->df;
  for (size_t i = 0; i < df->ninstrs; i++) {
    const struct df_instr *in = &df->instrs[i];
    if (row >= in->range.start.row && row <= in->range.end.row &&
        (in->invalid || in->kind == DF_UNKNOWN))
      return true;
  }
  for (size_t i = 0; i < df->nproblems; i++)
    if (df->problems[i].kind == DF_PROBLEM_ERROR &&
        row >= df->problems[i].range.start.row &&
        row <= df->problems[i].range.end.row)
      return true;
  return false;
}

static void syntax__report(struct check_ctx *c, TSNode node,
                           uint32_t *last_row) {
  uint32_t sb = ts_node_start_byte(node), eb = ts_node_end_byte(node);
  struct df_range r = check__range(c, sb, eb);
  if (*last_row == r.start.row || syntax__row_refused(c, r.start.row))
    return;
  *last_row = r.start.row;
  char *kw = syntax__instruction(node);
  struct buf m = BUF_INIT;
  if (ts_node_is_missing(node)) {
    buf_puts(&m, "expected ");
    syntax__describe(&m, node);
    if (kw)
      buf_printf(&m, " after %s", kw);
  } else {
    /* The first line of the unparsed text, shortened. */
    size_t end = eb;
    const char *nl = memchr(c->text + sb, '\n', eb - sb);
    if (nl)
      end = (size_t)(nl - c->text);
    while (end > sb && (c->text[end - 1] == '\r' || c->text[end - 1] == ' '))
      end--;
    size_t n = end - sb;
    if (n == 0)
      buf_puts(&m, "unexpected end of line");
    else
      buf_printf(&m, "unexpected '%.*s%s'", (int)(n > 40 ? 40 : n),
                 c->text + sb, n > 40 ? "..." : "");
    if (kw)
      buf_printf(&m, " in %s", kw);
    r = check__range(c, sb, end > sb ? end : eb);
  }
  check__emit(c, RULE_SyntaxError, r, "%s", buf_cstr(&m));
  buf_cleanup(&m);
  free(kw);
}

void check_syntax(struct check_ctx *c) {
  if (c->in->tree == NULL)
    return;
  TSNode root = ts_tree_root_node(c->in->tree);
  if (!ts_node_has_error(root))
    return;
  /* Iterative walk: nesting depth is input controlled. */
  TSTreeCursor cur = ts_tree_cursor_new(root);
  uint32_t last_row = UINT32_MAX;
  for (;;) {
    TSNode node = ts_tree_cursor_current_node(&cur);
    bool report =
        strcmp(ts_node_type(node), "ERROR") == 0 || ts_node_is_missing(node);
    if (report)
      syntax__report(c, node, &last_row);
    if (!report && ts_node_has_error(node) &&
        ts_tree_cursor_goto_first_child(&cur))
      continue;
    if (ts_tree_cursor_goto_next_sibling(&cur))
      continue;
    bool up = false;
    while (ts_tree_cursor_goto_parent(&cur)) {
      if (ts_tree_cursor_goto_next_sibling(&cur)) {
        up = true;
        break;
      }
    }
    if (!up)
      break;
  }
  ts_tree_cursor_delete(&cur);
}
