/*
 * err.h - error codes and the error value every fallible call fills.
 *
 * DESIGN: fallible functions return 0 on success or a negative code from
 * ERR_MAP, and take a `struct err *` as their last parameter.  The function
 * that finds the problem writes the message, with the offending value and,
 * when there is one, its position.  Callers pass the struct up unchanged.
 * Messages never contain credentials.
 */
#ifndef DW_ERR_H
#define DW_ERR_H

#include <stddef.h>

#if defined(__GNUC__)
#define DW_WARN_UNUSED __attribute__((warn_unused_result))
#define DW_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define DW_WARN_UNUSED
#define DW_PRINTF(a, b)
#endif

/* One table: code name, value, default text. */
#define ERR_MAP(X)                                                            \
  X(OK, 0, "success")                                                         \
  X(NOMEM, -1, "out of memory")                                               \
  X(IO, -2, "input/output error")                                             \
  X(SYNTAX, -3, "syntax error")                                               \
  X(INVALID, -4, "invalid argument")                                          \
  X(TOOBIG, -5, "input exceeds a limit")                                      \
  X(NOTFOUND, -6, "not found")                                                \
  X(UNSUPPORTED, -7, "not supported")                                         \
  X(CANCELLED, -8, "cancelled")                                               \
  X(EXISTS, -9, "already exists")                                             \
  X(PERM, -10, "permission denied")                                           \
  X(NETWORK, -11, "network error")                                            \
  X(AUTH, -12, "authentication failed")                                       \
  X(DIGEST, -13, "digest mismatch")                                           \
  X(INTERNAL, -14, "internal error")

enum err_code {
#define ERR_ENUM(name, val, text) ERR_##name = val,
  ERR_MAP(ERR_ENUM)
#undef ERR_ENUM
};

#define ERR_MSG_MAX 512

struct err {
  int code;      /* 0 or an enum err_code */
  unsigned line; /* 1-based line of the problem, 0 when none */
  unsigned col;  /* 1-based column, 0 when none */
  char msg[ERR_MSG_MAX];
};

/* Resets *e to "no error". Accepts NULL. */
void err_clear(struct err *e);

/* Records code and a formatted message; returns code so callers can write
 * `return err_set(e, ERR_INVALID, "bad port %s", p);`.  Accepts e == NULL. */
int err_set(struct err *e, int code, const char *fmt, ...) DW_PRINTF(3, 4);

/* Like err_set, with a 1-based position. */
int err_set_at(struct err *e, int code, unsigned line, unsigned col,
               const char *fmt, ...) DW_PRINTF(5, 6);

/* The fixed text of a code ("syntax error"); never NULL. */
const char *err_code_text(int code);

/* The fixed name of a code ("SYNTAX"); never NULL. */
const char *err_code_name(int code);

#endif
