/*
 * cmd_lint.c - `dockwright lint`: diagnostics for Dockerfiles in CI, as
 * text (FILE:LINE:COL: severity: message [ID]), JSON or SARIF 2.1.0.
 *
 * Exit status: 1 when a diagnostic meets the severity threshold (default:
 * error), 0 otherwise, 2 on usage, configuration or I/O errors.
 * The analysis itself does no IO: this file reads the Dockerfiles, the
 * .dockerignore next to each and the --config file.
 */
#include <getopt.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tree_sitter/api.h>
#include <unistd.h>

#include "../analysis/analysis.h"
#include "../common/buf.h"
#include "../model/dockerfile.h"
#include "cli.h"
#include "tree-sitter-dockerfile.h"
#include "dw_config.h"

enum lint_format { LINT_TEXT, LINT_JSON, LINT_SARIF };

struct lint_opts {
  enum lint_format format;
  enum diag_severity threshold;
  struct analysis_config config;
};

/* One linted file, kept until the output is written. */
struct lint_file {
  const char *name; /* borrowed from argv, or "<stdin>" */
  struct diag_list diags;
};

static void lint_usage(FILE *out) {
  fprintf(out,
          "Usage: dockwright lint [options] FILE...|-\n\n"
          "Checks Dockerfiles: syntax, what BuildKit refuses, BuildKit's "
          "build checks,\nand best practices.\n\n"
          "Options:\n"
          "  --format text|json|sarif       output format (default: text)\n"
          "  --severity-threshold error|warning|info\n"
          "                                 exit 1 when a diagnostic is at "
          "least this\n"
          "                                 severe (default: error)\n"
          "  --config FILE                  JSON: {\"rules\": {\"RuleId\": "
          "\"off\"|\"error\"|\n"
          "                                 \"warning\"|\"info\"|\"hint\"}}\n"
          "  --list-rules                   print every rule with its "
          "default severity\n"
          "  -h, --help                     this text\n\n"
          "Text output: FILE:LINE:COL: severity: message [RuleId]\n"
          "A .dockerignore next to the Dockerfile (or FILE.dockerignore, "
          "which wins)\nis read for the CopyIgnoredFile rule.\n"
          "In a Dockerfile, '# dockwright-ignore=Rule1,Rule2' on the line "
          "above an\ninstruction silences those rules there; BuildKit's "
          "'# check=skip=...;error=true'\ndirective governs BuildKit's own "
          "checks.\n\n"
          "Exit status: 1 when a diagnostic meets the threshold, 0 "
          "otherwise,\n2 on usage, configuration or I/O errors.\n");
}

static const char *lint_severity_name(enum diag_severity s) {
  switch (s) {
  case DIAG_ERROR:
    return "error";
  case DIAG_WARNING:
    return "warning";
  case DIAG_INFO:
    return "info";
  case DIAG_HINT:
    return "hint";
  case DIAG_OFF:
    break;
  }
  return "off";
}

static bool lint_parse_severity(const char *s, enum diag_severity *out) {
  static const struct {
    const char *name;
    enum diag_severity sev;
  } names[] = {{"off", DIAG_OFF},
               {"error", DIAG_ERROR},
               {"warning", DIAG_WARNING},
               {"info", DIAG_INFO},
               {"hint", DIAG_HINT}};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    if (strcmp(s, names[i].name) == 0) {
      *out = names[i].sev;
      return true;
    }
  }
  return false;
}

static void lint_list_rules(void) {
  size_t n;
  const struct analysis_rule *rules = analysis_rules(&n);
  for (size_t i = 0; i < n; i++)
    printf("%-32s %-8s %s%s\n", rules[i].id,
           lint_severity_name(rules[i].severity), rules[i].summary,
           rules[i].buildkit_check ? " (BuildKit check)" : "");
}

/* Reads --config FILE into opts->config.  Returns 0, or -1 after printing
 * what is wrong. */
