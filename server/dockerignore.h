/*
 * dockerignore.h - reads the .dockerignore that applies to a document,
 * without blocking the loop: a chain of uv_fs requests (open, fstat, read,
 * close) run on libuv's thread pool.
 *
 * Which file: "<Dockerfile>.dockerignore" next to the document when it
 * exists (BuildKit's per-Dockerfile ignore file), else ".dockerignore" in
 * the document's directory (the usual build context).  It is read once, at
 * didOpen, and kept for the document's life: editing .dockerignore takes
 * effect when the Dockerfile is reopened.  Files over
 * DW_MAX_DOCKERIGNORE_BYTES are not read.
 *
 * Ownership: the read belongs to itself and frees itself in its last
 * callback.  The document points at it while it runs; closing the document
 * detaches it (the read finishes and discards its result).
 */
#ifndef DW_DOCKERIGNORE_H
#define DW_DOCKERIGNORE_H

struct server;
struct doc;

/* Starts the read (or marks d->ignore_ready at once when the document has
 * no file path); diagnostics_ignore_ready runs when it is done. */
void dockerignore_load(struct server *self, struct doc *d);
/* Forgets the document; call before freeing it. */
void dockerignore_detach(struct doc *d);

#endif
