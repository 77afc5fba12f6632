/*
 * pgzip.c - gzip on several threads, pigz's format (see pgzip.h).
 *
 * DESIGN: the caller's thread fills 1 MiB blocks, computes the CRC and
 * queues each block in a ring of slots; workers take the oldest queued
 * block, deflate it raw (primed with the 32 KiB of input before it, ended
 * with a sync flush so the next block starts on a byte boundary; the last
 * one with Z_FINISH) and mark it done; the caller's thread writes done
 * blocks in order and waits only when the slot it wants to fill next is
 * still in flight.  One mutex guards the slot states and the two
 * sequence counters; block contents belong to whoever holds the slot's
 * state (caller: FREE and DONE, a worker: BUSY).
 */
#include "pgzip.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include <zlib.h>

#include "../common/buf.h"

#define PGZIP_BLOCK (1u << 20)
#define PGZIP_DICT 32768u
#define PGZIP_MAX_WORKERS 4

enum pgzip__state { PGZIP_FREE, PGZIP_QUEUED, PGZIP_BUSY, PGZIP_DONE };

struct pgzip__slot {
  enum pgzip__state state;
  bool last;
  int zerr; /* 0, or a zlib error code */
  unsigned char *in;
  size_t in_len;
  unsigned char dict[PGZIP_DICT];
  size_t dict_len;
  unsigned char *out;
  size_t out_len, out_cap;
};

struct pgzip {
  int level;
  pgzip_out_fn out;
  void *ctx;
  uv_mutex_t mu;
  uv_cond_t work, done;
  bool stop;
  uv_thread_t threads[PGZIP_MAX_WORKERS];
  unsigned nthreads;
  struct pgzip__slot *slots;
  size_t nslots;
  uint64_t next_submit, next_write; /* block numbers; slot = n % nslots */
  z_stream inline_z;                /* the caller's, with no workers */
  bool inline_ready;
  unsigned char tail[PGZIP_DICT]; /* the last input bytes, for the next
                                     block's dictionary */
  size_t tail_len;
  uint32_t crc;
  uint64_t total;
  bool header_written;
};

