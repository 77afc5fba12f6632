/*
 * cmd_serve.c - `dockwright serve --stdio` (also `dockwright --stdio`): the
 * language server on standard input and output.  Logs go to standard
 * error; --log-level (or DOCKWRIGHT_LOG) picks how much.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../common/log.h"
#include "../server/server.h"
#include "cli.h"

static void serve_usage(FILE *out) {
  fprintf(out,
          "Usage: dockwright serve --stdio [--log-level LEVEL]\n"
          "       dockwright --stdio [--log-level LEVEL]\n\n"
          "Runs the Dockerfile language server (LSP 3.17) on standard input "
          "and\noutput.  Logs go to standard error; LEVEL is error, warn "
          "(default),\ninfo or debug (also DOCKWRIGHT_LOG).  Settings: see "
          "README.md,\n\"Language server settings\".\n");
}

int cmd_serve_main(int argc, char **argv) {
  log_init_from_env();
  /* argv[0] is "serve" or "--stdio"; --stdio is the only transport, so it
   * is accepted (editors always pass it) rather than required. */
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--stdio") == 0)
      continue;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      serve_usage(stdout);
      return 0;
    }
    const char *level = NULL;
    if (strncmp(a, "--log-level=", 12) == 0)
      level = a + 12;
    else if (strcmp(a, "--log-level") == 0 && i + 1 < argc)
      level = argv[++i];
    if (level != NULL) {
      static const char *const names[] = {"error", "warn", "info", "debug"};
      int found = -1;
      for (int k = 0; k < 4; k++)
        if (strcmp(level, names[k]) == 0)
          found = k;
      if (found < 0) {
        cli_error("unknown log level '%s'", level);
        return 2;
      }
      log_set_level((enum log_level)found);
      continue;
    }
    /* Some clients add their own flags (--clientProcessId=N); the
     * process id also arrives in initialize, so these are ignored. */
    if (strncmp(a, "--clientProcessId", 17) == 0)
      continue;
    cli_error("serve: unknown option '%s'", a);
    serve_usage(stderr);
    return 2;
  }
  int code;
  struct err err;
  err_clear(&err);
  if (server_run(STDIN_FILENO, STDOUT_FILENO, &code, &err) < 0) {
    cli_error("%s", err.msg);
    return 2;
  }
  return code;
}
