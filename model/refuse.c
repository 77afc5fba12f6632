/*
 * refuse.c - the values the builder refuses before it touches a registry or
 * the context, in BuildKit's words (refuse.h).  The checks are BuildKit's
 * (dockerfile2llb's parseChmod and dispatch, instructions' parseOptInterval,
 * go-connections' nat.ParsePortSpecs, moby's signal.ParseSignal, Go's
 * time.ParseDuration and strconv.ParseInt); the image reference is
 * model/ref.c's.
 */
#include "refuse.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "flags.h"
#include "knowledge.h"
#include "ref.h"

bool refuse_reference(const char *s, struct buf *msg) {
  struct ref r;
  struct err e;
  if (ref_parse(s, &r, &e) == 0) {
    ref_cleanup(&r);
    return false;
  }
  buf_puts(msg, e.msg);
  return true;
}

int refuse_platform_word(const char *s) {
  static const char *const oses[] = {
      "aix",     "android", "darwin",  "dragonfly", "freebsd", "hurd",
      "illumos", "ios",     "js",      "linux",     "nacl",    "netbsd",
      "openbsd", "plan9",   "solaris", "windows",   "zos"};
  static const char *const arches[] = {
      "386",     "amd64",    "amd64p32",  "arm",         "armbe",   "arm64",
      "arm64be", "ppc64",    "ppc64le",   "loong64",     "mips",    "mipsle",
      "mips64",  "mips64le", "mips64p32", "mips64p32le", "ppc",     "riscv",
      "riscv64", "s390",     "s390x",     "sparc",       "sparc64", "wasm",
      "i386",    "x86_64",   "x86-64",    "aarch64",     "armhf",   "armel"};
  for (size_t i = 0; i < sizeof(oses) / sizeof(oses[0]); i++)
    if (strcasecmp(s, oses[i]) == 0)
      return 'o';
  for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++)
    if (strcasecmp(s, arches[i]) == 0)
      return 'a';
  return 0;
}

bool refuse_platform(const char *s, struct buf *msg) {
  if (strchr(s, '/') == NULL && refuse_platform_word(s))
    return false;
  const char *a = strchr(s, '/');
  const char *v = a ? strchr(a + 1, '/') : NULL;
  size_t an = a == NULL ? 0 : v ? (size_t)(v - a - 1) : strlen(a + 1);
  if (a == NULL || a == s || (size_t)(a - s) >= 32) {
    buf_printf(msg, "bad platform \"%.60s\" (want os/arch[/variant])", s);
    return true;
  }
  if (an == 0 || an >= 32 ||
      (v && (strlen(v + 1) >= 32 || strchr(v + 1, '/')))) {
    buf_printf(msg, "bad platform \"%.60s\"", s);
    return true;
  }
  return false;
}

bool refuse_chmod(const char *s, struct buf *msg) {
  unsigned long v = 0;
  bool ok = *s != '\0';
  for (const char *p = s; ok && *p; p++) {
    if (*p < '0' || *p > '7')
      ok = false;
    else if (v <= 07777)
      v = v * 8 + (unsigned long)(*p - '0');
  }
  if (ok && v <= 07777)
    return false;
  buf_printf(msg,
             "invalid chmod parameter: '%s'. it should be octal string and "
             "between 0 and 07777",
             s);
  return true;
}

/* Go's time.ParseDuration; false on a syntax error.  *ns saturates far
 * beyond any sane interval, which is enough to compare with 1ms. */
static bool refuse__parse_duration(const char *s, double *ns) {
  static const struct {
    const char *unit;
    double ns;
  } units[] = {{"ns", 1},          {"us", 1e3},  {"\xC2\xB5s", 1e3},
               {"\xCE\xBCs", 1e3}, {"ms", 1e6},  {"s", 1e9},
               {"m", 60e9},        {"h", 3600e9}};
  double sign = 1, total = 0;
  if (*s == '-' || *s == '+') {
    sign = *s == '-' ? -1 : 1;
    s++;
  }
  if (strcmp(s, "0") == 0) {
    *ns = 0;
    return true;
  }
  if (*s == '\0')
    return false;
  while (*s) {
    double v = 0, frac = 0, scale = 1;
    bool digits = false;
    while (*s >= '0' && *s <= '9') {
      v = v * 10 + (*s++ - '0');
      digits = true;
    }
    if (*s == '.') {
      s++;
      while (*s >= '0' && *s <= '9') {
        frac = frac * 10 + (*s++ - '0');
        scale *= 10;
        digits = true;
      }
    }
    if (!digits)
      return false;
    size_t best = 0;
    double mult = 0;
    for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++) {
      size_t n = strlen(units[i].unit);
      if (strncmp(s, units[i].unit, n) == 0 && n > best) {
        /* "m" must not take the "m" of "ms". */
        best = n;
        mult = units[i].ns;
      }
    }
    if (best == 0)
      return false;
    s += best;
    total += (v + frac / scale) * mult;
  }
  *ns = sign * total;
  return true;
}

