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
#include "cli.h"
#include "dw_config.h"

struct cli_command {
  const char *name;
  int (*main)(int argc, char **argv);
  const char *summary;
};

static const struct cli_command cli_commands[] = {
#define CLI_ENTRY(name, summary) {#name, cmd_##name##_main, summary},
    CLI_COMMAND_MAP(CLI_ENTRY) CLI_BUILDER_COMMAND_MAP(CLI_ENTRY)
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
