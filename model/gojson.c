#include "gojson.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* encoding/json refuses nesting deeper than this. */
#define GOJSON_MAX_DEPTH 10000

static bool gojson__ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t gojson__skip_ws(const char *s, size_t len, size_t i) {
  while (i < len && gojson__ws(s[i]))
    i++;
  return i;
}

static int gojson__hex(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static bool gojson__u4(const char *s, size_t len, size_t i, uint32_t *out) {
  if (i + 4 > len)
    return false;
  uint32_t v = 0;
  for (size_t k = 0; k < 4; k++) {
    int h = gojson__hex(s[i + k]);
    if (h < 0)
      return false;
    v = (v << 4) | (uint32_t)h;
  }
  *out = v;
  return true;
}

/* Scans a string token starting at s[i] == '"'.  Returns the index past
 * the closing quote, or 0 on a syntax error.  When out is not NULL the
 * decoded value is appended to it. */
static size_t gojson__string(const char *s, size_t len, size_t i,
                             struct buf *out) {
  i++; /* opening quote */
  while (i < len) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"')
      return i + 1;
    if (c < 0x20)
      return 0;
    if (c != '\\') {
      if (c < 0x80) {
        /* A run of plain ASCII goes at once. */
        size_t j = i + 1;
        while (j < len && (unsigned char)s[j] >= 0x20 &&
               (unsigned char)s[j] < 0x80 && s[j] != '"' && s[j] != '\\')
          j++;
        if (out)
          buf_append(out, s + i, j - i);
        i = j;
      } else {
        size_t w;
        uint32_t r = utf8_decode(s + i, len - i, &w);
        if (out)
          utf8_append(out, r);
        i += w;
      }
      continue;
    }
    if (i + 1 >= len)
      return 0;
    char e = s[i + 1];
    i += 2;
    switch (e) {
    case '"':
    case '\\':
    case '/':
      if (out)
        buf_putc(out, e);
      break;
    case 'b':
      if (out)
        buf_putc(out, '\b');
      break;
    case 'f':
      if (out)
        buf_putc(out, '\f');
      break;
    case 'n':
      if (out)
        buf_putc(out, '\n');
      break;
    case 'r':
      if (out)
        buf_putc(out, '\r');
      break;
    case 't':
      if (out)
        buf_putc(out, '\t');
      break;
    case 'u': {
      uint32_t r;
      if (!gojson__u4(s, len, i, &r))
        return 0;
      i += 4;
      if (r >= 0xD800 && r < 0xDC00) {
        /* A high surrogate pairs with an immediately following low one;
         * otherwise it decodes to U+FFFD and the next escape stands alone. */
        uint32_t lo;
        if (i + 6 <= len && s[i] == '\\' && s[i + 1] == 'u' &&
            gojson__u4(s, len, i + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
          r = 0x10000 + ((r - 0xD800) << 10) + (lo - 0xDC00);
          i += 6;
        } else {
          r = UTF8_RUNE_ERROR;
        }
      } else if (r >= 0xDC00 && r < 0xE000) {
        r = UTF8_RUNE_ERROR;
      }
      if (out)
        utf8_append(out, r);
      break;
    }
    default:
      return 0;
    }
  }
  return 0;
}

static size_t gojson__number(const char *s, size_t len, size_t i) {
  if (i < len && s[i] == '-')
    i++;
  if (i >= len)
    return 0;
  if (s[i] == '0') {
    i++;
  } else if (s[i] >= '1' && s[i] <= '9') {
    while (i < len && s[i] >= '0' && s[i] <= '9')
      i++;
  } else {
    return 0;
  }
  if (i < len && s[i] == '.') {
    i++;
    if (i >= len || s[i] < '0' || s[i] > '9')
      return 0;
    while (i < len && s[i] >= '0' && s[i] <= '9')
      i++;
  }
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < len && (s[i] == '+' || s[i] == '-'))
      i++;
    if (i >= len || s[i] < '0' || s[i] > '9')
      return 0;
    while (i < len && s[i] >= '0' && s[i] <= '9')
      i++;
  }
  return i;
}

static size_t gojson__literal(const char *s, size_t len, size_t i,
                              const char *word, size_t n) {
  if (i + n > len)
    return 0;
  for (size_t k = 0; k < n; k++)
    if (s[i + k] != word[k])
      return 0;
  return i + n;
}

/* Validates one JSON value starting at s[i] without recursion.  Returns
 * the index past it, or 0 on a syntax error. */
