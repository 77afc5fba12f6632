/*
 * imagestore.h - what the language server reads of the local image store
 * (the one `dockwright images` lists: builder/store.c), read-only and
 * without the builder plugin: a tag file names an image's digest, size and
 * media type; its manifest (or index) and config blob give the platforms.
 *
 * imagestore_lookup does plain blocking reads: call it on libuv's thread
 * pool only (features/hover.c does), never on the loop thread.
 */
#ifndef DW_IMAGESTORE_H
#define DW_IMAGESTORE_H

#include <stdint.h>

#include "../common/err.h"

struct imagestore_info {
  char *name;       /* owned; the normalised reference */
  char *digest;     /* owned */
  char *media_type; /* owned */
  uint64_t size;    /* of the manifest or index */
  char *platforms;  /* owned; "linux/amd64, linux/arm64/v8", or NULL */
};

/* The store's root: `configured` (the server's `root` setting, which the
 * build commands use too) when set, else as `dockwright images` finds it:
 * $DOCKWRIGHT_ROOT, $XDG_DATA_HOME/dockwright or ~/.local/share/dockwright.
 * New string. */
char *imagestore_root(const char *configured);

/* A reference as the store names it ("alpine" ->
 * "docker.io/library/alpine:latest", model/ref.c's normalisation, the
 * builder's); NULL when it holds a variable or a digest, or is no valid
 * reference.  New string. */
char *imagestore_normalize(const char *ref);

/* A tag file's name back to the reference (%XX decoded).  New string. */
char *imagestore_unescape(const char *file_name);

/* Reads what the store knows of `ref` (normalised).  ERR_NOTFOUND when it
 * is not there; other errors say what could not be read. */
int imagestore_lookup(const char *root, const char *ref,
                      struct imagestore_info *out,
                      struct err *err) DW_WARN_UNUSED;
void imagestore_info_cleanup(struct imagestore_info *info);

#endif
