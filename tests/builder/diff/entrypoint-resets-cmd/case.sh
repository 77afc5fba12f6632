# ENTRYPOINT clears a CMD inherited from the base (dispatchEntrypoint:
# Cmd = nil unless this stage set one).
check() { cfg .Entrypoint '["/bin/echo"]'; cfg .Cmd 'null'; }
