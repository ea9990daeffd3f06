/*
 * Fuzz target for the NVMe controller: its registers, doorbells and MSI-X
 * table through BAR0, PCI config space (the MSI-X capability, COMMAND,
 * the BAR), and whatever guest RAM holds: admin and I/O submission
 * queues, PRP lists, SGL segments, Dataset Management ranges, shadow
 * doorbell and EventIdx pages. Requests go to the in-memory block backend
 * (tests/common/mem_block.c), which completes them inside submit(), or,
 * held, when the input says (directly, or through the controller's reap
 * under its lock), so resets, queue deletions and shutdowns with I/O in
 * flight are reached.
 *
 * The input's first byte picks the machine: bit 0 an event loop and
 * ioevents (I/O queues then run from their eventfds' watches, which
 * operation 8 runs, and shadowed doorbells become ioevents), bit 1 a
 * read-only disk, bit 2 a disk without a write cache, bit 3 completions
 * held from the start, bits 5:4 the number of I/O queue pairs less one.
 * Then operations, each a kind byte k and its operands, little-endian,
 * zero when the input runs out:
 *   (k & 15) % 9: 0 BAR0 write (offset u16, value u64), 1 BAR0 read (offset u16),
 *          2 guest RAM (address u32, length u8, that many bytes),
 *          3 doorbell (index u16: 2 * qid + 1 for a CQ head, value u32),
 *          4 complete (count u8) then the loop's nvme_complete_io(),
 *          5 reap (budget u8): nvme_complete_io() completes that many,
 *          6 backend (u8: bit 0 hold, bit 1 full: -EAGAIN with requests in flight),
 *          7 PCI config write (offset u8, value u32), 8 run the loop's watches
 *   (k >> 4) & 3: access size 1, 2, 4 or 8 (8 is 4 for config space)
 * Guest memory starts zeroed. Every request finishes before the
 * controller goes away, as vmm's I/O thread stops first.
 *
 * Built as a libFuzzer target with -DVMM_FUZZ=ON, and into
 * fuzz_nvme_replay for ctest, which runs tests/fuzz/corpus_nvme.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_loop.h"
#include "mem_block.h"
#include "nvme.h"

#define RAM_SIZE (256u << 10)
#define DISK_BYTES (128u << 10)
#define DISK_DEPTH 512                /* the controller keeps room for a 256-range DSM */
#define MAX_IOEVENTS 16

enum { OP_BAR_WRITE, OP_BAR_READ, OP_RAM, OP_DOORBELL, OP_COMPLETE, OP_REAP, OP_BACKEND, OP_CONFIG, OP_LOOP,
       OP_KINDS };

struct input {
	const uint8_t *p;
	size_t left;
};

static void take(struct input *in, void *out, size_t n)
{
	size_t k = n < in->left ? n : in->left;

	memcpy(out, in->p, k);
	memset((uint8_t *)out + k, 0, n - k);
	in->p += k;
	in->left -= k;
}

