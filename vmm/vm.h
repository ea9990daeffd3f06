/*
 * One virtual machine: KVM's objects, the machine (memory, buses,
 * devices), the console and the vCPU threads, and how it stops.
 * vm.c builds and tears it down; main_loop.c runs it.
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "bzimage.h"
#include "config.h"
#include "console.h"
#include "error.h"
#include "firmware.h"
#include "kvm.h"
#include "kvm_irq.h"
#include "machine.h"
#include "vcpu.h"

/* A kernel or initrd image: a read-only file mapping and the open file, or built-in bytes. */
struct mapped_file {
	const uint8_t *data;
	size_t len;
	bool mapped;
	int fd;          /* when mapped: the loader copies the bulk with pread() (boot/blob.h) */
};

struct vm {
	struct vm_config cfg;
	struct kvm_host kvm;
	int fd;
	struct kvm_irq kvm_irq;
	struct machine machine;
	struct console console;
	struct vcpu_env vcpu_env;
	pthread_mutex_t coalesced_lock;
	struct vcpu *vcpus;
	unsigned nr_vcpus;
	struct mapped_file kernel_file, initrd_file;   /* until loaded */
	struct firmware_image firmware;                /* --firmware: mapped at the top of 4 GiB */
	struct firmware_vars vars;                     /* UEFI's variable store, below the firmware */
	enum bzimage_decompress decompress;

	sigset_t stop_signals;      /* SIGINT, SIGTERM: blocked, read from a signalfd */
	atomic_bool stopping;
	int stop_status;
	char stop_reason[256];
	pthread_mutex_t stop_lock;
	int stop_event;             /* eventfd: a stop was requested */
	int console_ready_event;    /* eventfd: the UART can take input again */
};

int vm_create(struct vm *vm, const struct vm_config *cfg, struct vmm_error *err);
/* Runs the VM until it stops; returns the vmm exit status (main_loop.c). */
int vm_run(struct vm *vm);
/* Blocks the stop signals in this thread and all it will start (main_loop.c). */
void vm_block_signals(struct vm *vm);
void vm_destroy(struct vm *vm);
/* Any thread may call this; the first request decides the exit status. */
void vm_request_stop(struct vm *vm, int status, const char *reason);

#endif
