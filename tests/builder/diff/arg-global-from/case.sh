# Global ARGs (before the first FROM) expand in FROM, one referring to
# another; inside a stage only when declared there (dispatchArg takes the
# global value for a bare ARG).
check() { content /base "$BASE"; }
