/*
 * dispatch_read.c - the Dockerfile read, and what BuildKit refuses in it
 * refused before anything runs: the model's first error (its parser),
 * every flag (model/flags.h) and what its instructions package and the
 * steps would refuse from the text alone (model/refuse.h), so a bad line
 * 30 fails the build before line 2 pulls an image, in the words `dockwright
 * lint` used for it.
 */
#include <string.h>

#include "../common/buf.h"
#include "../common/ceilings.h"
#include "../model/dockerfile.h"
#include "../model/flags.h"
#include "../model/refuse.h"
#include "dispatch_int.h"

/* Refuses, before anything runs, what BuildKit's instructions package
 * refuses (argument counts, stage names, SHELL's form, ONBUILD triggers,
 * HEALTHCHECK's type, the check directive) and the values written without
 * variables that a step would refuse when it came to them (image
 * references, --platform, --chmod, --mount, durations, ports, signals):
 * model/refuse.h, the analysis's rulebook too, so a bad line 30 fails the
 * build before line 2 pulls an image, in the words `lint` used. */
static int d_check_values(struct dctx *d, const char *path, struct err *err) {
  struct buf m = BUF_INIT;
  enum refuse_kind kind;
  struct df_range r;
  if (!refuse_first(d->df, &m, &kind, &r))
    return 0;
  int rc = err_set_at(err, ERR_SYNTAX, r.start.row + 1, r.start.col + 1,
                      "%s:%u: %s", path, r.start.row + 1, m.data);
  buf_cleanup(&m);
  return rc;
}

/* Refuses, before anything runs, the flags BuildKit's parser refuses
 * (instructions.Parse parses every stage's instructions first), with its
 * words: the table is the analysis's too (model/flags.h), so what `lint`
 * reports as an error is what the build refuses. */
static int d_check_flags(struct dctx *d, const char *path, struct err *err) {
  for (size_t i = 0; i < d->df->ninstrs; i++) {
    const struct df_instr *in = &d->df->instrs[i];
    struct buf m = BUF_INIT;
    size_t at = 0;
    if (df_flags_problem(in, &m, &at)) {
      const struct df_range *r = &in->flags[at].range;
      int rc = err_set_at(err, ERR_SYNTAX, r->start.row + 1, r->start.col + 1,
                          "%s:%u: %s", path, r->start.row + 1, m.data);
      buf_cleanup(&m);
      return rc;
    }
  }
  return 0;
}

/* Reads the Dockerfile (the request's text, or the file) into d->df and
 * refuses, before anything runs, what BuildKit's parser and instructions
 * package refuse (the model's first error, flags, d_check_values). */
int d_read_dockerfile(struct dctx *d, const char *path, struct err *err) {
  const struct build_request *req = d->req;
  struct buf b = BUF_INIT;
  int rc = 0;
  if (req->dockerfile_text)
    buf_append(&b, req->dockerfile_text, req->dockerfile_len);
  else
    rc = buf_read_file(path, DW_MAX_DOCKERFILE_BYTES, &b, err);
  if (rc < 0) {
    buf_cleanup(&b);
    return rc;
  }
  d->df = dockerfile_parse(b.data ? b.data : "", b.len, NULL);
  buf_cleanup(&b);
  d->escape = d->df->escape;
  const struct df_problem *p = dockerfile_first_error(d->df);
  if (p)
    return err_set_at(err, ERR_SYNTAX, p->range.start.row + 1,
                      p->range.start.col + 1, "%s:%u: %s", path,
                      p->range.start.row + 1, p->message);
  rc = d_check_flags(d, path, err);
  if (rc == 0)
    rc = d_check_values(d, path, err);
  return rc;
}
