/*
 * ACPI table builder (ACPI 6.5: 5.2.5 RSDP, 5.2.6 table header, 5.2.8 XSDT,
 * 5.2.9 FADT, 5.2.11.1 DSDT, 5.2.12 MADT; MCFG from the PCI Firmware
 * Specification 3.2, 4.1.2). vmm's own machine is hardware-reduced ACPI
 * (4.1): no PM1 blocks, SCI or PM timer to emulate; power-off goes
 * through the sleep control register. Under firmware it has ACPI's fixed
 * hardware instead (4.8, devices/acpi_pm.c) with a FACS (5.2.10), as the
 * PC that firmware leaves its 8259 PIC programmed on must. Tables are laid
 * out one after another, 16-byte aligned, after the RSDP; every table gets
 * its checksum last.
 */
#include "acpi.h"

#include <string.h>

#include "acpi_tables.h"
#include "aml.h"
#include "memmap.h"

#define ACPI_OEM_ID "VMM   "
#define ACPI_OEM_TABLE_ID "VMMTABLE"
#define ACPI_CREATOR_ID 0x204d4d56   /* "VMM " */

struct madt_local_apic {
	uint8_t type, length, processor_uid, apic_id;
	uint32_t flags;
} __attribute__((packed));

struct madt_io_apic {
	uint8_t type, length, io_apic_id, reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));

struct madt_override {
	uint8_t type, length, bus, source;
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));

#define MADT_PCAT_COMPAT 1

struct builder {
	uint8_t *buf;
	size_t size, used;
	uint64_t base;
	struct acpi_layout *layout;   /* NULL: nobody moves the tables */
	bool layout_full;             /* a field or table went unrecorded: the build fails */
};

static uint8_t checksum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t sum = 0;
	while (n--)
		sum += *b++;
	return (uint8_t)-sum;
}

/* Reserves n bytes at an align-byte boundary; NULL when the buffer is full. */
static void *reserve_aligned(struct builder *b, size_t n, size_t align)
{
	size_t at = (b->used + align - 1) & ~(align - 1);
	if (at > b->size || n > b->size - at)
		return NULL;
	b->used = at + n;
	memset(b->buf + at, 0, n);
	return b->buf + at;
}

static void *reserve(struct builder *b, size_t n)
{
	return reserve_aligned(b, n, 16);
}

static uint64_t gpa_of(const struct builder *b, const void *p)
{
	return b->base + (uint64_t)((const uint8_t *)p - b->buf);
}

/* Notes an address field, so that the tables can be moved. */
static void note_pointer(struct builder *b, const void *field, uint8_t size, bool in_rsdp)
{
	struct acpi_layout *l = b->layout;

	if (!l)
		return;
	if (l->nr_pointers == ACPI_MAX_POINTERS) {
		b->layout_full = true;
		return;
	}
	l->pointers[l->nr_pointers++] = (struct acpi_pointer){ (uint32_t)((const uint8_t *)field - b->buf), size, in_rsdp };
}

static void header_init(struct acpi_header *h, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	h->creator_id = ACPI_CREATOR_ID;
	h->creator_revision = 1;
}

static void table_finish(struct builder *b, struct acpi_header *h)
{
	struct acpi_layout *l = b->layout;

	h->checksum = 0;
	h->checksum = checksum(h, h->length);
	if (!l)
		return;
	if (l->nr_tables == ACPI_MAX_TABLES) {
		b->layout_full = true;
		return;
	}
	l->tables[l->nr_tables++] = (struct acpi_extent){ (uint32_t)((uint8_t *)h - b->buf), h->length };
}

#define MADT_LEVEL_HIGH 0x000d   /* MPS INTI flags: active high, level-triggered */

