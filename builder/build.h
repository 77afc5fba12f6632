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
 * The same machinery runs the store's network jobs (pull, push) and the
 * registry's tag lists (the server's tag completion): the request's
 * `action` says which, so the command line and the server see one kind of
 * handle, one event stream and one cancel for all of them.
 *
 * Nothing here reads the process environment: what a build takes from
 * an environment (build arguments given without a value, secret env=
 * sources, SOURCE_DATE_EPOCH, the default store root) comes from the
 * request's `env`, which the command line fills from its own environment
 * and the language server from what the user gave.
 *
 * The builder includes no server/ or cli/ header and never writes to
 * stdout or stderr: everything it says goes through events.
 */
#ifndef DW_BUILD_H
#define DW_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "../common/err.h"

enum build_format { BUILD_FORMAT_OCI, BUILD_FORMAT_DOCKER };
enum build_action {
  BUILD_ACTION_BUILD, /* run the Dockerfile, tag, export */
  BUILD_ACTION_PULL,  /* pull every tags[i] into the store and tag it */
  BUILD_ACTION_PUSH,  /* push every stored tags[i] (or tags[0] to
                         push_dest) */
  BUILD_ACTION_TAGS,  /* list the registry's tags of tags[0]'s repository
                         (TAGS events, a page at a time); the store is not
                         touched */
};
enum build_compression { BUILD_GZIP, BUILD_ZSTD };

struct build_request {
  enum build_action action;    /* BUILD unless set */
  const char *context_dir;     /* required for BUILD */
  const char *dockerfile;      /* path; NULL = <context>/Dockerfile */
  const char *dockerfile_text; /* in-memory text instead of the file */
  size_t dockerfile_len;
  const char *const *tags; /* -t; PULL/PUSH: the references */
  size_t ntags;
  const char *const *build_args; /* "K=V" or "K" (from env) */
  size_t nbuild_args;
  const char *target;   /* stage name or index; NULL = last */
  const char *platform; /* "linux/amd64"; NULL = this machine */
  bool no_cache;
  enum build_format format;
  enum build_compression compression;
  const char *output; /* "type=oci,dest=DIR", "type=oci-archive,..." */
  const char *root;   /* store root; NULL = default, from env:
                         $DOCKWRIGHT_ROOT, $XDG_DATA_HOME/dockwright,
                         $HOME/.local/share/dockwright */
  const char *const *insecure; /* registries allowed over http / bad TLS */
  size_t ninsecure;
  const char *const *secrets; /* --secret "id=X,src=FILE" | "id=X,env=V" */
  size_t nsecrets;
  const char *const *env; /* "K=V": what the build may take from an
                             environment (see above); may be 0 */
  size_t nenv;
  bool push;             /* BUILD: then push every tag */
  bool background;       /* the build's threads and processes at a lower
                            priority (nice +10): for a caller whose own
                            thread must stay responsive (the server) */
  const char *push_dest; /* PUSH: push tags[0] here instead */
  unsigned max_concurrent_uploads;   /* blobs pushed at once; 0: 4 */
  unsigned max_concurrent_downloads; /* blobs pulled at once; 0: 4 */
  /* BUILD: the build cache through a registry (docs/builder.md):
   * "type=registry,ref=REF" to import before, and
   * "type=registry,ref=REF[,mode=min|max]" to export after. */
  const char *const *cache_from;
  size_t ncache_from;
  const char *cache_to;
  unsigned tags_page;  /* TAGS: tags asked per page (?n=); 0: the
                          registry's default */
  unsigned timeout_ms; /* TAGS: each HTTP transfer's limit; 0: none */
};

enum build_event_kind {
  BUILD_EV_STEP,      /* a new instruction starts: step/nsteps, line,
                         text */
  BUILD_EV_STEP_DONE, /* the instruction ended: step/nsteps, line,
                         cached, seconds */
  BUILD_EV_LAYER,     /* a step's layer is packed: line (the step's),
                         total = compressed bytes, text = digest */
  BUILD_EV_LOG,       /* text: one or more lines; line: the Dockerfile
                         line of the RUN that printed them, or 0 (the
                         builder's own lines) */
  BUILD_EV_PROGRESS,  /* a blob moving: text "pull <digest>" or "push
                         <digest>"; current/total bytes */
  BUILD_EV_IMAGE,     /* an image is in the store (tagged) or in a
                         registry (pushed): text = reference, digest;
                         code = the action (BUILD_ACTION_PUSH when
                         pushed) */
  BUILD_EV_DONE,      /* text: image digest (PULL/PUSH: the last one);
                         terminal */
  BUILD_EV_FAILED,    /* text: message; code; terminal */
  BUILD_EV_CANCELLED, /* terminal */
  BUILD_EV_TAGS,      /* TAGS: text = one page of tags, one per line, in
                         the registry's order; current = how many */
};

struct build_event {
  enum build_event_kind kind;
  unsigned step, nsteps;   /* STEP */
  unsigned line;           /* STEP/LOG/FAILED: 1-based Dockerfile line
                              or 0 */
  uint64_t current, total; /* PROGRESS; LAYER: total */
  int code;                /* FAILED: enum err_code; IMAGE: the action */
  bool cached;             /* STEP_DONE */
  double seconds;          /* STEP_DONE */
  char digest[80];         /* IMAGE */
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