static size_t gojson__value(const char *s, size_t len, size_t i) {
  /* '[' or '{' per open container: on the C stack until it gets deep. */
  char small[64];
  char *stack = small;
  size_t depth = 0, cap = sizeof(small);
  size_t result = 0;

  for (;;) {
    i = gojson__skip_ws(s, len, i);
    if (i >= len)
      goto done;
    /* Read a value (or open a container). */
    char c = s[i];
    if (c == '[' || c == '{') {
      if (depth >= GOJSON_MAX_DEPTH)
        goto done;
      if (depth == cap) {
        cap *= 2;
        if (stack == small) {
          stack = xmalloc(cap);
          memcpy(stack, small, sizeof(small));
        } else {
          stack = xrealloc(stack, cap);
        }
      }
      stack[depth++] = c;
      i = gojson__skip_ws(s, len, i + 1);
      if (i < len && s[i] == (c == '[' ? ']' : '}')) {
        depth--;
        i++;
      } else if (c == '{') {
        /* An object member starts with its key. */
        if (i >= len || s[i] != '"')
          goto done;
        i = gojson__string(s, len, i, NULL);
        if (i == 0)
          goto done;
        i = gojson__skip_ws(s, len, i);
        if (i >= len || s[i] != ':')
          goto done;
        i++;
        continue;
      } else {
        continue;
      }
    } else if (c == '"') {
      i = gojson__string(s, len, i, NULL);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      i = gojson__number(s, len, i);
    } else if (c == 't') {
      i = gojson__literal(s, len, i, "true", 4);
    } else if (c == 'f') {
      i = gojson__literal(s, len, i, "false", 5);
    } else if (c == 'n') {
      i = gojson__literal(s, len, i, "null", 4);
    } else {
      goto done;
    }
    if (i == 0)
      goto done;
    /* After a value: close containers or move to the next element. */
    for (;;) {
      if (depth == 0) {
        result = i;
        goto done;
      }
      i = gojson__skip_ws(s, len, i);
      if (i >= len)
        goto done;
      char open = stack[depth - 1];
      char close = open == '[' ? ']' : '}';
      if (s[i] == close) {
        depth--;
        i++;
        continue;
      }
      if (s[i] != ',')
        goto done;
      i = gojson__skip_ws(s, len, i + 1);
      if (open == '{') {
        if (i >= len || s[i] != '"')
          goto done;
        i = gojson__string(s, len, i, NULL);
        if (i == 0)
          goto done;
        i = gojson__skip_ws(s, len, i);
        if (i >= len || s[i] != ':')
          goto done;
        i++;
      }
      break;
    }
  }
done:
  if (stack != small)
    free(stack);
  return result;
}

enum gojson_result gojson_string_array(const char *s, size_t len,
                                       struct arena *arena,
                                       struct gojson_item **items,
                                       size_t *nitems) {
  size_t i = gojson__skip_ws(s, len, 0);
  if (i >= len || s[i] != '[')
    return GOJSON_INVALID;
  size_t end = gojson__value(s, len, i);
  if (end == 0 || gojson__skip_ws(s, len, end) != len)
    return GOJSON_INVALID;

  /* Valid JSON: every top-level element must be a string.  Check that
   * first, so a refusal leaves nothing behind in the arena. */
  size_t first = gojson__skip_ws(s, len, i + 1), n = 0;
  for (i = first; i < len && s[i] != ']';) {
    if (s[i] != '"')
      return GOJSON_NOT_STRINGS;
    i = gojson__skip_ws(s, len, gojson__string(s, len, i, NULL));
    if (i < len && s[i] == ',')
      i = gojson__skip_ws(s, len, i + 1);
    n++;
  }

  *items = xrealloc(*items, (*nitems + n) * sizeof(**items));
  struct gojson_item *it = *items + *nitems;
  struct buf b = BUF_INIT; /* one buffer for every element */
  for (i = first; i < len && s[i] != ']'; it++) {
    buf_reset(&b);
    size_t next = gojson__string(s, len, i, &b);
    it->value = arena_strndup(arena, b.data, b.len);
    it->len = b.len;
    it->start = i;
    it->end = next;
    i = gojson__skip_ws(s, len, next);
    if (i < len && s[i] == ',')
      i = gojson__skip_ws(s, len, i + 1);
  }
  buf_cleanup(&b);
  *nitems += n;
  return GOJSON_OK;
}
