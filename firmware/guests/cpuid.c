/*
 * Test guest: what CPUID tells each processor. Every CPU checks that its
 * APIC ID agrees in leaf 1, leaf 0xB and the local APIC, that the topology
 * leaves count all CPUs of the MADT (leaf 4 on Intel, 0x80000008 on AMD),
 * and that the KVM leaves are there.
 */
#include "fw.h"

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static struct cpuid_regs cpuid(uint32_t leaf, uint32_t sub)
{
	struct cpuid_regs r;

	__asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(sub));
	return r;
}

static unsigned failures;

static void check(bool ok, unsigned cpu, const char *what)
{
	if (!ok) {
		printf("cpu %u: FAIL %s\n", cpu, what);
		failures++;
	}
}

static void check_cpu(unsigned cpu)
{
	unsigned ncpu = smp_cpu_count(), id = lapic_id();
	struct cpuid_regs l1 = cpuid(1, 0), smt = cpuid(0xb, 0), core = cpuid(0xb, 1), l4 = cpuid(4, 0);
	struct cpuid_regs kvm = cpuid(0x40000000, 0), kvmf = cpuid(0x40000001, 0);

	print_lock();
	printf("cpu %u: apic %u leaf1 %08x %08x %08x %08x leafb %08x/%08x %08x/%08x leaf4 %08x kvm %08x %08x\n",
	       cpu, id, l1.eax, l1.ebx, l1.ecx, l1.edx, smt.ebx, smt.ecx, core.ebx, core.ecx, l4.eax, kvm.eax,
	       kvmf.eax);
	check(l1.ebx >> 24 == id, cpu, "leaf 1 APIC ID");
	check(smt.edx == id && core.edx == id, cpu, "leaf 0xb x2APIC ID");
	check((core.ebx & 0xffff) == ncpu && ((core.ecx >> 8) & 0xff) == 2, cpu, "leaf 0xb core level");
	check((smt.ebx & 0xffff) == 1 && ((smt.ecx >> 8) & 0xff) == 1, cpu, "leaf 0xb SMT level");
	check(((l1.ebx >> 16) & 0xff) >= ncpu, cpu, "leaf 1 logical processor count");
	if (cpuid(0, 0).ebx == 0x68747541)   /* AuthenticAMD */
		check((cpuid(0x80000008, 0).ecx & 0xff) + 1 >= ncpu, cpu, "leaf 0x80000008 cores per package");
	else
		check((l4.eax >> 26) + 1 >= ncpu, cpu, "leaf 4 cores per package");
	check(kvm.ebx == 0x4b4d564b && kvm.ecx == 0x564b4d56 && kvm.edx == 0x4d, cpu, "KVM signature");
	check(l1.ecx & (1u << 31), cpu, "hypervisor bit");
	print_unlock();
}

void guest_ap_main(unsigned cpu)
{
	check_cpu(cpu);
}

void guest_main(void)
{
	check_cpu(0);
	unsigned online = smp_start_aps();
	print_lock();
	printf("%u cpus checked, %u failures\n", online, failures);
	print_unlock();
	if (failures || online != smp_cpu_count())
		debug_exit(FW_EXIT_FAILURE);
}
