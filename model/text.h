/*
 * text.h - the small pieces of Go's text handling BuildKit's reading
 * depends on: unicode.IsSpace, strconv.IsPrint and strings.TrimSpace, over
 * common/utf8.h's decoding (Go's rule for invalid bytes).  Internal to
 * model/.
 */
#ifndef DW_TEXT_H
#define DW_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/utf8.h"

/* Go's unicode.IsSpace. */
bool text_is_space(uint32_t r);

/* Go's strconv.IsPrint. */
bool text_is_print(uint32_t r);

/* Number of leading bytes that are unicode spaces. */
size_t text_space_prefix(const char *s, size_t len);

/* Number of trailing bytes that are unicode spaces. */
size_t text_space_suffix(const char *s, size_t len);

/* ASCII case-insensitive equality of s[0..len) and the NUL-terminated
 * lower-case word. */
bool text_ieq(const char *s, size_t len, const char *lower);

#endif