bool refuse_duration(const char *flag, const char *s, int64_t *ns,
                     struct buf *msg) {
  double v;
  if (!refuse__parse_duration(s, &v)) {
    buf_printf(msg, "time: invalid duration \"%s\"", s);
    return true;
  }
  /* parseOptInterval: 0 means "not set"; otherwise at least 1ms. */
  if (v != 0 && v < 1e6) {
    buf_printf(msg, "Interval \"%s\" cannot be less than 1ms", flag);
    return true;
  }
  if (ns)
    *ns = v > 9.2e18 ? INT64_MAX : (int64_t)v;
  return false;
}

bool refuse_retries(const char *s, int64_t *n, struct buf *msg) {
  const char *p = s;
  bool neg = *p == '-';
  if (*p == '-' || *p == '+')
    p++;
  bool ok = *p != '\0';
  long long v = 0;
  for (; ok && *p; p++) {
    if (*p < '0' || *p > '9')
      ok = false;
    else if (v < 10000000000LL)
      v = v * 10 + (*p - '0');
  }
  if (!ok || v > 2147483647LL + neg) {
    buf_printf(msg, "--retries must be an integer, not \"%s\"", s);
    return true;
  }
  if (neg && v > 0) {
    buf_printf(msg, "--retries cannot be negative (%s)", s);
    return true;
  }
  if (n)
    *n = neg ? -v : v;
  return false;
}

static bool refuse__port_num(const char *s, size_t n, unsigned *v) {
  if (n == 0 || n > 5)
    return false;
  unsigned x = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    x = x * 10 + (unsigned)(s[i] - '0');
  }
  *v = x;
  return x <= 65535;
}

bool refuse_port(const char *s, struct buf *msg) {
  /* nat.ParsePortSpec: [ip:][hostPort:]containerPort[/proto]. */
  const char *cp = strrchr(s, ':');
  cp = cp ? cp + 1 : s;
  const char *slash = strchr(cp, '/');
  size_t n = slash ? (size_t)(slash - cp) : strlen(cp);
  if (slash) {
    const char *pr = slash + 1;
    if (strcasecmp(pr, "tcp") != 0 && strcasecmp(pr, "udp") != 0 &&
        strcasecmp(pr, "sctp") != 0) {
      buf_printf(msg, "invalid proto: %s", pr);
      return true;
    }
  }
  const char *dash = memchr(cp, '-', n);
  unsigned lo, hi;
  if (n == 0) {
    buf_printf(msg, "no port specified: %s<empty>", s);
    return true;
  }
  if (dash) {
    size_t ln = (size_t)(dash - cp);
    if (!refuse__port_num(cp, ln, &lo) ||
        !refuse__port_num(dash + 1, n - ln - 1, &hi)) {
      buf_printf(msg, "invalid containerPort: %.*s", (int)n, cp);
      return true;
    }
    if (hi < lo) {
      buf_printf(msg, "invalid range specified for container port: %.*s",
                 (int)n, cp);
      return true;
    }
    return false;
  }
  if (!refuse__port_num(cp, n, &lo)) {
    buf_printf(msg, "invalid containerPort: %.*s", (int)n, cp);
    return true;
  }
  return false;
}

bool refuse_signal(const char *v, struct buf *msg) {
  bool ok = false;
  if (v[0] >= '0' && v[0] <= '9') {
    size_t n = strspn(v, "0123456789");
    ok = v[n] == '\0' && n <= 10 && strtoull(v, NULL, 10) > 0 &&
         strtoull(v, NULL, 10) <= 4294967295ULL;
  } else {
    char up[64];
    size_t n = strlen(v);
    if (n < sizeof(up)) {
      for (size_t i = 0; i <= n; i++)
        up[i] = (char)toupper((unsigned char)v[i]);
      const char *name = strncmp(up, "SIG", 3) == 0 ? up + 3 : up;
      /* The names completion offers (model/knowledge.h), without "SIG". */
      for (const char *const *k = know_signals(); *k && !ok; k++)
        ok = strcmp(*k + 3, name) == 0;
      /* SIGRTMIN+n and SIGRTMAX-n, n = 1..15. */
      if (!ok && (strncmp(name, "RTMIN+", 6) == 0 ||
                  strncmp(name, "RTMAX-", 6) == 0)) {
        char *end;
        long k = strtol(name + 6, &end, 10);
        ok = *end == '\0' && k >= 1 && k <= 15 && name[6] >= '0' &&
             name[6] <= '9';
      }
    }
  }
  if (!ok)
    buf_printf(msg, "Invalid signal: %s", v);
  return !ok;
}

