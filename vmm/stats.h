/* --stats: exit counts per vCPU and reason, accesses per device, frames per NIC. */
#ifndef VMM_STATS_H
#define VMM_STATS_H

#include <stdio.h>

#include "machine.h"
#include "vcpu.h"

void stats_print(FILE *out, const struct vcpu *vcpus, unsigned nr_vcpus, struct machine *m);

#endif
