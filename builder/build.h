/*
 * build.h - the builder's only door: a build request in; steps, log lines,
 * progress and one result out; cancellable.
 *
 * DESIGN: build_start copies everything it needs from the request and runs
 * the build on its own thread with its own uv loop (registry transfers run
 * there).  Events go into a locked queue and the caller's loop is woken
 * with uv_async_send; sends coalesce, so the callback drains the whole
 * queue each time (libuv threadpool.c).  Log lines are merged while the
 * queue is long, so it stays bounded.  Exactly one terminal event (DONE,
 * FAILED or CANCELLED) ends every started build, after which build_free
 * may be called.  build_cancel sets an atomic flag the build checks
 * between steps, files and network reads.
 *
 * The builder includes no server/ header and never writes to stdout or
 * stderr: everything it says goes through events.
 */
#ifndef DW_BUILD_H
#define DW_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "../common/err.h"

enum build_format { BUILD_FORMAT_OCI, BUILD_FORMAT_DOCKER };
enum build_compression { BUILD_GZIP, BUILD_ZSTD };

struct build_request {
  const char *context_dir;     /* required */
  const char *dockerfile;      /* path; NULL = <context>/Dockerfile */
  const char *dockerfile_text; /* in-memory text instead of the file */
  size_t dockerfile_len;
  const char *const *tags; /* -t; may be 0 */
  size_t ntags;
  const char *const *build_args; /* "K=V" or "K" (from the environment) */
  size_t nbuild_args;
  const char *target;   /* stage name or index; NULL = last */
  const char *platform; /* "linux/amd64"; NULL = this machine */
  bool no_cache;
  enum build_format format;
  enum build_compression compression;
  const char *output; /* "type=oci,dest=DIR", "type=oci-archive,..." */
  const char *root;   /* store root; NULL = default */
  const char *const *insecure; /* registries allowed over http / bad TLS */
  size_t ninsecure;
  const char *const *secrets; /* --secret "id=X,src=FILE" | "id=X,env=V" */
  size_t nsecrets;
};

enum build_event_kind {
  BUILD_EV_STEP,      /* a new instruction starts: step/nsteps, text */
  BUILD_EV_LOG,       /* text: one or more lines; line: the Dockerfile
                         line of the RUN that printed them, or 0 */
  BUILD_EV_PROGRESS,  /* text: what; current/total bytes */
  BUILD_EV_DONE,      /* text: image digest; terminal */
  BUILD_EV_FAILED,    /* text: message; code; terminal */
  BUILD_EV_CANCELLED, /* terminal */
};

struct build_event {
  enum build_event_kind kind;
  unsigned step, nsteps;   /* STEP */
  unsigned line;           /* STEP/LOG/FAILED: 1-based Dockerfile line
                              or 0 */
  uint64_t current, total; /* PROGRESS */
  int code;                /* FAILED: enum err_code */
  const char *text;        /* owned by the builder; valid during the call */
};

/* Called on the caller's loop thread, once per event, in order. */
typedef void (*build_event_fn)(void *ctx, const struct build_event *ev);

struct build;

/* Starts a build.  On success *out is the build (caller frees with
 * build_free after the terminal event) and cb will run for each event on
 * `loop`.  On failure no callback ever runs. */
int build_start(uv_loop_t *loop, const struct build_request *req,
                build_event_fn cb, void *ctx, struct build **out,
                struct err *err) DW_WARN_UNUSED;

/* Asks the build to stop; a CANCELLED (or an earlier terminal) event
 * follows.  Safe from the loop thread at any time before build_free. */
void build_cancel(struct build *b);

/* Joins the build thread and releases everything.  Call after the
 * terminal event (or it waits for the build to end).  The async handle is
 * closed on `loop`; memory is freed in its close callback, so the loop
 * must run once more. */
void build_free(struct build *b);

/* Runs a build to completion on a private loop (the CLI's way): events
 * are delivered to cb on the calling thread.  Returns 0, or the failing
 * code with err filled (ERR_CANCELLED when cancelled). */
int build_run(const struct build_request *req, build_event_fn cb, void *ctx,
              struct build **handle_out, struct err *err) DW_WARN_UNUSED;

#endif
