/*
 * knowledge.h - what the Dockerfile reference says, as data in one place:
 * instructions, their flags (BuildKit's flag kinds, value kinds and allowed
 * values), RUN --mount types and their keys, parser directives, automatic
 * and predefined ARGs, signals, with a short text and a link to the
 * reference for each.
 *
 * DESIGN
 * Completion, hover and signature help (server/features/) read these
 * tables, and so does the analysis: check_buildkit.c refuses a flag the
 * table does not list for that instruction, check_semantic.c refuses a
 * value outside a flag's allowed values.  One table, so the editor never
 * offers a flag the linter then rejects.  Each table is an X-macro like
 * analysis/rules.h; the rows follow the Dockerfile reference (BuildKit's
 * instructions/parse.go for which flags each instruction declares,
 * labs-only flags included).
 *
 * Everything here is static, read-only and thread-safe.  No IO.
 */
#ifndef DW_KNOWLEDGE_H
#define DW_KNOWLEDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "dockerfile.h"

/* The reference every `anchor` below belongs to. */
#define KNOW_REFERENCE_URL "https://docs.docker.com/reference/dockerfile/"

/* ---- instructions ------------------------------------------------------ */

/* X(kind, parameters, snippet, anchor, doc).  `parameters` is the
 * signature after the flags, one parameter per NUL-free string in a NULL-
 * terminated list; `snippet` is the LSP snippet inserted after the keyword
 * and a space (NULL: just the keyword and a space). */
#define KNOW_INSTR_MAP(X)                                                     \
  X(FROM, KNOW_P("<image>[:<tag>|@<digest>]", "[AS <name>]"), "${1:image}",   \
    "from",                                                                   \
    "Starts a build stage from a base image (or an earlier stage, or "        \
    "`scratch`).  `AS <name>` names the stage for `COPY --from` and later "   \
    "`FROM`s.")                                                               \
  X(RUN, KNOW_P("<command> | [\"executable\", \"param\", ...]"), "${1}",      \
    "run",                                                                    \
    "Runs a command in a new layer on top of the current image: the shell "   \
    "form runs it with the SHELL (`/bin/sh -c`), the exec form directly.")    \
  X(CMD, KNOW_P("[\"executable\", \"param\", ...] | <command>"),              \
    "[\"${1:executable}\"${2:, \"${3:param}\"}]", "cmd",                      \
    "Sets the default command of a container (or the default arguments of "   \
    "the ENTRYPOINT).  Only the last CMD counts.")                            \
  X(LABEL, KNOW_P("<key>=<value> ..."), "${1:key}=${2:value}", "label",       \
    "Adds metadata to the image as key-value pairs.")                         \
  X(MAINTAINER, KNOW_P("<name>"), "${1:name}", "maintainer-deprecated",       \
    "Deprecated: sets the image's author.  Use `LABEL "                       \
    "org.opencontainers.image.authors=...` instead.")                         \
  X(EXPOSE, KNOW_P("<port>[/<protocol>] ..."), "${1:80}", "expose",           \
    "Documents the network ports the container listens on (tcp by "           \
    "default, or udp, sctp).  It does not publish them.")                     \
  X(ENV, KNOW_P("<key>=<value> ..."), "${1:key}=${2:value}", "env",           \
    "Sets environment variables for the rest of the stage and for "           \
    "containers run from the image.")                                         \
  X(ADD, KNOW_P("<src> ...", "<dest>"), "${1:src} ${2:dest}", "add",          \
    "Copies files, directories, remote URLs or Git repositories into the "    \
    "image; local tar archives are extracted.")                               \
  X(COPY, KNOW_P("<src> ...", "<dest>"), "${1:src} ${2:dest}", "copy",        \
    "Copies files and directories from the build context, a stage or an "     \
    "image into the image.")                                                  \
  X(ENTRYPOINT, KNOW_P("[\"executable\", \"param\", ...] | <command>"),       \
    "[\"${1:executable}\"${2:, \"${3:param}\"}]", "entrypoint",               \
    "Sets the executable a container runs; CMD then gives its default "       \
    "arguments.  Use the exec form so signals reach it.")                     \
  X(VOLUME, KNOW_P("[\"<path>\", ...] | <path> ..."), "${1:/data}", "volume", \
    "Marks a mount point for externally mounted volumes.")                    \
  X(USER, KNOW_P("<user>[:<group>]"), "${1:user}", "user",                    \
    "Sets the user (and group) for the rest of the stage and for the "        \
    "container.")                                                             \
  X(WORKDIR, KNOW_P("<path>"), "${1:/app}", "workdir",                        \
    "Sets the working directory for the instructions after it (created if "   \
    "missing); relative paths build on the previous WORKDIR.")                \
  X(ARG, KNOW_P("<name>[=<default value>] ..."), "${1:name}", "arg",          \
    "Declares a build argument (`--build-arg`).  Before the first FROM it "   \
    "is global and usable in FROM lines; inside a stage it must be "          \
    "declared (again) to be used.")                                           \
  X(ONBUILD, KNOW_P("<INSTRUCTION>"), "${1:RUN}", "onbuild",                  \
    "Adds a trigger instruction that runs when the image is used as the "     \
    "base of another build.")                                                 \
  X(STOPSIGNAL, KNOW_P("<signal>"), "${1:SIGTERM}", "stopsignal",             \
    "Sets the signal sent to the container to stop it (a name like "          \
    "SIGTERM or a number).")                                                  \
  X(HEALTHCHECK, KNOW_P("CMD <command> | NONE"), "CMD ${1:command}",          \
    "healthcheck",                                                            \
    "Tells how to test that the container still works (`CMD`), or turns "     \
    "off a check inherited from the base image (`NONE`).")                    \
  X(SHELL, KNOW_P("[\"executable\", \"parameters\"]"),                        \
    "[\"${1:/bin/sh}\", \"${2:-c}\"]", "shell",                               \
    "Sets the shell the shell form of RUN, CMD and ENTRYPOINT uses "          \
    "(`[\"/bin/sh\", \"-c\"]` by default).  Exec form only.")

