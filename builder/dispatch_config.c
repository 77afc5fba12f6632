/*
 * dispatch_config.c - the instructions that change the image config (and
 * WORKDIR, which may also make a directory): WORKDIR, ENV, LABEL, ARG,
 * CMD/ENTRYPOINT/SHELL forms, HEALTHCHECK, EXPOSE and VOLUME.  The step
 * loop in dispatch.c calls them.
 */
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "../common/buf.h"
#include "../model/dockerfile.h"
#include "../model/expand.h"
#include "../model/refuse.h"
#include "layer.h"
#include "dispatch_int.h"

int d_workdir(struct dctx *d, struct stage *s, const struct df_instr *in,
              struct err *err) {
  if (in->nargs < 1)
    return err_set(err, ERR_SYNTAX, "WORKDIR requires exactly one argument");
  char *v = NULL;
  int rc = d_expand(d, s, in->args[0].value, in->args[0].len, &v, err);
  if (rc < 0)
    return rc;
  struct buf full = BUF_INIT;
  if (v[0] != '/') {
    const char *wd = json_object_get_string(
        json_object_object_get(d_cfg_config(s->cfg), "WorkingDir"));
    buf_printf(&full, "%s/", wd && *wd ? wd : "");
  }
  buf_puts(&full, v);
  free(v);
  char *clean = NULL;
  (void)layer_clean_path(full.data, &clean);
  buf_cleanup(&full);
  struct buf abs = BUF_INIT;
  buf_printf(&abs, "/%s", clean);
  json_object_object_add(d_cfg_config(s->cfg), "WorkingDir",
                         json_object_new_string(abs.data));
  /* Create the directory when it is missing (a layer), as BuildKit does. */
  struct layer_view view;
  struct layer_found lf = {0};
  rc = d_stage_view(d, s, &view, err);
  if (rc == 0)
    rc = layer_view_resolve(&view, clean, true, &lf, err);
  /* Every directory it creates belongs to the current user
   * (dockerfile2llb/convert.go dispatchWorkdir: llb.Mkdir(wd, 0755,
   * WithParents(true), WithUser(config.User))), resolved as --chown is. */
  const char *user = json_object_get_string(
      json_object_object_get(d_cfg_config(s->cfg), "User"));
  struct copyop op;
  memset(&op, 0, sizeof(op));
  if (rc == 0 && !lf.exists && user && *user) {
    op.chown = true;
    rc = d_chown(d, s, user, &op.uid, &op.gid, err);
    if (rc == 0)
      rc = d_stage_view(d, s, &view, err); /* (d_chown may renew it) */
  }
  if (rc == 0 && !lf.exists) {
    op.d = d;
    op.s = s;
    op.dst = view;
    op.now = d->have_epoch ? d->epoch : (int64_t)time(NULL);
    d_copyop_parents(&op, lf.rel, true);
    struct buf by = BUF_INIT;
    buf_printf(&by, "WORKDIR %s", abs.data);
    rc = d_commit_layer(d, s, &op.list, by.data, err);
    buf_cleanup(&by);
    d_copyop_cleanup(&op);
  } else if (rc == 0) {
    struct buf by = BUF_INIT;
    buf_printf(&by, "WORKDIR %s", abs.data);
    d_cfg_history(d, s->cfg, by.data, true);
    buf_cleanup(&by);
  }
  layer_found_cleanup(&lf);
  free(clean);
  buf_cleanup(&abs);
  return rc;
}

/* ENV / LABEL: key, value, separator triples.  Every word is expanded
 * against the environment before the line, then the pairs are set:
 * `ENV A=2 B=${A}` gives B the old A (dockerfile2llb/convert.go dispatch:
 * the SupportsSingleWordExpansion words are expanded with
 * getEnv(d.state) before dispatchEnv/dispatchLabel change anything). */