static int pgzip__deflate_init(z_stream *z, int level) {
  memset(z, 0, sizeof(*z));
  /* Raw deflate: the gzip header and trailer are ours. */
  return deflateInit2(z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
}

static void pgzip__compress(z_stream *z, struct pgzip__slot *s) {
  s->zerr = deflateReset(z);
  if (s->zerr == Z_OK && s->dict_len)
    s->zerr = deflateSetDictionary(z, s->dict, (uInt)s->dict_len);
  if (s->zerr != Z_OK)
    return;
  z->next_in = s->in;
  z->avail_in = (uInt)s->in_len;
  z->next_out = s->out;
  z->avail_out = (uInt)s->out_cap;
  int r = deflate(z, s->last ? Z_FINISH : Z_SYNC_FLUSH);
  bool ok = s->last ? r == Z_STREAM_END : r == Z_OK;
  s->zerr = ok && z->avail_in == 0 ? 0 : (r < 0 ? r : Z_BUF_ERROR);
  s->out_len = s->out_cap - z->avail_out;
}

static void pgzip__worker(void *arg) {
  struct pgzip *pz = arg;
  z_stream z;
  int init = pgzip__deflate_init(&z, pz->level);
  uv_mutex_lock(&pz->mu);
  for (;;) {
    struct pgzip__slot *s = NULL;
    for (uint64_t q = pz->next_write; q < pz->next_submit && !s; q++)
      if (pz->slots[q % pz->nslots].state == PGZIP_QUEUED)
        s = &pz->slots[q % pz->nslots];
    if (s) {
      s->state = PGZIP_BUSY;
      uv_mutex_unlock(&pz->mu);
      if (init == Z_OK)
        pgzip__compress(&z, s);
      else
        s->zerr = init;
      uv_mutex_lock(&pz->mu);
      s->state = PGZIP_DONE;
      uv_cond_broadcast(&pz->done);
      continue;
    }
    if (pz->stop)
      break;
    uv_cond_wait(&pz->work, &pz->mu);
  }
  uv_mutex_unlock(&pz->mu);
  if (init == Z_OK)
    deflateEnd(&z);
}

unsigned pgzip_default_workers(void) {
  unsigned n = uv_available_parallelism();
  if (n <= 1)
    return 0;
  return n > PGZIP_MAX_WORKERS ? PGZIP_MAX_WORKERS : n;
}

int pgzip_new(int level, unsigned workers, pgzip_out_fn out, void *ctx,
              struct pgzip **pzp, struct err *err) {
  *pzp = NULL;
  struct pgzip *pz = xcalloc(1, sizeof(*pz));
  pz->level = level;
  pz->out = out;
  pz->ctx = ctx;
  pz->crc = (uint32_t)crc32(0L, Z_NULL, 0);
  if (workers > PGZIP_MAX_WORKERS)
    workers = PGZIP_MAX_WORKERS;
  /* Two slots per worker keep them busy while the caller fills one. */
  pz->nslots = workers ? 2 * (size_t)workers + 1 : 1;
  pz->slots = xcalloc(pz->nslots, sizeof(*pz->slots));
  z_stream probe;
  bool sync_ok = false;
  if (pgzip__deflate_init(&probe, level) == Z_OK) {
    size_t cap = deflateBound(&probe, PGZIP_BLOCK) + 64;
    deflateEnd(&probe);
    for (size_t i = 0; i < pz->nslots; i++) {
      pz->slots[i].in = xmalloc(PGZIP_BLOCK);
      pz->slots[i].out = xmalloc(cap);
      pz->slots[i].out_cap = cap;
    }
    if (uv_mutex_init(&pz->mu) == 0) {
      if (uv_cond_init(&pz->work) == 0) {
        if (uv_cond_init(&pz->done) == 0)
          sync_ok = true;
        else
          uv_cond_destroy(&pz->work);
      }
      if (!sync_ok)
        uv_mutex_destroy(&pz->mu);
    }
  }
  if (!sync_ok) {
    for (size_t i = 0; i < pz->nslots; i++) {
      free(pz->slots[i].in);
      free(pz->slots[i].out);
    }
    free(pz->slots);
    free(pz);
    return err_set(err, ERR_INTERNAL, "gzip compressor set-up failed");
  }
  for (unsigned i = 0; i < workers; i++) {
    if (uv_thread_create(&pz->threads[pz->nthreads], pgzip__worker, pz) != 0)
      break; /* fewer workers: same bytes, only slower */
    pz->nthreads++;
  }
  if (pz->nthreads == 0) {
    if (pgzip__deflate_init(&pz->inline_z, level) != Z_OK) {
      pgzip_free(pz);
      return err_set(err, ERR_INTERNAL, "deflateInit2 failed");
    }
    pz->inline_ready = true;
  }
  *pzp = pz;
  return 0;
}

static int pgzip__emit(struct pgzip *pz, const void *data, size_t n,
                       struct err *err) {
  if (!pz->header_written) {
    /* mtime 0, XFL as zlib sets it for the level, OS 3 (Unix). */
    unsigned char h[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    h[8] = pz->level == 9 ? 2 : pz->level == 1 ? 4 : 0;
    pz->header_written = true;
    int rc = pz->out(pz->ctx, h, sizeof(h), err);
    if (rc < 0)
      return rc;
  }
  return pz->out(pz->ctx, data, n, err);
}

/* Writes finished blocks in order; with `until` set, waits until the
 * slot of block `until` is free (all blocks before it written). */
static int pgzip__drain(struct pgzip *pz, bool wait, uint64_t until,
                        struct err *err) {
  for (;;) {
    if (pz->next_write == pz->next_submit)
      return 0;
    if (wait && pz->next_write >= until)
      return 0;
    struct pgzip__slot *s = &pz->slots[pz->next_write % pz->nslots];
    uv_mutex_lock(&pz->mu);
    while (wait && s->state != PGZIP_DONE)
      uv_cond_wait(&pz->done, &pz->mu);
    bool done = s->state == PGZIP_DONE;
    uv_mutex_unlock(&pz->mu);
    if (!done)
      return 0;
    if (s->zerr)
      return err_set(err, ERR_INTERNAL, "deflate failed (%d)", s->zerr);
    int rc = pgzip__emit(pz, s->out, s->out_len, err);
    if (rc < 0)
      return rc;
    uv_mutex_lock(&pz->mu);
    s->state = PGZIP_FREE;
    s->in_len = 0;
    pz->next_write++;
    uv_mutex_unlock(&pz->mu);
  }
}

/* Queues the block being filled (the last one with `last`). */
static int pgzip__submit(struct pgzip *pz, bool last, struct err *err) {
  struct pgzip__slot *s = &pz->slots[pz->next_submit % pz->nslots];
  s->last = last;
  memcpy(s->dict, pz->tail, pz->tail_len);
  s->dict_len = pz->tail_len;
  if (s->in_len >= PGZIP_DICT) {
    memcpy(pz->tail, s->in + s->in_len - PGZIP_DICT, PGZIP_DICT);
    pz->tail_len = PGZIP_DICT;
  } else if (s->in_len) {
    size_t keep = PGZIP_DICT - s->in_len;
    if (keep > pz->tail_len)
      keep = pz->tail_len;
    memmove(pz->tail, pz->tail + pz->tail_len - keep, keep);
    memcpy(pz->tail + keep, s->in, s->in_len);
    pz->tail_len = keep + s->in_len;
  }
  uv_mutex_lock(&pz->mu);
  if (pz->inline_ready) {
    uv_mutex_unlock(&pz->mu);
    pgzip__compress(&pz->inline_z, s);
    uv_mutex_lock(&pz->mu);
    s->state = PGZIP_DONE;
  } else {
    s->state = PGZIP_QUEUED;
    uv_cond_signal(&pz->work);
  }
  pz->next_submit++;
  uv_mutex_unlock(&pz->mu);
  /* The slot to fill next must be free: its block written out. */
  uint64_t want =
      pz->next_submit + 1 > pz->nslots ? pz->next_submit + 1 - pz->nslots : 0;
  int rc = pgzip__drain(pz, false, 0, err);
  if (rc == 0)
    rc = pgzip__drain(pz, true, want, err);
  return rc;
}

int pgzip_write(struct pgzip *pz, const void *data, size_t n,
                struct err *err) {
  const unsigned char *p = data;
  if (n)
    pz->crc = (uint32_t)crc32(pz->crc, p, (uInt)n);
  pz->total += n;
  while (n) {
    struct pgzip__slot *s = &pz->slots[pz->next_submit % pz->nslots];
    size_t room = PGZIP_BLOCK - s->in_len;
    size_t take = n < room ? n : room;
    memcpy(s->in + s->in_len, p, take);
    s->in_len += take;
    p += take;
    n -= take;
    if (s->in_len == PGZIP_BLOCK) {
      int rc = pgzip__submit(pz, false, err);
      if (rc < 0)
        return rc;
    }
  }
  return 0;
}

int pgzip_finish(struct pgzip *pz, struct err *err) {
  int rc = pgzip__submit(pz, true, err);
  if (rc == 0)
    rc = pgzip__drain(pz, true, pz->next_submit, err);
  if (rc < 0)
    return rc;
  unsigned char t[8];
  for (int i = 0; i < 4; i++) {
    t[i] = (unsigned char)(pz->crc >> (8 * i));
    t[4 + i] = (unsigned char)((pz->total & 0xffffffffu) >> (8 * i));
  }
  /* The last block always has output (at least deflate's final empty
   * block), so the header is out already. */
  return pz->out(pz->ctx, t, sizeof(t), err);
}

void pgzip_free(struct pgzip *pz) {
  if (pz == NULL)
    return;
  uv_mutex_lock(&pz->mu);
  pz->stop = true;
  uv_cond_broadcast(&pz->work);
  uv_mutex_unlock(&pz->mu);
  for (unsigned i = 0; i < pz->nthreads; i++)
    uv_thread_join(&pz->threads[i]);
  if (pz->inline_ready)
    deflateEnd(&pz->inline_z);
  uv_cond_destroy(&pz->done);
  uv_cond_destroy(&pz->work);
  uv_mutex_destroy(&pz->mu);
  for (size_t i = 0; i < pz->nslots; i++) {
    free(pz->slots[i].in);
    free(pz->slots[i].out);
  }
  free(pz->slots);
  free(pz);
}
