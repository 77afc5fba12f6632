/*
 * limits.h - ceilings on outside input, named together so they can be
 * reviewed together (curl's habit).
 */
#ifndef DW_LIMITS_H
#define DW_LIMITS_H

/* Largest Dockerfile we read, from disk or from an editor. */
#define DW_MAX_DOCKERFILE_BYTES (64u * 1024u * 1024u)

#endif
