#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void err_clear(struct err *e) {
  if (e == NULL)
    return;
  e->code = 0;
  e->line = 0;
  e->col = 0;
  e->msg[0] = '\0';
}

static int err__vset(struct err *e, int code, unsigned line, unsigned col,
                     const char *fmt, va_list ap) {
  if (e == NULL)
    return code;
  e->code = code;
  e->line = line;
  e->col = col;
  vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
  return code;
}

int err_set(struct err *e, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  err__vset(e, code, 0, 0, fmt, ap);
  va_end(ap);
  return code;
}

int err_set_at(struct err *e, int code, unsigned line, unsigned col,
               const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  err__vset(e, code, line, col, fmt, ap);
  va_end(ap);
  return code;
}

const char *err_code_text(int code) {
  switch (code) {
#define ERR_TEXT(name, val, text)                                             \
  case val:                                                                   \
    return text;
    ERR_MAP(ERR_TEXT)
#undef ERR_TEXT
  }
  return "unknown error";
}

const char *err_code_name(int code) {
  switch (code) {
#define ERR_NAME(name, val, text)                                             \
  case val:                                                                   \
    return #name;
    ERR_MAP(ERR_NAME)
#undef ERR_NAME
  }
  return "UNKNOWN";
}
