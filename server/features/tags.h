/*
 * tags.h - a registry's tags of an image, for `FROM image:` completion.
 *
 * DESIGN: the language server links no HTTP client, so the tag list is
 * fetched by the builder plugin (plugin.h), loaded the first time a tag
 * list is asked for: a BUILD_ACTION_TAGS request runs on the builder's
 * thread and its pages come back as events on the loop.  Nothing waits for
 * it: a lookup answers with what the cache has, or "loading" (completion
 * then says isIncomplete, and the client asks again as the user types).
 * A fetch that has not ended TAGS_TIMEOUT_MS after it started counts as
 * failed (and is cancelled).  Lists are kept TAGS_TTL_MS, failures
 * TAGS_FAIL_TTL_MS, so typing does not hammer a registry.
 */
#ifndef DW_FEATURES_TAGS_H
#define DW_FEATURES_TAGS_H

#include <stddef.h>

struct server;

enum tags_status {
  TAGS_READY,   /* *tags, *n: the list (borrowed until the next lookup) */
  TAGS_LOADING, /* a fetch runs (started by this call or an earlier one) */
  TAGS_NONE,    /* no list: the fetch failed or timed out lately, or the
                   builder plugin cannot be loaded */
};

/* The tags of `repo` (normalised: "docker.io/library/alpine",
 * "127.0.0.1:5000/team/app"; no tag). */
enum tags_status tags_lookup(struct server *self, const char *repo,
                             const char *const **tags, size_t *n);

#endif
