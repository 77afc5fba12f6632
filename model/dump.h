/*
 * dump.h - BuildKit's AST dump (the `result` format of its parser tests):
 * one line per instruction, `(cmd ["--flag"] "arg" ...)`, strings quoted
 * as Go's strconv.Quote does.
 */
#ifndef DW_DUMP_H
#define DW_DUMP_H

#include <stddef.h>

#include "../common/buf.h"
#include "dockerfile.h"

/* Appends strconv.Quote(s[0..len)) to b. */
void dump_go_quote(struct buf *b, const char *s, size_t len);

/* Appends the dump of one instruction, without a line end. */
void dump_instr(struct buf *b, const struct df_instr *in);

/* Appends the dump of every instruction, one per line. */
void dump_buildkit(struct buf *b, const struct dockerfile *df);

#endif
