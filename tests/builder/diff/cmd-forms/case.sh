# CMD forms: shell form wrapped in the shell, JSON form as is (escapes
# decoded), and a line that is not valid JSON taken as shell form
# (parser: parseMaybeJSON).
check() { cfg .Cmd '["/bin/sh","-c","[ \"not json"]'; }
