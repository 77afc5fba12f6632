/*
 * External scanner for the Dockwright Dockerfile grammar.
 *
 * It owns everything that depends on BuildKit's line rules:
 *   - the escape character (default '\\', '`' after `# escape=``), which
 *     decides line continuations and escape sequences;
 *   - parser directives, comments (a line whose first non-blank is '#'),
 *     blank and comment lines inside continuations;
 *   - instruction keywords (case-insensitive; anything else is an
 *     unknown_keyword);
 *   - the end of an instruction (newline or end of file);
 *   - the exec-versus-shell decision (a JSON validator that accepts exactly
 *     what Go's json.Decoder accepts for the first value);
 *   - shell-form text, heredoc markers and heredoc bodies;
 *   - word glue (_concat) so that "a"$b'c' stays one word;
 *   - for speed only: a word (or rest of line) that is plain text as one
 *     token, and a flag's '=' together with the glue to its value.
 *
 * State (serialized after every external token): escape char, a few flags,
 * the shell quote state of a RUN line, and the pending heredocs (name +
 * chomp) in order.  No allocation happens per token.
 */
#include "tree_sitter/parser.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum TokenType {
  EOL,
  EOF_TOK,
  LINE_CONTINUATION,
  COMMENT,
  COMMENT_NL,
  DIRECTIVE_START,
  KW_ADD,
  KW_ARG,
  KW_CMD,
  KW_COPY,
  KW_ENTRYPOINT,
  KW_ENV,
  KW_EXPOSE,
  KW_FROM,
  KW_HEALTHCHECK,
  KW_LABEL,
  KW_MAINTAINER,
  KW_ONBUILD,
  KW_RUN,
  KW_SHELL,
  KW_STOPSIGNAL,
  KW_USER,
  KW_VOLUME,
  KW_WORKDIR,
  UNKNOWN_KEYWORD,
  FLAG_START,
  JSON_START,
  NOT_JSON,
  JSON_NON_STRING,
  SHELL_FRAGMENT,
  HEREDOC_MARKER,
  HEREDOC_NL,
  HEREDOC_CONTENT,
  HEREDOC_END,
  ESCAPE_SEQUENCE,
  OTHER_CHAR,
  DOLLAR,
  DOLLAR_BRACE,
  LONE_DOLLAR,
  CONCAT,
  IMAGE_CONCAT,
  IMAGE_NAME_TEXT,
  HEREDOC_UNTERMINATED,
  PLAIN_WORD,
  PLAIN_REST,
  FLAG_EQ_VALUE,
  FLAGS_END,
  ERROR_SENTINEL,
};

#define KW_FIRST KW_ADD
#define KW_COUNT (KW_WORKDIR - KW_ADD + 1)

static const char *const KEYWORDS[KW_COUNT] = {
    "ADD",    "ARG",   "CMD",         "COPY",  "ENTRYPOINT", "ENV",
    "EXPOSE", "FROM",  "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD",
    "RUN",    "SHELL", "STOPSIGNAL",  "USER",  "VOLUME",     "WORKDIR",
};

/* flags */
#define F_IN_CONT 0x01      /* last token: continuation / comment inside it */
#define F_CONT_SPACE 0x02   /* blanks came before that continuation's escape */
#define F_CONT_COMMENT 0x04 /* last token: a comment inside a continuation */
#define F_HD_BODY 0x08      /* at the start of a heredoc body */
#define F_DIRECTIVE 0x10    /* inside a parser directive line */
#define F_START 0x20        /* nothing lexed yet: at the start of the file */

#define MAX_HEREDOCS 8
#define MAX_NAME 200
#define NAME_BUF 800

typedef struct {
  int32_t escape;
  uint8_t flags;
  uint8_t quote; /* shell quote state of the current RUN line: 0, '\'', '"' */
  uint8_t n_hd;
  uint8_t hd_chomp[MAX_HEREDOCS];
  uint16_t hd_len[MAX_HEREDOCS];
  uint16_t names_used;
  char names[NAME_BUF];
} Scanner;

/* ------------------------------------------------------------------ */
/* character classes                                                   */

static inline bool is_hspace(int32_t c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' ||
         c == 0xFEFF;
}

