/*
 * gojson.h - decides exec form the way BuildKit does: Go's json.Unmarshal
 * of the rest of the line into []interface{}, then "every element is a
 * string".  Hand-written on purpose: the point is to accept and reject
 * exactly what Go's encoding/json does (strict whitespace, one value and
 * nothing after it, invalid UTF-8 replaced, lone surrogates replaced),
 * which a general JSON library does not promise.  Internal to model/.
 */
#ifndef DW_GOJSON_H
#define DW_GOJSON_H

#include <stddef.h>

#include "../common/arena.h"
#include "../common/buf.h"

enum gojson_result {
  GOJSON_OK = 0,
  GOJSON_INVALID = -1,    /* not JSON: BuildKit falls back to shell form */
  GOJSON_NOT_STRINGS = -2 /* JSON, but an element is not a string */
};

/* One decoded element: [start, end) are byte offsets of its quoted token
 * in the input. */
struct gojson_item {
  char *value; /* in the arena passed in; NUL-terminated, and may hold NUL
                  bytes (\u0000), so `len` is the length */
  size_t start;
  size_t end;
  size_t len; /* decoded length; the string may hold NUL bytes */
};

/*
 * Decodes s[0..len) as a JSON array of strings.  On GOJSON_OK appends the
 * elements to *items (a caller-owned array grown with xrealloc; *nitems
 * updated), their decoded strings allocated in `arena`.  Otherwise leaves
 * the outputs (and the arena) as they were.
 */
enum gojson_result gojson_string_array(const char *s, size_t len,
                                       struct arena *arena,
                                       struct gojson_item **items,
                                       size_t *nitems);

#endif
