/*
 * jsonparse.c - see jsonparse.h.
 */
#include "jsonparse.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"

struct jsonparse__p {
  const char *s, *end;
  unsigned depth, max_depth;
  struct buf str; /* a string being unescaped, reused */
};

static json_object *jsonparse__value(struct jsonparse__p *p);

static void jsonparse__ws(struct jsonparse__p *p) {
  while (p->s < p->end &&
         (*p->s == ' ' || *p->s == '\n' || *p->s == '\r' || *p->s == '\t'))
    p->s++;
}

/* Nonzero when one of the eight bytes of x is '"', '\\' or below 0x20 (the
 * bytes a string's plain run stops at); the lowest set bit is in the first
 * such byte (the borrows that make false hits only run upwards). */
static inline uint64_t jsonparse__special8(uint64_t x) {
  const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
  uint64_t q = x ^ (ones * '"');
  uint64_t b = x ^ (ones * '\\');
  uint64_t has =
      ((q - ones) & ~q) | ((b - ones) & ~b) | ((x - ones * 0x20) & ~x);
  return has & high;
}

static int jsonparse__hex4(const char *s, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned)(c - 'A' + 10);
    else
      return -1;
  }
  *out = v;
  return 0;
}

/* cp as UTF-8 at o; the end of what was written. */
static char *jsonparse__utf8(char *o, unsigned cp) {
  if (cp < 0x80) {
    *o++ = (char)cp;
  } else if (cp < 0x800) {
    *o++ = (char)(0xC0 | (cp >> 6));
    *o++ = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *o++ = (char)(0xE0 | (cp >> 12));
    *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
    *o++ = (char)(0x80 | (cp & 0x3F));
  } else {
    *o++ = (char)(0xF0 | (cp >> 18));
    *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
    *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
    *o++ = (char)(0x80 | (cp & 0x3F));
  }
  return o;
}

/* A string after its opening quote into p->str; false when it is not one
 * this parser takes. */
static bool jsonparse__string(struct jsonparse__p *p) {
  struct buf *b = &p->str;
  b->len = 0;
  /* What a string unescapes to is never longer than the text left, so
   * the copy below writes without checking (eight bytes at a time). */
  buf_reserve(b, (size_t)(p->end - p->s) + 8);
  char *o = b->data;
  const char *s = p->s, *end = p->end;
  bool ok = false;
  for (;;) {
    while (end - s >= 8) {
      uint64_t x;
      memcpy(&x, s, 8);
      uint64_t m = jsonparse__special8(x);
      memcpy(o, &x, 8); /* room: see above; only the plain bytes count */
      if (m != 0) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        size_t k = (size_t)__builtin_ctzll(m) / 8;
        o += k;
        s += k;
#endif
        break;
      }
      o += 8;
      s += 8;
    }
    while (s < end && *s != '"' && *s != '\\' && (unsigned char)*s >= 0x20)
      *o++ = *s++;
    if (s >= end || (unsigned char)*s < 0x20)
      break;
    if (*s == '"') {
      s++;
      ok = true;
      break;
    }
    /* An escape. */
    if (end - s < 2)
      break;
    char e = s[1];
    s += 2;
    if (e == '"' || e == '\\' || e == '/') {
      *o++ = e;
    } else if (e == 'b') {
      *o++ = '\b';
    } else if (e == 'f') {
      *o++ = '\f';
    } else if (e == 'n') {
      *o++ = '\n';
    } else if (e == 'r') {
      *o++ = '\r';
    } else if (e == 't') {
      *o++ = '\t';
    } else if (e == 'u') {
      unsigned cp, lo;
      if (end - s < 4 || jsonparse__hex4(s, &cp) < 0)
        break;
      s += 4;
      if (cp >= 0xDC00 && cp <= 0xDFFF)
        break; /* a lone low surrogate: json-c's call */
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (end - s < 6 || s[0] != '\\' || s[1] != 'u' ||
            jsonparse__hex4(s + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
          break;
        s += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      }
      o = jsonparse__utf8(o, cp);
    } else {
      break;
    }
  }
  b->len = (size_t)(o - b->data);
  p->s = s;
  return ok;
}

