/*
 * image.h - OCI and Docker v2 schema 2 documents: manifests, indexes,
 * descriptors, platforms; the image config kept as JSON.
 *
 * Everything parsed here comes from outside (a registry, a store blob):
 * digests are checked with digest_valid, sizes must be >= 0, counts are
 * capped (DW_MAX_LAYERS).
 */
#ifndef DW_IMAGE_H
#define DW_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "store.h"

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_DOCKER_MANIFEST                                                    \
  "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST                                                        \
  "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER_GZIP                                                  \
  "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"

struct image_desc {
  char *media_type; /* owned */
  char *digest;     /* owned, valid */
  int64_t size;
  char *os, *arch, *variant; /* owned or NULL (index entries) */
};
void image_desc_cleanup(struct image_desc *d);

struct image_manifest {
  char *media_type; /* owned */
  struct image_desc config;
  struct image_desc *layers; /* owned array */
  size_t nlayers;
};
void image_manifest_cleanup(struct image_manifest *m);

struct image_index {
  char *media_type;
  struct image_desc *manifests; /* owned array */
  size_t n;
};
void image_index_cleanup(struct image_index *x);

bool image_is_index(const char *media_type);
bool image_is_manifest(const char *media_type);
/* A layer media type we can unpack (tar, gzip, zstd; OCI or Docker). */
bool image_is_layer(const char *media_type);

/* The mediaType field of a JSON document, or NULL (caller frees). */
char *image_sniff_media_type(const char *data, size_t len);

int image_manifest_parse(const char *data, size_t len,
                         struct image_manifest *out,
                         struct err *err) DW_WARN_UNUSED;
int image_index_parse(const char *data, size_t len, struct image_index *out,
                      struct err *err) DW_WARN_UNUSED;

/* "linux/amd64", "linux/arm64/v8"; NULL = this machine's. */
struct image_platform {
  char os[32], arch[32], variant[32];
};
int image_platform_parse(const char *s, struct image_platform *out,
                         struct err *err) DW_WARN_UNUSED;
/* The index entry for a platform, or NULL. */
const struct image_desc *image_index_select(const struct image_index *x,
                                            const struct image_platform *p);

/* Loads the manifest (resolving an index for the platform) and the config
 * of a stored image.  *config_out is a new json-c object (caller puts). */
struct json_object;
int image_load(struct store *store, const char *digest, const char *media_type,
               const struct image_platform *p, struct image_manifest *m_out,
               struct json_object **config_out, char **manifest_digest_out,
               struct err *err) DW_WARN_UNUSED;

/* Removes every blob no tag reaches.  Needs the exclusive store lock.
 * freed/removed may be NULL. */
int image_gc(struct store *store, uint64_t *freed, size_t *removed,
             struct err *err) DW_WARN_UNUSED;

#endif
