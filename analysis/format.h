/*
 * format.h - the Dockerfile formatter's core: text and model in, edits
 * out.  No IO, no LSP: `dockwright fmt` (cli/cmd_fmt.c) and the language
 * server's formatting requests (server/features/format.c) share it.
 *
 * What it does, line by line (docs/language-server.md, "Formatting"):
 * instruction keywords (and ONBUILD's trigger) in upper case, no blanks
 * before a keyword and one after it, continuation lines indented by
 * `indent` spaces, blanks after an escape character and at the end of
 * lines removed, and with `operator_newline` a trailing `&&` or `||`
 * moved to the start of the next line.  Heredoc bodies are never touched.
 *
 * It never changes meaning: each instruction's new text is read again and
 * its BuildKit dump compared with the old one's; a change that would
 * alter it is dropped (a continuation line's blanks are part of a shell
 * command's string, so shell-form RUN keeps its indentation by default).
 * With `operator_newline`, which cannot keep the dump byte for byte,
 * shell-form strings are compared with runs of blanks outside quotes
 * collapsed, which is what the shell sees.  Formatting twice gives what
 * formatting once gave.
 */
#ifndef DW_FORMAT_H
#define DW_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

#include "../model/dockerfile.h"

#define FORMAT_INDENT_DEFAULT 4u
#define FORMAT_INDENT_MAX 16u

struct format_opts {
  unsigned indent;       /* spaces before a continuation line */
  bool operator_newline; /* `&&`/`||` start continuation lines */
};

/* Replace bytes [start, end) of the text with `text` (owned). */
struct format_edit {
  size_t start, end;
  char *text;
};

/* Sorted by start, never overlapping. */
struct format_edits {
  struct format_edit *v; /* owned */
  size_t n, cap;
};

void format_opts_init(struct format_opts *o);

/*
 * The edits that format text (len bytes) read as df (a model of exactly
 * this text, from dockerfile_parse or dockerfile_update).  Lines
 * [first_line, last_line] (0-based, inclusive) only; pass 0 and UINT32_MAX
 * for the whole text.  An instruction is formatted whole when any of its
 * lines is in the range.  *out is filled (initialise it zeroed); free with
 * format_edits_cleanup.
 */
void format_edits(const char *text, size_t len, const struct dockerfile *df,
                  const struct format_opts *o, uint32_t first_line,
                  uint32_t last_line, struct format_edits *out);
void format_edits_cleanup(struct format_edits *e);

/* The text with the edits applied: a new string (caller frees), its
 * length in *out_len. */
char *format_apply(const char *text, size_t len, const struct format_edits *e,
                   size_t *out_len);

#endif
