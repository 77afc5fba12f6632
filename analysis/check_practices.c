/* check_practices.c - (being written) */
#include "check.h"

void check_practices(struct check_ctx *c) { (void)c; }
