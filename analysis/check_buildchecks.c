/* check_buildchecks.c - (being written) */
#include "check.h"

void check_buildchecks(struct check_ctx *c) { (void)c; }
