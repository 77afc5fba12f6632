/*
 * cmd_images.c - the image store from the command line: `dockwright pull`,
 * `push`, `images`, `rmi`, `prune`.  Every one takes --root DIR and
 * --insecure-registry HOST[:PORT] (repeatable).
 */
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <uv.h>

#include "../builder/cache.h"
#include "../builder/image.h"
#include "../common/ceilings.h"
#include "../builder/ref.h"
#include "../builder/registry.h"
#include "../builder/store.h"
#include "../common/buf.h"
#include "cli.h"

struct images_opts {
  const char *root;
  struct strv insecure;
  struct strv rest;
  bool quiet, all;
  const char *platform;
};

/* Parses the options shared by these commands; returns 0, or the exit
 * status (help printed: -1 -> 0). */
static int images_parse(int argc, char **argv, const char *usage,
                        struct images_opts *o) {
  enum { O_ROOT = 256, O_INSECURE, O_PLATFORM };
  static const struct option opts[] = {
      {"root", required_argument, NULL, O_ROOT},
      {"insecure-registry", required_argument, NULL, O_INSECURE},
      {"platform", required_argument, NULL, O_PLATFORM},
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

static const char images_common[] =
    "      --root DIR                      image store\n"
    "      --insecure-registry HOST[:PORT] allow http / unverified TLS\n";

static void images_log(void *ctx, const char *line) {
  const struct images_opts *o = ctx;
  if (!o->quiet)
    fprintf(stderr, "  %s\n", line);
}

/* Shared by pull and push: a store, a loop and a registry client. */
struct images_net {
  struct store *store;
  uv_loop_t loop;
  struct registry *reg;
  atomic_bool cancel;
};

static int images_net_open(struct images_net *n, struct images_opts *o,
                           struct err *err) {
  memset(n, 0, sizeof(*n));
  atomic_init(&n->cancel, false);
  int rc = store_open(o->root, &n->store, err);
  if (rc < 0)
    return rc;
  rc = store_lock(n->store, false, err);
  if (rc < 0)
    return rc;
  uv_loop_init(&n->loop);
  struct registry_opts ro = {(const char *const *)o->insecure.v, o->insecure.n,
                             images_log, o};
  return registry_new(&n->loop, n->store, &ro, &n->cancel, &n->reg, err);
}

static void images_net_close(struct images_net *n) {
  if (n->reg) {
    registry_free(n->reg);
    uv_run(&n->loop, UV_RUN_DEFAULT);
    (void)uv_loop_close(&n->loop);
  }
  store_free(n->store);
}

int cmd_pull_main(int argc, char **argv) {
  char usage[1024];
  snprintf(usage, sizeof(usage),
           "Usage: dockwright pull [options] REF...\n\n"
           "      --platform OS/ARCH              pick from an index\n%s",
           images_common);
  struct images_opts o;
  int st = images_parse(argc, argv, usage, &o);
  if (st != 0 || o.rest.n == 0) {
    if (st == 0)
      fprintf(stderr, "%s", usage);
    images_opts_cleanup(&o);
    return st < 0 ? 0 : 2;
  }
  struct err err;
  err_clear(&err);
  struct images_net n;
  struct image_platform plat;
  int rc = image_platform_parse(o.platform, &plat, &err);
  if (rc == 0)
    rc = images_net_open(&n, &o, &err);
  for (size_t i = 0; rc == 0 && i < o.rest.n; i++) {
    struct ref r;
    rc = ref_parse(o.rest.v[i], &r, &err);
    if (rc < 0)
      break;
    char *name = ref_string(&r);
    struct registry_pulled p;
    rc = registry_pull(n.reg, &r, &plat, &p, &err);
    if (rc == 0) {
      rc = store_tag_set(n.store, name, p.digest, p.media_type, p.size, &err);
      if (rc == 0)
        printf("%s %s\n", name, p.digest);
      free(p.media_type);
    }
    free(name);
    ref_cleanup(&r);
  }
  images_net_close(&n);
  images_opts_cleanup(&o);
  if (rc < 0) {
    cli_error("pull: %s", err.msg);
    return 1;
  }
  return 0;
}

int cmd_push_main(int argc, char **argv) {
  char usage[1024];
  snprintf(usage, sizeof(usage),
           "Usage: dockwright push [options] REF [DEST-REF]\n\n"
           "Pushes a stored image to its registry (or to DEST-REF).\n%s",
           images_common);
  struct images_opts o;
  int st = images_parse(argc, argv, usage, &o);
  if (st != 0 || o.rest.n < 1 || o.rest.n > 2) {
    if (st == 0)
      fprintf(stderr, "%s", usage);
    images_opts_cleanup(&o);
    return st < 0 ? 0 : 2;
  }
  struct err err;
  err_clear(&err);
  struct images_net n;
  struct ref src, dst;
  memset(&src, 0, sizeof(src));
  memset(&dst, 0, sizeof(dst));
  int rc = ref_parse(o.rest.v[0], &src, &err);
  if (rc == 0)
    rc = ref_parse(o.rest.v[o.rest.n - 1], &dst, &err);
  if (rc == 0)
    rc = images_net_open(&n, &o, &err);
  struct store_tag tag;
  memset(&tag, 0, sizeof(tag));
  if (rc == 0) {
    char *name = ref_string(&src);
    rc = store_tag_get(n.store, name, &tag, &err);
    free(name);
  }
  if (rc == 0)
    rc = registry_push(n.reg, &dst, tag.digest, tag.media_type, &err);
  if (rc == 0) {
    char *name = ref_string(&dst);
    printf("%s %s\n", name, tag.digest);
    free(name);
  }
  store_tag_cleanup(&tag);
  ref_cleanup(&src);
  ref_cleanup(&dst);
  if (n.store)
    images_net_close(&n);
  images_opts_cleanup(&o);
  if (rc < 0) {
    cli_error("push: %s", err.msg);
    return 1;
  }
  return 0;
}

/* Sum of config and layer sizes of a stored image. */
static uint64_t images_size(struct store *s, const struct store_tag *t) {
  struct image_manifest m;
  struct json_object *cfg = NULL;
  char *md = NULL;
  struct image_platform p;
  struct err e;
  if (image_platform_parse(NULL, &p, &e) < 0 ||
      image_load(s, t->digest, t->media_type, &p, &m, &cfg, &md, &e) < 0)
    return 0;
  uint64_t total = (uint64_t)m.config.size;
  for (size_t i = 0; i < m.nlayers; i++)
    total += (uint64_t)m.layers[i].size;
  image_manifest_cleanup(&m);
  json_object_put(cfg);
  free(md);
  return total;
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
  struct err err;
  err_clear(&err);
  struct store *s = NULL;
  struct store_tag *tags = NULL;
  size_t n = 0;
  int rc = store_open(o.root, &s, &err);
  if (rc == 0)
    rc = store_tag_list(s, &tags, &n, &err);
  if (rc == 0 && !o.quiet)
    printf("%-50s %-19s %12s\n", "REFERENCE", "DIGEST", "SIZE");
  for (size_t i = 0; rc == 0 && i < n; i++) {
    if (o.quiet) {
      printf("%s\n", tags[i].digest);
      continue;
    }
    printf("%-50s %.19s %12llu\n", tags[i].name, tags[i].digest,
           (unsigned long long)images_size(s, &tags[i]));
  }
  store_tags_free(tags, n);
  store_free(s);
  images_opts_cleanup(&o);
  if (rc < 0) {
    cli_error("images: %s", err.msg);
    return 1;
  }
  return 0;
}

/* Removes unreferenced blobs when the store is not in use. */
static int images_gc(struct store *s, bool quiet, struct err *err) {
  int rc = store_lock(s, true, err);
  if (rc == ERR_EXISTS) {
    if (!quiet)
      fprintf(stderr, "dockwright: store busy; unreferenced blobs are kept "
                      "until the next prune\n");
    err_clear(err);
    return 0;
  }
  if (rc < 0)
    return rc;
  uint64_t freed = 0;
  size_t removed = 0;
  rc = image_gc(s, &freed, &removed, err);
  store_unlock(s);
  if (rc == 0 && !quiet)
    printf("removed %zu blobs, %llu bytes\n", removed,
           (unsigned long long)freed);
  return rc;
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
  struct err err;
  err_clear(&err);
  struct store *s = NULL;
  int rc = store_open(o.root, &s, &err);
  for (size_t i = 0; rc == 0 && i < o.rest.n; i++) {
    struct ref r;
    rc = ref_parse(o.rest.v[i], &r, &err);
    if (rc < 0)
      break;
    char *name = ref_string(&r);
    rc = store_tag_remove(s, name, &err);
    if (rc == 0)
      printf("untagged %s\n", name);
    free(name);
    ref_cleanup(&r);
  }
  if (rc == 0)
    rc = images_gc(s, o.quiet, &err);
  store_free(s);
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
  struct err err;
  err_clear(&err);
  struct store *s = NULL;
  int rc = store_open(o.root, &s, &err);
  if (rc == 0 && o.all) {
    struct store_tag *tags;
    size_t n;
    rc = store_tag_list(s, &tags, &n, &err);
    for (size_t i = 0; rc == 0 && i < n; i++)
      rc = store_tag_remove(s, tags[i].name, &err);
    if (rc == 0)
      store_tags_free(tags, n);
  }
  if (rc == 0) {
    rc = store_lock(s, true, &err);
    size_t dropped = 0;
    if (rc == 0)
      rc = cache_prune(s, o.all, DW_CACHE_KEEP_BYTES, &dropped, &err);
    if (rc == 0 && o.all)
      rc = cache_prune_lowers(s, true, &err);
    if (rc == 0 && dropped)
      printf("removed %zu build cache entries\n", dropped);
    if (rc == 0) {
      uint64_t freed = 0;
      size_t removed = 0;
      rc = image_gc(s, &freed, &removed, &err);
      if (rc == 0)
        printf("removed %zu blobs, %llu bytes\n", removed,
               (unsigned long long)freed);
    }
  }
  store_free(s);
  images_opts_cleanup(&o);
  if (rc < 0) {
    cli_error("prune: %s", err.msg);
    return 1;
  }
  return 0;
}
