/*
 * exec.c - one RUN in fresh namespaces over an overlay (see exec.h).
 *
 * DESIGN: exec_run prepares a `struct exec__child` (every string, option
 * text and fd the child will use), then clone()s with a fresh stack.  The
 * child ("init", pid 1 of the new pid namespace) must not allocate or take
 * locks: the parent is multithreaded and another thread may have held the
 * malloc lock at the time of the copy.  It only makes system calls:
 *
 *   wait for the id maps (user namespace) -> make / private -> mount the
 *   overlay on rundir/merged -> open the bind sources (O_PATH) -> pivot_root
 *   -> /proc, /dev, /sys (created when missing, kept in the layer as
 *   runc's are) -> resolv.conf, hosts, --mount targets (created when
 *   missing, and reported: left out of the layer as BuildKit's mount stub
 *   cleaner removes them) -> fork the command -> reap until it exits
 *   -> exit with its status.
 *
 * Reports go through a second pipe as lines: "M<path>" for a mount point
 * the child created in the rootfs, "E<errno> <what>" for a setup failure.
 * Cancelling SIGKILLs the init; the kernel then kills the rest of the pid
 * namespace.
 */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#include "../common/ceilings.h"

extern char **environ;

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

/* --- the child: system calls only ------------------------------------- */

/* The child runs on its own stack, which the sanitizers do not know:
 * they are kept out of it (their no-return hooks would complain). */
#define EXEC__CHILD __attribute__((no_sanitize("address", "undefined")))

EXEC__CHILD static size_t exec__slen(const char *s) {
  size_t n = 0;
  while (s[n])
    n++;
  return n;
}

EXEC__CHILD static void exec__put(int fd, const char *s) {
  size_t n = exec__slen(s);
  while (n) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    s += w;
    n -= (size_t)w;
  }
}

/* "E<errno> what path\n" on the report pipe, then exit 125. */
EXEC__CHILD static void exec__fail(struct exec__child *c, const char *what,
                                   const char *path) {
  int e = errno;
  char num[16];
  int i = (int)sizeof(num) - 1;
  num[i] = '\0';
  do {
    num[--i] = (char)('0' + e % 10);
    e /= 10;
  } while (e && i > 0);
  exec__put(c->report_w, "E");
  exec__put(c->report_w, num + i);
  exec__put(c->report_w, " ");
  exec__put(c->report_w, what);
  if (path) {
    exec__put(c->report_w, " ");
    exec__put(c->report_w, path);
  }
  exec__put(c->report_w, "\n");
  _exit(125);
}

/* Makes sure path (absolute, in the new root) exists, creating missing
 * components (directories; the last one a file unless dir) and reporting
 * each one created. */
EXEC__CHILD static void exec__ensure(struct exec__child *c, const char *path,
                                     bool dir, bool report) {
  char buf[PATH_MAX];
  size_t n = exec__slen(path);
  if (n >= sizeof(buf))
    exec__fail(c, "path too long", NULL);
  memcpy(buf, path, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (buf[i] != '/' && buf[i] != '\0')
      continue;
    char ch = buf[i];
    buf[i] = '\0';
    struct stat st;
    if (stat(buf, &st) != 0) {
      bool last = ch == '\0';
      if (last && !dir) {
        int fd = open(buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
          exec__fail(c, "create mount point", buf);
        close(fd);
      } else if (mkdir(buf, 0755) != 0) {
        exec__fail(c, "mkdir", buf);
      }
      if (report) {
        exec__put(c->report_w, "M");
        exec__put(c->report_w, buf + 1);
        exec__put(c->report_w, "\n");
      }
    }
    buf[i] = ch;
  }
}

EXEC__CHILD static void exec__mount(struct exec__child *c, const char *src,
                                    const char *dst, const char *type,
                                    unsigned long flags, const char *data) {
  if (mount(src, dst, type, flags, data) != 0)
    exec__fail(c, type ? type : "bind mount", dst);
}

/* A detached copy of a host mount tree (taken before the pivot), made
 * read-only when asked; attached later with exec__attach. */
EXEC__CHILD static int exec__clone_tree(struct exec__child *c,
                                        const char *path, bool ro) {
  int fd = (int)syscall(SYS_open_tree, AT_FDCWD, path,
                        OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (fd < 0)
    exec__fail(c, "open_tree", path);
  if (ro) {
    struct mount_attr a;
    memset(&a, 0, sizeof(a));
    a.attr_set = MOUNT_ATTR_RDONLY;
    if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a,
                sizeof(a)) != 0)
      exec__fail(c, "read-only mount", path);
  }
  return fd;
}

