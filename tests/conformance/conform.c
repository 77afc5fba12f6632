/*
 * conform.c - conformance runs against BuildKit's own data.
 *
 *   conform testfiles DIR        testfiles/<case>/{Dockerfile,result} and
 *                                testfiles-negative/<case>/Dockerfile
 *   conform gotests DIR          extracted-from-go-tests/ plus testfile-line/
 *   conform real DIR DUMPS TSV   the real-world corpus: no ERROR/MISSING in
 *                                official and project files, every line
 *                                accounted for, BuildKit's dump reproduced,
 *                                tree and model agreeing on instructions
 *
 * Each prints its failures and a closing "N passed, N failed" line, and
 * exits 1 on any failure.
 */
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tree_sitter/api.h>

#include "../../common/buf.h"
#include "../../model/dockerfile.h"
#include "../../model/dump.h"
#include "tree-sitter-dockerfile.h"

static int passed, failed;

static void ok(void) {
  passed++;
}

static void fail(const char *fmt, ...) DW_PRINTF(1, 2);
static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("FAIL ", stdout);
  vprintf(fmt, ap);
  fputc('\n', stdout);
  va_end(ap);
  failed++;
}

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  struct buf b = BUF_INIT;
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    buf_append(&b, chunk, n);
  fclose(f);
  *len = b.len;
  return buf_take(&b);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entry names of a directory (without . and ..). */
static void list_dir(const char *dir, struct strv *out) {
  DIR *d = opendir(dir);
  if (d == NULL)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.')
      strv_push(out, e->d_name);
  closedir(d);
  if (out->n > 1)
    qsort(out->v, out->n, sizeof(char *), cmp_str);
}

struct parsed {
  char *text;
  size_t len;
  TSTree *tree;
  struct dockerfile *df;
};

static TSParser *parser;

static bool parse_file(const char *path, struct parsed *p) {
  p->text = read_all(path, &p->len);
  if (p->text == NULL)
    return false;
  p->tree = ts_parser_parse_string(parser, NULL, p->text, (uint32_t)p->len);
  p->df = dockerfile_parse(p->text, p->len, p->tree);
  return true;
}

static void parsed_free(struct parsed *p) {
  dockerfile_free(p->df);
  ts_tree_delete(p->tree);
  free(p->text);
}

/* Where the dump differs first, for a readable failure. */
static void first_diff(const char *want, const char *got, struct buf *msg) {
  unsigned line = 1;
  const char *w = want, *g = got;
  while (*w && *g) {
    const char *we = strchr(w, '\n'), *ge = strchr(g, '\n');
    size_t wl = we ? (size_t)(we - w) : strlen(w);
    size_t gl = ge ? (size_t)(ge - g) : strlen(g);
    if (wl != gl || memcmp(w, g, wl) != 0) {
      buf_printf(msg, "line %u:\n    want %.*s\n    got  %.*s", line, (int)wl,
                 w, (int)gl, g);
      return;
    }
    w += wl + (we ? 1 : 0);
    g += gl + (ge ? 1 : 0);
    line++;
  }
  buf_printf(msg, "line %u: want %s, got %s", line, *w ? "more" : "end",
             *g ? "more" : "end");
}

/* ---- testfiles -------------------------------------------------------- */

