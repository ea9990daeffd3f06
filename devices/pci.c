/*
 * PCI configuration space (PCI Local Bus Specification 3.0, chapter 6:
 * type 0 header, BARs with the sizing protocol in 6.2.5.1, the capability
 * list in 6.7) and the host bridge's configuration mechanisms: #1 through
 * ports 0xCF8/0xCFC (3.2.2.3.2) and the memory-mapped ECAM window (PCI
 * Express Base Specification, 7.2.2).
 *
 * The host bridge is one of two. vmm's own machine has Q35's IDs and the
 * ECAM window. Under firmware it is the i440FX of QEMU's pc machine (Intel
 * 82441FX datasheet, 3.2: PAM0-6 at 0x59-0x5f, SMRAM at 0x72), the bridge
 * SeaBIOS and OVMF know, without ECAM. Below 1 MiB is always RAM here, so
 * the PAM registers hold what the firmware writes and shadowing the BIOS
 * is a copy onto itself.
 *
 * Each function keeps its 256 bytes of config space and a mask of the bits
 * the guest may write; a BAR register holds the address bits the mask lets
 * through plus fixed flag bits, so writing all ones reads back the size
 * mask. A BAR is on the bus while its decode bit in COMMAND is set, and
 * moves when the guest reprograms it.
 */
#include "pci.h"

#include <string.h>

#include "memmap.h"

#define CF8_PORT PCI_CONFIG_ADDRESS_PORT
#define CFC_PORT 0xcfc
#define CF8_ENABLE 0x80000000u
#define PCI_IO_BASE 0xc000
#define PCI_IO_END 0x10000
#define FIRST_CAP_OFFSET 0x40

static uint32_t cfg32(const struct pci_function *f, unsigned off)
{
	return (uint32_t)pci_cfg16(f, off) | (uint32_t)pci_cfg16(f, off + 2) << 16;
}

void pci_function_init(struct pci_function *f, const char *name, uint16_t vendor, uint16_t device,
		       uint32_t class_code, uint8_t revision)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->intx_lock, NULL);
	f->name = name;
	pci_set_cfg16(f, PCI_VENDOR_ID, vendor);
	pci_set_cfg16(f, PCI_DEVICE_ID, device);
	f->cfg[PCI_REVISION] = revision;
	f->cfg[PCI_CLASS_PROG] = (uint8_t)class_code;
	pci_set_cfg16(f, PCI_CLASS_PROG + 1, (uint16_t)(class_code >> 8));
	pci_set_cfg16(f, PCI_SUBSYSTEM_VENDOR_ID, vendor);
	f->wmask[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	f->wmask[PCI_COMMAND + 1] = PCI_COMMAND_INTX_DISABLE >> 8;
	f->wmask[PCI_INTERRUPT_LINE] = 0xff;
	f->next_cap = FIRST_CAP_OFFSET;
}

void pci_add_bar(struct pci_function *f, int bar, uint64_t size, uint32_t flags)
{
	unsigned off = PCI_BAR0 + 4 * (unsigned)bar;
	uint64_t mask = ~(size - 1) & ((flags & PCI_BAR_IO) ? ~3ull : ~15ull);

	f->bars[bar] = (struct pci_bar){ .size = size, .flags = flags };
	pci_set_cfg32(f, off, (uint32_t)flags);
	for (int i = 0; i < 4; i++)
		f->wmask[off + i] = (uint8_t)(mask >> (8 * i));
	if (flags & PCI_BAR_MEM64)
		for (int i = 0; i < 4; i++)
			f->wmask[off + 4 + i] = (uint8_t)(mask >> (32 + 8 * i));
}

unsigned pci_add_capability(struct pci_function *f, uint8_t id, unsigned len)
{
	unsigned off = f->next_cap;

	if (off == 0 || off + len > PCI_CFG_SIZE)
		return 0;
	f->cfg[off] = id;
	f->cfg[off + 1] = f->cfg[PCI_CAPABILITY_LIST];
	f->cfg[PCI_CAPABILITY_LIST] = (uint8_t)off;
	pci_set_cfg16(f, PCI_STATUS, pci_cfg16(f, PCI_STATUS) | PCI_STATUS_CAP_LIST);
	f->next_cap = (uint8_t)((off + len + 3) & ~3u);
	if (off + len + 3 >= PCI_CFG_SIZE)
		f->next_cap = 0;
	return off;
}

