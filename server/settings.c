/*
 * settings.c - the "dockwright" section.  See settings.h and README.md.
 *
 *   {"dockwright": {
 *      "diagnostics": {"enable": true, "debounceMs": 0},
 *      "rules": {"RuleId": "off" | "error" | "warning" | "information" |
 *                          "hint"},
 *      "root": "/path/to/store", "insecureRegistries": ["host:port"]}}
 */
#include "settings.h"

#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "hooks.h"
#include "methods.h"
#include "protocol.h"
#include "server.h"

/* How long diagnostics wait for the client's workspace/configuration
 * answer before going ahead with what they have. */
#define SETTINGS_WAIT_MS 1000

void settings_init(struct settings *s) {
  memset(s, 0, sizeof(*s));
  s->diagnostics_enable = true;
  s->debounce_ms = SETTINGS_DEBOUNCE_DEFAULT_MS;
  analysis_config_init(&s->config);
  format_opts_init(&s->format);
  s->inlay_from = true;
  s->inlay_copy_from = true;
}

void settings_cleanup(struct settings *s) {
  analysis_config_cleanup(&s->config);
  free(s->root);
  s->root = NULL;
  strv_cleanup(&s->insecure);
}

static const struct {
  const char *name;
  enum diag_severity severity;
} settings_severities[] = {
    {"off", DIAG_OFF},      {"none", DIAG_OFF},
    {"error", DIAG_ERROR},  {"warning", DIAG_WARNING},
    {"warn", DIAG_WARNING}, {"information", DIAG_INFO},
    {"info", DIAG_INFO},    {"hint", DIAG_HINT},
};

static int settings__severity(json_object *v, enum diag_severity *out) {
  if (json_object_is_type(v, json_type_int)) {
    int64_t x = json_object_get_int64(v);
    if (x < DIAG_OFF || x > DIAG_HINT)
      return -1;
    *out = (enum diag_severity)x;
    return 0;
  }
  if (!json_object_is_type(v, json_type_string))
    return -1;
  const char *s = json_object_get_string(v);
  for (size_t i = 0;
       i < sizeof(settings_severities) / sizeof(settings_severities[0]); i++)
    if (strcasecmp(s, settings_severities[i].name) == 0) {
      *out = settings_severities[i].severity;
      return 0;
    }
  return -1;
}

/* A boolean member of o, when present and a boolean. */
static void settings__bool(json_object *o, const char *key, const char *where,
                           bool *out) {
  json_object *v = NULL;
  if (!json_object_object_get_ex(o, key, &v))
    return;
  if (json_object_is_type(v, json_type_boolean))
    *out = json_object_get_boolean(v);
  else
    log_warn("settings: dockwright.%s.%s must be a boolean", where, key);
}

/* dockwright.format and dockwright.inlayHints. */
static void settings__intel(struct settings *s, json_object *section) {
  json_object *f = NULL, *v = NULL;
  if (json_object_object_get_ex(section, "format", &f) &&
      json_object_is_type(f, json_type_object)) {
    if (json_object_object_get_ex(f, "indent", &v)) {
      int64_t n = json_object_get_int64(v);
      if (json_object_is_type(v, json_type_int) && n >= 0 &&
          n <= FORMAT_INDENT_MAX)
        s->format.indent = (unsigned)n;
      else
        log_warn("settings: dockwright.format.indent must be an integer "
                 "from 0 to %u",
                 FORMAT_INDENT_MAX);
    }
    settings__bool(f, "operatorNewline", "format",
                   &s->format.operator_newline);
  }
  json_object *h = NULL;
  if (json_object_object_get_ex(section, "inlayHints", &h) &&
      json_object_is_type(h, json_type_object)) {
    settings__bool(h, "fromVariables", "inlayHints", &s->inlay_from);
    settings__bool(h, "copyFrom", "inlayHints", &s->inlay_copy_from);
  }
}

