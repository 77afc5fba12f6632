; Dockwright Dockerfile highlights (standard capture names, Neovim-compatible)

[
  "FROM" "RUN" "CMD" "LABEL" "MAINTAINER" "EXPOSE" "ENV" "ADD" "COPY"
  "ENTRYPOINT" "VOLUME" "USER" "WORKDIR" "ARG" "ONBUILD" "STOPSIGNAL"
  "HEALTHCHECK" "SHELL" "AS" "NONE"
] @keyword

(healthcheck_instruction type: "CMD" @keyword)

(unknown_keyword) @error

(comment) @comment @spell

(parser_directive) @keyword.directive
(directive_name) @property
(directive_value) @string.special

(flag name: (flag_name) @attribute)
(mount_param key: (mount_param_key) @property)
(mount_param value: (mount_param_value) @string)

(image_name) @string.special
(image_tag) @label
(image_digest) @constant
(stage_name) @label

(arg_declaration name: (variable_name) @variable.parameter)
(env_pair key: (variable_name) @variable)
(label_pair key: (label_key) @property)
(label_pair key: (double_quoted_string) @property)

(variable_expansion) @variable
(variable_expansion name: (variable_name) @variable)
(variable_expansion "$" @punctuation.special)
(variable_expansion "${" @punctuation.special "}" @punctuation.special)
(expansion_operator) @operator

(double_quoted_string) @string
(single_quoted_string) @string
(json_string) @string
(json_non_string) @error
(escape_sequence) @string.escape
(line_continuation) @punctuation.special

(expose_port) @number
(path) @string.special.path
(healthcheck_type) @error

(heredoc_marker) @label
(heredoc_end) @label
(heredoc_body) @string

[ "[" "]" ] @punctuation.bracket
[ "," ":" "@" "=" ] @punctuation.delimiter
