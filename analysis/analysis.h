/*
 * analysis.h - the diagnostics engine: a Dockerfile's text, tree and model
 * in, diagnostics out.  Boundary header of analysis/; used by the language
 * server (server/) and by `dockwright lint` (cli/cmd_lint.c).
 *
 * DESIGN
 * One rule table (RULE_MAP in rules.h) lists every rule: id, default
 * severity, what it finds.  Each check lives in a check_<family>.c file and
 * appends `struct diag` values to a list; analysis_run runs them all, then
 * applies the configuration (severity overrides, rules turned off,
 * `# check=skip=...;error=true`, `# dockwright-ignore=ID` comments).
 *
 * Analysis never fails and does no IO: what it needs from disk (the
 * .dockerignore) the caller reads and passes in.
 *
 * Positions are the model's (struct df_range: 0-based row, byte column,
 * byte offset); the server converts them to the client's encoding.
 *
 * Ownership: a diag_list owns every diag and every string in it.
 */
#ifndef DW_ANALYSIS_H
#define DW_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>

#include "../model/dockerfile.h"

struct TSTree;

/* LSP's numbering, so the server passes them through. */
enum diag_severity {
  DIAG_OFF = 0, /* only in configuration: the rule is turned off */
  DIAG_ERROR = 1,
  DIAG_WARNING = 2,
  DIAG_INFO = 3,
  DIAG_HINT = 4,
};

enum diag_tag {
  DIAG_TAG_UNNECESSARY = 1u << 0,
  DIAG_TAG_DEPRECATED = 1u << 1,
};

struct diag_related {
  struct df_range range;
  char *message; /* owned */
};

/* A machine-applicable fix: replace `range` with `new_text`. */
struct diag_fix {
  char *title; /* owned; e.g. "Change 'as' to 'AS'" */
  struct df_range range;
  char *new_text; /* owned */
};

struct diag {
  const char *rule; /* static: the rule id from RULE_MAP */
  enum diag_severity severity;
  struct df_range range;
  char *message;                /* owned */
  unsigned tags;                /* enum diag_tag bits */
  struct diag_related *related; /* owned array */
  size_t nrelated;
  struct diag_fix *fixes; /* owned array; sent as the diagnostic's data */
  size_t nfixes;
};

struct diag_list {
  struct diag *v; /* owned array, in source order after analysis_run */
  size_t n;
  size_t cap;
};

void diag_list_init(struct diag_list *l);
void diag_list_cleanup(struct diag_list *l);

/* One configured rule: a severity, or DIAG_OFF. */
struct analysis_rule_setting {
  char *rule; /* owned */
  enum diag_severity severity;
};

struct analysis_config {
  struct analysis_rule_setting *rules; /* owned array */
  size_t nrules;
};

void analysis_config_init(struct analysis_config *c);
void analysis_config_cleanup(struct analysis_config *c);
/* Sets (or replaces) one rule's severity.  Returns -1 when `rule` names no
 * rule in RULE_MAP (err says which), 0 otherwise. */
int analysis_config_set(struct analysis_config *c, const char *rule,
                        enum diag_severity severity, struct err *err);

struct analysis_input {
  const char *text; /* borrowed */
  size_t len;
  const struct TSTree *tree;   /* borrowed; our grammar's tree of text */
  const struct dockerfile *df; /* borrowed; dockerfile_parse(text, tree) */
  const char *dockerignore;    /* borrowed; NULL when there is none */
  size_t dockerignore_len;
  const struct analysis_config *config; /* borrowed; NULL for defaults */
};

/* Runs every rule; appends the diagnostics, sorted by position, to *out.
 * Then, in this order: `# check=skip=...;error=true` drops or raises the
 * BuildKit build checks (analysis_rule.buildkit_check); the config sets a
 * rule's severity or turns it off (it wins over the directive);
 * `# dockwright-ignore=ID[,ID]` (or no "=": every rule) on the comment
 * lines right above an instruction drops those rules' diagnostics that
 * start inside it.  Without a tree (in->tree NULL) SyntaxError is not
 * checked; everything else works from the model. */
void analysis_run(const struct analysis_input *in, struct diag_list *out);

/* One row of the rule table (analysis/rules.h RULE_MAP), for listings:
 * SARIF rule descriptors, `dockwright lint --help`, the server. */
struct analysis_rule {
  const char *id;              /* "StageNameCasing" */
  const char *summary;         /* one line */
  const char *doc_url;         /* analysis_rule_doc_url(id) */
  enum diag_severity severity; /* the default */
  bool buildkit_check; /* a BuildKit build check: `# check=` governs it */
};

/* Every rule in table order: a static array; *n receives its length. */
const struct analysis_rule *analysis_rules(size_t *n);

/* Documentation link of a rule (docs/diagnostics.md#<anchor>): a static
 * string, or NULL for an unknown rule. */
const char *analysis_rule_doc_url(const char *rule);

#endif