static json_object *jsonparse__number(struct jsonparse__p *p) {
  const char *start = p->s;
  bool frac = false;
  if (p->s < p->end && *p->s == '-')
    p->s++;
  if (p->s >= p->end)
    return NULL;
  if (*p->s == '0') {
    p->s++;
  } else if (*p->s >= '1' && *p->s <= '9') {
    while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
      p->s++;
  } else {
    return NULL;
  }
  if (p->s < p->end && *p->s == '.') {
    frac = true;
    p->s++;
    const char *d = p->s;
    while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
      p->s++;
    if (p->s == d)
      return NULL;
  }
  if (p->s < p->end && (*p->s == 'e' || *p->s == 'E')) {
    frac = true;
    p->s++;
    if (p->s < p->end && (*p->s == '+' || *p->s == '-'))
      p->s++;
    const char *d = p->s;
    while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
      p->s++;
    if (p->s == d)
      return NULL;
  }
  size_t n = (size_t)(p->s - start);
  char tmp[64];
  if (n >= sizeof(tmp))
    return NULL;
  memcpy(tmp, start, n);
  tmp[n] = '\0';
  errno = 0;
  if (!frac) {
    char *e;
    long long v = strtoll(tmp, &e, 10);
    if (errno != 0 || *e != '\0')
      return NULL; /* beyond int64: json-c's call */
    return json_object_new_int64(v);
  }
  char *e;
  double v = strtod(tmp, &e);
  if (*e != '\0')
    return NULL;
  return json_object_new_double_s(v, tmp);
}

static bool jsonparse__word(struct jsonparse__p *p, const char *w, size_t n) {
  if ((size_t)(p->end - p->s) < n || memcmp(p->s, w, n) != 0)
    return false;
  p->s += n;
  return true;
}

/* An object or array after its bracket. */
static json_object *jsonparse__container(struct jsonparse__p *p, bool obj) {
  if (++p->depth > p->max_depth)
    return NULL;
  json_object *c = obj ? json_object_new_object() : json_object_new_array();
  char close = obj ? '}' : ']';
  jsonparse__ws(p);
  if (p->s < p->end && *p->s == close) {
    p->s++;
    p->depth--;
    return c;
  }
  for (;;) {
    char *key = NULL;
    if (obj) {
      jsonparse__ws(p);
      if (p->s >= p->end || *p->s != '"')
        goto fail;
      p->s++;
      if (!jsonparse__string(p))
        goto fail;
      if (memchr(p->str.data, '\0', p->str.len))
        goto fail; /* json-c keys are C strings */
      key = xstrndup(p->str.data, p->str.len);
      jsonparse__ws(p);
      if (p->s >= p->end || *p->s != ':') {
        free(key);
        goto fail;
      }
      p->s++;
    }
    /* NULL for both `null` and a failure; a failure sets p->s to NULL. */
    json_object *v = jsonparse__value(p);
    if (p->s == NULL) {
      free(key);
      goto fail;
    }
    if (obj) {
      json_object_object_add(c, key, v);
      free(key);
    } else {
      json_object_array_add(c, v);
    }
    jsonparse__ws(p);
    if (p->s >= p->end)
      goto fail;
    if (*p->s == ',') {
      p->s++;
      continue;
    }
    if (*p->s == close) {
      p->s++;
      p->depth--;
      return c;
    }
    goto fail;
  }
fail:
  json_object_put(c);
  p->s = NULL;
  return NULL;
}

/* A value; NULL with p->s set to NULL on failure, NULL with p->s moved
 * past it for `null`. */
static json_object *jsonparse__value(struct jsonparse__p *p) {
  jsonparse__ws(p);
  if (p->s >= p->end) {
    p->s = NULL;
    return NULL;
  }
  json_object *v = NULL;
  switch (*p->s) {
  case '{':
  case '[': {
    bool obj = *p->s == '{';
    p->s++;
    return jsonparse__container(p, obj);
  }
  case '"':
    p->s++;
    if (!jsonparse__string(p))
      break;
    return json_object_new_string_len(p->str.data ? p->str.data : "",
                                      (int)p->str.len);
  case 't':
    if (jsonparse__word(p, "true", 4))
      return json_object_new_boolean(1);
    break;
  case 'f':
    if (jsonparse__word(p, "false", 5))
      return json_object_new_boolean(0);
    break;
  case 'n':
    if (jsonparse__word(p, "null", 4))
      return NULL;
    break;
  default:
    v = jsonparse__number(p);
    if (v)
      return v;
    break;
  }
  p->s = NULL;
  return NULL;
}

json_object *jsonparse(const char *s, size_t len, unsigned max_depth) {
  if (len > (size_t)INT32_MAX)
    return NULL;
  struct jsonparse__p p = {s, s + len, 0, max_depth, BUF_INIT};
  json_object *v = jsonparse__value(&p);
  if (p.s != NULL)
    jsonparse__ws(&p);
  bool ok = p.s != NULL && p.s == p.end && v != NULL;
  buf_cleanup(&p.str);
  if (!ok) {
    json_object_put(v);
    return NULL;
  }
  return v;
}