/* Go's unicode.IsSpace (plus the BOM, harmless here). */
static inline bool is_uspace(int32_t c) {
  return is_hspace(c) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

static inline bool is_digit(int32_t c) {
  return c >= '0' && c <= '9';
}

static inline bool is_name_start(int32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         is_digit(c) || c == '@' || c == '*' || c == '#' || c == '?' ||
         c == '$' || c == '!' || c == '-';
}

static inline void adv(TSLexer *l) {
  l->advance(l, false);
}
/* The runtime's lookahead is 0 at the end of input: ask eof() (a call)
 * only then, as this is checked for nearly every character. */
static inline bool at_eof(TSLexer *l) {
  return l->lookahead == 0 && l->eof(l);
}

/* ------------------------------------------------------------------ */
/* heredoc bookkeeping                                                 */

static const char *hd_name(const Scanner *s, unsigned i) {
  unsigned off = 0;
  for (unsigned k = 0; k < i; k++)
    off += s->hd_len[k];
  return s->names + off;
}

static bool hd_push(Scanner *s, const char *name, unsigned len, bool chomp) {
  if (s->n_hd >= MAX_HEREDOCS || s->names_used + len > NAME_BUF)
    return false;
  memcpy(s->names + s->names_used, name, len);
  s->names_used += len;
  s->hd_len[s->n_hd] = (uint16_t)len;
  s->hd_chomp[s->n_hd] = chomp;
  s->n_hd++;
  return true;
}

static void hd_pop(Scanner *s) {
  if (s->n_hd == 0)
    return;
  unsigned len = s->hd_len[0];
  memmove(s->names, s->names + len, s->names_used - len);
  s->names_used -= len;
  for (unsigned k = 1; k < s->n_hd; k++) {
    s->hd_len[k - 1] = s->hd_len[k];
    s->hd_chomp[k - 1] = s->hd_chomp[k];
  }
  s->n_hd--;
}

/* Decodes one UTF-8 code point from name[*i]; advances *i. */
static int32_t utf8_next(const char *name, unsigned len, unsigned *i) {
  const unsigned char *p = (const unsigned char *)name;
  unsigned char c = p[*i];
  int32_t cp;
  unsigned n;
  if (c < 0x80) {
    cp = c;
    n = 1;
  } else if ((c & 0xE0) == 0xC0) {
    cp = c & 0x1F;
    n = 2;
  } else if ((c & 0xF0) == 0xE0) {
    cp = c & 0x0F;
    n = 3;
  } else {
    cp = c & 0x07;
    n = 4;
  }
  if (*i + n > len) {
    (*i)++;
    return -1;
  }
  for (unsigned k = 1; k < n; k++)
    cp = (cp << 6) | (p[*i + k] & 0x3F);
  *i += n;
  return cp;
}

static unsigned utf8_put(char *buf, unsigned len, unsigned cap, int32_t cp) {
  if (cp < 0)
    cp = 0xFFFD;
  if (cp < 0x80) {
    if (len + 1 > cap)
      return cap + 1;
    buf[len++] = (char)cp;
  } else if (cp < 0x800) {
    if (len + 2 > cap)
      return cap + 1;
    buf[len++] = (char)(0xC0 | (cp >> 6));
    buf[len++] = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    if (len + 3 > cap)
      return cap + 1;
    buf[len++] = (char)(0xE0 | (cp >> 12));
    buf[len++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    buf[len++] = (char)(0x80 | (cp & 0x3F));
  } else {
    if (len + 4 > cap)
      return cap + 1;
    buf[len++] = (char)(0xF0 | (cp >> 18));
    buf[len++] = (char)(0x80 | ((cp >> 12) & 0x3F));
    buf[len++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    buf[len++] = (char)(0x80 | (cp & 0x3F));
  }
  return len;
}

/* ------------------------------------------------------------------ */
/* line helpers (pure lookahead)                                       */

/* Advances past the rest of the current line including its '\n'.
 * Returns false at end of file. */
static bool skip_line(TSLexer *l) {
  while (!at_eof(l)) {
    int32_t c = l->lookahead;
    adv(l);
    if (c == '\n')
      return true;
  }
  return false;
}

/* At a line start inside a continuation: skips comment lines and
 * whitespace-only lines (BuildKit drops both). */
static void skip_cont_filler(TSLexer *l) {
  for (;;) {
    while (!at_eof(l) && is_uspace(l->lookahead))
      adv(l);
    if (at_eof(l))
      return;
    if (l->lookahead == '\n') {
      adv(l);
      continue;
    }
    if (l->lookahead == '#') {
      if (!skip_line(l))
        return;
      continue;
    }
    return;
  }
}

/* At a line start: is this line the terminator NAME?  Advances.  When
 * `mark` is set, marks the token end right after the name. */
static bool match_terminator(TSLexer *l, const char *name, unsigned len,
                             bool chomp, bool mark) {
  if (chomp)
    while (l->lookahead == '\t')
      adv(l);
  unsigned i = 0;
  while (i < len) {
    int32_t cp = utf8_next(name, len, &i);
    if (at_eof(l) || l->lookahead != cp)
      return false;
    adv(l);
  }
  if (mark)
    l->mark_end(l);
  while (l->lookahead == '\r')
    adv(l);
  return at_eof(l) || l->lookahead == '\n';
}

/* From inside a logical line: advances to the start of the line after the
 * logical line (following continuations).  False at end of file. */
static bool skip_logical_line(TSLexer *l, int32_t esc, int32_t prev) {
  for (;;) {
    if (at_eof(l))
      return false;
    int32_t c = l->lookahead;
    if (c == '\n') {
      adv(l);
      return true;
    }
    if (c == esc) {
      unsigned n = 0;
      while (!at_eof(l) && l->lookahead == esc) {
        adv(l);
        n++;
      }
      if (n == 1 && prev != esc) {
        while (l->lookahead == ' ' || l->lookahead == '\t')
          adv(l);
        while (l->lookahead == '\r')
          adv(l);
        if (at_eof(l))
          return false;
        if (l->lookahead == '\n') {
          adv(l);
          skip_cont_filler(l);
          prev = '\n';
          continue;
        }
        prev = ' ';
        continue;
      }
      prev = esc;
      continue;
    }
    adv(l);
    prev = c;
  }
}

/* At a line start: skips a heredoc body through its terminator line. */
static bool skip_heredoc_body(TSLexer *l, const char *name, unsigned len,
                              bool chomp) {
  for (;;) {
    if (at_eof(l))
      return false;
    if (match_terminator(l, name, len, chomp, false)) {
      if (!at_eof(l))
        adv(l); /* the '\n' */
      return true;
    }
    if (!skip_line(l))
      return false;
  }
}

/* ------------------------------------------------------------------ */
/* heredoc markers                                                     */

typedef enum { HD_NO, HD_YES, HD_UNTERMINATED } HdResult;

/*
 * At the first character of a shell word.  Recognises BuildKit's
 * `^(\d*)<<(-?)\s*([^<]*)$` where the rest is one shell word (quotes and
 * backslash escapes removed to get the name).  Advances.  When `mark` is
 * set and the word is a marker, the token end is marked after the word.
 * On HD_YES the name is in name_out/len_out.  *quote_out receives the
 * quote state where scanning stopped (for the shell-text fallback).
 */
static HdResult try_heredoc(Scanner *s, TSLexer *l, bool mark, char *name_out,
                            unsigned *len_out, bool *chomp_out,
                            int32_t *quote_out) {
  *quote_out = 0;
  while (is_digit(l->lookahead))
    adv(l);
  if (l->lookahead != '<')
    return HD_NO;
  adv(l);
  if (l->lookahead != '<')
    return HD_NO;
  adv(l);
  bool chomp = false;
  if (l->lookahead == '-') {
    chomp = true;
    adv(l);
  } else {
    while (l->lookahead == ' ' || l->lookahead == '\t')
      adv(l);
  }
  unsigned len = 0;
  bool any = false, ok = true;
  int32_t q = 0;
  int32_t prev = '<';
  for (;;) {
    if (at_eof(l))
      break;
    int32_t c = l->lookahead;
    if (c == '\n')
      break;
    if (c == '<')
      ok = false;
    if (q == 0) {
      if (is_hspace(c))
        break;
      if (c == '\'' || c == '"') {
        q = c;
        any = true;
        adv(l);
        prev = c;
        continue;
      }
      if (c == '\\') {
        adv(l);
        prev = c;
        if (at_eof(l) || l->lookahead == '\n')
          break;
        c = l->lookahead;
      }
      len = utf8_put(name_out, len, MAX_NAME, c);
      any = true;
      adv(l);
      prev = c;
    } else if (q == '\'') {
      if (c == '\'')
        q = 0;
      else
        len = utf8_put(name_out, len, MAX_NAME, c);
      adv(l);
      prev = c;
    } else {
      if (c == '"') {
        q = 0;
        adv(l);
        prev = c;
        continue;
      }
      if (c == '\\') {
        adv(l);
        prev = c;
        if (at_eof(l) || l->lookahead == '\n')
          break;
        int32_t c2 = l->lookahead;
        if (c2 == '"' || c2 == '\\' || c2 == '$' || c2 == '`') {
          len = utf8_put(name_out, len, MAX_NAME, c2);
          adv(l);
          prev = c2;
        } else {
          len = utf8_put(name_out, len, MAX_NAME, '\\');
        }
        continue;
      }
      len = utf8_put(name_out, len, MAX_NAME, c);
      adv(l);
      prev = c;
    }
  }
  *quote_out = q;
  if (q != 0 || !ok || !any || len == 0 || len > MAX_NAME)
    return HD_NO;
  if (s->n_hd >= MAX_HEREDOCS || s->names_used + len > NAME_BUF)
    return HD_NO;
  if (mark)
    l->mark_end(l);
  *len_out = len;
  *chomp_out = chomp;
  /* Is it terminated?  Skip the rest of the logical line, the bodies of the
   * heredocs already pending, then look for this one's terminator. */
  if (!skip_logical_line(l, s->escape, prev))
    return HD_UNTERMINATED;
  for (unsigned i = 0; i < s->n_hd; i++) {
    if (!skip_heredoc_body(l, hd_name(s, i), s->hd_len[i], s->hd_chomp[i]))
      return HD_UNTERMINATED;
  }
  if (!skip_heredoc_body(l, name_out, len, chomp))
    return HD_UNTERMINATED;
  return HD_YES;
}

/* ------------------------------------------------------------------ */
/* JSON validation (what Go's json.Unmarshal accepts)                    */

/* Skips JSON whitespace inside the logical line, following line
 * continuations.  False when something else than whitespace or a proper
 * continuation is met that cannot be part of JSON (a stray escape). */
static bool json_ws(TSLexer *l, int32_t esc) {
  for (;;) {
    if (at_eof(l))
      return true;
    int32_t c = l->lookahead;
    if (c == ' ' || c == '\t' || c == '\r') {
      adv(l);
      continue;
    }
    if (c == esc) {
      adv(l);
      if (l->lookahead == esc)
        return false;
      while (l->lookahead == ' ' || l->lookahead == '\t')
        adv(l);
      while (l->lookahead == '\r')
        adv(l);
      if (at_eof(l))
        return true;
      if (l->lookahead == '\n') {
        adv(l);
        skip_cont_filler(l);
        continue;
      }
      return false;
    }
    return true;
  }
}

static bool json_lit(TSLexer *l, const char *w) {
  for (; *w; w++) {
    if (l->lookahead != *w)
      return false;
    adv(l);
  }
  return true;
}

static bool json_string_raw(TSLexer *l) {
  adv(l); /* '"' */
  for (;;) {
    if (at_eof(l))
      return false;
    int32_t c = l->lookahead;
    if (c < 0x20)
      return false;
    if (c == '"') {
      adv(l);
      return true;
    }
    if (c == '\\') {
      adv(l);
      c = l->lookahead;
      if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' ||
          c == 'n' || c == 'r' || c == 't') {
        adv(l);
        continue;
      }
      if (c == 'u') {
        adv(l);
        for (int k = 0; k < 4; k++) {
          int32_t h = l->lookahead;
          if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
                (h >= 'A' && h <= 'F')))
            return false;
          adv(l);
        }
        continue;
      }
      return false;
    }
    adv(l);
  }
}

