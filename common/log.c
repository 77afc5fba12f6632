/*
 * log.c - "dockwright: LEVEL: message" lines on standard error.
 *
 * The level is process-wide state: it is set once at start-up (from the
 * command line or DOCKWRIGHT_LOG) and only read afterwards, so it is the
 * one static variable worth having instead of threading a logger through
 * every call.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static enum log_level log__level = LOG_WARN;

static const char *const log__names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level level) {
  log__level = level;
}

enum log_level log_get_level(void) {
  return log__level;
}

void log_init_from_env(void) {
  const char *v = getenv("DOCKWRIGHT_LOG");
  if (v == NULL)
    return;
  for (int i = 0; i <= LOG_DEBUG; i++)
    if (strcmp(v, log__names[i]) == 0)
      log__level = (enum log_level)i;
}

void log_msg(enum log_level level, const char *fmt, ...) {
  if (level > log__level)
    return;
  /* Format into one buffer so the line reaches stderr in one write. */
  struct buf b = BUF_INIT;
  buf_printf(&b, "dockwright: %s: ", log__names[level]);
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&b, fmt, ap);
  va_end(ap);
  buf_putc(&b, '\n');
  fwrite(b.data, 1, b.len, stderr);
  fflush(stderr);
  buf_cleanup(&b);
}
