/*
 * settings.h - the "dockwright" settings section: where it comes from
 * (initializationOptions, workspace/didChangeConfiguration, and the
 * workspace/configuration request when the client supports it) and what
 * it holds.  The section's shape is documented in README.md, "Language
 * server settings".
 *
 * Every source delivers the whole section, so applying one replaces the
 * previous settings (keys that are absent take their defaults).
 */
#ifndef DW_SETTINGS_H
#define DW_SETTINGS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "../analysis/analysis.h"
#include "../analysis/format.h"
#include "../common/buf.h"
#include "../common/err.h"

#define SETTINGS_DEBOUNCE_DEFAULT_MS 0u
#define SETTINGS_DEBOUNCE_MAX_MS 10000u

struct settings {
  bool diagnostics_enable;
  unsigned debounce_ms;          /* throttle window for analyses of edits */
  struct analysis_config config; /* owned; per-rule severities */
  char *root;                    /* owned; the image store, or NULL */
  struct strv insecure;          /* registries allowed over http */
  unsigned generation;           /* bumped on every change */
  /* Language intelligence II (README.md, "Language server settings"). */
  struct format_opts format; /* dockwright.format.* */
  bool inlay_from;           /* dockwright.inlayHints.fromVariables */
  bool inlay_copy_from;      /* dockwright.inlayHints.copyFrom */
};

struct server;

void settings_init(struct settings *s);
void settings_cleanup(struct settings *s);

/* Replaces *s with the section's values (NULL: all defaults).  Problems
 * (an unknown rule, a wrong type) are logged and that key skipped: one bad
 * key must not lose the others. */
void settings_apply_json(struct settings *s, json_object *section);

/* After initialized: asks the client for the section when it supports
 * workspace/configuration. */
void settings_request(struct server *self);

/* True while diagnostics should wait for the configuration answer (at most
 * a second); *until is when to look again. */
bool settings_wait(struct server *self, uint64_t *until);

#endif