bool refuse_network(const char *s, struct buf *msg) {
  if (strcmp(s, "default") == 0 || strcmp(s, "none") == 0 ||
      strcmp(s, "host") == 0)
    return false;
  buf_printf(msg, "unsupported network mode \"%s\"", s);
  return true;
}

bool refuse_security(const char *s, struct buf *msg) {
  if (strcmp(s, "sandbox") == 0 || strcmp(s, "insecure") == 0)
    return false;
  buf_printf(msg, "unsupported security mode \"%s\"", s);
  return true;
}

/* Go's strconv.ParseBool. */
static bool refuse__bool(const char *v) {
  static const char *const ok[] = {"1", "t", "T", "TRUE",  "true",  "True",
                                   "0", "f", "F", "FALSE", "false", "False"};
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
    if (strcmp(v, ok[i]) == 0)
      return true;
  return false;
}

/* strconv.ParseUint(v, base, 32). */
static bool refuse__uint32(const char *v, int base) {
  if (*v == '\0')
    return false;
  unsigned long long x = 0;
  for (const char *p = v; *p; p++) {
    int dg = *p - '0';
    if (dg < 0 || dg >= base)
      return false;
    x = x * (unsigned)base + (unsigned)dg;
    if (x > 0xffffffffULL)
      return false;
  }
  return true;
}

/* go-units' RAMInBytes: a number, then an optional unit (b, k, kb, kib,
 * m, ... p, case-insensitive). */
static bool refuse__ram(const char *v) {
  const char *p = v;
  size_t d = strspn(p, "0123456789");
  p += d;
  if (*p == '.') {
    size_t f = strspn(p + 1, "0123456789");
    if (f == 0)
      return false;
    p += 1 + f;
    d += f;
  }
  if (d == 0)
    return false;
  if (*p == '\0')
    return true;
  char u[8];
  size_t n = strlen(p);
  if (n >= sizeof(u))
    return false;
  for (size_t i = 0; i <= n; i++)
    u[i] = (char)tolower((unsigned char)p[i]);
  if (strcmp(u, "b") == 0)
    return true;
  if (strchr("kmgtp", u[0]) == NULL)
    return false;
  return u[1] == '\0' || strcmp(u + 1, "b") == 0 || strcmp(u + 1, "ib") == 0;
}

