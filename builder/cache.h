/*
 * cache.h - the build cache: a step's key -> the stage state after it.
 *
 * DESIGN: a key is the SHA-256 of the parent step's key, the instruction,
 * the ARG and ENV in scope, and (COPY/ADD) a checksum of the selected
 * files' contents and metadata (not their mtimes) - the caller computes
 * it.  An entry is a small JSON file <root>/cache/<key hex>:
 * {"config": <image config after the step>, "layers": [{"digest",
 * "diffID", "size", "mediaType"}...]}; the layer blobs stay in blobs/ and
 * garbage collection keeps them while an entry names them.  Entries are
 * written like every store file (temporary, fsync, rename); a hit touches
 * the file, so `dockwright prune` can drop the least recently used.
 *
 * Extracted layers (overlay lower directories for RUN) live next to it in
 * <root>/layers/<digest hex>, made in tmp/ and renamed, so they are
 * complete or absent.
 */
#ifndef DW_CACHE_H
#define DW_CACHE_H

#include <json-c/json.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "store.h"

/* *out is a new reference the caller puts; ERR_NOTFOUND on a miss. */
int cache_get(struct store *store, const char *key_hex, json_object **out,
              struct err *err) DW_WARN_UNUSED;
/* Stores entry (borrowed) under key_hex. */
int cache_put(struct store *store, const char *key_hex, json_object *entry,
              struct err *err) DW_WARN_UNUSED;

/* The keys of the entries written or hit (touched) at or after `since`:
 * what a build used, for exporting its cache. */
void cache_used_since(struct store *store, const struct timespec *since,
                      struct strv *keys);

/* Blob digests the cache entries name (appended to live). */
void cache_roots(struct store *store, struct strv *live);

/* Drops entries: all of them with `all`, else the least recently used
 * until the layers they name add up to at most keep_bytes.  Extracted
 * layer directories whose blob is gone (or all, with `all`) go too. */
int cache_prune(struct store *store, bool all, uint64_t keep_bytes,
                size_t *removed, struct err *err) DW_WARN_UNUSED;

/* Moves dir, which holds exactly what extracting the layer blob `digest`
 * would give, into place as that layer's lower directory.  When one is
 * there already, dir is left where it is for the caller to remove. */
int cache_adopt_lower(struct store *store, const char *digest, const char *dir,
                      struct err *err) DW_WARN_UNUSED;

/* The extracted (overlay lower) directory of a layer blob, extracting it
 * first when missing.  *dir is the caller's. */
int cache_lower_dir(struct store *store, const char *digest,
                    const atomic_bool *cancel, char **dir,
                    struct err *err) DW_WARN_UNUSED;

/* Removes the extracted directories of layers no longer in blobs/ (all of
 * them with `all`). */
int cache_prune_lowers(struct store *store, bool all,
                       struct err *err) DW_WARN_UNUSED;

#endif
