/*
 * The PIIX3's function 0, the PCI-to-ISA bridge (Intel 82371SB datasheet,
 * 2.2: PIRQ route control at 0x60-0x63; 4.1.5: the reset control register
 * at port 0xCF9). Firmware finds the PC it expects by these IDs: SeaBIOS
 * routes PIRQA-D to ISA IRQs here and tells the OS in its tables. vmm's
 * INTx lines are wired to IOAPIC inputs and described by the DSDT's _PRT,
 * so the route registers are what the firmware wrote and nothing more.
 *
 * Reset control: writing bit 2 resets the machine; vmm stops instead, as
 * it does for every reset (QEMU's -no-reboot). Bit 1, the kind of reset,
 * reads back.
 */
#include "piix.h"

#include <string.h>

#define PCI_HEADER_MULTIFUNCTION 0x80
#define PCI_CLASS_BRIDGE_ISA 0x060100

void piix3_init(struct piix3 *p, struct power_control power)
{
	memset(p, 0, sizeof(*p));
	pci_function_init(&p->fn, "piix3", 0x8086, 0x7000, PCI_CLASS_BRIDGE_ISA, 0);
	pci_set_cfg16(&p->fn, PCI_SUBSYSTEM_VENDOR_ID, 0x1af4);
	pci_set_cfg16(&p->fn, PCI_SUBSYSTEM_ID, 0x1100);
	/* Functions 1-3 (IDE, USB, power management) exist on a real PIIX; not here. */
	p->fn.cfg[PCI_HEADER_TYPE] = PCI_HEADER_MULTIFUNCTION;
	for (unsigned i = 0; i < PIIX_PIRQ_COUNT; i++) {
		p->fn.cfg[PIIX_PIRQ_ROUTE + i] = PIIX_PIRQ_DISABLED;
		p->fn.wmask[PIIX_PIRQ_ROUTE + i] = PIIX_PIRQ_DISABLED | 0x0f;
	}
	p->fn.opaque = p;
	p->power = power;
}

int piix3_attach(struct piix3 *p, struct pci_host *host)
{
	if (pci_host_add(host, &p->fn) < 0)
		return -1;
	/* A bridge raises no interrupt of its own. */
	p->fn.cfg[PCI_INTERRUPT_PIN] = 0;
	p->fn.cfg[PCI_INTERRUPT_LINE] = 0;
	p->fn.intx = (struct irq_line){ 0 };
	pci_host_claim_cf9(host, &piix3_reset_control_ops, p);
	return 0;
}

static void rcr_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	const struct piix3 *p = opaque;

	(void)offset;
	memset(data, 0, size);
	data[0] = p->reset_control;
}

static void rcr_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct piix3 *p = opaque;

	(void)offset;
	(void)size;
	p->reset_control = data[0] & PIIX_RCR_SYS_RESET;
	if (data[0] & PIIX_RCR_RESET_CPU)
		p->power.request_stop(p->power.ctx, 0, "guest reset through port 0xcf9");
}

const struct bus_device_ops piix3_reset_control_ops = {
	.read = rcr_read,
	.write = rcr_write,
};