#define KNOW_P(...) ((const char *const[]){__VA_ARGS__, NULL})

struct know_instr {
  enum df_kind kind;
  const char *keyword;           /* upper case: "FROM" */
  const char *const *parameters; /* NULL-terminated */
  const char *snippet;
  const char *anchor;
  const char *doc;
};

/* ---- flags ------------------------------------------------------------- */

/* BuildKit's BFlags kinds: a bool (`--link`, `--link=false`), a string
 * given once, or a string that may repeat (`--mount`). */
enum know_flag_kind { KNOW_BOOL, KNOW_STRING, KNOW_STRINGS };

/* What a flag's value is, for completion and checks. */
enum know_value {
  KNOW_V_NONE,     /* a bool flag */
  KNOW_V_TEXT,     /* free text */
  KNOW_V_ENUM,     /* one of `values` */
  KNOW_V_STAGE,    /* an earlier stage's name or index, or an image */
  KNOW_V_MOUNT,    /* comma-separated key=value (know_mount_*) */
  KNOW_V_DURATION, /* a Go duration: 30s, 1m30s */
  KNOW_V_INT,      /* an integer */
  KNOW_V_CHMOD,    /* octal permissions */
  KNOW_V_CHOWN,    /* user[:group] */
  KNOW_V_PLATFORM, /* os/arch[/variant] */
  KNOW_V_PATTERN,  /* a path pattern */
  KNOW_V_CHECKSUM, /* sha256:<hex> */
};

/* X(instruction, name, kind, value, values, placeholder, anchor, doc).
 * `values` lists the allowed values of a KNOW_V_ENUM flag as "a|b|c", and
 * suggestions for the others (NULL when none). */
