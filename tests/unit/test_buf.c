/*
 * test_buf.c - common/buf.c's whole-file reader: the ceiling (exactly
 * max passes, one byte more fails and leaves the buffer as it was),
 * appending after existing content, missing files, empty files, files
 * larger than one read, and a pipe (no size known in advance).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/buf.h"

static char dir[] = "/tmp/dw-test-buf.XXXXXX";

static char *write_file(const char *name, const char *data, size_t len) {
  struct buf p = BUF_INIT;
  buf_printf(&p, "%s/%s", dir, name);
  FILE *f = fopen(p.data, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  fclose(f);
  return buf_take(&p);
}

static void test_ceiling(void **state) {
  (void)state;
  char *p = write_file("ten", "0123456789", 10);
  struct buf b = BUF_INIT;
  struct err e;
  buf_puts(&b, "kept:");
  assert_int_equal(buf_read_file(p, 10, &b, &e), 0);
  assert_string_equal(b.data, "kept:0123456789");
  assert_int_equal(b.len, 15);
  buf_reset(&b);
  buf_puts(&b, "kept:");
  assert_int_equal(buf_read_file(p, 9, &b, &e), ERR_TOOBIG);
  assert_string_equal(b.data, "kept:");
  assert_int_equal(b.len, 5);
  assert_non_null(strstr(e.msg, "larger than 9 bytes"));
  buf_cleanup(&b);
  free(p);
}

static void test_missing_and_empty(void **state) {
  (void)state;
  struct buf b = BUF_INIT;
  struct err e;
  struct buf p = BUF_INIT;
  buf_printf(&p, "%s/none", dir);
  assert_int_equal(buf_read_file(p.data, 100, &b, &e), ERR_NOTFOUND);
  assert_int_equal(b.len, 0);
  assert_int_equal(buf_read_file(dir, 100, &b, &e), ERR_IO); /* a directory */
  char *q = write_file("empty", "", 0);
  assert_int_equal(buf_read_file(q, 0, &b, &e), 0);
  assert_int_equal(b.len, 0);
  assert_string_equal(buf_cstr(&b), "");
  free(q);
  buf_cleanup(&p);
  buf_cleanup(&b);
}

static void test_large_and_pipe(void **state) {
  (void)state;
  size_t n = 300000;
  char *data = malloc(n);
  for (size_t i = 0; i < n; i++)
    data[i] = (char)('a' + i % 26);
  char *p = write_file("large", data, n);
  struct buf b = BUF_INIT;
  struct err e;
  assert_int_equal(buf_read_file(p, n, &b, &e), 0);
  assert_int_equal(b.len, n);
  assert_memory_equal(b.data, data, n);
  /* one allocation for a regular file: the size was reserved first */
  assert_true(b.cap <= n + 2);
  buf_reset(&b);
  /* a pipe: grown as it comes, the ceiling still holds */
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  if (fork() == 0) {
    close(fds[0]);
    size_t off = 0;
    while (off < n) {
      ssize_t w = write(fds[1], data + off, n - off > 4096 ? 4096 : n - off);
      if (w <= 0)
        _exit(1);
      off += (size_t)w;
    }
    _exit(0);
  }
  close(fds[1]);
  assert_int_equal(buf_read_fd(fds[0], "pipe", n - 1, &b, &e), ERR_TOOBIG);
  assert_int_equal(b.len, 0);
  assert_non_null(strstr(e.msg, "pipe: larger than"));
  close(fds[0]);
  wait(NULL);
  buf_cleanup(&b);
  free(p);
  free(data);
}

int main(void) {
  if (mkdtemp(dir) == NULL)
    return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ceiling),
      cmocka_unit_test(test_missing_and_empty),
      cmocka_unit_test(test_large_and_pipe),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  char cmd[64];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  if (system(cmd) != 0)
    rc = 1;
  return rc;
}