static bool json_number(TSLexer *l) {
  if (l->lookahead == '-')
    adv(l);
  if (l->lookahead == '0') {
    adv(l);
  } else if (l->lookahead >= '1' && l->lookahead <= '9') {
    while (is_digit(l->lookahead))
      adv(l);
  } else {
    return false;
  }
  if (l->lookahead == '.') {
    adv(l);
    if (!is_digit(l->lookahead))
      return false;
    while (is_digit(l->lookahead))
      adv(l);
  }
  if (l->lookahead == 'e' || l->lookahead == 'E') {
    adv(l);
    if (l->lookahead == '+' || l->lookahead == '-')
      adv(l);
    if (!is_digit(l->lookahead))
      return false;
    while (is_digit(l->lookahead))
      adv(l);
  }
  return true;
}

static bool json_value(TSLexer *l, int32_t esc, int depth) {
  if (depth > 64 || at_eof(l))
    return false;
  int32_t c = l->lookahead;
  switch (c) {
  case '"':
    return json_string_raw(l);
  case '[':
    adv(l);
    if (!json_ws(l, esc))
      return false;
    if (l->lookahead == ']') {
      adv(l);
      return true;
    }
    for (;;) {
      if (!json_value(l, esc, depth + 1))
        return false;
      if (!json_ws(l, esc))
        return false;
      if (l->lookahead == ',') {
        adv(l);
        if (!json_ws(l, esc))
          return false;
        continue;
      }
      if (l->lookahead == ']') {
        adv(l);
        return true;
      }
      return false;
    }
  case '{':
    adv(l);
    if (!json_ws(l, esc))
      return false;
    if (l->lookahead == '}') {
      adv(l);
      return true;
    }
    for (;;) {
      if (l->lookahead != '"' || !json_string_raw(l))
        return false;
      if (!json_ws(l, esc))
        return false;
      if (l->lookahead != ':')
        return false;
      adv(l);
      if (!json_ws(l, esc))
        return false;
      if (!json_value(l, esc, depth + 1))
        return false;
      if (!json_ws(l, esc))
        return false;
      if (l->lookahead == ',') {
        adv(l);
        if (!json_ws(l, esc))
          return false;
        continue;
      }
      if (l->lookahead == '}') {
        adv(l);
        return true;
      }
      return false;
    }
  case 't':
    return json_lit(l, "true");
  case 'f':
    return json_lit(l, "false");
  case 'n':
    return json_lit(l, "null");
  default:
    if (c == '-' || is_digit(c))
      return json_number(l);
    return false;
  }
}

