# BuildKit's testCopyVarSubstitution.
check() { content /baz bar-contents; }
