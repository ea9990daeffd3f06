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
 *
 * The PIIX4's function 3, power management (Intel 82371AB datasheet,
 * 3.4.2: PMBA at 0x40, PMREGMISC at 0x80; 3.4.2.9: DEVACTB), is what QEMU's
 * pc puts beside the PIIX3. Its PM I/O space is ACPI's fixed hardware; the
 * firmware picks the base and turns it on, and the registers follow. The
 * FADT names the base the firmware will pick (machine_acpi_board()), as
 * QEMU's tables do by being built after the firmware wrote it. DEVACTB
 * reads APMC_EN set, as on QEMU without SMM: SeaBIOS then takes SMM as set
 * up and never waits for an SMI nobody sends. The SMBus registers hold
 * what the firmware writes; no SMBus controller answers.
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
	/* Functions 1 and 2 (IDE, USB) exist on a real PIIX; not here. Function 3 is struct piix4_pm. */
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

#define PCI_CLASS_BRIDGE_OTHER 0x068000

/* The PM I/O space where PMBA and PMIOSE say; a base another device holds leaves it off. */
static void pm_config_written(struct pci_function *f, unsigned offset, unsigned size)
{
	struct piix4_pm *p = f->opaque;

	(void)offset;
	(void)size;
	uint16_t want = (f->cfg[PIIX4_PMREGMISC] & PIIX4_PMIOSE) ? pci_cfg16(f, PIIX4_PMBA) & PIIX4_PMBA_MASK : 0;
	if (want == p->mapped_at)
		return;
	if (p->mapped_at)
		bus_unregister(p->pio, p->mapped_at);
	p->mapped_at = 0;
	if (want && bus_register(p->pio, want, PIIX4_PM_IO_LEN, &acpi_pm_ops, p->pm, "acpi-pm") == 0)
		p->mapped_at = want;
}

static const struct pci_function_ops piix4_pm_ops = {
	.config_written = pm_config_written,
};

void piix4_pm_init(struct piix4_pm *p, struct acpi_pm *pm, struct bus *pio)
{
	memset(p, 0, sizeof(*p));
	pci_function_init(&p->fn, "piix4-pm", 0x8086, 0x7113, PCI_CLASS_BRIDGE_OTHER, 3);
	pci_set_cfg16(&p->fn, PCI_SUBSYSTEM_VENDOR_ID, 0x1af4);
	pci_set_cfg16(&p->fn, PCI_SUBSYSTEM_ID, 0x1100);
	pci_set_cfg32(&p->fn, PIIX4_PMBA, PCI_BAR_IO);
	p->fn.wmask[PIIX4_PMBA] = PIIX4_PMBA_MASK & 0xff;
	p->fn.wmask[PIIX4_PMBA + 1] = PIIX4_PMBA_MASK >> 8;
	pci_set_cfg32(&p->fn, PIIX4_DEVACTB, PIIX4_DEVACTB_APMC_EN);
	p->fn.wmask[PIIX4_PMREGMISC] = PIIX4_PMIOSE;
	pci_set_cfg32(&p->fn, PIIX4_SMBBA, PCI_BAR_IO);
	p->fn.wmask[PIIX4_SMBBA] = 0xf0;
	p->fn.wmask[PIIX4_SMBBA + 1] = 0xff;
	p->fn.wmask[0xd2] = 0x0f;   /* SMBHSTCFG */
	p->fn.ops = &piix4_pm_ops;
	p->fn.opaque = p;
	p->pm = pm;
	p->pio = pio;
}

int piix4_pm_attach(struct piix4_pm *p, struct pci_host *host, const struct piix3 *bridge)
{
	if (pci_host_add_function(host, bridge->fn.slot, PIIX4_PM_FUNCTION, &p->fn) < 0)
		return -1;
	/* The SCI is IRQ 9, not an INTx line. */
	p->fn.cfg[PCI_INTERRUPT_PIN] = 0;
	p->fn.cfg[PCI_INTERRUPT_LINE] = 0;
	p->fn.intx = (struct irq_line){ 0 };
	return 0;
}