int d_keyval(struct dctx *d, struct stage *s, const struct df_instr *in,
             bool label, struct err *err) {
  if (in->nargs == 0 || in->nargs % 3 != 0)
    return err_set(err, ERR_SYNTAX, "%s requires at least one argument",
                   label ? "LABEL" : "ENV");
  int rc = 0;
  size_t npairs = in->nargs / 3;
  char **kv = xcalloc(2 * npairs, sizeof(char *));
  for (size_t i = 0; rc == 0 && i < npairs; i++) {
    const struct df_arg *k = &in->args[3 * i], *v = &in->args[3 * i + 1];
    rc = d_expand(d, s, k->value, k->len, &kv[2 * i], err);
    if (rc == 0)
      rc = d_expand(d, s, v->value, v->len, &kv[2 * i + 1], err);
  }
  struct buf by = BUF_INIT;
  buf_puts(&by, label ? "LABEL" : "ENV");
  for (size_t i = 0; rc == 0 && i < npairs; i++) {
    const char *k = kv[2 * i], *v = kv[2 * i + 1];
    if (label) {
      json_object *c = d_cfg_config(s->cfg), *labels;
      if (!json_object_object_get_ex(c, "Labels", &labels) ||
          !json_object_is_type(labels, json_type_object)) {
        labels = json_object_new_object();
        json_object_object_add(c, "Labels", labels);
      }
      json_object_object_add(labels, k, json_object_new_string(v));
    } else {
      d_cfg_set_env(s->cfg, k, v);
    }
    buf_printf(&by, " %s=%s", k, v);
  }
  for (size_t i = 0; i < 2 * npairs; i++)
    free(kv[i]);
  free(kv);
  if (rc == 0)
    d_cfg_history(d, s->cfg, by.data, true);
  buf_cleanup(&by);
  return rc;
}

/* ARG name[=default]: in scope from here on. */
int d_arg(struct dctx *d, struct stage *s, const struct df_instr *in,
          struct strv *scope, struct err *err) {
  for (size_t i = 0; i < in->nargs; i++) {
    const char *a = in->args[i].value;
    const char *eq = strchr(a, '=');
    char *name = eq ? xstrndup(a, (size_t)(eq - a)) : xstrdup(a);
    char *val = NULL;
    const char *bv = d_kv_get(&d->build_args, name, strlen(name));
    if (bv) {
      val = xstrdup(bv);
    } else if (eq) {
      int rc = d_expand(d, s, eq + 1, strlen(eq + 1), &val, err);
      if (rc < 0) {
        free(name);
        return rc;
      }
    } else if (s) {
      const char *mv = d_kv_get(&d->meta, name, strlen(name));
      if (mv)
        val = xstrdup(mv);
    }
    if (val)
      d_kv_set(scope, name, val);
    free(name);
    free(val);
  }
  if (s)
    d_cfg_history(d, s->cfg, in->original, true);
  return 0;
}

/* CMD / ENTRYPOINT / SHELL: exec form as is, shell form wrapped. */
json_object *d_command(struct stage *s, const struct df_instr *in) {
  if (in->form == DF_FORM_JSON) {
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < in->nargs; i++)
      json_object_array_add(arr, json_object_new_string_len(
                                     in->args[i].value, (int)in->args[i].len));
    return arr;
  }
  json_object *arr = json_object_new_array();
  json_object *sh;
  if (json_object_object_get_ex(d_cfg_config(s->cfg), "Shell", &sh) &&
      json_object_is_type(sh, json_type_array) &&
      json_object_array_length(sh) > 0) {
    for (size_t i = 0; i < json_object_array_length(sh); i++)
      json_object_array_add(arr,
                            json_object_get(json_object_array_get_idx(sh, i)));
  } else {
    json_object_array_add(arr, json_object_new_string("/bin/sh"));
    json_object_array_add(arr, json_object_new_string("-c"));
  }
  if (in->nargs)
    json_object_array_add(arr, json_object_new_string(in->args[0].value));
  return arr;
}

int d_healthcheck(struct stage *s, const struct df_instr *in,
                  struct err *err) {
  json_object *c = d_cfg_config(s->cfg);
  json_object *hc = json_object_new_object();
  json_object *test = json_object_new_array();
  if (in->nargs >= 1 && strcasecmp(in->args[0].value, "NONE") == 0) {
    json_object_array_add(test, json_object_new_string("NONE"));
  } else if (in->nargs >= 2) {
    /* exec form: more than one value after CMD, or text that was JSON */
    const char *o = strstr(in->original, in->args[0].value);
    const char *after = o ? o + strlen(in->args[0].value) : "";
    while (*after == ' ' || *after == '\t')
      after++;
    bool json = *after == '[';
    if (json) {
      json_object_array_add(test, json_object_new_string("CMD"));
      for (size_t i = 1; i < in->nargs; i++)
        json_object_array_add(test, json_object_new_string(in->args[i].value));
    } else {
      json_object_array_add(test, json_object_new_string("CMD-SHELL"));
      json_object_array_add(test, json_object_new_string(in->args[1].value));
    }
  } else {
    json_object_put(test);
    json_object_put(hc);
    return err_set(err, ERR_SYNTAX, "HEALTHCHECK requires CMD or NONE");
  }
  json_object_object_add(hc, "Test", test);
  static const char *const durs[][2] = {{"interval", "Interval"},
                                        {"timeout", "Timeout"},
                                        {"start-period", "StartPeriod"},
                                        {"start-interval", "StartInterval"}};
  for (size_t i = 0; i < 4; i++) {
    const char *v = df_instr_flag(in, durs[i][0]);
    if (v == NULL)
      continue;
    int64_t ns = 0;
    struct buf m = BUF_INIT;
    if (refuse_duration(durs[i][0], v, &ns, &m)) {
      json_object_put(hc);
      int rc = err_set(err, ERR_SYNTAX, "%s", m.data);
      buf_cleanup(&m);
      return rc;
    }
    if (ns)
      json_object_object_add(hc, durs[i][1], json_object_new_int64(ns));
  }
  const char *r = df_instr_flag(in, "retries");
  if (r) {
    int64_t n = 0;
    struct buf m = BUF_INIT;
    if (refuse_retries(r, &n, &m)) {
      json_object_put(hc);
      int rc = err_set(err, ERR_SYNTAX, "%s", m.data);
      buf_cleanup(&m);
      return rc;
    }
    if (n)
      json_object_object_add(hc, "Retries", json_object_new_int64((int64_t)n));
  }
  json_object_object_add(c, "Healthcheck", hc);
  return 0;
}