/* ------------------------------------------------------------------ */
/* token helpers                                                        */

static bool emit(Scanner *s, TSLexer *l, enum TokenType t) {
  l->result_symbol = t;
  s->flags &= (uint8_t)~F_START;
  switch (t) {
  case LINE_CONTINUATION:
  case COMMENT_NL:
  case COMMENT:
    break; /* flags set by the caller */
  case HEREDOC_NL:
    s->flags = F_HD_BODY;
    s->quote = 0;
    break;
  case EOL:
  case EOF_TOK:
    s->flags = 0;
    s->quote = 0;
    break;
  case DIRECTIVE_START:
    s->flags = F_DIRECTIVE;
    break;
  default:
    s->flags &=
        (uint8_t) ~(F_IN_CONT | F_CONT_SPACE | F_CONT_COMMENT | F_DIRECTIVE);
    break;
  }
  return true;
}

/* After the '\n' of a continuation or of a comment inside one: consume the
 * following whitespace-only lines, marking the end at each line start. */
static void consume_blank_lines(TSLexer *l) {
  for (;;) {
    while (!at_eof(l) && is_uspace(l->lookahead))
      adv(l);
    if (!at_eof(l) && l->lookahead == '\n') {
      adv(l);
      l->mark_end(l);
      continue;
    }
    return;
  }
}

/* Positioned just after the escape char of a continuation and any blanks;
 * at '\n' or EOF.  Emits LINE_CONTINUATION. */
static bool finish_continuation(Scanner *s, TSLexer *l, bool space_before) {
  if (!at_eof(l) && l->lookahead == '\n') {
    adv(l);
    l->mark_end(l);
    consume_blank_lines(l);
  } else {
    l->mark_end(l);
  }
  s->flags = (uint8_t)((s->flags & F_HD_BODY) | F_IN_CONT |
                       (space_before ? F_CONT_SPACE : 0));
  return emit(s, l, LINE_CONTINUATION);
}

/* The rest of a comment line; the token ends before '\r*\n'.  The end is
 * marked before each '\r' and at the line end, not after every character
 * (the caller has marked it after the '#'). */
static void comment_rest(TSLexer *l) {
  bool pending = false;
  for (;;) {
    int32_t c = l->lookahead;
    if (c == '\n' || at_eof(l))
      break;
    if (c == '\r') {
      if (pending) {
        l->mark_end(l);
        pending = false;
      }
    } else {
      pending = true;
    }
    adv(l);
  }
  if (pending)
    l->mark_end(l);
}

/* Is the current position (after `skipped` blanks skipped by this call)
 * the first non-blank of its line?  At the very start of the file the
 * runtime has already skipped a UTF-8 BOM, which get_column still counts. */
static bool at_line_start(Scanner *s, TSLexer *l, uint32_t skipped) {
  uint32_t col = l->get_column(l);
  if (col == skipped)
    return true;
  return (s->flags & F_START) && col == skipped + 1;
}

/* ------------------------------------------------------------------ */
/* shell text                                                          */

static bool scan_fragment(Scanner *s, TSLexer *l, const bool *valid,
                          bool started) {
  const int32_t esc = s->escape;
  const bool allow_hd = valid[HEREDOC_MARKER];
  int32_t q = s->quote;
  bool has = started;
  bool word_start = !started;
  /* The token ends after the last non-blank character taken.  Rather than
   * marking the end after every character (this loop reads most of a
   * Dockerfile's bytes), `pending` says that characters were taken since
   * the last mark, and the end is marked before anything that may not
   * belong to the token (blanks, an escape char, a heredoc marker). */
  bool pending = false;
  if (started)
    l->mark_end(l);
  for (;;) {
    int32_t c = l->lookahead;
    if (c == '\n' || (c == 0 && at_eof(l)))
      break;
    if (is_hspace(c)) {
      if (pending) {
        l->mark_end(l);
        pending = false;
      }
      adv(l);
      if (q == 0)
        word_start = true;
      continue;
    }
    if (c == esc) {
      if (pending) {
        l->mark_end(l);
        pending = false;
      }
      unsigned n = 0;
      while (l->lookahead == esc) {
        adv(l);
        n++;
      }
      if (n >= 2) {
        l->mark_end(l);
        has = true;
        word_start = false;
        continue;
      }
      c = l->lookahead;
      if (c == '\n' || (c == 0 && at_eof(l)))
        break; /* continuation: stop before it */
      if (c == ' ' || c == '\t' || c == '\r') {
        while (l->lookahead == ' ' || l->lookahead == '\t')
          adv(l);
        while (l->lookahead == '\r')
          adv(l);
        if (l->lookahead == '\n' || at_eof(l))
          break;
        word_start = false;
        continue;
      }
      adv(l);
      l->mark_end(l);
      has = true;
      word_start = false;
      continue;
    }
    if (q == 0 && word_start && allow_hd && (c == '<' || is_digit(c))) {
      if (pending) {
        l->mark_end(l);
        pending = false;
      }
      char name[MAX_NAME + 8];
      unsigned len = 0;
      bool chomp = false;
      int32_t hq = 0;
      HdResult r = try_heredoc(s, l, !has, name, &len, &chomp, &hq);
      if (r != HD_NO) {
        if (has)
          break;
        if (r == HD_YES) {
          hd_push(s, name, len, chomp);
          return emit(s, l, HEREDOC_MARKER);
        }
        return emit(s, l, HEREDOC_UNTERMINATED);
      }
      l->mark_end(l);
      has = true;
      word_start = false;
      q = hq;
      continue;
    }
    if (q == 0) {
      if (c == '\'' || c == '"')
        q = c;
    } else if (c == q) {
      q = 0;
    }
    adv(l);
    pending = true;
    has = true;
    word_start = false;
  }
  if (pending)
    l->mark_end(l);
  if (!has)
    return false;
  s->quote = (uint8_t)q;
  return emit(s, l, SHELL_FRAGMENT);
}