static int lint_read_config(const char *path, struct lint_opts *opts) {
  char *text;
  size_t len;
  struct err e;
  err_clear(&e);
  if (cli_read_file(path, &text, &len, &e) < 0) {
    cli_error("lint: %s", e.msg);
    return -1;
  }
  struct json_tokener *tok = json_tokener_new();
  json_object *root = json_tokener_parse_ex(tok, text, (int)len);
  enum json_tokener_error jerr = json_tokener_get_error(tok);
  json_tokener_free(tok);
  free(text);
  if (root == NULL || jerr != json_tokener_success) {
    cli_error("lint: %s: not valid JSON (%s)", path,
              json_tokener_error_desc(jerr));
    json_object_put(root);
    return -1;
  }
  int rc = 0;
  json_object *rules;
  if (!json_object_is_type(root, json_type_object)) {
    cli_error("lint: %s: expected a JSON object with \"rules\"", path);
    rc = -1;
  } else if (json_object_object_get_ex(root, "rules", &rules)) {
    if (!json_object_is_type(rules, json_type_object)) {
      cli_error("lint: %s: \"rules\" must be an object", path);
      rc = -1;
    } else {
      json_object_object_foreach(rules, key, val) {
        enum diag_severity sev;
        if (!json_object_is_type(val, json_type_string) ||
            !lint_parse_severity(json_object_get_string(val), &sev)) {
          cli_error("lint: %s: rule '%s': expected \"off\", \"error\", "
                    "\"warning\", \"info\" or \"hint\"",
                    path, key);
          rc = -1;
          continue;
        }
        err_clear(&e);
        if (analysis_config_set(&opts->config, key, sev, &e) < 0) {
          cli_error("lint: %s: %s (see 'dockwright lint --list-rules')", path,
                    e.msg);
          rc = -1;
        }
      }
    }
  }
  json_object_put(root);
  return rc;
}

/* The .dockerignore for a Dockerfile: PATH.dockerignore wins over the
 * .dockerignore in its directory (Docker's rule).  NULL when there is
 * none; a file that exists but cannot be read is an error. */
static int lint_read_dockerignore(const char *path, char **text, size_t *len,
                                  struct err *e) {
  *text = NULL;
  *len = 0;
  if (strcmp(path, "-") == 0)
    return 0;
  struct buf own = BUF_INIT, dir = BUF_INIT;
  buf_printf(&own, "%s.dockerignore", path);
  const char *slash = strrchr(path, '/');
  if (slash)
    buf_printf(&dir, "%.*s/.dockerignore", (int)(slash - path), path);
  else
    buf_puts(&dir, ".dockerignore");
  const char *pick = NULL;
  if (access(buf_cstr(&own), F_OK) == 0)
    pick = buf_cstr(&own);
  else if (access(buf_cstr(&dir), F_OK) == 0)
    pick = buf_cstr(&dir);
  int rc = pick ? cli_read_file(pick, text, len, e) : 0;
  buf_cleanup(&own);
  buf_cleanup(&dir);
  return rc;
}

/* Lints one file into f->diags.  Returns 0, or -1 after printing an I/O
 * error. */
static int lint_one(const char *path, const struct lint_opts *opts,
                    TSParser *parser, struct lint_file *f) {
  char *text, *ignore;
  size_t len, ignore_len;
  struct err e;
  err_clear(&e);
  f->name = strcmp(path, "-") == 0 ? "<stdin>" : path;
  diag_list_init(&f->diags);
  if (cli_read_file(path, &text, &len, &e) < 0) {
    cli_error("lint: %s", e.msg);
    return -1;
  }
  if (lint_read_dockerignore(path, &ignore, &ignore_len, &e) < 0) {
    cli_error("lint: %s", e.msg);
    free(text);
    return -1;
  }
  TSTree *tree = ts_parser_parse_string(parser, NULL, text, (uint32_t)len);
  struct dockerfile *df = dockerfile_parse(text, len, tree);
  struct analysis_input in;
  memset(&in, 0, sizeof(in));
  in.text = text;
  in.len = len;
  in.tree = tree;
  in.df = df;
  in.dockerignore = ignore;
  in.dockerignore_len = ignore_len;
  in.config = &opts->config;
  analysis_run(&in, &f->diags);
  dockerfile_free(df);
  ts_tree_delete(tree);
  free(ignore);
  free(text);
  return 0;
}

