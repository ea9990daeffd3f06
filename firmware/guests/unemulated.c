/*
 * Test guest: lock cmpxchg16b in ring 0. Hardware runs it; the kvm_pvm
 * emulator cannot, and vmm does not emulate it either, so there vmm must
 * stop with KVM_EXIT_INTERNAL_ERROR and name the instruction bytes.
 */
#include "fw.h"

static uint64_t pair[2] __attribute__((aligned(16))) = { 1, 2 };

void guest_main(void)
{
	uint64_t lo = 1, hi = 2;
	bool swapped;

	printf("about to execute lock cmpxchg16b in ring 0\n");
	__asm__ volatile("lock cmpxchg16b %1\n\tsete %0"
			 : "=q"(swapped), "+m"(pair), "+a"(lo), "+d"(hi)
			 : "b"(3ull), "c"(4ull) : "memory", "cc");
	printf("cmpxchg16b %s: %lu %lu\n", swapped ? "swapped" : "failed", pair[0], pair[1]);
}
