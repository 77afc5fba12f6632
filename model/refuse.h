/*
 * refuse.h - what the builder refuses in a Dockerfile's values before it
 * touches a registry or the build context, in BuildKit's words: image
 * instructions/parse.go's checks of each instruction (unknown keywords,
 * FROM's arguments and stage names, argument counts, SHELL's form, ONBUILD
 * triggers, heredoc destinations, HEALTHCHECK's type), the `check`
 * directive's options, and values: image references (FROM, COPY --from
 * naming no stage), --platform, --chmod,
 * RUN --mount, --network and --security, HEALTHCHECK durations and
 * retries, EXPOSE ports, STOPSIGNAL.
 *
 * One rulebook for two readers: the builder calls the value checks on the
 * expanded values while it dispatches, the analysis calls refuse_instr on
 * the values as written (a value holding a variable is known only at build
 * time and is left alone).  tests/unit/test_refuse.c feeds one corpus to
 * both and compares the words.  Pure: no IO.
 */
#ifndef DW_REFUSE_H
#define DW_REFUSE_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/buf.h"
#include "dockerfile.h"

/* Which kind of value was refused (the analysis maps each to a rule). */
enum refuse_kind {
  /* instructions/parse.go: the instruction as a whole */
  REFUSE_UNKNOWN_INSTR,    /* "unknown instruction: FOO" */
  REFUSE_FROM_ARGS,        /* FROM's argument count */
  REFUSE_STAGE_NAME,       /* FROM ... AS <name> */
  REFUSE_MISSING_ARGS,     /* too few arguments, blank names, empty VOLUME */
  REFUSE_EXTRA_ARGS,       /* HEALTHCHECK NONE x */
  REFUSE_SHELL_JSON,       /* SHELL not in JSON form */
  REFUSE_ONBUILD_TRIGGER,  /* ONBUILD ONBUILD/FROM/MAINTAINER */
  REFUSE_HEREDOC_DEST,     /* COPY a <<EOF */
  REFUSE_HEALTHCHECK_TYPE, /* HEALTHCHECK RUN x */
  REFUSE_HEALTHCHECK_CMD,  /* HEALTHCHECK CMD with no command */
  REFUSE_DIRECTIVE,        /* # check= options */
  REFUSE_COPY_FROM,        /* COPY --from: a later stage, a bad index */
  /* values */
  REFUSE_REFERENCE, /* an image reference */
  REFUSE_PLATFORM,  /* a --platform value */
  REFUSE_FLAG,      /* another flag's value */
  REFUSE_PORT,      /* an EXPOSE word */
  REFUSE_SIGNAL,    /* STOPSIGNAL's argument */
};

/* Each value check returns true when the builder refuses `s` and appends
 * the message to *msg; false (msg untouched) when it accepts it. */
bool refuse_reference(const char *s, struct buf *msg);
bool refuse_platform(const char *s, struct buf *msg);
/* A one-word --platform value as containerd's platforms.Parse takes it:
 * 'o' for an operating system (the host's architecture then), 'a' for an
 * architecture (linux then; x86_64, aarch64, armhf... included), 0 for
 * neither (refused). */
int refuse_platform_word(const char *s);
bool refuse_chmod(const char *s, struct buf *msg);
/* HEALTHCHECK --<flag>=s: Go's time.ParseDuration, then at least 1ms
 * unless 0.  *ns gets the value when accepted (may be NULL). */
bool refuse_duration(const char *flag, const char *s, int64_t *ns,
                     struct buf *msg);
/* HEALTHCHECK --retries: strconv.ParseInt(s, 10, 32), not negative. */
bool refuse_retries(const char *s, int64_t *n, struct buf *msg);
/* One EXPOSE word, as nat.ParsePortSpecs reads it ([ip:][host:]port[/proto];
 * the mapping forms are accepted, only warned about by the analysis). */
bool refuse_port(const char *s, struct buf *msg);
/* STOPSIGNAL: signal.ParseSignal (a name with or without SIG, RTMIN+n,
 * RTMAX-n, or a positive number). */
bool refuse_signal(const char *s, struct buf *msg);

/* COPY --from=from in stage `stage` of df: the index of the earlier
 * stage it names (by name, case-insensitively, or by index), REFUSE_IMAGE
 * when it names no stage (an image, then), or REFUSE_REFUSED with BuildKit's
 * words in *msg: a later (or the same) stage, an index past the last
 * stage, an image reference distribution/reference refuses. */
enum { REFUSE_REFUSED = -1, REFUSE_IMAGE = -2 };
int refuse_copy_from(const struct dockerfile *df, size_t stage,
                     const char *from, struct buf *msg);

/* RUN --network: default, none or host. */
bool refuse_network(const char *s, struct buf *msg);
/* RUN --security: sandbox or insecure (BuildKit's; this builder runs only
 * sandbox, and says so when it comes to it: a limit, not a refusal). */
bool refuse_security(const char *s, struct buf *msg);
/* RUN --mount, as BuildKit's parseMount and validateMount read it: keys,
 * types, booleans, sizes, sharing, mode/uid/gid, and which keys each type
 * takes.  `literal`: s is as written, so a value holding '$' is checked
 * only for what BuildKit refuses before expansion (from=$X). */
bool refuse_mount(const char *s, bool literal, struct buf *msg);

/* One refusal: `in` is the instruction (NULL for a directive), `at` where
 * to point, `msg` BuildKit's words (borrowed for the call). */
typedef void (*refuse_cb)(void *ctx, const struct df_instr *in,
                          enum refuse_kind kind, struct df_range at,
                          const char *msg);

/* Every refusal of instruction i of df, from the text alone, in order:
 * values holding '$' (or quotes, for words the builder expands) are
 * skipped; an instruction the model marked invalid is the model's
 * problem.  An ONBUILD's trigger is refused only for its keyword (BuildKit
 * keeps the rest as text until an image is built FROM this one). */
void refuse_each(const struct dockerfile *df, size_t i, refuse_cb cb,
                 void *ctx);
/* The same for an instruction read on its own (an ONBUILD trigger, whose
 * stage index is `stage`). */
void refuse_each_instr(const struct dockerfile *df, const struct df_instr *in,
                       size_t stage, refuse_cb cb, void *ctx);
/* What the `check` directive's options refuse. */
void refuse_directives(const struct dockerfile *df, refuse_cb cb, void *ctx);

/* The first refusal of instruction i, or of the whole file (directives,
 * then instructions: what the builder refuses before it starts).  True
 * and *msg, *kind, *at filled; false when nothing is refused. */
bool refuse_instr(const struct dockerfile *df, size_t i, struct buf *msg,
                  enum refuse_kind *kind, struct df_range *at);
bool refuse_first(const struct dockerfile *df, struct buf *msg,
                  enum refuse_kind *kind, struct df_range *at);

#endif