/* ---- output ------------------------------------------------------------ */

static void lint_print_text(const struct lint_file *files, size_t n) {
  for (size_t i = 0; i < n; i++) {
    for (size_t k = 0; k < files[i].diags.n; k++) {
      const struct diag *d = &files[i].diags.v[k];
      printf("%s:%u:%u: %s: %s [%s]\n", files[i].name, d->range.start.row + 1,
             d->range.start.col + 1, lint_severity_name(d->severity),
             d->message, d->rule);
    }
  }
}

static void lint_json_range(json_object *o, const struct df_range *r) {
  json_object_object_add(o, "line", json_object_new_int64(r->start.row + 1));
  json_object_object_add(o, "column", json_object_new_int64(r->start.col + 1));
  json_object_object_add(o, "endLine", json_object_new_int64(r->end.row + 1));
  json_object_object_add(o, "endColumn",
                         json_object_new_int64(r->end.col + 1));
}

static json_object *lint_json(const struct lint_file *files, size_t n) {
  json_object *arr = json_object_new_array();
  for (size_t i = 0; i < n; i++) {
    for (size_t k = 0; k < files[i].diags.n; k++) {
      const struct diag *d = &files[i].diags.v[k];
      json_object *o = json_object_new_object();
      json_object_object_add(o, "file", json_object_new_string(files[i].name));
      lint_json_range(o, &d->range);
      json_object_object_add(
          o, "severity",
          json_object_new_string(lint_severity_name(d->severity)));
      json_object_object_add(o, "code", json_object_new_string(d->rule));
      json_object_object_add(o, "message", json_object_new_string(d->message));
      const char *url = analysis_rule_doc_url(d->rule);
      if (url)
        json_object_object_add(o, "url", json_object_new_string(url));
      json_object *tags = json_object_new_array();
      if (d->tags & DIAG_TAG_UNNECESSARY)
        json_object_array_add(tags, json_object_new_string("unnecessary"));
      if (d->tags & DIAG_TAG_DEPRECATED)
        json_object_array_add(tags, json_object_new_string("deprecated"));
      json_object_object_add(o, "tags", tags);
      json_object *rel = json_object_new_array();
      for (size_t r = 0; r < d->nrelated; r++) {
        json_object *ro = json_object_new_object();
        lint_json_range(ro, &d->related[r].range);
        json_object_object_add(ro, "message",
                               json_object_new_string(d->related[r].message));
        json_object_array_add(rel, ro);
      }
      json_object_object_add(o, "related", rel);
      json_object *fixes = json_object_new_array();
      for (size_t x = 0; x < d->nfixes; x++) {
        json_object *fo = json_object_new_object();
        json_object_object_add(fo, "title",
                               json_object_new_string(d->fixes[x].title));
        lint_json_range(fo, &d->fixes[x].range);
        json_object_object_add(fo, "newText",
                               json_object_new_string(d->fixes[x].new_text));
        json_object_array_add(fixes, fo);
      }
      json_object_object_add(o, "fixes", fixes);
      json_object_array_add(arr, o);
    }
  }
  return arr;
}

static const char *lint_sarif_level(enum diag_severity s) {
  switch (s) {
  case DIAG_ERROR:
    return "error";
  case DIAG_WARNING:
    return "warning";
  case DIAG_INFO:
  case DIAG_HINT:
    return "note";
  case DIAG_OFF:
    break;
  }
  return "none";
}