/* ------------------------------------------------------------------ */
/* word glue                                                            */

typedef enum { GLUE_NONE, GLUE_TOKEN, GLUE_FAIL } GlueResult;

/* Looks for '/' later in the current word (plain characters only). */
static bool colon_then_slash(TSLexer *l, int32_t esc) {
  for (;;) {
    if (at_eof(l))
      return false;
    int32_t c = l->lookahead;
    if (c == '/')
      return true;
    if (is_hspace(c) || c == '\n' || c == '@' || c == '"' || c == '\'' ||
        c == '$' || c == esc || c == '\\' || c == '`')
      return false;
    adv(l);
  }
}

static GlueResult scan_concat(Scanner *s, TSLexer *l, const bool *valid) {
  const bool image = !valid[CONCAT];
  const enum TokenType tok = image ? IMAGE_CONCAT : CONCAT;
  if (at_eof(l))
    return GLUE_NONE;
  int32_t c = l->lookahead;
  if (is_hspace(c) || c == '\n')
    return GLUE_NONE;
  if (s->flags & F_IN_CONT) {
    if (l->get_column(l) == 0) {
      /* right after a continuation: glued unless blanks preceded the
       * escape, or this line starts with blanks / is a comment */
      if (s->flags & F_CONT_SPACE)
        return GLUE_NONE;
      if (c == '#' || c == s->escape)
        return GLUE_NONE;
    }
  }
  l->mark_end(l);
  if (c == s->escape) {
    unsigned n = 0;
    while (!at_eof(l) && l->lookahead == s->escape) {
      adv(l);
      n++;
    }
    if (n == 1) {
      while (l->lookahead == ' ' || l->lookahead == '\t')
        adv(l);
      while (l->lookahead == '\r')
        adv(l);
      if (at_eof(l) || l->lookahead == '\n') {
        finish_continuation(s, l, false);
        return GLUE_TOKEN;
      }
    }
    emit(s, l, tok);
    return GLUE_TOKEN;
  }
  if (image) {
    if (c == '@')
      return GLUE_NONE;
    if (c == ':') {
      adv(l);
      if (!colon_then_slash(l, s->escape))
        return GLUE_FAIL;
    }
  }
  emit(s, l, tok);
  return GLUE_TOKEN;
}

/* ------------------------------------------------------------------ */
/* escape character at token start                                      */

static bool scan_escape(Scanner *s, TSLexer *l, const bool *valid,
                        bool space_before, bool err) {
  const int32_t esc = s->escape;
  unsigned n = 0;
  while (!at_eof(l) && l->lookahead == esc) {
    adv(l);
    n++;
  }
  if (n >= 2) {
    if (err)
      return false;
    l->mark_end(l);
    if (valid[SHELL_FRAGMENT])
      return scan_fragment(s, l, valid, true);
    if (valid[ESCAPE_SEQUENCE])
      return emit(s, l, ESCAPE_SEQUENCE);
    return false;
  }
  int32_t c = l->lookahead;
  if (at_eof(l) || c == '\n')
    return finish_continuation(s, l, space_before);
  if (c == ' ' || c == '\t' || c == '\r') {
    adv(l);
    l->mark_end(l);
    while (l->lookahead == ' ' || l->lookahead == '\t')
      adv(l);
    while (l->lookahead == '\r')
      adv(l);
    if (at_eof(l) || l->lookahead == '\n')
      return finish_continuation(s, l, space_before);
    if (err)
      return false;
    if (valid[SHELL_FRAGMENT])
      return scan_fragment(s, l, valid, true);
    if (valid[ESCAPE_SEQUENCE])
      return emit(s, l, ESCAPE_SEQUENCE);
    return false;
  }
  if (err)
    return false;
  adv(l);
  l->mark_end(l);
  if (valid[SHELL_FRAGMENT])
    return scan_fragment(s, l, valid, true);
  if (valid[ESCAPE_SEQUENCE])
    return emit(s, l, ESCAPE_SEQUENCE);
  return false;
}

/* ------------------------------------------------------------------ */
/* comments and directives                                              */

static bool lower_eq(const char *a, unsigned alen, const char *b) {
  unsigned blen = (unsigned)strlen(b);
  if (alen != blen)
    return false;
  for (unsigned i = 0; i < alen; i++) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    if (c != b[i])
      return false;
  }
  return true;
}

static inline bool is_re_space(int32_t c) {
  return c == ' ' || c == '\t' || c == '\f' || c == '\r';
}