#define KNOW_FLAG_MAP(X)                                                      \
  X(FROM, "platform", KNOW_STRING, KNOW_V_PLATFORM,                           \
    "linux/amd64|linux/arm64|linux/arm/v7|linux/386|linux/ppc64le|"           \
    "linux/s390x|linux/riscv64|$BUILDPLATFORM|$TARGETPLATFORM",               \
    "<platform>", "from",                                                     \
    "The platform of the base image when it has several (e.g. "               \
    "`linux/amd64`, or `$BUILDPLATFORM` for a build-side stage).")            \
  X(RUN, "mount", KNOW_STRINGS, KNOW_V_MOUNT, NULL,                           \
    "type=<type>[,<key>=<value>...]", "run---mount",                          \
    "Mounts a file system the command can reach: `bind` (default), "          \
    "`cache`, `tmpfs`, `secret` or `ssh`.  May repeat.")                      \
  X(RUN, "network", KNOW_STRING, KNOW_V_ENUM, "default|none|host", "<mode>",  \
    "run---network",                                                          \
    "The network the command runs in: `default`, `none` (no network) or "     \
    "`host` (needs the network.host entitlement).")                           \
  X(RUN, "security", KNOW_STRING, KNOW_V_ENUM, "sandbox|insecure", "<mode>",  \
    "run---security",                                                         \
    "`insecure` runs the command without the sandbox (like `docker run "      \
    "--privileged`; needs the security.insecure entitlement).")               \
  X(RUN, "device", KNOW_STRINGS, KNOW_V_TEXT, NULL, "<name>[,required]",      \
    "run---device",                                                           \
    "Makes a CDI device available to the command (labs).  May repeat.")       \
  X(COPY, "from", KNOW_STRING, KNOW_V_STAGE, NULL, "<stage|image>",           \
    "copy---from",                                                            \
    "Copies from an earlier stage (by name or index), an image or a named "   \
    "context instead of the build context.")                                  \
  X(COPY, "chown", KNOW_STRING, KNOW_V_CHOWN, NULL, "<user>[:<group>]",       \
    "copy---chown---chmod", "Sets the owner of the copied files.")            \
  X(COPY, "chmod", KNOW_STRING, KNOW_V_CHMOD, "0644|0755|0600|0700",          \
    "<perms>", "copy---chown---chmod",                                        \
    "Sets the permissions of the copied files (octal, e.g. `0755`).")         \
  X(COPY, "link", KNOW_BOOL, KNOW_V_NONE, NULL, "", "copy---link",            \
    "Copies into an independent layer, so the copy survives changes to "      \
    "the layers before it (and can be rebased).")                             \
  X(COPY, "parents", KNOW_BOOL, KNOW_V_NONE, NULL, "", "copy---parents",      \
    "Keeps the sources' parent directories under the destination.")           \
  X(COPY, "exclude", KNOW_STRINGS, KNOW_V_PATTERN, NULL, "<pattern>",         \
    "copy---exclude",                                                         \
    "Leaves out the files matching a pattern.  May repeat.")                  \
  X(ADD, "chown", KNOW_STRING, KNOW_V_CHOWN, NULL, "<user>[:<group>]",        \
    "add---chown---chmod", "Sets the owner of the added files.")              \
  X(ADD, "chmod", KNOW_STRING, KNOW_V_CHMOD, "0644|0755|0600|0700",           \
    "<perms>", "add---chown---chmod",                                         \
    "Sets the permissions of the added files (octal, e.g. `0755`).")          \
  X(ADD, "link", KNOW_BOOL, KNOW_V_NONE, NULL, "", "add---link",              \
    "Adds into an independent layer (see `COPY --link`).")                    \
  X(ADD, "keep-git-dir", KNOW_BOOL, KNOW_V_NONE, NULL, "",                    \
    "add---keep-git-dir",                                                     \
    "Keeps the `.git` directory when adding a Git repository.")               \
  X(ADD, "checksum", KNOW_STRING, KNOW_V_CHECKSUM,                            \
    "sha256:", "sha256:<hash>", "add---checksum",                             \
    "Verifies a remote source against this checksum.")                        \
  X(ADD, "unpack", KNOW_BOOL, KNOW_V_NONE, NULL, "", "add---unpack",          \
    "Whether to extract archives (local archives are by default, remote "     \
    "ones are not).")                                                         \
  X(ADD, "exclude", KNOW_STRINGS, KNOW_V_PATTERN, NULL, "<pattern>",          \
    "add---exclude", "Leaves out the files matching a pattern.  May repeat.") \
  X(HEALTHCHECK, "interval", KNOW_STRING, KNOW_V_DURATION, "30s|1m|5m",       \
    "<duration>", "healthcheck", "Time between checks (default 30s).")        \
  X(HEALTHCHECK, "timeout", KNOW_STRING, KNOW_V_DURATION, "30s|10s|5s",       \
    "<duration>", "healthcheck",                                              \
    "Time a check may take before it counts as failed (default 30s).")        \
  X(HEALTHCHECK, "start-period", KNOW_STRING, KNOW_V_DURATION, "0s|30s|1m",   \
    "<duration>", "healthcheck",                                              \
    "Start-up time during which failures do not count (default 0s).")         \
  X(HEALTHCHECK, "start-interval", KNOW_STRING, KNOW_V_DURATION, "5s|1s",     \
    "<duration>", "healthcheck",                                              \
    "Time between checks during the start period (default 5s).")              \
  X(HEALTHCHECK, "retries", KNOW_STRING, KNOW_V_INT, "3|5", "<n>",            \
    "healthcheck",                                                            \
    "Consecutive failures that make the container unhealthy (default 3).")

