/*
 * dispatch.h - runs a Dockerfile: stages, instructions, the final image.
 * Internal to builder/: build.c calls it on the build thread.
 */
#ifndef DW_DISPATCH_H
#define DW_DISPATCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "../common/err.h"
#include "build.h"

/* How dispatch talks back: build.c queues these as events. */
struct dispatch_sink {
  void (*step)(void *ctx, unsigned step, unsigned nsteps, unsigned line,
               const char *text);
  void (*log)(void *ctx, const char *line);
  /* A RUN's output line, tagged with the instruction's line (may be
   * NULL: log is used). */
  void (*log_at)(void *ctx, unsigned line, const char *text);
  void *ctx;
  /* The step ended (cached: restored from the build cache). */
  void (*step_done)(void *ctx, unsigned step, unsigned nsteps, unsigned line,
                    bool cached, double seconds);
  /* The layer of the instruction at `line` is packed (or restored). */
  void (*layer)(void *ctx, unsigned line, const char *digest, uint64_t size);
  /* The image is tagged `name` in the store (or pushed there). */
  void (*image)(void *ctx, const char *name, const char *digest, bool pushed);
  /* A blob pulled (FROM, --mount from=) moves. */
  void (*progress)(void *ctx, const char *verb, const char *digest,
                   uint64_t done, uint64_t total);
};

/* Runs the build described by req on loop (the build thread's own).
 * On success digest_out holds the image manifest digest. */
int dispatch_run(const struct build_request *req, uv_loop_t *loop,
                 const atomic_bool *cancel, const struct dispatch_sink *sink,
                 char digest_out[72], struct err *err) DW_WARN_UNUSED;

#endif
