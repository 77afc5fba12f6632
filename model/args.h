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

#include "../common/arena.h"
#include "../common/buf.h"
#include "dockerfile.h"

/* A value with its [start, end) offsets in the logical line. */
struct args_item {
  char *value; /* in the arena the reader passed; may hold NUL bytes */
  size_t len;
  size_t start;
  size_t end;
};

/* A list of values.  The array is the list's own (malloc'd, so a reader
 * can reuse one list for every instruction); the strings are not: they
 * live in an arena. */
struct args_list {
  struct args_item *v; /* owned array; the strings are borrowed */
  size_t n;
  size_t cap;
};

/* value is borrowed (an arena string); push measures it with strlen. */
void args_list_push(struct args_list *l, char *value, size_t start,
                    size_t end);
void args_list_push_len(struct args_list *l, char *value, size_t len,
                        size_t start, size_t end);
/* Frees the array, not the strings. */
void args_list_cleanup(struct args_list *l);

/* What splitting a logical line gives: the command word, the flags and
 * where the arguments are (all offsets into the line). */
struct args_command {
  size_t cmd_start, cmd_end;
  struct args_list flags;      /* processed flag texts, e.g. "--from=a b" */
  size_t rest_start, rest_end; /* the arguments, trimmed */
};

/* BuildKit's splitCommand + extractBuilderFlags on line[0..len).  The
 * flag texts are allocated in `arena`.  *out must be zeroed or left by an
 * earlier call (its flag list is emptied and its array reused); the
 * caller frees it with args_list_cleanup(&out->flags). */
void args_split_command(const char *line, size_t len, struct arena *arena,
                        struct args_command *out);

/* The result of one line parser: values in the arena passed to
 * args_parse.  On a BuildKit error `error` is set (an owned, malloc'd
 * message) and `error_start`/`error_end` say where. */
struct args_result {
  enum df_form form;
  bool json; /* the command part is exec form (also for HEALTHCHECK) */
  struct args_list values;
  char *error;
  size_t error_start, error_end;
};

/* Frees the error and the value array (not the values). */
void args_result_cleanup(struct args_result *r);

/*
 * Reads the arguments line[start..end) of an instruction of `kind` (not
 * ONBUILD, which the caller handles by recursion).  `escape` is the
 * file's escape character; values are allocated in `arena`.  *out must
 * be zeroed or left by an earlier call whose error the caller took or
 * freed (out->error NULL): it is emptied and its value array reused.
 */
void args_parse(enum df_kind kind, const char *line, size_t start, size_t end,
                char escape, struct arena *arena, struct args_result *out);

#endif
