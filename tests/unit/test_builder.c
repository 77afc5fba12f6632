/*
 * test_builder.c - unit tests for builder/ modules that need no network:
 * ref (normalisation), context (patterns), layer (paths, pack + apply
 * round trip, hostile entries), store (atomic blobs, tags), auth
 * (challenges, config.json), overlay upper dir -> layer -> lower dir,
 * cache entries, parallel gzip (valid, and the same bytes on any number
 * of threads).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "../../builder/auth.h"
#include "../../builder/cache.h"
#include "../../builder/images.h"
#include "../../builder/context.h"
#include "../../builder/layer.h"
#include "../../builder/image.h"
#include "../../builder/pgzip.h"
#include "../../model/ref.h"
#include "../../builder/store.h"
#include "../../common/buf.h"

static void check_ref(const char *in, const char *want) {
  struct ref r;
  struct err e;
  assert_int_equal(ref_parse(in, &r, &e), 0);
  char *s = ref_string(&r);
  assert_string_equal(s, want);
  free(s);
  ref_cleanup(&r);
}

static void test_ref_normalise(void **state) {
  (void)state;
  check_ref("busybox", "docker.io/library/busybox:latest");
  check_ref("user/app:1.0", "docker.io/user/app:1.0");
  check_ref("index.docker.io/library/x", "docker.io/library/x:latest");
  check_ref("localhost/a", "localhost/a:latest");
  check_ref("127.0.0.1:5000/a/b:t", "127.0.0.1:5000/a/b:t");
  check_ref(
      "host:5000/a@sha256:"
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      "host:5000/a@sha256:"
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  check_ref("a__b/c-d.e:x", "docker.io/a__b/c-d.e:x");
}

static void test_ref_invalid(void **state) {
  (void)state;
  const char *bad[] = {"",
                       "UPPER",
                       "a/-b",
                       "a:",
                       "a@sha256:12",
                       "a//b",
                       "a/b_",
                       "x/y:"
                       "t/u"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct ref r;
    struct err e;
    assert_true(ref_parse(bad[i], &r, &e) < 0);
  }
  assert_true(ref_host_is_loopback("127.0.0.1:5000"));
  assert_true(ref_host_is_loopback("localhost"));
  assert_true(ref_host_is_loopback("[::1]:80"));
  assert_false(ref_host_is_loopback("127.example.com"));
  assert_false(ref_host_is_loopback("10.0.0.1:5000"));
}

/* --platform as containerd's platforms.Parse reads one word. */
static void test_platform_words(void **state) {
  (void)state;
  struct image_platform p;
  struct err e;
  assert_int_equal(image_platform_parse("x86_64", &p, &e), 0);
  assert_string_equal(p.os, "linux");
  assert_string_equal(p.arch, "amd64");
  assert_int_equal(image_platform_parse("aarch64", &p, &e), 0);
  assert_string_equal(p.arch, "arm64");
  assert_string_equal(p.variant, "v8");
  assert_int_equal(image_platform_parse("armhf", &p, &e), 0);
  assert_string_equal(p.arch, "arm");
  assert_string_equal(p.variant, "v7");
  assert_int_equal(image_platform_parse("Windows", &p, &e), 0);
  assert_string_equal(p.os, "windows");
  assert_true(p.arch[0] != '\0');
  assert_int_equal(image_platform_parse("linux/arm/v6", &p, &e), 0);
  assert_string_equal(p.variant, "v6");
  assert_true(image_platform_parse("lnux", &p, &e) < 0);
  assert_string_equal(e.msg, "bad platform \"lnux\" (want os/arch[/variant])");
}

