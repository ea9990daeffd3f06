/*
 * Test guest: int3 in ring 0 must arrive as #BP with RIP just past the
 * int3 (a trap), as on hardware. On a PVM host KVM cannot emulate int3;
 * vmm injects the #BP itself (vmm/pvm.c).
 */
#include "fw.h"

extern const char after_int3[];

void guest_main(void)
{
	printf("about to execute int3 in ring 0; the next instruction is at 0x%lx\n", (uint64_t)after_int3);
	__asm__ volatile("int3\n.globl after_int3\nafter_int3:");
	printf("still running after int3\n");
}
