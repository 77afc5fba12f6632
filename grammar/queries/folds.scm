; Multi-line instructions, heredoc bodies and exec arrays fold.
[
  (from_instruction)
  (run_instruction)
  (cmd_instruction)
  (label_instruction)
  (env_instruction)
  (add_instruction)
  (copy_instruction)
  (entrypoint_instruction)
  (volume_instruction)
  (arg_instruction)
  (onbuild_instruction)
  (healthcheck_instruction)
  (shell_instruction)
  (expose_instruction)
  (heredoc_body)
  (json_string_array)
] @fold
