#include "args.h"

#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "gojson.h"
#include "text.h"

void args_list_push(struct args_list *l, char *value, size_t start,
                    size_t end) {
  args_list_push_len(l, value, strlen(value), start, end);
}

void args_list_push_len(struct args_list *l, char *value, size_t len,
                        size_t start, size_t end) {
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 8;
    l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
  }
  l->v[l->n].value = value;
  l->v[l->n].len = len;
  l->v[l->n].start = start;
  l->v[l->n].end = end;
  l->n++;
}

void args_list_cleanup(struct args_list *l) {
  free(l->v);
  memset(l, 0, sizeof(*l));
}

void args_result_cleanup(struct args_result *r) {
  args_list_cleanup(&r->values);
  free(r->error);
  memset(r, 0, sizeof(*r));
}

/* BuildKit's reWhitespace: [\t\v\f\r ]. */
static bool args__ws(char c) {
  return c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == ' ';
}

/* unicode.IsSpace(rune(b)) for a single byte, as BuildKit's byte loops do:
 * 0x85 and 0xA0 count, even inside a UTF-8 sequence. */
static bool args__byte_space(unsigned char b) {
  return b == '\t' || b == '\n' || b == '\v' || b == '\f' || b == '\r' ||
         b == ' ' || b == 0x85 || b == 0xA0;
}

/* Appends string(rune(b)) for one byte: Latin-1 to UTF-8, as Go does when a
 * byte is converted to a rune. */
static void args__put_byte_rune(struct buf *b, unsigned char c) {
  utf8_append(b, c);
}

/* The word built so far, copied into the arena; the buffer is kept for
 * the next word. */
static char *args__word(struct buf *word, struct arena *arena) {
  char *v = arena_strndup(arena, word->data, word->len);
  buf_reset(word);
  return v;
}

/* Length of the run at s[0..n) of ASCII bytes that need no care: not a
 * space when `spaces` stop the run (BuildKit's byte loops and
 * unicode.IsSpace agree on ASCII), not one of the three special bytes.
 * Words are mostly such runs, and one append per run instead of one per
 * character is most of their cost. */
static size_t args__plain_run(const char *s, size_t n, bool spaces, char sp1,
                              char sp2, char sp3) {
  size_t i = 0;
  for (; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x80 || c == (unsigned char)sp1 || c == (unsigned char)sp2 ||
        c == (unsigned char)sp3)
      break;
    if (spaces && (c == ' ' || (c >= '\t' && c <= '\r')))
      break;
  }
  return i;
}

/* strings.TrimSpace on line[*start..*end). */
static void args__trim(const char *line, size_t *start, size_t *end) {
  *start += text_space_prefix(line + *start, *end - *start);
  *end -= text_space_suffix(line + *start, *end - *start);
}

/* extractBuilderFlags: reads "--flag" words from line[start..end).  Sets
 * *rest to where the arguments begin (end when the line is all flags). */
static void args__builder_flags(const char *line, size_t start, size_t end,
                                struct arena *arena, struct args_list *flags,
                                size_t *rest) {
  enum { IN_SPACES, IN_WORD, IN_QUOTE } phase = IN_SPACES;
  struct buf word = BUF_INIT;
  bool blank_ok = false;
  char quote = 0;
  size_t word_start = start;

  *rest = end;
  for (size_t pos = start; pos <= end; pos++) {
    unsigned char ch = pos < end ? (unsigned char)line[pos] : 0;

    if (phase == IN_SPACES) {
      if (pos == end)
        break;
      if (args__byte_space(ch))
        continue;
      /* Only a word starting with "--" is a flag. */
      if (ch != '-' || pos + 1 == end || line[pos + 1] != '-') {
        *rest = pos;
        goto out;
      }
      phase = IN_WORD;
      word_start = pos;
    }
    if (pos == end) {
      bool dashdash = word.len == 2 && memcmp(word.data, "--", 2) == 0;
      if (!dashdash && (blank_ok || word.len > 0))
        args_list_push(flags, args__word(&word, arena), word_start, pos);
      break;
    }
    if (phase == IN_WORD) {
      if (args__byte_space(ch)) {
        phase = IN_SPACES;
        if (word.len == 2 && memcmp(word.data, "--", 2) == 0) {
          *rest = pos;
          goto out;
        }
        if (blank_ok || word.len > 0)
          args_list_push(flags, args__word(&word, arena), word_start, pos);
        buf_reset(&word);
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = (char)ch;
        blank_ok = true;
        phase = IN_QUOTE;
        continue;
      }
      if (ch == '\\') {
        if (pos + 1 == end)
          continue; /* a backslash at the end is dropped */
        pos++;
        ch = (unsigned char)line[pos];
      } else {
        /* A run of plain bytes goes at once (the loop's pos++ steps over
         * its last byte). */
        size_t run =
            args__plain_run(line + pos, end - pos, true, '\\', '\'', '"');
        if (run > 1) {
          buf_append(&word, line + pos, run);
          pos += run - 1;
          continue;
        }
      }
      args__put_byte_rune(&word, ch);
      continue;
    }
    /* IN_QUOTE */
    if ((char)ch == quote) {
      phase = IN_WORD;
      continue;
    }
    if (ch == '\\') {
      if (pos + 1 == end) {
        phase = IN_WORD;
        continue;
      }
      pos++;
      ch = (unsigned char)line[pos];
    } else {
      size_t run =
          args__plain_run(line + pos, end - pos, false, quote, '\\', quote);
      if (run > 1) {
        buf_append(&word, line + pos, run);
        pos += run - 1;
        continue;
      }
    }
    args__put_byte_rune(&word, ch);
  }
out:
  buf_cleanup(&word);
}

