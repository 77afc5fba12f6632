/*
 * cmd_build.c - `dockwright build`: the builder behind the command line.
 * Events are printed to standard error as they come; the image digest goes
 * to standard output.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../builder/plugin.h"
#include "../common/buf.h"
#include "cli.h"
#include "progress.h"

static void build_usage(FILE *out) {
  fprintf(out,
          "Usage: dockwright build [options] CONTEXT\n\n"
          "Builds an image from a Dockerfile (no daemon; RUN runs in its "
          "own\nnamespaces over an overlay; unchanged steps come from the "
          "build cache).\n\n"
          "  -f, --file FILE            Dockerfile (default CONTEXT/"
          "Dockerfile)\n"
          "  -t, --tag REF              name the image (repeatable)\n"
          "      --build-arg K[=V]      set a build argument (repeatable)\n"
          "      --target STAGE         build this stage\n"
          "      --platform OS/ARCH     e.g. linux/amd64\n"
          "      --no-cache             do not reuse cached layers\n"
          "      --secret id=ID,src=FILE|env=VAR\n"
          "                             a secret for RUN --mount=type=secret "
          "(never\n"
          "                             stored in a layer or the history)\n"
          "      --format oci|docker    manifest and config media types\n"
          "      --compression gzip|zstd\n"
          "      --output type=oci,dest=DIR | type=oci-archive,dest=FILE\n"
          "      --root DIR             image store (default "
          "$DOCKWRIGHT_ROOT or\n"
          "                             $XDG_DATA_HOME/dockwright)\n"
          "      --insecure-registry HOST[:PORT]  allow http / unverified "
          "TLS\n"
          "      --push                 then push every -t REF to its "
          "registry\n"
          "      --max-concurrent-uploads N    blobs pushed at once "
          "(default 4)\n"
          "      --max-concurrent-downloads N  blobs pulled at once "
          "(default 4)\n"
          "      --cache-to type=registry,ref=REF[,mode=min|max]\n"
          "                             export the build cache to a "
          "registry\n"
          "      --cache-from type=registry,ref=REF\n"
          "                             import a build cache (repeatable)\n"
          "      --progress auto|tty|plain|quiet\n"
          "                             bars on a terminal, throttled lines "
          "otherwise\n"
          "  -q, --quiet                print only the image digest\n");
}

struct build_cli {
  struct progress *prog;
  int rc;
  char digest[80];
};

static struct build *build_cli_current;
static const struct builder_plugin *build_cli_plugin;

static void build_cli_sigint(int sig) {
  (void)sig;
  if (build_cli_current)
    build_cli_plugin->build_cancel(build_cli_current);
}

static void build_cli_event(void *ctx, const struct build_event *ev) {
  struct build_cli *c = ctx;
  switch (ev->kind) {
  case BUILD_EV_STEP:
    progress_print(c->prog, "#%u/%u %s", ev->step, ev->nsteps, ev->text);
    break;
  case BUILD_EV_LOG:
    if (ev->line)
      progress_print(c->prog, "  %u| %s", ev->line, ev->text);
    else
      progress_print(c->prog, "  %s", ev->text);
    break;
  case BUILD_EV_PROGRESS:
    progress_update(c->prog, ev->text, ev->current, ev->total);
    break;
  case BUILD_EV_IMAGE:
    if (ev->code == BUILD_ACTION_PUSH)
      progress_print(c->prog, "pushed %s %s", ev->text, ev->digest);
    break;
  case BUILD_EV_STEP_DONE:
  case BUILD_EV_LAYER:
    break; /* the log says the same in words */
  case BUILD_EV_DONE:
    snprintf(c->digest, sizeof(c->digest), "%s", ev->text);
    c->rc = 0;
    break;
  case BUILD_EV_FAILED:
    progress_free(c->prog);
    c->prog = progress_new(PROGRESS_QUIET, stderr);
    if (ev->line)
      cli_error("build failed (line %u): %s", ev->line, ev->text);
    else
      cli_error("build failed: %s", ev->text);
    c->rc = 1;
    break;
  case BUILD_EV_CANCELLED:
    progress_free(c->prog);
    c->prog = progress_new(PROGRESS_QUIET, stderr);
    cli_error("build cancelled");
    c->rc = 130;
    break;
  case BUILD_EV_TAGS: /* tag lists are the server's */
    break;
  }
}

