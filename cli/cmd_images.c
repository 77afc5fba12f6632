/*
 * cmd_images.c - the image store from the command line: `dockwright pull`,
 * `push`, `images`, `rmi`, `prune`.  Every one takes --root DIR and
 * --insecure-registry HOST[:PORT] (repeatable).  They print what the
 * builder's store facade (builder/images.h, through the plugin) returns.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../builder/plugin.h"
#include "../common/buf.h"
#include "cli.h"
#include "progress.h"

struct images_opts {
  const char *root;
  struct strv insecure;
  struct strv rest;
  bool quiet, all;
  const char *platform;
  enum progress_mode progress;
  unsigned max_up, max_down; /* 0: the builder's default */
};

/* A count option's value: 1..64; -1 (said why) otherwise. */
static int images_count(const char *name, const char *v, unsigned *out) {
  char *end;
  long n = strtol(v, &end, 10);
  if (*v == '\0' || *end != '\0' || n < 1 || n > 64) {
    cli_error("%s takes a number from 1 to 64, not '%s'", name, v);
    return -1;
  }
  *out = (unsigned)n;
  return 0;
}

/* Parses the options shared by these commands; returns 0, or the exit
 * status (help printed: -1 -> 0). */
static int images_parse(int argc, char **argv, const char *usage,
                        struct images_opts *o) {
  enum {
    O_ROOT = 256,
    O_INSECURE,
    O_PLATFORM,
    O_PROGRESS,
    O_MAX_UP,
    O_MAX_DOWN
  };
  static const struct option opts[] = {
      {"root", required_argument, NULL, O_ROOT},
      {"insecure-registry", required_argument, NULL, O_INSECURE},
      {"platform", required_argument, NULL, O_PLATFORM},
      {"progress", required_argument, NULL, O_PROGRESS},
      {"max-concurrent-uploads", required_argument, NULL, O_MAX_UP},
      {"max-concurrent-downloads", required_argument, NULL, O_MAX_DOWN},
      {"quiet", no_argument, NULL, 'q'},
      {"all", no_argument, NULL, 'a'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof(*o));
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "qah", opts, NULL)) != -1) {
    switch (c) {
    case O_ROOT:
      o->root = optarg;
      break;
    case O_INSECURE:
      strv_push(&o->insecure, optarg);
      break;
    case O_PLATFORM:
      o->platform = optarg;
      break;
    case O_PROGRESS:
      if (progress_mode_parse(optarg, &o->progress) < 0) {
        cli_error("--progress must be auto, tty, plain or quiet, not '%s'",
                  optarg);
        return 2;
      }
      break;
    case O_MAX_UP:
      if (images_count("--max-concurrent-uploads", optarg, &o->max_up) < 0)
        return 2;
      break;
    case O_MAX_DOWN:
      if (images_count("--max-concurrent-downloads", optarg, &o->max_down) < 0)
        return 2;
      break;
    case 'q':
      o->quiet = true;
      break;
    case 'a':
      o->all = true;
      break;
    case 'h':
      printf("%s", usage);
      return -1;
    default:
      fprintf(stderr, "%s", usage);
      return 2;
    }
  }
  for (int i = optind; i < argc; i++)
    strv_push(&o->rest, argv[i]);
  return 0;
}

static void images_opts_cleanup(struct images_opts *o) {
  strv_cleanup(&o->insecure);
  strv_cleanup(&o->rest);
}

static const char images_net_common[] =
    "      --progress auto|tty|plain|quiet bars on a terminal, lines "
    "otherwise\n"
    "      --max-concurrent-uploads N      blobs pushed at once (default 4)\n"
    "      --max-concurrent-downloads N    blobs pulled at once (default "
    "4)\n";

static const char images_common[] =
    "      --root DIR                      image store\n"
    "      --insecure-registry HOST[:PORT] allow http / unverified TLS\n";

/* The store these options name (the default found in our environment). */
static struct images_store images_where(const struct images_opts *o) {
  struct images_store w = {o->root, NULL, 0};
  w.env = cli_environ(&w.nenv);
  return w;
}

