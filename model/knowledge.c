/*
 * knowledge.c - the tables of knowledge.h, expanded from their maps.
 */
#include "knowledge.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define KNOW_N(a) (sizeof(a) / sizeof((a)[0]))

static const struct know_instr know__instrs[] = {
#define KNOW_INSTR_ROW(kind, params, snippet, anchor, doc)                    \
  {DF_##kind, #kind, params, snippet, anchor, doc},
    KNOW_INSTR_MAP(KNOW_INSTR_ROW)
#undef KNOW_INSTR_ROW
};

static const struct know_flag know__flags[] = {
#define KNOW_FLAG_ROW(instr, name, kind, value, values, ph, anchor, doc)      \
  {DF_##instr, name, kind, value, values, ph, anchor, doc},
    KNOW_FLAG_MAP(KNOW_FLAG_ROW)
#undef KNOW_FLAG_ROW
};

static const struct know_mount_type know__mount_types[] = {
#define KNOW_MOUNT_TYPE_ROW(bit, name, anchor, doc) {bit, name, anchor, doc},
    KNOW_MOUNT_TYPE_MAP(KNOW_MOUNT_TYPE_ROW)
#undef KNOW_MOUNT_TYPE_ROW
};

static const struct know_mount_key know__mount_keys[] = {
#define KNOW_MOUNT_KEY_ROW(types, key, values, doc) {types, key, values, doc},
    KNOW_MOUNT_KEY_MAP(KNOW_MOUNT_KEY_ROW)
#undef KNOW_MOUNT_KEY_ROW
};

static const struct know_directive know__directives[] = {
#define KNOW_DIRECTIVE_ROW(name, values, anchor, doc)                         \
  {name, values, anchor, doc},
    KNOW_DIRECTIVE_MAP(KNOW_DIRECTIVE_ROW)
#undef KNOW_DIRECTIVE_ROW
};

static const struct know_arg know__auto_args[] = {
#define KNOW_AUTO_ARG_ROW(name, example, doc) {name, example, doc},
    KNOW_AUTO_ARG_MAP(KNOW_AUTO_ARG_ROW)
#undef KNOW_AUTO_ARG_ROW
};

static const char *const know__proxy_args[] = {
#define KNOW_PROXY_ROW(name) name,
    KNOW_PROXY_ARG_MAP(KNOW_PROXY_ROW)
#undef KNOW_PROXY_ROW
        NULL};

/* The names Go's syscall package knows on Linux, which BuildKit's
 * signal.ParseSignal accepts (with or without "SIG"). */
static const char *const know__signals[] = {
    "SIGTERM",  "SIGINT",   "SIGQUIT", "SIGKILL", "SIGHUP",  "SIGUSR1",
    "SIGUSR2",  "SIGWINCH", "SIGPWR",  "SIGSTOP", "SIGCONT", "SIGABRT",
    "SIGALRM",  "SIGCHLD",  "SIGTRAP", "SIGPIPE", "SIGIO",   "SIGPROF",
    "SIGSYS",   "SIGTSTP",  "SIGTTIN", "SIGTTOU", "SIGURG",  "SIGVTALRM",
    "SIGXCPU",  "SIGXFSZ",  "SIGBUS",  "SIGFPE",  "SIGILL",  "SIGSEGV",
    "SIGRTMIN", "SIGRTMAX", "SIGCLD",  "SIGIOT",  "SIGPOLL", "SIGSTKFLT",
    NULL};

static const char *const know__expose_protos[] = {"tcp", "udp", "sctp", NULL};

const struct know_instr *know_instrs(size_t *n) {
  *n = KNOW_N(know__instrs);
  return know__instrs;
}

const struct know_flag *know_flags(size_t *n) {
  *n = KNOW_N(know__flags);
  return know__flags;
}

const struct know_mount_type *know_mount_types(size_t *n) {
  *n = KNOW_N(know__mount_types);
  return know__mount_types;
}

const struct know_mount_key *know_mount_keys(size_t *n) {
  *n = KNOW_N(know__mount_keys);
  return know__mount_keys;
}

const struct know_directive *know_directives(size_t *n) {
  *n = KNOW_N(know__directives);
  return know__directives;
}

const struct know_arg *know_auto_args(size_t *n) {
  *n = KNOW_N(know__auto_args);
  return know__auto_args;
}

const char *const *know_proxy_args(void) {
  return know__proxy_args;
}
const char *const *know_signals(void) {
  return know__signals;
}
const char *const *know_expose_protos(void) {
  return know__expose_protos;
}

const struct know_instr *know_instr(enum df_kind kind) {
  for (size_t i = 0; i < KNOW_N(know__instrs); i++)
    if (know__instrs[i].kind == kind)
      return &know__instrs[i];
  return NULL;
}

bool know_instr_takes_flags(enum df_kind kind) {
  return kind != DF_UNKNOWN && kind != DF_KIND_COUNT && kind != DF_STOPSIGNAL;
}

const struct know_flag *know_flag(enum df_kind kind, const char *name) {
  for (size_t i = 0; i < KNOW_N(know__flags); i++)
    if (know__flags[i].instr == kind && strcmp(know__flags[i].name, name) == 0)
      return &know__flags[i];
  return NULL;
}

const struct know_mount_type *know_mount_type(const char *name) {
  for (size_t i = 0; i < KNOW_N(know__mount_types); i++)
    if (strcasecmp(know__mount_types[i].name, name) == 0)
      return &know__mount_types[i];
  return NULL;
}

const struct know_mount_key *know_mount_key(const char *key) {
  static const struct {
    const char *alias, *key;
  } aliases[] = {{"dst", "target"},
                 {"destination", "target"},
                 {"src", "source"},
                 {"readwrite", "rw"},
                 {"readonly", "ro"}};
  for (size_t i = 0; i < KNOW_N(aliases); i++)
    if (strcasecmp(aliases[i].alias, key) == 0)
      key = aliases[i].key;
  for (size_t i = 0; i < KNOW_N(know__mount_keys); i++)
    if (strcasecmp(know__mount_keys[i].key, key) == 0)
      return &know__mount_keys[i];
  return NULL;
}

bool know_value_in(const char *values, const char *value) {
  if (values == NULL)
    return false;
  size_t n = strlen(value);
  for (const char *p = values; *p;) {
    const char *e = strchr(p, '|');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == n && strncmp(p, value, n) == 0)
      return true;
    p += len;
    if (*p == '|')
      p++;
  }
  return false;
}

const char *know_url(const char *anchor, char *out, size_t size) {
  snprintf(out, size, "%s%s%s", KNOW_REFERENCE_URL,
           anchor && *anchor ? "#" : "", anchor ? anchor : "");
  return out;
}
