/* /dev/kvm: opening it, and what the VMM needs of it. */
#ifndef VMM_KVM_H
#define VMM_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "guest_mem.h"

struct kvm_host {
	int fd;
	int api_version;
	int max_vcpus;
	int run_size;       /* bytes of the mmap'd struct kvm_run */
	bool pvm;           /* the host module is kvm_pvm (no VT-x/AMD-V) */
	int coalesced_mmio_page;   /* page of the run area with KVM's coalesced MMIO ring; 0: none */
};

/* Opens /dev/kvm and checks the API version and every capability vmm uses. */
int kvm_host_open(struct kvm_host *h, struct vmm_error *err);
void kvm_host_close(struct kvm_host *h);
/* The host's KVM is kvm_pvm (known without opening /dev/kvm). */
bool kvm_host_is_pvm(void);
/* `vmm info`: the host's KVM, capability by capability. */
int kvm_host_describe(FILE *out, struct vmm_error *err);
/* Reads a vCPU's registers and up to max code bytes at CS:RIP (0 if unmapped). */
size_t kvm_vcpu_code_bytes(int vcpu_fd, const struct guest_mem *mem, uint8_t *buf, size_t max,
			   struct kvm_regs *regs, struct kvm_sregs *sregs);

#endif