static uint64_t bar_address(const struct pci_function *f, int bar)
{
	unsigned off = PCI_BAR0 + 4 * (unsigned)bar;
	uint64_t a = cfg32(f, off) & ((f->bars[bar].flags & PCI_BAR_IO) ? ~3u : ~15u);

	if (f->bars[bar].flags & PCI_BAR_MEM64)
		a |= (uint64_t)cfg32(f, off + 4) << 32;
	return a;
}

static void bar_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	struct pci_bar_ref *ref = opaque;
	ref->f->ops->bar_read(ref->f, ref->bar, offset, data, size);
}

static void bar_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct pci_bar_ref *ref = opaque;
	ref->f->ops->bar_write(ref->f, ref->bar, offset, data, size);
}

static const struct bus_device_ops bar_ops = { bar_read, bar_write };

/* Where BAR i should be on the bus now, or 0 for nowhere. */
static uint64_t bar_target(const struct pci_function *f, int i)
{
	const struct pci_bar *b = &f->bars[i];
	bool io = b->flags & PCI_BAR_IO;
	uint16_t cmd = pci_cfg16(f, PCI_COMMAND);
	uint64_t addr = bar_address(f, i);

	if (!(cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)) || addr == 0 || addr + b->size < addr)
		return 0;
	if (io && addr + b->size > PCI_IO_END)
		return 0;
	return addr;
}

static void update_bars(struct pci_function *f)
{
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &f->bars[i];
		struct bus *bus = (b->flags & PCI_BAR_IO) ? f->host->pio : f->host->mmio;
		uint64_t want = b->size ? bar_target(f, i) : 0;

		if (b->mapped_at == want)
			continue;
		if (b->mapped_at) {
			bus_unregister(bus, b->mapped_at);
			b->mapped_at = 0;
		}
		/* A BAR placed over another device stays off the bus until moved. */
		if (want && bus_register(bus, want, b->size, &bar_ops, &f->bar_refs[i], f->name) == 0)
			b->mapped_at = want;
		if (f->ops && f->ops->bar_mapped)
			f->ops->bar_mapped(f, i, b->mapped_at);
	}
}

void pci_config_read(struct pci_function *f, unsigned offset, uint8_t *data, unsigned size)
{
	if (offset >= PCI_CFG_SIZE || size > PCI_CFG_SIZE - offset) {
		memset(data, 0xff, size);
		return;
	}
	pthread_mutex_lock(&f->host->lock);
	if (!f->ops || !f->ops->config_read || !f->ops->config_read(f, offset, data, size))
		memcpy(data, f->cfg + offset, size);
	pthread_mutex_unlock(&f->host->lock);
}

static bool overlaps(unsigned off, unsigned size, unsigned start, unsigned end)
{
	return off < end && off + size > start;
}

void pci_config_write(struct pci_function *f, unsigned offset, const uint8_t *data, unsigned size)
{
	if (offset >= PCI_CFG_SIZE || size > PCI_CFG_SIZE - offset)
		return;
	pthread_mutex_lock(&f->host->lock);
	for (unsigned i = 0; i < size; i++) {
		unsigned o = offset + i;
		f->cfg[o] = (uint8_t)((f->cfg[o] & ~f->wmask[o]) | (data[i] & f->wmask[o]));
	}
	if (overlaps(offset, size, PCI_COMMAND, PCI_COMMAND + 2) ||
	    overlaps(offset, size, PCI_BAR0, PCI_BAR0 + 4 * PCI_NUM_BARS))
		update_bars(f);
	if (overlaps(offset, size, PCI_COMMAND, PCI_COMMAND + 2))
		pci_set_intx(f, f->intx_asserted);
	if (f->ops && f->ops->config_written)
		f->ops->config_written(f, offset, size);
	pthread_mutex_unlock(&f->host->lock);
}