static void test_match(void **state) {
  (void)state;
  assert_true(match_glob("*.txt", "a.txt"));
  assert_false(match_glob("*.txt", "d/a.txt"));
  /* COPY sources are filepath.Match: `**` is `*` (model/glob.h) */
  assert_false(match_glob("**/*.txt", "d/e/a.txt"));
  assert_true(match_glob("**/*.txt", "d/a.txt"));
  assert_false(match_glob("**/*.txt", "a.txt"));
  assert_false(match_glob("a/**", "a/b/c"));
  assert_false(match_glob("a[", "a["));
  assert_true(match_glob("[a-c]?", "bx"));
  assert_false(match_glob("[^a-c]?", "bx"));
  assert_true(match_glob("\\*", "*"));
  struct match_rules m;
  match_rules_init(&m);
  match_rules_add(&m, "# comment");
  match_rules_add(&m, "*.log");
  match_rules_add(&m, "build");
  match_rules_add(&m, "!keep.log");
  match_rules_add(&m, "/abs/../x");
  assert_true(match_rules_excluded(&m, "a.log"));
  assert_false(match_rules_excluded(&m, "keep.log"));
  assert_true(match_rules_excluded(&m, "build/deep/file"));
  assert_true(match_rules_excluded(&m, "x"));
  assert_false(match_rules_excluded(&m, "src/a.c"));
  match_rules_cleanup(&m);
}

static void test_clean_path(void **state) {
  (void)state;
  char *o;
  assert_true(layer_clean_path("/a//b/./c/", &o));
  assert_string_equal(o, "a/b/c");
  free(o);
  assert_true(layer_clean_path("a/b/../c", &o));
  assert_string_equal(o, "a/c");
  free(o);
  assert_false(layer_clean_path("../x", &o));
  free(o);
  assert_false(layer_clean_path("a/../../x", &o));
  free(o);
}

struct fixture {
  char dir[64];
  struct store *st;
};

static int setup_store(void **state) {
  struct fixture *f = calloc(1, sizeof(*f));
  snprintf(f->dir, sizeof(f->dir), "/tmp/dw-unit-XXXXXX");
  if (mkdtemp(f->dir) == NULL)
    return -1;
  struct err e;
  struct buf b = BUF_INIT;
  buf_printf(&b, "%s/store", f->dir);
  if (store_open(b.data, &f->st, &e) < 0)
    return -1;
  buf_cleanup(&b);
  *state = f;
  return 0;
}

static int teardown_store(void **state) {
  struct fixture *f = *state;
  char cmd[128];
  store_free(f->st);
  snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
  if (system(cmd) != 0)
    return -1;
  free(f);
  return 0;
}

static void test_resolve(void **state) {
  struct fixture *f = *state;
  struct buf p = BUF_INIT;
  buf_printf(&p, "%s/root/usr/bin", f->dir);
  struct err e;
  assert_int_equal(store_mkdirs(p.data, &e), 0);
  buf_reset(&p);
  buf_printf(&p, "%s/root/bin", f->dir);
  assert_int_equal(symlink("usr/bin", p.data), 0);
  buf_reset(&p);
  buf_printf(&p, "%s/root/out", f->dir);
  assert_int_equal(symlink("/../../../../etc", p.data), 0);
  buf_reset(&p);
  buf_printf(&p, "%s/root", f->dir);
  char *o;
  assert_int_equal(layer_resolve(p.data, "/bin/sh", true, &o, &e), 0);
  struct buf w = BUF_INIT;
  buf_printf(&w, "%s/root/usr/bin/sh", f->dir);
  assert_string_equal(o, w.data);
  free(o);
  assert_int_equal(layer_resolve(p.data, "out/passwd", true, &o, &e), 0);
  buf_reset(&w);
  buf_printf(&w, "%s/root/etc/passwd", f->dir);
  assert_string_equal(o, w.data); /* contained */
  free(o);
  assert_int_equal(layer_resolve(p.data, "/bin", false, &o, &e), 0);
  buf_reset(&w);
  buf_printf(&w, "%s/root/bin", f->dir);
  assert_string_equal(o, w.data);
  free(o);
  buf_cleanup(&w);
  buf_cleanup(&p);
}

/* layer_resolve (a host directory) and layer_view_resolve (the same
 * directory as a one-layer view) walk by one resolver (layer__walk): on a
 * tree of hostile links they must agree on every path, and never leave
 * the root. */
