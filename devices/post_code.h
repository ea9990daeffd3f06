/* Port 0x80, the POST code and I/O delay port; see post_code.c. */
#ifndef DEVICES_POST_CODE_H
#define DEVICES_POST_CODE_H

#include "bus.h"

#define POST_CODE_PORT 0x80

extern const struct bus_device_ops post_code_ops;

#endif