void pci_set_intx(struct pci_function *f, bool level)
{
	pthread_mutex_lock(&f->intx_lock);
	uint16_t status = pci_cfg16(f, PCI_STATUS) & ~PCI_STATUS_INTERRUPT;
	f->intx_asserted = level;
	pci_set_cfg16(f, PCI_STATUS, status | (level ? PCI_STATUS_INTERRUPT : 0));
	if (f->intx.ctl)
		irq_line_set(&f->intx, level && !(pci_cfg16(f, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE));
	pthread_mutex_unlock(&f->intx_lock);
}

/* A function on bus 0, or NULL. */
static struct pci_function *lookup(struct pci_host *h, unsigned bus, unsigned slot, unsigned fn)
{
	return bus == 0 && slot < PCI_MAX_SLOTS && fn < PCI_MAX_FUNCTIONS ? h->slots[slot][fn] : NULL;
}

static void config_access(struct pci_function *f, unsigned reg, uint8_t *data, unsigned size, bool write)
{
	if (!f) {
		if (!write)
			memset(data, 0xff, size);
	} else if (write) {
		pci_config_write(f, reg, data, size);
	} else {
		pci_config_read(f, reg, data, size);
	}
}

static struct pci_function *cf8_target(struct pci_host *h, unsigned *reg)
{
	uint32_t a = h->config_address;

	if (!(a & CF8_ENABLE))
		return NULL;
	*reg = a & 0xfc;
	return lookup(h, (a >> 16) & 0xff, (a >> 11) & 0x1f, (a >> 8) & 7);
}

/* A byte at 0xCF9 is not the address register's: the ISA bridge's reset control claims it. */
static bool is_cf9(const struct pci_host *h, uint64_t offset, unsigned size)
{
	return h->cf9.ops && offset == 1 && size == 1;
}

static void cf8_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	struct pci_host *h = opaque;
	uint32_t v = h->config_address;

	if (is_cf9(h, offset, size)) {
		h->cf9.ops->read(h->cf9.opaque, 0, data, 1);
		return;
	}

	if (offset < 4) {
		for (unsigned i = 0; i < size; i++)
			data[i] = offset + i < 4 ? (uint8_t)(v >> (8 * (offset + i))) : 0xff;
		return;
	}
	unsigned reg = 0;
	struct pci_function *f = cf8_target(h, &reg);
	config_access(f, reg + (unsigned)(offset - 4), data, size, false);
}

static void cf8_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct pci_host *h = opaque;

	if (offset == 0 && size == 4) {
		memcpy(&h->config_address, data, 4);
		return;
	}
	if (is_cf9(h, offset, size)) {
		h->cf9.ops->write(h->cf9.opaque, 0, data, 1);
		return;
	}
	if (offset < 4)
		return;
	unsigned reg = 0;
	struct pci_function *f = cf8_target(h, &reg);
	config_access(f, reg + (unsigned)(offset - 4), (uint8_t *)data, size, true);
}

static const struct bus_device_ops cf8_ops = { cf8_read, cf8_write };

static void ecam_access(struct pci_host *h, uint64_t offset, uint8_t *data, unsigned size, bool write)
{
	unsigned reg = offset & 0xfff;
	struct pci_function *f = lookup(h, (offset >> 20) & 0xff, (offset >> 15) & 0x1f, (offset >> 12) & 7);

	/* No extended (PCIe) config space: it reads as zero, which ends any list. */
	if (f && reg >= PCI_CFG_SIZE) {
		if (!write)
			memset(data, 0, size);
		return;
	}
	config_access(f, reg, data, size, write);
}

static void ecam_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	ecam_access(opaque, offset, data, size, false);
}

static void ecam_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	ecam_access(opaque, offset, (uint8_t *)data, size, true);
}

static const struct bus_device_ops ecam_ops = { ecam_read, ecam_write };

#define I440FX_PAM0 0x59
#define I440FX_PAM_COUNT 7
#define I440FX_SMRAM 0x72
#define I440FX_SMRAM_RESET 0x02     /* C_BASE_SEG: the SMRAM window at 0xA0000 */
#define QEMU_SUBSYSTEM_VENDOR 0x1af4
#define QEMU_SUBSYSTEM 0x1100

/* QEMU's pc host bridge: SeaBIOS takes the subsystem IDs as "running on QEMU". */
static void i440fx_init(struct pci_function *f)
{
	pci_function_init(f, "i440fx", 0x8086, 0x1237, 0x060000, 2);
	pci_set_cfg16(f, PCI_SUBSYSTEM_VENDOR_ID, QEMU_SUBSYSTEM_VENDOR);
	pci_set_cfg16(f, PCI_SUBSYSTEM_ID, QEMU_SUBSYSTEM);
	/* Each nibble: read enable, write enable, cache enable; PAM0's low nibble is reserved. */
	for (unsigned i = 0; i < I440FX_PAM_COUNT; i++)
		f->wmask[I440FX_PAM0 + i] = i ? 0x77 : 0x70;
	f->cfg[I440FX_SMRAM] = I440FX_SMRAM_RESET;
	f->wmask[I440FX_SMRAM] = 0x78;
}

