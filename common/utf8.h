/*
 * utf8.h - UTF-8 decoding and encoding with one rule for bad input, the
 * rule Go and BuildKit follow: a byte that does not start a valid sequence
 * (overlong, surrogate, past U+10FFFF, truncated) is one U+FFFD of width 1.
 * The model depends on this to read Dockerfiles as BuildKit does; the
 * server uses the same rule when it counts UTF-16 units.
 */
#ifndef DW_UTF8_H
#define DW_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define UTF8_RUNE_ERROR 0xFFFDu

/* Decodes the rune at s[0..len); sets *width (1 to 4; 0 when len is 0). */
uint32_t utf8_decode(const char *s, size_t len, size_t *width);

/* Appends the encoding of r; invalid code points become U+FFFD. */
void utf8_append(struct buf *b, uint32_t r);

#endif
