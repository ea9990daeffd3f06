/* The CPUID table each vCPU gets (KVM_SET_CPUID2). */
#ifndef VMM_CPUID_H
#define VMM_CPUID_H

#include <linux/kvm.h>

#include "error.h"

/* What KVM can offer on this host (KVM_GET_SUPPORTED_CPUID); free() it. */
struct kvm_cpuid2 *cpuid_supported(int kvm_fd, struct vmm_error *err);
/* A copy of base for one vCPU, with its APIC ID and the hypervisor bit; free() it. */
struct kvm_cpuid2 *cpuid_for_vcpu(const struct kvm_cpuid2 *base, unsigned apic_id);

#endif
