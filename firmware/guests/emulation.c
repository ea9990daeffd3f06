/*
 * Test guest: ring-0 instructions that the kvm_pvm emulator lacks and vmm
 * carries out itself (vmm/pvm.c): popcnt in every operand size, with REX
 * registers; ldmxcsr/stmxcsr through base+displacement, SIB and
 * RIP-relative operands; clac/stac; fwait. On hardware they simply run;
 * the results must be the same.
 */
#include "fw.h"

static unsigned failures;

static void expect(uint64_t got, uint64_t want, const char *what)
{
	if (got != want) {
		printf("FAIL %s: 0x%lx, expected 0x%lx\n", what, got, want);
		failures++;
	}
}

static void check_popcnt(void)
{
	uint64_t r64, r32, src = 0xf0f0f0f0f0f0f0ffull, flags;
	uint16_t r16;
	register uint64_t r9 __asm__("r9") = src;
	register uint64_t r14 __asm__("r14");

	__asm__ volatile("popcnt %1, %0" : "=r"(r64) : "r"(src));
	expect(r64, 36, "popcnt r64");
	__asm__ volatile("popcnt %k1, %k0" : "=r"(r32) : "r"(src));
	expect(r32, 20, "popcnt r32");
	__asm__ volatile("popcnt %w1, %w0" : "=r"(r16) : "r"(src));
	expect(r16, 12, "popcnt r16");
	__asm__ volatile("popcnt %1, %0" : "=r"(r14) : "r"(r9));
	expect(r14, 36, "popcnt r9 -> r14");
	__asm__ volatile("popcnt %2, %0\n\tpushf\n\tpop %1" : "=r"(r64), "=r"(flags) : "r"(0ull) : "cc");
	expect(r64, 0, "popcnt of 0");
	expect(flags & 0x8d5, 0x40, "popcnt flags (ZF only)");
}

/* Global: the asm below names it. */
uint32_t mxcsr_rip_relative = 0x1f80 | 0x6000;   /* round toward zero */

static void check_mxcsr(void)
{
	uint32_t value[4] = { 0x1f80 | 0x2000, 0, 0, 0 }, out = 0;
	uint64_t index = 2;

	value[2] = 0x1f80 | 0x4000;
	__asm__ volatile("ldmxcsr %0" : : "m"(value[0]));
	__asm__ volatile("stmxcsr %0" : "=m"(out));
	expect(out, 0x3f80, "ldmxcsr/stmxcsr [base+disp]");
	__asm__ volatile("ldmxcsr (%0,%1,4)" : : "r"(value), "r"(index) : "memory");
	__asm__ volatile("stmxcsr 4(%0,%1,4)" : : "r"(value), "r"(index) : "memory");
	expect(value[3], 0x5f80, "ldmxcsr/stmxcsr [base+index*4+disp]");
	__asm__ volatile("ldmxcsr mxcsr_rip_relative(%%rip)" : : : "memory");
	__asm__ volatile("stmxcsr %0" : "=m"(out));
	expect(out, 0x7f80, "ldmxcsr [rip+disp]");
	value[0] = 0x1f80;
	__asm__ volatile("ldmxcsr %0" : : "m"(value[0]));
}

/* clac and stac exist only where CPUID.(7,0):EBX.SMAP[20] says so (#UD elsewhere). */
static bool has_smap(void)
{
	uint32_t eax = 7, ebx, ecx = 0, edx;

	__asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
	return ebx & (1u << 20);
}

static void check_clac_stac(void)
{
	uint64_t flags;

	if (!has_smap()) {
		printf("no SMAP: clac/stac not checked\n");
		return;
	}
	__asm__ volatile(".byte 0x0f, 0x01, 0xcb\n\tpushf\n\tpop %0" : "=r"(flags));   /* stac */
	expect(flags & (1u << 18), 1u << 18, "stac sets AC");
	__asm__ volatile(".byte 0x0f, 0x01, 0xca\n\tpushf\n\tpop %0" : "=r"(flags));   /* clac */
	expect(flags & (1u << 18), 0, "clac clears AC");
}

void guest_main(void)
{
	check_popcnt();
	check_mxcsr();
	check_clac_stac();
	__asm__ volatile("fninit\n\tfwait");
	printf("emulation checks done, %u failures\n", failures);
	if (failures)
		debug_exit(FW_EXIT_FAILURE);
}