static bool scan_comment(Scanner *s, TSLexer *l, const bool *valid, bool err) {
  if (!err && valid[DIRECTIVE_START]) {
    /* ^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$ with a known key */
    l->mark_end(l); /* zero-width if it is a directive */
    adv(l);         /* '#' */
    while (is_re_space(l->lookahead))
      adv(l);
    char key[16];
    unsigned klen = 0;
    bool ok = false;
    int32_t c = l->lookahead;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      while (!at_eof(l)) {
        c = l->lookahead;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c)))
          break;
        if (klen < sizeof key)
          key[klen] = (char)c;
        klen++;
        adv(l);
      }
      while (is_re_space(l->lookahead))
        adv(l);
      if (l->lookahead == '=' && klen <= sizeof key) {
        adv(l);
        while (is_re_space(l->lookahead))
          adv(l);
        /* value: up to the last non-space before the line end */
        char val[4];
        unsigned vlen = 0, total = 0;
        while (!at_eof(l) && l->lookahead != '\n') {
          c = l->lookahead;
          if (total < sizeof val)
            val[total] = (char)(c < 0x80 ? c : '?');
          total++;
          if (!is_re_space(c))
            vlen = total;
          adv(l);
        }
        bool known = lower_eq(key, klen, "syntax") ||
                     lower_eq(key, klen, "escape") ||
                     lower_eq(key, klen, "check");
        if (vlen > 0 && known) {
          ok = true;
          if (lower_eq(key, klen, "escape") && vlen == 1) {
            if (val[0] == '`')
              s->escape = '`';
            else if (val[0] == '\\')
              s->escape = '\\';
          }
        }
      }
    }
    if (ok)
      return emit(s, l, DIRECTIVE_START);
    /* an ordinary comment: finish the line (trailing '\r' included) */
    while (!at_eof(l) && l->lookahead != '\n')
      adv(l);
    l->mark_end(l);
    s->flags = 0;
    return emit(s, l, COMMENT);
  }
  adv(l); /* '#' */
  l->mark_end(l);
  comment_rest(l);
  if (s->flags & F_IN_CONT) {
    s->flags |= F_CONT_COMMENT;
  } else {
    s->flags &= F_HD_BODY;
  }
  return emit(s, l, COMMENT);
}

/* ------------------------------------------------------------------ */
/* keywords                                                             */

static bool scan_keyword(Scanner *s, TSLexer *l, const bool *valid) {
  char buf[16];
  unsigned len = 0;
  bool ascii = true;
  while (!at_eof(l)) {
    int32_t c = l->lookahead;
    if (is_hspace(c) || c == '\n')
      break;
    if (c == s->escape && len > 0)
      break;
    if (c >= 'a' && c <= 'z')
      c = c - 'a' + 'A';
    if (c < 'A' || c > 'Z')
      ascii = false;
    if (len < sizeof buf)
      buf[len] = (char)c;
    len++;
    adv(l);
    if (c == s->escape && len == 1 && !at_eof(l) && l->lookahead != '\n') {
      adv(l);
      len++;
      ascii = false;
    }
  }
  if (len == 0)
    return false;
  l->mark_end(l);
  if (ascii && len < sizeof buf) {
    for (unsigned k = 0; k < KW_COUNT; k++) {
      const char *w = KEYWORDS[k];
      if (strlen(w) == len && memcmp(w, buf, len) == 0) {
        if (valid[KW_FIRST + k])
          return emit(s, l, (enum TokenType)(KW_FIRST + k));
        break;
      }
    }
  }
  if (valid[UNKNOWN_KEYWORD])
    return emit(s, l, UNKNOWN_KEYWORD);
  return false;
}

/* ------------------------------------------------------------------ */
/* heredoc bodies                                                       */

static bool scan_heredoc_body(Scanner *s, TSLexer *l, const bool *valid) {
  if (s->n_hd == 0)
    return false;
  const char *name = hd_name(s, 0);
  unsigned len = s->hd_len[0];
  bool chomp = s->hd_chomp[0];
  if (valid[HEREDOC_END]) {
    if (!at_eof(l) && match_terminator(l, name, len, chomp, true)) {
      hd_pop(s);
      s->flags &= (uint8_t)~F_HD_BODY;
      return emit(s, l, HEREDOC_END);
    }
    if (!valid[HEREDOC_CONTENT])
      return false;
  }
  if (at_eof(l))
    return false;
  for (;;) {
    if (!skip_line(l)) {
      l->mark_end(l);
      break;
    }
    l->mark_end(l);
    if (at_eof(l))
      break;
    if (match_terminator(l, name, len, chomp, false))
      break;
  }
  return emit(s, l, HEREDOC_CONTENT);
}

/* ------------------------------------------------------------------ */
/* image names                                                          */

static bool scan_image_text(Scanner *s, TSLexer *l) {
  const int32_t esc = s->escape;
  bool any = false;
  for (;;) {
    if (at_eof(l))
      break;
    int32_t c = l->lookahead;
    if (is_hspace(c) || c == '\n' || c == '@' || c == '"' || c == '\'' ||
        c == '$' || c == esc || c == '\\' || c == '`')
      break;
    if (c == ':') {
      adv(l);
      if (colon_then_slash(l, esc)) {
        adv(l);
        l->mark_end(l);
        any = true;
        continue;
      }
      break;
    }
    adv(l);
    l->mark_end(l);
    any = true;
  }
  if (!any)
    return false;
  return emit(s, l, IMAGE_NAME_TEXT);
}

/* ------------------------------------------------------------------ */
/* plain words                                                          */

/* A character of the grammar's _text (/[^\s"'$\\`]+/).  Code points that
 * are spaces for one of Unicode White_Space / JS \s and not the other
 * count as not plain: the caller then leaves the word to the grammar. */
static inline bool is_plain(int32_t c) {
  if (c < 0x80)
    return c > ' ' && c != 0x7F && c != '"' && c != '\'' && c != '$' &&
           c != '\\' && c != '`';
  return !(c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000 || c == 0xFEFF);
}

/* Blanks the grammar skips as extras (and scan_concat never glues over). */
static inline bool is_blank(int32_t c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * PLAIN_WORD: a word that is exactly one plain text piece, ended by a blank,
 * the line end or the end of file.  PLAIN_REST: the rest of the line when it
 * is only plain text and blanks (the token ends after the last plain
 * character).  Each is one token aliased to the word's node, where the
 * grammar's pieces would cost a node with a hidden text child (one more
 * parser reduction).  Anything else (quotes, '$', escapes, glued pieces,
 * a continuation, unusual spaces) returns false without a token, and the
 * grammar's piece rules read the word as before.
 */
