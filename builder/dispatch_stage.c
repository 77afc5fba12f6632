/*
 * dispatch_stage.c - a stage's state: its layers, its files seen through
 * the merged view of its extracted layers (d_stage_view), base images
 * loaded from the store or a registry, and what is read from its files
 * (users and groups for --chown and WORKDIR).
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/buf.h"
#include "cache.h"
#include "layer.h"
#include "userdb.h"
#include "dispatch_int.h"

/* --- stages and layers ------------------------------------------------ */

void d_stage_cleanup(struct dctx *d, struct stage *s) {
  json_object_put(s->cfg);
  for (size_t i = 0; i < s->nlayers; i++)
    free(s->layers[i].media_type);
  free(s->layers);
  for (size_t i = 0; i < s->nlowers; i++)
    free(s->lowers[i]);
  free(s->lowers);
  strv_cleanup(&s->args);
  memset(s, 0, sizeof(*s));
}

void d_stage_add_layer(struct stage *s, const struct lref *l) {
  s->layers = xrealloc(s->layers, (s->nlayers + 1) * sizeof(*s->layers));
  s->layers[s->nlayers] = *l;
  s->layers[s->nlayers].media_type = xstrdup(l->media_type);
  s->nlayers++;
  json_object *rootfs, *ids;
  if (json_object_object_get_ex(s->cfg, "rootfs", &rootfs) &&
      json_object_object_get_ex(rootfs, "diff_ids", &ids))
    json_object_array_add(ids, json_object_new_string(l->diffid));
}

/* The stage's filesystem as a merged view of its extracted layers (kept
 * per store, shared with RUN's overlay): looking at a destination or
 * /etc/passwd then costs a few lstat calls per layer, where applying
 * every layer to one directory costs the whole image.  v borrows
 * s->lowers until the stage changes. */
int d_stage_view(struct dctx *d, struct stage *s, struct layer_view *v,
                 struct err *err) {
  /* A cache hit replaces the layer list; keep only the prefix that
   * still matches (lowers are named by their layer's digest). */
  size_t keep = 0;
  while (keep < s->nlowers && keep < s->nlayers) {
    const char *hex = digest_hex(s->layers[keep].digest);
    size_t ll = strlen(s->lowers[keep]), hl = strlen(hex);
    if (ll < hl || strcmp(s->lowers[keep] + ll - hl, hex) != 0)
      break;
    keep++;
  }
  while (s->nlowers > keep)
    free(s->lowers[--s->nlowers]);
  if (s->nlowers < s->nlayers)
    s->lowers = xrealloc(s->lowers, s->nlayers * sizeof(*s->lowers));
  for (; s->nlowers < s->nlayers; s->nlowers++) {
    int rc = cache_lower_dir(d->store, s->layers[s->nlowers].digest, d->cancel,
                             &s->lowers[s->nlowers], err);
    if (rc < 0)
      return rc;
  }
  v->dirs = (const char *const *)s->lowers;
  v->n = s->nlowers;
  return 0;
}

/* The manifest and config the store has for tag `full` on platform p. */
static int d_load_stored(struct dctx *d, const char *full,
                         const struct image_platform *p,
                         struct image_manifest *m, json_object **cfg,
                         char **mdigest, struct err *err) {
  struct store_tag tag;
  int rc = store_tag_get(d->store, full, &tag, err);
  if (rc == 0) {
    rc = image_load(d->store, tag.digest, tag.media_type, p, m, cfg, mdigest,
                    err);
    store_tag_cleanup(&tag);
  }
  return rc;
}