EXEC__CHILD static void exec__attach(struct exec__child *c, int fd,
                                     const char *dst) {
  if (syscall(SYS_move_mount, fd, "", AT_FDCWD, dst,
              MOVE_MOUNT_F_EMPTY_PATH) != 0)
    exec__fail(c, "move_mount", dst);
  close(fd);
}

EXEC__CHILD static void exec__dev(struct exec__child *c) {
  exec__ensure(c, "/dev", true, false); /* (kept, as runc's: see /proc) */
  exec__mount(c, "tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME,
              "mode=755,size=65536k");
  static const char *const nodes[] = {"null",   "zero",    "full",
                                      "random", "urandom", "tty"};
  for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
    char dst[64] = "/dev/";
    memcpy(dst + 5, nodes[i], exec__slen(nodes[i]) + 1);
    int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    if (fd >= 0)
      close(fd);
  }
  if (mkdir("/dev/pts", 0755) == 0 &&
      mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
            "newinstance,ptmxmode=0666,mode=0620") == 0)
    (void)symlink("pts/ptmx", "/dev/ptmx");
  if (mkdir("/dev/shm", 01777) == 0)
    (void)mount("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV,
                "mode=1777,size=65536k");
  if (mkdir("/dev/mqueue", 0755) == 0)
    (void)mount("mqueue", "/dev/mqueue", "mqueue",
                MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  (void)symlink("/proc/self/fd", "/dev/fd");
  (void)symlink("/proc/self/fd/0", "/dev/stdin");
  (void)symlink("/proc/self/fd/1", "/dev/stdout");
  (void)symlink("/proc/self/fd/2", "/dev/stderr");
}

EXEC__CHILD static void exec__lo_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  memcpy(ifr.ifr_name, "lo", 3);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
    ifr.ifr_flags |= IFF_UP;
    (void)ioctl(s, SIOCSIFFLAGS, &ifr);
  }
  close(s);
}

/* Docker's default capability set; everything else leaves the bounding
 * set before exec, so root in a RUN is no more than root in a container. */
EXEC__CHILD static bool exec__cap_kept(int cap) {
  switch (cap) {
  case CAP_CHOWN:
  case CAP_DAC_OVERRIDE:
  case CAP_FSETID:
  case CAP_FOWNER:
  case CAP_MKNOD:
  case CAP_NET_RAW:
  case CAP_SETGID:
  case CAP_SETUID:
  case CAP_SETFCAP:
  case CAP_SETPCAP:
  case CAP_NET_BIND_SERVICE:
  case CAP_SYS_CHROOT:
  case CAP_KILL:
  case CAP_AUDIT_WRITE:
    return true;
  default:
    return false;
  }
}

EXEC__CHILD static void exec__reset_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++)
    (void)sigaction(s, &sa, NULL);
  sigset_t none;
  sigemptyset(&none);
  (void)sigprocmask(SIG_SETMASK, &none, NULL);
}

EXEC__CHILD static void exec__command(struct exec__child *c, int devnull) {
  exec__reset_signals();
  if (devnull >= 0)
    (void)dup2(devnull, 0);
  (void)dup2(c->log_w, 1);
  (void)dup2(c->log_w, 2);
  (void)syscall(SYS_close_range, 3u, ~0u, 0u);
  for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
    if (!exec__cap_kept(cap))
      (void)prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
  /* Raw system calls: glibc's setgroups/setgid/setuid signal every
   * thread it believes the process has, and this one inherited the
   * parent's list without its threads. */
  if (c->setgroups_ok &&
      syscall(SYS_setgroups, c->ngroups, c->ngroups ? c->groups : NULL) != 0) {
    exec__put(2, "dockwright: setgroups failed\n");
    _exit(126);
  }
  if (syscall(SYS_setresgid, c->gid, c->gid, c->gid) != 0 ||
      syscall(SYS_setresuid, c->uid, c->uid, c->uid) != 0) {
    exec__put(2, "dockwright: cannot switch to the USER (");
    exec__put(2, c->userns ? "not mapped in this rootless build)\n"
                           : "setuid/setgid failed)\n");
    _exit(126);
  }
  if (chdir(c->cwd) != 0) {
    exec__put(2, "dockwright: cannot enter the working directory ");
    exec__put(2, c->cwd);
    exec__put(2, "\n");
    _exit(126);
  }
  const char *a0 = c->argv[0];
  bool slash = false;
  for (const char *p = a0; *p; p++)
    slash = slash || *p == '/';
  int err = ENOENT;
  if (slash) {
    execve(a0, c->argv, c->envp);
    err = errno;
  } else {
    const char *p = c->path && *c->path
                        ? c->path
                        : "/usr/local/sbin:"
                          "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    size_t an = exec__slen(a0);
    while (*p) {
      const char *e = p;
      while (*e && *e != ':')
        e++;
      char full[PATH_MAX];
      size_t dn = (size_t)(e - p);
      if (dn + an + 2 < sizeof(full)) {
        memcpy(full, dn ? p : ".", dn ? dn : 1);
        size_t k = dn ? dn : 1;
        full[k++] = '/';
        memcpy(full + k, a0, an + 1);
        execve(full, c->argv, c->envp);
        if (errno != ENOENT && errno != ENOTDIR)
          err = errno;
      }
      p = *e ? e + 1 : e;
    }
  }
  exec__put(2, "dockwright: exec ");
  exec__put(2, a0);
  exec__put(2, err == ENOENT ? ": executable file not found\n"
                             : ": cannot execute\n");
  _exit(err == ENOENT ? 127 : 126);
}

