/* Test guest: writes the command line's exit=N to the debug-exit port. */
#include "fw.h"

void guest_main(void)
{
	unsigned long code = cmdline_get_ulong("exit", 0);
	printf("debug-exit %lu\n", code);
	debug_exit((uint8_t)code);
}