void args_split_command(const char *line, size_t len, struct arena *arena,
                        struct args_command *out) {
  struct args_list flags = out->flags;
  flags.n = 0;
  memset(out, 0, sizeof(*out));
  out->flags = flags;
  size_t s = 0, e = len;
  args__trim(line, &s, &e);
  size_t c = s;
  while (c < e && !args__ws(line[c]))
    c++;
  out->cmd_start = s;
  out->cmd_end = c;
  out->rest_start = out->rest_end = e;
  if (c == e)
    return;
  size_t a = c;
  while (a < e && args__ws(line[a]))
    a++;
  size_t rest;
  args__builder_flags(line, a, e, arena, &out->flags, &rest);
  size_t rs = rest, re = e;
  args__trim(line, &rs, &re);
  out->rest_start = rs;
  out->rest_end = re;
}

/* parseWords: shell-like words, quotes and escapes kept as written. */
static void args__words(const char *line, size_t start, size_t end,
                        char escape, struct arena *arena,
                        struct args_list *out) {
  enum { IN_SPACES, IN_WORD, IN_QUOTE } phase = IN_SPACES;
  struct buf word = BUF_INIT;
  bool blank_ok = false;
  uint32_t quote = 0;
  size_t word_start = start, w = 0;

  for (size_t pos = start; pos <= end; pos += w) {
    uint32_t ch = 0;
    w = 0;
    if (pos != end)
      ch = utf8_decode(line + pos, end - pos, &w);

    if (phase == IN_SPACES) {
      if (pos == end)
        break;
      if (text_is_space(ch))
        continue;
      phase = IN_WORD;
      word_start = pos;
    }
    /* The end of input inside a quote still ends the word (the reading
     * BuildKit's parser test data records). */
    if (pos == end) {
      if (blank_ok || word.len > 0)
        args_list_push(out, args__word(&word, arena), word_start, pos);
      break;
    }
    if (phase == IN_WORD) {
      if (text_is_space(ch)) {
        phase = IN_SPACES;
        if (blank_ok || word.len > 0)
          args_list_push(out, args__word(&word, arena), word_start, pos);
        buf_reset(&word);
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
        blank_ok = true;
        phase = IN_QUOTE;
      } else if (ch != (uint32_t)(unsigned char)escape) {
        /* A run of plain bytes goes at once. */
        size_t run =
            args__plain_run(line + pos, end - pos, true, '\'', '"', escape);
        if (run > 1) {
          buf_append(&word, line + pos, run);
          w = run;
          continue;
        }
      }
      if (ch == (uint32_t)(unsigned char)escape) {
        if (pos + w == end)
          continue; /* an escape at the very end is dropped */
        utf8_append(&word, ch);
        pos += w;
        ch = utf8_decode(line + pos, end - pos, &w);
      }
      utf8_append(&word, ch);
      continue;
    }
    /* IN_QUOTE */
    if (ch == quote) {
      phase = IN_WORD;
    } else if (ch != (uint32_t)(unsigned char)escape || quote == '\'') {
      /* A run of plain bytes goes at once; inside single quotes the
       * escape character is plain. */
      char q = (char)quote, esc = quote == '\'' ? q : escape;
      size_t run = args__plain_run(line + pos, end - pos, false, q, esc, q);
      if (run > 1) {
        buf_append(&word, line + pos, run);
        w = run;
        continue;
      }
    }
    if (ch == (uint32_t)(unsigned char)escape && quote != '\'') {
      if (pos + w == end) {
        phase = IN_WORD;
        continue;
      }
      pos += w;
      utf8_append(&word, ch);
      ch = utf8_decode(line + pos, end - pos, &w);
    }
    utf8_append(&word, ch);
  }
  buf_cleanup(&word);
}

