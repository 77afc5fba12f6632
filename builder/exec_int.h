/*
 * exec_int.h - what exec.c (the parent: preparing a RUN, the clone, its
 * output and reaping) and exec_child.c (the child: system calls only)
 * share; nothing outside the exec module includes it.
 */
#ifndef DW_EXEC_INT_H
#define DW_EXEC_INT_H

#include <stdbool.h>
#include <sys/types.h>

#include "exec.h"

#define EXEC__STACK (256u * 1024u)
#define EXEC__MAX_LOWERS 500u /* overlayfs's own stack limit */

struct exec__mnt {
  enum exec_mount_kind kind;
  const char *source; /* host path */
  const char *target; /* container path, absolute */
  char *ovl_opts;     /* OVERLAY: options (absolute host dirs) */
  char *tmpfs_opts;   /* TMPFS */
  char *stage;        /* OVERLAY, LAYERS: where it is mounted before the
                         pivot */
  char *bind;         /* LAYERS: what of the stage is bound (stage/subpath) */
  bool rw;
  bool is_dir; /* source is a directory (mount point kind) */
  int fd;      /* O_PATH of the source, opened before pivot */
};

struct exec__child {
  int log_w, report_w, sync_r;
  bool userns, netnone, setgroups_ok;
  const char *rundir;
  char *ovl_opts; /* relative to rundir */
  char *const *argv;
  char *const *envp;
  const char *path; /* PATH from envp */
  const char *cwd;
  const char *hostname;
  uid_t uid;
  gid_t gid;
  const gid_t *groups;
  size_t ngroups;
  struct exec__mnt *mnts;
  size_t nmnts;
};

/* The child's entry point for clone(): arg is its `struct exec__child`,
 * which the parent prepared in full (exec_child.c). */
int exec__init(void *arg);

#endif
