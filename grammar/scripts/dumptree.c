/*
 * dumptree: parses Dockerfiles with the system tree-sitter runtime and the
 * Dockwright grammar; prints, per file, the ERROR / MISSING counts and the
 * top-level nodes (type, start row, end row).  With -t N it instead times
 * N full parses and N incremental reparses after a one-character edit.
 *
 * Build: see scripts/build-tools.sh
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tree_sitter/api.h>

const TSLanguage *tree_sitter_dockerfile(void);

static char *slurp(const char *path, long *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  *len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)*len + 1);
  if (fread(b, 1, (size_t)*len, f) != (size_t)*len) {
    fclose(f);
    free(b);
    return NULL;
  }
  b[*len] = 0;
  fclose(f);
  return b;
}

static void count_errors(TSNode n, int *err, int *miss) {
  if (ts_node_is_missing(n))
    (*miss)++;
  if (strcmp(ts_node_type(n), "ERROR") == 0)
    (*err)++;
  if (!ts_node_has_error(n))
    return;
  uint32_t c = ts_node_child_count(n);
  for (uint32_t i = 0; i < c; i++)
    count_errors(ts_node_child(n, i), err, miss);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void logfn(void *payload, TSLogType t, const char *msg) {
  (void)payload;
  fprintf(stderr, "%s %s\n", t == TSLogTypeLex ? "LEX" : "PARSE", msg);
}

int main(int argc, char **argv) {
  TSParser *p = ts_parser_new();
  ts_parser_set_language(p, tree_sitter_dockerfile());
  int timing = 0, a = 1, sexp = 0;
  if (argc > 2 && strcmp(argv[1], "-t") == 0) {
    timing = atoi(argv[2]);
    a = 3;
  }
  if (argc > 1 && strcmp(argv[1], "-s") == 0) {
    sexp = 1;
    a = 2;
  }
  int check = 0;
  if (argc > 1 && strcmp(argv[1], "-c") == 0) {
    check = 1;
    a = 2;
  }
  if (argc > 1 && strcmp(argv[1], "-d") == 0) {
    sexp = 1;
    a = 2;
    TSLogger lg = {NULL, logfn};
    ts_parser_set_logger(p, lg);
  }
  for (; a < argc; a++) {
    long len;
    char *src = slurp(argv[a], &len);
    if (!src) {
      fprintf(stderr, "cannot read %s\n", argv[a]);
      continue;
    }
    if (check) {
      /* incremental == fresh, for inserted and deleted characters */
      static const char ins[] = "x\\\n#\"[<$`{ ";
      TSTree *tree = ts_parser_parse_string(p, NULL, src, (uint32_t)len);
      char *cur = malloc((size_t)len + 64);
      memcpy(cur, src, (size_t)len);
      long clen = len;
      unsigned seed = 12345;
      int bad = 0;
      for (int k = 0; k < 40 && !bad; k++) {
        seed = seed * 1103515245u + 12345u;
        long pos = clen ? (long)(seed % (unsigned)(clen + 1)) : 0;
        bool del = (seed >> 8) % 3 == 0 && pos < clen;
        uint32_t row = 0, col = 0;
        for (long i = 0; i < pos; i++) {
          if (cur[i] == '\n') {
            row++;
            col = 0;
          } else
            col++;
        }
        TSInputEdit e;
        if (del) {
          uint32_t erow = row, ecol = col + 1;
          if (cur[pos] == '\n') {
            erow = row + 1;
            ecol = 0;
          }
          e = (TSInputEdit){(uint32_t)pos, (uint32_t)pos + 1, (uint32_t)pos,
                            {row, col},    {erow, ecol},      {row, col}};
          memmove(cur + pos, cur + pos + 1, (size_t)(clen - pos - 1));
          clen--;
        } else {
          char ch = ins[(seed >> 12) % (sizeof ins - 1)];
          memmove(cur + pos + 1, cur + pos, (size_t)(clen - pos));
          cur[pos] = ch;
          clen++;
          TSPoint np =
              ch == '\n' ? (TSPoint){row + 1, 0} : (TSPoint){row, col + 1};
          e = (TSInputEdit){(uint32_t)pos, (uint32_t)pos, (uint32_t)pos + 1,
                            {row, col},    {row, col},    np};
        }
        ts_tree_edit(tree, &e);
        TSTree *inc = ts_parser_parse_string(p, tree, cur, (uint32_t)clen);
        ts_tree_delete(tree);
        tree = inc;
        TSTree *fresh = ts_parser_parse_string(p, NULL, cur, (uint32_t)clen);
        char *s1 = ts_node_string(ts_tree_root_node(inc));
        char *s2 = ts_node_string(ts_tree_root_node(fresh));
        if (strcmp(s1, s2) != 0) {
          bad = 1;
          printf("MISMATCH %s edit %d pos %ld %s\n", argv[a], k, pos,
                 del ? "del" : "ins");
        }
        free(s1);
        free(s2);
        ts_tree_delete(fresh);
        if (clen > len + 40)
          break;
      }
      if (!bad)
        printf("OK %s\n", argv[a]);
      ts_tree_delete(tree);
      free(cur);
      free(src);
      continue;
    }
    if (timing) {
      double best = 1e9, t0;
      TSTree *tree = NULL;
      for (int k = 0; k < timing; k++) {
        t0 = now();
        TSTree *t = ts_parser_parse_string(p, NULL, src, (uint32_t)len);
        double d = now() - t0;
        if (d < best)
          best = d;
        if (tree)
          ts_tree_delete(tree);
        tree = t;
      }
      /* incremental: insert one character in the middle of the file */
      long mid =
          getenv("EDIT_AT") ? (long)(len * atof(getenv("EDIT_AT"))) : len / 2;
      while (mid < len && src[mid] != '\n')
        mid++;
      mid = mid > 3 ? mid - 2 : mid;
      double ibest = 1e9;
      char *src2 = malloc((size_t)len + 2);
      for (int k = 0; k < timing; k++) {
        memcpy(src2, src, (size_t)mid);
        src2[mid] = 'x';
        memcpy(src2 + mid + 1, src + mid, (size_t)(len - mid));
        TSTree *copy = ts_tree_copy(tree);
        uint32_t row = 0, col = 0;
        for (long i = 0; i < mid; i++) {
          if (src[i] == '\n') {
            row++;
            col = 0;
          } else
            col++;
        }
        TSInputEdit e = {(uint32_t)mid, (uint32_t)mid, (uint32_t)mid + 1,
                         {row, col},    {row, col},    {row, col + 1}};
        ts_tree_edit(copy, &e);
        if (getenv("DEBUG_INC") && k == 0) {
          TSLogger lg = {NULL, logfn};
          ts_parser_set_logger(p, lg);
        }
        t0 = now();
        TSTree *t2 = ts_parser_parse_string(p, copy, src2, (uint32_t)len + 1);
        if (getenv("DEBUG_INC") && k == 0) {
          TSLogger lg = {NULL, NULL};
          ts_parser_set_logger(p, lg);
        }
        double d = now() - t0;
        if (d < ibest)
          ibest = d;
        ts_tree_delete(t2);
        ts_tree_delete(copy);
      }
      free(src2);
      printf("%s\tbytes=%ld\tfull_ms=%.3f\tincr_ms=%.3f\n", argv[a], len,
             best * 1e3, ibest * 1e3);
      ts_tree_delete(tree);
      free(src);
      continue;
    }
    TSTree *tree = ts_parser_parse_string(p, NULL, src, (uint32_t)len);
    TSNode root = ts_tree_root_node(tree);
    if (sexp) {
      char *str = ts_node_string(root);
      printf("%s\n", str);
      free(str);
      ts_tree_delete(tree);
      free(src);
      continue;
    }
    int err = 0, miss = 0;
    count_errors(root, &err, &miss);
    printf("FILE\t%s\t%d\t%d\n", argv[a], err, miss);
    uint32_t c = ts_node_child_count(root);
    for (uint32_t i = 0; i < c; i++) {
      TSNode n = ts_node_child(root, i);
      printf("%s\t%u\t%u\t%u\t%u\n", ts_node_type(n),
             ts_node_start_point(n).row, ts_node_end_point(n).row,
             ts_node_start_byte(n), ts_node_end_byte(n));
    }
    ts_tree_delete(tree);
    free(src);
  }
  ts_parser_delete(p);
  return 0;
}