/* Pull and push run on the builder's thread; their events come here. */
struct images_net {
  const struct images_opts *o;
  struct progress *prog;
  int rc;
  char msg[1024];
};

static void images_net_event(void *ctx, const struct build_event *ev) {
  struct images_net *n = ctx;
  switch (ev->kind) {
  case BUILD_EV_LOG:
    progress_print(n->prog, "  %s", ev->text);
    break;
  case BUILD_EV_PROGRESS:
    progress_update(n->prog, ev->text, ev->current, ev->total);
    break;
  case BUILD_EV_IMAGE:
    printf("%s %s\n", ev->text, ev->digest);
    break;
  case BUILD_EV_DONE:
    n->rc = 0;
    break;
  case BUILD_EV_FAILED:
  case BUILD_EV_CANCELLED:
    n->rc = 1;
    snprintf(n->msg, sizeof(n->msg), "%s", ev->text);
    break;
  default:
    break;
  }
}

/* Runs a PULL or PUSH request; returns the exit status. */
static int images_net_run(const char *what, struct build_request *req,
                          const struct images_opts *o) {
  const struct builder_plugin *p = cli_builder();
  if (p == NULL)
    return 2;
  req->root = o->root;
  req->insecure = (const char *const *)o->insecure.v;
  req->ninsecure = o->insecure.n;
  req->env = cli_environ(&req->nenv);
  req->max_concurrent_uploads = o->max_up;
  req->max_concurrent_downloads = o->max_down;
  struct images_net n = {o, NULL, 1, ""};
  n.prog = progress_new(o->quiet ? PROGRESS_QUIET : o->progress, stderr);
  struct err err;
  err_clear(&err);
  int rc = p->build_run(req, images_net_event, &n, NULL, &err);
  progress_free(n.prog);
  if (rc < 0) {
    cli_error("%s: %s", what, err.msg);
    return 1;
  }
  if (n.rc != 0)
    cli_error("%s: %s", what, n.msg);
  return n.rc;
}

int cmd_pull_main(int argc, char **argv) {
  char usage[2048];
  snprintf(usage, sizeof(usage),
           "Usage: dockwright pull [options] REF...\n\n"
           "      --platform OS/ARCH              pick from an index\n%s%s",
           images_net_common, images_common);
  struct images_opts o;
  int st = images_parse(argc, argv, usage, &o);
  if (st != 0 || o.rest.n == 0) {
    if (st == 0)
      fprintf(stderr, "%s", usage);
    images_opts_cleanup(&o);
    return st < 0 ? 0 : 2;
  }
  struct build_request req;
  memset(&req, 0, sizeof(req));
  req.action = BUILD_ACTION_PULL;
  req.tags = (const char *const *)o.rest.v;
  req.ntags = o.rest.n;
  req.platform = o.platform;
  int status = images_net_run("pull", &req, &o);
  images_opts_cleanup(&o);
  return status;
}

int cmd_push_main(int argc, char **argv) {
  char usage[2048];
  snprintf(usage, sizeof(usage),
           "Usage: dockwright push [options] REF [DEST-REF]\n\n"
           "Pushes a stored image to its registry (or to DEST-REF).\n%s%s",
           images_net_common, images_common);
  struct images_opts o;
  int st = images_parse(argc, argv, usage, &o);
  if (st != 0 || o.rest.n < 1 || o.rest.n > 2) {
    if (st == 0)
      fprintf(stderr, "%s", usage);
    images_opts_cleanup(&o);
    return st < 0 ? 0 : 2;
  }
  struct build_request req;
  memset(&req, 0, sizeof(req));
  req.action = BUILD_ACTION_PUSH;
  req.tags = (const char *const *)o.rest.v;
  req.ntags = 1;
  req.push_dest = o.rest.n == 2 ? o.rest.v[1] : NULL;
  int status = images_net_run("push", &req, &o);
  images_opts_cleanup(&o);
  return status;
}

