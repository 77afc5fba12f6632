#include "dump.h"

#include <string.h>

#include "text.h"

void dump_go_quote(struct buf *b, const char *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  buf_putc(b, '"');
  size_t i = 0;
  while (i < len) {
    size_t w;
    uint32_t r = utf8_decode(s + i, len - i, &w);
    if (r == UTF8_RUNE_ERROR && w == 1) {
      /* An invalid byte is written as \xNN. */
      unsigned char c = (unsigned char)s[i];
      buf_puts(b, "\\x");
      buf_putc(b, hex[c >> 4]);
      buf_putc(b, hex[c & 15]);
      i++;
      continue;
    }
    i += w;
    if (r == '"' || r == '\\') {
      buf_putc(b, '\\');
      buf_putc(b, (char)r);
      continue;
    }
    if (text_is_print(r)) {
      buf_append(b, s + i - w, w);
      continue;
    }
    switch (r) {
    case '\a':
      buf_puts(b, "\\a");
      continue;
    case '\b':
      buf_puts(b, "\\b");
      continue;
    case '\f':
      buf_puts(b, "\\f");
      continue;
    case '\n':
      buf_puts(b, "\\n");
      continue;
    case '\r':
      buf_puts(b, "\\r");
      continue;
    case '\t':
      buf_puts(b, "\\t");
      continue;
    case '\v':
      buf_puts(b, "\\v");
      continue;
    default:
      break;
    }
    if (r < ' ' || r == 0x7F) {
      buf_puts(b, "\\x");
      buf_putc(b, hex[r >> 4]);
      buf_putc(b, hex[r & 15]);
    } else if (r < 0x10000) {
      buf_printf(b, "\\u%04x", (unsigned)r);
    } else {
      buf_printf(b, "\\U%08x", (unsigned)r);
    }
  }
  buf_putc(b, '"');
}

static void dump__lower(struct buf *b, const char *s) {
  for (; *s; s++) {
    char c = *s;
    if (c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    buf_putc(b, c);
  }
}

void dump_instr(struct buf *b, const struct df_instr *in) {
  /* Go trims the result of each node's dump; only an empty keyword (never
   * produced) could make that matter, so plain concatenation is exact. */
  buf_putc(b, '(');
  dump__lower(b, in->keyword);
  if (in->nflags) {
    buf_puts(b, " [");
    for (size_t i = 0; i < in->nflags; i++) {
      if (i)
        buf_putc(b, ' ');
      dump_go_quote(b, in->flags[i].text, strlen(in->flags[i].text));
    }
    buf_putc(b, ']');
  }
  if (in->sub) {
    buf_putc(b, ' ');
    dump_instr(b, in->sub);
  }
  for (size_t i = 0; i < in->nargs; i++) {
    buf_putc(b, ' ');
    dump_go_quote(b, in->args[i].value, in->args[i].len);
  }
  buf_putc(b, ')');
}

void dump_buildkit(struct buf *b, const struct dockerfile *df) {
  for (size_t i = 0; i < df->ninstrs; i++) {
    dump_instr(b, &df->instrs[i]);
    buf_putc(b, '\n');
  }
}
