/* check_buildkit.c - (being written) */
#include "check.h"

void check_buildkit(struct check_ctx *c) { (void)c; }
