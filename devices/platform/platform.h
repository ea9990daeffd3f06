/*
 * The machine as a device model sees it: guest memory, the port-I/O and
 * MMIO buses it puts its registers on, the interrupt controller, the
 * doorbells that bypass vmm, and the thread its work runs on. Nothing here
 * knows KVM; vmm fills it in (vmm/machine.c), unit tests fill it with fakes.
 * ioevents and loop may be NULL: devices then take every access as an exit
 * and do their work on the vCPU thread that made it.
 */
#ifndef PLATFORM_PLATFORM_H
#define PLATFORM_PLATFORM_H

#include "bus.h"
#include "event_loop.h"
#include "guest_mem.h"
#include "ioevent.h"
#include "irq.h"

struct platform {
	const struct guest_mem *mem;
	struct bus *pio;
	struct bus *mmio;
	struct irq_controller *irq;
	struct ioevents *ioevents;
	struct event_loop *loop;
};

#endif
