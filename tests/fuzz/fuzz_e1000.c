/*
 * Fuzz target for the e1000: its registers through both BARs, the
 * EEPROM and PHY, the transmit path (legacy, context and data
 * descriptors, checksums and TSO carried out here, VLAN insertion) and the
 * receive path (filters, long frames, VLAN stripping, checksums left by
 * the backend), on a NIC in a PCI slot. The input's first byte picks the
 * machine: bit 0 an event loop (transmission, delay timers and the INTA#
 * resample on its watches, run by operation 8) with an irqfd for INTA#,
 * else everything on the calling thread; bit 1 a backend that takes
 * checksum and TSO offloads. Then operations, each a kind byte k and its
 * operands, little-endian, zero when the input runs out:
 *   (k & 15) % 9: 0 BAR0 write (offset u32, value u32), 1 BAR0 read (offset u32),
 *          2 BAR1 write (offset u8, value u32), 3 BAR1 read (offset u8),
 *          4 16 bytes of guest RAM (address u32, bytes), 5 a frame from
 *          the backend (length u16, then that many bytes: header and
 *          frame), 6 link (u8: bit 0 up), 7 PCI COMMAND (u16),
 *          8 run the loop's watches
 *   (k >> 4) & 3: access size 1, 2, 4 or 8 for BAR accesses
 * Guest memory starts zeroed; the device's rings and buffers are wherever
 * the input's register writes put them. The backend swallows what it is
 * sent, touching every byte.
 *
 * Built as a libFuzzer target with -DVMM_FUZZ=ON, and into
 * fuzz_e1000_replay for ctest, which runs tests/fuzz/corpus_e1000.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "e1000.h"
#include "fake_loop.h"

#define RAM_SIZE (256u << 10)
#define MAX_FRAME (16384 + 64)        /* past RCTL.LPE's longest, to reach the length checks */

enum { OP_MMIO_WRITE, OP_MMIO_READ, OP_IO_WRITE, OP_IO_READ, OP_RAM, OP_FRAME, OP_LINK, OP_COMMAND, OP_LOOP, OP_KINDS };

struct input {
	const uint8_t *p;
	size_t left;
};

struct pending_frame {
	uint8_t bytes[MAX_FRAME];
	size_t len;
	bool waiting;
};

static void take(struct input *in, void *out, size_t n)
{
	size_t k = n < in->left ? n : in->left;

	memcpy(out, in->p, k);
	memset((uint8_t *)out + k, 0, n - k);
	in->p += k;
	in->left -= k;
}

