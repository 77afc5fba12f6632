/*
 * store.h - the image store: content-addressed blobs, tags, scratch space.
 *
 * Layout under the root ($DOCKWRIGHT_ROOT, --root, or
 * $XDG_DATA_HOME/dockwright):
 *   blobs/sha256/<hex>   every manifest, index, config and layer blob
 *   tags/<escaped ref>   {"name","digest","mediaType","size"}
 *   tmp/                 temporary files and directories (same filesystem,
 *                        so rename() is atomic)
 *   lock                 flock(): shared while building/pulling, exclusive
 *                        while collecting garbage
 *
 * Invariant: every write is a temporary file in tmp/, fsync, rename, then
 * fsync of the directory; kill -9 leaves no half blob or half tag.  Blobs
 * are named by their content, so two builds writing the same blob race
 * harmlessly; a tag is replaced whole.
 *
 * Ownership: store_open returns a store the caller frees with store_free.
 * Paths returned as `char *` are owned by the caller.  A store is used by
 * one thread at a time; two processes (or two stores) may share a root.
 */
#ifndef DW_STORE_H
#define DW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "digest.h"

struct store;

/* The root used when none is given: $DOCKWRIGHT_ROOT, else
 * $XDG_DATA_HOME/dockwright, else $HOME/.local/share/dockwright, looked up
 * in env ("K=V"; the caller's environment, never the process's).
 * Caller frees. */
char *store_default_root(const char *const *env, size_t nenv);

/* Opens (creating as needed) the store at root (required). */
int store_open(const char *root, struct store **out,
               struct err *err) DW_WARN_UNUSED;
void store_free(struct store *self);
const char *store_root(const struct store *self);

/* Takes the store lock shared (builds, pulls) or exclusive (garbage
 * collection).  Exclusive does not wait: ERR_EXISTS when the store is in
 * use.  Released by store_unlock or store_free. */
int store_lock(struct store *self, bool exclusive,
               struct err *err) DW_WARN_UNUSED;
void store_unlock(struct store *self);

/* --- blobs ------------------------------------------------------------ */
bool store_blob_exists(const struct store *self, const char *digest);
/* Path of a blob (which may not exist); digest must be valid. */
char *store_blob_path(const struct store *self, const char *digest);
/* Size of a stored blob, or -1. */
int64_t store_blob_size(const struct store *self, const char *digest);
/* Writes a whole blob; digest_out gets its digest. */
int store_blob_put(struct store *self, const void *data, size_t len,
                   char digest_out[DIGEST_STR_LEN],
                   struct err *err) DW_WARN_UNUSED;
/* Reads a blob of at most max bytes into out (appended), checking its
 * digest. */
int store_blob_read(const struct store *self, const char *digest, size_t max,
                    struct buf *out, struct err *err) DW_WARN_UNUSED;
int store_blob_remove(struct store *self, const char *digest,
                      struct err *err) DW_WARN_UNUSED;
/* The repositories ("host/path") a blob is known to be in: added when it
 * is pulled from or pushed to one, read by a push to mount it from there
 * instead of uploading it.  At most 64 are read. */
int store_source_add(struct store *self, const char *digest, const char *repo,
                     struct err *err) DW_WARN_UNUSED;
int store_source_list(const struct store *self, const char *digest,
                      struct strv *out, struct err *err) DW_WARN_UNUSED;
/* Every stored blob digest, appended to out. */
int store_blob_list(const struct store *self, struct strv *out,
                    struct err *err) DW_WARN_UNUSED;

/* A blob written as a stream: bytes are hashed while written. */
struct store_writer {
  struct store *store; /* borrowed */
  int fd;
  char *tmp_path; /* owned */
  struct digest_ctx dg;
  uint64_t size;
};
int store_writer_open(struct store *self, struct store_writer *w,
                      struct err *err) DW_WARN_UNUSED;
int store_writer_write(struct store_writer *w, const void *data, size_t len,
                       struct err *err) DW_WARN_UNUSED;
/* fsync + rename to its digest.  With `expected` non-NULL a mismatch is
 * ERR_DIGEST and nothing is stored.  The writer is finished either way. */
int store_writer_commit(struct store_writer *w, const char *expected,
                        char digest_out[DIGEST_STR_LEN],
                        struct err *err) DW_WARN_UNUSED;
/* Empties the writer (its file and hash) to write the blob again from
 * its first byte. */
int store_writer_rewind(struct store_writer *w,
                        struct err *err) DW_WARN_UNUSED;
/* Drops the temporary file.  Accepts a finished or zeroed writer. */
void store_writer_abort(struct store_writer *w);

/* A new empty directory under tmp/ (caller removes it, e.g. with
 * store_rmtree). */
int store_tmpdir(struct store *self, const char *prefix, char **path,
                 struct err *err) DW_WARN_UNUSED;
/* Removes a tree without following symlinks.  Refuses paths outside the
 * store root. */
int store_rmtree(struct store *self, const char *path,
                 struct err *err) DW_WARN_UNUSED;

/* --- tags ------------------------------------------------------------- */
struct store_tag {
  char *name;       /* owned; normalised reference */
  char *digest;     /* owned; manifest or index digest */
  char *media_type; /* owned */
  uint64_t size;    /* manifest size */
};
void store_tag_cleanup(struct store_tag *t);

int store_tag_set(struct store *self, const char *name, const char *digest,
                  const char *media_type, uint64_t size,
                  struct err *err) DW_WARN_UNUSED;
/* ERR_NOTFOUND when the tag does not exist. */
int store_tag_get(const struct store *self, const char *name,
                  struct store_tag *out, struct err *err) DW_WARN_UNUSED;
int store_tag_remove(struct store *self, const char *name,
                     struct err *err) DW_WARN_UNUSED;
/* All tags sorted by name; caller frees with store_tags_free. */
int store_tag_list(const struct store *self, struct store_tag **out, size_t *n,
                   struct err *err) DW_WARN_UNUSED;
void store_tags_free(struct store_tag *tags, size_t n);

/* Removes leftovers in tmp/ (needs the exclusive lock). */
int store_clean_tmp(struct store *self, struct err *err) DW_WARN_UNUSED;

/* Writes data to path atomically: path.tmp-XXXX in the same directory,
 * fsync, rename, fsync of the directory. */
int store_write_atomic(const char *path, const void *data, size_t len,
                       struct err *err) DW_WARN_UNUSED;
/* mkdir -p with mode 0755. */
int store_mkdirs(const char *path, struct err *err) DW_WARN_UNUSED;

/* Appends the names in directory path (without "." and "..") to names;
 * -1 with errno set when it cannot be opened.  A symlink is not followed
 * with nofollow. */
int store_dir_names(const char *path, bool nofollow, struct strv *names);

#endif
