/*
 * test_userdb.c - builder/userdb.c: splitting with empty fields kept,
 * lookups by name and id, BuildKit's --chown rules, runc's RUN user rules
 * (gid, home, supplementary groups), errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../builder/userdb.h"

static char passwd[64], group[64];

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static int setup(void **state) {
  (void)state;
  snprintf(passwd, sizeof(passwd), "/tmp/dw-userdb-pw-%d", (int)getpid());
  snprintf(group, sizeof(group), "/tmp/dw-userdb-gr-%d", (int)getpid());
  write_file(passwd, "root:x:0:0:root:/root:/bin/sh\n"
                     "# a comment\n"
                     "\n"
                     "u::1000:1001::/home/u:/bin/sh\n"
                     "nohome:x:1002:1002:::\n"
                     "bad:x:abc:7:::\n"
                     "short:x:1003\n"
                     "2000:x:3000:3000::/h2000:\n");
  write_file(group, "root:x:0:\n"
                    "grp::999:\n"
                    "ug:x:1001:\n"
                    "extra:x:50:root,u\n"
                    "also:x:51:u\n"
                    "other:x:52:uu,xu\n");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  unlink(passwd);
  unlink(group);
  return 0;
}

static void test_split(void **state) {
  (void)state;
  char line[] = "u::1000:1000::/home/u:\n";
  char *f[8];
  assert_int_equal(userdb_split(line, f, 8), 7);
  assert_string_equal(f[0], "u");
  assert_string_equal(f[1], "");
  assert_string_equal(f[2], "1000");
  assert_string_equal(f[4], "");
  assert_string_equal(f[6], "");
  char one[] = "abc";
  assert_int_equal(userdb_split(one, f, 8), 1);
  assert_string_equal(f[0], "abc");
  char many[] = "a:b:c:d";
  assert_int_equal(userdb_split(many, f, 2), 2);
  assert_string_equal(f[1], "b");
}

static void test_find(void **state) {
  (void)state;
  struct userdb_entry e;
  /* an empty password field does not shift the uid into its place */
  assert_int_equal(userdb_find(passwd, "u", false, &e), 0);
  assert_int_equal(e.id, 1000);
  assert_int_equal(e.gid, 1001);
  assert_string_equal(e.home, "/home/u");
  userdb_entry_cleanup(&e);
  /* a group with an empty password field is found */
  assert_int_equal(userdb_find(group, "grp", false, &e), 0);
  assert_int_equal(e.id, 999);
  userdb_entry_cleanup(&e);
  /* by id only when asked */
  assert_int_equal(userdb_find(passwd, "1000", false, &e), ERR_NOTFOUND);
  assert_int_equal(userdb_find(passwd, "1000", true, &e), 0);
  assert_string_equal(e.name, "u");
  userdb_entry_cleanup(&e);
  /* a name that looks like a number is found by name first */
  assert_int_equal(userdb_find(passwd, "2000", true, &e), 0);
  assert_int_equal(e.id, 3000);
  userdb_entry_cleanup(&e);
  /* a number field that does not parse is 0 (moby/sys/user's Atoi) */
  assert_int_equal(userdb_find(passwd, "bad", false, &e), 0);
  assert_int_equal(e.id, 0);
  assert_int_equal(e.gid, 7);
  userdb_entry_cleanup(&e);
  assert_int_equal(userdb_find(passwd, "short", false, &e), 0);
  assert_int_equal(e.id, 1003);
  assert_int_equal(e.gid, 0);
  userdb_entry_cleanup(&e);
  /* comments and blank lines are not entries */
  assert_int_equal(userdb_find(passwd, "# a comment", false, &e),
                   ERR_NOTFOUND);
  assert_int_equal(userdb_find(passwd, "", false, &e), ERR_NOTFOUND);
  assert_int_equal(userdb_find(NULL, "u", false, &e), ERR_NOTFOUND);
}

