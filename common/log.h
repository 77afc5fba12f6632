/*
 * log.h - the one place that writes diagnostics about the program itself to
 * standard error.  The language server's stdout carries the protocol, so
 * every message for humans goes here.
 *
 * Not thread-safe in the sense of ordering: each call is one fputs of a
 * whole line, which stdio keeps atomic enough for a log.
 */
#ifndef DW_LOG_H
#define DW_LOG_H

#include "err.h"

enum log_level {
  LOG_ERROR = 0,
  LOG_WARN = 1,
  LOG_INFO = 2,
  LOG_DEBUG = 3,
};

/* Messages above `level` are dropped.  The default is LOG_WARN, or the
 * value of DOCKWRIGHT_LOG (error, warn, info, debug) when set. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Reads DOCKWRIGHT_LOG; keeps the current level when unset or unknown. */
void log_init_from_env(void);

void log_msg(enum log_level level, const char *fmt, ...) DW_PRINTF(2, 3);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
