/*
 * progress.h - blob transfers drawn for a person or logged for a machine.
 *
 * DESIGN: the builder sends PROGRESS events (a blob's bytes done of its
 * total); this module decides how they look.  On a terminal (tty) it
 * keeps one line per active blob and a total line with the rate and the
 * time left, redrawn in place at most every PROGRESS_REDRAW_MS; other
 * output goes above them.  Elsewhere (plain: CI logs) it prints a line
 * per blob at most every PROGRESS_PLAIN_MS and when the blob is done.
 * quiet prints nothing.  auto is tty when the stream is a terminal (and
 * TERM is not "dumb"), plain otherwise.
 */
#ifndef DW_CLI_PROGRESS_H
#define DW_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../common/err.h"

#define PROGRESS_REDRAW_MS 100
#define PROGRESS_PLAIN_MS 2000
#define PROGRESS_MAX_LINES 8 /* blob lines drawn at once on a terminal */

enum progress_mode {
  PROGRESS_AUTO,
  PROGRESS_TTY,
  PROGRESS_PLAIN,
  PROGRESS_QUIET
};

/* "auto", "tty", "plain", "quiet" -> *out; -1 for anything else. */
int progress_mode_parse(const char *s, enum progress_mode *out);

struct progress;

/* Draws on out (borrowed).  auto is resolved here. */
struct progress *progress_new(enum progress_mode mode, FILE *out);
/* Clears the bars and frees; accepts NULL. */
void progress_free(struct progress *self);
/* Whether this progress prints anything at all (not quiet). */
bool progress_visible(const struct progress *self);
/* A blob moved: what = "push sha256:..." or "pull sha256:...". */
void progress_update(struct progress *self, const char *what, uint64_t done,
                     uint64_t total);
/* One line of other output (no newline), printed above the bars. */
void progress_print(struct progress *self, const char *fmt, ...)
    DW_PRINTF(2, 3);

#endif
