/*
 * output.h - exporting a stored image: an OCI image layout directory
 * (type=oci,dest=DIR) or a tar of one (type=oci-archive,dest=FILE).
 * index.json annotates the image with org.opencontainers.image.ref.name
 * (the tag, as umoci and skopeo address it) and io.containerd.image.name
 * (the full reference).
 */
#ifndef DW_OUTPUT_H
#define DW_OUTPUT_H

#include <stdint.h>

#include "../common/err.h"
#include "store.h"

struct output_spec {
  char type[32]; /* "oci" or "oci-archive" */
  char *dest;    /* owned */
};

int output_parse(const char *s, struct output_spec *out,
                 struct err *err) DW_WARN_UNUSED;
void output_spec_cleanup(struct output_spec *o);

/* Writes the image (manifest digest/media type/size, all blobs in store)
 * to the destination.  name: the normalised reference or NULL. */
int output_write(struct store *store, const struct output_spec *o,
                 const char *digest, const char *media_type, uint64_t size,
                 const char *name, struct err *err) DW_WARN_UNUSED;

#endif
