/*
 * ref.h - image references, normalised as Docker does:
 *   busybox            -> docker.io/library/busybox:latest
 *   host:5000/a/b:tag@sha256:...  kept, with each part checked.
 * The domain is the first path component when it contains '.' or ':' or
 * is "localhost"; otherwise docker.io (and "library/" for one component).
 */
#ifndef DW_REF_H
#define DW_REF_H

#include <stdbool.h>

#include "../common/err.h"

struct ref {
  char *domain; /* owned; "docker.io", "127.0.0.1:5000" */
  char *path;   /* owned; "library/busybox" */
  char *tag;    /* owned; NULL when only a digest was given */
  char *digest; /* owned; "sha256:..." or NULL */
};

/* Parses and normalises s.  On error *out is zeroed and err says why.
 * The result is owned by the caller (ref_cleanup). */
int ref_parse(const char *s, struct ref *out, struct err *err) DW_WARN_UNUSED;
void ref_cleanup(struct ref *self);

/* "domain/path:tag@digest" (parts present only); caller frees. */
char *ref_string(const struct ref *self);
/* "domain/path" ; caller frees. */
char *ref_name(const struct ref *self);
/* The host to contact for the registry API: docker.io is
 * registry-1.docker.io.  Borrowed from self or static. */
const char *ref_api_host(const struct ref *self);

/* True for 127.0.0.0/8, ::1 and localhost, with or without a port. */
bool ref_host_is_loopback(const char *hostport);

#endif
