/* The PIIX3 PCI-to-ISA bridge of QEMU's pc machine (00:01.0); see piix.c. */
#ifndef DEVICES_PIIX_H
#define DEVICES_PIIX_H

#include <stdint.h>

#include "bus.h"
#include "pci.h"
#include "power.h"

#define PIIX_PIRQ_ROUTE 0x60      /* PIRQRC[A-D]: 0x60-0x63 */
#define PIIX_PIRQ_COUNT 4
#define PIIX_PIRQ_DISABLED 0x80   /* IRQEN# set: the PIRQ is not routed */
#define PIIX_RCR_PORT 0xcf9
#define PIIX_RCR_SYS_RESET 0x02   /* the kind of reset bit 2 asks for: system, not CPU only */
#define PIIX_RCR_RESET_CPU 0x04

struct piix3 {
	struct pci_function fn;
	uint8_t reset_control;    /* the 0xCF9 register */
	struct power_control power;
};

void piix3_init(struct piix3 *p, struct power_control power);
/* Puts the bridge on the host (the next free slot: 1 when it goes first) and claims 0xCF9. */
int piix3_attach(struct piix3 *p, struct pci_host *host);

/* The reset control register (offset 0 = port 0xCF9); opaque is the struct piix3. */
extern const struct bus_device_ops piix3_reset_control_ops;

#endif