int pci_host_init(struct pci_host *h, enum pci_host_model model, struct bus *pio, struct bus *mmio,
		  struct irq_controller *irq)
{
	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	h->pio = pio;
	h->mmio = mmio;
	h->irq = irq;
	h->next_mmio = PCI_MMIO_BASE;
	h->next_io = PCI_IO_BASE;
	if (model == PCI_HOST_I440FX)
		i440fx_init(&h->bridge);
	else    /* Q35's host bridge IDs: Linux knows the device and needs no driver for it. */
		pci_function_init(&h->bridge, "pci-host", 0x8086, 0x29c0, 0x060000, 0);
	h->bridge.host = h;
	h->slots[0][0] = &h->bridge;
	if (bus_register(pio, CF8_PORT, 8, &cf8_ops, h, "pci-config") < 0)
		return -1;
	if (model == PCI_HOST_I440FX)
		return 0;
	return bus_register(mmio, PCI_ECAM_BASE, PCI_ECAM_SIZE, &ecam_ops, h, "pci-ecam");
}

void pci_host_claim_cf9(struct pci_host *h, const struct bus_device_ops *ops, void *opaque)
{
	h->cf9 = (struct pci_cf9){ ops, opaque };
}

/*
 * The address register does nothing until the data port is accessed, and
 * that access exits, with KVM's buffer drained before it is handled: so
 * its writes need not exit, and a configuration read costs one exit, not
 * two. Linux's early probes make thousands (its AMD GART probe reads every
 * slot of 256 buses). The buffer spans 0xCF8-0xCFB, so not while 0xCF9 is
 * a reset register, whose write must act by itself.
 */
int pci_host_buffer_address_writes(struct pci_host *h, const struct ioevents *io)
{
	if (h->cf9.ops || !io || !io->ops || !io->ops->coalesce)
		return -1;
	return io->ops->coalesce(io->ctx, IOEVENT_PIO, CF8_PORT, 4, true);
}

unsigned pci_host_free_slot(const struct pci_host *h)
{
	unsigned slot = 1;

	while (slot < PCI_MAX_SLOTS && h->slots[slot][0])
		slot++;
	return slot;
}

static uint64_t place(uint64_t *next, uint64_t size, uint64_t end)
{
	uint64_t a = (*next + size - 1) & ~(size - 1);
	if (a < *next || a + size > end)
		return 0;
	*next = a + size;
	return a;
}

/* Gives f its place, BARs and INTx line (INTA of its slot). */
static int attach(struct pci_host *h, struct pci_function *f, unsigned slot, unsigned fn)
{
	f->host = h;
	f->slot = slot;
	f->function = fn;
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		f->bar_refs[i] = (struct pci_bar_ref){ f, i };
		if (!f->bars[i].size)
			continue;
		bool io = f->bars[i].flags & PCI_BAR_IO;
		uint64_t a = io ? place(&h->next_io, f->bars[i].size, PCI_IO_END)
				: place(&h->next_mmio, f->bars[i].size, PCI_MMIO_BASE + PCI_MMIO_SIZE);
		if (!a)
			return -1;
		/* Pre-assigned as firmware would; decoding stays off until the guest enables it. */
		unsigned off = PCI_BAR0 + 4 * (unsigned)i;
		pci_set_cfg32(f, off, (uint32_t)a | f->bars[i].flags);
		if (f->bars[i].flags & PCI_BAR_MEM64)
			pci_set_cfg32(f, off + 4, (uint32_t)(a >> 32));
	}
	uint32_t gsi = pci_intx_gsi(slot);
	f->intx = (struct irq_line){ .ctl = h->irq, .gsi = gsi };
	f->cfg[PCI_INTERRUPT_PIN] = 1;
	f->cfg[PCI_INTERRUPT_LINE] = (uint8_t)gsi;
	h->slots[slot][fn] = f;
	return 0;
}

int pci_host_add(struct pci_host *h, struct pci_function *f)
{
	unsigned slot = pci_host_free_slot(h);

	return slot == PCI_MAX_SLOTS ? -1 : attach(h, f, slot, 0);
}

int pci_host_add_function(struct pci_host *h, unsigned slot, unsigned fn, struct pci_function *f)
{
	if (slot >= PCI_MAX_SLOTS || fn == 0 || fn >= PCI_MAX_FUNCTIONS || !h->slots[slot][0] || h->slots[slot][fn])
		return -1;
	return attach(h, f, slot, fn);
}
