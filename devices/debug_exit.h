/* QEMU-compatible isa-debug-exit port; see debug_exit.c. */
#ifndef DEVICES_DEBUG_EXIT_H
#define DEVICES_DEBUG_EXIT_H

#include "bus.h"
#include "power.h"

#define DEBUG_EXIT_PORT 0x501
#define DEBUG_EXIT_LEN 1

/* The exit status for a written value, as QEMU computes it. */
static inline int debug_exit_status(unsigned value)
{
	return (int)(((value << 1) | 1) & 0xff);
}

extern const struct bus_device_ops debug_exit_ops;   /* opaque: struct power_control * */

#endif
