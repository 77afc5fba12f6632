/* check_syntax.c - (being written) */
#include "check.h"

void check_syntax(struct check_ctx *c) { (void)c; }
