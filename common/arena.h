/*
 * arena.h - a bump allocator: many small allocations, freed all at once.
 *
 * DESIGN
 * A Dockerfile model is tens of thousands of small strings and arrays
 * that are built together and die together.  Allocating each with malloc
 * and freeing each with free was a third of the time spent building a
 * model; an arena makes an allocation a pointer bump and the free one
 * pass over a few chunks.
 *
 * Small allocations are carved from chunks of ARENA_CHUNK bytes.  A large
 * one (over a quarter of a chunk) gets a malloc block of its own, so a
 * chunk never wastes more than a quarter of itself on a tail, and so that
 * growing a large array (arena_realloc) is a realloc rather than a copy
 * into fresh arena space each time it doubles.  The most recent small
 * allocation also grows in place when its chunk has room.
 *
 * Ownership: the arena owns every block it hands out.  Blocks are never
 * freed one by one; arena_cleanup frees them all (and leaves the arena
 * empty and reusable).  Allocation failure aborts (the xmalloc policy of
 * buf.h).  Not thread-safe: one arena, one thread at a time.
 */
#ifndef DW_ARENA_H
#define DW_ARENA_H

#include <stddef.h>

/* Bytes per chunk, and the size above which a block is allocated alone. */
#define ARENA_CHUNK (32 * 1024)
#define ARENA_LARGE (ARENA_CHUNK / 4)

/* Every arena_alloc block is aligned to this (enough for pointers,
 * size_t and uint64_t, all the model holds). */
#define ARENA_ALIGN 8

struct arena_chunk; /* private */
struct arena_large; /* private */

struct arena {
  struct arena_chunk *chunks; /* private; the current chunk first */
  struct arena_large *large;  /* private; blocks allocated alone */
  void *last;                 /* private; the latest small block */
  size_t bytes;               /* read-only: bytes held (see arena_bytes) */
};

#define ARENA_INIT                                                            \
  { NULL, NULL, NULL, 0 }

void arena_init(struct arena *a);
/* Frees every block; the arena is empty and can be used again. */
void arena_cleanup(struct arena *a);

/* n bytes aligned to ARENA_ALIGN (n may be 0: a valid unique pointer). */
void *arena_alloc(struct arena *a, size_t n);
/* n * size zeroed bytes; aborts on overflow. */
void *arena_calloc(struct arena *a, size_t n, size_t size);
/*
 * Grows (or shrinks) block p, allocated from this arena with size `old`,
 * to n bytes, keeping its content; p may be NULL with old 0.  Returns the
 * block's new address: p itself when it could grow in place.  The old
 * block is not reclaimed when it moves (it dies with the arena), so
 * growing geometrically keeps the waste below the final size.
 */
void *arena_realloc(struct arena *a, void *p, size_t old, size_t n);

/*
 * Gives block p (allocated from this arena with size n) back early: a
 * large block is freed at once, a small one stays until arena_cleanup.
 * For arrays that are replaced as a whole (the model's instruction list
 * when it is updated), so they do not pile up.  p may be NULL.
 */
void arena_free(struct arena *a, void *p, size_t n);

/* Bytes the arena holds: chunks plus large blocks, headers included. */
size_t arena_bytes(const struct arena *a);

/* Copies of bytes and strings, NUL-terminated, without alignment. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);

#endif
