/*
 * links.c - textDocument/documentLink: each image named where a stage
 * could be (FROM, --from=, RUN --mount=from=; navigation.h tells images
 * from stages) to its registry's page, and each rule id in a `# check=`
 * or `# dockwright-ignore=` comment to the rule's documentation
 * (analysis_rule_doc_url, as the diagnostics' codeDescription).
 *
 * Registry pages: Docker Hub (official images under /_/, others under
 * /r/), quay.io (/repository/), mcr.microsoft.com (the artifact
 * registry's page), public.ecr.aws (gallery.ecr.aws), and any other host
 * (ghcr.io, gcr.io, a private registry) as https://HOST/PATH, which the
 * big ones redirect to the package's page.  Images with unexpanded
 * variables and `scratch` get no link.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../analysis/analysis.h"
#include "../../common/buf.h"
#include "../methods.h"
#include "../protocol.h"
#include "../server.h"
#include "navigation.h"

struct links_list {
  struct proto_link *v;
  size_t n, cap;
  struct strv urls; /* the targets, owned */
};

static void links__add(struct links_list *l, size_t s, size_t e, char *url,
                       const char *tooltip) {
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 16;
    l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
  }
  strv_push_take(&l->urls, url);
  l->v[l->n].start = s;
  l->v[l->n].end = e;
  l->v[l->n].target = url;
  l->v[l->n].tooltip = tooltip;
  l->n++;
}

/* The page of image reference ref (n bytes), or NULL. */
static char *links__image_url(const char *ref, size_t n) {
  /* Drop the digest and the tag (a ':' after the last '/'). */
  const char *at = memchr(ref, '@', n);
  if (at)
    n = (size_t)(at - ref);
  const char *slash = NULL;
  for (size_t i = 0; i < n; i++)
    if (ref[i] == '/')
      slash = ref + i;
  const char *colon = memchr(slash ? slash : ref, ':',
                             n - (size_t)((slash ? slash : ref) - ref));
  if (colon)
    n = (size_t)(colon - ref);
  if (n == 0 || (n == 7 && strncmp(ref, "scratch", 7) == 0))
    return NULL;
  for (size_t i = 0; i < n; i++)
    if (isspace((unsigned char)ref[i]) || ref[i] == '"' || ref[i] == '\'')
      return NULL;
  /* The registry: a first component with '.' or ':', or localhost. */
  const char *first_end = memchr(ref, '/', n);
  size_t hl = first_end ? (size_t)(first_end - ref) : 0;
  bool has_host =
      first_end && (memchr(ref, '.', hl) || memchr(ref, ':', hl) ||
                    (hl == 9 && strncmp(ref, "localhost", 9) == 0));
  struct buf b = BUF_INIT;
  const char *path = has_host ? first_end + 1 : ref;
  size_t pl = n - (size_t)(path - ref);
  bool hub = !has_host || (hl == 9 && strncmp(ref, "docker.io", 9) == 0) ||
             (hl == 15 && strncmp(ref, "index.docker.io", 15) == 0) ||
             (hl == 20 && strncmp(ref, "registry-1.docker.io", 20) == 0);
  if (pl == 0)
    return NULL;
  if (hub) {
    if (pl > 8 && strncmp(path, "library/", 8) == 0) {
      path += 8;
      pl -= 8;
    }
    if (memchr(path, '/', pl))
      buf_printf(&b, "https://hub.docker.com/r/%.*s", (int)pl, path);
    else
      buf_printf(&b, "https://hub.docker.com/_/%.*s", (int)pl, path);
  } else if (hl == 7 && strncmp(ref, "quay.io", 7) == 0) {
    buf_printf(&b, "https://quay.io/repository/%.*s", (int)pl, path);
  } else if (hl == 17 && strncmp(ref, "mcr.microsoft.com", 17) == 0) {
    buf_printf(&b, "https://mcr.microsoft.com/en-us/artifact/mar/%.*s",
               (int)pl, path);
  } else if (hl == 14 && strncmp(ref, "public.ecr.aws", 14) == 0) {
    buf_printf(&b, "https://gallery.ecr.aws/%.*s", (int)pl, path);
  } else {
    buf_printf(&b, "https://%.*s/%.*s", (int)hl, ref, (int)pl, path);
  }
  return buf_take(&b);
}