bool refuse_mount(const char *v, bool literal, struct buf *msg) {
  /* Written with a variable: only what BuildKit's parser refuses before
   * expansion (from= with a variable); the rest is known at build time. */
  bool vars = strchr(v, '$') != NULL;
  char type[16] = "bind";
  bool have_from = false, have_sharing = false, have_source = false;
  bool have_target = false, have_id = false, have_env = false;
  bool have_mode = false, have_uid = false, have_gid = false;
  char *copy = xstrdup(v);
  bool refused = false;
  for (char *field = copy, *next; field && !refused; field = next) {
    next = strchr(field, ',');
    if (next)
      *next++ = '\0';
    char *eq = strchr(field, '=');
    char *val = eq ? eq + 1 : NULL;
    size_t kn = eq ? (size_t)(eq - field) : strlen(field);
    char key[32];
    if (kn >= sizeof(key))
      kn = sizeof(key) - 1;
    for (size_t i = 0; i < kn; i++)
      key[i] = (char)tolower((unsigned char)field[i]);
    key[kn] = '\0';
    if (vars) {
      if (literal && val && strcmp(key, "from") == 0 && val[0] == '$' &&
          val[1]) {
        buf_printf(msg,
                   "'from' doesn't support variable expansion, define alias "
                   "stage instead");
        refused = true;
      }
      continue;
    }
    bool secretish = strcmp(type, "secret") == 0 || strcmp(type, "ssh") == 0;
    if (val == NULL) {
      if (strcmp(key, "readonly") == 0 || strcmp(key, "ro") == 0 ||
          strcmp(key, "readwrite") == 0 || strcmp(key, "rw") == 0)
        continue;
      if (strcmp(key, "required") == 0 && secretish)
        continue;
      if (strcmp(key, "required") == 0)
        buf_printf(msg, "unexpected key '%s' for mount type '%s'", key, type);
      else
        buf_printf(msg, "invalid field '%s' must be a key=value pair", field);
      refused = true;
    } else if (strcmp(key, "type") == 0) {
      const char *const types[] = {"bind", "cache", "tmpfs", "secret", "ssh"};
      bool ok = false;
      for (size_t i = 0; i < 5 && !ok; i++)
        if (strcasecmp(val, types[i]) == 0) {
          ok = true;
          strcpy(type, types[i]);
        }
      if (!ok) {
        buf_printf(msg, "unsupported mount type \"%s\"", val);
        refused = true;
      }
    } else if (strcmp(key, "from") == 0) {
      have_from = true;
    } else if (strcmp(key, "source") == 0 || strcmp(key, "src") == 0) {
      have_source = *val != '\0';
    } else if (strcmp(key, "target") == 0 || strcmp(key, "dst") == 0 ||
               strcmp(key, "destination") == 0) {
      have_target = *val != '\0';
    } else if (strcmp(key, "readonly") == 0 || strcmp(key, "ro") == 0 ||
               strcmp(key, "readwrite") == 0 || strcmp(key, "rw") == 0 ||
               (strcmp(key, "required") == 0 && secretish)) {
      if (!refuse__bool(val)) {
        buf_printf(msg, "invalid value for %s: %s", key, val);
        refused = true;
      }
    } else if (strcmp(key, "required") == 0 ||
               (strcmp(key, "size") == 0 && strcmp(type, "tmpfs") != 0)) {
      buf_printf(msg, "unexpected key '%s' for mount type '%s'", key, type);
      refused = true;
    } else if (strcmp(key, "size") == 0) {
      if (!refuse__ram(val)) {
        buf_printf(msg, "invalid value for %s: %s", key, val);
        refused = true;
      }
    } else if (strcmp(key, "id") == 0) {
      have_id = *val != '\0';
    } else if (strcmp(key, "env") == 0) {
      /* (dockerfile 1.10: a secret exposed as an environment variable) */
      have_env = true;
    } else if (strcmp(key, "sharing") == 0) {
      have_sharing = true;
      if (strcasecmp(val, "shared") && strcasecmp(val, "private") &&
          strcasecmp(val, "locked")) {
        buf_printf(msg, "unsupported sharing value \"%s\"", val);
        refused = true;
      }
    } else if (strcmp(key, "mode") == 0 || strcmp(key, "uid") == 0 ||
               strcmp(key, "gid") == 0) {
      *(key[0] == 'm'   ? &have_mode
        : key[0] == 'u' ? &have_uid
                        : &have_gid) = true;
      if (!refuse__uint32(val, key[0] == 'm' ? 8 : 10)) {
        buf_printf(msg, "invalid value %s for %s", val, key);
        refused = true;
      }
    } else {
      buf_printf(msg, "unexpected key '%s' in '%s'", key, field);
      refused = true;
    }
  }
  free(copy);
  if (refused || vars)
    return refused;
  /* validateMount */
  bool file_info = strcmp(type, "secret") == 0 || strcmp(type, "ssh") == 0 ||
                   strcmp(type, "cache") == 0;
  const char *bad = !file_info && have_mode  ? "mode"
                    : !file_info && have_uid ? "uid"
                    : !file_info && have_gid ? "gid"
                                             : NULL;
  if (bad)
    buf_printf(msg, "%s not allowed for \"%s\" type mounts", bad, type);
  else if (strcmp(type, "secret") == 0 && have_from)
    buf_printf(msg, "secret mount should not have a from");
  else if (strcmp(type, "secret") == 0 && have_sharing)
    buf_printf(msg, "secret mount should not define sharing");
  else if (strcmp(type, "secret") == 0 && !have_source && !have_target &&
           !have_id && !have_env)
    buf_printf(msg, "invalid secret mount. one of source, target required");
  else if (strcmp(type, "secret") == 0 && have_source && have_id)
    buf_printf(msg, "both source and id can't be set");
  else if (have_sharing && strcmp(type, "cache") != 0)
    buf_printf(msg, "invalid cache sharing set for %s mount", type);
  else
    return false;
  return true;
}

/* ---- the walk over one instruction ------------------------------------- */

struct refuse__walk {
  refuse_cb cb;
  void *ctx;
  const struct df_instr *in;
  struct buf msg;
};

static void refuse__emit(struct refuse__walk *w, enum refuse_kind kind,
                         struct df_range at) {
  w->cb(w->ctx, w->in, kind, at, buf_cstr(&w->msg));
  buf_reset(&w->msg);
}

