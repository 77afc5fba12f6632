/*
 * tsalloc.c - tree-sitter's allocator in the server.
 *
 * DESIGN
 * A full parse of a 5,000-line file allocates about 25,000 subtrees of
 * under 256 bytes, and closing the document frees them all.  glibc keeps
 * only 7 blocks per size in its per-thread cache; the rest go to the
 * arena's bins, are consolidated whenever a large block is asked for, and
 * are split again by the next parse: about a seventh of a parse's time
 * (8.2 ms -> 7.1 ms on that file with this allocator).
 *
 * Here a small block is malloc()ed with the size glibc would give it
 * anyway (usable sizes are 24, 40, 56, ...: 16 * class - 8), and on free
 * goes onto a free list of the calling thread for its class
 * (malloc_usable_size tells it), from which the next allocation of that
 * class is served.  Every block stays a real
 * malloc block: one freed with free() by a caller (ts_node_string's
 * string) or past a list's cap goes back to glibc as usual.  Blocks move
 * between threads (a tree freed on the loop thread feeds its lists), and
 * a list keeps at most TSALLOC_CAP blocks, so what is kept is bounded by
 * the largest tree a thread has freed.  Lists are thread-local: no lock.
 */
#include "tsalloc.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <tree_sitter/api.h>

#include "../common/buf.h"

/* AddressSanitizer must see every allocation (gcc says so with
 * __SANITIZE_ADDRESS__, clang with __has_feature). */
#if defined(__SANITIZE_ADDRESS__)
#define TSALLOC_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TSALLOC_OFF 1
#endif
#endif

#ifndef TSALLOC_OFF

#define TSALLOC_CLASSES 16 /* usable sizes 24, 40, ... 232 bytes */
#define TSALLOC_CAP 65536  /* blocks kept per class and thread */

struct tsalloc_list {
  void *head; /* each free block holds the next pointer */
  size_t n;
};

static __thread struct tsalloc_list tsalloc__free[TSALLOC_CLASSES];

static void *tsalloc__malloc(size_t n) {
  size_t c = (n + 8 + 15) / 16; /* the class whose blocks hold n bytes */
  if (c >= TSALLOC_CLASSES)
    return xmalloc(n);
  if (c < 2)
    c = 2; /* glibc's smallest block holds 24 */
  struct tsalloc_list *l = &tsalloc__free[c];
  if (l->head) {
    void *p = l->head;
    memcpy(&l->head, p, sizeof(void *));
    l->n--;
    return p;
  }
  return xmalloc(c * 16 - 8);
}

static void tsalloc__free_block(void *p) {
  if (p == NULL)
    return;
  /* The class whose every request the block can serve. */
  size_t c = (malloc_usable_size(p) + 8) / 16;
  if (c >= TSALLOC_CLASSES || tsalloc__free[c].n >= TSALLOC_CAP) {
    free(p);
    return;
  }
  struct tsalloc_list *l = &tsalloc__free[c];
  memcpy(p, &l->head, sizeof(void *));
  l->head = p;
  l->n++;
}

static void *tsalloc__calloc(size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size)
    abort();
  void *p = tsalloc__malloc(n * size);
  memset(p, 0, n * size);
  return p;
}

static void *tsalloc__realloc(void *p, size_t n) {
  if (p == NULL)
    return tsalloc__malloc(n);
  size_t have = malloc_usable_size(p);
  if (n <= have && n > 0)
    return p;
  if ((have + 8) / 16 >= TSALLOC_CLASSES)
    return xrealloc(p, n); /* a large block: glibc grows it in place */
  void *q = tsalloc__malloc(n);
  memcpy(q, p, have < n ? have : n);
  tsalloc__free_block(p);
  return q;
}

void tsalloc_install(void) {
  ts_set_allocator(tsalloc__malloc, tsalloc__calloc, tsalloc__realloc,
                   tsalloc__free_block);
}

#else

void tsalloc_install(void) {}

#endif
