/*
 * ceilings.h - ceilings on outside input, named together so they can be
 * reviewed together (curl's habit).
 */
#ifndef DW_CEILINGS_H
#define DW_CEILINGS_H

/* Largest Dockerfile we read, from disk or from an editor. */
#define DW_MAX_DOCKERFILE_BYTES (64u * 1024u * 1024u)

/* Language server (server/transport.c, jsonrpc.c, documents.c). */
/* One message's header block ("Content-Length: N\r\n...\r\n\r\n"). */
#define DW_MAX_LSP_HEADER_BYTES (8u * 1024u)
/* One message's body: a whole document, JSON-escaped, fits (escaping can
 * double the text), so the document ceiling is the one users meet. */
#define DW_MAX_LSP_MESSAGE_BYTES (2u * DW_MAX_DOCKERFILE_BYTES + 1024u * 1024u)
/* Nesting of a JSON message (json-c's tokener depth). */
#define DW_MAX_LSP_JSON_DEPTH 64
/* Documents open at once. */
#define DW_MAX_LSP_DOCUMENTS 10000u
/* A .dockerignore read for diagnostics; larger ones are ignored. */
#define DW_MAX_DOCKERIGNORE_BYTES (1024u * 1024u)

/* builder/: ceilings on what registries, layers and contexts send us. */
#define DW_MAX_REF_LEN 4096u                           /* image reference */
#define DW_MAX_MANIFEST_BYTES (4u * 1024u * 1024u)     /* manifest, index */
#define DW_MAX_CONFIG_BYTES (8u * 1024u * 1024u)       /* image config */
#define DW_MAX_TOKEN_BYTES (1u * 1024u * 1024u)        /* auth token reply */
#define DW_MAX_ERROR_BODY_BYTES (64u * 1024u)          /* error replies kept */
#define DW_MAX_BLOB_BYTES (64ull * 1024 * 1024 * 1024) /* one layer blob */
#define DW_MAX_LAYERS 1000u                            /* layers in an image */
#define DW_MAX_LAYER_ENTRIES 10000000u                 /* entries in one tar */
#define DW_MAX_PATH_DEPTH 1024u  /* components in a path */
#define DW_MAX_SYMLINK_HOPS 255u /* when resolving */
#define DW_MAX_BUILD_IGNORE_BYTES (4u * 1024u * 1024u) /* for COPY */
#define DW_MAX_CRED_HELPER_BYTES (1u * 1024u * 1024u)  /* helper output */
#define DW_MAX_DOCKER_CONFIG_BYTES (4u * 1024u * 1024u)
#define DW_MAX_ADD_URL_BYTES (8ull * 1024 * 1024 * 1024) /* ADD <url> */
#define DW_MAX_CACHE_ENTRY_BYTES (16u * 1024u * 1024u)   /* one cache entry */
#define DW_MAX_TAG_FILE_BYTES                                                 \
  8192u /* one tag file of the store (name, digest) */
/* What `dockwright prune` keeps of the build cache (layers named by the
 * most recently used entries); `prune -a` keeps nothing. */
#define DW_CACHE_KEEP_BYTES (10ull * 1024 * 1024 * 1024)
#define DW_MAX_RUN_MOUNTS 32u                    /* --mount per RUN */
#define DW_MAX_SECRET_BYTES (1u * 1024u * 1024u) /* one --secret file */
/* A registry's tag list (completion): one page's body, the pages followed,
 * the tags kept. */
#define DW_MAX_TAG_PAGE_BYTES (4u * 1024u * 1024u)
#define DW_MAX_TAG_PAGES 100u
#define DW_MAX_TAGS 20000u

#endif
