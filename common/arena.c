/*
 * arena.c - the bump allocator of arena.h.
 *
 * Invariant: a block is large (allocated alone, on the `large` list) if
 * and only if its size is over ARENA_LARGE.  arena_realloc relies on it
 * to tell the two kinds apart from the size the caller passes.
 */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

struct arena_chunk {
  struct arena_chunk *next;
  size_t used; /* bytes of data[] handed out */
  size_t size; /* bytes of data[] */
  /* data follows; the header is a multiple of ARENA_ALIGN */
};

struct arena_large {
  struct arena_large *prev, *next;
  size_t size;
  size_t pad; /* keeps the data after the header aligned */
};

static char *arena__data(struct arena_chunk *c) {
  return (char *)(c + 1);
}

void arena_init(struct arena *a) {
  a->chunks = NULL;
  a->large = NULL;
  a->last = NULL;
  a->bytes = 0;
}

void arena_cleanup(struct arena *a) {
  struct arena_chunk *c = a->chunks;
  while (c) {
    struct arena_chunk *next = c->next;
    free(c);
    c = next;
  }
  struct arena_large *l = a->large;
  while (l) {
    struct arena_large *next = l->next;
    free(l);
    l = next;
  }
  arena_init(a);
}

static void *arena__large(struct arena *a, size_t n) {
  if (n > SIZE_MAX - sizeof(struct arena_large))
    abort();
  struct arena_large *l = xmalloc(sizeof(*l) + n);
  a->bytes += sizeof(*l) + n;
  l->size = n;
  l->prev = NULL;
  l->next = a->large;
  if (a->large)
    a->large->prev = l;
  a->large = l;
  return l + 1;
}

/* A small block (n <= ARENA_LARGE) aligned to `align` (a power of 2). */
static void *arena__small(struct arena *a, size_t n, size_t align) {
  struct arena_chunk *c = a->chunks;
  if (c) {
    size_t off = (c->used + align - 1) & ~(align - 1);
    if (off <= c->size && n <= c->size - off) {
      c->used = off + n;
      a->last = arena__data(c) + off;
      return a->last;
    }
  }
  /* The tail left in the old chunk is smaller than n <= ARENA_LARGE. */
  c = xmalloc(sizeof(*c) + ARENA_CHUNK);
  a->bytes += sizeof(*c) + ARENA_CHUNK;
  c->next = a->chunks;
  c->size = ARENA_CHUNK;
  c->used = n;
  a->chunks = c;
  a->last = arena__data(c);
  return a->last;
}

void *arena_alloc(struct arena *a, size_t n) {
  if (n > ARENA_LARGE)
    return arena__large(a, n);
  return arena__small(a, n, ARENA_ALIGN);
}

void *arena_calloc(struct arena *a, size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size)
    abort();
  void *p = arena_alloc(a, n * size);
  memset(p, 0, n * size);
  return p;
}

void *arena_realloc(struct arena *a, void *p, size_t old, size_t n) {
  if (p == NULL)
    return arena_alloc(a, n);
  if (old > ARENA_LARGE && n > ARENA_LARGE) {
    /* A large block stays large: realloc it and mend the list. */
    struct arena_large *l = (struct arena_large *)p - 1;
    if (n > SIZE_MAX - sizeof(*l))
      abort();
    l = xrealloc(l, sizeof(*l) + n);
    a->bytes = a->bytes - l->size + n;
    l->size = n;
    if (l->prev)
      l->prev->next = l;
    else
      a->large = l;
    if (l->next)
      l->next->prev = l;
    return l + 1;
  }
  if (old <= ARENA_LARGE && n <= ARENA_LARGE && p == a->last) {
    /* The latest small block: grow or shrink it where it is. */
    struct arena_chunk *c = a->chunks;
    size_t off = (size_t)((char *)p - arena__data(c));
    if (n <= c->size - off) {
      c->used = off + n;
      return p;
    }
  }
  void *q = arena_alloc(a, n);
  memcpy(q, p, old < n ? old : n);
  return q;
}

void arena_free(struct arena *a, void *p, size_t n) {
  if (p == NULL || n <= ARENA_LARGE)
    return; /* small blocks die with the arena */
  struct arena_large *l = (struct arena_large *)p - 1;
  if (l->prev)
    l->prev->next = l->next;
  else
    a->large = l->next;
  if (l->next)
    l->next->prev = l->prev;
  a->bytes -= sizeof(*l) + l->size;
  free(l);
}

size_t arena_bytes(const struct arena *a) {
  return a->bytes;
}

char *arena_strndup(struct arena *a, const char *s, size_t n) {
  if (n >= SIZE_MAX)
    abort();
  char *d =
      n + 1 > ARENA_LARGE ? arena__large(a, n + 1) : arena__small(a, n + 1, 1);
  if (n)
    memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

char *arena_strdup(struct arena *a, const char *s) {
  return arena_strndup(a, s, strlen(s));
}
