/*
 * layer.h - layer tarballs: packing a list of entries into a compressed,
 * deterministic PAX tar (digest and diffID in one pass), and applying a
 * layer to a directory safely.
 *
 * Packing: entries are sorted by path (component-wise, so a directory's
 * children follow it), times are clamped to SOURCE_DATE_EPOCH when set,
 * no atime/ctime, no user/group names: the same input gives the same
 * bytes.  The tar stream is hashed (diffID) and compressed (gzip level 1
 * or zstd level 3), and the compressed bytes are hashed (digest) as they
 * are written to the store.
 *
 * Applying (containerd's rules): every path is taken relative to the
 * target root; parents are resolved inside the root (a symlink pointing
 * to /etc leads to <root>/etc), never outside; entries with ".." that
 * would climb above the root are refused; hardlink targets are resolved
 * the same way; device nodes are skipped (counted); whiteouts (.wh.NAME)
 * remove, opaque markers (.wh..wh..opq) empty a directory of what lower
 * layers put there.  Owners (when running as root), modes, xattrs and
 * times are kept.
 */
#ifndef DW_LAYER_H
#define DW_LAYER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "digest.h"
#include "store.h"

enum layer_compression { LAYER_GZIP, LAYER_ZSTD, LAYER_UNCOMPRESSED };

struct layer_xattr {
  char *name;  /* owned */
  char *value; /* owned */
  size_t len;
};

struct layer_entry {
  char *path;  /* owned; relative, no leading or trailing '/' */
  mode_t mode; /* type and permission bits */
  uid_t uid;
  gid_t gid;
  int64_t mtime; /* seconds */
  long mtime_nsec;
  uint64_t size; /* regular files */
  char *src;     /* owned; host file with the content, or NULL */
  char *data;    /* owned; inline content (heredocs), or NULL */
  char *link;    /* owned; symlink target, or hardlink target path */
  bool hardlink; /* link is a path in this layer */
  struct layer_xattr *xattrs; /* owned array */
  size_t nxattrs;
};

struct layer_list {
  struct layer_entry *v; /* owned */
  size_t n, cap;
};
void layer_list_init(struct layer_list *l);
void layer_list_cleanup(struct layer_list *l);
/* Appends a zeroed entry whose path is a copy of path; returns it. */
struct layer_entry *layer_list_add(struct layer_list *l, const char *path);
/* Sorts by path; for duplicate paths the last added wins. */
void layer_list_sort(struct layer_list *l);

struct layer_pack_opts {
  enum layer_compression compression;
  int level;     /* 0: the default for the compression */
  bool clamp;    /* clamp times to `epoch` */
  int64_t epoch; /* SOURCE_DATE_EPOCH */
  const atomic_bool *cancel;
};

struct layer_info {
  char digest[DIGEST_STR_LEN]; /* compressed */
  char diffid[DIGEST_STR_LEN]; /* uncompressed tar */
  uint64_t size;               /* compressed */
};

/* An entry's mtime in the tar: whole seconds (as Docker and containerd
 * write layers; restricted PAX would keep nanoseconds only for entries
 * that need an extended header anyway), clamped to the epoch when set. */
int64_t layer_packed_mtime(const struct layer_entry *e,
                           const struct layer_pack_opts *o);

/* Packs the (sorted) entries into a new blob in the store. */
int layer_pack(const struct layer_list *l, const struct layer_pack_opts *o,
               struct store *store, struct layer_info *out,
               struct err *err) DW_WARN_UNUSED;

struct layer_apply_stats {
  uint64_t entries;
  uint64_t skipped_devices;
  uint64_t whiteouts;
};

/* Enables on a reader the compressions that BuildKit's ADD unpacks
 * (solver/llbsolver/file/unpack.go: moby's pkg/archive IsArchivePath and
 * DecompressStream: none, gzip, bzip2, xz, zstd), for layers and ADD's
 * local archives alike; anything else is not an archive. */
struct archive;
void layer_read_filters(struct archive *a);

/* Applies the layer in file blob_path (tar, plain or compressed as
 * layer_read_filters says) to root. */
int layer_apply(const char *blob_path, const char *root,
                const atomic_bool *cancel, struct layer_apply_stats *stats,
                struct err *err) DW_WARN_UNUSED;

/* Extracts a layer into an empty directory as an overlayfs lower layer:
 * the same rules, except that whiteouts become 0/0 character devices and
 * opaque markers the LAYER_OVL_OPAQUE xattr (overlay's "userxattr" form,
 * which works with and without root). */
#define LAYER_OVL_OPAQUE "user.overlay.opaque"
int layer_extract_lower(const char *blob_path, const char *dir,
                        const atomic_bool *cancel,
                        struct layer_apply_stats *stats,
                        struct err *err) DW_WARN_UNUSED;

