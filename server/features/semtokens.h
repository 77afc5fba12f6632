/*
 * semtokens.h - the semantic tokens' legend (docs/language-server.md,
 * "Semantic tokens"): one table each for the token types and modifiers,
 * read by features/semtokens.c (the indices) and protocol.c (the legend
 * in the initialize result), so the two cannot drift.
 */
#ifndef DW_FEATURES_SEMTOKENS_H
#define DW_FEATURES_SEMTOKENS_H

/* X(id, LSP name): what each marks in a Dockerfile. */
#define SEMTOK_TYPE_MAP(X)                                                    \
  X(KEYWORD, "keyword")     /* instruction keywords, AS */                    \
  X(COMMENT, "comment")     /* comment lines */                               \
  X(MACRO, "macro")         /* parser directives: # syntax=, # escape= */     \
  X(PARAMETER, "parameter") /* flag names: --from, --mount */                 \
  X(PROPERTY, "property")   /* keys in flag values (type=), LABEL keys */     \
  X(VARIABLE, "variable")   /* ARG/ENV names, $NAME and ${NAME} */            \
  X(NAMESPACE, "namespace") /* stage names */                                 \
  X(TYPE, "type")           /* image references */                            \
  X(STRING, "string")       /* quoted strings, exec-form elements */          \
  X(OPERATOR, "operator")   /* = && || << */                                  \
  X(LABEL, "label")         /* heredoc delimiters */

#define SEMTOK_MOD_MAP(X)                                                     \
  X(DECLARATION, "declaration") /* where a stage or variable is named */      \
  X(READONLY, "readonly")       /* BuildKit's automatic ARGs */               \
  X(DEPRECATED, "deprecated")   /* MAINTAINER */

enum semtok_type {
#define SEMTOK_ENUM(id, name) SEMTOK_##id,
  SEMTOK_TYPE_MAP(SEMTOK_ENUM)
#undef SEMTOK_ENUM
      SEMTOK_TYPE_COUNT
};

enum semtok_mod_index {
#define SEMTOK_ENUM(id, name) SEMTOK_MOD_INDEX_##id,
  SEMTOK_MOD_MAP(SEMTOK_ENUM)
#undef SEMTOK_ENUM
      SEMTOK_MOD_COUNT
};

#define SEMTOK_MOD(id) (1u << SEMTOK_MOD_INDEX_##id)

#endif