static void check_chown(const char *spec, int rc, uid_t uid, gid_t gid) {
  uid_t u = 77;
  gid_t g = 77;
  struct err e;
  assert_int_equal(userdb_chown(passwd, group, spec, &u, &g, &e), rc);
  if (rc == 0) {
    assert_int_equal(u, uid);
    assert_int_equal(g, gid);
  }
}

static void test_chown(void **state) {
  (void)state;
  check_chown("u", 0, 1000, 1001);
  check_chown("u:grp", 0, 1000, 999);
  check_chown("u:5", 0, 1000, 5);
  check_chown("1234", 0, 1234, 1234); /* a uid alone is also the gid */
  check_chown("1234:ug", 0, 1234, 1001);
  check_chown("0:0", 0, 0, 0);
  check_chown("nosuch", ERR_NOTFOUND, 0, 0);
  check_chown("u:nosuch", ERR_NOTFOUND, 0, 0);
  struct err e;
  uid_t u;
  gid_t g;
  assert_int_equal(userdb_chown(NULL, NULL, "app", &u, &g, &e), ERR_NOTFOUND);
  assert_non_null(strstr(e.msg, "unable to find user app"));
  assert_int_equal(userdb_chown(NULL, NULL, "10:20", &u, &g, &e), 0);
  assert_int_equal(g, 20);
}

static void test_exec_user(void **state) {
  (void)state;
  struct userdb_exec x;
  struct err e;
  assert_int_equal(userdb_exec_user(passwd, group, "u", &x, &e), 0);
  assert_int_equal(x.uid, 1000);
  assert_int_equal(x.gid, 1001);
  assert_string_equal(x.home, "/home/u");
  /* primary group first, then the groups listing "u" (not "uu", "xu") */
  assert_int_equal(x.ngroups, 3);
  assert_int_equal(x.groups[0], 1001);
  assert_int_equal(x.groups[1], 50);
  assert_int_equal(x.groups[2], 51);
  userdb_exec_cleanup(&x);
  /* a uid found in passwd takes its gid and home */
  assert_int_equal(userdb_exec_user(passwd, group, "1000", &x, &e), 0);
  assert_int_equal(x.gid, 1001);
  assert_string_equal(x.home, "/home/u");
  userdb_exec_cleanup(&x);
  /* an unknown uid: gid 0, home "/" */
  assert_int_equal(userdb_exec_user(passwd, group, "4242", &x, &e), 0);
  assert_int_equal(x.uid, 4242);
  assert_int_equal(x.gid, 0);
  assert_string_equal(x.home, "/");
  userdb_exec_cleanup(&x);
  /* empty home: "/" */
  assert_int_equal(userdb_exec_user(passwd, group, "nohome", &x, &e), 0);
  assert_string_equal(x.home, "/");
  userdb_exec_cleanup(&x);
  /* an explicit group: no supplementary ones */
  assert_int_equal(userdb_exec_user(passwd, group, "u:grp", &x, &e), 0);
  assert_int_equal(x.gid, 999);
  assert_int_equal(x.ngroups, 1);
  userdb_exec_cleanup(&x);
  assert_int_equal(userdb_exec_user(passwd, group, NULL, &x, &e), 0);
  assert_int_equal(x.uid, 0);
  assert_string_equal(x.home, "/root");
  userdb_exec_cleanup(&x);
  assert_int_equal(userdb_exec_user(passwd, group, "ghost", &x, &e),
                   ERR_NOTFOUND);
  assert_non_null(strstr(e.msg, "unable to find user ghost"));
  assert_null(x.home);
  assert_int_equal(userdb_exec_user(passwd, group, "u:ghosts", &x, &e),
                   ERR_NOTFOUND);
  assert_non_null(strstr(e.msg, "unable to find group ghosts"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_split),
      cmocka_unit_test(test_find),
      cmocka_unit_test(test_chown),
      cmocka_unit_test(test_exec_user),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
