/*
 * Fuzz target for the PCI host (config space through ports 0xCF8/0xCFC and
 * ECAM, BAR sizing, mapping and moving), MSI-X (table, PBA, masks) and the
 * virtio-pci transport (common, notify, ISR and device configuration, the
 * PCI_CFG window, queue reset), with a virtio-blk device behind it on the
 * in-memory disk. The input is a list of 12-byte operations, then guest
 * memory (rings and requests, as the fuzzer likes):
 *   op[0] % 5: 0 config space by 0xCF8/0xCFC, 1 by ECAM, 2 the virtio BAR
 *              wherever config space says it is, 3 any MMIO address,
 *              4 let op[2] requests in flight complete
 *   op[1]: access size 1, 2, 4 (or 8 for MMIO) by its low two bits
 *   op[2]: bit 0 write (else read)
 *   op[4..7]: offset or address; op[8..11]: value
 * Built as a libFuzzer target with -DVMM_FUZZ=ON, and into a replay
 * program ctest runs over tests/fuzz/corpus_pci.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem_block.h"
#include "memmap.h"
#include "pci.h"
#include "virtio_blk.h"
#include "virtio_pci.h"

#define RAM_SIZE (256u << 10)
#define OP_BYTES 12
#define MAX_OPS 128
#define SLOT 1

static void set_gsi(void *ctx, uint32_t gsi, bool level)
{
	(void)ctx;
	(void)gsi;
	(void)level;
}

static void send_msi(void *ctx, uint64_t addr, uint32_t data)
{
	(void)ctx;
	(void)addr;
	(void)data;
}

/* Routes the way KVM's would: a route number the first time, kept after. */
static int msi_irqfd(void *ctx, int *route, int fd, uint64_t addr, uint32_t data)
{
	(void)ctx;
	(void)fd;
	(void)addr;
	(void)data;
	if (*route < 0)
		*route = 24;
	return 0;
}

static void msi_irqfd_release(void *ctx, int route, int fd)
{
	(void)ctx;
	(void)route;
	(void)fd;
}

static const struct irq_controller_ops irq_ops = { set_gsi, send_msi, msi_irqfd, msi_irqfd_release, NULL };
static struct irq_controller irq = { &irq_ops, NULL };

static int assign(void *ctx, const struct ioevent *ev, int fd)
{
	(void)ctx;
	(void)ev;
	(void)fd;
	return 0;
}

static void deassign(void *ctx, const struct ioevent *ev, int fd)
{
	(void)ctx;
	(void)ev;
	(void)fd;
}

static const struct ioevent_ops ioevent_ops = { assign, deassign, NULL };
static struct ioevents ioevents = { &ioevent_ops, NULL };

static struct event_watch *watch(void *ctx, int fd, event_fn *fn, void *arg)
{
	(void)ctx;
	(void)fd;
	(void)fn;
	return arg;
}

static int enable(void *ctx, struct event_watch *w, bool on)
{
	(void)ctx;
	(void)w;
	(void)on;
	return 0;
}

static const struct event_loop_ops loop_ops = { watch, enable };
static struct event_loop loop = { &loop_ops, NULL };

struct machine {
	uint8_t *ram;
	struct guest_mem mem;
	struct bus pio, mmio;
	struct pci_host host;
	struct mem_block disk;
	struct block_backend be;
	struct virtio_blk *blk;
	struct virtio_pci *vp;
};

static void bus_access(struct bus *bus, uint64_t addr, const uint8_t *op, unsigned max_size)
{
	unsigned size = 1u << (op[1] & 3);
	uint8_t data[8];

	if (size > max_size)
		size = max_size;
	memcpy(data, op + 8, 4);
	memset(data + 4, 0, 4);
	if (op[2] & 1)
		bus_write(bus, addr, data, size);
	else
		bus_read(bus, addr, data, size);
}

static uint64_t virtio_bar(struct machine *m)
{
	uint32_t lo, hi;
	pci_config_read(virtio_pci_function(m->vp), PCI_BAR0 + 4 * VIRTIO_PCI_BAR, (uint8_t *)&lo, 4);
	pci_config_read(virtio_pci_function(m->vp), PCI_BAR0 + 4 * VIRTIO_PCI_BAR + 4, (uint8_t *)&hi, 4);
	return ((uint64_t)hi << 32 | lo) & ~0xfull;
}

static void run_op(struct machine *m, const uint8_t *op)
{
	uint32_t where;

	memcpy(&where, op + 4, 4);
	switch (op[0] % 5) {
	case 0: {
		uint32_t cf8 = 0x80000000u | (SLOT << 11) | (where & 0xfc);
		bus_write(&m->pio, PCI_CONFIG_ADDRESS_PORT, (uint8_t *)&cf8, 4);
		bus_access(&m->pio, PCI_CONFIG_ADDRESS_PORT + 4 + (where & 3), op, 4);
		break;
	}
	case 1:
		bus_access(&m->mmio, PCI_ECAM_BASE + (where & 0xfffff), op, 4);
		break;
	case 2:
		bus_access(&m->mmio, virtio_bar(m) + where % VIRTIO_PCI_BAR_SIZE, op, 8);
		break;
	case 3:
		bus_access(&m->mmio, PCI_MMIO_BASE + where % PCI_MMIO_SIZE, op, 8);
		break;
	default:
		m->disk.reap_budget = op[2];
		virtio_blk_complete_io(m->blk);
	}
}

static void build(struct machine *m)
{
	bus_init(&m->pio, "pio");
	bus_init(&m->mmio, "mmio");
	pci_host_init(&m->host, PCI_HOST_Q35, &m->pio, &m->mmio, &irq);
	mem_block_init(&m->disk, &m->be, 64 << 10, 256, false);
	m->disk.hold = true;
	struct platform p = { &m->mem, &m->pio, &m->mmio, &irq, &ioevents, &loop };
	m->blk = virtio_blk_create(&p, &m->be, 2, "fuzz");
	m->vp = virtio_pci_create(virtio_blk_dev(m->blk), &p, 0x018000);
	if (!m->blk || !m->vp || pci_host_add(&m->host, virtio_pci_function(m->vp)) < 0)
		abort();
}

/* As vmm goes down: the I/O thread stops, then devices and buses go. */
static void tear_down(struct machine *m)
{
	m->disk.hold = false;
	virtio_blk_complete_io(m->blk);
	virtio_pci_destroy(m->vp);
	virtio_blk_destroy(m->blk);
	mem_block_free(&m->disk);
	bus_destroy(&m->pio);
	bus_destroy(&m->mmio);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct machine m;
	size_t nops = size ? data[0] % (MAX_OPS + 1) : 0;
	size_t ops_len = size > 1 ? (nops * OP_BYTES < size - 1 ? nops * OP_BYTES : size - 1) : 0;

	if (!m.ram) {
		m.ram = malloc(RAM_SIZE);
		m.mem.region[0] = (struct guest_mem_region){ 0, RAM_SIZE, m.ram };
		m.mem.nr_regions = 1;
	}
	memset(m.ram, 0, RAM_SIZE);
	if (size > 1 + ops_len)
		memcpy(m.ram, data + 1 + ops_len, size - 1 - ops_len < RAM_SIZE ? size - 1 - ops_len : RAM_SIZE);
	build(&m);
	for (size_t i = 0; i + OP_BYTES <= ops_len; i += OP_BYTES)
		run_op(&m, data + 1 + i);
	tear_down(&m);
	return 0;
}