struct know_flag {
  enum df_kind instr;
  const char *name; /* without "--" */
  enum know_flag_kind kind;
  enum know_value value;
  const char *values; /* "a|b|c" or NULL */
  const char *placeholder;
  const char *anchor;
  const char *doc;
};

/* ---- RUN --mount -------------------------------------------------------- */

enum know_mount_bit {
  KNOW_M_BIND = 1u << 0,
  KNOW_M_CACHE = 1u << 1,
  KNOW_M_TMPFS = 1u << 2,
  KNOW_M_SECRET = 1u << 3,
  KNOW_M_SSH = 1u << 4,
};

/* X(type bit, name, anchor, doc) */
#define KNOW_MOUNT_TYPE_MAP(X)                                                \
  X(KNOW_M_BIND, "bind", "run---mounttypebind",                               \
    "Binds files from the build context, a stage or an image (read-only "     \
    "unless `rw`; writes are discarded).  The default type.")                 \
  X(KNOW_M_CACHE, "cache", "run---mounttypecache",                            \
    "A directory kept between builds for compilers and package managers.")    \
  X(KNOW_M_TMPFS, "tmpfs", "run---mounttypetmpfs",                            \
    "A tmpfs file system for the command.")                                   \
  X(KNOW_M_SECRET, "secret", "run---mounttypesecret",                         \
    "A secret (`--secret id=...`) as a file or an environment variable, "     \
    "never stored in the image.")                                             \
  X(KNOW_M_SSH, "ssh", "run---mounttypessh",                                  \
    "The SSH agent socket (`--ssh`), for private Git repositories.")

#define KNOW_M_ALL                                                            \
  (KNOW_M_BIND | KNOW_M_CACHE | KNOW_M_TMPFS | KNOW_M_SECRET | KNOW_M_SSH)

/* X(types, key, values, doc): the keys each mount type takes (BuildKit's
 * instructions/commands_runmount.go), aliases included. */
#define KNOW_MOUNT_KEY_MAP(X)                                                 \
  X(KNOW_M_ALL, "target", NULL,                                               \
    "Where the mount appears (aliases `dst`, `destination`).")                \
  X(KNOW_M_BIND | KNOW_M_CACHE, "source", NULL,                               \
    "The path in `from` to mount (default: its root).")                       \
  X(KNOW_M_BIND | KNOW_M_CACHE, "from", NULL,                                 \
    "The stage, image or context to mount from (default: the build "          \
    "context; for a cache, an empty directory).")                             \
  X(KNOW_M_BIND, "rw", "true|false",                                          \
    "Allows writes (they are discarded after the command).")                  \
  X(KNOW_M_CACHE | KNOW_M_SECRET | KNOW_M_SSH, "id", NULL,                    \
    "The cache's, secret's or SSH agent's id.")                               \
  X(KNOW_M_CACHE, "sharing", "shared|private|locked",                         \
    "How concurrent builds share the cache: `shared`, `private` (a new one "  \
    "each) or `locked` (one at a time).")                                     \
  X(KNOW_M_CACHE, "ro", "true|false", "Mounts the cache read-only.")          \
  X(KNOW_M_CACHE | KNOW_M_SECRET | KNOW_M_SSH, "mode", "0755|0600|0400",      \
    "The mount's permissions (octal).")                                       \
  X(KNOW_M_CACHE | KNOW_M_SECRET | KNOW_M_SSH, "uid", "0",                    \
    "The owner's user id.")                                                   \
  X(KNOW_M_CACHE | KNOW_M_SECRET | KNOW_M_SSH, "gid", "0",                    \
    "The owner's group id.")                                                  \
  X(KNOW_M_SECRET | KNOW_M_SSH, "required", "true|false",                     \
    "Fails the build when the secret or agent is not given.")                 \
  X(KNOW_M_SECRET, "env", NULL,                                               \
    "Exposes the secret as this environment variable instead of a file.")     \
  X(KNOW_M_TMPFS, "size", NULL, "The tmpfs's size limit in bytes.")

