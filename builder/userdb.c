/*
 * userdb.c - an image's users and groups.  See userdb.h.
 */
#include "userdb.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"

size_t userdb_split(char *line, char **fields, size_t max) {
  line[strcspn(line, "\n")] = '\0';
  size_t n = 0;
  char *p = line;
  while (n < max) {
    fields[n++] = p;
    char *c = strchr(p, ':');
    if (c == NULL)
      break;
    *c = '\0';
    p = c + 1;
  }
  return n;
}

bool userdb_numeric(const char *s, unsigned long *out) {
  if (s == NULL || *s < '0' || *s > '9')
    return false;
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (*end || errno || v > 0xfffffffful)
    return false;
  *out = v;
  return true;
}

void userdb_entry_cleanup(struct userdb_entry *e) {
  free(e->name);
  free(e->home);
  free(e->members);
  memset(e, 0, sizeof(*e));
}

/* moby/sys/user parses number fields with strconv.Atoi and keeps 0 when
 * that fails. */
static unsigned long userdb__num(const char *s) {
  unsigned long v;
  return userdb_numeric(s, &v) ? v : 0;
}

int userdb_find(const char *path, const char *key, bool by_id,
                struct userdb_entry *out) {
  memset(out, 0, sizeof(*out));
  FILE *f = path ? fopen(path, "r") : NULL;
  if (f == NULL)
    return ERR_NOTFOUND;
  unsigned long want = 0;
  bool numeric = by_id && userdb_numeric(key, &want);
  char *line = NULL;
  size_t cap = 0;
  int rc = ERR_NOTFOUND;
  while (rc != 0 && getline(&line, &cap, f) >= 0) {
    char *fl[7] = {0};
    size_t n = userdb_split(line, fl, 7);
    /* (moby/sys/user skips blank lines and comments) */
    if (n < 3 || fl[0][0] == '#' || fl[0][0] == '\0')
      continue;
    unsigned long idv;
    bool hit = strcmp(fl[0], key) == 0 ||
               (numeric && userdb_numeric(fl[2], &idv) && idv == want);
    if (!hit)
      continue;
    out->name = xstrdup(fl[0]);
    out->id = (uid_t)userdb__num(fl[2]);
    out->gid = (gid_t)(n > 3 ? userdb__num(fl[3]) : 0);
    out->home = xstrdup(n > 5 ? fl[5] : "");
    out->members = xstrdup(n > 3 ? fl[3] : "");
    rc = 0;
  }
  free(line);
  fclose(f);
  return rc;
}

int userdb_chown(const char *passwd, const char *group, const char *spec,
                 uid_t *uid, gid_t *gid, struct err *err) {
  char *u = xstrdup(spec);
  char *g = strchr(u, ':');
  if (g)
    *g++ = '\0';
  unsigned long uv = 0, gv = 0, pg = 0;
  int rc = 0;
  struct userdb_entry e;
  if (userdb_numeric(u, &uv)) {
    pg = uv;
  } else if (userdb_find(passwd, u, false, &e) == 0) {
    uv = e.id;
    pg = e.gid;
    userdb_entry_cleanup(&e);
  } else {
    rc = err_set(err, ERR_NOTFOUND, "unable to find user %s%s", u,
                 passwd ? " in /etc/passwd" : ": no /etc/passwd in the image");
  }
  if (rc == 0 && g == NULL) {
    gv = pg;
  } else if (rc == 0 && !userdb_numeric(g, &gv)) {
    if (userdb_find(group, g, false, &e) == 0) {
      gv = e.id;
      userdb_entry_cleanup(&e);
    } else {
      rc = err_set(err, ERR_NOTFOUND, "unable to find group %s%s", g,
                   group ? " in /etc/group" : ": no /etc/group in the image");
    }
  }
  free(u);
  *uid = (uid_t)uv;
  *gid = (gid_t)gv;
  return rc;
}

/* True when the comma-separated list holds name. */
static bool userdb__member(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; *p;) {
    const char *c = strchr(p, ',');
    size_t len = c ? (size_t)(c - p) : strlen(p);
    if (len == n && memcmp(p, name, n) == 0)
      return true;
    if (c == NULL)
      break;
    p = c + 1;
  }
  return false;
}

/* Adds the groups of the group file that list uname, after x's primary
 * group and without repeating it. */
static void userdb__supplementary(const char *group, const char *uname,
                                  struct userdb_exec *x) {
  FILE *f = group ? fopen(group, "r") : NULL;
  if (f == NULL)
    return;
  char *line = NULL;
  size_t cap = 0;
  while (x->ngroups < USERDB_MAX_GROUPS && getline(&line, &cap, f) >= 0) {
    char *fl[4] = {0};
    size_t n = userdb_split(line, fl, 4);
    if (n < 4 || fl[0][0] == '#')
      continue;
    gid_t gv = (gid_t)userdb__num(fl[2]);
    if (gv != x->gid && userdb__member(fl[3], uname))
      x->groups[x->ngroups++] = gv;
  }
  free(line);
  fclose(f);
}

void userdb_exec_cleanup(struct userdb_exec *x) {
  free(x->home);
  memset(x, 0, sizeof(*x));
}

int userdb_exec_user(const char *passwd, const char *group, const char *spec,
                     struct userdb_exec *x, struct err *err) {
  memset(x, 0, sizeof(*x));
  char *u = xstrdup(spec && *spec ? spec : "0");
  char *g = strchr(u, ':');
  if (g)
    *g++ = '\0';
  unsigned long uid = 0, gid = 0;
  int rc = 0;
  struct userdb_entry pw;
  bool known = userdb_find(passwd, u, true, &pw) == 0;
  if (known) {
    uid = pw.id;
    gid = pw.gid;
    if (pw.home[0])
      x->home = xstrdup(pw.home);
  } else if (!userdb_numeric(u, &uid)) {
    rc = err_set(err, ERR_NOTFOUND,
                 "unable to find user %s: no matching entries in passwd file",
                 u);
  }
  if (rc == 0 && g) {
    struct userdb_entry ge;
    if (userdb_find(group, g, true, &ge) == 0) {
      gid = ge.id;
      userdb_entry_cleanup(&ge);
    } else if (!userdb_numeric(g, &gid)) {
      rc = err_set(err, ERR_NOTFOUND,
                   "unable to find group %s: no matching entries in group "
                   "file",
                   g);
    }
  }
  x->uid = (uid_t)uid;
  x->gid = (gid_t)gid;
  /* The primary group is a supplementary one too (runc's
   * additionalGids, what `id` shows under BuildKit and buildah). */
  if (rc == 0)
    x->groups[x->ngroups++] = (gid_t)gid;
  if (rc == 0 && g == NULL && known)
    userdb__supplementary(group, pw.name, x);
  if (rc == 0 && x->home == NULL)
    x->home = xstrdup(uid == 0 ? "/root" : "/");
  if (known)
    userdb_entry_cleanup(&pw);
  free(u);
  if (rc < 0)
    userdb_exec_cleanup(x);
  return rc;
}
