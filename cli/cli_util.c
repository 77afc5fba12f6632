/*
 * cli_util.c - helpers every subcommand uses.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../builder/plugin.h"
#include "../common/buf.h"
#include "../common/ceilings.h"
#include "cli.h"

extern char **environ;

const struct builder_plugin *cli_builder(void) {
  struct err e;
  err_clear(&e);
  const struct builder_plugin *p = builder_plugin_load(&e);
  if (p == NULL)
    cli_error("%s", e.msg);
  return p;
}

const char *const *cli_environ(size_t *n) {
  size_t k = 0;
  while (environ && environ[k])
    k++;
  *n = k;
  return (const char *const *)environ;
}

void cli_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("dockwright: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

int cli_read_file(const char *path, char **data, size_t *len,
                  struct err *err) {
  *data = NULL;
  *len = 0;
  struct buf b = BUF_INIT;
  int rc =
      strcmp(path, "-") == 0
          ? buf_read_fd(STDIN_FILENO, path, DW_MAX_DOCKERFILE_BYTES, &b, err)
          : buf_read_file(path, DW_MAX_DOCKERFILE_BYTES, &b, err);
  if (rc < 0) {
    buf_cleanup(&b);
    return rc;
  }
  *len = b.len;
  *data = buf_take(&b);
  return 0;
}
