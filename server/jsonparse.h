/*
 * jsonparse.h - a strict JSON parser into json-c objects for large
 * messages.
 *
 * DESIGN: json-c's tokener is a byte-at-a-time state machine (about 26
 * instructions a byte); a client that sends whole documents
 * (TextDocumentSyncKind.Full: every keystroke carries the full text) spends
 * most of a change's parse in it.  This parser scans strings eight bytes at
 * a time and copies the runs between escapes whole.  It accepts only what
 * RFC 8259 allows and leaves the rest to json-c: on anything it does not
 * take (invalid JSON, an integer beyond int64, a lone surrogate escape,
 * nesting deeper than max_depth) it returns NULL and the caller parses the
 * text with json-c, whose answer (object or error) stands.  So the two
 * never disagree on a valid message, and errors keep json-c's wording.
 */
#ifndef DW_JSONPARSE_H
#define DW_JSONPARSE_H

#include <json-c/json.h>
#include <stddef.h>

/* The value of s[0..len) (whitespace around it allowed), a new reference;
 * NULL: parse it with json-c instead (see above). */
json_object *jsonparse(const char *s, size_t len, unsigned max_depth);

#endif