static void test_resolve_same(void **state) {
  struct fixture *f = *state;
  struct err e;
  struct buf root = BUF_INIT;
  buf_printf(&root, "%s/hostile", f->dir);
  struct buf p = BUF_INIT;
  buf_printf(&p, "%s/usr/bin", root.data);
  assert_int_equal(store_mkdirs(p.data, &e), 0);
  static const char *const links[][2] = {
      {"bin", "usr/bin"},          {"out", "/../../../../etc"},
      {"up", "../../.."},          {"loop1", "loop2"},
      {"loop2", "loop1"},          {"abs", "/usr"},
      {"rel", "./usr/../usr/bin"}, {"usr/bin/self", "."},
      {"usr/bin/root", "../../"},  {"dangling", "nowhere/x"},
  };
  for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
    buf_reset(&p);
    buf_printf(&p, "%s/%s", root.data, links[i][0]);
    assert_int_equal(symlink(links[i][1], p.data), 0);
  }
  buf_reset(&p);
  buf_printf(&p, "%s/usr/file", root.data);
  FILE *fp = fopen(p.data, "w");
  assert_non_null(fp);
  fclose(fp);
  static const char *const paths[] = {"/bin/sh",
                                      "out/passwd",
                                      "up/up/etc",
                                      "/loop1/x",
                                      "abs/bin",
                                      "rel/x",
                                      "bin/self/self/y",
                                      "bin/root/bin/z",
                                      "../../..",
                                      "/usr/file/x",
                                      "missing/../bin",
                                      "dangling",
                                      "/a/./b/../c",
                                      "bin/",
                                      "",
                                      "usr/bin/root/up/out"};
  const char *dirs[] = {root.data};
  struct layer_view v = {dirs, 1};
  for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
    for (int follow = 0; follow < 2; follow++) {
      char *host = NULL;
      struct err e1, e2;
      int r1 = layer_resolve(root.data, paths[i], follow, &host, &e1);
      struct layer_found found;
      int r2 = layer_view_resolve(&v, paths[i], follow, &found, &e2);
      if (r1 != r2)
        fail_msg("%s (follow %d): host %d, view %d", paths[i], follow, r1, r2);
      if (r1 == 0) {
        assert_true(strncmp(host, root.data, root.len) == 0);
        const char *rel = host + root.len;
        if (*rel == '/')
          rel++;
        if (strcmp(rel, found.rel) != 0)
          fail_msg("%s (follow %d): host %s, view %s", paths[i], follow, rel,
                   found.rel);
        layer_found_cleanup(&found);
      } else {
        assert_string_equal(e1.msg, e2.msg);
      }
      free(host);
    }
  }
  buf_cleanup(&p);
  buf_cleanup(&root);
}

static void test_pack_apply(void **state) {
  struct fixture *f = *state;
  struct layer_list l;
  layer_list_init(&l);
  struct layer_entry *e = layer_list_add(&l, "d/file");
  e->mode = S_IFREG | 0640;
  e->data = strdup("hello\n");
  e->size = 6;
  e->mtime = 2000000000;
  e = layer_list_add(&l, "d");
  e->mode = S_IFDIR | 0755;
  e = layer_list_add(&l, "d/link");
  e->mode = S_IFLNK | 0777;
  e->link = strdup("file");
  e = layer_list_add(&l, "d/hard");
  e->mode = S_IFREG | 0640;
  e->hardlink = true;
  e->link = strdup("d/file");
  layer_list_sort(&l);
  assert_string_equal(l.v[0].path, "d");
  struct layer_pack_opts o = {
      .compression = LAYER_GZIP, .clamp = true, .epoch = 1000};
  struct layer_info a, b;
  struct err err;
  assert_int_equal(layer_pack(&l, &o, f->st, &a, &err), 0);
  assert_int_equal(layer_pack(&l, &o, f->st, &b, &err), 0);
  assert_string_equal(a.digest, b.digest); /* deterministic */
  assert_string_equal(a.diffid, b.diffid);
  o.compression = LAYER_ZSTD;
  assert_int_equal(layer_pack(&l, &o, f->st, &b, &err), 0);
  assert_string_equal(a.diffid, b.diffid); /* same tar */
  assert_string_not_equal(a.digest, b.digest);
  layer_list_cleanup(&l);
  struct buf root = BUF_INIT;
  buf_printf(&root, "%s/apply", f->dir);
  assert_int_equal(store_mkdirs(root.data, &err), 0);
  char *blob = store_blob_path(f->st, b.digest);
  struct layer_apply_stats stats;
  assert_int_equal(layer_apply(blob, root.data, NULL, &stats, &err), 0);
  free(blob);
  struct buf p = BUF_INIT;
  buf_printf(&p, "%s/d/hard", root.data);
  struct stat st;
  assert_int_equal(stat(p.data, &st), 0);
  assert_int_equal(st.st_nlink, 2);
  assert_int_equal(st.st_mode & 07777, 0640);
  assert_int_equal(st.st_mtime, 1000); /* clamped */
  buf_cleanup(&p);
  buf_cleanup(&root);
}

