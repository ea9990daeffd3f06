/*
 * The one function of the 8042 keyboard controller that PC software still
 * relies on without a keyboard: command 0xFE on port 0x64 pulses the CPU
 * reset line (IBM PC/AT Technical Reference, keyboard controller commands).
 * vmm does not reboot; a reset stops the VM with success, which is also what
 * QEMU does with -no-reboot. The status register reads 0: no data waiting
 * and the input buffer free, so a driver polling it never spins.
 */
#include "i8042.h"

#include <stdint.h>


static void i8042_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	(void)opaque;
	(void)offset;
	for (unsigned i = 0; i < size; i++)
		data[i] = 0;
}

static void i8042_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	const struct power_control *power = opaque;

	(void)offset;
	(void)size;
	if (data[0] == I8042_CMD_RESET)
		power->request_stop(power->ctx, 0, "guest reset through the i8042");
}

const struct bus_device_ops i8042_ops = {
	.read = i8042_read,
	.write = i8042_write,
};
