/*
 * Port 0x80: firmware writes POST codes here and Linux uses it as an I/O
 * delay (outb to 0x80). Writes are accepted and ignored; claiming the port
 * keeps them out of the unclaimed-access count, where they would hide real
 * mistakes.
 */
#include "post_code.h"

#include <stdint.h>

static void post_code_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	(void)opaque;
	(void)offset;
	(void)data;
	(void)size;
}

const struct bus_device_ops post_code_ops = {
	.read = bus_read_all_ones,
	.write = post_code_write,
};
