/*
 * tsalloc.h - tree-sitter's allocator in the server: per-thread free lists
 * of small blocks (see tsalloc.c).
 */
#ifndef DW_TSALLOC_H
#define DW_TSALLOC_H

/* Hands tree-sitter the allocator (ts_set_allocator).  Call once, before
 * any parser or tree exists.  A no-op under AddressSanitizer, which must
 * see every allocation to check tree-sitter's use of them. */
void tsalloc_install(void);

#endif
