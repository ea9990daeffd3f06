/*
 * Interrupts as a device model raises them, without knowing it is KVM:
 * interrupt lines (GSIs) and MSIs, and the two ways a device thread can
 * interrupt the guest with a write(2) to an eventfd (KVM_IRQFD): routed to
 * an MSI, or to a level-triggered line that the kernel lowers by itself at
 * the guest's EOI and reports on a resample eventfd. vmm plugs in KVM
 * (vmm/kvm_irq.c); unit tests plug in recorders. The eventfd operations are
 * optional: where they are NULL, devices use set_gsi and send_msi.
 */
#ifndef PLATFORM_IRQ_H
#define PLATFORM_IRQ_H

#include <stdbool.h>
#include <stdint.h>

struct irq_controller_ops {
	void (*set_gsi)(void *ctx, uint32_t gsi, bool level);
	void (*send_msi)(void *ctx, uint64_t addr, uint32_t data);
	/* Routes MSI (addr, data) to eventfd fd; *route is -1 the first time. */
	int (*msi_irqfd)(void *ctx, int *route, int fd, uint64_t addr, uint32_t data);
	void (*msi_irqfd_release)(void *ctx, int route, int fd);
	/* A write to fd asserts gsi until the guest's EOI, which lowers it and signals resample_fd. */
	int (*intx_irqfd)(void *ctx, uint32_t gsi, int fd, int resample_fd, bool assign);
};

struct irq_controller {
	const struct irq_controller_ops *ops;
	void *ctx;
};

/* One interrupt line (GSI) of a device; only level changes are passed on. */
struct irq_line {
	struct irq_controller *ctl;
	uint32_t gsi;
	bool level;
};

static inline void irq_line_set(struct irq_line *line, bool level)
{
	if (line->level == level)
		return;
	line->level = level;
	line->ctl->ops->set_gsi(line->ctl->ctx, line->gsi, level);
}

#endif