/* Written so that expansion leaves it as it is. */
static bool refuse__literal(const char *s) {
  return s != NULL && strpbrk(s, "$\"'\\`") == NULL;
}

/* Is `name` an earlier stage's name (or index), so not an image? */
static bool refuse__is_stage(const struct dockerfile *df, size_t before,
                             const char *name) {
  for (size_t k = 0; k < df->nstages && k < before; k++)
    if (df->stages[k].name && strcasecmp(df->stages[k].name, name) == 0)
      return true;
  return name[0] && strspn(name, "0123456789") == strlen(name);
}

static const struct df_flag *refuse__flag(const struct df_instr *in,
                                          const char *name) {
  const struct df_flag *f = df_instr_flag_at(in, name);
  return f && refuse__literal(f->value) && f->value[0] ? f : NULL;
}

/* parse.go's stage-name rule: a letter first, then letters, digits, '-',
 * '_' and '.' (case-insensitively). */
static bool refuse__stage_name_ok(const char *name) {
  if (!isalpha((unsigned char)name[0]))
    return false;
  for (const char *p = name + 1; *p; p++)
    if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '.'))
      return false;
  return true;
}

static bool refuse__ieq(const char *a, const char *b) {
  return strcasecmp(a, b) == 0;
}

static void refuse__upper(struct buf *b, const char *s) {
  for (; *s; s++)
    buf_putc(b, (char)toupper((unsigned char)*s));
}

static void refuse__from(struct refuse__walk *w, const struct dockerfile *df,
                         size_t stage) {
  const struct df_instr *in = w->in;
  const struct df_flag *f = refuse__flag(in, "platform");
  if (f && refuse_platform(f->value, &w->msg))
    refuse__emit(w, REFUSE_PLATFORM, f->range);
  if (in->nargs == 3 && refuse__ieq(in->args[1].value, "as")) {
    if (!refuse__stage_name_ok(in->args[2].value)) {
      buf_printf(&w->msg,
                 "invalid name for build stage: \"%s\", name can't start "
                 "with a number or contain symbols",
                 in->args[2].value);
      refuse__emit(w, REFUSE_STAGE_NAME, in->args[2].range);
    }
  } else if (in->nargs != 1) {
    const char *why = "";
    struct df_range r = in->args_range;
    if (in->nargs == 0) {
      why = ": expected an image name after FROM";
      r = in->keyword_range;
    } else if (in->nargs == 2 && refuse__ieq(in->args[1].value, "as")) {
      why = ": expected a stage name after AS";
      r = in->args[1].range;
    } else if (!refuse__ieq(in->args[1].value, "as")) {
      why = ": expected AS after the image name";
      r = in->args[1].range;
    } else {
      why = ": unexpected words after the stage name";
      r.start = in->args[3].range.start;
    }
    buf_printf(&w->msg, "FROM requires either one or three arguments%s", why);
    refuse__emit(w, REFUSE_FROM_ARGS, r);
    return;
  }
  if (in->nargs >= 1 && refuse__literal(in->args[0].value) &&
      !refuse__ieq(in->args[0].value, "scratch") &&
      !refuse__is_stage(df, stage, in->args[0].value) &&
      refuse_reference(in->args[0].value, &w->msg))
    refuse__emit(w, REFUSE_REFERENCE, in->args[0].range);
}