/* Loads an image (pulling it when the store lacks it) as a stage state. */
int d_load_image(struct dctx *d, const char *name,
                 const struct image_platform *p, struct stage *s,
                 struct err *err) {
  struct ref r;
  int rc = ref_parse(name, &r, err);
  if (rc < 0)
    return rc;
  char *full = ref_string(&r);
  struct image_manifest m;
  json_object *cfg = NULL;
  char *mdigest = NULL;
  rc = d_load_stored(d, full, p, &m, &cfg, &mdigest, err);
  /* Not in the store, or an index pulled before for another platform
   * (only that platform's manifest came with it): pull. */
  if (rc == ERR_NOTFOUND) {
    err_clear(err);
    d_log(d, "pulling %s", full);
    struct registry_pulled pulled;
    rc = registry_pull(d->reg, &r, p, &pulled, err);
    if (rc == 0) {
      rc = store_tag_set(d->store, full, pulled.digest, pulled.media_type,
                         pulled.size, err);
      free(pulled.media_type);
    }
    if (rc == 0)
      rc = d_load_stored(d, full, p, &m, &cfg, &mdigest, err);
  }
  ref_cleanup(&r);
  if (rc == 0) {
    char k[DIGEST_STR_LEN];
    struct buf kb = BUF_INIT;
    buf_printf(&kb, "image\n%s", mdigest ? mdigest : full);
    digest_buf(kb.data, kb.len, k);
    buf_cleanup(&kb);
    memcpy(s->key, digest_hex(k), DIGEST_HEX_LEN + 1);
  }
  if (rc < 0) {
    free(full);
    return rc;
  }
  json_object *rootfs, *ids;
  if (!json_object_object_get_ex(cfg, "rootfs", &rootfs) ||
      !json_object_object_get_ex(rootfs, "diff_ids", &ids) ||
      !json_object_is_type(ids, json_type_array) ||
      json_object_array_length(ids) != m.nlayers) {
    rc = err_set(err, ERR_SYNTAX,
                 "image %s: config diff_ids do not match "
                 "its %zu layers",
                 full, m.nlayers);
  }
  for (size_t i = 0; rc == 0 && i < m.nlayers; i++) {
    const char *id = json_object_get_string(json_object_array_get_idx(ids, i));
    if (!digest_valid(id)) {
      rc = err_set(err, ERR_SYNTAX, "image %s: bad diff_id", full);
      break;
    }
    if (!store_blob_exists(d->store, m.layers[i].digest)) {
      rc = err_set(err, ERR_NOTFOUND,
                   "image %s: layer %s is missing from "
                   "the store (run dockwright pull again)",
                   full, m.layers[i].digest);
      break;
    }
  }
  if (rc == 0) {
    /* diff_ids are re-added by d_stage_add_layer. */
    ids = json_object_get(ids);
    json_object_object_add(rootfs, "diff_ids", json_object_new_array());
    s->cfg = cfg;
    cfg = NULL;
    for (size_t i = 0; i < m.nlayers; i++) {
      struct lref l;
      memset(&l, 0, sizeof(l));
      snprintf(l.digest, sizeof(l.digest), "%s", m.layers[i].digest);
      snprintf(l.diffid, sizeof(l.diffid), "%s",
               json_object_get_string(json_object_array_get_idx(ids, i)));
      l.size = (uint64_t)m.layers[i].size;
      l.media_type = m.layers[i].media_type;
      d_stage_add_layer(s, &l);
    }
    json_object_put(ids);
  }
  json_object_put(cfg);
  image_manifest_cleanup(&m);
  free(mdigest);
  free(full);
  return rc;
}

/* --- users ------------------------------------------------------------ */

bool d_numeric(const char *s, unsigned long *out) {
  if (*s == '\0')
    return false;
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (*end || errno || v > 0xfffffffful)
    return false;
  *out = v;
  return true;
}

/* The host path of the stage's file rel ("etc/passwd"), or NULL when the
 * stage has no such regular file. */
static int d_stage_file(struct dctx *d, struct stage *s, const char *rel,
                        char **host, struct err *err) {
  *host = NULL;
  struct layer_view v;
  int rc = d_stage_view(d, s, &v, err);
  if (rc < 0)
    return rc;
  struct layer_found lf;
  rc = layer_view_resolve(&v, rel, true, &lf, err);
  if (rc < 0)
    return rc;
  if (lf.exists && S_ISREG(lf.st.st_mode)) {
    *host = lf.host;
    lf.host = NULL;
  }
  layer_found_cleanup(&lf);
  return 0;
}

/* "user[:group]" to ids, BuildKit's rules (userdb_chown), names looked up
 * in the stage's own /etc/passwd and /etc/group. */
int d_chown(struct dctx *d, struct stage *s, const char *spec, uid_t *uid,
            gid_t *gid, struct err *err) {
  char *passwd = NULL, *group = NULL;
  int rc = d_stage_file(d, s, "etc/passwd", &passwd, err);
  if (rc == 0)
    rc = d_stage_file(d, s, "etc/group", &group, err);
  if (rc == 0)
    rc = userdb_chown(passwd, group, spec, uid, gid, err);
  free(passwd);
  free(group);
  return rc;
}

int d_stage_index(struct dctx *d, const char *name) {
  for (size_t i = 0; i < d->df->nstages; i++)
    if (d->df->stages[i].name && strcasecmp(d->df->stages[i].name, name) == 0)
      return (int)i;
  unsigned long v;
  if (d_numeric(name, &v) && v < d->df->nstages)
    return (int)v;
  return -1;
}

void d_strip_tabs(struct buf *out, const char *s, size_t n) {
  bool bol = true;
  for (size_t i = 0; i < n; i++) {
    if (bol && s[i] == '\t')
      continue;
    bol = s[i] == '\n';
    buf_putc(out, s[i]);
  }
}
