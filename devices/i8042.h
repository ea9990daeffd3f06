/* The reset line of the PC keyboard controller; see i8042.c. */
#ifndef DEVICES_I8042_H
#define DEVICES_I8042_H

#include "bus.h"
#include "power.h"

#define I8042_COMMAND_PORT 0x64
#define I8042_CMD_RESET 0xfe

extern const struct bus_device_ops i8042_ops;   /* opaque: struct power_control * */

#endif
