; Each RUN shell form and each RUN heredoc body is its own bash document
; (never combined).  Line continuations and comment lines are children of
; shell_command, so they are left out of the injected ranges (no
; injection.include-children): bash sees the joined logical line, as
; BuildKit does.  heredoc_end is a child of heredoc_body and is left out
; the same way.

((shell_command) @injection.content
  (#set! injection.language "bash"))

(run_instruction
  (heredoc_body) @injection.content
  (#set! injection.language "bash"))

((comment) @injection.content
  (#set! injection.language "comment"))
