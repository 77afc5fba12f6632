/*
 * test_jsonparse.c - server/jsonparse.c against json-c's strict tokener:
 * every valid text gives an equal object; every text json-c refuses (and
 * those jsonparse leaves to it) gives NULL.  Fixed cases, then random
 * JSON values (deterministic seed) serialised by json-c, and random
 * corruptions of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/buf.h"
#include "../../common/ceilings.h"
#include "../../server/jsonparse.h"

/* json-c's strict answer: the object, or NULL for an error. */
static json_object *reference(const char *s, size_t len) {
  json_tokener *tok = json_tokener_new_ex(DW_MAX_LSP_JSON_DEPTH);
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
  json_object *o = json_tokener_parse_ex(tok, s, (int)len);
  enum json_tokener_error e = json_tokener_get_error(tok);
  size_t end = json_tokener_get_parse_end(tok);
  if (e == json_tokener_continue && o == NULL) {
    /* A bare number ends at the NUL (as jsonrpc.c does). */
    o = json_tokener_parse_ex(tok, "", 1);
    e = json_tokener_get_error(tok);
    end = len;
  }
  json_tokener_free(tok);
  if (e != json_tokener_success) {
    json_object_put(o);
    return NULL;
  }
  for (size_t i = end; i < len && o; i++)
    if (strchr(" \t\r\n", s[i]) == NULL || s[i] == '\0') {
      json_object_put(o);
      return NULL;
    }
  return o;
}

/* jsonparse agrees with json-c, or leaves the text to it. */
static void check(const char *s, size_t len) {
  json_object *want = reference(s, len);
  json_object *got = jsonparse(s, len, DW_MAX_LSP_JSON_DEPTH);
  if (got != NULL) {
    if (want == NULL || !json_object_equal(got, want))
      fail_msg("jsonparse and json-c differ on %.*s: %s vs %s", (int)len, s,
               json_object_to_json_string(got),
               want ? json_object_to_json_string(want) : "(error)");
  }
  json_object_put(got);
  json_object_put(want);
}

/* jsonparse takes it (not left to json-c) and agrees. */
static void takes(const char *s) {
  json_object *got = jsonparse(s, strlen(s), DW_MAX_LSP_JSON_DEPTH);
  if (got == NULL)
    fail_msg("jsonparse left %s to json-c", s);
  json_object_put(got);
  check(s, strlen(s));
}

static void refuses(const char *s) {
  json_object *got = jsonparse(s, strlen(s), DW_MAX_LSP_JSON_DEPTH);
  if (got != NULL)
    fail_msg("jsonparse took %s: %s", s, json_object_to_json_string(got));
  check(s, strlen(s));
}

