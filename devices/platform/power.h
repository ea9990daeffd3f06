/* How a device asks the VMM to stop the machine (power off, reset, exit). */
#ifndef PLATFORM_POWER_H
#define PLATFORM_POWER_H

struct power_control {
	void (*request_stop)(void *ctx, int status, const char *reason);
	void *ctx;
};

#endif