static struct acpi_header *build_madt(struct builder *b, unsigned nr_cpus, bool sci)
{
	size_t len = sizeof(struct acpi_header) + 8 + nr_cpus * sizeof(struct madt_local_apic) +
		     sizeof(struct madt_io_apic) + (sci ? 2 : 1) * sizeof(struct madt_override);
	uint8_t *t = reserve(b, len);
	if (!t)
		return NULL;
	header_init((struct acpi_header *)t, "APIC", (uint32_t)len, 5);
	uint32_t lapic = LAPIC_BASE, flags = MADT_PCAT_COMPAT;
	memcpy(t + sizeof(struct acpi_header), &lapic, 4);
	memcpy(t + sizeof(struct acpi_header) + 4, &flags, 4);
	uint8_t *p = t + sizeof(struct acpi_header) + 8;
	for (unsigned i = 0; i < nr_cpus; i++, p += sizeof(struct madt_local_apic)) {
		struct madt_local_apic e = { MADT_TYPE_LOCAL_APIC, sizeof(e), (uint8_t)i, (uint8_t)i,
					     MADT_LAPIC_ENABLED };
		memcpy(p, &e, sizeof(e));
	}
	struct madt_io_apic io = { MADT_TYPE_IO_APIC, sizeof(io), 0, 0, IOAPIC_BASE, 0 };
	memcpy(p, &io, sizeof(io));
	p += sizeof(io);
	/* ISA IRQ 0 (the PIT) is wired to IOAPIC pin 2, as on every PC. */
	struct madt_override irq0 = { MADT_TYPE_OVERRIDE, sizeof(irq0), 0, 0, 2, 0 };
	memcpy(p, &irq0, sizeof(irq0));
	/* The SCI, where there is one: level-triggered, active high, as QEMU wires it. */
	struct madt_override sci_irq = { MADT_TYPE_OVERRIDE, sizeof(sci_irq), 0, ACPI_SCI_IRQ, ACPI_SCI_IRQ,
					  MADT_LEVEL_HIGH };
	if (sci)
		memcpy(p + sizeof(irq0), &sci_irq, sizeof(sci_irq));
	table_finish(b, (struct acpi_header *)t);
	return (struct acpi_header *)t;
}

/* The ECAM window: bus 0-255 of segment 0. */
static struct acpi_header *build_mcfg(struct builder *b)
{
	struct {
		uint64_t base;
		uint16_t segment;
		uint8_t start_bus, end_bus;
		uint32_t reserved;
	} __attribute__((packed)) alloc = { PCI_ECAM_BASE, 0, 0, (uint8_t)(PCI_ECAM_SIZE / MiB - 1), 0 };
	size_t len = sizeof(struct acpi_header) + 8 + sizeof(alloc);
	uint8_t *t = reserve(b, len);

	if (!t)
		return NULL;
	header_init((struct acpi_header *)t, "MCFG", (uint32_t)len, 1);
	memcpy(t + sizeof(struct acpi_header) + 8, &alloc, sizeof(alloc));
	table_finish(b, (struct acpi_header *)t);
	return (struct acpi_header *)t;
}

static void dsdt_serial(struct aml *a, const struct acpi_board *board)
{
	size_t dev = aml_device(a, "COM1");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0501");
	aml_name(a, "_UID");
	aml_integer(a, 1);
	aml_name(a, "_CRS");
	size_t crs = aml_buffer(a);
	aml_res_io(a, board->com1_port, board->com1_ports);
	aml_res_irq(a, board->com1_gsi);
	aml_res_end(a);
	aml_end(a, crs);
	aml_end(a, dev);
}

/* _PRT: INTA of every slot goes to its GSI, as the board wires it. */
static void dsdt_pci_routing(struct aml *a, const struct acpi_board *board)
{
	aml_name(a, "_PRT");
	size_t prt = aml_package(a, board->pci_slots);
	for (unsigned slot = 0; slot < board->pci_slots; slot++) {
		size_t entry = aml_package(a, 4);
		aml_integer(a, ((uint64_t)slot << 16) | 0xffff);
		aml_integer(a, 0);      /* INTA */
		aml_integer(a, 0);      /* no link device: the next field is a GSI */
		aml_integer(a, board->pci_slot_gsi[slot]);
		aml_end(a, entry);
	}
	aml_end(a, prt);
}

/* The CMOS clock, which Linux's rtc_cmos driver binds by PNP0B00. */
static void dsdt_rtc(struct aml *a, const struct acpi_board *board)
{
	size_t dev = aml_device(a, "RTC");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0B00");
	aml_name(a, "_CRS");
	size_t crs = aml_buffer(a);
	aml_res_io(a, board->rtc_port, 2);
	aml_res_irq(a, board->rtc_gsi);
	aml_res_end(a);
	aml_end(a, crs);
	aml_end(a, dev);
}