int cmd_images_main(int argc, char **argv) {
  char usage[1024];
  snprintf(usage, sizeof(usage),
           "Usage: dockwright images [options]\n\n"
           "  -q, --quiet                         digests only\n%s",
           images_common);
  struct images_opts o;
  int st = images_parse(argc, argv, usage, &o);
  if (st != 0) {
    images_opts_cleanup(&o);
    return st < 0 ? 0 : st;
  }
  const struct builder_plugin *p = cli_builder();
  if (p == NULL) {
    images_opts_cleanup(&o);
    return 2;
  }
  struct err err;
  err_clear(&err);
  struct images_store where = images_where(&o);
  struct images_entry *v = NULL;
  size_t n = 0;
  int rc = p->images_list(&where, &v, &n, &err);
  if (rc == 0 && !o.quiet)
    printf("%-50s %-19s %12s\n", "REFERENCE", "DIGEST", "SIZE");
  for (size_t i = 0; rc == 0 && i < n; i++) {
    if (o.quiet)
      printf("%s\n", v[i].digest);
    else
      printf("%-50s %.19s %12llu\n", v[i].name, v[i].digest,
             (unsigned long long)v[i].size);
  }
  p->images_list_free(v, n);
  images_opts_cleanup(&o);
  if (rc < 0) {
    cli_error("images: %s", err.msg);
    return 1;
  }
  return 0;
}

int cmd_rmi_main(int argc, char **argv) {
  char usage[1024];
  snprintf(usage, sizeof(usage),
           "Usage: dockwright rmi [options] REF...\n\n"
           "Removes tags, then the blobs no other tag needs.\n%s",
           images_common);
  struct images_opts o;
  int st = images_parse(argc, argv, usage, &o);
  if (st != 0 || o.rest.n == 0) {
    if (st == 0)
      fprintf(stderr, "%s", usage);
    images_opts_cleanup(&o);
    return st < 0 ? 0 : 2;
  }
  const struct builder_plugin *p = cli_builder();
  if (p == NULL) {
    images_opts_cleanup(&o);
    return 2;
  }
  struct err err;
  err_clear(&err);
  struct images_store where = images_where(&o);
  struct strv untagged = STRV_INIT;
  struct images_gc gc;
  int rc = p->images_remove(&where, (const char *const *)o.rest.v, o.rest.n,
                            &untagged, &gc, &err);
  for (size_t i = 0; i < untagged.n; i++)
    printf("untagged %s\n", untagged.v[i]);
  if (rc == 0 && gc.busy && !o.quiet)
    fprintf(stderr, "dockwright: store busy; unreferenced blobs are kept "
                    "until the next prune\n");
  else if (rc == 0 && !o.quiet)
    printf("removed %zu blobs, %llu bytes\n", gc.blobs,
           (unsigned long long)gc.bytes);
  strv_cleanup(&untagged);
  images_opts_cleanup(&o);
  if (rc < 0) {
    cli_error("rmi: %s", err.msg);
    return 1;
  }
  return 0;
}

int cmd_prune_main(int argc, char **argv) {
  char usage[1024];
  snprintf(usage, sizeof(usage),
           "Usage: dockwright prune [options]\n\n"
           "Removes blobs no tag or build cache entry references, the\n"
           "least recently used build cache beyond 10 GiB of layers, and\n"
           "leftover temporary files.\n"
           "  -a, --all                           also remove every tag and "
           "the\n"
           "                                      whole build cache\n%s",
           images_common);
  struct images_opts o;
  int st = images_parse(argc, argv, usage, &o);
  if (st != 0) {
    images_opts_cleanup(&o);
    return st < 0 ? 0 : st;
  }
  const struct builder_plugin *p = cli_builder();
  if (p == NULL) {
    images_opts_cleanup(&o);
    return 2;
  }
  struct err err;
  err_clear(&err);
  struct images_store where = images_where(&o);
  struct images_gc gc;
  int rc = p->images_prune(&where, o.all, &gc, &err);
  if (rc == 0 && gc.cache_entries)
    printf("removed %zu build cache entries\n", gc.cache_entries);
  if (rc == 0)
    printf("removed %zu blobs, %llu bytes\n", gc.blobs,
           (unsigned long long)gc.bytes);
  images_opts_cleanup(&o);
  if (rc < 0) {
    cli_error("prune: %s", err.msg);
    return 1;
  }
  return 0;
}
