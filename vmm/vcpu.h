/* One vCPU: its KVM file descriptor, run area, thread and exit counters. */
#ifndef VMM_VCPU_H
#define VMM_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <stdatomic.h>
#include <stdbool.h>

#include "bus.h"
#include "error.h"
#include "guest_mem.h"
#include "power.h"

#define VCPU_EXIT_REASONS 64   /* KVM_EXIT_* values are below this */

/* What a vCPU thread needs of its VM, and nothing else. */
struct vcpu_env {
	int vm_fd;
	size_t run_size;               /* bytes of the mmap'd struct kvm_run */
	unsigned nr_vcpus;
	struct bus *pio, *mmio;
	const struct guest_mem *mem;
	bool trace;
	bool pvm;                      /* carry out what kvm_pvm's emulator cannot (pvm.h) */
	atomic_bool *stopping;
	struct power_control stop;     /* ends the VM with a status and a reason */
	struct kvm_coalesced_mmio_ring *coalesced;   /* KVM's buffered MMIO writes, or NULL */
	pthread_mutex_t *coalesced_lock;
};

struct vcpu {
	const struct vcpu_env *env;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	uint64_t exits[VCPU_EXIT_REASONS];
	uint64_t pvm_recoveries;     /* emulation failures vmm handled (pvm.h) */
};

int vcpu_init(struct vcpu *v, const struct vcpu_env *env, unsigned id, const struct kvm_cpuid2 *cpuid,
	      struct vmm_error *err);
void vcpu_destroy(struct vcpu *v);
/* Start-of-day state for the PVH entry: 32-bit protected mode, paging off. */
int vcpu_set_pvh_entry(struct vcpu *v, uint32_t entry, uint32_t start_info, struct vmm_error *err);
/* Start-of-day state for the Linux 64-bit boot protocol (boot/long_mode.h). */
int vcpu_set_long_mode_entry(struct vcpu *v, uint64_t entry, uint64_t boot_params, struct vmm_error *err);
void *vcpu_thread(void *arg);
/* Hands the MMIO writes KVM buffered (coalesced MMIO) to their devices, in order. */
void vcpu_flush_coalesced(const struct vcpu_env *env);
/* Makes the vCPU leave KVM_RUN soon (from any thread). */
void vcpu_kick(struct vcpu *v);
const char *vcpu_exit_name(unsigned reason);

#endif