EXEC__CHILD static int exec__init(void *arg) {
  struct exec__child *c = arg;
  if (c->userns) {
    char b;
    ssize_t r;
    do
      r = read(c->sync_r, &b, 1);
    while (r < 0 && errno == EINTR);
    if (r != 1)
      _exit(125);
  }
  close(c->sync_r);
  /* Nothing the child says may reach the caller's stdout or stderr (the
   * language server's stdout is its JSON-RPC stream). */
  (void)dup2(c->log_w, 1);
  (void)dup2(c->log_w, 2);
  (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    exec__fail(c, "make / private", NULL);
  if (chdir(c->rundir) != 0)
    exec__fail(c, "chdir", c->rundir);
  exec__mount(c, "overlay", "merged", "overlay", 0, c->ovl_opts);
  /* Sources are cloned on the host side of the pivot, as detached
   * trees, and attached inside the new root afterwards (so a symlink in
   * the image can never point a mount at a host path). */
  for (size_t i = 0; i < c->nmnts; i++) {
    struct exec__mnt *m = &c->mnts[i];
    m->fd = -1;
    if (m->kind == EXEC_MOUNT_BIND) {
      m->fd = exec__clone_tree(c, m->source, !m->rw);
    } else if (m->kind == EXEC_MOUNT_OVERLAY) {
      exec__mount(c, "overlay", m->stage, "overlay", 0, m->ovl_opts);
      m->fd = exec__clone_tree(c, m->stage, false);
    } else if (m->kind == EXEC_MOUNT_LAYERS) {
      exec__mount(c, "overlay", m->stage, "overlay", 0, m->ovl_opts);
      m->fd = exec__clone_tree(c, m->bind, !m->rw);
    }
  }
  int devs[6];
  static const char *const hostdev[] = {"/dev/null",    "/dev/zero",
                                        "/dev/full",    "/dev/random",
                                        "/dev/urandom", "/dev/tty"};
  for (size_t i = 0; i < 6; i++) {
    devs[i] = (int)syscall(SYS_open_tree, AT_FDCWD, hostdev[i],
                           OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  }
  /* proc (and sysfs) before the pivot: a user namespace may mount a new
   * proc only while a fully visible one is in its mount namespace. */
  /* /proc, /sys (and /dev below) are made when missing and not reported:
   * runc makes them in the rootfs and BuildKit's mount stub cleaner
   * (executor/stubs.go MountStubsCleaner) removes only /etc/hosts,
   * /etc/resolv.conf and the --mount targets it made, so they stay in
   * BuildKit's layer (moby/buildkit#3455: `RUN true` on busybox leaves
   * proc/ and sys/). */
  struct stat st;
  if (lstat("merged/proc", &st) != 0) {
    if (mkdir("merged/proc", 0755) != 0)
      exec__fail(c, "mkdir", "/proc");
  } else if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    exec__fail(c, "mount proc on", "/proc");
  }
  exec__mount(c, "proc", "merged/proc", "proc",
              MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  if (lstat("merged/sys", &st) != 0)
    (void)mkdir("merged/sys", 0755);
  if (lstat("merged/sys", &st) == 0 && S_ISDIR(st.st_mode))
    (void)mount("sysfs", "merged/sys", "sysfs",
                MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  if (chdir("merged") != 0)
    exec__fail(c, "chdir", "merged");
  if (syscall(SYS_pivot_root, ".", ".") != 0)
    exec__fail(c, "pivot_root", NULL);
  if (umount2(".", MNT_DETACH) != 0)
    exec__fail(c, "detach the old root", NULL);
  if (chdir("/") != 0)
    exec__fail(c, "chdir", "/");
  exec__dev(c);
  static const char *const devnames[] = {"/dev/null",    "/dev/zero",
                                         "/dev/full",    "/dev/random",
                                         "/dev/urandom", "/dev/tty"};
  for (size_t i = 0; i < 6; i++) {
    if (devs[i] < 0)
      continue;
    (void)syscall(SYS_move_mount, devs[i], "", AT_FDCWD, devnames[i],
                  MOVE_MOUNT_F_EMPTY_PATH);
    close(devs[i]);
  }
  for (size_t i = 0; i < c->nmnts; i++) {
    struct exec__mnt *m = &c->mnts[i];
    exec__ensure(c, m->target, m->is_dir, true);
    if (m->kind == EXEC_MOUNT_TMPFS)
      exec__mount(c, "tmpfs", m->target, "tmpfs", MS_NOSUID | MS_NODEV,
                  m->tmpfs_opts);
    else
      exec__attach(c, m->fd, m->target);
  }
  if (c->netnone)
    exec__lo_up();
  if (c->hostname)
    (void)sethostname(c->hostname, exec__slen(c->hostname));
  /* A missing working directory is created, as runc does (kept in the
   * layer, as BuildKit keeps it). */
  if (stat(c->cwd, &st) != 0)
    exec__ensure(c, c->cwd, true, false);
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  /* Not fork(3): glibc's takes the stdio and malloc locks first, and a
   * thread of the parent (a layer packing in the background) may have
   * held them when this process was copied. */
  pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid < 0)
    exec__fail(c, "fork", NULL);
  if (pid == 0)
    exec__command(c, devnull);
  close(c->log_w);
  close(c->report_w);
  if (devnull >= 0)
    close(devnull);
  for (;;) {
    int ws;
    pid_t w = wait(&ws);
    if (w == pid) {
      if (WIFEXITED(ws))
        _exit(WEXITSTATUS(ws));
      _exit(128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0));
    }
    if (w < 0 && errno != EINTR)
      _exit(125);
  }
}

/* --- the parent ------------------------------------------------------- */

void exec_result_cleanup(struct exec_result *r) {
  strv_cleanup(&r->created);
}

static int exec__write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  size_t n = strlen(text);
  ssize_t w = write(fd, text, n);
  close(fd);
  return w == (ssize_t)n ? 0 : -1;
}