/* instructions/parse.go's argument counts and forms. */
static void refuse__args(struct refuse__walk *w) {
  const struct df_instr *in = w->in;
  struct df_range at = in->keyword_range;
  struct buf up = BUF_INIT;
  refuse__upper(&up, df_kind_name(in->kind));
  const char *kw = buf_cstr(&up);
  switch (in->kind) {
  case DF_ENV:
  case DF_LABEL:
    if (in->nargs == 0) {
      buf_printf(&w->msg, "%s requires at least one argument", kw);
      refuse__emit(w, REFUSE_MISSING_ARGS, at);
    }
    for (size_t i = 0; i < in->nargs; i += 3)
      if (in->args[i].len == 0) {
        buf_printf(&w->msg, "%s names can not be blank", kw);
        refuse__emit(w, REFUSE_MISSING_ARGS, in->args[i].range);
      }
    break;
  case DF_MAINTAINER:
  case DF_WORKDIR:
  case DF_USER:
  case DF_STOPSIGNAL:
    if (in->nargs == 0) {
      buf_printf(&w->msg, "%s requires exactly one argument", kw);
      refuse__emit(w, REFUSE_MISSING_ARGS, at);
    }
    break;
  case DF_EXPOSE:
  case DF_VOLUME:
  case DF_ARG:
  case DF_HEALTHCHECK:
    if (in->nargs == 0) {
      buf_printf(&w->msg, "%s requires at least one argument", kw);
      refuse__emit(w, REFUSE_MISSING_ARGS, at);
    }
    for (size_t i = 0; in->kind == DF_VOLUME && i < in->nargs; i++) {
      const char *v = in->args[i].value;
      v += strspn(v, " \t\n\r");
      /* "" and '' expand to nothing too */
      bool empty =
          *v == '\0' || ((strcmp(v, "\"\"") == 0 || strcmp(v, "''") == 0) &&
                         in->form != DF_FORM_JSON);
      if (empty) {
        buf_puts(&w->msg, "VOLUME specified can not be an empty string");
        refuse__emit(w, REFUSE_MISSING_ARGS, in->args[i].range);
      }
    }
    for (size_t i = 0; in->kind == DF_ARG && i < in->nargs; i++)
      if (in->args[i].value[0] == '=') {
        buf_puts(&w->msg, "ARG names can not be blank");
        refuse__emit(w, REFUSE_MISSING_ARGS, in->args[i].range);
      }
    break;
  case DF_ADD:
  case DF_COPY:
    if (in->nargs < 2) {
      buf_printf(&w->msg,
                 "%s requires at least two arguments, but only one was "
                 "provided. Destination could not be determined.",
                 kw);
      refuse__emit(w, REFUSE_MISSING_ARGS, in->nargs ? in->args_range : at);
    } else if (in->form != DF_FORM_JSON) {
      struct df_heredoc hd;
      char *why = NULL;
      const struct df_arg *dest = &in->args[in->nargs - 1];
      if (dockerfile_heredoc_word(dest->value, &hd, &why) == 1) {
        buf_printf(&w->msg, "%s cannot accept a heredoc as a destination", kw);
        refuse__emit(w, REFUSE_HEREDOC_DEST, dest->range);
        free(hd.name);
      }
      free(why);
    }
    break;
  case DF_SHELL:
    if (in->form == DF_FORM_NONE ||
        (in->form == DF_FORM_JSON && in->nargs == 0)) {
      buf_puts(&w->msg, "SHELL requires at least one argument");
      refuse__emit(w, REFUSE_MISSING_ARGS, at);
    } else if (in->form == DF_FORM_SHELL) {
      buf_puts(&w->msg, "SHELL requires the arguments to be in JSON form");
      refuse__emit(w, REFUSE_SHELL_JSON, in->args_range);
    }
    break;
  default:
    break;
  }
  buf_cleanup(&up);
  if (in->kind == DF_HEALTHCHECK && in->nargs > 0) {
    const char *typ = in->args[0].value;
    if (refuse__ieq(typ, "none")) {
      if (in->nargs > 1) {
        buf_puts(&w->msg, "HEALTHCHECK NONE takes no arguments");
        refuse__emit(w, REFUSE_EXTRA_ARGS, in->args[1].range);
      }
    } else if (refuse__ieq(typ, "cmd")) {
      if (in->nargs == 1) {
        buf_puts(&w->msg, "Missing command after HEALTHCHECK CMD");
        refuse__emit(w, REFUSE_HEALTHCHECK_CMD, in->args[0].range);
      }
    } else {
      buf_puts(&w->msg, "Unknown type \"");
      refuse__upper(&w->msg, typ);
      buf_puts(&w->msg, "\" in HEALTHCHECK (try CMD)");
      refuse__emit(w, REFUSE_HEALTHCHECK_TYPE, in->args[0].range);
    }
  }
}

int refuse_copy_from(const struct dockerfile *df, size_t stage,
                     const char *from, struct buf *msg) {
  for (size_t k = 0; k < df->nstages; k++)
    if (df->stages[k].name && strcasecmp(df->stages[k].name, from) == 0) {
      if (k < stage)
        return (int)k;
      goto later;
    }
  if (from[0] && strspn(from, "0123456789") == strlen(from)) {
    unsigned long n = strlen(from) > 9 ? ULONG_MAX : strtoul(from, NULL, 10);
    if (n >= df->nstages) {
      buf_printf(msg, "invalid stage index %s", from);
      return REFUSE_REFUSED;
    }
    if (n < stage)
      return (int)n;
    goto later;
  }
  return refuse_reference(from, msg) ? REFUSE_REFUSED : REFUSE_IMAGE;
later:
  if (stage < df->nstages && df->stages[stage].name)
    buf_printf(msg,
               "cannot copy from stage \"%s\", it needs to be defined "
               "before current stage \"%s\"",
               from, df->stages[stage].name);
  else
    buf_printf(msg,
               "cannot copy from stage \"%s\", it needs to be defined "
               "before current stage \"stage-%zu\"",
               from, stage);
  return REFUSE_REFUSED;
}

