/*
 * Error reporting: functions that can fail fill a struct vmm_error and
 * return -1; main() prints its one line and picks the exit status.
 */
#ifndef PLATFORM_ERROR_H
#define PLATFORM_ERROR_H

#include <stdarg.h>

/* Exit statuses of the vmm command (docs/cli.md). */
enum vmm_status {
	VMM_EXIT_OK = 0,          /* guest powered off or reset, or stopped from the console */
	VMM_EXIT_RUNTIME = 1,     /* the VMM could not start or keep running the VM */
	VMM_EXIT_USAGE = 2,       /* bad options, values or input files */
	VMM_EXIT_GUEST_CRASH = 4, /* triple fault, emulation failure, failed VM entry */
	/* Odd statuses (v << 1) | 1 come from the debug-exit port; 128 + N from signal N. */
};

struct vmm_error {
	int status;
	char msg[512];
};

/* Records a message and status in err and returns -1. */
int vmm_fail(struct vmm_error *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
