/* ACPI fixed-hardware power management registers (PM1 event and control, PM timer); see acpi_pm.c. */
#ifndef DEVICES_ACPI_PM_H
#define DEVICES_ACPI_PM_H

#include <stdint.h>

#include "bus.h"
#include "power.h"

#define ACPI_PM_PORT 0x600          /* where SeaBIOS puts it (QEMU pc with the table loader): PM1 event +0, control +4, timer +8 */
#define ACPI_PM_LEN 12
#define ACPI_PM1_EVT_OFFSET 0       /* PM1_STS (2 bytes), PM1_EN (2 bytes) */
#define ACPI_PM1_CNT_OFFSET 4
#define ACPI_PM_TMR_OFFSET 8
#define ACPI_PM_TIMER_HZ 3579545
#define ACPI_PM_SCI_GSI 9
#define ACPI_PM_S5_TYPE 0           /* SLP_TYP for soft-off: the PIIX4's SUS_TYP 0, as QEMU's PM1 control and OVMF have it; the DSDT's \_S5 says so */

/* Where the timer's time comes from: CLOCK_MONOTONIC, or a test's. */
struct acpi_pm_clock {
	int64_t (*monotonic_ns)(void *ctx);
	void *ctx;
};

struct acpi_pm;

/* clock NULL: the host's. */
struct acpi_pm *acpi_pm_create(struct power_control power, const struct acpi_pm_clock *clock);
void acpi_pm_destroy(struct acpi_pm *pm);

/* The 12 ports on the port I/O bus: opaque is the struct acpi_pm. */
extern const struct bus_device_ops acpi_pm_ops;

#endif
