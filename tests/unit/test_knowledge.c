/*
 * test_knowledge.c - the knowledge table (model/knowledge.h) is whole and
 * consistent: one row per instruction, flags well-formed and unique, enum
 * flags with values, mount keys and aliases, signals, links.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "../../model/knowledge.h"

static void test_instructions(void **state) {
  (void)state;
  size_t n;
  const struct know_instr *ks = know_instrs(&n);
  assert_int_equal(n, DF_KIND_COUNT - 1);
  for (int kind = DF_UNKNOWN + 1; kind < DF_KIND_COUNT; kind++) {
    const struct know_instr *k = know_instr((enum df_kind)kind);
    assert_non_null(k);
    assert_true(strcasecmp(k->keyword, df_kind_name(k->kind)) == 0);
    assert_non_null(k->parameters[0]);
    assert_true(strlen(k->doc) > 20);
    assert_true(strlen(k->anchor) > 0);
  }
  assert_null(know_instr(DF_UNKNOWN));
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      assert_int_not_equal(ks[i].kind, ks[j].kind);
  assert_false(know_instr_takes_flags(DF_STOPSIGNAL));
  assert_true(know_instr_takes_flags(DF_WORKDIR));
}

static void test_flags(void **state) {
  (void)state;
  size_t n;
  const struct know_flag *fs = know_flags(&n);
  assert_true(n >= 20);
  for (size_t i = 0; i < n; i++) {
    const struct know_flag *f = &fs[i];
    assert_true(f->instr > DF_UNKNOWN && f->instr < DF_KIND_COUNT);
    /* A bool flag takes no value kind and the others do. */
    assert_int_equal(f->kind == KNOW_BOOL, f->value == KNOW_V_NONE);
    if (f->value == KNOW_V_ENUM)
      assert_non_null(f->values);
    assert_ptr_equal(know_flag(f->instr, f->name), f);
    assert_true(strlen(f->doc) > 10);
    for (size_t j = i + 1; j < n; j++)
      assert_false(fs[j].instr == f->instr &&
                   strcmp(fs[j].name, f->name) == 0);
  }
  /* The flags the issue names, each where BuildKit takes it. */
  static const struct {
    enum df_kind k;
    const char *name;
  } want[] = {{DF_RUN, "mount"},
              {DF_RUN, "network"},
              {DF_RUN, "security"},
              {DF_COPY, "from"},
              {DF_COPY, "chown"},
              {DF_COPY, "chmod"},
              {DF_COPY, "link"},
              {DF_COPY, "parents"},
              {DF_COPY, "exclude"},
              {DF_ADD, "checksum"},
              {DF_ADD, "keep-git-dir"},
              {DF_ADD, "link"},
              {DF_ADD, "chmod"},
              {DF_ADD, "chown"},
              {DF_ADD, "exclude"},
              {DF_ADD, "unpack"},
              {DF_FROM, "platform"},
              {DF_HEALTHCHECK, "interval"},
              {DF_HEALTHCHECK, "timeout"},
              {DF_HEALTHCHECK, "start-period"},
              {DF_HEALTHCHECK, "start-interval"},
              {DF_HEALTHCHECK, "retries"}};
  for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
    assert_non_null(know_flag(want[i].k, want[i].name));
  assert_null(know_flag(DF_COPY, "checksum"));
  assert_true(know_value_in(know_flag(DF_RUN, "network")->values, "none"));
  assert_false(know_value_in(know_flag(DF_RUN, "network")->values, "non"));
  assert_false(know_value_in(know_flag(DF_RUN, "network")->values, ""));
}

static void test_mounts(void **state) {
  (void)state;
  size_t n;
  const struct know_mount_type *ts = know_mount_types(&n);
  assert_int_equal(n, 5);
  for (size_t i = 0; i < n; i++)
    assert_ptr_equal(know_mount_type(ts[i].name), &ts[i]);
  assert_ptr_equal(know_mount_type("CACHE"), know_mount_type("cache"));
  assert_null(know_mount_type("volume"));
  const struct know_mount_key *ks = know_mount_keys(&n);
  for (size_t i = 0; i < n; i++) {
    assert_int_not_equal(ks[i].types, 0);
    assert_ptr_equal(know_mount_key(ks[i].key), &ks[i]);
  }
  assert_string_equal(know_mount_key("dst")->key, "target");
  assert_string_equal(know_mount_key("destination")->key, "target");
  assert_string_equal(know_mount_key("readonly")->key, "ro");
  assert_true(know_value_in(know_mount_key("sharing")->values, "locked"));
  assert_true(know_mount_key("env")->types == KNOW_M_SECRET);
}

static void test_words(void **state) {
  (void)state;
  size_t n = 0;
  for (const char *const *s = know_signals(); *s; s++, n++) {
    assert_memory_equal(*s, "SIG", 3);
    for (const char *const *t = s + 1; *t; t++)
      assert_string_not_equal(*s, *t);
  }
  assert_true(n >= 30);
  const struct know_arg *as = know_auto_args(&n);
  assert_int_equal(n, 8);
  assert_string_equal(as[0].name, "TARGETPLATFORM");
  n = 0;
  for (const char *const *p = know_proxy_args(); *p; p++)
    n++;
  assert_int_equal(n, 10);
  const struct know_directive *ds = know_directives(&n);
  assert_int_equal(n, 3);
  assert_string_equal(ds[0].name, "syntax");
  char url[128];
  assert_string_equal(know_url("copy", url, sizeof(url)),
                      "https://docs.docker.com/reference/dockerfile/#copy");
  assert_string_equal(know_url("", url, sizeof(url)), KNOW_REFERENCE_URL);
  char tiny[8];
  assert_int_equal(strlen(know_url("copy", tiny, sizeof(tiny))), 7);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_instructions),
      cmocka_unit_test(test_flags),
      cmocka_unit_test(test_mounts),
      cmocka_unit_test(test_words),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