static int exec__spawn_wait(const char *const *argv) {
  pid_t pid;
  if (posix_spawnp(&pid, argv[0], NULL, NULL, (char *const *)argv, environ) !=
      0)
    return -1;
  int ws;
  while (waitpid(pid, &ws, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : -1;
}

static int exec__write_maps(const struct exec_spec *s, pid_t pid,
                            struct err *err) {
  struct buf p = BUF_INIT, m = BUF_INIT;
  int rc = 0;
  for (int which = 0; which < 2 && rc == 0; which++) {
    const struct exec_idmap *map = which ? s->gidmap : s->uidmap;
    size_t n = which ? s->ngidmap : s->nuidmap;
    if (s->use_newidmap) {
      struct strv argv = STRV_INIT;
      strv_push(&argv, which ? "newgidmap" : "newuidmap");
      buf_reset(&m);
      buf_printf(&m, "%d", (int)pid);
      strv_push(&argv, m.data);
      for (size_t i = 0; i < n; i++) {
        buf_reset(&m);
        buf_printf(&m, "%u", map[i].inside);
        strv_push(&argv, m.data);
        buf_reset(&m);
        buf_printf(&m, "%u", map[i].outside);
        strv_push(&argv, m.data);
        buf_reset(&m);
        buf_printf(&m, "%u", map[i].count);
        strv_push(&argv, m.data);
      }
      const char **av = xcalloc(argv.n + 1, sizeof(char *));
      for (size_t i = 0; i < argv.n; i++)
        av[i] = argv.v[i];
      if (exec__spawn_wait(av) != 0)
        rc = err_set(err, ERR_PERM,
                     "%s failed (check /etc/subuid and "
                     "/etc/subgid)",
                     argv.v[0]);
      free(av);
      strv_cleanup(&argv);
      continue;
    }
    if (which == 1) {
      buf_reset(&p);
      buf_printf(&p, "/proc/%d/setgroups", (int)pid);
      (void)exec__write_file(p.data, "deny");
    }
    buf_reset(&m);
    for (size_t i = 0; i < n; i++)
      buf_printf(&m, "%u %u %u\n", map[i].inside, map[i].outside,
                 map[i].count);
    buf_reset(&p);
    buf_printf(&p, "/proc/%d/%s", (int)pid, which ? "gid_map" : "uid_map");
    if (exec__write_file(p.data, m.data ? m.data : "") != 0)
      rc = err_set(err, ERR_PERM, "cannot write %s: %s", p.data,
                   strerror(errno));
  }
  buf_cleanup(&p);
  buf_cleanup(&m);
  return rc;
}

/* Reads the first subordinate range of user (name or uid) in file. */
static bool exec__subid(const char *file, const char *name, unsigned id,
                        unsigned *start, unsigned *count) {
  FILE *f = fopen(file, "r");
  if (f == NULL)
    return false;
  char line[512];
  bool found = false;
  char ids[16];
  snprintf(ids, sizeof(ids), "%u", id);
  while (!found && fgets(line, sizeof(line), f)) {
    char *a = strtok(line, ":\n");
    char *b = a ? strtok(NULL, ":\n") : NULL;
    char *c = b ? strtok(NULL, ":\n") : NULL;
    if (c && ((name && strcmp(a, name) == 0) || strcmp(a, ids) == 0)) {
      *start = (unsigned)strtoul(b, NULL, 10);
      *count = (unsigned)strtoul(c, NULL, 10);
      found = *count > 0;
    }
  }
  fclose(f);
  return found;
}

bool exec_rootless_maps(struct exec_spec *s) {
  uid_t uid = geteuid();
  gid_t gid = getegid();
  s->uidmap[0] = (struct exec_idmap){0, (unsigned)uid, 1};
  s->gidmap[0] = (struct exec_idmap){0, (unsigned)gid, 1};
  s->nuidmap = s->ngidmap = 1;
  s->use_newidmap = false;
  const char *user = getenv("USER");
  unsigned us, uc, gs, gc;
  bool tools = access("/usr/bin/newuidmap", X_OK) == 0 &&
               access("/usr/bin/newgidmap", X_OK) == 0;
  if (tools && exec__subid("/etc/subuid", user, (unsigned)uid, &us, &uc) &&
      exec__subid("/etc/subgid", user, (unsigned)uid, &gs, &gc)) {
    s->uidmap[1] = (struct exec_idmap){1, us, uc};
    s->gidmap[1] = (struct exec_idmap){1, gs, gc};
    s->nuidmap = s->ngidmap = 2;
    s->use_newidmap = true;
  }
  return s->use_newidmap;
}

struct exec__reader {
  uv_pipe_t pipe;
  uv_timer_t timer;
  const atomic_bool *cancel;
  pid_t pid;
  bool eof, killed;
  int closing;
  struct buf partial;
  exec_line_fn on_line;
  void *ctx;
  size_t bytes;
};

static void exec__alloc(uv_handle_t *h, size_t hint, uv_buf_t *b) {
  (void)h;
  (void)hint;
  static _Thread_local char chunk[65536];
  *b = uv_buf_init(chunk, sizeof(chunk));
}

static void exec__emit(struct exec__reader *r, const char *s, size_t n) {
  if (r->on_line == NULL)
    return;
  /* A progress line redrawn with '\r': only its last state is kept. */
  for (size_t i = n; i-- > 0;)
    if (s[i] == '\r' && i + 1 < n) {
      s += i + 1;
      n -= i + 1;
      break;
    }
  char *line = xstrndup(s, n);
  /* Control characters become spaces. */
  for (char *p = line; *p; p++)
    if ((unsigned char)*p < 0x20 && *p != '\t')
      *p = ' ';
  r->on_line(r->ctx, line);
  free(line);
}

static void exec__read(uv_stream_t *st, ssize_t n, const uv_buf_t *b) {
  struct exec__reader *r = st->data;
  if (n < 0) {
    r->eof = true;
    uv_read_stop(st);
    return;
  }
  r->bytes += (size_t)n;
  buf_append(&r->partial, b->base, (size_t)n);
  size_t start = 0;
  for (size_t i = 0; i < r->partial.len; i++)
    if (r->partial.data[i] == '\n') {
      exec__emit(r, r->partial.data + start, i - start);
      start = i + 1;
    }
  /* Very long lines are cut so one line cannot grow without bound. */
  if (r->partial.len - start > 16384) {
    exec__emit(r, r->partial.data + start, r->partial.len - start);
    start = r->partial.len;
  }
  memmove(r->partial.data, r->partial.data + start, r->partial.len - start);
  r->partial.len -= start;
  if (r->partial.data)
    r->partial.data[r->partial.len] = '\0';
}

static void exec__tick(uv_timer_t *t) {
  struct exec__reader *r = t->data;
  if (!r->killed && r->cancel && atomic_load(r->cancel)) {
    r->killed = true;
    (void)kill(r->pid, SIGKILL);
  }
}

static void exec__closed(uv_handle_t *h) {
  struct exec__reader *r = h->data;
  r->closing--;
}

/* Appends to opts the lowerdir list of lowers (bottom first), topmost
 * first, through symlinks <host_dir>/l<k>, named <rel>l<k> in the options
 * (read from rundir: symlinks keep the options short).  A directory met
 * twice (two empty RUNs give one layer) is listed once, at its topmost
 * place: overlayfs refuses it twice.  *listed: how many went in. */
static int exec__lowerdir(const char *what, const char *host_dir,
                          const char *rel, const char *const *lowers, size_t n,
                          struct buf *opts, size_t *listed, struct err *err) {
  *listed = 0;
  if (n > EXEC__MAX_LOWERS)
    return err_set(err, ERR_TOOBIG,
                   "%s over %zu layers: overlayfs stacks at most %u", what, n,
                   EXEC__MAX_LOWERS);
  struct buf l = BUF_INIT;
  int rc = 0;
  for (size_t i = n; rc == 0 && i-- > 0;) {
    bool dup = false;
    for (size_t k = i + 1; k < n && !dup; k++)
      dup = strcmp(lowers[k], lowers[i]) == 0;
    if (dup)
      continue;
    buf_reset(&l);
    buf_printf(&l, "%s/l%zu", host_dir, i);
    if (symlink(lowers[i], l.data) != 0)
      rc = err_set(err, ERR_IO, "symlink %s: %s", l.data, strerror(errno));
    buf_printf(opts, "%s%sl%zu", *listed ? ":" : "", rel, i);
    (*listed)++;
  }
  buf_cleanup(&l);
  if (rc == 0 && opts->len > 4000)
    rc = err_set(err, ERR_TOOBIG,
                 "%s over %zu layers: overlay options too long", what, n);
  return rc;
}

/* A LAYERS mount's overlay, prepared under rundir/m<i> (the child mounts
 * it at m<i>/mnt, relative to rundir, and binds mnt/<subpath>); without
 * an upper directory overlayfs wants two lower ones, so empty ones fill
 * in. */
static int exec__layers(const struct exec_spec *s, size_t i,
                        const struct exec_mount *in, struct exec__mnt *m,
                        struct strv *keep, struct err *err) {
  struct buf host = BUF_INIT, p = BUF_INIT, opts = BUF_INIT;
  int rc = 0;
  buf_printf(&host, "%s/m%zu", s->rundir, i);
  static const char *const sub[] = {"",        "/mnt", "/empty",
                                    "/empty2", "/u",   "/w"};
  for (size_t k = 0; k < 6 && rc == 0; k++) {
    buf_reset(&p);
    buf_printf(&p, "%s%s", host.data, sub[k]);
    if (mkdir(p.data, 0755) != 0 && errno != EEXIST)
      rc = err_set(err, ERR_IO, "mkdir %s: %s", p.data, strerror(errno));
  }
  buf_puts(&opts, "lowerdir=");
  buf_reset(&p);
  buf_printf(&p, "m%zu/", i);
  size_t listed = 0;
  if (rc == 0)
    rc = exec__lowerdir("--mount", host.data, p.data, in->lowers, in->nlowers,
                        &opts, &listed, err);
  if (listed == 0)
    buf_printf(&opts, "m%zu/empty", i);
  if (in->rw)
    buf_printf(&opts, ",upperdir=m%zu/u,workdir=m%zu/w", i, i);
  else if (listed < 2)
    buf_printf(&opts, ":m%zu/empty%s", i, listed ? "" : "2");
  buf_puts(&opts, ",userxattr");
  if (rc == 0) {
    strv_push(keep, opts.data);
    m->ovl_opts = keep->v[keep->n - 1];
    buf_reset(&p);
    buf_printf(&p, "m%zu/mnt", i);
    strv_push(keep, p.data);
    m->stage = keep->v[keep->n - 1];
    buf_reset(&p);
    buf_printf(&p, "m%zu/mnt%s%s", i, in->subpath[0] ? "/" : "", in->subpath);
    strv_push(keep, p.data);
    m->bind = keep->v[keep->n - 1];
    m->is_dir = in->is_dir;
  }
  buf_cleanup(&host);
  buf_cleanup(&p);
  buf_cleanup(&opts);
  return rc;
}

/* The RUN's own overlay options: its layers under a new upper directory. */
static int exec__lowers(const struct exec_spec *s, struct buf *opts,
                        struct err *err) {
  buf_puts(opts, "lowerdir=");
  size_t listed = 0;
  int rc = exec__lowerdir("RUN", s->rundir, "", s->lowers, s->nlowers, opts,
                          &listed, err);
  if (rc == 0 && listed == 0) {
    struct buf l = BUF_INIT;
    buf_printf(&l, "%s/empty", s->rundir);
    if (mkdir(l.data, 0755) != 0 && errno != EEXIST)
      rc = err_set(err, ERR_IO, "mkdir %s: %s", l.data, strerror(errno));
    buf_cleanup(&l);
    buf_puts(opts, "empty");
  }
  /* No redirect_dir, no metacopy, no index: the upper directory stays a
   * plain diff (whiteouts, opaque xattrs, full copies). */
  buf_puts(opts, ",upperdir=upper,workdir=work,userxattr");
  return rc;
}

int exec_run(const struct exec_spec *s, uv_loop_t *loop,
             const atomic_bool *cancel, exec_line_fn on_line, void *ctx,
             struct exec_result *res, struct err *err) {
  memset(res, 0, sizeof(*res));
  struct exec__child c;
  memset(&c, 0, sizeof(c));
  c.log_w = c.report_w = c.sync_r = -1;
  struct buf opts = BUF_INIT, p = BUF_INIT;
  int rc = 0;
  static const char *const sub[] = {"upper", "work", "merged"};
  for (size_t i = 0; i < 3 && rc == 0; i++) {
    buf_reset(&p);
    buf_printf(&p, "%s/%s", s->rundir, sub[i]);
    if (mkdir(p.data, 0755) != 0 && errno != EEXIST)
      rc = err_set(err, ERR_IO, "mkdir %s: %s", p.data, strerror(errno));
  }
  if (rc == 0)
    rc = exec__lowers(s, &opts, err);
  if (rc < 0) {
    buf_cleanup(&opts);
    buf_cleanup(&p);
    return rc;
  }
  c.ovl_opts = opts.data;
  c.userns = s->userns;
  c.netnone = s->network_none;
  c.setgroups_ok = !s->userns || s->use_newidmap;
  c.rundir = s->rundir;
  c.argv = (char *const *)s->argv;
  c.envp = (char *const *)s->envp;
  for (size_t i = 0; s->envp[i]; i++)
    if (strncmp(s->envp[i], "PATH=", 5) == 0)
      c.path = s->envp[i] + 5;
  c.cwd = s->cwd && *s->cwd ? s->cwd : "/";
  c.hostname = s->hostname;
  c.uid = s->uid;
  c.gid = s->gid;
  c.groups = s->groups;
  c.ngroups = s->ngroups;
  /* resolv.conf and hosts are binds like the --mount ones. */
  size_t nm = s->nmounts + 2;
  c.mnts = xcalloc(nm, sizeof(*c.mnts));
  struct strv keep = STRV_INIT;
  for (size_t i = 0; i < 2; i++) {
    const char *src = i ? s->hosts : s->resolv_conf;
    if (src == NULL)
      continue;
    struct exec__mnt *m = &c.mnts[c.nmnts++];
    m->kind = EXEC_MOUNT_BIND;
    m->source = src;
    m->target = i ? "/etc/hosts" : "/etc/resolv.conf";
    m->rw = false;
  }
  for (size_t i = 0; i < s->nmounts && rc == 0; i++) {
    const struct exec_mount *in = &s->mounts[i];
    struct exec__mnt *m = &c.mnts[c.nmnts++];
    m->kind = in->kind;
    m->source = in->source;
    m->target = in->target;
    m->rw = in->rw;
    m->is_dir = true;
    struct stat st;
    if (in->kind == EXEC_MOUNT_LAYERS) {
      rc = exec__layers(s, i, in, m, &keep, err);
      continue;
    }
    if (in->kind != EXEC_MOUNT_TMPFS) {
      if (stat(in->source, &st) != 0) {
        rc = err_set(err, ERR_NOTFOUND, "mount source %s: %s", in->source,
                     strerror(errno));
        break;
      }
      m->is_dir = S_ISDIR(st.st_mode);
    }
    if (in->kind == EXEC_MOUNT_TMPFS) {
      buf_reset(&p);
      buf_puts(&p, "mode=1777");
      if (in->size)
        buf_printf(&p, ",size=%lu", in->size);
      strv_push(&keep, p.data);
      m->tmpfs_opts = keep.v[keep.n - 1];
    } else if (in->kind == EXEC_MOUNT_OVERLAY) {
      struct buf up = BUF_INIT;
      buf_printf(&up, "%s/m%zu", s->rundir, i);
      if (mkdir(up.data, 0755) != 0 && errno != EEXIST)
        rc = err_set(err, ERR_IO, "mkdir %s: %s", up.data, strerror(errno));
      buf_reset(&p);
      buf_printf(&p, "%s/u", up.data);
      (void)mkdir(p.data, 0755);
      buf_reset(&p);
      buf_printf(&p, "%s/w", up.data);
      (void)mkdir(p.data, 0755);
      buf_reset(&p);
      buf_printf(&p, "lowerdir=%s,upperdir=%s/u,workdir=%s/w,userxattr",
                 in->source, up.data, up.data);
      strv_push(&keep, p.data);
      m->ovl_opts = keep.v[keep.n - 1];
      buf_reset(&p);
      buf_printf(&p, "%s/mnt", up.data);
      (void)mkdir(p.data, 0755);
      strv_push(&keep, p.data);
      m->stage = keep.v[keep.n - 1];
      buf_cleanup(&up);
    }
  }
  int logp[2] = {-1, -1}, repp[2] = {-1, -1}, syncp[2] = {-1, -1};
  if (rc == 0 && (pipe2(logp, O_CLOEXEC) != 0 || pipe2(repp, O_CLOEXEC) != 0 ||
                  pipe2(syncp, O_CLOEXEC) != 0))
    rc = err_set(err, ERR_IO, "pipe: %s", strerror(errno));
  char *stack = NULL;
  pid_t pid = -1;
  if (rc == 0) {
    c.log_w = logp[1];
    c.report_w = repp[1];
    c.sync_r = syncp[0];
    stack = xmalloc(EXEC__STACK);
    int flags =
        CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
    if (s->userns)
      flags |= CLONE_NEWUSER;
    if (s->network_none)
      flags |= CLONE_NEWNET;
    pid = clone(exec__init, stack + EXEC__STACK, flags, &c);
    if (pid < 0)
      rc = err_set(err, errno == EPERM ? ERR_PERM : ERR_IO,
                   "cannot create the RUN namespaces: %s%s", strerror(errno),
                   s->userns ? " (are unprivileged user namespaces "
                               "enabled?)"
                             : "");
  }
  free(stack);
  if (logp[1] >= 0)
    close(logp[1]);
  if (repp[1] >= 0)
    close(repp[1]);
  if (syncp[0] >= 0)
    close(syncp[0]);
  if (rc == 0 && s->userns) {
    rc = exec__write_maps(s, pid, err);
    if (rc < 0)
      (void)kill(pid, SIGKILL);
  }
  if (syncp[1] >= 0) {
    if (rc == 0 && s->userns && write(syncp[1], "1", 1) != 1)
      rc = err_set(err, ERR_IO, "sync pipe: %s", strerror(errno));
    close(syncp[1]);
  }
  bool killed = false;
  if (pid > 0) {
    struct exec__reader r;
    memset(&r, 0, sizeof(r));
    r.cancel = cancel;
    r.pid = pid;
    r.on_line = on_line;
    r.ctx = ctx;
    uv_pipe_init(loop, &r.pipe, 0);
    r.pipe.data = &r;
    uv_timer_init(loop, &r.timer);
    r.timer.data = &r;
    if (uv_pipe_open(&r.pipe, logp[0]) == 0) {
      logp[0] = -1; /* the pipe handle owns it now */
      uv_read_start((uv_stream_t *)&r.pipe, exec__alloc, exec__read);
      uv_timer_start(&r.timer, exec__tick, 50, 50);
      while (!r.eof)
        uv_run(loop, UV_RUN_ONCE);
    } else {
      r.eof = true;
    }
    if (r.partial.len)
      exec__emit(&r, r.partial.data, r.partial.len);
    buf_cleanup(&r.partial);
    uv_timer_stop(&r.timer);
    r.closing = 2;
    uv_close((uv_handle_t *)&r.pipe, exec__closed);
    uv_close((uv_handle_t *)&r.timer, exec__closed);
    while (r.closing > 0)
      uv_run(loop, UV_RUN_ONCE);
    killed = r.killed;
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
      ;
    res->exit_code = WIFEXITED(ws)
                         ? WEXITSTATUS(ws)
                         : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
    /* The report: mount points created, or why setup failed. */
    struct buf rep = BUF_INIT;
    char chunk[4096];
    ssize_t n;
    while ((n = read(repp[0], chunk, sizeof(chunk))) > 0 ||
           (n < 0 && errno == EINTR))
      if (n > 0 && rep.len < (1u << 20))
        buf_append(&rep, chunk, (size_t)n);
    char *save = NULL;
    for (char *line = rep.data ? strtok_r(rep.data, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
      if (line[0] == 'M') {
        strv_push(&res->created, line + 1);
      } else if (line[0] == 'E' && rc == 0 && !killed) {
        char *sp = strchr(line, ' ');
        int en = atoi(line + 1);
        rc = err_set(err, en == EPERM ? ERR_PERM : ERR_IO,
                     "RUN setup failed: %s: %s", sp ? sp + 1 : line,
                     strerror(en));
      }
    }
    buf_cleanup(&rep);
  }
  if (rc == 0 && killed)
    rc = err_set(err, ERR_CANCELLED, "cancelled");
  for (size_t i = 0; i < 2; i++) {
    if (logp[i] >= 0 && i == 0)
      close(logp[i]);
    if (repp[i] >= 0 && i == 0)
      close(repp[i]);
  }
  free(c.mnts);
  strv_cleanup(&keep);
  buf_cleanup(&opts);
  buf_cleanup(&p);
  return rc;
}
