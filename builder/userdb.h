/*
 * userdb.h - an image's users and groups: /etc/passwd and /etc/group read
 * with the rules BuildKit applies (moby/sys/user's parser: fields split at
 * every ':', empty ones kept; a number field that does not parse is 0).
 *
 * The files are host paths (the caller finds them in the stage's layers,
 * see d_stage_view); NULL stands for a file the image lacks.  No function
 * here knows about layers or the build.
 */
#ifndef DW_USERDB_H
#define DW_USERDB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../common/err.h"

/* Splits one line at every ':' into at most max fields, empty fields
 * kept ("u::1000" is "u", "", "1000"; strtok would merge them).  The
 * fields point into line, which is modified (the ':' and a trailing
 * newline become NULs).  Returns the number of fields. */
size_t userdb_split(char *line, char **fields, size_t max);

/* One entry of a passwd file (id = uid, gid, home) or a group file
 * (id = gid, members = the comma-separated user list). */
struct userdb_entry {
  char *name;    /* owned */
  uid_t id;      /* uid or gid */
  gid_t gid;     /* passwd: the primary group */
  char *home;    /* owned, passwd only; "" when empty */
  char *members; /* owned, group only; "" when empty */
};
void userdb_entry_cleanup(struct userdb_entry *e);

/* Finds the first entry named key in the file at path; with by_id, also
 * the first whose id equals key when key is a number (runc's rule for
 * RUN: "1000" finds the user with uid 1000).  Returns 0 and fills *out,
 * or ERR_NOTFOUND (path NULL, unreadable, or no such entry; no message). */
int userdb_find(const char *path, const char *key, bool by_id,
                struct userdb_entry *out) DW_WARN_UNUSED;

/* True when s is a whole decimal number <= UINT32_MAX. */
bool userdb_numeric(const char *s, unsigned long *out);

/* "user[:group]" as BuildKit's file operations (COPY/ADD --chown,
 * WORKDIR's directories under USER: llb.WithUser, resolved in
 * solver/llbsolver/file/user_linux.go readUser): a number is the id
 * itself (a uid alone is also the gid); a name is looked up in passwd
 * (its uid and primary gid) or group; a name not found is an error. */
int userdb_chown(const char *passwd, const char *group, const char *spec,
                 uid_t *uid, gid_t *gid, struct err *err) DW_WARN_UNUSED;

/* USER as runc resolves it for RUN (BuildKit hands the string to the
 * executor: libcontainer/user GetExecUser): a name or a uid found in
 * passwd gives its gid and home; an unknown uid runs with gid 0 and home
 * "/" ("/root" for 0); an explicit group by name or id; without one, the
 * groups listing the user by name are supplementary groups, after the
 * primary one. */
#define USERDB_MAX_GROUPS 64
struct userdb_exec {
  uid_t uid;
  gid_t gid;
  gid_t groups[USERDB_MAX_GROUPS];
  size_t ngroups;
  char *home; /* owned */
};
int userdb_exec_user(const char *passwd, const char *group, const char *spec,
                     struct userdb_exec *out, struct err *err) DW_WARN_UNUSED;
void userdb_exec_cleanup(struct userdb_exec *x);

#endif