void settings_apply_json(struct settings *s, json_object *section) {
  unsigned generation = s->generation;
  settings_cleanup(s);
  settings_init(s);
  s->generation = generation + 1;
  if (section == NULL)
    return;

  json_object *diag = NULL;
  if (json_object_object_get_ex(section, "diagnostics", &diag) &&
      json_object_is_type(diag, json_type_object)) {
    json_object *v = NULL;
    if (json_object_object_get_ex(diag, "enable", &v)) {
      if (json_object_is_type(v, json_type_boolean))
        s->diagnostics_enable = json_object_get_boolean(v);
      else
        log_warn("settings: dockwright.diagnostics.enable must be a "
                 "boolean");
    }
    if (json_object_object_get_ex(diag, "debounceMs", &v)) {
      int64_t ms = json_object_get_int64(v);
      if (json_object_is_type(v, json_type_int) && ms >= 0)
        s->debounce_ms = ms > SETTINGS_DEBOUNCE_MAX_MS
                             ? SETTINGS_DEBOUNCE_MAX_MS
                             : (unsigned)ms;
      else
        log_warn("settings: dockwright.diagnostics.debounceMs must be a "
                 "non-negative integer");
    }
  }

  /* Building from the editor (docs/editor-protocol.md). */
  json_object *val = NULL;
  if (json_object_object_get_ex(section, "root", &val)) {
    if (json_object_is_type(val, json_type_string) &&
        json_object_get_string_len(val) > 0)
      s->root = xstrdup(json_object_get_string(val));
    else if (!json_object_is_type(val, json_type_null))
      log_warn("settings: dockwright.root must be a directory path");
  }
  if (json_object_object_get_ex(section, "insecureRegistries", &val)) {
    size_t n = json_object_is_type(val, json_type_array)
                   ? json_object_array_length(val)
                   : 0;
    if (!json_object_is_type(val, json_type_array))
      log_warn("settings: dockwright.insecureRegistries must be an array");
    for (size_t i = 0; i < n; i++) {
      json_object *h = json_object_array_get_idx(val, i);
      if (json_object_is_type(h, json_type_string))
        strv_push(&s->insecure, json_object_get_string(h));
      else
        log_warn("settings: dockwright.insecureRegistries[%zu] must be a "
                 "string",
                 i);
    }
  }

  settings__intel(s, section);

  json_object *rules = NULL;
  if (json_object_object_get_ex(section, "rules", &rules)) {
    if (!json_object_is_type(rules, json_type_object)) {
      log_warn("settings: dockwright.rules must be an object");
      return;
    }
    json_object_object_foreach(rules, id, v) {
      enum diag_severity sev;
      if (settings__severity(v, &sev) < 0) {
        log_warn("settings: rule %s: severity must be off, error, warning, "
                 "information or hint",
                 id);
        continue;
      }
      struct err err;
      err_clear(&err);
      if (analysis_config_set(&s->config, id, sev, &err) < 0)
        log_warn("settings: %s", err.msg);
    }
  }
}

static void settings__on_configuration(void *data, json_object *result,
                                       json_object *error) {
  struct server *self = data;
  self->config_pending = false;
  if (self->exiting)
    return;
  if (error != NULL) {
    log_warn("workspace/configuration failed: %s",
             json_object_to_json_string(error));
  } else {
    json_object *section = proto_settings_section(result);
    /* A client with nothing configured answers [null]: keep the
     * initializationOptions. */
    if (section != NULL)
      settings_apply_json(&self->settings, section);
  }
  server_settings_changed(self);
}

void settings_request(struct server *self) {
  if (!self->caps.configuration || self->exiting)
    return;
  self->config_pending = true;
  self->config_asked_at = uv_now(self->loop);
  rpc_request(&self->rpc, "workspace/configuration",
              proto_configuration_params(), settings__on_configuration, self);
}

bool settings_wait(struct server *self, uint64_t *until) {
  if (!self->config_pending)
    return false;
  *until = self->config_asked_at + SETTINGS_WAIT_MS;
  return uv_now(self->loop) < *until;
}

int settings_did_change(struct server *self, const struct rpc_msg *msg,
                        struct err *err) {
  /* With workspace/configuration the notification is only a signal (VS
   * Code sends settings: null); ask for the section itself. */
  if (self->caps.configuration) {
    settings_request(self);
    return 0;
  }
  json_object *settings = NULL;
  if (json_object_is_type(msg->params, json_type_object))
    json_object_object_get_ex(msg->params, "settings", &settings);
  json_object *section = proto_settings_section(settings);
  if (section == NULL) {
    log_info("didChangeConfiguration without a dockwright section; "
             "settings unchanged");
    return 0;
  }
  settings_apply_json(&self->settings, section);
  server_settings_changed(self);
  return 0;
}