/* reWhitespace.Split(rest, -1). */
static void args__split_ws(const char *line, size_t start, size_t end,
                           struct arena *arena, struct args_list *out) {
  size_t i = start, piece = start;
  while (i < end) {
    if (args__ws(line[i])) {
      args_list_push(out, arena_strndup(arena, line + piece, i - piece), piece,
                     i);
      while (i < end && args__ws(line[i]))
        i++;
      piece = i;
    } else {
      i++;
    }
  }
  args_list_push(out, arena_strndup(arena, line + piece, end - piece), piece,
                 end);
}

static void args__error(struct args_result *r, size_t start, size_t end,
                        const char *msg) {
  struct buf b = BUF_INIT;
  buf_puts(&b, msg);
  r->error = buf_take(&b);
  r->error_start = start;
  r->error_end = end;
}

#define ARGS_NOT_STRINGS                                                      \
  "when using JSON array syntax, arrays must be comprised of strings only"

/* parseJSON: 1 exec form, 0 not JSON, -1 error recorded. */
static int args__json(const char *line, size_t start, size_t end,
                      struct arena *arena, struct args_result *r) {
  start += text_space_prefix(line + start, end - start);
  if (start >= end || line[start] != '[')
    return 0;
  struct gojson_item *items = NULL;
  size_t nitems = 0;
  enum gojson_result res =
      gojson_string_array(line + start, end - start, arena, &items, &nitems);
  /* Decoded strings may hold NUL bytes (\u0000): lengths come from the
   * items. */
  if (res == GOJSON_INVALID)
    return 0;
  if (res == GOJSON_NOT_STRINGS) {
    args__error(r, start, end, ARGS_NOT_STRINGS);
    return -1;
  }
  for (size_t i = 0; i < nitems; i++)
    args_list_push_len(&r->values, items[i].value, items[i].len,
                       start + items[i].start, start + items[i].end);
  free(items);
  r->form = DF_FORM_JSON;
  r->json = true;
  return 1;
}

static void args__maybe_json(const char *line, size_t start, size_t end,
                             struct arena *arena, struct args_result *r) {
  if (start == end)
    return;
  int j = args__json(line, start, end, arena, r);
  if (j != 0)
    return;
  r->form = DF_FORM_SHELL;
  args_list_push(&r->values, arena_strndup(arena, line + start, end - start),
                 start, end);
}

static void args__maybe_json_list(const char *line, size_t start, size_t end,
                                  struct arena *arena, struct args_result *r) {
  int j = args__json(line, start, end, arena, r);
  if (j != 0 || start == end)
    return;
  r->form = DF_FORM_LIST;
  args__split_ws(line, start, end, arena, &r->values);
}

