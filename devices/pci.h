/*
 * PCI: a host bridge on bus 0 with configuration access through ports
 * 0xCF8/0xCFC and an ECAM window, and type 0 functions with BARs and
 * capabilities; see pci.c.
 */
#ifndef DEVICES_PCI_H
#define DEVICES_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "ioevent.h"
#include "irq.h"

#define PCI_CONFIG_ADDRESS_PORT 0xcf8   /* 0xCF8-0xCFF: address and data */
#define PCI_INTX_GSI_BASE 16
#define PCI_INTX_GSI_COUNT 8
#define PCI_CFG_SIZE 256
#define PCI_MAX_SLOTS 32
#define PCI_MAX_FUNCTIONS 8
#define PCI_NUM_BARS 6

#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS_INTERRUPT 0x8
#define PCI_STATUS_CAP_LIST 0x10

#define PCI_BAR_IO 0x1
#define PCI_BAR_MEM64 0x4
#define PCI_BAR_PREFETCH 0x8

#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

struct pci_function;

/* The IOAPIC input that INTA of a slot drives (also in the DSDT's _PRT). */
static inline uint32_t pci_intx_gsi(unsigned slot)
{
	return PCI_INTX_GSI_BASE + slot % PCI_INTX_GSI_COUNT;
}

struct pci_function_ops {
	void (*bar_read)(struct pci_function *f, int bar, uint64_t offset, uint8_t *data, unsigned size);
	void (*bar_write)(struct pci_function *f, int bar, uint64_t offset, const uint8_t *data, unsigned size);
	/* Optional: a config read the device computes (offset within one capability). */
	bool (*config_read)(struct pci_function *f, unsigned offset, uint8_t *data, unsigned size);
	/* Optional: runs after a config write has been applied. */
	void (*config_written)(struct pci_function *f, unsigned offset, unsigned size);
	/* Optional: a BAR was mapped at addr (0 when unmapped). */
	void (*bar_mapped)(struct pci_function *f, int bar, uint64_t addr);
};

struct pci_bar {
	uint64_t size;          /* 0: the function has no such BAR */
	uint32_t flags;         /* PCI_BAR_IO, PCI_BAR_MEM64, PCI_BAR_PREFETCH */
	uint64_t mapped_at;     /* 0: not on the bus */
};

struct pci_bar_ref {
	struct pci_function *f;
	int bar;
};

struct pci_host;

struct pci_function {
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];     /* bits the guest may write */
	struct pci_bar bars[PCI_NUM_BARS];
	struct pci_bar_ref bar_refs[PCI_NUM_BARS];
	uint8_t next_cap;                /* where the next capability goes */
	const struct pci_function_ops *ops;
	void *opaque;
	const char *name;
	struct pci_host *host;
	unsigned slot;
	unsigned function;
	/* INTA#: its own lock, as devices raise it with their own locks held. */
	pthread_mutex_t intx_lock;
	struct irq_line intx;
	bool intx_asserted;
};

enum pci_host_model {
	PCI_HOST_Q35,       /* vmm's machine: Q35's IDs, ECAM */
	PCI_HOST_I440FX,    /* under firmware: QEMU pc's 82441FX, PAM, no ECAM */
};

/* Who decodes byte accesses to port 0xCF9 (the PIIX's reset control), if anyone. */
struct pci_cf9 {
	const struct bus_device_ops *ops;
	void *opaque;
};

struct pci_host {
	pthread_mutex_t lock;            /* config space of every function */
	struct bus *pio, *mmio;
	struct pci_function bridge;
	struct pci_function *slots[PCI_MAX_SLOTS][PCI_MAX_FUNCTIONS];
	uint32_t config_address;         /* the 0xCF8 register */
	struct pci_cf9 cf9;
	uint64_t next_mmio, next_io;     /* BAR placement */
	struct irq_controller *irq;
};

void pci_function_init(struct pci_function *f, const char *name, uint16_t vendor, uint16_t device,
		       uint32_t class_code, uint8_t revision);
/* size: a power of two (at least 16 for memory, 4 for I/O). */
void pci_add_bar(struct pci_function *f, int bar, uint64_t size, uint32_t flags);
/* Reserves len bytes of capability id in config space; returns its offset or 0. */
unsigned pci_add_capability(struct pci_function *f, uint8_t id, unsigned len);

/* Registers 0xCF8-0xCFF and (Q35) the ECAM window; the bridge takes slot 0. */
int pci_host_init(struct pci_host *h, enum pci_host_model model, struct bus *pio, struct bus *mmio,
		  struct irq_controller *irq);
/* Byte accesses to 0xCF9 go to ops from now on (offset 0). */
void pci_host_claim_cf9(struct pci_host *h, const struct bus_device_ops *ops, void *opaque);
/* Lets KVM buffer writes to the 0xCF8 address register where it can; 0 or -1. */
int pci_host_buffer_address_writes(struct pci_host *h, const struct ioevents *io);
/* The slot pci_host_add() would give the next function (PCI_MAX_SLOTS: none). */
unsigned pci_host_free_slot(const struct pci_host *h);
/* Places f in the next free slot, assigns its BARs and INTx line; -1 when full. */
int pci_host_add(struct pci_host *h, struct pci_function *f);
/* Places f as function fn (1-7) of the occupied slot; -1 if the slot is empty or fn taken. */
int pci_host_add_function(struct pci_host *h, unsigned slot, unsigned fn, struct pci_function *f);

/* Config space access by the guest (the host's lock is taken inside). */
void pci_config_read(struct pci_function *f, unsigned offset, uint8_t *data, unsigned size);
void pci_config_write(struct pci_function *f, unsigned offset, const uint8_t *data, unsigned size);
/* Raises or lowers INTA# unless the guest disabled INTx. */
void pci_set_intx(struct pci_function *f, bool level);

static inline uint16_t pci_cfg16(const struct pci_function *f, unsigned off)
{
	return (uint16_t)(f->cfg[off] | f->cfg[off + 1] << 8);
}

static inline void pci_set_cfg16(struct pci_function *f, unsigned off, uint16_t v)
{
	f->cfg[off] = (uint8_t)v;
	f->cfg[off + 1] = (uint8_t)(v >> 8);
}

static inline void pci_set_cfg32(struct pci_function *f, unsigned off, uint32_t v)
{
	pci_set_cfg16(f, off, (uint16_t)v);
	pci_set_cfg16(f, off + 2, (uint16_t)(v >> 16));
}

#endif