static void test_cases(void **state) {
  (void)state;
  takes("{}");
  takes("[]");
  takes(" { \"a\" : [1, -2, 3.5e2, -0, 0.25, true, false, null] } \n");
  takes(
      "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didChange\","
      "\"params\":{\"textDocument\":{\"uri\":\"file:///x\",\"version\":7},"
      "\"contentChanges\":[{\"text\":\"FROM a\\nRUN \\\"b\\\"\\t\\\\c\"}]}}");
  takes("[\"\\u00e9\\u20ac\\ud83d\\ude00\\u0000x\", \"\\/\\b\\f\\r\"]");
  takes("{\"a\":1,\"a\":2}");
  takes("\"caf\xc3\xa9 and a long run of plain bytes 0123456789\"");
  takes("{\"n\":9223372036854775807,\"m\":-9223372036854775808}");
  refuses("");
  refuses("null");
  refuses("{");
  refuses("{\"a\":1,}");
  refuses("[1,]");
  refuses("[01]");
  refuses("[1.]");
  refuses("[.5]");
  refuses("[1e]");
  refuses("[+1]");
  refuses("{'a':1}");
  refuses("{\"a\" 1}");
  refuses("[\"tab\there\"]");
  refuses("[\"nl\nhere\"]");
  refuses("[\"\\x\"]");
  refuses("[\"\\u12\"]");
  refuses("[\"\\udc00\"]");
  refuses("[\"\\ud800x\"]");
  refuses("[\"unterminated]");
  refuses("[tru]");
  refuses("[nul]");
  refuses("{} x");
  refuses("{}{}");
  refuses("[99999999999999999999]");
  refuses("{\"a\\u0000b\":1}");
  /* Nesting past the limit. */
  struct buf b = BUF_INIT;
  for (unsigned i = 0; i < DW_MAX_LSP_JSON_DEPTH + 1; i++)
    buf_putc(&b, '[');
  for (unsigned i = 0; i < DW_MAX_LSP_JSON_DEPTH + 1; i++)
    buf_putc(&b, ']');
  refuses(buf_cstr(&b));
  buf_cleanup(&b);
  /* Special bytes at every offset of the eight-byte scan. */
  for (int k = 0; k < 20; k++) {
    char s[64];
    snprintf(s, sizeof(s), "[\"%.*s\\\"%.*s\"]", k, "abcdefghijklmnopqrstu",
             20 - k, "ABCDEFGHIJKLMNOPQRSTU");
    takes(s);
    snprintf(s, sizeof(s), "[\"%.*s\t%.*s\"]", k, "abcdefghijklmnopqrstu",
             20 - k, "ABCDEFGHIJKLMNOPQRSTU");
    refuses(s);
  }
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static unsigned rnd(unsigned n) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (unsigned)(rng % n);
}

static json_object *random_value(int depth) {
  switch (rnd(depth > 4 ? 5 : 7)) {
  case 0:
    return json_object_new_int64((int64_t)rnd(2000000) - 1000000);
  case 1:
    return json_object_new_double((double)rnd(100000) / 64.0 - 500);
  case 2:
    return json_object_new_boolean(rnd(2));
  case 3:
    return NULL;
  case 4: {
    char s[200];
    unsigned n = rnd(sizeof(s));
    for (unsigned i = 0; i < n; i++) {
      unsigned c = rnd(10);
      s[i] = c == 0   ? (char)rnd(32)
             : c == 1 ? '"'
             : c == 2 ? '\\'
             : c == 3 ? (char)(0x80 + rnd(0x40))
                      : (char)(' ' + rnd(95));
    }
    return json_object_new_string_len(s, (int)n);
  }
  case 5: {
    json_object *a = json_object_new_array();
    for (unsigned i = rnd(6); i > 0; i--)
      json_object_array_add(a, random_value(depth + 1));
    return a;
  }
  default: {
    json_object *o = json_object_new_object();
    for (unsigned i = rnd(6); i > 0; i--) {
      char k[12];
      snprintf(k, sizeof(k), "k%u", rnd(8));
      json_object_object_add(o, k, random_value(depth + 1));
    }
    return o;
  }
  }
}

static void test_random(void **state) {
  (void)state;
  for (int i = 0; i < 3000; i++) {
    json_object *v = random_value(0);
    if (v == NULL)
      continue;
    const char *s = json_object_to_json_string_ext(
        v, i % 2 ? JSON_C_TO_STRING_PLAIN : JSON_C_TO_STRING_SPACED);
    size_t n = strlen(s);
    takes(s); /* every valid serialisation is taken, not left to json-c */
    /* Corruptions: a byte replaced, a cut. */
    char *c = xstrdup(s);
    for (int k = 0; k < 4 && n > 0; k++) {
      size_t at = rnd((unsigned)n);
      char old = c[at];
      c[at] = "\"\\{}[],:0 \x01"[rnd(11)];
      check(c, n);
      c[at] = old;
      check(c, rnd((unsigned)n));
    }
    free(c);
    json_object_put(v);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cases),
      cmocka_unit_test(test_random),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