static int entry_index(const struct layer_list *l, const char *path) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i].path, path) == 0)
      return (int)i;
  return -1;
}

/* An overlay upper directory becomes OCI entries (whiteouts, opaque
 * markers, setup mount points left out), packs, and extracts back as an
 * overlay lower layer. */
static void test_upper_roundtrip(void **state) {
  struct fixture *f = *state;
  struct err err;
  struct buf up = BUF_INIT, p = BUF_INIT;
  buf_printf(&up, "%s/upper", f->dir);
  assert_int_equal(store_mkdirs(up.data, &err), 0);
  buf_printf(&p, "%s/a", up.data);
  FILE *fp = fopen(p.data, "w");
  assert_non_null(fp);
  fputs("A\n", fp);
  fclose(fp);
  buf_reset(&p);
  buf_printf(&p, "%s/gone", up.data);
  if (mknod(p.data, S_IFCHR | 0, makedev(0, 0)) != 0) {
    buf_cleanup(&p);
    buf_cleanup(&up);
    skip(); /* no whiteouts here */
  }
  buf_reset(&p);
  buf_printf(&p, "%s/opq", up.data);
  assert_int_equal(mkdir(p.data, 0755), 0);
  if (setxattr(p.data, "user.overlay.opaque", "y", 1, 0) != 0) {
    buf_cleanup(&p);
    buf_cleanup(&up);
    skip(); /* no user xattrs on this filesystem */
  }
  buf_puts(&p, "/new");
  fp = fopen(p.data, "w");
  fclose(fp);
  buf_reset(&p);
  buf_printf(&p, "%s/etc", up.data);
  assert_int_equal(mkdir(p.data, 0755), 0);
  buf_puts(&p, "/hosts");
  fp = fopen(p.data, "w");
  fclose(fp);
  const char *skipped[] = {"etc/hosts"};
  struct layer_upper_opts o = {.skip = skipped, .nskip = 1};
  struct layer_list l;
  layer_list_init(&l);
  uint64_t nskipped = 0;
  assert_int_equal(layer_diff_upper(up.data, &o, &l, &nskipped, &err), 0);
  assert_true(entry_index(&l, "a") >= 0);
  assert_true(entry_index(&l, ".wh.gone") >= 0);
  assert_true(entry_index(&l, "gone") < 0);
  assert_true(entry_index(&l, "opq/.wh..wh..opq") >= 0);
  assert_true(entry_index(&l, "opq/new") >= 0);
  assert_true(entry_index(&l, "etc/hosts") < 0);
  assert_true(entry_index(&l, "etc") >= 0); /* no lower to compare with */
  for (size_t i = 0; i < l.n; i++)
    for (size_t k = 0; k < l.v[i].nxattrs; k++)
      assert_null(strstr(l.v[i].xattrs[k].name, "overlay."));
  layer_list_sort(&l);
  struct layer_pack_opts po = {.compression = LAYER_GZIP};
  struct layer_info li;
  assert_int_equal(layer_pack(&l, &po, f->st, &li, &err), 0);
  layer_list_cleanup(&l);
  char *dir = NULL;
  assert_int_equal(cache_lower_dir(f->st, li.digest, NULL, &dir, &err), 0);
  buf_reset(&p);
  buf_printf(&p, "%s/gone", dir);
  struct stat st;
  assert_int_equal(lstat(p.data, &st), 0);
  assert_true(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
  buf_reset(&p);
  buf_printf(&p, "%s/opq", dir);
  char v[4] = "";
  assert_int_equal(lgetxattr(p.data, "user.overlay.opaque", v, sizeof(v)), 1);
  assert_int_equal(v[0], 'y');
  /* The second call finds it extracted. */
  char *again = NULL;
  assert_int_equal(cache_lower_dir(f->st, li.digest, NULL, &again, &err), 0);
  assert_string_equal(dir, again);
  free(again);
  free(dir);
  buf_cleanup(&p);
  buf_cleanup(&up);
}

/* Cache entries: a round trip; an entry whose layer blob is gone is a
 * miss; prune -a removes them. */
static int gz_collect(void *ctx, const void *data, size_t n, struct err *err) {
  (void)err;
  buf_append(ctx, data, n);
  return 0;
}

/* Compresses in[0..n) with `workers` threads, fed in pieces of `piece`. */
static void gz_run(const unsigned char *in, size_t n, unsigned workers,
                   size_t piece, struct buf *out) {
  struct pgzip *pz;
  struct err e;
  assert_int_equal(pgzip_new(1, workers, gz_collect, out, &pz, &e), 0);
  for (size_t off = 0; off < n; off += piece) {
    size_t k = n - off < piece ? n - off : piece;
    assert_int_equal(pgzip_write(pz, in + off, k, &e), 0);
  }
  assert_int_equal(pgzip_finish(pz, &e), 0);
  pgzip_free(pz);
}

static void gz_check_inflates_to(const struct buf *gz, const unsigned char *in,
                                 size_t n) {
  z_stream z;
  memset(&z, 0, sizeof(z));
  assert_int_equal(inflateInit2(&z, 31), Z_OK); /* gzip only */
  unsigned char *back = malloc(n + 1);
  z.next_in = (Bytef *)gz->data;
  z.avail_in = (uInt)gz->len;
  z.next_out = back;
  z.avail_out = (uInt)(n + 1);
  assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
  assert_int_equal(z.total_out, n);
  assert_int_equal(z.avail_in, 0); /* the trailer ends the data */
  assert_memory_equal(back, in, n);
  inflateEnd(&z);
  free(back);
}

static void test_pgzip(void **state) {
  (void)state;
  /* Text-like and random parts, across several 1 MiB blocks. */
  size_t big = 3 * (1u << 20) + 12345;
  unsigned char *in = malloc(big);
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < big; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    in[i] = (i / 100000) % 2 ? (unsigned char)x
                             : (unsigned char)("layer text "[i % 11]);
  }
  size_t sizes[] = {0, 1, 32767, 1u << 20, (1u << 20) + 1, big};
  for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
    struct buf ref = BUF_INIT;
    gz_run(in, sizes[k], 0, 1u << 16, &ref);
    gz_check_inflates_to(&ref, in, sizes[k]);
    unsigned workers[] = {1, 2, 4};
    size_t pieces[] = {1u << 20, 7777, 3u << 20};
    for (size_t w = 0; w < 3; w++) {
      struct buf got = BUF_INIT;
      gz_run(in, sizes[k], workers[w], pieces[w], &got);
      assert_int_equal(got.len, ref.len);
      assert_memory_equal(got.data, ref.data, ref.len);
      buf_cleanup(&got);
    }
    buf_cleanup(&ref);
  }
  free(in);
}