int d_map_words(struct dctx *d, struct stage *s, const struct df_instr *in,
                const char *key, bool ports, struct err *err) {
  json_object *c = d_cfg_config(s->cfg), *m;
  if (!json_object_object_get_ex(c, key, &m) ||
      !json_object_is_type(m, json_type_object)) {
    m = json_object_new_object();
    json_object_object_add(c, key, m);
  }
  /* EXPOSE splits what it expands into words (dispatchExpose:
   * shlex.ProcessWords, so PORTS="80 443/udp" is two ports); VOLUME
   * expands each argument as one word. */
  struct strv vals = STRV_INIT;
  for (size_t i = 0; i < in->nargs; i++) {
    char *v = NULL;
    int rc = ports
                 ? d_expand_words(d, s, in->args[i].value, in->args[i].len,
                                  &vals, err)
                 : d_expand(d, s, in->args[i].value, in->args[i].len, &v, err);
    if (rc < 0) {
      strv_cleanup(&vals);
      return rc;
    }
    if (v)
      strv_push_take(&vals, v);
  }
  for (size_t i = 0; i < vals.n; i++) {
    char *v = vals.v[i];
    if (v[0] == '\0') {
      if (!ports) {
        strv_cleanup(&vals);
        return err_set(err, ERR_SYNTAX,
                       "VOLUME specified can not be an empty string");
      }
      continue;
    }
    struct buf k = BUF_INIT;
    buf_puts(&k, v);
    if (ports) {
      /* 80 -> 80/tcp; 8000-8002 -> one per port; what is refused, in the
       * analysis's words too (model/refuse.h) */
      struct buf pm = BUF_INIT;
      if (refuse_port(v, &pm)) {
        buf_cleanup(&k);
        int rc2 = err_set(err, ERR_SYNTAX, "%s", pm.data);
        buf_cleanup(&pm);
        strv_cleanup(&vals);
        return rc2;
      }
      /* ip:hostPort:port publishes nothing more than port */
      if (strrchr(v, ':'))
        v = strrchr(v, ':') + 1;
      char *slash = strchr(v, '/');
      const char *proto = slash ? slash + 1 : "tcp";
      if (slash)
        *slash = '\0';
      char *dash = strchr(v, '-');
      unsigned long lo, hi;
      char *p1 = dash ? xstrndup(v, (size_t)(dash - v)) : xstrdup(v);
      bool okp = d_numeric(p1, &lo) && lo <= 65535;
      hi = lo;
      if (okp && dash)
        okp = d_numeric(dash + 1, &hi) && hi >= lo && hi <= 65535;
      free(p1);
      if (!okp) {
        buf_cleanup(&k);
        int rc2 = err_set(err, ERR_SYNTAX, "invalid containerPort: %s", v);
        strv_cleanup(&vals);
        return rc2;
      }
      for (unsigned long pnum = lo; pnum <= hi; pnum++) {
        buf_reset(&k);
        buf_printf(&k, "%lu/%s", pnum, proto);
        for (char *q = k.data; *q; q++)
          *q = (char)tolower((unsigned char)*q);
        json_object_object_add(m, k.data, json_object_new_object());
      }
    } else {
      json_object_object_add(m, k.data, json_object_new_object());
    }
    buf_cleanup(&k);
  }
  strv_cleanup(&vals);
  d_cfg_history(d, s->cfg, in->original, true);
  return 0;
}
