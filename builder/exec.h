/*
 * exec.h - runs one RUN command in a throwaway container: fresh mount,
 * pid, uts and ipc namespaces (and a user namespace when not root, a
 * network namespace for --network=none), pivot_root'ed into an overlay of
 * extracted layer directories plus a new upper directory.
 *
 * DESIGN: everything the child needs (strings, option texts, argv, envp)
 * is prepared by the caller's thread before clone(); the child, a copy of
 * a multithreaded process, only makes system calls: it mounts, pivots,
 * forks the command and reaps until the command exits (it is the pid
 * namespace's init, so its death kills whatever the command left behind).
 * Output (stdout and stderr together) comes back through a pipe read on
 * the build thread's uv loop and is handed out line by line; cancelling
 * kills the init with SIGKILL, which takes the whole process tree down.
 * Mount points the child had to create inside the rootfs (/proc on a
 * scratch image, /etc/hosts, --mount targets) are reported back so the
 * layer never contains them.
 *
 * Ownership: every pointer in exec_spec is borrowed for the call.
 * Threads: exec_run runs on the build thread and drives that thread's
 * loop until the command ends; on_line is called there too.  Only
 * `cancel` is shared: any thread may set it (it is polled, then the init
 * is killed).  dispatch.c decides what runs (command, user, env, mount
 * sources); this module only runs it.
 */
#ifndef DW_EXEC_H
#define DW_EXEC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <uv.h>

#include "../common/buf.h"
#include "../common/err.h"

enum exec_mount_kind {
  EXEC_MOUNT_BIND,    /* source: host path; read-only unless rw */
  EXEC_MOUNT_OVERLAY, /* source: host dir seen read-write, writes dropped */
  EXEC_MOUNT_TMPFS,
  EXEC_MOUNT_LAYERS, /* lowers merged (an overlay), subpath of it at the
                        target; read-only, or rw with writes dropped */
};

struct exec_mount {
  enum exec_mount_kind kind;
  const char *source; /* host path (BIND, OVERLAY) */
  const char *target; /* absolute path inside the container */
  bool rw;
  unsigned long size; /* TMPFS bytes; 0 = default */
  /* LAYERS: extracted layer directories, bottom first; the resolved path
   * inside them ("" = the root, no symlinks left); whether it is a
   * directory (the parent cannot look: the view is mounted only in the
   * child). */
  const char *const *lowers;
  size_t nlowers;
  const char *subpath;
  bool is_dir;
};

/* How host ids appear inside a user namespace (rootless builds). */
struct exec_idmap {
  unsigned inside, outside, count;
};
#define EXEC_MAX_IDMAP 4

struct exec_spec {
  const char *const *lowers; /* extracted layer dirs, bottom first */
  size_t nlowers;
  const char *rundir; /* empty directory owned by this run */
  /* rundir gets upper/ (the RUN's changes), work/, merged/ */
  const char *const *argv; /* argv[0] searched in PATH from envp */
  const char *const *envp;
  const char *cwd; /* inside the container */
  uid_t uid;
  gid_t gid;
  const gid_t *groups;
  size_t ngroups;
  const char *hostname;
  bool network_none;
  const char *resolv_conf; /* host file bound at /etc/resolv.conf */
  const char *hosts;       /* host file bound at /etc/hosts */
  const struct exec_mount *mounts;
  size_t nmounts;
  bool userns; /* enter a user namespace (not root) */
  struct exec_idmap uidmap[EXEC_MAX_IDMAP], gidmap[EXEC_MAX_IDMAP];
  size_t nuidmap, ngidmap;
  bool use_newidmap; /* write the maps with newuidmap/newgidmap */
};

struct exec_result {
  int exit_code;       /* 0..255; 128+N for a signal */
  struct strv created; /* mount points created in the rootfs
                          (container paths without leading '/') */
};
void exec_result_cleanup(struct exec_result *r);

/* Called on the calling thread for every complete output line (and the
 * last partial one), without the newline. */
typedef void (*exec_line_fn)(void *ctx, const char *line);

/* Runs spec; returns 0 when the command ran (whatever its exit code, in
 * r->exit_code), ERR_CANCELLED when cancel was set (the tree is killed),
 * or a setup failure with err filled.  Uses `loop` (the build thread's). */
int exec_run(const struct exec_spec *spec, uv_loop_t *loop,
             const atomic_bool *cancel, exec_line_fn on_line, void *ctx,
             struct exec_result *r, struct err *err) DW_WARN_UNUSED;

/* The id maps for a rootless run: the caller's uid/gid as 0, plus its
 * /etc/subuid and /etc/subgid ranges (from 1) when newuidmap exists.
 * Returns true when the ranges (and so newuidmap) are used. */
bool exec_rootless_maps(struct exec_spec *spec);

/* The overlay xattr namespace layers and uppers use ("user.overlay."). */
#define EXEC_OVL_XATTR "user.overlay."

#endif
