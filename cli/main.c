/*
 * main.c - entry point: dispatches `dockwright <command>` to cmd_*.c.
 * The only file that decides the process exit status.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/limits.h"
#include "cli.h"
#include "dw_config.h"

struct cli_command {
  const char *name;
  int (*main)(int argc, char **argv);
  const char *summary;
};

static const struct cli_command cli_commands[] = {
#define CLI_ENTRY(name, summary) {#name, cmd_##name##_main, summary},
    CLI_COMMAND_MAP(CLI_ENTRY)
#undef CLI_ENTRY
};

static void cli_usage(FILE *out) {
  fprintf(out, "Usage: dockwright <command> [options]\n"
               "       dockwright --stdio      (language server)\n"
               "       dockwright --version\n\n"
               "Dockerfile tooling: a language server, a linter and an image "
               "builder.\n\nCommands:\n");
  for (size_t i = 0; i < sizeof(cli_commands) / sizeof(cli_commands[0]); i++)
    fprintf(out, "  %-10s %s\n", cli_commands[i].name,
            cli_commands[i].summary);
  fprintf(out, "\nRun 'dockwright <command> --help' for a command's "
               "options.\n");
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
  bool is_stdin = strcmp(path, "-") == 0;
  FILE *f = is_stdin ? stdin : fopen(path, "rb");
  if (f == NULL)
    return err_set(err, ERR_IO, "%s: %s", path, strerror(errno));
  struct buf b = BUF_INIT;
  char chunk[65536];
  size_t n;
  int rc = 0;
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
    if (b.len + n > DW_MAX_DOCKERFILE_BYTES) {
      rc = err_set(err, ERR_TOOBIG, "%s: larger than %u bytes", path,
                   DW_MAX_DOCKERFILE_BYTES);
      break;
    }
    buf_append(&b, chunk, n);
  }
  if (rc == 0 && ferror(f))
    rc = err_set(err, ERR_IO, "%s: %s", path, strerror(errno));
  if (!is_stdin)
    fclose(f);
  if (rc < 0) {
    buf_cleanup(&b);
    return rc;
  }
  *len = b.len;
  *data = buf_take(&b);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    cli_usage(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
    printf("dockwright %s\n", DW_VERSION);
    return 0;
  }
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
      strcmp(cmd, "help") == 0) {
    cli_usage(stdout);
    return 0;
  }
  /* Editors start language servers as `dockwright --stdio`. */
  if (strcmp(cmd, "--stdio") == 0)
    return cmd_serve_main(argc - 1, argv + 1);
  for (size_t i = 0; i < sizeof(cli_commands) / sizeof(cli_commands[0]); i++)
    if (strcmp(cmd, cli_commands[i].name) == 0)
      return cli_commands[i].main(argc - 1, argv + 1);
  cli_error("unknown command '%s'", cmd);
  cli_usage(stderr);
  return 2;
}
