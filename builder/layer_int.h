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

/* Replaces a symlink met at rest[..pos) by its target, followed by what
 * is left of the path; resolution goes on from the start of rest. */
void layer__splice_link(struct buf *rest, size_t *pos, const char *target);

#endif