static void test_cache_entries(void **state) {
  struct fixture *f = *state;
  struct err err;
  const char *key =
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  char dg[DIGEST_STR_LEN];
  assert_int_equal(store_blob_put(f->st, "layer", 5, dg, &err), 0);
  json_object *e = json_tokener_parse("{\"config\":{\"a\":1},\"layers\":[]}");
  json_object *l = json_object_new_object();
  json_object_object_add(l, "digest", json_object_new_string(dg));
  json_object_array_add(json_object_object_get(e, "layers"), l);
  json_object *out = NULL;
  assert_int_equal(cache_get(f->st, key, &out, &err), ERR_NOTFOUND);
  assert_int_equal(cache_put(f->st, key, e, &err), 0);
  assert_int_equal(cache_get(f->st, key, &out, &err), 0);
  assert_int_equal(json_object_get_int(json_object_object_get(
                       json_object_object_get(out, "config"), "a")),
                   1);
  json_object_put(out);
  struct strv live = STRV_INIT;
  cache_roots(f->st, &live);
  assert_int_equal(live.n, 1);
  assert_string_equal(live.v[0], dg);
  strv_cleanup(&live);
  assert_int_equal(store_blob_remove(f->st, dg, &err), 0);
  assert_int_equal(cache_get(f->st, key, &out, &err), ERR_NOTFOUND);
  assert_int_equal(cache_get(f->st, "../../etc/passwd", &out, &err),
                   ERR_INVALID);
  size_t removed = 0;
  assert_int_equal(cache_prune(f->st, true, 0, &removed, &err), 0);
  assert_int_equal(removed, 1);
  json_object_put(e);
}

