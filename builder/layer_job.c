/*
 * layer_job.c - packing a layer on a worker thread (see layer_job.h).
 */
#include "layer_job.h"

#include <string.h>

static void layer_job__main(void *arg) {
  struct layer_job *job = arg;
  uint64_t t0 = uv_hrtime();
  job->rc =
      layer_pack(&job->list, &job->opts, job->store, &job->info, &job->err);
  job->seconds = (double)(uv_hrtime() - t0) / 1e9;
}

int layer_job_start(struct layer_job *job, struct layer_list *list,
                    const struct layer_pack_opts *opts, struct store *store,
                    struct err *err) {
  memset(job, 0, sizeof(*job));
  job->list = *list;
  job->opts = *opts;
  job->store = store;
  int r = uv_thread_create(&job->thread, layer_job__main, job);
  if (r != 0) {
    memset(job, 0, sizeof(*job));
    return err_set(err, ERR_IO, "layer packing thread: %s", uv_strerror(r));
  }
  layer_list_init(list);
  job->running = true;
  return 0;
}

int layer_job_join(struct layer_job *job, struct err *err) {
  if (!job->running)
    return 0;
  (void)uv_thread_join(&job->thread);
  job->running = false;
  layer_list_cleanup(&job->list);
  if (job->rc < 0) {
    *err = job->err;
    return job->rc;
  }
  return 0;
}
