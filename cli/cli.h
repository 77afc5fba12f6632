/*
 * cli.h - the `dockwright` command line: one entry per subcommand.
 * Each subcommand lives in cmd_<name>.c and returns the process exit code;
 * only main.c exits.
 */
#ifndef DW_CLI_H
#define DW_CLI_H

#include <stddef.h>

#include "../common/err.h"

/* One table for every subcommand: name, one-line summary.  The builder's
 * commands reach the builder through its plugin (builder/plugin.h), which
 * they load only when they run. */
#define CLI_COMMAND_MAP(X)                                                    \
  X(parse, "Parse a Dockerfile and print its tree, BuildKit AST or model")    \
  X(lint, "Check Dockerfiles and report diagnostics (text, JSON, SARIF)")     \
  X(fmt, "Format Dockerfiles in place, or --check / --diff them")             \
  X(serve, "Run the language server on stdin/stdout (same as --stdio)")

#define CLI_BUILDER_COMMAND_MAP(X)                                            \
  X(build, "Build an image from a Dockerfile (no daemon)")                    \
  X(pull, "Pull images from a registry into the image store")                 \
  X(push, "Push an image from the store to a registry")                       \
  X(images, "List the images in the store")                                   \
  X(rmi, "Remove images from the store")                                      \
  X(prune, "Remove unreferenced blobs from the store")                        \
  X(login, "Log in to a registry (credentials checked, then stored)")         \
  X(logout, "Remove a registry's stored credentials")

#define CLI_DECLARE(name, summary)                                            \
  int cmd_##name##_main(int argc, char **argv);
CLI_COMMAND_MAP(CLI_DECLARE)
CLI_BUILDER_COMMAND_MAP(CLI_DECLARE)
#undef CLI_DECLARE

/* Reads a whole file ("-" is standard input) into a new buffer the caller
 * frees.  Fails on files larger than DW_MAX_DOCKERFILE_BYTES. */
int cli_read_file(const char *path, char **data, size_t *len,
                  struct err *err) DW_WARN_UNUSED;

/* Prints "dockwright: MESSAGE" to standard error. */
void cli_error(const char *fmt, ...) DW_PRINTF(1, 2);

struct builder_plugin;
/* Loads the builder plugin; NULL (the reason printed) when it cannot. */
const struct builder_plugin *cli_builder(void);

/* This process's environment as "K=V" strings, for a build request (the
 * builder reads no environment of its own). */
const char *const *cli_environ(size_t *n);

#endif
