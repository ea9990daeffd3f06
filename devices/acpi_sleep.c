/*
 * Sleep control and status registers of a hardware-reduced ACPI platform
 * (ACPI 6.5, 4.8.3.7 and 4.8.3.8), named in the FADT. The OS powers off by
 * writing SLP_TYP (the \_S5 value from the DSDT) with SLP_EN set; that
 * stops the VM with success. Other sleep states are not offered (the DSDT
 * has no \_S1 to \_S4), so any other write is ignored. The status
 * register reads 0: the machine never wakes from sleep.
 */
#include "acpi_sleep.h"

#include <stdint.h>

#define SLP_TYP_SHIFT 2
#define SLP_TYP_MASK 7
#define SLP_EN (1u << 5)
#define CONTROL_OFFSET 0

static void acpi_sleep_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	(void)opaque;
	(void)offset;
	for (unsigned i = 0; i < size; i++)
		data[i] = 0;
}

static void acpi_sleep_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	const struct power_control *power = opaque;

	(void)size;
	if (offset == CONTROL_OFFSET && (data[0] & SLP_EN) &&
	    ((data[0] >> SLP_TYP_SHIFT) & SLP_TYP_MASK) == ACPI_SLEEP_TYPE_S5)
		power->request_stop(power->ctx, 0, "guest powered off (ACPI S5)");
}

const struct bus_device_ops acpi_sleep_ops = {
	.read = acpi_sleep_read,
	.write = acpi_sleep_write,
};