static void test_store_tags(void **state) {
  struct fixture *f = *state;
  struct err e;
  char d[DIGEST_STR_LEN];
  assert_int_equal(store_blob_put(f->st, "abc", 3, d, &e), 0);
  assert_string_equal(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a3"
                         "96177a9cb410ff61f20015ad");
  struct buf b = BUF_INIT;
  assert_int_equal(store_blob_read(f->st, d, 10, &b, &e), 0);
  assert_int_equal(b.len, 3);
  buf_cleanup(&b);
  assert_int_equal(store_blob_read(f->st, d, 2, &b, &e), ERR_TOOBIG);
  buf_cleanup(&b);
  assert_int_equal(
      store_tag_set(f->st, "docker.io/library/x:1", d, "t", 3, &e), 0);
  struct store_tag t;
  assert_int_equal(store_tag_get(f->st, "docker.io/library/x:1", &t, &e), 0);
  assert_string_equal(t.digest, d);
  store_tag_cleanup(&t);
  assert_int_equal(store_tag_get(f->st, "nope", &t, &e), ERR_NOTFOUND);
  struct store_tag *all;
  size_t n;
  assert_int_equal(store_tag_list(f->st, &all, &n, &e), 0);
  assert_int_equal(n, 1);
  store_tags_free(all, n);
  assert_int_equal(store_tag_remove(f->st, "docker.io/library/x:1", &e), 0);
  assert_int_equal(store_blob_put(f->st, "", 0, NULL, &e), 0);
  assert_int_equal(store_blob_read(f->st, "sha256:../../x", 9, &b, &e),
                   ERR_INVALID);
}

/* The store's default root and a build's environment come from the env
 * list given, never from the process's. */
static void test_default_root(void **state) {
  (void)state;
  setenv("DOCKWRIGHT_ROOT", "/from/the/process", 1);
  const char *env[] = {"HOME=/home/a", "XDG_DATA_HOME=/xdg", "HOME=/home/b",
                       "DOCKWRIGHT_ROOTX=/no"};
  char *r = store_default_root(env, 4);
  assert_string_equal(r, "/xdg/dockwright");
  free(r);
  r = store_default_root(env + 2, 2); /* the last HOME wins */
  assert_string_equal(r, "/home/b/.local/share/dockwright");
  free(r);
  const char *env2[] = {"DOCKWRIGHT_ROOT=/store", "XDG_DATA_HOME=/xdg"};
  r = store_default_root(env2, 2);
  assert_string_equal(r, "/store");
  free(r);
  r = store_default_root(NULL, 0);
  assert_string_equal(r, "//.local/share/dockwright");
  free(r);
  assert_null(strv_getenv(env, 4, "DOCKWRIGHT_ROOT"));
  assert_string_equal(strv_getenv(env, 4, "HOME"), "/home/b");
  unsetenv("DOCKWRIGHT_ROOT");
  struct store *s;
  struct err e;
  assert_int_equal(store_open(NULL, &s, &e), ERR_INVALID);
}

/* images.h: list and remove return data; a bad reference fails after
 * what was done. */
