/*
 * layer_job.h - packing a layer on a worker thread.
 *
 * WHY: compressing a RUN's layer takes seconds (gzip of tens of MB) and
 * nothing in the next RUN needs the blob: it stacks the upper directory
 * itself as a lower.  The dispatcher starts the job, goes on, and joins
 * it before anything needs the layer's digest.
 *
 * The worker only reads the entry list and the files it names and writes
 * a new blob to the store (store writers are independent); it logs
 * nothing.  Cancel through opts.cancel: the join then reports
 * ERR_CANCELLED.
 */
#ifndef DW_LAYER_JOB_H
#define DW_LAYER_JOB_H

#include <stdbool.h>
#include <uv.h>

#include "../common/err.h"
#include "layer.h"
#include "store.h"

struct layer_job {
  bool running;
  uv_thread_t thread;
  struct layer_list list; /* owned: what is packed */
  struct layer_pack_opts opts;
  struct store *store; /* borrowed */
  struct layer_info info;
  struct err err;
  int rc;
  double seconds; /* the packing's wall time */
};

/* Takes over *list (left empty) and starts packing it.  On error nothing
 * runs and *list is untouched. */
int layer_job_start(struct layer_job *job, struct layer_list *list,
                    const struct layer_pack_opts *opts, struct store *store,
                    struct err *err) DW_WARN_UNUSED;

/* Waits for the job; its result is job->info, or the error (copied to
 * err).  Frees the list.  A job not running joins as 0 with nothing. */
int layer_job_join(struct layer_job *job, struct err *err) DW_WARN_UNUSED;

#endif
