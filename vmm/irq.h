/*
 * What a device model may ask of the hypervisor, without knowing it is KVM:
 * raise interrupt lines and MSIs, bind an eventfd to an MSI (so a device
 * thread interrupts the guest with a write(2)), and have guest writes to a
 * doorbell address signal an eventfd instead of exiting. The VMM plugs in
 * KVM (vmm/vm.c); unit tests plug in recorders. The eventfd operations are
 * optional: where they are NULL, devices fall back to send_msi and to the
 * ordinary MMIO/PIO exit.
 */
#ifndef VMM_IRQ_H
#define VMM_IRQ_H

#include <stdbool.h>
#include <stdint.h>

enum ioevent_space {
	IOEVENT_PIO,
	IOEVENT_MMIO,
};

struct irq_controller_ops {
	void (*set_gsi)(void *ctx, uint32_t gsi, bool level);
	void (*send_msi)(void *ctx, uint64_t addr, uint32_t data);
	/* Routes MSI (addr, data) to eventfd fd; *route is -1 the first time. */
	int (*msi_irqfd)(void *ctx, int *route, int fd, uint64_t addr, uint32_t data);
	void (*msi_irqfd_release)(void *ctx, int route, int fd);
	/* A guest write of len bytes at addr (equal to data if match) signals fd. */
	int (*ioeventfd)(void *ctx, int fd, enum ioevent_space space, uint64_t addr, unsigned len,
			 bool match, uint64_t data, bool assign);
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
