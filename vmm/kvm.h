/* /dev/kvm: opening it, and what the VMM needs of it. */
#ifndef VMM_KVM_H
#define VMM_KVM_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"

struct kvm_host {
	int fd;
	int api_version;
	int max_vcpus;
	int run_size;       /* bytes of the mmap'd struct kvm_run */
	bool pvm;           /* the host module is kvm_pvm (no VT-x/AMD-V) */
};

/* Opens /dev/kvm and checks the API version and every capability vmm uses. */
int kvm_host_open(struct kvm_host *h, struct vmm_error *err);
void kvm_host_close(struct kvm_host *h);
/* `vmm info`: the host's KVM, capability by capability. */
int kvm_host_describe(FILE *out, struct vmm_error *err);

#endif
