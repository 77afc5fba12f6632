; Stages: `FROM ... AS name` defines a stage; `COPY --from=name` and
; `FROM name` reference it.  ARG and ENV define variables; expansions
; reference them.  The whole file is one scope (stages and build args are
; file-wide; BuildKit's finer ARG scoping rules live in model/).

(source_file) @local.scope

(from_instruction as: (stage_name) @local.definition.type)

(from_instruction
  image: (image_spec name: (image_name) @local.reference))

((flag
  name: (flag_name) @_name
  value: (unquoted_string) @local.reference)
  (#eq? @_name "from"))

(arg_declaration name: (variable_name) @local.definition.var)
(env_pair key: (variable_name) @local.definition.var)

(variable_expansion name: (variable_name) @local.reference)