/* Host ids to image ids (a user namespace's map read backwards). */
struct layer_idmap {
  uint32_t inside, outside, count;
};

struct layer_upper_opts {
  const struct layer_idmap *uidmap, *gidmap; /* none: ids as they are */
  size_t nuidmap, ngidmap;
  const char *const *skip; /* paths (no leading '/') the RUN setup made */
  size_t nskip;
  const char *const *lowers; /* the lower dirs, bottom first: a directory
                                copied up only for a mount point, and
                                unchanged there, is left out */
  size_t nlowers;
  const atomic_bool *cancel;
};

/* Turns an overlay upper directory into layer entries (appended to out):
 * 0/0 character devices become .wh.NAME whiteouts, opaque directories get
 * a .wh..wh..opq entry, overlay xattrs are dropped, hardlinks inside the
 * upper stay hardlinks.  Only the upper directory is walked.  Other
 * device nodes and sockets are left out (counted in *skipped). */
int layer_diff_upper(const char *upper, const struct layer_upper_opts *o,
                     struct layer_list *out, uint64_t *skipped,
                     struct err *err) DW_WARN_UNUSED;

/* Makes a RUN's upper directory, whose layer was packed from `packed`
 * (sorted, as layer_pack took it) with options o, into the lower
 * directory layer_extract_lower would make of that layer: what the layer
 * leaves out is removed, overlay's private xattrs but the opaque marker
 * are dropped, times are set as packed.  Only for an upper written
 * without a user namespace (its owners are the layer's).  On error the
 * directory is in between: remove it. */
int layer_upper_to_lower(const char *upper, const struct layer_list *packed,
                         const struct layer_pack_opts *o,
                         struct err *err) DW_WARN_UNUSED;

/* Resolves a path inside root as if root were "/": symlinks are followed
 * but can never leave root.  `path` may be absolute or relative to root.
 * With follow_last false the last component is not followed.  *out is a
 * new absolute host path under root (which may not exist yet: components
 * past the first missing one are kept as written). */
int layer_resolve(const char *root, const char *path, bool follow_last,
                  char **out, struct err *err) DW_WARN_UNUSED;

/* --- the merged view of extracted layers ---------------------------------
 *
 * Reads a stage's filesystem through its extracted lower directories
 * (layer_extract_lower, kept per store by cache_lower_dir) the way
 * overlayfs merges them, so that looking at a few paths costs a few lstat
 * calls per layer instead of applying every layer to one directory:
 *   - the topmost copy of a name wins; a 0/0 character device (whiteout)
 *     there hides the name;
 *   - a directory merges with the directories of the same path below it,
 *     down to (and including) one marked opaque, and not past a layer
 *     where the path is a whiteout or not a directory.
 * Every host path handed out or lstat'ed is dirs[i]/<rel> where each
 * component of rel is a directory in dirs[i] (or absent there): symlinks
 * from a layer are read with readlink and resolved in the view, never by
 * the host's path lookup, so nothing is reached outside the dirs. */
struct layer_view {
  const char *const *dirs; /* borrowed; bottom first; n == 0: empty */
  size_t n;
};

/* One path looked up in a view. */
struct layer_found {
  bool exists;
  struct stat st; /* lstat of the topmost copy (when exists; the root of
                     an empty view is a 0755 root-owned directory) */
  char *rel;      /* owned; the resolved path, relative ("" = the root) */
  char *host;     /* owned; the topmost copy's host path, or NULL */
  size_t top, lo; /* the topmost copy's layer; for a directory, the
                     lowest layer still merged into it */
};
void layer_found_cleanup(struct layer_found *f);

/* Resolves path (absolute or relative to the root) in the view with
 * layer_resolve's rules: symlinks are followed (the last one only with
 * follow_last) but never leave the root, ".." stops at the root, and past
 * the first missing component the rest is kept as written (out->exists
 * false).  *out is filled (and must be cleaned up) when 0 is returned. */
int layer_view_resolve(const struct layer_view *v, const char *path,
                       bool follow_last, struct layer_found *out,
                       struct err *err) DW_WARN_UNUSED;

/* The entry `name` (one component) of directory `dir` (found in v), not
 * following it.  out->exists is false when dir is no directory. */
int layer_view_child(const struct layer_view *v, const struct layer_found *dir,
                     const char *name, struct layer_found *out,
                     struct err *err) DW_WARN_UNUSED;

/* The names visible in directory `dir` (appended to names, sorted). */
int layer_view_list(const struct layer_view *v, const struct layer_found *dir,
                    struct strv *names, struct err *err) DW_WARN_UNUSED;

/* Cleans a path lexically: "a//b/./c/" -> "a/b/c"; leading '/' removed;
 * returns false when ".." would climb above the start. */
bool layer_clean_path(const char *in, char **out);

#endif
