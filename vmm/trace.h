/*
 * --trace: one line on stderr per VM exit, decoded:
 *   vcpu0 pio-out   0x3f8      size 1 value 0x48               serial
 *   vcpu1 mmio-read 0xfee00300 size 4 value 0x0                (unclaimed)
 */
#ifndef VMM_TRACE_H
#define VMM_TRACE_H

#include <stdint.h>

void trace_access(unsigned vcpu, const char *kind, uint64_t addr, const uint8_t *data,
		  unsigned size, const char *device);
void trace_exit(unsigned vcpu, const char *kind);

#endif
