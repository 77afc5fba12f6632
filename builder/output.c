/*
 * output.c - OCI image layout and OCI archive export.
 */
#include "output.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/ceilings.h"
#include "image.h"
#include "../model/ref.h"

void output_spec_cleanup(struct output_spec *o) {
  free(o->dest);
  o->dest = NULL;
}

int output_parse(const char *s, struct output_spec *out, struct err *err) {
  memset(out, 0, sizeof(*out));
  char *copy = xstrdup(s);
  int rc = 0;
  for (char *save = NULL, *kv = strtok_r(copy, ",", &save); kv;
       kv = strtok_r(NULL, ",", &save)) {
    if (strncmp(kv, "type=", 5) == 0) {
      if (strcmp(kv + 5, "oci") && strcmp(kv + 5, "oci-archive")) {
        rc = err_set(err, ERR_UNSUPPORTED,
                     "--output type \"%.40s\" is not "
                     "supported (oci, oci-archive)",
                     kv + 5);
        break;
      }
      snprintf(out->type, sizeof(out->type), "%s", kv + 5);
    } else if (strncmp(kv, "dest=", 5) == 0) {
      free(out->dest);
      out->dest = xstrdup(kv + 5);
    } else {
      rc = err_set(err, ERR_INVALID, "--output: unknown key in \"%.60s\"", kv);
      break;
    }
  }
  free(copy);
  if (rc == 0 &&
      (out->type[0] == '\0' || out->dest == NULL || out->dest[0] == '\0'))
    rc = err_set(err, ERR_INVALID, "--output needs type= and dest=");
  if (rc < 0)
    output_spec_cleanup(out);
  return rc;
}

/* Every blob the image needs: the manifest, config and layers. */
static int output__blobs(struct store *store, const char *digest,
                         const char *mt, struct strv *out, struct err *err) {
  strv_push(out, digest);
  struct buf b = BUF_INIT;
  int rc = store_blob_read(store, digest, DW_MAX_MANIFEST_BYTES, &b, err);
  if (rc == 0 && image_is_index(mt)) {
    struct image_index x;
    rc = image_index_parse(b.data, b.len, &x, err);
    for (size_t i = 0; rc == 0 && i < x.n; i++)
      if (store_blob_exists(store, x.manifests[i].digest))
        rc = output__blobs(store, x.manifests[i].digest,
                           x.manifests[i].media_type, out, err);
    if (rc == 0)
      image_index_cleanup(&x);
  } else if (rc == 0) {
    struct image_manifest m;
    rc = image_manifest_parse(b.data, b.len, &m, err);
    if (rc == 0) {
      strv_push(out, m.config.digest);
      for (size_t i = 0; i < m.nlayers; i++)
        strv_push(out, m.layers[i].digest);
      image_manifest_cleanup(&m);
    }
  }
  buf_cleanup(&b);
  return rc;
}

static char *output__index(const char *digest, const char *mt, uint64_t size,
                           const char *name) {
  json_object *idx = json_object_new_object();
  json_object_object_add(idx, "schemaVersion", json_object_new_int(2));
  json_object_object_add(idx, "mediaType",
                         json_object_new_string(MT_OCI_INDEX));
  json_object *ms = json_object_new_array();
  json_object *d = json_object_new_object();
  json_object_object_add(d, "mediaType", json_object_new_string(mt));
  json_object_object_add(d, "digest", json_object_new_string(digest));
  json_object_object_add(d, "size", json_object_new_int64((int64_t)size));
  if (name) {
    struct ref r;
    struct err e;
    json_object *ann = json_object_new_object();
    json_object_object_add(ann, "io.containerd.image.name",
                           json_object_new_string(name));
    if (ref_parse(name, &r, &e) == 0) {
      if (r.tag)
        json_object_object_add(ann, "org.opencontainers.image.ref.name",
                               json_object_new_string(r.tag));
      ref_cleanup(&r);
    }
    json_object_object_add(d, "annotations", ann);
  }
  json_object_array_add(ms, d);
  json_object_object_add(idx, "manifests", ms);
  char *s =
      xstrdup(json_object_to_json_string_ext(idx, JSON_C_TO_STRING_PLAIN));
  json_object_put(idx);
  return s;
}

static const char output__layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";

