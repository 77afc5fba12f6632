/*
 * text.h - the small pieces of Go's text handling BuildKit's reading
 * depends on: UTF-8 decoding the way Go decodes (an invalid byte is one
 * U+FFFD rune of width 1), unicode.IsSpace, and strings.TrimSpace.
 * Internal to model/.
 */
#ifndef DW_TEXT_H
#define DW_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TEXT_RUNE_ERROR 0xFFFDu

/* Decodes the rune at s[0..len); sets *width (>= 1 when len > 0). */
uint32_t text_decode_rune(const char *s, size_t len, size_t *width);

/* Go's unicode.IsSpace. */
bool text_is_space(uint32_t r);

/* Go's strconv.IsPrint. */
bool text_is_print(uint32_t r);

/* Number of leading bytes that are unicode spaces. */
size_t text_space_prefix(const char *s, size_t len);

/* Number of trailing bytes that are unicode spaces. */
size_t text_space_suffix(const char *s, size_t len);

/* Appends the UTF-8 encoding of r (U+FFFD for invalid code points). */
struct buf;
void text_append_rune(struct buf *b, uint32_t r);

/* ASCII case-insensitive equality of s[0..len) and the NUL-terminated
 * lower-case word. */
bool text_ieq(const char *s, size_t len, const char *lower);

#endif
