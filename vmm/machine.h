/*
 * The machine a guest runs on, without the CPUs: its memory map and RAM,
 * the port-I/O and MMIO buses, the platform interfaces devices see
 * (interrupts, doorbells, the I/O thread), and the devices themselves: the
 * PC's fixed ports, the PCI host, disks and NICs. vm.c plugs KVM in and
 * adds the vCPUs.
 */
#ifndef VMM_MACHINE_H
#define VMM_MACHINE_H

#include "acpi.h"
#include "bus.h"
#include "cmos_rtc.h"
#include "config.h"
#include "disks.h"
#include "error.h"
#include "fw_cfg.h"
#include "guest_mem.h"
#include "iothread.h"
#include "memmap.h"
#include "nics.h"
#include "pci.h"
#include "pflash.h"
#include "piix.h"
#include "platform.h"
#include "power.h"
#include "serial.h"
#include "virtio_attach.h"

struct machine {
	struct memmap map;
	struct guest_mem mem;
	struct bus pio;
	struct bus mmio;
	struct irq_controller irqchip;
	struct ioevents ioevents;
	struct iothread io;
	struct platform platform;
	struct pci_host pci;
	struct virtio_slots slots;
	struct vm_disk disks[VMM_MAX_DISKS];
	struct vm_nic nics[VMM_MAX_NICS];
	unsigned nr_disks, nr_nics;
	struct serial *serial;
	struct power_control power;
	/* Under firmware (--firmware): QEMU pc's ISA bridge, fw_cfg and the CMOS clock. */
	bool firmware;
	struct piix3 piix;
	struct piix4_pm piix_pm;
	struct fw_cfg *fw_cfg;
	struct cmos_rtc *rtc;
	struct acpi_pm *acpi_pm;
	struct pflash *vars_flash;    /* UEFI's variable store, placed by vm.c (its slot is KVM's) */
};

/* Empty buses; power is how devices stop the VM. */
void machine_init(struct machine *m, struct power_control power);
/* Disk images and network backends; runs before /dev/kvm is opened, so that their errors come first. */
int machine_open_backends(struct machine *m, const struct vm_config *cfg, struct vmm_error *err);
/* The devices, once RAM, the interrupt controller and the doorbells exist. */
int machine_add_devices(struct machine *m, const struct vm_config *cfg, struct serial_backend console,
			struct vmm_error *err);
/* What ACPI tells the guest about the fixed devices added here, with firmware or without. */
void machine_acpi_board(struct acpi_board *board, bool firmware);
/* Starts and stops device work (the I/O thread); the devices stay. */
int machine_start(struct machine *m);
void machine_stop(struct machine *m);
void machine_destroy(struct machine *m);

#endif
