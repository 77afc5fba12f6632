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

bool refuse_platform(const char *s, struct buf *msg) {
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

/* ---- the walk over one instruction -------------------------------------- */

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

static size_t refuse__stage_of(const struct dockerfile *df, size_t i) {
  size_t s = SIZE_MAX;
  for (size_t k = 0; k < df->nstages; k++)
    if (df->stages[k].from_instr <= i)
      s = k;
  return s;
}

static bool refuse__flag(const struct df_instr *in, const char *name,
                         const struct df_flag **f) {
  *f = df_instr_flag_at(in, name);
  return *f && refuse__literal((*f)->value) && (*f)->value[0];
}

bool refuse_instr(const struct dockerfile *df, size_t i, struct buf *msg,
                  enum refuse_kind *kind, struct df_range *at) {
  const struct df_instr *in = &df->instrs[i];
  const struct df_flag *f;
  if (in->invalid)
    return false;
  switch (in->kind) {
  case DF_FROM:
    if (refuse__flag(in, "platform", &f) && refuse_platform(f->value, msg)) {
      *kind = REFUSE_PLATFORM;
      *at = f->range;
      return true;
    }
    if (in->nargs >= 1 && refuse__literal(in->args[0].value) &&
        strcasecmp(in->args[0].value, "scratch") != 0 &&
        !refuse__is_stage(df, refuse__stage_of(df, i), in->args[0].value) &&
        refuse_reference(in->args[0].value, msg)) {
      *kind = REFUSE_REFERENCE;
      *at = in->args[0].range;
      return true;
    }
    return false;
  case DF_COPY:
  case DF_ADD:
    if (refuse__flag(in, "chmod", &f) && refuse_chmod(f->value, msg)) {
      *kind = REFUSE_FLAG;
      *at = f->range;
      return true;
    }
    if (in->kind == DF_COPY && refuse__flag(in, "from", &f) &&
        !refuse__is_stage(df, df->nstages, f->value) &&
        refuse_reference(f->value, msg)) {
      *kind = REFUSE_REFERENCE;
      *at = f->range;
      return true;
    }
    return false;
  case DF_RUN:
    for (size_t k = 0; k < in->nflags; k++) {
      const struct df_flag *g = &in->flags[k];
      if (g->value == NULL)
        continue;
      bool lit = refuse__literal(g->value);
      if ((strcmp(g->name, "mount") == 0 &&
           refuse_mount(g->value, true, msg)) ||
          (lit && strcmp(g->name, "network") == 0 &&
           refuse_network(g->value, msg)) ||
          (lit && strcmp(g->name, "security") == 0 &&
           refuse_security(g->value, msg))) {
        *kind = REFUSE_FLAG;
        *at = g->range;
        return true;
      }
    }
    return false;
  case DF_EXPOSE:
    for (size_t k = 0; k < in->nargs; k++)
      if (refuse__literal(in->args[k].value) &&
          refuse_port(in->args[k].value, msg)) {
        *kind = REFUSE_PORT;
        *at = in->args[k].range;
        return true;
      }
    return false;
  case DF_STOPSIGNAL:
    if (in->nargs == 1 && refuse__literal(in->args[0].value) &&
        refuse_signal(in->args[0].value, msg)) {
      *kind = REFUSE_SIGNAL;
      *at = in->args[0].range;
      return true;
    }
    return false;
  case DF_HEALTHCHECK: {
    if (in->nargs > 0 && strcasecmp(in->args[0].value, "none") == 0)
      return false;
    static const char *const durs[] = {"interval", "timeout", "start-period",
                                       "start-interval"};
    for (size_t k = 0; k < 4; k++)
      if (refuse__flag(in, durs[k], &f) &&
          refuse_duration(durs[k], f->value, NULL, msg)) {
        *kind = REFUSE_FLAG;
        *at = f->range;
        return true;
      }
    if (refuse__flag(in, "retries", &f) &&
        refuse_retries(f->value, NULL, msg)) {
      *kind = REFUSE_FLAG;
      *at = f->range;
      return true;
    }
    return false;
  }
  default:
    return false;
  }
}
