/*
 * progress.c - progress bars and throttled progress lines (progress.h).
 */
#include "progress.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/buf.h"

struct progress__blob {
  char what[96];
  uint64_t done, total;
  uint64_t last_plain; /* ms of the last plain line */
  bool finished;
};

struct progress {
  enum progress_mode mode;
  FILE *out;
  struct progress__blob *blobs;
  size_t n;
  unsigned drawn;     /* bar lines on screen (tty) */
  uint64_t last_draw; /* ms */
  uint64_t start;     /* ms of the first event */
  uint64_t base_done; /* bytes of blobs finished and dropped */
  uint64_t base_total;
};

static uint64_t progress__now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int progress_mode_parse(const char *s, enum progress_mode *out) {
  static const char *const names[] = {"auto", "tty", "plain", "quiet"};
  for (int i = 0; i < 4; i++)
    if (strcmp(s, names[i]) == 0) {
      *out = (enum progress_mode)i;
      return 0;
    }
  return -1;
}

struct progress *progress_new(enum progress_mode mode, FILE *out) {
  struct progress *p = xcalloc(1, sizeof(*p));
  if (mode == PROGRESS_AUTO) {
    const char *term = getenv("TERM");
    bool tty = isatty(fileno(out)) && !(term && strcmp(term, "dumb") == 0);
    mode = tty ? PROGRESS_TTY : PROGRESS_PLAIN;
  }
  p->mode = mode;
  p->out = out;
  return p;
}

bool progress_visible(const struct progress *self) {
  return self->mode != PROGRESS_QUIET;
}

static void progress__size(char *out, size_t n, uint64_t b) {
  if (b >= 1024u * 1024u * 1024u)
    snprintf(out, n, "%.2f GiB", (double)b / (1024.0 * 1024.0 * 1024.0));
  else if (b >= 1024u * 1024u)
    snprintf(out, n, "%.1f MiB", (double)b / (1024.0 * 1024.0));
  else if (b >= 1024u)
    snprintf(out, n, "%.1f KiB", (double)b / 1024.0);
  else
    snprintf(out, n, "%llu B", (unsigned long long)b);
}

/* Moves up over the bars and clears them. */
static void progress__clear(struct progress *self) {
  if (self->drawn == 0)
    return;
  fprintf(self->out, "\033[%uA\033[J", self->drawn);
  self->drawn = 0;
}

static void progress__draw(struct progress *self) {
  uint64_t done = 0, total = 0;
  unsigned lines = 0;
  struct buf b = BUF_INIT;
  for (size_t i = 0; i < self->n; i++) {
    struct progress__blob *x = &self->blobs[i];
    done += x->done;
    total += x->total;
    if (x->finished || lines >= PROGRESS_MAX_LINES)
      continue;
    int width = 30;
    int fill = x->total ? (int)(x->done * (uint64_t)width / x->total) : 0;
    char d[32], t[32];
    progress__size(d, sizeof(d), x->done);
    progress__size(t, sizeof(t), x->total);
    buf_printf(&b, "%.4s %.19s [", x->what, x->what + 5);
    for (int k = 0; k < width; k++)
      buf_putc(&b, k < fill ? '=' : (k == fill ? '>' : ' '));
    buf_printf(&b, "] %9s / %-9s\n", d, t);
    lines++;
  }
  uint64_t ms = progress__now() - self->start;
  double rate = ms > 0 ? (double)done * 1000.0 / (double)ms : 0.0;
  char d[32], t[32], r[32];
  progress__size(d, sizeof(d), done);
  progress__size(t, sizeof(t), total);
  progress__size(r, sizeof(r), (uint64_t)rate);
  buf_printf(&b, "total %s / %s, %s/s", d, t, r);
  if (rate > 0 && total > done)
    buf_printf(&b, ", ETA %.0f s", (double)(total - done) / rate);
  buf_putc(&b, '\n');
  lines++;
  progress__clear(self);
  fputs(b.data, self->out);
  fflush(self->out);
  self->drawn = lines;
  buf_cleanup(&b);
}

void progress_update(struct progress *self, const char *what, uint64_t done,
                     uint64_t total) {
  if (self->mode == PROGRESS_QUIET)
    return;
  uint64_t now = progress__now();
  if (self->start == 0)
    self->start = now;
  struct progress__blob *x = NULL;
  for (size_t i = 0; i < self->n && x == NULL; i++)
    if (strcmp(self->blobs[i].what, what) == 0)
      x = &self->blobs[i];
  if (x == NULL) {
    self->blobs = xrealloc(self->blobs, (self->n + 1) * sizeof(*x));
    x = &self->blobs[self->n++];
    memset(x, 0, sizeof(*x));
    snprintf(x->what, sizeof(x->what), "%s", what);
  }
  x->done = done;
  x->total = total;
  bool finished = total > 0 && done >= total;
  bool newly = finished && !x->finished;
  x->finished = finished;
  if (self->mode == PROGRESS_PLAIN) {
    if (newly || now - x->last_plain >= PROGRESS_PLAIN_MS) {
      char d[32], t[32];
      progress__size(d, sizeof(d), done);
      progress__size(t, sizeof(t), total);
      fprintf(self->out, "  %.4s %.19s %3d%% (%s / %s)\n", what, what + 5,
              total ? (int)(done * 100 / total) : 0, d, t);
      fflush(self->out);
      x->last_plain = now;
    }
    return;
  }
  if (newly || now - self->last_draw >= PROGRESS_REDRAW_MS) {
    progress__draw(self);
    self->last_draw = now;
  }
}

void progress_print(struct progress *self, const char *fmt, ...) {
  if (self->mode == PROGRESS_QUIET)
    return;
  struct buf b = BUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&b, fmt, ap);
  va_end(ap);
  bool bars = self->drawn > 0;
  progress__clear(self);
  fprintf(self->out, "%s\n", b.data);
  buf_cleanup(&b);
  if (bars)
    progress__draw(self);
  else
    fflush(self->out);
}

void progress_free(struct progress *self) {
  if (self == NULL)
    return;
  if (self->mode == PROGRESS_TTY && self->n > 0) {
    progress__draw(self); /* the final totals stay */
  }
  free(self->blobs);
  free(self);
}
