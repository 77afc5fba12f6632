/*
 * rules.h - the one table of diagnostics rules (RULE_MAP).  Internal to
 * analysis/.
 *
 * Each row: id (also the diagnostic code and the docs heading), the docs
 * anchor (the id in lower case, as GitHub derives it from "## Id"), the
 * default severity, flags, and a one-line summary (SARIF shortDescription,
 * `dockwright lint --help`).  docs/diagnostics.md has one section per row;
 * tests/unit/test_rules.c checks that it does.
 *
 * Families, in the order the checks run:
 *   check_syntax.c      the tree's ERROR and MISSING nodes
 *   check_buildkit.c    what BuildKit's parser and instructions package
 *                       reject (the build fails)
 *   check_semantic.c    values BuildKit rejects when it dispatches an
 *                       instruction, and dockerfile-utils' checks
 *   check_buildchecks.c BuildKit's build checks, under BuildKit's names
 *   check_practices.c   best practices, under our own names
 *   check_paths.c       paths the stage never creates (MistypedPath)
 */
#ifndef DW_RULES_H
#define DW_RULES_H

#include "analysis.h"

/* Flags: RULE_F_CHECK marks BuildKit build checks, the rules that
 * `# check=skip=...;error=true` governs. */
enum rule_flags {
  RULE_F_NONE = 0,
  RULE_F_CHECK = 1u << 0,
};