struct know_mount_type {
  unsigned bit;
  const char *name;
  const char *anchor;
  const char *doc;
};

struct know_mount_key {
  unsigned types; /* know_mount_type bits */
  const char *key;
  const char *values; /* "a|b" or NULL */
  const char *doc;
};

/* ---- directives, ARGs, words -------------------------------------------- */

/* X(name, values, anchor, doc) */
#define KNOW_DIRECTIVE_MAP(X)                                                 \
  X("syntax", "docker/dockerfile:1|docker/dockerfile:1-labs", "syntax",       \
    "The frontend image that builds this file.  Must come first.")            \
  X("escape", "\\|`", "escape",                                               \
    "The escape character: `\\` (default) or a backtick (for Windows "        \
    "paths).")                                                                \
  X("check", "skip=|error=true|experimental=", "check",                       \
    "Configures the build checks: `skip=Rule,...` (or `all`), "               \
    "`error=true` to fail the build on a warning.")

struct know_directive {
  const char *name;
  const char *values; /* "a|b" */
  const char *anchor;
  const char *doc;
};

/* X(name, example, doc): BuildKit's automatic platform ARGs, usable in FROM
 * lines and, inside a stage, after a bare `ARG NAME`. */
#define KNOW_AUTO_ARG_MAP(X)                                                  \
  X("TARGETPLATFORM", "linux/amd64", "The platform the build is for.")        \
  X("TARGETOS", "linux", "The OS of TARGETPLATFORM.")                         \
  X("TARGETARCH", "amd64", "The architecture of TARGETPLATFORM.")             \
  X("TARGETVARIANT", "", "The variant of TARGETPLATFORM (e.g. v7).")          \
  X("BUILDPLATFORM", "linux/amd64", "The platform of the node building.")     \
  X("BUILDOS", "linux", "The OS of BUILDPLATFORM.")                           \
  X("BUILDARCH", "amd64", "The architecture of BUILDPLATFORM.")               \
  X("BUILDVARIANT", "", "The variant of BUILDPLATFORM.")

/* BuildKit's predefined ARGs, usable in RUN without a declaration. */
#define KNOW_PROXY_ARG_MAP(X)                                                 \
  X("HTTP_PROXY")                                                             \
  X("http_proxy")                                                             \
  X("HTTPS_PROXY")                                                            \
  X("https_proxy")                                                            \
  X("FTP_PROXY")                                                              \
  X("ftp_proxy")                                                              \
  X("NO_PROXY")                                                               \
  X("no_proxy")                                                               \
  X("ALL_PROXY")                                                              \
  X("all_proxy")

struct know_arg {
  const char *name;
  const char *example;
  const char *doc;
};

/* Tables in the order of their maps; *n receives the length. */
const struct know_instr *know_instrs(size_t *n);
const struct know_flag *know_flags(size_t *n);
const struct know_mount_type *know_mount_types(size_t *n);
const struct know_mount_key *know_mount_keys(size_t *n);
const struct know_directive *know_directives(size_t *n);
const struct know_arg *know_auto_args(size_t *n);
const char *const *know_proxy_args(void);    /* NULL-terminated */
const char *const *know_signals(void);       /* NULL-terminated: SIGTERM... */
const char *const *know_expose_protos(void); /* tcp, udp, sctp */

/* The row of an instruction (NULL for DF_UNKNOWN). */
const struct know_instr *know_instr(enum df_kind kind);
/* Does this instruction parse flags at all?  (STOPSIGNAL never does;
 * HEALTHCHECK NONE is the caller's business.) */
bool know_instr_takes_flags(enum df_kind kind);
/* The flag `name` of instruction `kind`, or NULL. */
const struct know_flag *know_flag(enum df_kind kind, const char *name);
/* The mount type called `name` (case-insensitive), or NULL. */
const struct know_mount_type *know_mount_type(const char *name);
/* The mount key `key`, or NULL; aliases map to their key. */
const struct know_mount_key *know_mount_key(const char *key);
/* Is `value` one of "a|b|c"? */
bool know_value_in(const char *values, const char *value);
/* The reference link of an anchor written into out (size bytes, cut
 * short when it does not fit); returns out. */
const char *know_url(const char *anchor, char *out, size_t size);

#endif
