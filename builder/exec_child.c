/*
 * exec_child.c - the child of a RUN (see exec.c's DESIGN): pid 1 of the
 * new pid namespace, cloned from a multithreaded process, so it allocates
 * nothing and takes no lock: every string and fd it uses is in the
 * `struct exec__child` the parent prepared, and it only makes system
 * calls (raw ones where glibc's wrapper would lock or signal threads).
 */
#include "exec_int.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
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

EXEC__CHILD int exec__init(void *arg) {
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
