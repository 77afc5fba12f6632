/*
 * pgzip.h - gzip compression on several threads, with the same bytes
 * whatever the thread count.
 *
 * WHY: a layer's gzip compression was the longest thing on a build's
 * critical path after the RUN commands themselves (1.4 s for a 47 MB
 * layer at level 1 on one core).  pigz's format splits the stream into
 * blocks compressed independently, each primed with the 32 KiB before it,
 * and joins them with sync flushes into one valid deflate stream.  The
 * cut points depend only on the input, so a layer's digest does not depend
 * on the machine: with zero workers the caller's thread compresses the
 * same blocks itself.
 *
 * Output goes through the callback in order, from the caller's thread
 * only (inside pgzip_write and pgzip_finish).
 */
#ifndef DW_PGZIP_H
#define DW_PGZIP_H

#include <stddef.h>

#include "../common/err.h"

struct pgzip;

/* Receives compressed bytes in order; returns 0, or < 0 with err set. */
typedef int (*pgzip_out_fn)(void *ctx, const void *data, size_t n,
                            struct err *err);

/* level 1..9; workers 0 compresses in the caller's thread. */
int pgzip_new(int level, unsigned workers, pgzip_out_fn out, void *ctx,
              struct pgzip **pz, struct err *err) DW_WARN_UNUSED;
int pgzip_write(struct pgzip *pz, const void *data, size_t n,
                struct err *err) DW_WARN_UNUSED;
/* Flushes the last block and writes the gzip trailer. */
int pgzip_finish(struct pgzip *pz, struct err *err) DW_WARN_UNUSED;
/* Stops the workers and frees everything (after finish, or to abandon). */
void pgzip_free(struct pgzip *pz);

/* Worker threads worth starting on this machine (0 on one CPU). */
unsigned pgzip_default_workers(void);

#endif