static uint32_t take_u32(struct input *in)
{
	uint8_t b[4];
	take(in, b, 4);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint16_t take_u16(struct input *in)
{
	uint8_t b[2];
	take(in, b, 2);
	return (uint16_t)(b[0] | b[1] << 8);
}

static uint8_t take_u8(struct input *in)
{
	uint8_t b;
	take(in, &b, 1);
	return b;
}

/* ---- The backend: one frame at a time from the input ---- */

static int sink_send(void *ctx, const struct iovec *iov, unsigned n)
{
	(void)ctx;
	/* Touch every byte, as a real backend would read them. */
	static volatile uint8_t sum;
	for (unsigned i = 0; i < n; i++)
		for (size_t k = 0; k < iov[i].iov_len; k++)
			sum = (uint8_t)(sum + ((uint8_t *)iov[i].iov_base)[k]);
	return 0;
}

static ssize_t give_frame(void *ctx, const struct iovec *iov, unsigned n)
{
	struct pending_frame *f = ctx;
	size_t at = 0;

	if (!f->waiting)
		return 0;
	f->waiting = false;
	for (unsigned i = 0; i < n && at < f->len; i++) {
		size_t k = iov[i].iov_len < f->len - at ? iov[i].iov_len : f->len - at;
		memcpy(iov[i].iov_base, f->bytes + at, k);
		at += k;
	}
	return (ssize_t)at;
}

static void ignore_receiving(void *ctx, bool on)
{
	(void)ctx;
	(void)on;
}

static int ignore_offloads(void *ctx, unsigned offloads)
{
	(void)ctx;
	(void)offloads;
	return 0;
}

static const struct net_backend_ops backend_ops = { sink_send, give_frame, ignore_receiving, ignore_offloads, NULL };

/* ---- Interrupts and the loop ---- */

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

static int intx_irqfd(void *ctx, uint32_t gsi, int fd, int resample_fd, bool assign)
{
	(void)ctx;
	(void)gsi;
	(void)fd;
	(void)resample_fd;
	(void)assign;
	return 0;
}

static const struct irq_controller_ops plain_irq_ops = { set_gsi, send_msi, NULL, NULL, NULL };
static const struct irq_controller_ops irqfd_irq_ops = { set_gsi, send_msi, NULL, NULL, intx_irqfd };

/* ---- The machine ---- */

struct machine {
	uint8_t *ram;
	struct guest_mem mem;
	struct bus pio, mmio;
	struct pci_host host;
	struct irq_controller irq;
	struct fake_loop fl;
	struct pending_frame frame;
	struct e1000 *nic;
	struct pci_function *fn;
};

static void build(struct machine *m, uint8_t mode)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
	bool with_loop = mode & 1;
	unsigned offloads = (mode & 2) ? NET_OFFLOAD_CSUM | NET_OFFLOAD_TSO4 | NET_OFFLOAD_TSO6 : 0;

	bus_init(&m->pio, "pio");
	bus_init(&m->mmio, "mmio");
	m->irq = (struct irq_controller){ with_loop ? &irqfd_irq_ops : &plain_irq_ops, NULL };
	fake_loop_init(&m->fl);
	m->frame.waiting = false;
	pci_host_init(&m->host, PCI_HOST_Q35, &m->pio, &m->mmio, &m->irq);
	struct platform p = { &m->mem, &m->pio, &m->mmio, &m->irq, NULL, with_loop ? &m->fl.loop : NULL };
	struct net_backend be = { &backend_ops, &m->frame, offloads, 0 };
	m->nic = e1000_create(&p, &be, mac);
	if (!m->nic || e1000_attach(m->nic, &m->host) < 0)
		abort();
	m->fn = e1000_pci_function(m->nic);
	/* As firmware leaves it: decoding and bus mastering on, so the first operations reach the rings. */
	uint16_t cmd = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	pci_config_write(m->fn, PCI_COMMAND, (uint8_t *)&cmd, 2);
}

static void tear_down(struct machine *m)
{
	e1000_destroy(m->nic);
	bus_destroy(&m->pio);
	bus_destroy(&m->mmio);
}

static void bar_access(struct machine *m, int bar, uint64_t off, uint8_t kind, uint32_t value, bool write)
{
	unsigned size = 1u << ((kind >> 4) & 3);
	uint8_t data[8] = { 0 };

	memcpy(data, &value, 4);
	if (write)
		m->fn->ops->bar_write(m->fn, bar, off, data, size);
	else
		m->fn->ops->bar_read(m->fn, bar, off, data, size);
}

static void deliver(struct machine *m, struct input *in)
{
	size_t len = take_u16(in) % (MAX_FRAME + 1);

	take(in, m->frame.bytes, len);
	m->frame.len = len;
	m->frame.waiting = true;
	e1000_receive(m->nic);
}

static void run_op(struct machine *m, struct input *in)
{
	uint8_t kind = take_u8(in);
	uint8_t bytes[16];

	switch ((kind & 15) % OP_KINDS) {
	case OP_MMIO_WRITE: {
		uint32_t off = take_u32(in) % E1000_MMIO_SIZE;
		bar_access(m, 0, off, kind, take_u32(in), true);
		break;
	}
	case OP_MMIO_READ:
		bar_access(m, 0, take_u32(in) % E1000_MMIO_SIZE, kind, 0, false);
		break;
	case OP_IO_WRITE: {
		uint8_t off = take_u8(in) % E1000_IO_SIZE;
		bar_access(m, 1, off, kind, take_u32(in), true);
		break;
	}
	case OP_IO_READ:
		bar_access(m, 1, take_u8(in) % E1000_IO_SIZE, kind, 0, false);
		break;
	case OP_RAM: {
		uint32_t gpa = take_u32(in) % (RAM_SIZE - sizeof(bytes) + 1);
		take(in, bytes, sizeof(bytes));
		memcpy(m->ram + gpa, bytes, sizeof(bytes));
		break;
	}
	case OP_FRAME:
		deliver(m, in);
		break;
	case OP_LINK:
		e1000_set_link(m->nic, take_u8(in) & 1);
		break;
	case OP_COMMAND: {
		uint16_t cmd = take_u16(in);
		pci_config_write(m->fn, PCI_COMMAND, (uint8_t *)&cmd, 2);
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
	build(&m, take_u8(&in));
	while (in.left)
		run_op(&m, &in);
	tear_down(&m);
	return 0;
}
