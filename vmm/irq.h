/*
 * How a device model raises interrupts without knowing KVM: an interrupt
 * controller behind a small ops table. The VMM plugs in KVM's in-kernel
 * IOAPIC/PIC and MSI; unit tests plug in a recorder.
 */
#ifndef VMM_IRQ_H
#define VMM_IRQ_H

#include <stdbool.h>
#include <stdint.h>

struct irq_controller_ops {
	void (*set_gsi)(void *ctx, uint32_t gsi, bool level);
	void (*send_msi)(void *ctx, uint64_t addr, uint32_t data);
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
