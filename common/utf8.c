#include "utf8.h"

uint32_t utf8_decode(const char *s, size_t len, size_t *width) {
  const unsigned char *p = (const unsigned char *)s;
  *width = 1;
  if (len == 0) {
    *width = 0;
    return UTF8_RUNE_ERROR;
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
    return UTF8_RUNE_ERROR;
  }
  if (len < n)
    return UTF8_RUNE_ERROR;
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xC0) != 0x80)
      return UTF8_RUNE_ERROR;
    r = (r << 6) | (p[i] & 0x3F);
  }
  /* Overlong forms, surrogates and values past U+10FFFF are invalid. */
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
    return UTF8_RUNE_ERROR;
  *width = n;
  return r;
}

void utf8_append(struct buf *b, uint32_t r) {
  char out[4];
  if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
    r = UTF8_RUNE_ERROR;
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