#define RULE_MAP(X)                                                           \
  /* check_syntax.c */                                                        \
  X(SyntaxError, "syntaxerror", DIAG_ERROR, RULE_F_NONE,                      \
    "The text does not parse as a Dockerfile instruction")                    \
  /* check_buildkit.c */                                                      \
  X(BuildKitParse, "buildkitparse", DIAG_ERROR, RULE_F_NONE,                  \
    "BuildKit's parser refuses the file")                                     \
  X(UnknownInstruction, "unknowninstruction", DIAG_ERROR, RULE_F_NONE,        \
    "Unknown instruction")                                                    \
  X(InvalidFromArguments, "invalidfromarguments", DIAG_ERROR, RULE_F_NONE,    \
    "FROM takes an image, optionally followed by AS and a stage name")        \
  X(InvalidStageName, "invalidstagename", DIAG_ERROR, RULE_F_NONE,            \
    "Stage names must start with a letter and hold only letters, digits, "    \
    "'-', '_' and '.'")                                                       \
  X(UnknownFlag, "unknownflag", DIAG_ERROR, RULE_F_NONE,                      \
    "The instruction does not take this flag")                                \
  X(FlagMissingValue, "flagmissingvalue", DIAG_ERROR, RULE_F_NONE,            \
    "A flag that takes a value was given none (or without '=')")              \
  X(DuplicateFlag, "duplicateflag", DIAG_ERROR, RULE_F_NONE,                  \
    "The same flag is given twice")                                           \
  X(MissingArguments, "missingarguments", DIAG_ERROR, RULE_F_NONE,            \
    "The instruction needs more arguments")                                   \
  X(ExtraArguments, "extraarguments", DIAG_ERROR, RULE_F_NONE,                \
    "The instruction takes fewer arguments")                                  \
  X(ShellNotJson, "shellnotjson", DIAG_ERROR, RULE_F_NONE,                    \
    "SHELL must be written as a JSON array")                                  \
  X(InvalidOnbuildTrigger, "invalidonbuildtrigger", DIAG_ERROR, RULE_F_NONE,  \
    "ONBUILD cannot trigger ONBUILD, FROM or MAINTAINER")                     \
  X(HeredocDestination, "heredocdestination", DIAG_ERROR, RULE_F_NONE,        \
    "A heredoc cannot be the destination of COPY or ADD")                     \
  X(InvalidVariableSyntax, "invalidvariablesyntax", DIAG_ERROR, RULE_F_NONE,  \
    "A word BuildKit expands has broken quoting or variable syntax")          \
  X(InvalidDirective, "invaliddirective", DIAG_ERROR, RULE_F_NONE,            \
    "A parser directive has a value BuildKit refuses")                        \
  X(MisplacedDirective, "misplaceddirective", DIAG_WARNING, RULE_F_NONE,      \
    "A parser directive after the file's first lines is only a comment")      \
  /* check_semantic.c */                                                      \
  X(InvalidFlagValue, "invalidflagvalue", DIAG_ERROR, RULE_F_NONE,            \
    "A flag's value is not one BuildKit accepts")                             \
  X(InvalidReference, "invalidreference", DIAG_ERROR, RULE_F_NONE,            \
    "An image reference the builder cannot parse")                            \
  X(InvalidPlatform, "invalidplatform", DIAG_ERROR, RULE_F_NONE,              \
    "A --platform value that is not os/arch[/variant], an OS or an arch")     \
  X(InvalidHealthcheck, "invalidhealthcheck", DIAG_ERROR, RULE_F_NONE,        \
    "HEALTHCHECK takes CMD or NONE")                                          \
  X(HealthcheckMissingCommand, "healthcheckmissingcommand", DIAG_ERROR,       \
    RULE_F_NONE, "HEALTHCHECK CMD has no command")                            \
  X(InvalidPort, "invalidport", DIAG_ERROR, RULE_F_NONE,                      \
    "EXPOSE takes ports 0-65535 or ranges, with tcp, udp or sctp")            \
  X(InvalidStopSignal, "invalidstopsignal", DIAG_ERROR, RULE_F_NONE,          \
    "STOPSIGNAL takes a signal name or a positive number")                    \
  X(InvalidCopyFrom, "invalidcopyfrom", DIAG_ERROR, RULE_F_NONE,              \
    "COPY --from names the current or a later stage")                         \
  X(CopyFromImage, "copyfromimage", DIAG_INFO, RULE_F_NONE,                   \
    "COPY --from names no stage, so it is pulled as an image")                \
  X(InstructionCasing, "instructioncasing", DIAG_HINT, RULE_F_NONE,           \
    "Instructions are conventionally written in upper case")                  \
  /* check_buildchecks.c: BuildKit's build checks */                          \
  X(StageNameCasing, "stagenamecasing", DIAG_WARNING, RULE_F_CHECK,           \
    "Stage names should be lowercase")                                        \
  X(FromAsCasing, "fromascasing", DIAG_WARNING, RULE_F_CHECK,                 \
    "The 'as' keyword should match the case of the 'from' keyword")           \
  X(NoEmptyContinuation, "noemptycontinuation", DIAG_WARNING, RULE_F_CHECK,   \
    "Empty continuation lines will become errors in a future release")        \
  X(ConsistentInstructionCasing, "consistentinstructioncasing", DIAG_WARNING, \
    RULE_F_CHECK,                                                             \
    "All commands within the Dockerfile should use the same casing")          \
  X(DuplicateStageName, "duplicatestagename", DIAG_ERROR, RULE_F_CHECK,       \
    "Stage names should be unique")                                           \
  X(ReservedStageName, "reservedstagename", DIAG_WARNING, RULE_F_CHECK,       \
    "Reserved words should not be used as stage names")                       \
  X(JSONArgsRecommended, "jsonargsrecommended", DIAG_WARNING, RULE_F_CHECK,   \
    "JSON arguments recommended for ENTRYPOINT/CMD")                          \
  X(MaintainerDeprecated, "maintainerdeprecated", DIAG_WARNING, RULE_F_CHECK, \
    "The MAINTAINER instruction is deprecated")                               \
  X(UndefinedArgInFrom, "undefinedarginfrom", DIAG_WARNING, RULE_F_CHECK,     \
    "FROM command must use declared ARGs")                                    \
  X(WorkdirRelativePath, "workdirrelativepath", DIAG_WARNING, RULE_F_CHECK,   \
    "Relative workdir without an absolute workdir declared first")            \
  X(UndefinedVar, "undefinedvar", DIAG_WARNING, RULE_F_CHECK,                 \
    "Variables should be defined before their use")                           \
  X(MultipleInstructionsDisallowed, "multipleinstructionsdisallowed",         \
    DIAG_WARNING, RULE_F_CHECK,                                               \
    "Only the last CMD, ENTRYPOINT or HEALTHCHECK of a stage takes effect")   \
  X(LegacyKeyValueFormat, "legacykeyvalueformat", DIAG_WARNING, RULE_F_CHECK, \
    "Legacy key/value format with whitespace separator")                      \
  X(RedundantTargetPlatform, "redundanttargetplatform", DIAG_WARNING,         \
    RULE_F_CHECK, "Setting platform to $TARGETPLATFORM in FROM is redundant") \
  X(SecretsUsedInArgOrEnv, "secretsusedinargorenv", DIAG_WARNING,             \
    RULE_F_CHECK, "Sensitive data should not be used in ARG or ENV")          \
  X(InvalidDefaultArgInFrom, "invaliddefaultarginfrom", DIAG_WARNING,         \
    RULE_F_CHECK, "Default ARG values give an empty or invalid base image")   \
  X(FromPlatformFlagConstDisallowed, "fromplatformflagconstdisallowed",       \
    DIAG_WARNING, RULE_F_CHECK,                                               \
    "FROM --platform flag should not use a constant value")                   \
  X(CopyIgnoredFile, "copyignoredfile", DIAG_WARNING, RULE_F_CHECK,           \
    "COPY or ADD of a file that .dockerignore excludes")                      \
  X(ExposeProtoCasing, "exposeprotocasing", DIAG_WARNING, RULE_F_CHECK,       \
    "Protocol in EXPOSE instruction should be lowercase")                     \
  X(ExposeInvalidFormat, "exposeinvalidformat", DIAG_WARNING, RULE_F_CHECK,   \
    "EXPOSE should not define an IP address or host-port mapping")            \
  /* check_practices.c: our best-practice rules */                            \
  X(ImageTagLatest, "imagetaglatest", DIAG_WARNING, RULE_F_NONE,              \
    "Base image without a tag, or tagged latest")                             \
  X(AptGetMissingYes, "aptgetmissingyes", DIAG_WARNING, RULE_F_NONE,          \
    "apt-get install without -y waits for a confirmation")                    \
  X(AptGetNoInstallRecommends, "aptgetnoinstallrecommends", DIAG_INFO,        \
    RULE_F_NONE, "apt-get install without --no-install-recommends")           \
  X(AptListsNotRemoved, "aptlistsnotremoved", DIAG_INFO, RULE_F_NONE,         \
    "apt-get install without removing /var/lib/apt/lists")                    \
  X(AptUpdateAlone, "aptupdatealone", DIAG_WARNING, RULE_F_NONE,              \
    "apt-get update in a RUN of its own is cached stale")                     \
  X(CdInRun, "cdinrun", DIAG_INFO, RULE_F_NONE,                               \
    "RUN starting with cd: use WORKDIR")                                      \
  X(AddInsteadOfCopy, "addinsteadofcopy", DIAG_INFO, RULE_F_NONE,             \
    "ADD of local files that are not archives: COPY does")                    \
  X(SudoInRun, "sudoinrun", DIAG_WARNING, RULE_F_NONE,                        \
    "sudo in RUN: builds run as root unless USER says otherwise")             \
  X(LastUserRoot, "lastuserroot", DIAG_WARNING, RULE_F_NONE,                  \
    "The image's last USER is root")                                          \
  X(ConsecutiveRun, "consecutiverun", DIAG_HINT, RULE_F_NONE,                 \
    "Consecutive RUN instructions could be one")                              \
  X(PipeWithoutPipefail, "pipewithoutpipefail", DIAG_INFO, RULE_F_NONE,       \
    "A pipe in RUN hides the failure of all but the last command")            \
  X(ApkAddNoCache, "apkaddnocache", DIAG_INFO, RULE_F_NONE,                   \
    "apk add without --no-cache keeps the package index in the image")        \
  X(PipNoCacheDir, "pipnocachedir", DIAG_INFO, RULE_F_NONE,                   \
    "pip install without --no-cache-dir keeps pip's cache in the image")      \
  X(CurlPipeShell, "curlpipeshell", DIAG_WARNING, RULE_F_NONE,                \
    "A download piped straight into a shell")                                 \
  X(MistypedPath, "mistypedpath", DIAG_WARNING, RULE_F_NONE,                  \
    "A path the stage never creates, a typo away from one COPY creates")      \
  X(CopyAllBeforeInstall, "copyallbeforeinstall", DIAG_INFO, RULE_F_NONE,     \
    "The whole context is copied before dependencies are installed")

enum rule_id {
#define RULE_ENUM(id, anchor, sev, flags, summary) RULE_##id,
  RULE_MAP(RULE_ENUM)
#undef RULE_ENUM
      RULE_COUNT
};

/* The row of a rule (id < RULE_COUNT), from analysis_rules(); never
 * NULL. */
const struct analysis_rule *rule_get(enum rule_id id);
/* The rule named `name` (exact, case-sensitive), or RULE_COUNT. */
enum rule_id rule_find(const char *name);

#endif