static json_object *lint_sarif_region(const struct df_range *r) {
  json_object *reg = json_object_new_object();
  json_object_object_add(reg, "startLine",
                         json_object_new_int64(r->start.row + 1));
  json_object_object_add(reg, "startColumn",
                         json_object_new_int64(r->start.col + 1));
  json_object_object_add(reg, "endLine",
                         json_object_new_int64(r->end.row + 1));
  json_object_object_add(reg, "endColumn",
                         json_object_new_int64(r->end.col + 1));
  return reg;
}

static json_object *lint_sarif_location(const char *file,
                                        const struct df_range *r) {
  json_object *loc = json_object_new_object();
  json_object *phys = json_object_new_object();
  json_object *art = json_object_new_object();
  json_object_object_add(art, "uri", json_object_new_string(file));
  json_object_object_add(phys, "artifactLocation", art);
  json_object_object_add(phys, "region", lint_sarif_region(r));
  json_object_object_add(loc, "physicalLocation", phys);
  return loc;
}

static json_object *lint_sarif_text(const char *s) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "text", json_object_new_string(s));
  return o;
}

static json_object *lint_sarif(const struct lint_file *files, size_t n) {
  size_t nrules;
  const struct analysis_rule *rules = analysis_rules(&nrules);
  json_object *driver = json_object_new_object();
  json_object_object_add(driver, "name", json_object_new_string("dockwright"));
  json_object_object_add(driver, "version",
                         json_object_new_string(DW_VERSION));
  json_object_object_add(
      driver, "informationUri",
      json_object_new_string("https://github.com/dockwright/dockwright"));
  json_object *jrules = json_object_new_array();
  for (size_t i = 0; i < nrules; i++) {
    json_object *r = json_object_new_object();
    json_object_object_add(r, "id", json_object_new_string(rules[i].id));
    json_object_object_add(r, "name", json_object_new_string(rules[i].id));
    json_object_object_add(r, "shortDescription",
                           lint_sarif_text(rules[i].summary));
    json_object_object_add(r, "helpUri",
                           json_object_new_string(rules[i].doc_url));
    json_object *conf = json_object_new_object();
    json_object_object_add(
        conf, "level",
        json_object_new_string(lint_sarif_level(rules[i].severity)));
    json_object_object_add(r, "defaultConfiguration", conf);
    json_object_array_add(jrules, r);
  }
  json_object_object_add(driver, "rules", jrules);
  json_object *tool = json_object_new_object();
  json_object_object_add(tool, "driver", driver);

  json_object *results = json_object_new_array();
  for (size_t i = 0; i < n; i++) {
    for (size_t k = 0; k < files[i].diags.n; k++) {
      const struct diag *d = &files[i].diags.v[k];
      json_object *res = json_object_new_object();
      json_object_object_add(res, "ruleId", json_object_new_string(d->rule));
      for (size_t r = 0; r < nrules; r++)
        if (strcmp(rules[r].id, d->rule) == 0)
          json_object_object_add(res, "ruleIndex",
                                 json_object_new_int64((int64_t)r));
      json_object_object_add(
          res, "level", json_object_new_string(lint_sarif_level(d->severity)));
      json_object_object_add(res, "message", lint_sarif_text(d->message));
      json_object *locs = json_object_new_array();
      json_object_array_add(locs,
                            lint_sarif_location(files[i].name, &d->range));
      json_object_object_add(res, "locations", locs);
      if (d->nrelated) {
        json_object *rel = json_object_new_array();
        for (size_t r = 0; r < d->nrelated; r++) {
          json_object *ro =
              lint_sarif_location(files[i].name, &d->related[r].range);
          json_object_object_add(ro, "id", json_object_new_int64((int64_t)r));
          json_object_object_add(ro, "message",
                                 lint_sarif_text(d->related[r].message));
          json_object_array_add(rel, ro);
        }
        json_object_object_add(res, "relatedLocations", rel);
      }
      json_object_array_add(results, res);
    }
  }
  json_object *run = json_object_new_object();
  json_object_object_add(run, "tool", tool);
  json_object_object_add(run, "results", results);
  json_object *runs = json_object_new_array();
  json_object_array_add(runs, run);
  json_object *root = json_object_new_object();
  json_object_object_add(
      root, "$schema",
      json_object_new_string("https://json.schemastore.org/sarif-2.1.0.json"));
  json_object_object_add(root, "version", json_object_new_string("2.1.0"));
  json_object_object_add(root, "runs", runs);
  return root;
}

