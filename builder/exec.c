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
#include "exec_int.h"

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

/* The child's mounts: resolv.conf and hosts (binds like the --mount
 * ones), then each --mount, with the option strings and directories each
 * kind needs prepared here (strings kept in *keep). */
static int exec__mounts(const struct exec_spec *s, struct exec__child *c,
                        struct strv *keep, struct err *err) {
  struct buf p = BUF_INIT;
  int rc = 0;
  /* resolv.conf and hosts are binds like the --mount ones. */
  size_t nm = s->nmounts + 2;
  c->mnts = xcalloc(nm, sizeof(*c->mnts));
  for (size_t i = 0; i < 2; i++) {
    const char *src = i ? s->hosts : s->resolv_conf;
    if (src == NULL)
      continue;
    struct exec__mnt *m = &c->mnts[c->nmnts++];
    m->kind = EXEC_MOUNT_BIND;
    m->source = src;
    m->target = i ? "/etc/hosts" : "/etc/resolv.conf";
    m->rw = false;
  }
  for (size_t i = 0; i < s->nmounts && rc == 0; i++) {
    const struct exec_mount *in = &s->mounts[i];
    struct exec__mnt *m = &c->mnts[c->nmnts++];
    m->kind = in->kind;
    m->source = in->source;
    m->target = in->target;
    m->rw = in->rw;
    m->is_dir = true;
    struct stat st;
    if (in->kind == EXEC_MOUNT_LAYERS) {
      rc = exec__layers(s, i, in, m, keep, err);
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
      strv_push(keep, p.data);
      m->tmpfs_opts = keep->v[keep->n - 1];
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
      strv_push(keep, p.data);
      m->ovl_opts = keep->v[keep->n - 1];
      buf_reset(&p);
      buf_printf(&p, "%s/mnt", up.data);
      (void)mkdir(p.data, 0755);
      strv_push(keep, p.data);
      m->stage = keep->v[keep->n - 1];
      buf_cleanup(&up);
    }
  }
  buf_cleanup(&p);
  return rc;
}

/* Runs the loop until the child's output ends (lines to on_line; cancel
 * kills it), reaps it, and reads its report: the mount points it created,
 * or why its setup failed.  Returns whether it was killed. */
static bool exec__watch(pid_t pid, int *logr, int repr, uv_loop_t *loop,
                        const atomic_bool *cancel, exec_line_fn on_line,
                        void *ctx, struct exec_result *res, int *rc,
                        struct err *err) {
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
  if (uv_pipe_open(&r.pipe, *logr) == 0) {
    *logr = -1; /* the pipe handle owns it now */
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
  bool killed = r.killed;
  int ws = 0;
  while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
    ;
  res->exit_code = WIFEXITED(ws) ? WEXITSTATUS(ws)
                                 : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
  /* The report: mount points created, or why setup failed. */
  struct buf rep = BUF_INIT;
  char chunk[4096];
  ssize_t n;
  while ((n = read(repr, chunk, sizeof(chunk))) > 0 ||
         (n < 0 && errno == EINTR))
    if (n > 0 && rep.len < (1u << 20))
      buf_append(&rep, chunk, (size_t)n);
  char *save = NULL;
  for (char *line = rep.data ? strtok_r(rep.data, "\n", &save) : NULL; line;
       line = strtok_r(NULL, "\n", &save)) {
    if (line[0] == 'M') {
      strv_push(&res->created, line + 1);
    } else if (line[0] == 'E' && *rc == 0 && !killed) {
      char *sp = strchr(line, ' ');
      int en = atoi(line + 1);
      *rc = err_set(err, en == EPERM ? ERR_PERM : ERR_IO,
                    "RUN setup failed: %s: %s", sp ? sp + 1 : line,
                    strerror(en));
    }
  }
  buf_cleanup(&rep);
  return killed;
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
  struct strv keep = STRV_INIT;
  rc = exec__mounts(s, &c, &keep, err);
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
  if (pid > 0)
    killed = exec__watch(pid, &logp[0], repp[0], loop, cancel, on_line, ctx,
                         res, &rc, err);
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
