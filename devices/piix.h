/* QEMU pc's southbridge: the PIIX3 PCI-to-ISA bridge (00:01.0) and the PIIX4 power management function (00:01.3); see piix.c. */
#ifndef DEVICES_PIIX_H
#define DEVICES_PIIX_H

#include <stdint.h>

#include "acpi_pm.h"
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

#define PIIX4_PM_FUNCTION 3
#define PIIX4_PMBA 0x40           /* PM base address: bits 15:6, bit 0 reads 1 (I/O) */
#define PIIX4_PMBA_MASK 0xffc0
#define PIIX4_PM_IO_LEN 64
#define PIIX4_DEVACTB 0x58
#define PIIX4_DEVACTB_APMC_EN (1u << 25)
#define PIIX4_PMREGMISC 0x80
#define PIIX4_PMIOSE 0x01         /* PM I/O space enable */
#define PIIX4_SMBBA 0x90

/*
 * The PIIX4's function 3. Its PM I/O space holds ACPI's fixed registers
 * (pm) where the firmware puts it: SeaBIOS at 0x600, OVMF at 0xB000.
 */
struct piix4_pm {
	struct pci_function fn;
	struct acpi_pm *pm;
	struct bus *pio;
	uint16_t mapped_at;       /* 0: PM I/O space off */
};

void piix4_pm_init(struct piix4_pm *p, struct acpi_pm *pm, struct bus *pio);
/* Function 3 of the ISA bridge's slot. */
int piix4_pm_attach(struct piix4_pm *p, struct pci_host *host, const struct piix3 *bridge);

#endif
