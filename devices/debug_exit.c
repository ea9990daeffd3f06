/*
 * The debug-exit port of QEMU's isa-debug-exit device (hw/misc/debugexit.c,
 * iobase 0x501, iosize 1): writing v ends the VMM with status (v << 1) | 1,
 * so one test guest reports the same status under QEMU and under vmm.
 * The status is an 8-bit process exit status, so only the low 7 bits of v
 * survive, as under QEMU.
 */
#include "debug_exit.h"

#include <stdint.h>

static void debug_exit_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	const struct power_control *power = opaque;
	unsigned value = 0;

	(void)offset;
	for (unsigned i = 0; i < size && i < sizeof(value); i++)
		value |= (unsigned)data[i] << (8 * i);
	power->request_stop(power->ctx, debug_exit_status(value), "guest wrote to the debug-exit port");
}

const struct bus_device_ops debug_exit_ops = {
	.read = bus_read_all_ones,
	.write = debug_exit_write,
};
