/*
 * Guest accesses that need not stop a vCPU, as a device model asks for
 * them: a write to a doorbell that signals an eventfd instead of exiting to
 * vmm (KVM_IOEVENTFD), and writes that KVM may buffer until the next exit
 * because they take effect only when the device next looks (KVM's
 * coalesced MMIO and PIO). vmm plugs in KVM (vmm/kvm_irq.c); without it
 * (unit tests) devices take the ordinary exit.
 */
#ifndef PLATFORM_IOEVENT_H
#define PLATFORM_IOEVENT_H

#include <stdbool.h>
#include <stdint.h>

enum ioevent_space {
	IOEVENT_PIO,
	IOEVENT_MMIO,
};

/* Which guest writes signal the eventfd. */
struct ioevent {
	enum ioevent_space space;
	uint64_t addr;
	unsigned len;        /* 1, 2, 4 or 8; 0 for a write of any width (MMIO) */
	bool match_data;     /* only writes of exactly data */
	uint64_t data;
};

struct ioevent_ops {
	int (*assign)(void *ctx, const struct ioevent *ev, int fd);
	void (*deassign)(void *ctx, const struct ioevent *ev, int fd);
	/* Buffers guest writes to [addr, addr + len): they reach the device in order, before
	 * the next exit of any vCPU is handled. MMIO writes also come within a few
	 * milliseconds (a device may look at its registers by itself); port writes wait for
	 * that exit, so only a register that nothing reads but the guest's next access may
	 * be buffered there. */
	int (*coalesce)(void *ctx, enum ioevent_space space, uint64_t addr, uint64_t len, bool on);
};

struct ioevents {
	const struct ioevent_ops *ops;
	void *ctx;
};

#endif