static void run_testfiles(const char *root) {
  struct strv cases = STRV_INIT;
  struct buf path = BUF_INIT;
  buf_printf(&path, "%s/testfiles", root);
  list_dir(buf_cstr(&path), &cases);
  for (size_t i = 0; i < cases.n; i++) {
    struct buf df_path = BUF_INIT, res_path = BUF_INIT;
    buf_printf(&df_path, "%s/testfiles/%s/Dockerfile", root, cases.v[i]);
    buf_printf(&res_path, "%s/testfiles/%s/result", root, cases.v[i]);
    size_t rlen;
    char *want = read_all(buf_cstr(&res_path), &rlen);
    struct parsed p;
    if (want == NULL || !parse_file(buf_cstr(&df_path), &p)) {
      fail("testfiles/%s: cannot read", cases.v[i]);
      free(want);
    } else {
      const struct df_problem *e = dockerfile_first_error(p.df);
      struct buf got = BUF_INIT;
      dump_buildkit(&got, p.df);
      if (e) {
        fail("testfiles/%s: refused: %u:%u: %s", cases.v[i],
             e->range.start.row + 1, e->range.start.col + 1, e->message);
      } else if (strcmp(buf_cstr(&got), want) != 0) {
        struct buf m = BUF_INIT;
        first_diff(want, buf_cstr(&got), &m);
        fail("testfiles/%s: dump differs at %s", cases.v[i], buf_cstr(&m));
        buf_cleanup(&m);
      } else {
        ok();
      }
      buf_cleanup(&got);
      free(want);
      parsed_free(&p);
    }
    buf_cleanup(&df_path);
    buf_cleanup(&res_path);
  }
  printf("testfiles: %zu cases\n", cases.n);
  strv_cleanup(&cases);

  struct strv neg = STRV_INIT;
  buf_reset(&path);
  buf_printf(&path, "%s/testfiles-negative", root);
  list_dir(buf_cstr(&path), &neg);
  for (size_t i = 0; i < neg.n; i++) {
    struct buf df_path = BUF_INIT;
    buf_printf(&df_path, "%s/testfiles-negative/%s/Dockerfile", root,
               neg.v[i]);
    struct parsed p;
    if (!parse_file(buf_cstr(&df_path), &p)) {
      fail("testfiles-negative/%s: cannot read", neg.v[i]);
    } else {
      const struct df_problem *e = dockerfile_first_error(p.df);
      if (e == NULL) {
        fail("testfiles-negative/%s: accepted", neg.v[i]);
      } else {
        printf("ok   testfiles-negative/%s: %u:%u: %s\n", neg.v[i],
               e->range.start.row + 1, e->range.start.col + 1, e->message);
        ok();
      }
      parsed_free(&p);
    }
    buf_cleanup(&df_path);
  }
  printf("testfiles-negative: %zu cases\n", neg.n);
  strv_cleanup(&neg);
  buf_cleanup(&path);
}

/* ---- extracted Go tests ------------------------------------------------ */

static json_object *load_json(const char *path) {
  size_t len;
  char *text = read_all(path, &len);
  if (text == NULL)
    return NULL;
  json_object *j = json_tokener_parse(text);
  free(text);
  return j;
}

static const char *jstr(json_object *o, const char *key, const char *dflt) {
  json_object *v;
  if (json_object_object_get_ex(o, key, &v))
    return json_object_get_string(v);
  return dflt;
}

