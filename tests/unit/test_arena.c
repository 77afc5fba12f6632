/*
 * test_arena.c - the bump allocator (common/arena.h): alignment, growth in
 * place, large blocks, and that cleanup leaves a reusable arena.  Run under
 * ASan too, which catches a block handed out twice or written past.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "../../common/arena.h"

static void test_small(void **state) {
  (void)state;
  struct arena a = ARENA_INIT;
  char *s = arena_strndup(&a, "hello world", 5);
  assert_string_equal(s, "hello");
  assert_string_equal(arena_strdup(&a, ""), "");
  /* Aligned blocks after unaligned strings. */
  for (size_t n = 0; n < 40; n++) {
    uint64_t *p = arena_alloc(&a, n * sizeof(*p));
    assert_int_equal((uintptr_t)p % ARENA_ALIGN, 0);
    for (size_t i = 0; i < n; i++)
      p[i] = i;
    arena_strndup(&a, "x", n % 3);
  }
  unsigned char *z = arena_calloc(&a, 100, 3);
  for (size_t i = 0; i < 300; i++)
    assert_int_equal(z[i], 0);
  arena_cleanup(&a);
  assert_null(a.chunks);
}

static void test_many_chunks(void **state) {
  (void)state;
  struct arena a = ARENA_INIT;
  /* Far more than one chunk; every string keeps its content. */
  char *v[5000];
  char want[32];
  for (size_t i = 0; i < 5000; i++) {
    int n = snprintf(want, sizeof(want), "string %zu", i);
    v[i] = arena_strndup(&a, want, (size_t)n);
  }
  for (size_t i = 0; i < 5000; i++) {
    snprintf(want, sizeof(want), "string %zu", i);
    assert_string_equal(v[i], want);
  }
  arena_cleanup(&a);
  /* Reusable after cleanup. */
  assert_string_equal(arena_strdup(&a, "again"), "again");
  arena_cleanup(&a);
}

static void test_grow(void **state) {
  (void)state;
  struct arena a = ARENA_INIT;
  /* The latest block grows where it is. */
  int *p = arena_alloc(&a, 4 * sizeof(int));
  for (int i = 0; i < 4; i++)
    p[i] = i;
  int *q = arena_realloc(&a, p, 4 * sizeof(int), 8 * sizeof(int));
  assert_ptr_equal(p, q);
  /* Not the latest any more: it moves, keeping its content. */
  arena_strdup(&a, "in between");
  int *r = arena_realloc(&a, q, 8 * sizeof(int), 16 * sizeof(int));
  assert_ptr_not_equal(q, r);
  for (int i = 0; i < 4; i++)
    assert_int_equal(r[i], i);
  /* Doubling from nothing through small into large blocks. */
  size_t cap = 0;
  size_t *arr = NULL;
  for (size_t n = 0; n < 100000; n++) {
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 4;
      arr = arena_realloc(&a, arr, cap * sizeof(*arr), ncap * sizeof(*arr));
      cap = ncap;
    }
    arr[n] = n;
    if (n % 1000 == 0)
      arena_strdup(&a, "interleaved");
  }
  for (size_t n = 0; n < 100000; n++)
    assert_int_equal(arr[n], n);
  /* A large block shrinking to a small one keeps its head. */
  size_t *small = arena_realloc(&a, arr, cap * sizeof(*arr), 8 * sizeof(*arr));
  for (size_t n = 0; n < 8; n++)
    assert_int_equal(small[n], n);
  arena_cleanup(&a);
}

static void test_large(void **state) {
  (void)state;
  struct arena a = ARENA_INIT;
  char big[ARENA_CHUNK * 2];
  memset(big, 'b', sizeof(big));
  /* Several large blocks, grown in turn: the list stays consistent. */
  char *x = arena_strndup(&a, big, sizeof(big));
  char *y = arena_alloc(&a, ARENA_LARGE + 1);
  char *w = arena_alloc(&a, ARENA_LARGE + 1);
  memset(y, 'y', ARENA_LARGE + 1);
  memset(w, 'w', ARENA_LARGE + 1);
  y = arena_realloc(&a, y, ARENA_LARGE + 1, 4 * ARENA_CHUNK);
  w = arena_realloc(&a, w, ARENA_LARGE + 1, 3 * ARENA_CHUNK);
  assert_int_equal(strlen(x), sizeof(big));
  for (size_t i = 0; i <= ARENA_LARGE; i++) {
    assert_int_equal(y[i], 'y');
    assert_int_equal(w[i], 'w');
  }
  /* A small block that grows past ARENA_LARGE becomes large. */
  char *s = arena_alloc(&a, 16);
  memcpy(s, "0123456789abcdef", 16);
  s = arena_realloc(&a, s, 16, ARENA_LARGE * 2);
  assert_memory_equal(s, "0123456789abcdef", 16);
  s = arena_realloc(&a, s, ARENA_LARGE * 2, ARENA_LARGE * 4);
  assert_memory_equal(s, "0123456789abcdef", 16);
  arena_cleanup(&a);
  assert_null(a.large);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_small),
      cmocka_unit_test(test_many_chunks),
      cmocka_unit_test(test_grow),
      cmocka_unit_test(test_large),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
