/*
 * test_retry.c - builder/retry.c's policy (what is retried, the waits,
 * the bounds, Retry-After) and builder/auth.c's login storage (the entry
 * Docker writes, mode 0600, other settings kept, erase).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <json-c/json.h>

#include "../../builder/auth.h"
#include "../../builder/retry.h"

static struct http_req req_with(int result, int curl_code, long status,
                                const char *retry_after) {
  struct http_req r;
  memset(&r, 0, sizeof(r));
  r.result = result;
  r.curl_code = curl_code;
  r.status = status;
  r.retry_after = (char *)retry_after;
  return r;
}

static void test_transient(void **state) {
  (void)state;
  struct http_req r = req_with(ERR_NETWORK, CURLE_RECV_ERROR, 0, NULL);
  assert_true(retry_transient(&r)); /* a dropped connection */
  r = req_with(ERR_NETWORK, CURLE_OPERATION_TIMEDOUT, 0, NULL);
  assert_true(retry_transient(&r));
  r = req_with(ERR_NETWORK, CURLE_PEER_FAILED_VERIFICATION, 0, NULL);
  assert_false(retry_transient(&r)); /* a certificate never gets better */
  r = req_with(ERR_NETWORK, CURLE_COULDNT_RESOLVE_HOST, 0, NULL);
  assert_false(retry_transient(&r));
  r = req_with(ERR_CANCELLED, 0, 0, NULL);
  assert_false(retry_transient(&r));
  long yes[] = {429, 500, 502, 503, 504};
  for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
    r = req_with(0, 0, yes[i], NULL);
    assert_true(retry_transient(&r));
  }
  long no[] = {200, 201, 202, 400, 401, 403, 404, 405, 416, 501, 505};
  for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
    r = req_with(0, 0, no[i], NULL);
    assert_false(retry_transient(&r));
  }
}

static void test_retry_after(void **state) {
  (void)state;
  time_t now = 1700000000; /* 2023-11-14T22:13:20Z */
  assert_int_equal(retry_after_ms("1", now), 1000);
  assert_int_equal(retry_after_ms(" 7 ", now), 7000);
  assert_int_equal(retry_after_ms("0", now), 0);
  assert_int_equal(retry_after_ms("Tue, 14 Nov 2023 22:13:25 GMT", now), 5000);
  assert_int_equal(retry_after_ms("Tue, 14 Nov 2023 22:00:00 GMT", now), 0);
  assert_int_equal(retry_after_ms(NULL, now), -1);
  assert_int_equal(retry_after_ms("soon", now), -1);
  assert_int_equal(retry_after_ms("-3", now), -1);
  assert_int_equal(retry_after_ms("5s", now), -1);
  /* absurd values are capped just past what we would wait */
  assert_true(retry_after_ms("99999999999", now) > RETRY_AFTER_MAX_MS);
}

static void test_backoff_bounds(void **state) {
  (void)state;
  for (int round = 0; round < 50; round++) {
    struct retry rt;
    retry_init(&rt);
    struct http_req r = req_with(0, 0, 503, NULL);
    unsigned waits = 0;
    uint64_t cap = RETRY_BASE_MS, total = 0;
    int64_t w;
    while ((w = retry_next(&rt, &r)) >= 0) {
      /* equal jitter: between half the cap and the cap */
      assert_true((uint64_t)w >= cap / 2);
      assert_true((uint64_t)w <= cap);
      total += (uint64_t)w;
      cap = cap * 2 > RETRY_CAP_MS ? RETRY_CAP_MS : cap * 2;
      waits++;
    }
    assert_int_equal(waits, RETRY_MAX_TRIES - 1); /* 6 sends in all */
    assert_true(total <= RETRY_BUDGET_MS);
  }
}

static void test_retry_after_honoured(void **state) {
  (void)state;
  struct retry rt;
  retry_init(&rt);
  struct http_req r = req_with(0, 0, 429, "2");
  assert_int_equal(retry_next(&rt, &r), 2000);
  r = req_with(0, 0, 503, "1");
  assert_int_equal(retry_next(&rt, &r), 1000);
  /* longer than we wait: give up now, not after a minute */
  r = req_with(0, 0, 429, "3600");
  assert_int_equal(retry_next(&rt, &r), -1);
  /* a 500's Retry-After is not a rate limit: the backoff applies */
  retry_init(&rt);
  r = req_with(0, 0, 500, "30");
  int64_t w = retry_next(&rt, &r);
  assert_true(w >= RETRY_BASE_MS / 2 && w <= RETRY_BASE_MS);
}

static void test_login_storage(void **state) {
  (void)state;
  char dir[] = "/tmp/dw-test-retry-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char cfg[256];
  snprintf(cfg, sizeof(cfg), "%s/config.json", dir);
  FILE *f = fopen(cfg, "w");
  fputs("{\"psFormat\":\"x\",\"auths\":{\"other:1\":{\"auth\":\"eDp5\"}}}", f);
  fclose(f);
  chmod(cfg, 0644);
  setenv("DOCKER_CONFIG", dir, 1);
  struct auth_cred c = {(char *)"user", (char *)"pa:ss"};
  char where[512];
  struct err e;
  assert_int_equal(auth_store("reg:5000", &c, where, sizeof(where), &e), 0);
  assert_string_equal(where, cfg);
  struct stat st;
  assert_int_equal(stat(cfg, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  json_object *o = json_object_from_file(cfg);
  assert_non_null(o);
  json_object *auths = json_object_object_get(o, "auths");
  /* dXNlcjpwYTpzcw== is "user:pa:ss" */
  assert_string_equal(json_object_get_string(json_object_object_get(
                          json_object_object_get(auths, "reg:5000"), "auth")),
                      "dXNlcjpwYTpzcw==");
  assert_non_null(json_object_object_get(auths, "other:1"));
  assert_string_equal(
      json_object_get_string(json_object_object_get(o, "psFormat")), "x");
  json_object_put(o);
  struct auth_cred got;
  assert_int_equal(auth_lookup("reg:5000", &got, &e), 0);
  assert_string_equal(got.username, "user");
  assert_string_equal(got.secret, "pa:ss");
  auth_cred_cleanup(&got);
  /* docker.io goes under Docker's historical key */
  assert_int_equal(auth_store("docker.io", &c, where, sizeof(where), &e), 0);
  o = json_object_from_file(cfg);
  assert_non_null(json_object_object_get(json_object_object_get(o, "auths"),
                                         "https://index.docker.io/v1/"));
  json_object_put(o);
  assert_int_equal(auth_erase("reg:5000", where, sizeof(where), &e), 0);
  assert_int_equal(auth_lookup("reg:5000", &got, &e), ERR_NOTFOUND);
  assert_int_equal(auth_erase("reg:5000", where, sizeof(where), &e),
                   ERR_NOTFOUND);
  o = json_object_from_file(cfg);
  assert_non_null(
      json_object_object_get(json_object_object_get(o, "auths"), "other:1"));
  json_object_put(o);
  unlink(cfg);
  rmdir(dir);
  unsetenv("DOCKER_CONFIG");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_transient),
      cmocka_unit_test(test_retry_after),
      cmocka_unit_test(test_backoff_bounds),
      cmocka_unit_test(test_retry_after_honoured),
      cmocka_unit_test(test_login_storage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
