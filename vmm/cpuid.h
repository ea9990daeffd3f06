/* The CPUID table each vCPU gets (KVM_SET_CPUID2). */
#ifndef VMM_CPUID_H
#define VMM_CPUID_H

#include <linux/kvm.h>
#include <stdbool.h>

#include "error.h"

/* What KVM can offer on this host (KVM_GET_SUPPORTED_CPUID); free() it. */
struct kvm_cpuid2 *cpuid_supported(int kvm_fd, struct vmm_error *err);
/*
 * base as one of nr_vcpus vCPUs sees it: its APIC ID, the hypervisor bit
 * and the topology leaves 1, 4, 0xB and 0x1F; free() it.
 */
struct kvm_cpuid2 *cpuid_for_vcpu(const struct kvm_cpuid2 *base, unsigned apic_id, unsigned nr_vcpus);
/* Bits of an APIC ID that number the cores of the package. */
unsigned cpuid_core_id_bits(unsigned nr_vcpus);

#endif