static uint64_t take_le(struct input *in, unsigned bytes)
{
	uint8_t b[8];
	uint64_t v = 0;

	take(in, b, bytes);
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

/* ---- Interrupts, the loop and ioevents: they only remember ---- */

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

static const struct irq_controller_ops irq_ops = { set_gsi, send_msi, NULL, NULL, NULL };

/* Bindings must pair up: an ioevent assigned twice, or deassigned unassigned, is a bug. */
struct fake_ioevents {
	uint64_t addr[MAX_IOEVENTS];
	int fd[MAX_IOEVENTS];
	unsigned n;
};

static int assign(void *ctx, const struct ioevent *ev, int fd)
{
	struct fake_ioevents *e = ctx;

	for (unsigned i = 0; i < e->n; i++)
		if (e->addr[i] == ev->addr)
			abort();
	if (e->n == MAX_IOEVENTS)
		return -1;
	e->addr[e->n] = ev->addr;
	e->fd[e->n++] = fd;
	return 0;
}

static void deassign(void *ctx, const struct ioevent *ev, int fd)
{
	struct fake_ioevents *e = ctx;

	for (unsigned i = 0; i < e->n; i++) {
		if (e->addr[i] == ev->addr && e->fd[i] == fd) {
			e->n--;
			e->addr[i] = e->addr[e->n];
			e->fd[i] = e->fd[e->n];
			return;
		}
	}
	abort();
}

static int coalesce(void *ctx, enum ioevent_space space, uint64_t addr, uint64_t len, bool on)
{
	(void)ctx;
	(void)space;
	(void)addr;
	(void)len;
	(void)on;
	return 0;
}

static const struct ioevent_ops ioevent_ops = { assign, deassign, coalesce };

/* ---- The machine ---- */

struct machine {
	uint8_t *ram;
	struct guest_mem mem;
	struct bus pio, mmio;
	struct pci_host host;
	struct irq_controller irq;
	struct fake_loop fl;
	struct fake_ioevents fe;
	struct ioevents ioevents;
	struct mem_block disk;
	struct block_backend be;
	struct nvme *nvme;
	struct pci_function *fn;
};

static void build(struct machine *m, uint8_t mode)
{
	bool with_loop = mode & 1;

	bus_init(&m->pio, "pio");
	bus_init(&m->mmio, "mmio");
	m->irq = (struct irq_controller){ &irq_ops, NULL };
	fake_loop_init(&m->fl);
	m->fe.n = 0;
	m->ioevents = (struct ioevents){ &ioevent_ops, &m->fe };
	mem_block_init(&m->disk, &m->be, DISK_BYTES, DISK_DEPTH, mode & 2);
	if (mode & 4)
		m->be.write_cache = false;
	m->disk.hold = mode & 8;
	pci_host_init(&m->host, PCI_HOST_Q35, &m->pio, &m->mmio, &m->irq);
	struct platform p = { &m->mem, &m->pio, &m->mmio, &m->irq, with_loop ? &m->ioevents : NULL,
			      with_loop ? &m->fl.loop : NULL };
	m->nvme = nvme_create(&p, &m->be, 1 + ((mode >> 4) & 3), "fuzz");
	if (!m->nvme || nvme_attach(m->nvme, &m->host) < 0)
		abort();
	m->fn = nvme_pci_function(m->nvme);
	/* As firmware leaves it: memory decoding and bus mastering on. */
	uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	pci_config_write(m->fn, PCI_COMMAND, (uint8_t *)&cmd, 2);
}

static void tear_down(struct machine *m)
{
	/* What is in flight completes first, its data landing while RAM is still there. */
	m->disk.hold = false;
	m->disk.full = false;
	m->be.ops->drain(m->be.ctx);
	nvme_complete_io(m->nvme);
	nvme_destroy(m->nvme);
	if (m->fe.n)
		abort();               /* an ioevent outlived the controller */
	mem_block_free(&m->disk);
	bus_destroy(&m->pio);
	bus_destroy(&m->mmio);
}

static void bar_access(struct machine *m, uint64_t off, uint8_t kind, uint64_t value, bool write)
{
	unsigned size = 1u << ((kind >> 4) & 3);
	uint8_t data[8];

	memcpy(data, &value, 8);
	if (write)
		m->fn->ops->bar_write(m->fn, 0, off, data, size);
	else
		m->fn->ops->bar_read(m->fn, 0, off, data, size);
}

static void run_op(struct machine *m, struct input *in)
{
	uint8_t kind = (uint8_t)take_le(in, 1);
	uint8_t bytes[255];

	switch ((kind & 15) % OP_KINDS) {
	case OP_BAR_WRITE: {
		uint64_t off = take_le(in, 2) % NVME_BAR_SIZE;
		bar_access(m, off, kind, take_le(in, 8), true);
		break;
	}
	case OP_BAR_READ:
		bar_access(m, take_le(in, 2) % NVME_BAR_SIZE, kind, 0, false);
		break;
	case OP_RAM: {
		uint32_t gpa = (uint32_t)take_le(in, 4) % RAM_SIZE;
		size_t len = (size_t)take_le(in, 1);
		if (len > RAM_SIZE - gpa)
			len = RAM_SIZE - gpa;
		take(in, bytes, len);
		memcpy(m->ram + gpa, bytes, len);
		break;
	}
	case OP_DOORBELL: {
		uint64_t index = take_le(in, 2) % (NVME_DOORBELLS / 4);
		uint32_t value = (uint32_t)take_le(in, 4);
		bar_access(m, NVME_DOORBELLS + 4 * index, 2 << 4, value, true);
		break;
	}
	case OP_COMPLETE:
		mem_block_complete(&m->disk, (unsigned)take_le(in, 1));
		nvme_complete_io(m->nvme);
		break;
	case OP_REAP:
		m->disk.reap_budget = (unsigned)take_le(in, 1);
		nvme_complete_io(m->nvme);
		break;
	case OP_BACKEND: {
		uint8_t flags = (uint8_t)take_le(in, 1);
		m->disk.hold = flags & 1;
		m->disk.full = flags & 2;
		break;
	}
	case OP_CONFIG: {
		unsigned off = (unsigned)take_le(in, 1), size = 1u << ((kind >> 4) & 3);
		uint32_t v = (uint32_t)take_le(in, 4);
		if (size == 8)
			size = 4;
		if (off + size <= PCI_CFG_SIZE)
			pci_config_write(m->fn, off, (uint8_t *)&v, size);
		break;
	}
	default:
		fake_loop_run(&m->fl);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct machine m;
	struct input in = { data, size };

	if (!m.ram) {
		m.ram = malloc(RAM_SIZE);
		m.mem.region[0] = (struct guest_mem_region){ 0, RAM_SIZE, m.ram };
		m.mem.nr_regions = 1;
	}
	memset(m.ram, 0, RAM_SIZE);
	build(&m, (uint8_t)take_le(&in, 1));
	while (in.left)
		run_op(&m, &in);
	tear_down(&m);
	return 0;
}