static void args__name_val(const char *line, size_t start, size_t end,
                           char escape, const char *key, struct arena *arena,
                           struct args_result *r) {
  struct args_list words = {0};
  args__words(line, start, end, escape, arena, &words);
  if (words.n == 0)
    goto out;
  r->form = DF_FORM_KEYVAL;
  if (strchr(words.v[0].value, '=') == NULL) {
    /* Legacy form: KEY value-to-the-end-of-line. */
    size_t k = start;
    while (k < end && !args__ws(line[k]))
      k++;
    if (k == end) {
      struct buf m = BUF_INIT;
      buf_printf(&m, "%s must have two arguments", key);
      r->error = buf_take(&m);
      r->error_start = start;
      r->error_end = end;
      goto out;
    }
    size_t v = k;
    while (v < end && args__ws(line[v]))
      v++;
    args_list_push(&r->values, arena_strndup(arena, line + start, k - start),
                   start, k);
    args_list_push(&r->values, arena_strndup(arena, line + v, end - v), v,
                   end);
    args_list_push(&r->values, arena_strndup(arena, "", 0), end, end);
    goto out;
  }
  for (size_t i = 0; i < words.n; i++) {
    struct args_item *wd = &words.v[i];
    char *eq = strchr(wd->value, '=');
    if (eq == NULL) {
      struct buf m = BUF_INIT;
      buf_puts(&m, "Syntax error - can't find = in ");
      /* BuildKit quotes the word with %q. */
      dump_go_quote(&m, wd->value, strlen(wd->value));
      buf_puts(&m, ". Must be of the form: name=value");
      r->error = buf_take(&m);
      r->error_start = wd->start;
      r->error_end = wd->end;
      goto out;
    }
    size_t klen = (size_t)(eq - wd->value);
    /* The word keeps its source bytes up to the '=', so offsets match. */
    size_t eq_at = wd->start + klen;
    /* The word is ours, in the arena: cut it at the '=' into the key and
     * the value rather than copying both. */
    *eq = '\0';
    args_list_push(&r->values, wd->value, wd->start, eq_at);
    args_list_push(&r->values, eq + 1, eq_at + 1, wd->end);
    args_list_push(&r->values, arena_strndup(arena, "=", 1), eq_at, eq_at + 1);
  }
out:
  args_list_cleanup(&words);
}

static void args__health(const char *line, size_t start, size_t end,
                         struct arena *arena, struct args_result *r) {
  size_t sep = start;
  while (sep < end && !args__byte_space((unsigned char)line[sep]))
    sep++;
  size_t next = sep;
  while (next < end && args__byte_space((unsigned char)line[next]))
    next++;
  if (sep == start)
    return;
  struct args_result cmd = {0};
  args__maybe_json(line, next, end, arena, &cmd);
  if (cmd.error) {
    /* An error comes before any value (args__json). */
    r->error = cmd.error;
    r->error_start = cmd.error_start;
    r->error_end = cmd.error_end;
    free(cmd.values.v);
    return;
  }
  r->form = DF_FORM_HEALTH;
  args_list_push(&r->values, arena_strndup(arena, line + start, sep - start),
                 start, sep);
  for (size_t i = 0; i < cmd.values.n; i++)
    args_list_push_len(&r->values, cmd.values.v[i].value, cmd.values.v[i].len,
                       cmd.values.v[i].start, cmd.values.v[i].end);
  r->json = cmd.json;
  free(cmd.values.v);
}

void args_parse(enum df_kind kind, const char *line, size_t start, size_t end,
                char escape, struct arena *arena, struct args_result *out) {
  struct args_list values = out->values;
  values.n = 0;
  memset(out, 0, sizeof(*out));
  out->values = values;
  out->form = DF_FORM_NONE;
  switch (kind) {
  case DF_ADD:
  case DF_COPY:
  case DF_VOLUME:
    args__maybe_json_list(line, start, end, arena, out);
    break;
  case DF_CMD:
  case DF_ENTRYPOINT:
  case DF_RUN:
  case DF_SHELL:
    args__maybe_json(line, start, end, arena, out);
    break;
  case DF_ARG:
    args__words(line, start, end, escape, arena, &out->values);
    if (out->values.n)
      out->form = DF_FORM_WORDS;
    break;
  case DF_ENV:
    args__name_val(line, start, end, escape, "ENV", arena, out);
    break;
  case DF_LABEL:
    args__name_val(line, start, end, escape, "LABEL", arena, out);
    break;
  case DF_EXPOSE:
  case DF_FROM:
    if (start < end) {
      out->form = DF_FORM_LIST;
      args__split_ws(line, start, end, arena, &out->values);
    }
    break;
  case DF_HEALTHCHECK:
    args__health(line, start, end, arena, out);
    break;
  case DF_MAINTAINER:
  case DF_STOPSIGNAL:
  case DF_USER:
  case DF_WORKDIR:
    if (start < end) {
      out->form = DF_FORM_STRING;
      args_list_push(&out->values,
                     arena_strndup(arena, line + start, end - start), start,
                     end);
    }
    break;
  case DF_ONBUILD:
  case DF_KIND_COUNT:
    break;
  case DF_UNKNOWN:
    /* parseIgnore: one empty value. */
    args_list_push(&out->values, arena_strndup(arena, "", 0), start, start);
    break;
  }
}