/* A count option's value: 1..64. */
static int build_cli_count(const char *name, const char *v, unsigned *out) {
  char *end;
  long n = strtol(v, &end, 10);
  if (*v == '\0' || *end != '\0' || n < 1 || n > 64) {
    cli_error("%s takes a number from 1 to 64, not '%s'", name, v);
    return -1;
  }
  *out = (unsigned)n;
  return 0;
}

int cmd_build_main(int argc, char **argv) {
  enum {
    O_BUILD_ARG = 256,
    O_TARGET,
    O_PLATFORM,
    O_NO_CACHE,
    O_FORMAT,
    O_COMPRESSION,
    O_OUTPUT,
    O_ROOT,
    O_INSECURE,
    O_SECRET,
    O_PUSH,
    O_PROGRESS,
    O_MAX_UP,
    O_MAX_DOWN,
    O_CACHE_TO,
    O_CACHE_FROM
  };
  static const struct option opts[] = {
      {"file", required_argument, NULL, 'f'},
      {"tag", required_argument, NULL, 't'},
      {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},
      {"build-arg", required_argument, NULL, O_BUILD_ARG},
      {"target", required_argument, NULL, O_TARGET},
      {"platform", required_argument, NULL, O_PLATFORM},
      {"no-cache", no_argument, NULL, O_NO_CACHE},
      {"format", required_argument, NULL, O_FORMAT},
      {"compression", required_argument, NULL, O_COMPRESSION},
      {"output", required_argument, NULL, O_OUTPUT},
      {"root", required_argument, NULL, O_ROOT},
      {"insecure-registry", required_argument, NULL, O_INSECURE},
      {"secret", required_argument, NULL, O_SECRET},
      {"push", no_argument, NULL, O_PUSH},
      {"progress", required_argument, NULL, O_PROGRESS},
      {"max-concurrent-uploads", required_argument, NULL, O_MAX_UP},
      {"max-concurrent-downloads", required_argument, NULL, O_MAX_DOWN},
      {"cache-to", required_argument, NULL, O_CACHE_TO},
      {"cache-from", required_argument, NULL, O_CACHE_FROM},
      {NULL, 0, NULL, 0}};
  struct build_request req;
  memset(&req, 0, sizeof(req));
  struct strv tags = STRV_INIT, args = STRV_INIT, insecure = STRV_INIT;
  struct strv secrets = STRV_INIT, cache_from = STRV_INIT;
  struct build_cli c = {NULL, 1, ""};
  enum progress_mode pmode = PROGRESS_AUTO;
  bool quiet = false;
  int opt, status = 0;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "f:t:qh", opts, NULL)) != -1) {
    switch (opt) {
    case 'f':
      req.dockerfile = optarg;
      break;
    case 't':
      strv_push(&tags, optarg);
      break;
    case 'q':
      quiet = true;
      break;
    case O_PUSH:
      req.push = true;
      break;
    case O_CACHE_TO:
      req.cache_to = optarg;
      break;
    case O_CACHE_FROM:
      strv_push(&cache_from, optarg);
      break;
    case O_PROGRESS:
      if (progress_mode_parse(optarg, &pmode) < 0) {
        cli_error("--progress must be auto, tty, plain or quiet, not '%s'",
                  optarg);
        status = 2;
        goto done;
      }
      break;
    case O_MAX_UP:
      if (build_cli_count("--max-concurrent-uploads", optarg,
                          &req.max_concurrent_uploads) < 0) {
        status = 2;
        goto done;
      }
      break;
    case O_MAX_DOWN:
      if (build_cli_count("--max-concurrent-downloads", optarg,
                          &req.max_concurrent_downloads) < 0) {
        status = 2;
        goto done;
      }
      break;
    case 'h':
      build_usage(stdout);
      goto done;
    case O_BUILD_ARG:
      strv_push(&args, optarg);
      break;
    case O_TARGET:
      req.target = optarg;
      break;
    case O_PLATFORM:
      req.platform = optarg;
      break;
    case O_NO_CACHE:
      req.no_cache = true;
      break;
    case O_FORMAT:
      if (strcmp(optarg, "oci") == 0) {
        req.format = BUILD_FORMAT_OCI;
      } else if (strcmp(optarg, "docker") == 0) {
        req.format = BUILD_FORMAT_DOCKER;
      } else {
        cli_error("--format must be oci or docker, not '%s'", optarg);
        status = 2;
        goto done;
      }
      break;
    case O_COMPRESSION:
      if (strcmp(optarg, "gzip") == 0) {
        req.compression = BUILD_GZIP;
      } else if (strcmp(optarg, "zstd") == 0) {
        req.compression = BUILD_ZSTD;
      } else {
        cli_error("--compression must be gzip or zstd, not '%s'", optarg);
        status = 2;
        goto done;
      }
      break;
    case O_OUTPUT:
      req.output = optarg;
      break;
    case O_ROOT:
      req.root = optarg;
      break;
    case O_INSECURE:
      strv_push(&insecure, optarg);
      break;
    case O_SECRET:
      if (strncmp(optarg, "id=", 3) != 0 ||
          (strstr(optarg, "src=") == NULL && strstr(optarg, "env=") == NULL &&
           strstr(optarg, "source=") == NULL)) {
        cli_error("--secret takes id=ID,src=FILE or id=ID,env=VAR");
        status = 2;
        goto done;
      }
      strv_push(&secrets, optarg);
      break;
    default:
      build_usage(stderr);
      status = 2;
      goto done;
    }
  }
  if (optind + 1 != argc) {
    cli_error("build needs exactly one CONTEXT directory");
    build_usage(stderr);
    status = 2;
    goto done;
  }
  if (req.push && tags.n == 0) {
    cli_error("--push needs a name: -t REF");
    status = 2;
    goto done;
  }
  req.context_dir = argv[optind];
  req.tags = (const char *const *)tags.v;
  req.ntags = tags.n;
  req.build_args = (const char *const *)args.v;
  req.nbuild_args = args.n;
  req.insecure = (const char *const *)insecure.v;
  req.ninsecure = insecure.n;
  req.secrets = (const char *const *)secrets.v;
  req.nsecrets = secrets.n;
  req.cache_from = (const char *const *)cache_from.v;
  req.ncache_from = cache_from.n;
  req.env = cli_environ(&req.nenv);
  c.prog = progress_new(quiet ? PROGRESS_QUIET : pmode, stderr);
  build_cli_plugin = cli_builder();
  if (build_cli_plugin == NULL) {
    status = 2;
    goto done;
  }
  struct err err;
  err_clear(&err);
  signal(SIGINT, build_cli_sigint);
  int rc = build_cli_plugin->build_run(&req, build_cli_event, &c,
                                       &build_cli_current, &err);
  signal(SIGINT, SIG_DFL);
  if (rc < 0) {
    cli_error("%s", err.msg);
    status = 1;
    goto done;
  }
  status = c.rc;
  if (status == 0)
    printf("%s\n", c.digest);
done:
  progress_free(c.prog);
  strv_cleanup(&tags);
  strv_cleanup(&args);
  strv_cleanup(&insecure);
  strv_cleanup(&secrets);
  strv_cleanup(&cache_from);
  return status;
}