/* Rule ids in [s, e) separated by ',' each get their documentation. */
static void links__ids(struct links_list *l, const char *t, size_t s,
                       size_t e) {
  while (s < e) {
    size_t q = s;
    while (q < e && t[q] != ',' && t[q] != ';')
      q++;
    size_t a = s, z = q;
    while (a < z && isspace((unsigned char)t[a]))
      a++;
    while (z > a && isspace((unsigned char)t[z - 1]))
      z--;
    if (z > a && z - a < 128) {
      char id[128];
      memcpy(id, t + a, z - a);
      id[z - a] = '\0';
      const char *url = analysis_rule_doc_url(id);
      if (url)
        links__add(l, a, z, xstrdup(url), "Rule documentation");
    }
    if (q < e && t[q] == ';')
      return;
    s = q + 1;
  }
}

/* `# check=skip=A,B;error=true` and `# dockwright-ignore=A,B`. */
static void links__comment(struct links_list *l, const char *t, size_t s,
                           size_t e) {
  s++; /* the '#' */
  while (s < e && isblank((unsigned char)t[s]))
    s++;
  size_t w = s;
  while (w < e && (isalnum((unsigned char)t[w]) || t[w] == '-'))
    w++;
  size_t eq = w;
  while (eq < e && isblank((unsigned char)t[eq]))
    eq++;
  if (eq >= e || t[eq] != '=')
    return;
  if (w - s == 17 && strncasecmp(t + s, "dockwright-ignore", 17) == 0) {
    links__ids(l, t, eq + 1, e);
    return;
  }
  if (w - s != 5 || strncasecmp(t + s, "check", 5) != 0)
    return;
  for (size_t p = eq + 1; p < e;) {
    size_t q = p;
    while (q < e && t[q] != ';')
      q++;
    size_t a = p;
    while (a < q && isblank((unsigned char)t[a]))
      a++;
    if (q - a > 5 && strncasecmp(t + a, "skip=", 5) == 0)
      links__ids(l, t, a + 5, q);
    p = q + 1;
  }
}

int links_handle(struct server *self, const struct rpc_msg *msg,
                 struct err *err) {
  const char *uri;
  int rc = proto_read_text_document(msg->params, &uri, NULL, err);
  if (rc)
    return rc;
  const struct dockerfile *df;
  struct doc *d = doc_use(&self->docs, uri, &df);
  if (df == NULL) {
    rpc_reply(&self->rpc, msg->id, NULL);
    return 0;
  }
  struct links_list l;
  memset(&l, 0, sizeof(l));
  strv_init(&l.urls);
  struct nav_index ix;
  nav_index_build(&ix, df, d->text, d->len);
  for (size_t i = 0; i < ix.n; i++) {
    if (ix.v[i].kind != NAV_IMAGE)
      continue;
    char *url =
        links__image_url(d->text + ix.v[i].start, ix.v[i].end - ix.v[i].start);
    if (url)
      links__add(&l, ix.v[i].start, ix.v[i].end, url, "Image page");
  }
  nav_index_cleanup(&ix);
  /* Comment lines (outside instructions: a '#' inside one is text). */
  const char *t = d->text;
  size_t ii = 0;
  for (size_t p = 0; p < d->len;) {
    const char *nl = memchr(t + p, '\n', d->len - p);
    size_t e = nl ? (size_t)(nl - t) : d->len;
    while (ii < df->ninstrs && df->instrs[ii].range.end.byte <= p)
      ii++;
    bool inside = ii < df->ninstrs && df->instrs[ii].range.start.byte <= p;
    size_t s = p;
    while (s < e && isblank((unsigned char)t[s]))
      s++;
    if (!inside && s < e && t[s] == '#')
      links__comment(&l, t, s, e > s && t[e - 1] == '\r' ? e - 1 : e);
    p = e + 1;
  }
  rpc_reply(&self->rpc, msg->id, proto_document_links(self, d, l.v, l.n));
  free(l.v);
  strv_cleanup(&l.urls);
  return 0;
}