static bool scan_plain(Scanner *s, TSLexer *l, const bool *valid) {
  int32_t c;
  if (valid[PLAIN_REST] && !valid[PLAIN_WORD]) {
    for (;;) {
      /* a run of plain characters, then the end is marked after it */
      do {
        adv(l);
        c = l->lookahead;
      } while (is_plain(c));
      l->mark_end(l);
      while (is_blank(c)) {
        adv(l);
        c = l->lookahead;
      }
      if (c == '\n' || (c == 0 && at_eof(l)))
        return emit(s, l, PLAIN_REST);
      if (!is_plain(c))
        return false;
    }
  }
  do {
    adv(l);
    c = l->lookahead;
  } while (is_plain(c));
  if (c == '\n' || (c == 0 && at_eof(l))) {
    l->mark_end(l);
    return emit(s, l, PLAIN_WORD);
  }
  if (!is_blank(c))
    return false; /* a glued piece follows */
  l->mark_end(l);
  /* Blanks then the escape char: leave the word to the grammar, whose glue
   * after such a continuation (when a line holding only the escape char
   * follows) joins the next line's word to this one. */
  do {
    adv(l);
    c = l->lookahead;
  } while (is_blank(c));
  if (c == s->escape)
    return false;
  return emit(s, l, PLAIN_WORD);
}

/* ------------------------------------------------------------------ */
/* entry points                                                         */

void *tree_sitter_dockerfile_external_scanner_create(void) {
  Scanner *s = calloc(1, sizeof(Scanner));
  if (s) {
    s->escape = '\\';
    s->flags = F_START;
  }
  return s;
}

void tree_sitter_dockerfile_external_scanner_destroy(void *payload) {
  free(payload);
}

unsigned tree_sitter_dockerfile_external_scanner_serialize(void *payload,
                                                           char *buffer) {
  Scanner *s = payload;
  unsigned n = 0;
  buffer[n++] = (char)(s->escape == '`' ? 1 : 0);
  buffer[n++] = (char)s->flags;
  buffer[n++] = (char)s->quote;
  buffer[n++] = (char)s->n_hd;
  for (unsigned i = 0; i < s->n_hd; i++) {
    buffer[n++] = (char)s->hd_chomp[i];
    buffer[n++] = (char)(s->hd_len[i] & 0xFF);
    buffer[n++] = (char)(s->hd_len[i] >> 8);
  }
  if (s->names_used) { /* usually none: skip the call */
    memcpy(buffer + n, s->names, s->names_used);
    n += s->names_used;
  }
  return n;
}

void tree_sitter_dockerfile_external_scanner_deserialize(void *payload,
                                                         const char *buffer,
                                                         unsigned length) {
  Scanner *s = payload;
  s->escape = '\\';
  s->flags = 0;
  s->quote = 0;
  s->n_hd = 0;
  s->names_used = 0;
  if (length < 4) {
    s->flags = F_START;
    return;
  }
  unsigned n = 0;
  s->escape = buffer[n++] ? '`' : '\\';
  s->flags = (uint8_t)buffer[n++];
  s->quote = (uint8_t)buffer[n++];
  unsigned count = (uint8_t)buffer[n++];
  if (count > MAX_HEREDOCS)
    count = 0;
  unsigned total = 0;
  for (unsigned i = 0; i < count && n + 3 <= length; i++) {
    s->hd_chomp[i] = (uint8_t)buffer[n++];
    s->hd_len[i] =
        (uint16_t)((uint8_t)buffer[n] | ((uint8_t)buffer[n + 1] << 8));
    n += 2;
    total += s->hd_len[i];
    s->n_hd = (uint8_t)(i + 1);
  }
  if (total > NAME_BUF || n + total > length) {
    s->n_hd = 0;
    return;
  }
  if (total)
    memcpy(s->names, buffer + n, total);
  s->names_used = (uint16_t)total;
}