static void test_images_facade(void **state) {
  struct fixture *f = *state;
  struct err e;
  char d[DIGEST_STR_LEN];
  assert_int_equal(store_blob_put(f->st, "{}", 2, d, &e), 0);
  assert_int_equal(
      store_tag_set(f->st, "docker.io/library/a:1", d, "t", 2, &e), 0);
  assert_int_equal(
      store_tag_set(f->st, "docker.io/library/b:1", d, "t", 2, &e), 0);
  struct buf root = BUF_INIT;
  buf_printf(&root, "%s/store", f->dir);
  struct images_store where = {root.data, NULL, 0};
  struct images_entry *v;
  size_t n;
  assert_int_equal(images_list(&where, &v, &n, &e), 0);
  assert_int_equal(n, 2);
  assert_string_equal(v[0].name, "docker.io/library/a:1");
  assert_string_equal(v[1].digest, d);
  images_list_free(v, n);
  struct strv untagged = STRV_INIT;
  struct images_gc gc;
  const char *refs[] = {"a:1", "Bad Ref"};
  assert_int_equal(images_remove(&where, refs, 2, &untagged, &gc, &e),
                   ERR_INVALID);
  assert_int_equal(untagged.n, 1);
  assert_string_equal(untagged.v[0], "docker.io/library/a:1");
  strv_cleanup(&untagged);
  const char *refs2[] = {"b:1"};
  assert_int_equal(images_remove(&where, refs2, 1, &untagged, &gc, &e), 0);
  assert_false(gc.busy);
  assert_int_equal(gc.blobs, 1); /* the blob no tag needs any more */
  strv_cleanup(&untagged);
  assert_int_equal(images_prune(&where, true, &gc, &e), 0);
  buf_cleanup(&root);
}

static void test_auth(void **state) {
  struct fixture *f = *state;
  struct auth_challenge c;
  struct err e;
  assert_int_equal(
      auth_parse_challenge("Bearer realm=\"https://auth.example/token\","
                           "service=\"registry.example\",scope=\"repository:a:"
                           "pull\"",
                           &c, &e),
      0);
  assert_string_equal(c.scheme, "bearer");
  assert_string_equal(c.realm, "https://auth.example/token");
  assert_string_equal(c.service, "registry.example");
  assert_string_equal(c.scope, "repository:a:pull");
  auth_challenge_cleanup(&c);
  assert_int_equal(auth_parse_challenge("Basic realm=\"r\"", &c, &e), 0);
  assert_string_equal(c.scheme, "basic");
  auth_challenge_cleanup(&c);
  struct buf p = BUF_INIT;
  buf_printf(&p, "%s/config.json", f->dir);
  FILE *fp = fopen(p.data, "w");
  /* dXNlcjpwYTpzcw== is "user:pa:ss" */
  fputs("{\"auths\":{\"reg:5000\":{\"auth\":\"dXNlcjpwYTpzcw==\"}}}", fp);
  fclose(fp);
  setenv("DOCKER_CONFIG", f->dir, 1);
  struct auth_cred cr;
  assert_int_equal(auth_lookup("reg:5000", &cr, &e), 0);
  assert_string_equal(cr.username, "user");
  assert_string_equal(cr.secret, "pa:ss");
  auth_cred_cleanup(&cr);
  assert_int_equal(auth_lookup("other", &cr, &e), ERR_NOTFOUND);
  buf_cleanup(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ref_normalise),
      cmocka_unit_test(test_ref_invalid),
      cmocka_unit_test(test_match),
      cmocka_unit_test(test_platform_words),
      cmocka_unit_test(test_clean_path),
      cmocka_unit_test(test_pgzip),
      cmocka_unit_test(test_default_root),
      cmocka_unit_test_setup_teardown(test_images_facade, setup_store,
                                      teardown_store),
      cmocka_unit_test_setup_teardown(test_resolve, setup_store,
                                      teardown_store),
      cmocka_unit_test_setup_teardown(test_resolve_same, setup_store,
                                      teardown_store),
      cmocka_unit_test_setup_teardown(test_pack_apply, setup_store,
                                      teardown_store),
      cmocka_unit_test_setup_teardown(test_upper_roundtrip, setup_store,
                                      teardown_store),
      cmocka_unit_test_setup_teardown(test_cache_entries, setup_store,
                                      teardown_store),
      cmocka_unit_test_setup_teardown(test_store_tags, setup_store,
                                      teardown_store),
      cmocka_unit_test_setup_teardown(test_auth, setup_store, teardown_store),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
