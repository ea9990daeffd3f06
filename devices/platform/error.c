/* Filling a struct vmm_error: the one-line message and exit status of a failure. */
#include "error.h"

#include <stdio.h>

int vmm_fail(struct vmm_error *err, int status, const char *fmt, ...)
{
	va_list ap;

	err->status = status;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}