static void dsdt_pci_host(struct aml *a, const struct acpi_board *board)
{
	size_t dev = aml_device(a, "PCI0");
	aml_name(a, "_HID");
	if (board->pci_ecam) {
		aml_eisaid(a, "PNP0A08");
		aml_name(a, "_CID");
	}
	aml_eisaid(a, "PNP0A03");
	aml_name(a, "_SEG");
	aml_integer(a, 0);
	aml_name(a, "_BBN");
	aml_integer(a, 0);
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_name(a, "_CRS");
	size_t crs = aml_buffer(a);
	aml_res_bus_numbers(a, 0, 0xff);
	aml_res_io(a, board->pci_config_port, 8);
	aml_res_io_window(a, 0, (uint16_t)(board->pci_config_port - 1));
	aml_res_io_window(a, (uint16_t)(board->pci_config_port + 8), 0xffff);
	aml_res_memory_window(a, (uint32_t)board->pci_mmio_base, (uint32_t)(board->pci_mmio_end - 1));
	aml_res_end(a);
	aml_end(a, crs);
	dsdt_pci_routing(a, board);
	aml_end(a, dev);
}

/* virtio-mmio devices: Linux's virtio_mmio driver binds "LNRO0005". */
static void dsdt_virtio_mmio(struct aml *a, const struct acpi_mmio_device *d, unsigned index)
{
	char name[5] = { 'V', 'R', (char)('0' + index / 10), (char)('0' + index % 10), 0 };
	size_t dev = aml_device(a, name);
	aml_name(a, "_HID");
	aml_string(a, "LNRO0005");
	aml_name(a, "_UID");
	aml_integer(a, index);
	aml_name(a, "_CRS");
	size_t crs = aml_buffer(a);
	aml_res_memory32_fixed(a, (uint32_t)d->base, d->size);
	aml_res_interrupt(a, d->gsi, true, false);
	aml_res_end(a);
	aml_end(a, crs);
	aml_end(a, dev);
}

static struct acpi_header *build_dsdt(struct builder *b, const struct acpi_config *cfg)
{
	uint8_t *t = reserve(b, 0);
	struct aml a = { t, t ? b->size - b->used : 0, sizeof(struct acpi_header), !t };

	/* \_S5: the SLP_TYP values for soft-off (ACPI 6.5, 7.4.2). */
	aml_name(&a, "\\_S5");
	size_t s5 = aml_package(&a, 2);
	aml_integer(&a, cfg->board->s5_sleep_type);
	aml_integer(&a, cfg->board->s5_sleep_type);
	aml_end(&a, s5);
	size_t sb = aml_scope(&a, "\\_SB");
	dsdt_serial(&a, cfg->board);
	if (cfg->board->rtc_port)
		dsdt_rtc(&a, cfg->board);
	dsdt_pci_host(&a, cfg->board);
	for (unsigned i = 0; i < cfg->nr_mmio_devices; i++)
		dsdt_virtio_mmio(&a, &cfg->mmio_devices[i], i);
	aml_end(&a, sb);
	if (a.overflow)
		return NULL;
	b->used += a.len;
	header_init((struct acpi_header *)t, "DSDT", (uint32_t)a.len, 2);
	table_finish(b, (struct acpi_header *)t);
	return (struct acpi_header *)t;
}

static struct acpi_gas io_register(uint16_t port, uint8_t bits)
{
	uint8_t access = bits == 32 ? ACPI_GAS_ACCESS_DWORD : bits == 16 ? ACPI_GAS_ACCESS_WORD : ACPI_GAS_ACCESS_BYTE;
	return (struct acpi_gas){ ACPI_GAS_SYSTEM_IO, bits, 0, access, port };
}

/* Hardware-reduced (4.1): power-off through the sleep control register. */
static void fadt_hardware_reduced(struct acpi_fadt *f, const struct acpi_board *board)
{
	f->flags |= FADT_HW_REDUCED_ACPI;
	f->sleep_control_reg = io_register(board->sleep_port, 8);
	f->sleep_status_reg = io_register((uint16_t)(board->sleep_port + 1), 8);
}

/* Fixed hardware (4.8): PM1 event and control blocks, the PM timer, a FACS; in ACPI mode from reset. */
static int fadt_fixed_hardware(struct builder *b, struct acpi_fadt *f, const struct acpi_board *board)
{
	struct acpi_facs *facs = reserve_aligned(b, sizeof(*facs), 64);

	if (!facs)
		return -1;
	memcpy(facs->signature, "FACS", 4);
	facs->length = sizeof(*facs);
	facs->version = 2;
	f->firmware_ctrl = (uint32_t)gpa_of(b, facs);
	note_pointer(b, &f->firmware_ctrl, sizeof(f->firmware_ctrl), false);
	f->flags |= FADT_WBINVD | FADT_PROC_C1;
	f->iapc_boot_arch |= IAPC_LEGACY_DEVICES;
	f->pm1a_evt_blk = board->pm_port;
	f->pm1a_cnt_blk = board->pm_port + 4u;
	f->pm_tmr_blk = board->pm_port + 8u;
	f->pm1_evt_len = 4;
	f->pm1_cnt_len = 2;
	f->pm_tmr_len = 4;
	f->x_pm1a_evt_blk = io_register(board->pm_port, 32);
	f->x_pm1a_cnt_blk = io_register((uint16_t)(board->pm_port + 4), 16);
	f->x_pm_tmr_blk = io_register((uint16_t)(board->pm_port + 8), 32);
	return 0;
}

