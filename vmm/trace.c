/* --trace: one decoded line per VM exit on stderr. */
#include "trace.h"

#include <inttypes.h>
#include <stdio.h>

void trace_access(unsigned vcpu, const char *kind, uint64_t addr, const uint8_t *data,
		  unsigned size, const char *device)
{
	uint64_t value = 0;

	for (unsigned i = 0; i < size && i < sizeof(value); i++)
		value |= (uint64_t)data[i] << (8 * i);
	fprintf(stderr, "vcpu%u %-10s 0x%-10" PRIx64 " size %u value 0x%-16" PRIx64 " %s\n", vcpu, kind,
		addr, size, value, device ? device : "(unclaimed)");
}

void trace_exit(unsigned vcpu, const char *kind)
{
	fprintf(stderr, "vcpu%u %s\n", vcpu, kind);
}
