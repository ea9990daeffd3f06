/* --stats: exit counts per vCPU and reason, and accesses per device. */
#ifndef VMM_STATS_H
#define VMM_STATS_H

#include <stdio.h>

struct vm;

void stats_print(FILE *out, struct vm *vm);

#endif