static struct acpi_header *build_fadt(struct builder *b, const struct acpi_header *dsdt, const struct acpi_board *board)
{
	struct acpi_fadt *f = reserve(b, sizeof(*f));

	if (!f)
		return NULL;
	header_init(&f->header, "FACP", sizeof(*f), 6);
	f->minor_version = 5;
	f->dsdt = (uint32_t)gpa_of(b, dsdt);
	f->x_dsdt = gpa_of(b, dsdt);
	note_pointer(b, &f->dsdt, sizeof(f->dsdt), false);
	note_pointer(b, &f->x_dsdt, sizeof(f->x_dsdt), false);
	f->sci_int = ACPI_SCI_IRQ;
	f->flags = FADT_RESET_REG_SUP | FADT_PWR_BUTTON | FADT_SLP_BUTTON;
	f->iapc_boot_arch = IAPC_VGA_NOT_PRESENT | IAPC_ASPM_CONTROLS |
			    (board->rtc_port ? 0 : IAPC_CMOS_RTC_NOT_PRESENT);
	f->century = board->rtc_port ? ACPI_CMOS_CENTURY : 0;
	f->reset_reg = io_register(board->reset_port, 8);
	f->reset_value = board->reset_value;
	if (board->pm_port == 0)
		fadt_hardware_reduced(f, board);
	else if (fadt_fixed_hardware(b, f, board) < 0)
		return NULL;
	memcpy(&f->hypervisor_vendor_id, "VMM", 4);
	table_finish(b, &f->header);
	return &f->header;
}

static size_t build(struct builder *b, const struct acpi_config *cfg)
{
	struct acpi_rsdp *rsdp = reserve(b, sizeof(*rsdp));
	struct acpi_header *dsdt = rsdp ? build_dsdt(b, cfg) : NULL;
	struct acpi_header *fadt = dsdt ? build_fadt(b, dsdt, cfg->board) : NULL;
	struct acpi_header *madt = fadt ? build_madt(b, cfg->nr_cpus, cfg->board->pm_port != 0) : NULL;
	struct acpi_header *mcfg = madt && cfg->board->pci_ecam ? build_mcfg(b) : NULL;
	const struct acpi_header *tables[] = { fadt, madt, mcfg };
	size_t nr_tables = mcfg ? 3 : 2;
	uint8_t *xsdt = madt && (mcfg || !cfg->board->pci_ecam) ?
			reserve(b, sizeof(struct acpi_header) + 8 * nr_tables) : NULL;

	if (!xsdt)
		return 0;
	header_init((struct acpi_header *)xsdt, "XSDT", (uint32_t)(sizeof(struct acpi_header) + 8 * nr_tables), 1);
	for (size_t i = 0; i < nr_tables; i++) {
		uint64_t a = gpa_of(b, tables[i]);
		memcpy(xsdt + sizeof(struct acpi_header) + 8 * i, &a, 8);
		note_pointer(b, xsdt + sizeof(struct acpi_header) + 8 * i, 8, false);
	}
	table_finish(b, (struct acpi_header *)xsdt);

	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, ACPI_OEM_ID, 6);
	rsdp->revision = 2;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_address = gpa_of(b, xsdt);
	note_pointer(b, &rsdp->xsdt_address, sizeof(rsdp->xsdt_address), true);
	rsdp->checksum = checksum(rsdp, ACPI_RSDP_V1_LENGTH);
	rsdp->extended_checksum = checksum(rsdp, sizeof(*rsdp));
	if (b->layout)
		b->layout->rsdp = (struct acpi_extent){ 0, sizeof(*rsdp) };
	return b->layout_full ? 0 : b->used;
}

size_t acpi_build(uint8_t *buf, size_t size, const struct acpi_config *cfg)
{
	struct builder b = { buf, size, 0, cfg->base, NULL, false };
	return build(&b, cfg);
}

size_t acpi_build_relocatable(uint8_t *buf, size_t size, const struct acpi_config *cfg,
			      struct acpi_layout *layout)
{
	struct builder b = { buf, size, 0, 0, layout, false };

	memset(layout, 0, sizeof(*layout));
	return build(&b, cfg);
}
