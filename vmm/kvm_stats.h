/*
 * KVM's own per-vCPU counters (KVM_GET_STATS_FD): every VM exit, also those
 * the kernel handles without returning to vmm (ioeventfd kicks, in-kernel
 * APIC accesses, HLT), which is what a benchmark's "exits per operation" is.
 */
#ifndef VMM_KVM_STATS_H
#define VMM_KVM_STATS_H

#include <stdbool.h>
#include <stdint.h>

enum kvm_counter {
	KVM_COUNTER_EXITS,
	KVM_COUNTER_IO_EXITS,
	KVM_COUNTER_MMIO_EXITS,
	KVM_COUNTER_HALT_EXITS,
	KVM_COUNTER_IRQ_INJECTIONS,
	KVM_COUNTER_INSN_EMULATION,
	KVM_NR_COUNTERS,
};

struct kvm_counters {
	bool available;
	uint64_t value[KVM_NR_COUNTERS];
};

extern const char *const kvm_counter_names[KVM_NR_COUNTERS];

/* Reads the counters of one vCPU; available is false if KVM has no stats fd. */
struct kvm_counters kvm_vcpu_counters(int vcpu_fd);

#endif
