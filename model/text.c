#include "text.h"

#include <string.h>

#include "../common/buf.h"

uint32_t text_decode_rune(const char *s, size_t len, size_t *width) {
  const unsigned char *p = (const unsigned char *)s;
  *width = 1;
  if (len == 0) {
    *width = 0;
    return TEXT_RUNE_ERROR;
  }
  unsigned c = p[0];
  if (c < 0x80)
    return c;
  size_t n;
  uint32_t r, min;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    r = c & 0x1F;
    min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    r = c & 0x0F;
    min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    r = c & 0x07;
    min = 0x10000;
  } else {
    return TEXT_RUNE_ERROR;
  }
  if (len < n)
    return TEXT_RUNE_ERROR;
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xC0) != 0x80)
      return TEXT_RUNE_ERROR;
    r = (r << 6) | (p[i] & 0x3F);
  }
  /* Overlong forms, surrogates and values past U+10FFFF are invalid. */
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
    return TEXT_RUNE_ERROR;
  *width = n;
  return r;
}

bool text_is_space(uint32_t r) {
  switch (r) {
  case '\t':
  case '\n':
  case '\v':
  case '\f':
  case '\r':
  case ' ':
  case 0x85:
  case 0xA0:
  case 0x1680:
  case 0x2028:
  case 0x2029:
  case 0x202F:
  case 0x205F:
  case 0x3000:
    return true;
  default:
    return r >= 0x2000 && r <= 0x200A;
  }
}

bool text_is_print(uint32_t r) {
  if (r < 0x20 || r == 0x7F)
    return false;
  if (r < 0x7F)
    return true;
  if (r < 0xA1) /* C1 controls and U+00A0, a space other than ' ' */
    return false;
  if (r == 0xAD) /* soft hyphen, a format character */
    return false;
  /* Format characters, separators and other non-graphic ranges that
   * appear in real text; everything else assigned is graphic. */
  if ((r >= 0x600 && r <= 0x605) || r == 0x61C || r == 0x6DD || r == 0x70F ||
      r == 0x180E || r == 0x1680 || (r >= 0x2000 && r <= 0x200F) ||
      (r >= 0x2028 && r <= 0x202F) || (r >= 0x205F && r <= 0x2064) ||
      (r >= 0x2066 && r <= 0x206F) || r == 0x3000 ||
      (r >= 0xD800 && r <= 0xF8FF) || r == 0xFEFF ||
      (r >= 0xFFF0 && r <= 0xFFFB) || r == 0xFFFE || r == 0xFFFF ||
      (r >= 0xE0000 && r <= 0xE007F) || r >= 0xF0000)
    return false;
  return true;
}

size_t text_space_prefix(const char *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    size_t w;
    uint32_t r = text_decode_rune(s + i, len - i, &w);
    if (!text_is_space(r))
      break;
    i += w;
  }
  return i;
}

size_t text_space_suffix(const char *s, size_t len) {
  size_t end = len;
  while (end > 0) {
    /* Find the start of the last rune: at most 4 bytes back. */
    size_t start = end - 1;
    while (start > 0 && end - start < 4 &&
           ((unsigned char)s[start] & 0xC0) == 0x80)
      start--;
    size_t w;
    uint32_t r = text_decode_rune(s + start, end - start, &w);
    if (start + w != end) {
      /* Not a whole rune ending here: the last byte alone is invalid. */
      start = end - 1;
      r = TEXT_RUNE_ERROR;
    }
    if (!text_is_space(r))
      break;
    end = start;
  }
  return len - end;
}

void text_append_rune(struct buf *b, uint32_t r) {
  char out[4];
  if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
    r = TEXT_RUNE_ERROR;
  if (r < 0x80) {
    out[0] = (char)r;
    buf_append(b, out, 1);
  } else if (r < 0x800) {
    out[0] = (char)(0xC0 | (r >> 6));
    out[1] = (char)(0x80 | (r & 0x3F));
    buf_append(b, out, 2);
  } else if (r < 0x10000) {
    out[0] = (char)(0xE0 | (r >> 12));
    out[1] = (char)(0x80 | ((r >> 6) & 0x3F));
    out[2] = (char)(0x80 | (r & 0x3F));
    buf_append(b, out, 3);
  } else {
    out[0] = (char)(0xF0 | (r >> 18));
    out[1] = (char)(0x80 | ((r >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((r >> 6) & 0x3F));
    out[3] = (char)(0x80 | (r & 0x3F));
    buf_append(b, out, 4);
  }
}

bool text_ieq(const char *s, size_t len, const char *lower) {
  size_t n = strlen(lower);
  if (n != len)
    return false;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    if (c != lower[i])
      return false;
  }
  return true;
}
