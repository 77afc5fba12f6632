/*
 * args.h - BuildKit's per-instruction argument readers (its
 * line_parsers.go and split_command.go), working on the logical line and
 * reporting where each value came from as offsets into that line.
 * Internal to model/.
 */
#ifndef DW_ARGS_H
#define DW_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/buf.h"
#include "dockerfile.h"

/* A value with its [start, end) offsets in the logical line. */
struct args_item {
  char *value; /* owned; may hold NUL bytes, see len */
  size_t len;
  size_t start;
  size_t end;
};

struct args_list {
  struct args_item *v; /* owned */
  size_t n;
  size_t cap;
};

void args_list_push(struct args_list *l, char *value_take, size_t start,
                    size_t end);
void args_list_push_len(struct args_list *l, char *value_take, size_t len,
                        size_t start, size_t end);
void args_list_cleanup(struct args_list *l);

/* What splitting a logical line gives: the command word, the flags and
 * where the arguments are (all offsets into the line). */
struct args_command {
  size_t cmd_start, cmd_end;
  struct args_list flags; /* processed flag texts, e.g. "--from=a b" */
  size_t rest_start, rest_end; /* the arguments, trimmed */
};

/* BuildKit's splitCommand + extractBuilderFlags on line[0..len). */
void args_split_command(const char *line, size_t len,
                        struct args_command *out);

/* The result of one line parser.  On a BuildKit error `error` is set (an
 * owned message) and `error_start`/`error_end` say where. */
struct args_result {
  enum df_form form;
  bool json; /* the command part is exec form (also for HEALTHCHECK) */
  struct args_list values;
  char *error;
  size_t error_start, error_end;
};

void args_result_cleanup(struct args_result *r);

/*
 * Reads the arguments line[start..end) of an instruction of `kind` (not
 * ONBUILD, which the caller handles by recursion).  `escape` is the
 * file's escape character.
 */
void args_parse(enum df_kind kind, const char *line, size_t start, size_t end,
                char escape, struct args_result *out);

#endif
