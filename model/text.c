#include "text.h"

#include <string.h>

#include "../common/utf8.h"

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
    uint32_t r = utf8_decode(s + i, len - i, &w);
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
    uint32_t r = utf8_decode(s + start, end - start, &w);
    if (start + w != end) {
      /* Not a whole rune ending here: the last byte alone is invalid. */
      start = end - 1;
      r = UTF8_RUNE_ERROR;
    }
    if (!text_is_space(r))
      break;
    end = start;
  }
  return len - end;
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
