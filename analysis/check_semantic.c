/* check_semantic.c - (being written) */
#include "check.h"

void check_semantic(struct check_ctx *c) { (void)c; }
