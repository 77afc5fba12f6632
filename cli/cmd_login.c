/*
 * cmd_login.c - `dockwright login` and `dockwright logout`.
 *
 * The password comes from standard input (--password-stdin), from a
 * prompt with echo off on a terminal, or, with a warning, from
 * --password.  It is wiped once the builder has checked and stored it and
 * is never printed.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "../builder/plugin.h"
#include "../common/buf.h"
#include "cli.h"

#define LOGIN_MAX_SECRET 4096

static const char login_usage[] =
    "Usage: dockwright login [options] REGISTRY\n\n"
    "Checks the credentials against REGISTRY (host[:port], or docker.io)\n"
    "with the same challenge a push meets, then stores them as Docker "
    "does:\n"
    "in the configured credential helper (credHelpers, credsStore), else "
    "in\n"
    "$DOCKER_CONFIG/config.json (mode 0600).\n\n"
    "  -u, --username USER              the user name\n"
    "      --password-stdin             read the password from standard "
    "input\n"
    "  -p, --password PASSWORD          insecure: visible to other users "
    "and\n"
    "                                   in the shell's history\n"
    "      --insecure-registry HOST[:PORT]  allow http / unverified TLS\n";

static void login_wipe(char *s) {
  if (s) {
    volatile char *p = s;
    while (*p)
      *p++ = 0;
  }
}

/* Reads one line (or all of stdin with `all`), without the line end.
 * Caller wipes and frees. */
static char *login_read(FILE *f, bool all) {
  struct buf b = BUF_INIT;
  int c;
  while ((c = fgetc(f)) != EOF) {
    if (!all && c == '\n')
      break;
    if (b.len >= LOGIN_MAX_SECRET) {
      login_wipe(b.data);
      buf_cleanup(&b);
      return NULL;
    }
    buf_putc(&b, (char)c);
  }
  while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
    b.data[--b.len] = '\0';
  return buf_take(&b); /* "" when nothing was read */
}

/* A prompt on the terminal, echo off for secrets. */
static char *login_prompt(const char *what, bool secret) {
  fprintf(stderr, "%s: ", what);
  fflush(stderr);
  struct termios old, quiet;
  bool tty = secret && tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  char *s = login_read(stdin, false);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
  }
  return s;
}

int cmd_login_main(int argc, char **argv) {
  enum { O_STDIN = 256, O_INSECURE };
  static const struct option opts[] = {
      {"username", required_argument, NULL, 'u'},
      {"password", required_argument, NULL, 'p'},
      {"password-stdin", no_argument, NULL, O_STDIN},
      {"insecure-registry", required_argument, NULL, O_INSECURE},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *user_arg = NULL;
  char *pass_arg = NULL;
  bool from_stdin = false;
  struct strv insecure = STRV_INIT;
  int opt, status = 0;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "u:p:h", opts, NULL)) != -1) {
    switch (opt) {
    case 'u':
      user_arg = optarg;
      break;
    case 'p':
      pass_arg = optarg;
      break;
    case O_STDIN:
      from_stdin = true;
      break;
    case O_INSECURE:
      strv_push(&insecure, optarg);
      break;
    case 'h':
      fputs(login_usage, stdout);
      strv_cleanup(&insecure);
      return 0;
    default:
      fputs(login_usage, stderr);
      strv_cleanup(&insecure);
      return 2;
    }
  }
  if (optind + 1 != argc) {
    cli_error("login needs exactly one REGISTRY");
    fputs(login_usage, stderr);
    strv_cleanup(&insecure);
    return 2;
  }
  if (pass_arg && from_stdin) {
    cli_error("--password and --password-stdin are mutually exclusive");
    strv_cleanup(&insecure);
    return 2;
  }
  char *user = user_arg ? xstrdup(user_arg) : NULL;
  char *pass = NULL;
  bool tty = isatty(STDIN_FILENO);
  if (pass_arg) {
    fprintf(stderr, "WARNING! Using --password on the command line is "
                    "insecure. Use --password-stdin.\n");
    pass = xstrdup(pass_arg);
    login_wipe(pass_arg); /* out of /proc/PID/cmdline from now on */
  } else if (from_stdin) {
    if (user == NULL) {
      cli_error("--password-stdin needs --username");
      status = 2;
      goto done;
    }
    pass = login_read(stdin, true);
  } else if (tty) {
    if (user == NULL)
      user = login_prompt("Username", false);
    pass = login_prompt("Password", true);
  } else {
    cli_error("no password: use --password-stdin (standard input is not "
              "a terminal)");
    status = 2;
    goto done;
  }
  if (user == NULL && tty)
    user = login_prompt("Username", false);
  if (user == NULL || pass == NULL || user[0] == '\0' || pass[0] == '\0') {
    cli_error("login needs a username and a non-empty password%s",
              pass == NULL ? " (at most 4096 bytes)" : "");
    status = 2;
    goto done;
  }
  const struct builder_plugin *p = cli_builder();
  if (p == NULL) {
    status = 2;
    goto done;
  }
  struct login_request req;
  memset(&req, 0, sizeof(req));
  req.registry = argv[optind];
  req.username = user;
  req.password = pass;
  req.insecure = (const char *const *)insecure.v;
  req.ninsecure = insecure.n;
  req.env = cli_environ(&req.nenv);
  struct login_result res;
  struct err err;
  err_clear(&err);
  if (p->login_run(&req, &res, &err) < 0) {
    cli_error("login to %s: %s", argv[optind], err.msg);
    status = 1;
    goto done;
  }
  if (!res.needed)
    fprintf(stderr,
            "(%s asks for no login; the credentials are stored "
            "anyway)\n",
            argv[optind]);
  fprintf(stderr, "Credentials stored in %s\n", res.where);
  printf("Login Succeeded\n");
done:
  login_wipe(pass);
  free(pass);
  free(user);
  strv_cleanup(&insecure);
  return status;
}

int cmd_logout_main(int argc, char **argv) {
  static const char usage[] =
      "Usage: dockwright logout REGISTRY\n\n"
      "Removes REGISTRY's credentials from the credential helper and from\n"
      "$DOCKER_CONFIG/config.json.\n";
  if (argc == 2 &&
      (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
    fputs(usage, stdout);
    return 0;
  }
  if (argc != 2) {
    fputs(usage, stderr);
    return 2;
  }
  const struct builder_plugin *p = cli_builder();
  if (p == NULL)
    return 2;
  struct login_result res;
  struct err err;
  err_clear(&err);
  if (p->login_logout(argv[1], &res, &err) < 0) {
    cli_error("logout: %s", err.msg);
    return 1;
  }
  printf("Removing login credentials for %s (%s)\n", argv[1], res.where);
  return 0;
}