/* The values checked before anything runs. */
static void refuse__values(struct refuse__walk *w, const struct dockerfile *df,
                           size_t stage) {
  const struct df_instr *in = w->in;
  const struct df_flag *f;
  switch (in->kind) {
  case DF_COPY:
  case DF_ADD:
    if ((f = refuse__flag(in, "chmod")) && refuse_chmod(f->value, &w->msg))
      refuse__emit(w, REFUSE_FLAG, f->range);
    if (in->kind == DF_COPY && (f = refuse__flag(in, "from")) &&
        refuse_copy_from(df, stage, f->value, &w->msg) == REFUSE_REFUSED)
      refuse__emit(w,
                   refuse__is_stage(df, df->nstages, f->value)
                       ? REFUSE_COPY_FROM
                       : REFUSE_REFERENCE,
                   f->range);
    break;
  case DF_RUN:
    for (size_t k = 0; k < in->nflags; k++) {
      const struct df_flag *g = &in->flags[k];
      if (g->value == NULL)
        continue;
      bool lit = refuse__literal(g->value);
      if ((strcmp(g->name, "mount") == 0 &&
           refuse_mount(g->value, true, &w->msg)) ||
          (lit && strcmp(g->name, "network") == 0 &&
           refuse_network(g->value, &w->msg)) ||
          (lit && strcmp(g->name, "security") == 0 &&
           refuse_security(g->value, &w->msg)))
        refuse__emit(w, REFUSE_FLAG, g->range);
    }
    break;
  case DF_EXPOSE:
    for (size_t k = 0; k < in->nargs; k++)
      if (refuse__literal(in->args[k].value) &&
          refuse_port(in->args[k].value, &w->msg))
        refuse__emit(w, REFUSE_PORT, in->args[k].range);
    break;
  case DF_STOPSIGNAL:
    if (in->nargs == 1 && refuse__literal(in->args[0].value) &&
        refuse_signal(in->args[0].value, &w->msg))
      refuse__emit(w, REFUSE_SIGNAL, in->args[0].range);
    break;
  case DF_HEALTHCHECK: {
    if (in->nargs > 0 && refuse__ieq(in->args[0].value, "none"))
      break;
    static const char *const durs[] = {"interval", "timeout", "start-period",
                                       "start-interval"};
    for (size_t k = 0; k < 4; k++)
      if ((f = refuse__flag(in, durs[k])) &&
          refuse_duration(durs[k], f->value, NULL, &w->msg))
        refuse__emit(w, REFUSE_FLAG, f->range);
    if ((f = refuse__flag(in, "retries")) &&
        refuse_retries(f->value, NULL, &w->msg))
      refuse__emit(w, REFUSE_FLAG, f->range);
    break;
  }
  default:
    break;
  }
}

