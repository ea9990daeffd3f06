/*
 * One virtual machine: its KVM objects, guest memory, buses, devices and
 * vCPU threads, and the main thread's event loop that stops it.
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "acpi.h"
#include "bus.h"
#include "config.h"
#include "console.h"
#include "disks.h"
#include "nics.h"
#include "error.h"
#include "guest_mem.h"
#include "iothread.h"
#include "irq.h"
#include "kvm.h"
#include "kvm_irq.h"
#include "memmap.h"
#include "pci.h"
#include "power.h"
#include "vcpu.h"

struct serial;

/* A kernel or initrd image: a read-only file mapping, or built-in bytes. */
struct mapped_file {
	const uint8_t *data;
	size_t len;
	bool mapped;
};

struct vm {
	struct vm_config cfg;
	struct kvm_host kvm;
	int fd;
	struct memmap map;
	struct guest_mem mem;
	struct bus pio;
	struct bus mmio;
	struct kvm_irq kvm_irq;
	struct irq_controller irqchip;
	struct iothread io;
	struct pci_host pci;
	struct vm_disk disks[VMM_MAX_DISKS];
	struct vm_nic nics[VMM_MAX_NICS];
	struct acpi_mmio_device mmio_devices[VMM_MAX_DISKS + VMM_MAX_NICS];
	unsigned nr_mmio_devices;
	char extra_cmdline[512];   /* what the VMM adds to the kernel command line */
	struct power_control power;
	struct console console;
	struct serial *serial;
	struct vcpu *vcpus;
	unsigned nr_vcpus;
	struct mapped_file kernel_file, initrd_file;   /* until loaded */

	atomic_bool stopping;
	int stop_status;
	char stop_reason[256];
	pthread_mutex_t stop_lock;
	int stop_event;             /* eventfd: a stop was requested */
	int console_ready_event;    /* eventfd: the UART can take input again */
};

int vm_create(struct vm *vm, const struct vm_config *cfg, struct vmm_error *err);
/* Runs the VM until it stops; returns the vmm exit status. */
int vm_run(struct vm *vm);
void vm_destroy(struct vm *vm);
/* Any thread may call this; the first request decides the exit status. */
void vm_request_stop(struct vm *vm, int status, const char *reason);

#endif
