/* The ACPI sleep control and status registers; see acpi_sleep.c. */
#ifndef DEVICES_ACPI_SLEEP_H
#define DEVICES_ACPI_SLEEP_H

#include "bus.h"
#include "power.h"

#define ACPI_SLEEP_PORT 0x600        /* control at +0, status at +1 */
#define ACPI_SLEEP_LEN 2
#define ACPI_SLEEP_TYPE_S5 5         /* the value the DSDT's \_S5 names */

extern const struct bus_device_ops acpi_sleep_ops;   /* opaque: struct power_control * */

#endif