static bool jbool(json_object *o, const char *key) {
  json_object *v;
  return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static int jint(json_object *o, const char *key) {
  json_object *v;
  return json_object_object_get_ex(o, key, &v) ? json_object_get_int(v) : 0;
}

static void check_heredoc_extract(const char *dir) {
  struct buf a = BUF_INIT, b = BUF_INIT;
  buf_printf(&a, "%s/heredoc-extract.Dockerfile", dir);
  buf_printf(&b, "%s/heredoc-extract.expected.json", dir);
  json_object *exp = load_json(buf_cstr(&b));
  json_object *list;
  struct parsed p;
  if (exp == NULL || !json_object_object_get_ex(exp, "expected", &list) ||
      !parse_file(buf_cstr(&a), &p)) {
    fail("heredoc-extract: cannot read its files");
    goto out;
  }
  size_t n = json_object_array_length(list);
  if (p.df->ninstrs != n + 1) {
    fail("heredoc-extract: %zu instructions, want %zu", p.df->ninstrs, n + 1);
  }
  for (size_t i = 0; i < n && i + 1 < p.df->ninstrs; i++) {
    const struct df_instr *in = &p.df->instrs[i + 1];
    json_object *want = json_object_array_get_idx(list, i);
    size_t wn = want ? json_object_array_length(want) : 0;
    if (in->nheredocs != wn) {
      fail("heredoc-extract: instruction %zu (line %u): %zu heredocs, want "
           "%zu",
           i + 1, in->start_line, in->nheredocs, wn);
      continue;
    }
    bool good = true;
    for (size_t k = 0; k < wn; k++) {
      json_object *h = json_object_array_get_idx(want, k);
      const struct df_heredoc *g = &in->heredocs[k];
      if (strcmp(g->name, jstr(h, "Name", "")) != 0 ||
          strcmp(g->content, jstr(h, "Content", "")) != 0 ||
          g->expand != jbool(h, "Expand") || g->chomp != jbool(h, "Chomp") ||
          (int)g->fd != jint(h, "FileDescriptor")) {
        fail("heredoc-extract: line %u heredoc %zu: got name=%s expand=%d "
             "chomp=%d fd=%u, want name=%s expand=%d chomp=%d fd=%d",
             in->start_line, k, g->name, g->expand, g->chomp, g->fd,
             jstr(h, "Name", ""), jbool(h, "Expand"), jbool(h, "Chomp"),
             jint(h, "FileDescriptor"));
        good = false;
      }
    }
    if (good)
      ok();
  }
  parsed_free(&p);
out:
  json_object_put(exp);
  buf_cleanup(&a);
  buf_cleanup(&b);
}

/* validHeredocs: a heredoc named EOF; invalid: an error; not: none. */
static void check_heredoc_words(const char *dir, const char *file, int want) {
  struct buf a = BUF_INIT;
  buf_printf(&a, "%s/%s", dir, file);
  json_object *words = load_json(buf_cstr(&a));
  if (words == NULL) {
    fail("%s: cannot read", file);
    buf_cleanup(&a);
    return;
  }
  for (size_t i = 0; i < json_object_array_length(words); i++) {
    const char *w =
        json_object_get_string(json_object_array_get_idx(words, i));
    struct df_heredoc h;
    char *msg = NULL;
    int rc = dockerfile_heredoc_word(w, &h, &msg);
    bool good = rc == want;
    if (rc == 1) {
      good = good && strcmp(h.name, "EOF") == 0;
      free(h.name);
    }
    free(msg);
    if (good)
      ok();
    else
      fail("%s: word '%s' gave %d, want %d", file, w, rc, want);
  }
  json_object_put(words);
  buf_cleanup(&a);
}

static void run_gotests(const char *root) {
  struct buf dir = BUF_INIT, path = BUF_INIT;
  buf_printf(&dir, "%s/extracted-from-go-tests", root);
  check_heredoc_extract(buf_cstr(&dir));
  check_heredoc_words(buf_cstr(&dir), "validHeredocs.json", 1);
  check_heredoc_words(buf_cstr(&dir), "invalidHeredocs.json", -1);
  check_heredoc_words(buf_cstr(&dir), "notHeredocs.json", 0);

  struct parsed p;
  buf_printf(&path, "%s/json-heredoc-not-heredoc.Dockerfile", buf_cstr(&dir));
  if (parse_file(buf_cstr(&path), &p)) {
    size_t n = 0;
    for (size_t i = 0; i < p.df->ninstrs; i++)
      n += p.df->instrs[i].nheredocs;
    if (n == 0 && p.df->ninstrs == 4)
      ok();
    else
      fail("json-heredoc-not-heredoc: %zu heredocs in %zu instructions", n,
           p.df->ninstrs);
    parsed_free(&p);
  } else {
    fail("json-heredoc-not-heredoc: cannot read");
  }

  buf_reset(&path);
  buf_printf(&path, "%s/empty-continuation-warnings.Dockerfile",
             buf_cstr(&dir));
  if (parse_file(buf_cstr(&path), &p)) {
    size_t warnings = 0;
    for (size_t i = 0; i < p.df->nproblems; i++)
      warnings += p.df->problems[i].kind == DF_PROBLEM_WARNING;
    if (warnings == 2)
      ok();
    else
      fail("empty-continuation-warnings: %zu warnings, want 2", warnings);
    parsed_free(&p);
  } else {
    fail("empty-continuation-warnings: cannot read");
  }

  buf_reset(&path);
  buf_printf(&path, "%s/testfile-line/Dockerfile", root);
  if (parse_file(buf_cstr(&path), &p)) {
    static const unsigned want[3][2] = {{5, 5}, {11, 12}, {17, 31}};
    bool good = p.df->ninstrs == 3;
    for (size_t i = 0; good && i < 3; i++)
      good = p.df->instrs[i].start_line == want[i][0] &&
             p.df->instrs[i].end_line == want[i][1];
    if (good)
      ok();
    else
      fail("testfile-line: instruction lines differ (%zu instructions)",
           p.df->ninstrs);
    parsed_free(&p);
  } else {
    fail("testfile-line: cannot read");
  }
  printf("gotests: heredocs, warnings and line numbers checked\n");
  buf_cleanup(&dir);
  buf_cleanup(&path);
}

/* ---- real corpus -------------------------------------------------------- */

struct kind_stats {
  char name[32];
  int files, error_files, error_nodes, uncovered_files, dump_ok, agree;
};

static bool is_instruction_type(const char *type) {
  size_t n = strlen(type);
  return n > 12 && strcmp(type + n - 12, "_instruction") == 0;
}

/* Counts ERROR and MISSING nodes. */
static int count_errors(TSNode root) {
  if (!ts_node_has_error(root))
    return 0;
  int n = 0;
  TSTreeCursor cur = ts_tree_cursor_new(root);
  for (bool descend = true;;) {
    TSNode node = ts_tree_cursor_current_node(&cur);
    if (descend) {
      if (strcmp(ts_node_type(node), "ERROR") == 0 || ts_node_is_missing(node))
        n++;
      if (ts_node_has_error(node) && ts_tree_cursor_goto_first_child(&cur))
        continue;
    }
    if (ts_tree_cursor_goto_next_sibling(&cur)) {
      descend = true;
      continue;
    }
    if (!ts_tree_cursor_goto_parent(&cur))
      break;
    descend = false;
  }
  ts_tree_cursor_delete(&cur);
  return n;
}

/* Every non-blank line must lie in an instruction, comment or directive
 * node (heredoc bodies are inside their instruction).  Returns the first
 * uncovered 1-based line, or 0. */
static unsigned first_uncovered(const struct parsed *p) {
  size_t nlines = p->df->nlines;
  if (nlines == 0)
    return 0;
  bool *covered = xcalloc(nlines, sizeof(bool));
  /* A cursor, as in tree_agrees: ts_node_named_child walks from the first
   * child on every call. */
  TSTreeCursor cur = ts_tree_cursor_new(ts_tree_root_node(p->tree));
  for (bool more = ts_tree_cursor_goto_first_child(&cur); more;
       more = ts_tree_cursor_goto_next_sibling(&cur)) {
    TSNode c = ts_tree_cursor_current_node(&cur);
    const char *t = ts_node_type(c);
    if (!is_instruction_type(t) && strcmp(t, "comment") != 0 &&
        strcmp(t, "parser_directive") != 0)
      continue;
    TSPoint s = ts_node_start_point(c), e = ts_node_end_point(c);
    uint32_t last = e.row;
    if (e.column == 0 && e.row > s.row)
      last--;
    for (uint32_t r = s.row; r <= last && r < nlines; r++)
      covered[r] = true;
  }
  ts_tree_cursor_delete(&cur);
  unsigned bad = 0;
  const char *line = p->text;
  const char *end = p->text + p->len;
  for (size_t r = 0; r < nlines && line < end; r++) {
    const char *nl = memchr(line, '\n', (size_t)(end - line));
    const char *le = nl ? nl : end;
    bool blank = true;
    for (const char *c = line; c < le; c++)
      if (*c != ' ' && *c != '\t' && *c != '\r')
        blank = false;
    if (r == 0 && le - line >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
      blank = true;
      for (const char *c = line + 3; c < le; c++)
        if (*c != ' ' && *c != '\t' && *c != '\r')
          blank = false;
    }
    if (!blank && !covered[r]) {
      bad = (unsigned)r + 1;
      break;
    }
    line = nl ? nl + 1 : end;
  }
  free(covered);
  return bad;
}

/* The tree's instruction nodes and the model's instructions must agree
 * one to one on their first and last lines. */
/* The text of a node, as a new string. */
static char *node_text(const struct parsed *p, TSNode n) {
  uint32_t s = ts_node_start_byte(n), e = ts_node_end_byte(n);
  return xstrndup(p->text + s, e > s ? e - s : 0);
}

/* Whether raw source text is free of quotes, escapes and continuations,
 * so BuildKit's processed value must equal it byte for byte. */
static bool plain_text(const char *t) {
  return strpbrk(t, "\\'\"`\n") == NULL;
}

/* Finer agreement inside one instruction: kind, flags (names, plain
 * values), exec form versus shell form, heredoc count, ONBUILD's nested
 * kind.  These are the places where the editor's view and BuildKit's must
 * not differ. */
static bool instr_agrees(const struct parsed *p, TSNode node,
                         const struct df_instr *in, struct buf *why) {
  const char *type = ts_node_type(node);
  size_t tlen = strlen(type) - 12; /* without "_instruction" */
  const char *want =
      in->kind == DF_UNKNOWN ? "unknown" : df_kind_name(in->kind);
  if (strlen(want) != tlen || strncmp(type, want, tlen) != 0) {
    buf_printf(why, "line %u: tree says %s, BuildKit %s", in->start_line, type,
               want);
    return false;
  }
  size_t nflags = 0, nheredocs = 0;
  bool json = false;
  TSNode sub = {0};
  bool has_sub = false;
  uint32_t n = ts_node_named_child_count(node);
  for (uint32_t i = 0; i < n; i++) {
    TSNode c = ts_node_named_child(node, i);
    const char *ct = ts_node_type(c);
    if (strcmp(ct, "flag") == 0) {
      if (nflags >= in->nflags) {
        nflags++;
        continue;
      }
      const struct df_flag *f = &in->flags[nflags++];
      TSNode name = ts_node_child_by_field_name(c, "name", 4);
      TSNode value = ts_node_child_by_field_name(c, "value", 5);
      char *nt = ts_node_is_null(name) ? xstrdup("") : node_text(p, name);
      bool ok = strcmp(nt, f->name) == 0;
      if (ok && !ts_node_is_null(value)) {
        char *vt = node_text(p, value);
        if (plain_text(vt))
          ok = f->value && strcmp(vt, f->value) == 0;
        free(vt);
      } else if (ok && ts_node_is_null(value) && f->value && *f->value) {
        ok = false;
      }
      if (!ok)
        buf_printf(why, "line %u: flag %s differs from BuildKit's %s",
                   in->start_line, nt, f->text);
      free(nt);
      if (!ok)
        return false;
    } else if (strcmp(ct, "json_string_array") == 0) {
      json = true;
    } else if (strcmp(ct, "heredoc_body") == 0) {
      nheredocs++;
    } else if (is_instruction_type(ct)) {
      sub = c;
      has_sub = true;
    }
  }
  if (nflags != in->nflags) {
    buf_printf(why, "line %u: tree has %zu flags, BuildKit %zu",
               in->start_line, nflags, in->nflags);
    return false;
  }
  bool bk_json = in->form == DF_FORM_JSON ||
                 (in->form == DF_FORM_HEALTH && in->nargs > 1 &&
                  ts_node_named_child_count(node) > 0 && json);
  if (in->kind != DF_ONBUILD && in->kind != DF_HEALTHCHECK &&
      json != bk_json) {
    buf_printf(why, "line %u: tree says %s form, BuildKit %s form",
               in->start_line, json ? "exec" : "shell",
               bk_json ? "exec" : "shell");
    return false;
  }
  if (nheredocs != in->nheredocs) {
    buf_printf(why, "line %u: tree has %zu heredocs, BuildKit %zu",
               in->start_line, nheredocs, in->nheredocs);
    return false;
  }
  if (in->sub && has_sub)
    return instr_agrees(p, sub, in->sub, why);
  if (in->sub != NULL && !has_sub) {
    buf_printf(why,
               "line %u: ONBUILD without a nested instruction in the tree",
               in->start_line);
    return false;
  }
  return true;
}

static bool tree_agrees(const struct parsed *p, struct buf *why) {
  TSNode root = ts_tree_root_node(p->tree);
  TSTreeCursor cur = ts_tree_cursor_new(root);
  size_t k = 0;
  bool ok = true;
  for (bool more = ts_tree_cursor_goto_first_child(&cur); more && ok;
       more = ts_tree_cursor_goto_next_sibling(&cur)) {
    TSNode c = ts_tree_cursor_current_node(&cur);
    if (!is_instruction_type(ts_node_type(c)))
      continue;
    if (k >= p->df->ninstrs) {
      buf_printf(why, "extra tree instruction at line %u",
                 ts_node_start_point(c).row + 1);
      ok = false;
      break;
    }
    const struct df_instr *in = &p->df->instrs[k++];
    TSPoint s = ts_node_start_point(c), e = ts_node_end_point(c);
    uint32_t last = e.row;
    if (e.column == 0 && e.row > s.row)
      last--;
    if (s.row + 1 != in->start_line || last + 1 != in->end_line) {
      buf_printf(why, "tree lines %u-%u, BuildKit lines %u-%u", s.row + 1,
                 last + 1, in->start_line, in->end_line);
      ok = false;
      break;
    }
    ok = instr_agrees(p, c, in, why);
  }
  ts_tree_cursor_delete(&cur);
  if (ok && k != p->df->ninstrs) {
    buf_printf(why, "tree has %zu instructions, BuildKit %zu", k,
               p->df->ninstrs);
    ok = false;
  }
  return ok;
}

static void run_real(const char *dir, const char *dumps, const char *tsv) {
  size_t len;
  char *sources = read_all(tsv, &len);
  if (sources == NULL) {
    fail("real: cannot read %s", tsv);
    return;
  }
  struct kind_stats kinds[8];
  int nkinds = 0;
  char *save = NULL;
  bool header = true;
  for (char *line = strtok_r(sources, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    if (header) {
      header = false;
      continue;
    }
    char *cols[6] = {0};
    int nc = 0;
    for (char *c = line; nc < 6;) {
      cols[nc++] = c;
      char *tab = strchr(c, '\t');
      if (tab == NULL)
        break;
      *tab = '\0';
      c = tab + 1;
    }
    if (nc < 6)
      continue;
    const char *file = cols[0], *kind = cols[5];
    struct kind_stats *ks = NULL;
    for (int i = 0; i < nkinds; i++)
      if (strcmp(kinds[i].name, kind) == 0)
        ks = &kinds[i];
    if (ks == NULL && nkinds < 8) {
      ks = &kinds[nkinds++];
      memset(ks, 0, sizeof(*ks));
      snprintf(ks->name, sizeof(ks->name), "%s", kind);
    }
    if (ks == NULL)
      continue;
    bool strict = strcmp(kind, "test-fixture") != 0;

    struct buf path = BUF_INIT, dpath = BUF_INIT;
    buf_printf(&path, "%s/%s", dir, file);
    buf_printf(&dpath, "%s/%s.result", dumps, file);
    struct parsed p;
    if (!parse_file(buf_cstr(&path), &p)) {
      fail("real/%s: cannot read", file);
      buf_cleanup(&path);
      buf_cleanup(&dpath);
      continue;
    }
    ks->files++;
    int errs = count_errors(ts_tree_root_node(p.tree));
    if (errs) {
      ks->error_files++;
      ks->error_nodes += errs;
      if (strict)
        fail("real/%s: %d ERROR/MISSING nodes", file, errs);
    }
    if (!errs || !strict)
      ok();

    unsigned unc = first_uncovered(&p);
    if (unc) {
      ks->uncovered_files++;
      fail("real/%s: line %u belongs to no instruction, comment or "
           "directive",
           file, unc);
    } else {
      ok();
    }

    size_t wlen;
    char *want = read_all(buf_cstr(&dpath), &wlen);
    if (want) {
      struct buf got = BUF_INIT;
      const struct df_problem *e = dockerfile_first_error(p.df);
      if (e == NULL)
        dump_buildkit(&got, p.df);
      if (e == NULL && strcmp(buf_cstr(&got), want) == 0) {
        ks->dump_ok++;
        ok();
      } else if (e) {
        fail("real/%s: refused at %u:%u: %s", file, e->range.start.row + 1,
             e->range.start.col + 1, e->message);
      } else {
        struct buf m = BUF_INIT;
        first_diff(want, buf_cstr(&got), &m);
        fail("real/%s: dump differs at %s", file, buf_cstr(&m));
        buf_cleanup(&m);
      }
      buf_cleanup(&got);
      free(want);
    }

    struct buf why = BUF_INIT;
    if (tree_agrees(&p, &why)) {
      ks->agree++;
      ok();
    } else {
      fail("real/%s: tree and model disagree: %s", file, buf_cstr(&why));
    }
    buf_cleanup(&why);
    parsed_free(&p);
    buf_cleanup(&path);
    buf_cleanup(&dpath);
  }
  free(sources);

  printf("\nReal-world corpus summary\n");
  printf("%-14s %6s %12s %11s %10s %12s %12s\n", "kind", "files",
         "files w/ERR", "ERR nodes", "uncovered", "dump equal", "tree=model");
  struct kind_stats total;
  memset(&total, 0, sizeof(total));
  for (int i = 0; i < nkinds; i++) {
    struct kind_stats *k = &kinds[i];
    printf("%-14s %6d %12d %11d %10d %7d/%-4d %7d/%-4d\n", k->name, k->files,
           k->error_files, k->error_nodes, k->uncovered_files, k->dump_ok,
           k->files, k->agree, k->files);
    total.files += k->files;
    total.error_files += k->error_files;
    total.error_nodes += k->error_nodes;
    total.uncovered_files += k->uncovered_files;
    total.dump_ok += k->dump_ok;
    total.agree += k->agree;
  }
  printf("%-14s %6d %12d %11d %10d %7d/%-4d %7d/%-4d\n", "total", total.files,
         total.error_files, total.error_nodes, total.uncovered_files,
         total.dump_ok, total.files, total.agree, total.files);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: conform testfiles|gotests DIR | real DIR DUMPS "
                    "SOURCES.tsv\n");
    return 2;
  }
  parser = ts_parser_new();
  ts_parser_set_language(parser, tree_sitter_dockerfile());
  if (strcmp(argv[1], "testfiles") == 0) {
    run_testfiles(argv[2]);
  } else if (strcmp(argv[1], "gotests") == 0) {
    run_gotests(argv[2]);
  } else if (strcmp(argv[1], "real") == 0 && argc == 5) {
    run_real(argv[2], argv[3], argv[4]);
  } else {
    fprintf(stderr, "conform: unknown run '%s'\n", argv[1]);
    return 2;
  }
  ts_parser_delete(parser);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
