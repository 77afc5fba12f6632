/*
 * layer_int.h - what the files of the layer module (layer.c,
 * layer_apply.c, layer_upper.c, layer_view.c) share; nothing outside the
 * module includes it.
 */
#ifndef DW_LAYER_INT_H
#define DW_LAYER_INT_H

#include <stddef.h>

#include "../common/buf.h"
#include "layer.h"

/* Frees what an entry owns (not the entry). */
void layer__entry_cleanup(struct layer_entry *e);

#include <stdbool.h>

/* Where a root-scoped path walk (layer__walk) reads the filesystem: the
 * host directory of layer_resolve, or the merged view of
 * layer_view_resolve.  The backend keeps the position (the components
 * resolved so far); the walk decides everything else. */
struct layer__walker {
  /* Steps into `comp` below the position.  When what is there is a
   * symlink and `follow` is set, its target goes to target (cap bytes),
   * *is_link is set and the position stays where it was; otherwise the
   * component joins the position (whether it exists or not). */
  int (*enter)(void *self, const char *comp, bool follow, char *target,
               size_t cap, bool *is_link, struct err *err);
  void (*up)(void *self);      /* "..": one level up, never above the root */
  void (*to_root)(void *self); /* an absolute symlink target */
};

/* The one root-scoped resolution, shared by layer_resolve and
 * layer_view_resolve (security-critical, so kept once): path's components
 * in order, "." skipped, ".." never above the root, a symlink (the last
 * component only with follow_last) replaced by its target, absolute
 * targets from the root; at most DW_MAX_SYMLINK_HOPS links, NAME_MAX
 * bytes a component, DW_MAX_PATH_DEPTH * 4 components in all. */
int layer__walk(const char *path, bool follow_last,
                const struct layer__walker *w, void *self, struct err *err);

#endif