void refuse_each_instr(const struct dockerfile *df, const struct df_instr *in,
                       size_t stage, refuse_cb cb, void *ctx) {
  struct refuse__walk w = {cb, ctx, in, BUF_INIT};
  if (in->kind == DF_UNKNOWN) {
    buf_puts(&w.msg, "unknown instruction: ");
    refuse__upper(&w.msg, in->keyword);
    refuse__emit(&w, REFUSE_UNKNOWN_INSTR, in->keyword_range);
  } else if (in->kind == DF_ONBUILD) {
    /* The trigger is kept as text until an image is built FROM this one;
     * only its keyword is refused now. */
    const struct df_instr *sub = in->sub;
    if (sub == NULL) {
      buf_puts(&w.msg, "ONBUILD requires at least one argument");
      refuse__emit(&w, REFUSE_MISSING_ARGS, in->keyword_range);
    } else if (sub->kind == DF_ONBUILD) {
      buf_puts(&w.msg, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      refuse__emit(&w, REFUSE_ONBUILD_TRIGGER, sub->keyword_range);
    } else if (sub->kind == DF_FROM || sub->kind == DF_MAINTAINER) {
      refuse__upper(&w.msg, sub->keyword);
      buf_puts(&w.msg, " isn't allowed as an ONBUILD trigger");
      refuse__emit(&w, REFUSE_ONBUILD_TRIGGER, sub->keyword_range);
    }
  } else if (!in->invalid) {
    /* (the model already reported what its readers refused) */
    if (in->kind == DF_FROM) {
      refuse__from(&w, df, stage);
    } else {
      refuse__args(&w);
      refuse__values(&w, df, stage);
    }
  }
  buf_cleanup(&w.msg);
}

static size_t refuse__stage_of(const struct dockerfile *df, size_t i) {
  size_t s = SIZE_MAX;
  for (size_t k = 0; k < df->nstages; k++)
    if (df->stages[k].from_instr <= i)
      s = k;
  return s;
}

void refuse_each(const struct dockerfile *df, size_t i, refuse_cb cb,
                 void *ctx) {
  refuse_each_instr(df, &df->instrs[i], refuse__stage_of(df, i), cb, ctx);
}

/* `# check=skip=...;error=...;experimental=...` (parseLintOptions). */
static void refuse__check_directive(struct refuse__walk *w,
                                    const struct df_directive *d) {
  const char *p = d->value;
  int parts = 0;
  while (*p) {
    const char *end = strchr(p, ';');
    /* strings.SplitN(s, ";", 3): the third part keeps later ';'. */
    if (end == NULL || parts == 2)
      end = p + strlen(p);
    parts++;
    const char *eq = memchr(p, '=', (size_t)(end - p));
    if (eq == NULL) {
      buf_printf(&w->msg,
                 "failed to parse check options: invalid check option "
                 "\"%.*s\"",
                 (int)(end - p), p);
      refuse__emit(w, REFUSE_DIRECTIVE, d->range);
      return;
    }
    const char *ks = p, *ke = eq;
    while (ks < ke && (*ks == ' ' || *ks == '\t'))
      ks++;
    while (ke > ks && (ke[-1] == ' ' || ke[-1] == '\t'))
      ke--;
    size_t kl = (size_t)(ke - ks);
    const char *vs = eq + 1, *ve = end;
    while (vs < ve && (*vs == ' ' || *vs == '\t'))
      vs++;
    while (ve > vs && (ve[-1] == ' ' || ve[-1] == '\t'))
      ve--;
    if (kl == 5 && strncmp(ks, "error", 5) == 0) {
      char *v = xstrndup(vs, (size_t)(ve - vs));
      bool ok = refuse__bool(v);
      free(v);
      if (!ok) {
        buf_printf(&w->msg,
                   "failed to parse check options: error=%.*s is not a "
                   "boolean",
                   (int)(ve - vs), vs);
        refuse__emit(w, REFUSE_DIRECTIVE, d->range);
        return;
      }
    } else if (!(kl == 4 && strncmp(ks, "skip", 4) == 0) &&
               !(kl == 12 && strncmp(ks, "experimental", 12) == 0)) {
      buf_printf(&w->msg,
                 "failed to parse check options: invalid check option "
                 "\"%.*s\"",
                 (int)kl, ks);
      refuse__emit(w, REFUSE_DIRECTIVE, d->range);
      return;
    }
    p = *end ? end + 1 : end;
  }
}

void refuse_directives(const struct dockerfile *df, refuse_cb cb, void *ctx) {
  struct refuse__walk w = {cb, ctx, NULL, BUF_INIT};
  for (size_t i = 0; i < df->ndirectives; i++)
    if (strcmp(df->directives[i].name, "check") == 0)
      refuse__check_directive(&w, &df->directives[i]);
  buf_cleanup(&w.msg);
}

/* Keeps the first refusal only. */
struct refuse__first {
  bool found;
  struct buf *msg;
  enum refuse_kind *kind;
  struct df_range *at;
};

static void refuse__keep_first(void *ctx, const struct df_instr *in,
                               enum refuse_kind kind, struct df_range at,
                               const char *msg) {
  (void)in;
  struct refuse__first *f = ctx;
  if (f->found)
    return;
  f->found = true;
  buf_puts(f->msg, msg);
  *f->kind = kind;
  *f->at = at;
}

bool refuse_instr(const struct dockerfile *df, size_t i, struct buf *msg,
                  enum refuse_kind *kind, struct df_range *at) {
  struct refuse__first f = {false, msg, kind, at};
  refuse_each(df, i, refuse__keep_first, &f);
  return f.found;
}

bool refuse_first(const struct dockerfile *df, struct buf *msg,
                  enum refuse_kind *kind, struct df_range *at) {
  struct refuse__first f = {false, msg, kind, at};
  refuse_directives(df, refuse__keep_first, &f);
  for (size_t i = 0; i < df->ninstrs && !f.found; i++)
    refuse_each(df, i, refuse__keep_first, &f);
  return f.found;
}