static int output__copy(const char *from, const char *to, struct err *err) {
  if (link(from, to) == 0)
    return 0;
  int in = open(from, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return err_set(err, ERR_IO, "open %s: %s", from, strerror(errno));
  struct buf tmp = BUF_INIT;
  buf_printf(&tmp, "%s.tmp-XXXXXX", to);
  int out = mkostemp(tmp.data, O_CLOEXEC);
  int rc = 0;
  if (out < 0) {
    rc = err_set(err, ERR_IO, "create %s: %s", tmp.data, strerror(errno));
  } else {
    char b[1 << 16];
    ssize_t n;
    while ((n = read(in, b, sizeof(b))) > 0)
      if (write(out, b, (size_t)n) != n) {
        rc = err_set(err, ERR_IO, "write %s: %s", to, strerror(errno));
        break;
      }
    if (rc == 0 && n < 0)
      rc = err_set(err, ERR_IO, "read %s: %s", from, strerror(errno));
    if (rc == 0)
      (void)fchmod(out, 0644);
    if (rc == 0 && fsync(out) != 0)
      rc = err_set(err, ERR_IO, "fsync %s: %s", to, strerror(errno));
    close(out);
    if (rc == 0 && rename(tmp.data, to) != 0)
      rc = err_set(err, ERR_IO, "rename %s: %s", to, strerror(errno));
    if (rc < 0)
      unlink(tmp.data);
  }
  close(in);
  buf_cleanup(&tmp);
  return rc;
}

static int output__dir(struct store *store, const struct strv *blobs,
                       const char *index, const char *dest, struct err *err) {
  struct buf p = BUF_INIT;
  buf_printf(&p, "%s/blobs/sha256", dest);
  int rc = store_mkdirs(p.data, err);
  for (size_t i = 0; rc == 0 && i < blobs->n; i++) {
    buf_reset(&p);
    buf_printf(&p, "%s/blobs/sha256/%s", dest, digest_hex(blobs->v[i]));
    if (access(p.data, F_OK) == 0)
      continue;
    char *src = store_blob_path(store, blobs->v[i]);
    rc = output__copy(src, p.data, err);
    free(src);
  }
  if (rc == 0) {
    buf_reset(&p);
    buf_printf(&p, "%s/oci-layout", dest);
    rc = store_write_atomic(p.data, output__layout, strlen(output__layout),
                            err);
  }
  if (rc == 0) {
    buf_reset(&p);
    buf_printf(&p, "%s/index.json", dest);
    rc = store_write_atomic(p.data, index, strlen(index), err);
  }
  buf_cleanup(&p);
  return rc;
}

static int output__tar_mem(struct archive *a, const char *name,
                           const char *data, size_t len, struct err *err) {
  struct archive_entry *e = archive_entry_new();
  archive_entry_set_pathname(e, name);
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, (la_int64_t)len);
  int rc = 0;
  if (archive_write_header(a, e) != ARCHIVE_OK ||
      archive_write_data(a, data, len) < 0)
    rc = err_set(err, ERR_IO, "archive %s: %s", name, archive_error_string(a));
  archive_entry_free(e);
  return rc;
}

static int output__archive(struct store *store, const struct strv *blobs,
                           const char *index, const char *dest,
                           struct err *err) {
  struct buf tmp = BUF_INIT;
  buf_printf(&tmp, "%s.tmp-XXXXXX", dest);
  int fd = mkostemp(tmp.data, O_CLOEXEC);
  if (fd < 0) {
    int rc = err_set(err, ERR_IO, "create %s: %s", tmp.data, strerror(errno));
    buf_cleanup(&tmp);
    return rc;
  }
  struct archive *a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  int rc = 0;
  if (archive_write_open_fd(a, fd) != ARCHIVE_OK)
    rc = err_set(err, ERR_IO, "archive %s: %s", dest, archive_error_string(a));
  if (rc == 0)
    rc = output__tar_mem(a, "oci-layout", output__layout,
                         strlen(output__layout), err);
  if (rc == 0)
    rc = output__tar_mem(a, "index.json", index, strlen(index), err);
  char *buf = xmalloc(1 << 20);
  for (size_t i = 0; rc == 0 && i < blobs->n; i++) {
    bool dup = false;
    for (size_t j = 0; j < i; j++)
      dup = dup || strcmp(blobs->v[i], blobs->v[j]) == 0;
    if (dup)
      continue;
    char *src = store_blob_path(store, blobs->v[i]);
    int in = open(src, O_RDONLY | O_CLOEXEC);
    free(src);
    struct stat st;
    if (in < 0 || fstat(in, &st) != 0) {
      rc = err_set(err, ERR_IO, "blob %s: %s", blobs->v[i], strerror(errno));
      if (in >= 0)
        close(in);
      break;
    }
    struct buf name = BUF_INIT;
    buf_printf(&name, "blobs/sha256/%s", digest_hex(blobs->v[i]));
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name.data);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, st.st_size);
    if (archive_write_header(a, e) != ARCHIVE_OK)
      rc = err_set(err, ERR_IO, "archive: %s", archive_error_string(a));
    ssize_t n;
    while (rc == 0 && (n = read(in, buf, 1 << 20)) > 0)
      if (archive_write_data(a, buf, (size_t)n) < 0)
        rc = err_set(err, ERR_IO, "archive: %s", archive_error_string(a));
    archive_entry_free(e);
    buf_cleanup(&name);
    close(in);
  }
  free(buf);
  if (archive_write_close(a) != ARCHIVE_OK && rc == 0)
    rc = err_set(err, ERR_IO, "archive: %s", archive_error_string(a));
  archive_write_free(a);
  if (rc == 0 && fsync(fd) != 0)
    rc = err_set(err, ERR_IO, "fsync %s: %s", dest, strerror(errno));
  close(fd);
  if (rc == 0 && rename(tmp.data, dest) != 0)
    rc = err_set(err, ERR_IO, "rename %s: %s", dest, strerror(errno));
  if (rc < 0)
    unlink(tmp.data);
  buf_cleanup(&tmp);
  return rc;
}

int output_write(struct store *store, const struct output_spec *o,
                 const char *digest, const char *media_type, uint64_t size,
                 const char *name, struct err *err) {
  struct strv blobs = STRV_INIT;
  int rc = output__blobs(store, digest, media_type, &blobs, err);
  char *index = rc == 0 ? output__index(digest, media_type, size, name) : NULL;
  if (rc == 0 && strcmp(o->type, "oci") == 0)
    rc = output__dir(store, &blobs, index, o->dest, err);
  else if (rc == 0)
    rc = output__archive(store, &blobs, index, o->dest, err);
  free(index);
  strv_cleanup(&blobs);
  return rc;
}