bool tree_sitter_dockerfile_external_scanner_scan(void *payload, TSLexer *l,
                                                  const bool *valid) {
  Scanner *s = payload;
  const bool err = valid[ERROR_SENTINEL];

  /* heredoc bodies: raw lines, nothing skipped */
  if ((s->flags & F_HD_BODY) && (valid[HEREDOC_CONTENT] || valid[HEREDOC_END]))
    return scan_heredoc_body(s, l, valid);

  /* inside a parser directive only the line end matters */
  if (s->flags & F_DIRECTIVE) {
    while (is_hspace(l->lookahead))
      l->advance(l, true);
    if (at_eof(l)) {
      if (valid[EOF_TOK] && !err) {
        l->mark_end(l);
        return emit(s, l, EOF_TOK);
      }
      return false;
    }
    if (l->lookahead == '\n' && valid[EOL]) {
      adv(l);
      l->mark_end(l);
      return emit(s, l, EOL);
    }
    return false;
  }

  /* word glue (zero width) */
  if (!err && (valid[CONCAT] || valid[IMAGE_CONCAT])) {
    GlueResult g = scan_concat(s, l, valid);
    if (g == GLUE_TOKEN)
      return true;
    if (g == GLUE_FAIL)
      return false;
  }

  uint32_t skipped = 0;
  bool skipped_bom = false;
  while (!at_eof(l) && is_hspace(l->lookahead)) {
    if (l->lookahead == 0xFEFF)
      skipped_bom = true;
    l->advance(l, true);
    skipped++;
  }

  if (at_eof(l)) {
    if (!err && valid[EOF_TOK]) {
      l->mark_end(l);
      return emit(s, l, EOF_TOK);
    }
    return false;
  }

  int32_t c = l->lookahead;

  if (c == '\n') {
    if ((s->flags & F_CONT_COMMENT) && valid[COMMENT_NL]) {
      adv(l);
      l->mark_end(l);
      consume_blank_lines(l);
      s->flags &= (uint8_t)~F_CONT_COMMENT;
      return emit(s, l, COMMENT_NL);
    }
    if (s->n_hd > 0 && valid[HEREDOC_NL]) {
      adv(l);
      l->mark_end(l);
      return emit(s, l, HEREDOC_NL);
    }
    if (valid[EOL]) {
      adv(l);
      l->mark_end(l);
      /* fold following blank lines into this token: fewer top-level items
       * makes incremental reparses cheaper */
      consume_blank_lines(l);
      return emit(s, l, EOL);
    }
    return false;
  }

  if (c == '#' && valid[COMMENT] && at_line_start(s, l, skipped))
    return scan_comment(s, l, valid, err);

  if (c == s->escape)
    return scan_escape(s, l, valid, skipped > 0, err);

  /* Glued to a flag name or to a flag's '=': only the flag's own '=' or
   * value pieces can follow, never the start of the instruction body. */
  bool at_glue =
      skipped == 0 && !((s->flags & F_IN_CONT) && l->get_column(l) == 0);
  bool glued = valid[FLAG_START] && at_glue;
  if (c == '=' && (glued || (at_glue && valid[FLAG_EQ_VALUE]))) {
    /* A flag's or an ENV/LABEL/ARG pair's '=' with its value right after
     * it: one token where the internal '=' plus the zero-width glue
     * (scan_concat) would be two.  Only when the glue would certainly
     * follow: not before a blank, the line end or the escape char
     * (continuation rules).  After a blank BuildKit's value is empty
     * (`ENV A= B=2` is A="" and B=2). */
    if (err || !valid[FLAG_EQ_VALUE])
      return false;
    adv(l);
    int32_t c2 = l->lookahead;
    if (is_hspace(c2) || c2 == '\n' || c2 == s->escape || at_eof(l))
      return false;
    l->mark_end(l);
    return emit(s, l, FLAG_EQ_VALUE);
  }

  if (err) {
    /* error recovery: offer instruction keywords at line starts so the
     * parser can resynchronise on the next instruction */
    if (valid[KW_FROM] && at_line_start(s, l, skipped))
      return scan_keyword(s, l, valid);
    return false;
  }

  if (valid[KW_FROM] || valid[UNKNOWN_KEYWORD])
    return scan_keyword(s, l, valid);

  if (glued)
    goto pieces;

  if (c == '-' && valid[FLAG_START]) {
    adv(l);
    if (l->lookahead == '-') {
      adv(l);
      int32_t c3 = l->lookahead;
      if (!at_eof(l) && !is_hspace(c3) && c3 != '\n' && c3 != '=') {
        l->mark_end(l);
        return emit(s, l, FLAG_START);
      }
      /* a lone `--` ends the flags (extractBuilderFlags): what follows is
       * the instruction's arguments, even when it starts with `--` */
      if ((at_eof(l) || is_hspace(c3) || c3 == '\n') && valid[FLAGS_END]) {
        l->mark_end(l);
        return emit(s, l, FLAGS_END);
      }
    }
    if (valid[SHELL_FRAGMENT])
      return scan_fragment(s, l, valid, true);
    return false;
  }

  if (c == '[' && (valid[JSON_START] || valid[NOT_JSON])) {
    l->mark_end(l);
    /* BuildKit uses json.Unmarshal: one value, then only blanks to the end
     * of the logical line; any text after ']' makes it shell form. */
    bool ok = json_value(l, s->escape, 0) && json_ws(l, s->escape) &&
              (at_eof(l) || l->lookahead == '\n');
    if (ok && valid[JSON_START])
      return emit(s, l, JSON_START);
    if (!ok && valid[NOT_JSON])
      return emit(s, l, NOT_JSON);
    return false;
  }

  if (valid[JSON_NON_STRING] && c != '"' && c != ',' && c != ']') {
    if (json_value(l, s->escape, 0)) {
      l->mark_end(l);
      return emit(s, l, JSON_NON_STRING);
    }
    return false;
  }

  if (valid[HEREDOC_MARKER] && (c == '<' || is_digit(c))) {
    char name[MAX_NAME + 8];
    unsigned len = 0;
    bool chomp = false;
    int32_t hq = 0;
    HdResult r = try_heredoc(s, l, true, name, &len, &chomp, &hq);
    if (r == HD_YES) {
      hd_push(s, name, len, chomp);
      return emit(s, l, HEREDOC_MARKER);
    }
    if (r == HD_UNTERMINATED)
      return emit(s, l, HEREDOC_UNTERMINATED);
    if (valid[SHELL_FRAGMENT]) {
      s->quote = (uint8_t)hq;
      return scan_fragment(s, l, valid, true);
    }
    return false;
  }

  if (valid[SHELL_FRAGMENT])
    return scan_fragment(s, l, valid, false);

  /* A plain word is all or nothing: on failure the grammar's pieces read
   * it.  The rest of a line needs blanks before it: where it is valid right
   * after a legacy ENV/LABEL key, a glued '=' is the pair's '=' instead.
   * Not after a skipped U+FEFF: the grammar's text token would start at it
   * (it is an extra only where no token starts). */
  if ((valid[PLAIN_WORD] || (valid[PLAIN_REST] && skipped > 0)) &&
      !skipped_bom && is_plain(c))
    return scan_plain(s, l, valid);

pieces:
  if (c == '$' &&
      (valid[DOLLAR] || valid[DOLLAR_BRACE] || valid[LONE_DOLLAR])) {
    adv(l);
    l->mark_end(l);
    int32_t c2 = l->lookahead;
    if (c2 == '{' && valid[DOLLAR_BRACE]) {
      adv(l);
      l->mark_end(l);
      return emit(s, l, DOLLAR_BRACE);
    }
    if (c2 != '{' && is_name_start(c2) && valid[DOLLAR])
      return emit(s, l, DOLLAR);
    if (valid[LONE_DOLLAR])
      return emit(s, l, LONE_DOLLAR);
    return false;
  }

  if ((c == '\\' || c == '`') && valid[OTHER_CHAR]) {
    adv(l);
    l->mark_end(l);
    return emit(s, l, OTHER_CHAR);
  }

  if (valid[IMAGE_NAME_TEXT] && !glued)
    return scan_image_text(s, l);

  return false;
}