static void lint_print_json(json_object *j) {
  fputs(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
                                              JSON_C_TO_STRING_SPACED |
                                              JSON_C_TO_STRING_NOSLASHESCAPE),
        stdout);
  fputc('\n', stdout);
  json_object_put(j);
}

int cmd_lint_main(int argc, char **argv) {
  static const struct option long_opts[] = {
      {"format", required_argument, 0, 'f'},
      {"severity-threshold", required_argument, 0, 's'},
      {"config", required_argument, 0, 'c'},
      {"list-rules", no_argument, 0, 'l'},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  struct lint_opts opts;
  memset(&opts, 0, sizeof(opts));
  opts.format = LINT_TEXT;
  opts.threshold = DIAG_ERROR;
  analysis_config_init(&opts.config);
  int rc = 0, ch;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "f:s:c:h", long_opts, NULL)) != -1) {
    switch (ch) {
    case 'f':
      if (strcmp(optarg, "text") == 0) {
        opts.format = LINT_TEXT;
      } else if (strcmp(optarg, "json") == 0) {
        opts.format = LINT_JSON;
      } else if (strcmp(optarg, "sarif") == 0) {
        opts.format = LINT_SARIF;
      } else {
        cli_error("lint: unknown format '%s' (text, json or sarif)", optarg);
        rc = 2;
      }
      break;
    case 's':
      if (!lint_parse_severity(optarg, &opts.threshold) ||
          opts.threshold == DIAG_OFF || opts.threshold == DIAG_HINT) {
        cli_error("lint: unknown severity threshold '%s' (error, warning or "
                  "info)",
                  optarg);
        rc = 2;
      }
      break;
    case 'c':
      if (lint_read_config(optarg, &opts) < 0)
        rc = 2;
      break;
    case 'l':
      lint_list_rules();
      analysis_config_cleanup(&opts.config);
      return 0;
    case 'h':
      lint_usage(stdout);
      analysis_config_cleanup(&opts.config);
      return 0;
    default:
      rc = 2;
      break;
    }
    if (rc)
      break;
  }
  if (rc == 0 && optind >= argc) {
    lint_usage(stderr);
    rc = 2;
  }
  if (rc) {
    analysis_config_cleanup(&opts.config);
    return rc;
  }

  size_t nfiles = (size_t)(argc - optind);
  struct lint_file *files = xcalloc(nfiles, sizeof(*files));
  TSParser *parser = ts_parser_new();
  ts_parser_set_language(parser, tree_sitter_dockerfile());
  bool io_error = false, met = false;
  for (size_t i = 0; i < nfiles; i++) {
    if (lint_one(argv[optind + (int)i], &opts, parser, &files[i]) < 0)
      io_error = true;
    for (size_t k = 0; k < files[i].diags.n; k++) {
      enum diag_severity s = files[i].diags.v[k].severity;
      if (s != DIAG_OFF && s <= opts.threshold)
        met = true;
    }
  }
  ts_parser_delete(parser);

  switch (opts.format) {
  case LINT_TEXT:
    lint_print_text(files, nfiles);
    break;
  case LINT_JSON:
    lint_print_json(lint_json(files, nfiles));
    break;
  case LINT_SARIF:
    lint_print_json(lint_sarif(files, nfiles));
    break;
  }
  fflush(stdout);

  for (size_t i = 0; i < nfiles; i++)
    diag_list_cleanup(&files[i].diags);
  free(files);
  analysis_config_cleanup(&opts.config);
  if (io_error)
    return 2;
  return met ? 1 : 0;
}
