/*
 * KVM behind the platform's interfaces: struct irq_controller (interrupt
 * lines through KVM_IRQ_LINE, MSIs through KVM_SIGNAL_MSI or an irqfd on a
 * GSI route, INTx on a resampling irqfd) and struct ioevents (ioeventfds,
 * coalesced MMIO zones).
 */
#ifndef VMM_KVM_IRQ_H
#define VMM_KVM_IRQ_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>

#include "error.h"
#include "ioevent.h"
#include "irq.h"

#define KVM_IRQ_MAX_ROUTES 1024

struct kvm_irq {
	int vm_fd;
	pthread_mutex_t lock;
	struct kvm_irq_routing *routing;   /* the whole table, as KVM_SET_GSI_ROUTING wants it */
	uint32_t next_gsi;
	atomic_uint coalesced_zones;       /* coalesced MMIO zones registered now (port ones aside) */
};

/* Installs the PC routing (PIC and IOAPIC pins) on a VM that has an irqchip. */
int kvm_irq_init(struct kvm_irq *k, int vm_fd, struct vmm_error *err);
void kvm_irq_destroy(struct kvm_irq *k);
struct irq_controller kvm_irq_controller(struct kvm_irq *k);
struct ioevents kvm_ioevents(struct kvm_irq *k);

#endif
