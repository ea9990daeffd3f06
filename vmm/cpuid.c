/*
 * CPUID for the guest: what KVM supports, with the per-vCPU APIC ID in
 * leaf 1 EBX[31:24] and in the x2APIC topology leaves 0xB and 0x1F (EDX),
 * and the hypervisor-present bit (leaf 1 ECX[31]) that tells the guest to
 * look for the KVM leaves at 0x40000000.
 */
#include "cpuid.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define CPUID_MAX_ENTRIES 256
#define CPUID_1_ECX_HYPERVISOR (1u << 31)

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

struct kvm_cpuid2 *cpuid_for_vcpu(const struct kvm_cpuid2 *base, unsigned apic_id)
{
	struct kvm_cpuid2 *c = malloc(cpuid_bytes(base->nent));

	if (!c)
		return NULL;
	memcpy(c, base, cpuid_bytes(base->nent));
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x00ffffff) | (apic_id << 24);
			e->ecx |= CPUID_1_ECX_HYPERVISOR;
			break;
		case 0xb:
		case 0x1f:
			e->edx = apic_id;
			break;
		}
	}
	return c;
}
