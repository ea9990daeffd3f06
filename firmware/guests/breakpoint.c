/*
 * Test guest: int3 in ring 0. On hardware with VT-x/AMD-V this is an
 * ordinary #BP, which the runtime reports as an exception. On a PVM host
 * (shared/notes) KVM cannot emulate it and stops with
 * KVM_EXIT_INTERNAL_ERROR, which exercises vmm's report of that exit.
 */
#include "fw.h"

void guest_main(void)
{
	printf("about to execute int3 in ring 0\n");
	__asm__ volatile("int3");
	printf("still running after int3\n");
}
