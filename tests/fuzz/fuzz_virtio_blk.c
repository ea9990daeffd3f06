/*
 * Fuzz target for the virtqueue, virtio core, virtio-mmio transport and
 * virtio-blk: the input is a list of register accesses to the virtio-mmio
 * window followed by the contents of guest memory (rings, descriptors,
 * request headers, indirect tables — whatever the fuzzer puts there). The
 * device starts set up by a well-behaved driver; the accesses then do what
 * they like, including kicking queue 0 over the fuzzed rings, resetting
 * queues and the device, and letting some of the requests in flight
 * complete (an access with bit 1 of its flags byte completes op[2] of
 * them) — so a reset with I/O in flight is reached. Requests go to the
 * in-memory block backend (tests/common/mem_block.c).
 *
 * Built as a libFuzzer target with clang (-DVMM_FUZZ=ON), and into
 * fuzz_replay for ctest, which runs the corpus in tests/fuzz/corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem_block.h"
#include "virtio_blk.h"
#include "virtio_mmio.h"

#define RAM_SIZE (256u << 10)
#define MMIO_BASE 0x10000000ull
#define OP_BYTES 8
#define MAX_OPS 64
#define DESC_GPA 0x1000
#define AVAIL_GPA 0x2000
#define USED_GPA 0x3000

struct fuzz_env {
	uint8_t *ram;
	struct guest_mem mem;
	struct mem_block disk;
	struct block_backend be;
	struct bus mmio;
};

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

static const struct irq_controller_ops no_irq_ops = { .set_gsi = set_gsi, .send_msi = send_msi };
static struct irq_controller no_irq = { &no_irq_ops, NULL };

static struct fuzz_env *env(void)
{
	static struct fuzz_env e;
	static bool ready;

	if (ready)
		return &e;
	mem_block_init(&e.disk, &e.be, 1 << 20, 256, false);
	e.disk.hold = true;
	e.ram = malloc(RAM_SIZE);
	e.mem.region[0] = (struct guest_mem_region){ 0, RAM_SIZE, e.ram };
	e.mem.nr_regions = 1;
	ready = true;
	return &e;
}

static void mmio_write32(struct fuzz_env *e, uint64_t off, uint32_t v)
{
	bus_write(&e->mmio, MMIO_BASE + off, (uint8_t *)&v, 4);
}

/* What a correct driver does: features, queue 0 at fixed rings, DRIVER_OK. */
static void bring_up(struct fuzz_env *e)
{
	mmio_write32(e, 0x070, 1);
	mmio_write32(e, 0x070, 3);
	mmio_write32(e, 0x024, 1);
	mmio_write32(e, 0x020, 1);                 /* VERSION_1 */
	mmio_write32(e, 0x024, 0);
	mmio_write32(e, 0x020, (1u << 28) | (1u << 29) | (1u << 9) | (1u << 13) | (1u << 14));
	mmio_write32(e, 0x070, 0xb);
	mmio_write32(e, 0x030, 0);
	mmio_write32(e, 0x038, 16);
	mmio_write32(e, 0x080, DESC_GPA);
	mmio_write32(e, 0x090, AVAIL_GPA);
	mmio_write32(e, 0x0a0, USED_GPA);
	mmio_write32(e, 0x044, 1);
	mmio_write32(e, 0x070, 0xf);
}

/* n requests in flight complete, as the event loop completes them: through the device, under its lock. */
static void complete(struct fuzz_env *e, struct virtio_blk *blk, unsigned n)
{
	e->disk.reap_budget = n;
	virtio_blk_complete_io(blk);
}

static void run_op(struct fuzz_env *e, struct virtio_blk *blk, const uint8_t *op)
{
	uint16_t off;
	uint32_t v;
	uint8_t data[8];

	memcpy(&off, op, 2);
	memcpy(&v, op + 4, 4);
	off &= VIRTIO_MMIO_SIZE - 1;
	unsigned size = 1u << (op[2] & 3);
	if (size == 8)
		size = 4;
	memcpy(data, &v, 4);
	if (op[3] & 2)
		complete(e, blk, op[2]);
	else if (op[3] & 1)
		bus_write(&e->mmio, MMIO_BASE + off, data, size);
	else
		bus_read(&e->mmio, MMIO_BASE + off, data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_env *e = env();
	size_t nops = data[0] % (MAX_OPS + 1);
	size_t ops_len = size > 1 ? (nops * OP_BYTES < size - 1 ? nops * OP_BYTES : size - 1) : 0;

	if (size == 0)
		return 0;
	memset(e->ram, 0, RAM_SIZE);
	memcpy(e->ram, data + 1 + ops_len, size - 1 - ops_len < RAM_SIZE ? size - 1 - ops_len : RAM_SIZE);
	bus_init(&e->mmio, "mmio");
	struct platform p = { .mem = &e->mem, .mmio = &e->mmio, .irq = &no_irq };
	struct virtio_blk *blk = virtio_blk_create(&p, &e->be, 2, "fuzz");
	struct virtio_mmio *vm = virtio_mmio_create(virtio_blk_dev(blk), &p, MMIO_BASE, 5);
	bring_up(e);
	/* The rings' own contents come from the input; kick once before the register ops. */
	mmio_write32(e, 0x050, 0);
	for (size_t i = 0; i + OP_BYTES <= ops_len; i += OP_BYTES)
		run_op(e, blk, data + 1 + i);
	/* Every request finishes before the device goes away, as vmm's I/O thread stops first. */
	complete(e, blk, e->disk.depth);
	virtio_mmio_destroy(vm);
	virtio_blk_destroy(blk);
	bus_destroy(&e->mmio);
	return 0;
}
