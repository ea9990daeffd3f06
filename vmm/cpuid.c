/*
 * CPUID for the guest: what KVM supports, with the hypervisor-present bit
 * (leaf 1 ECX[31]) that sends the guest to the KVM leaves at 0x40000000,
 * and one topology told the same way by every leaf that describes it
 * (Intel SDM vol. 2A, CPUID; vol. 3A 9.9 "Topology identification"): one
 * package, one core per vCPU, one thread per core, APIC ID = vCPU index.
 * AMD processors tell the core count in leaf 0x80000008 and the core of
 * each processor in leaf 0x8000001E instead of leaf 4 (AMD APM vol. 3,
 * appendix E.4.7 and E.4.15), so those are filled in on AMD hosts.
 */
#include "cpuid.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define CPUID_MAX_ENTRIES 256
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_HTT (1u << 28)
#define TOPOLOGY_LEVEL_SMT 1
#define TOPOLOGY_LEVEL_CORE 2
#define TOPOLOGY_SUBLEAVES 3   /* SMT, core, and the invalid level that ends the list */
#define VENDOR_EBX_AMD 0x68747541     /* "Auth" of AuthenticAMD */
#define VENDOR_EBX_HYGON 0x6f677948   /* "Hygo" of HygonGenuine */

static size_t cpuid_bytes(unsigned nent)
{
	return sizeof(struct kvm_cpuid2) + nent * sizeof(struct kvm_cpuid_entry2);
}

struct kvm_cpuid2 *cpuid_supported(int kvm_fd, struct vmm_error *err)
{
	struct kvm_cpuid2 *c = calloc(1, cpuid_bytes(CPUID_MAX_ENTRIES));

	if (!c) {
		vmm_fail(err, VMM_EXIT_RUNTIME, "out of memory");
		return NULL;
	}
	c->nent = CPUID_MAX_ENTRIES;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		vmm_fail(err, VMM_EXIT_RUNTIME, "KVM_GET_SUPPORTED_CPUID failed: %s", strerror(errno));
		free(c);
		return NULL;
	}
	return c;
}

/* Bits of an APIC ID that number the cores of the package. */
unsigned cpuid_core_id_bits(unsigned nr_vcpus)
{
	unsigned bits = 0;

	while ((1u << bits) < nr_vcpus)
		bits++;
	return bits;
}

/* Fields narrower than the APIC ID space saturate. */
static uint32_t field(uint32_t v, uint32_t max)
{
	return v < max ? v : max;
}

static void set_leaf1(struct kvm_cpuid_entry2 *e, unsigned apic_id, unsigned core_bits)
{
	e->ebx = (e->ebx & 0x0000ffff) | (apic_id << 24) | (field(1u << core_bits, 0xff) << 16);
	e->ecx |= CPUID_1_ECX_HYPERVISOR;
	e->edx |= CPUID_1_EDX_HTT;   /* says EBX[23:16] is valid */
}

/* Leaf 4: caches below L3 belong to one core, L3 to the package. */
static void set_leaf4(struct kvm_cpuid_entry2 *e, unsigned core_bits)
{
	unsigned level = (e->eax >> 5) & 7;
	uint32_t sharing = level >= 3 ? (1u << core_bits) - 1 : 0;

	if ((e->eax & 0x1f) == 0)
		return;   /* no cache at this index */
	e->eax = (e->eax & 0x00003fff) | (sharing << 14) | (field((1u << core_bits) - 1, 0x3f) << 26);
}

/* 0x80000008 ECX: ApicIdSize[15:12] and NC[7:0] = cores - 1. */
static void set_amd_core_count(struct kvm_cpuid_entry2 *e, unsigned nr_vcpus, unsigned core_bits)
{
	e->ecx = (e->ecx & ~0xf0ffu) | (core_bits << 12) | field(nr_vcpus - 1, 0xff);
}

/* 0x8000001E: extended APIC ID, core ID (one thread per core), node 0 of 1. */
static void set_amd_core_id(struct kvm_cpuid_entry2 *e, unsigned apic_id)
{
	e->eax = apic_id;
	e->ebx = (e->ebx & ~0xffffu) | (apic_id & 0xff);
	e->ecx &= ~0x7ffu;
}

static bool is_amd(const struct kvm_cpuid2 *c)
{
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0)
			return c->entries[i].ebx == VENDOR_EBX_AMD || c->entries[i].ebx == VENDOR_EBX_HYGON;
	return false;
}

/* Leaves 0xB and 0x1F: the SMT level, the core level, then the end. */
static void add_topology_leaf(struct kvm_cpuid2 *c, uint32_t function, unsigned apic_id, unsigned nr_vcpus,
			      unsigned core_bits)
{
	const uint32_t eax[TOPOLOGY_SUBLEAVES] = { 0, core_bits, 0 };
	const uint32_t ebx[TOPOLOGY_SUBLEAVES] = { 1, nr_vcpus, 0 };
	const uint32_t type[TOPOLOGY_SUBLEAVES] = { TOPOLOGY_LEVEL_SMT, TOPOLOGY_LEVEL_CORE, 0 };

	for (uint32_t i = 0; i < TOPOLOGY_SUBLEAVES; i++)
		c->entries[c->nent++] = (struct kvm_cpuid_entry2){
			.function = function, .index = i, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
			.eax = eax[i], .ebx = ebx[i], .ecx = (type[i] << 8) | i, .edx = apic_id,
		};
}

struct kvm_cpuid2 *cpuid_for_vcpu(const struct kvm_cpuid2 *base, unsigned apic_id, unsigned nr_vcpus)
{
	struct kvm_cpuid2 *c = calloc(1, cpuid_bytes(base->nent + 2 * TOPOLOGY_SUBLEAVES));
	unsigned core_bits = cpuid_core_id_bits(nr_vcpus);
	bool has_0x1f = false, amd = is_amd(base);

	if (!c)
		return NULL;
	for (unsigned i = 0; i < base->nent; i++) {
		struct kvm_cpuid_entry2 e = base->entries[i];
		if (e.function == 0xb || e.function == 0x1f) {
			has_0x1f |= e.function == 0x1f;
			continue;
		}
		if (e.function == 1)
			set_leaf1(&e, apic_id, core_bits);
		else if (e.function == 4)
			set_leaf4(&e, core_bits);
		else if (e.function == 0x80000008 && amd)
			set_amd_core_count(&e, nr_vcpus, core_bits);
		else if (e.function == 0x8000001e && amd)
			set_amd_core_id(&e, apic_id);
		c->entries[c->nent++] = e;
	}
	add_topology_leaf(c, 0xb, apic_id, nr_vcpus, core_bits);
	if (has_0x1f)
		add_topology_leaf(c, 0x1f, apic_id, nr_vcpus, core_bits);
	return c;
}
