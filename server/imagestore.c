/*
 * imagestore.c - reading the local image store's tags and blobs.  See
 * imagestore.h.
 */
#include "imagestore.h"

#include <errno.h>
#include <stdbool.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../model/ref.h"

/* Manifests, indexes and configs are small; anything larger is not one. */
#define IMAGESTORE_MAX_BLOB (4u * 1024 * 1024)

char *imagestore_root(const char *configured) {
  if (configured && *configured)
    return xstrdup(configured);
  const char *e = getenv("DOCKWRIGHT_ROOT");
  if (e && *e)
    return xstrdup(e);
  struct buf b = BUF_INIT;
  e = getenv("XDG_DATA_HOME");
  if (e && *e) {
    buf_printf(&b, "%s/dockwright", e);
  } else {
    const char *home = getenv("HOME");
    buf_printf(&b, "%s/.local/share/dockwright", home && *home ? home : "/");
  }
  return buf_take(&b);
}

char *imagestore_normalize(const char *ref) {
  /* A variable is known only at build time; a digest names no tag file. */
  if (strpbrk(ref, "$@") != NULL)
    return NULL;
  /* The builder's own reading (model/ref.c), so the name is the one its
   * tags are stored under. */
  struct ref r;
  struct err e;
  if (ref_parse(ref, &r, &e) < 0)
    return NULL;
  char *s = ref_string(&r);
  ref_cleanup(&r);
  return s;
}

char *imagestore_unescape(const char *n) {
  struct buf b = BUF_INIT;
  for (const char *p = n; *p; p++) {
    unsigned v;
    if (*p == '%' && p[1] && p[2] && sscanf(p + 1, "%2x", &v) == 1) {
      buf_putc(&b, (char)v);
      p += 2;
    } else {
      buf_putc(&b, *p);
    }
  }
  return buf_take(&b);
}

/* The store's file name of a reference (builder/store.c store__tag_path). */
static char *imagestore__tag_path(const char *root, const char *name) {
  struct buf b = BUF_INIT;
  buf_printf(&b, "%s/tags/", root);
  for (const char *p = name; *p; p++) {
    unsigned char c = (unsigned char)*p;
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                (c == '.' && p != name);
    if (keep)
      buf_putc(&b, (char)c);
    else
      buf_printf(&b, "%%%02X", c);
  }
  return buf_take(&b);
}

/* A JSON file of at most IMAGESTORE_MAX_BLOB bytes: new object or NULL. */
static json_object *imagestore__json(const char *path, struct err *err) {
  struct buf b = BUF_INIT;
  if (buf_read_file(path, IMAGESTORE_MAX_BLOB, &b, err) < 0) {
    buf_cleanup(&b);
    return NULL;
  }
  json_object *o = json_tokener_parse(buf_cstr(&b));
  buf_cleanup(&b);
  if (o == NULL)
    err_set(err, ERR_SYNTAX, "%s is not a JSON document we can read", path);
  return o;
}

static const char *imagestore__str(json_object *o, const char *k) {
  json_object *v;
  if (!json_object_is_type(o, json_type_object) ||
      !json_object_object_get_ex(o, k, &v) ||
      !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

/* A blob by digest ("sha256:<hex>"), only a well-formed one. */
static json_object *imagestore__blob(const char *root, const char *digest,
                                     struct err *err) {
  if (digest == NULL || strncmp(digest, "sha256:", 7) != 0 ||
      strlen(digest) != 7 + 64 ||
      strspn(digest + 7, "0123456789abcdef") != 64) {
    err_set(err, ERR_INVALID, "bad digest");
    return NULL;
  }
  struct buf p = BUF_INIT;
  buf_printf(&p, "%s/blobs/sha256/%s", root, digest + 7);
  json_object *o = imagestore__json(buf_cstr(&p), err);
  buf_cleanup(&p);
  return o;
}

static void imagestore__platform(struct buf *b, json_object *o) {
  const char *os = imagestore__str(o, "os");
  const char *arch = imagestore__str(o, "architecture");
  const char *variant = imagestore__str(o, "variant");
  if (os == NULL || arch == NULL || strcmp(os, "unknown") == 0)
    return;
  buf_printf(b, "%s%s/%s%s%s", b->len ? ", " : "", os, arch,
             variant ? "/" : "", variant ? variant : "");
}

int imagestore_lookup(const char *root, const char *ref,
                      struct imagestore_info *out, struct err *err) {
  memset(out, 0, sizeof(*out));
  char *path = imagestore__tag_path(root, ref);
  json_object *tag = imagestore__json(path, err);
  free(path);
  if (tag == NULL)
    return err->code ? err->code : ERR_IO;
  const char *digest = imagestore__str(tag, "digest");
  json_object *size;
  if (digest == NULL || !json_object_object_get_ex(tag, "size", &size)) {
    json_object_put(tag);
    return err_set(err, ERR_SYNTAX, "corrupt tag file for %s", ref);
  }
  out->name = xstrdup(ref);
  out->digest = xstrdup(digest);
  const char *mt = imagestore__str(tag, "mediaType");
  out->media_type = mt ? xstrdup(mt) : NULL;
  out->size = (uint64_t)json_object_get_int64(size);
  /* The platforms: an index lists them; a manifest's config has one. */
  struct err ignored;
  err_clear(&ignored);
  json_object *m = imagestore__blob(root, digest, &ignored);
  struct buf plats = BUF_INIT;
  json_object *list;
  if (m && json_object_object_get_ex(m, "manifests", &list) &&
      json_object_is_type(list, json_type_array)) {
    for (size_t i = 0; i < json_object_array_length(list) && i < 64; i++) {
      json_object *pl;
      if (json_object_object_get_ex(json_object_array_get_idx(list, i),
                                    "platform", &pl))
        imagestore__platform(&plats, pl);
    }
  } else if (m) {
    json_object *cfg;
    if (json_object_object_get_ex(m, "config", &cfg)) {
      json_object *c =
          imagestore__blob(root, imagestore__str(cfg, "digest"), &ignored);
      if (c)
        imagestore__platform(&plats, c);
      json_object_put(c);
    }
  }
  json_object_put(m);
  json_object_put(tag);
  out->platforms = plats.len ? buf_take(&plats) : NULL;
  buf_cleanup(&plats);
  return 0;
}

void imagestore_info_cleanup(struct imagestore_info *info) {
  free(info->name);
  free(info->digest);
  free(info->media_type);
  free(info->platforms);
  memset(info, 0, sizeof(*info));
}
