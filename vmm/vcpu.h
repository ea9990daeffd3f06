/* One vCPU: its KVM file descriptor, run area, thread and exit counters. */
#ifndef VMM_VCPU_H
#define VMM_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define VCPU_EXIT_REASONS 64   /* KVM_EXIT_* values are below this */

struct vm;

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	uint64_t exits[VCPU_EXIT_REASONS];
	uint64_t pvm_recoveries;     /* emulation failures vmm handled (pvm.h) */
};

int vcpu_init(struct vcpu *v, struct vm *vm, unsigned id, const struct kvm_cpuid2 *cpuid,
	      struct vmm_error *err);
void vcpu_destroy(struct vcpu *v);
/* Start-of-day state for the PVH entry: 32-bit protected mode, paging off. */
int vcpu_set_pvh_entry(struct vcpu *v, uint32_t entry, uint32_t start_info, struct vmm_error *err);
/* Start-of-day state for the Linux 64-bit boot protocol (boot/long_mode.h). */
int vcpu_set_long_mode_entry(struct vcpu *v, uint64_t entry, uint64_t boot_params, struct vmm_error *err);
void *vcpu_thread(void *arg);
/* Reads the registers and up to max code bytes at CS:RIP (0 if unmapped). */
size_t vcpu_code_bytes(struct vcpu *v, uint8_t *buf, size_t max, struct kvm_regs *regs,
		       struct kvm_sregs *sregs);
/* Makes the vCPU leave KVM_RUN soon (from any thread). */
void vcpu_kick(struct vcpu *v);
const char *vcpu_exit_name(unsigned reason);

#endif
