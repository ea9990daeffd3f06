/*
 * Test guest for virtio-blk: finds the disk on PCI (or, with
 * transport=mmio, at virtio_mmio.device=), negotiates, then with several
 * requests in flight writes a pattern, flushes, reads it back and checks it.
 * Half the requests use indirect descriptors; each data buffer spans two
 * descriptors. It also checks GET_ID, a read past the end (IOERR) and an
 * unknown request type (UNSUPP). Over PCI it takes completions as MSI-X
 * interrupts and sleeps in hlt (poll on the command line: it polls instead).
 * Command line: seed=N sector=N transport=mmio poll, and crash=acked or
 * crash=flushed: stop after the writes (and a flush), say so and wait to be
 * killed, for the durability test. The host checks the image afterwards
 * (tests/integration/blk_pattern.py).
 */
#include "virtio_driver.h"

#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define S_OK 0
#define S_IOERR 1
#define S_UNSUPP 2

#define NREQ 8
#define REQ_SECTORS 16
#define REQ_BYTES (REQ_SECTORS * 512)
#define HALF (REQ_BYTES / 2)

struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

static struct fw_vring vring __attribute__((aligned(4096)));
static uint8_t data[NREQ][REQ_BYTES] __attribute__((aligned(4096)));
static struct blk_hdr hdrs[NREQ];
static uint8_t status[NREQ];
static struct virtq_desc indirect[NREQ][4] __attribute__((aligned(16)));
static struct vdev dev;
static unsigned long seed;
static volatile unsigned interrupts;

#define QUEUE_VECTOR 0x40
#define TIMER_VECTOR 0x41
/* The timer only wakes the CPU if an interrupt is lost; about every 10 ms at 1 GHz. */
#define TIMER_COUNT 10000000

static void queue_interrupt(void)
{
	interrupts++;
}

static void timer_tick(void)
{
}

static __attribute__((noreturn)) void fail(const char *what)
{
	printf("virtio-blk test FAILED: %s\n", what);
	debug_exit(FW_EXIT_FAILURE);
}

static uint8_t pattern(uint64_t sector, unsigned i)
{
	return (uint8_t)(sector * 7 + i * 13 + seed);
}

struct span {
	uint64_t first_sector;
	unsigned bad;
};

/* Ring 3: these loops touch every byte, so they run at native speed on PVM. */
static uint64_t fill(void *arg)
{
	struct span *s = arg;
	for (unsigned r = 0; r < NREQ; r++)
		for (unsigned i = 0; i < REQ_BYTES; i++)
			data[r][i] = pattern(s->first_sector + r * REQ_SECTORS + i / 512, i % 512);
	return 0;
}

static uint64_t verify(void *arg)
{
	struct span *s = arg;
	uint64_t bad = 0;
	for (unsigned r = 0; r < NREQ; r++)
		for (unsigned i = 0; i < REQ_BYTES; i++)
			bad += data[r][i] != pattern(s->first_sector + r * REQ_SECTORS + i / 512, i % 512);
	return bad;
}

/* Descriptors for request i: header, up to two data buffers, status. */
static uint16_t build(unsigned i, uint32_t type, uint64_t sector, uint8_t *buf, uint32_t len, bool indirect_desc)
{
	struct virtq_desc chain[4];
	unsigned n = 0;
	uint16_t data_flags = type == T_OUT ? 0 : VIRTQ_DESC_F_WRITE;

	hdrs[i] = (struct blk_hdr){ type, 0, sector };
	status[i] = 0xff;
	chain[n++] = (struct virtq_desc){ (uintptr_t)&hdrs[i], sizeof(hdrs[i]), 0, 0 };
	if (len > HALF) {
		chain[n++] = (struct virtq_desc){ (uintptr_t)buf, HALF, data_flags, 0 };
		chain[n++] = (struct virtq_desc){ (uintptr_t)buf + HALF, len - HALF, data_flags, 0 };
	} else if (len) {
		chain[n++] = (struct virtq_desc){ (uintptr_t)buf, len, data_flags, 0 };
	}
	chain[n++] = (struct virtq_desc){ (uintptr_t)&status[i], 1, VIRTQ_DESC_F_WRITE, 0 };

	uint16_t head = (uint16_t)(4 * i);
	struct virtq_desc *table = indirect_desc ? indirect[i] : &vring.desc[head];
	uint16_t base = indirect_desc ? 0 : head;
	for (unsigned k = 0; k < n; k++) {
		table[k] = chain[k];
		if (k + 1 < n) {
			table[k].flags |= VIRTQ_DESC_F_NEXT;
			table[k].next = (uint16_t)(base + k + 1);
		}
	}
	if (indirect_desc)
		vring.desc[head] = (struct virtq_desc){ (uintptr_t)table, n * sizeof(table[0]), VIRTQ_DESC_F_INDIRECT, 0 };
	return head;
}

static void wait_all(unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		if (virtio_wait_used(&dev, &vring, NULL) < 0)
			fail("no completion within the time limit");
}

/*
 * Asks for an interrupt at the first completion before submitting, so that
 * each submission raises at least one even when the device completes
 * before the driver looks (page-cache hits complete at once).
 */
static void publish(const uint16_t *heads, unsigned n)
{
	if (dev.msix)
		__atomic_store_n(&vring.avail.used_event, vring.last_used, __ATOMIC_RELEASE);
	virtio_publish(&dev, 0, &vring, heads, n);
}

/* NREQ requests of one type over consecutive sectors, all in flight at once. */
static void batch(uint32_t type, uint64_t first_sector, bool use_indirect)
{
	uint16_t heads[NREQ];

	for (unsigned i = 0; i < NREQ; i++)
		heads[i] = build(i, type, first_sector + i * REQ_SECTORS, data[i], REQ_BYTES, use_indirect && (i & 1));
	publish(heads, NREQ);
	wait_all(NREQ);
	for (unsigned i = 0; i < NREQ; i++)
		if (status[i] != S_OK)
			fail(type == T_OUT ? "a write did not return OK" : "a read did not return OK");
}

static uint8_t single(uint32_t type, uint64_t sector, uint8_t *buf, uint32_t len)
{
	uint16_t head = build(0, type, sector, buf, len, false);
	uint32_t used_len = 0;

	publish(&head, 1);
	if (virtio_wait_used(&dev, &vring, &used_len) != head)
		fail("a single request did not complete");
	return status[0];
}

static void open_device(void)
{
	int slot = virtio_open_from_cmdline(&dev, 0x1042, "virtio-blk");

	if (slot < 0 || cmdline_get("poll"))
		return;
	lapic_enable();
	irq_set_handler(QUEUE_VECTOR, queue_interrupt);
	irq_set_handler(TIMER_VECTOR, timer_tick);
	lapic_timer_start(TIMER_VECTOR, TIMER_COUNT);
	if (virtio_pci_enable_msix(&dev, (unsigned)slot, QUEUE_VECTOR) < 0)
		fail("no MSI-X capability");
}

static void check_errors(uint64_t capacity)
{
	char id[21] = { 0 };

	if (single(T_GET_ID, 0, (uint8_t *)id, 20) != S_OK)
		fail("GET_ID");
	printf("serial: \"%s\"\n", id);
	if (single(T_IN, capacity - 1, data[0], REQ_BYTES) != S_IOERR)
		fail("a read past the end was not refused with IOERR");
	if (single(0x99, 0, data[0], 512) != S_UNSUPP)
		fail("an unknown request type did not get UNSUPP");
	if (single(T_FLUSH, 0, NULL, 0) != S_OK)
		fail("flush");
}

/* The durability test kills vmm once this is printed: what the guest was told is done must be on the image. */
static __attribute__((noreturn)) void wait_to_be_killed(const char *what)
{
	printf("virtio-blk: %u sectors, %s; waiting to be killed\n", NREQ * REQ_SECTORS, what);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_main(void)
{
	uint64_t capacity;
	struct span span;

	seed = cmdline_get_ulong("seed", 1);
	span.first_sector = cmdline_get_ulong("sector", 0);
	open_device();
	uint64_t want = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_INDIRECT_DESC) |
			(1ull << VIRTIO_F_EVENT_IDX) | (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_BLK_SIZE);
	uint64_t features = virtio_negotiate(&dev, want);
	if (!(features & (1ull << VIRTIO_F_VERSION_1)) || !(features & (1ull << VIRTIO_F_INDIRECT_DESC)))
		fail("feature negotiation");
	vring.event_idx = features & (1ull << VIRTIO_F_EVENT_IDX);
	if (virtio_queue_setup(&dev, 0, &vring) < 0)
		fail("queue set-up");
	virtio_driver_ok(&dev);
	virtio_config_read(&dev, 0, &capacity, 8);
	printf("capacity: %lu sectors, event_idx %s\n", capacity, vring.event_idx ? "on" : "off");
	if (span.first_sector + NREQ * REQ_SECTORS > capacity)
		fail("the disk is too small for the test");

	run_in_ring3(fill, &span);
	batch(T_OUT, span.first_sector, true);
	const char *crash = cmdline_get("crash");
	if (crash && !strcmp(crash, "acked"))
		wait_to_be_killed("writes acknowledged");
	if (single(T_FLUSH, 0, NULL, 0) != S_OK)
		fail("flush after the writes");
	if (crash)
		wait_to_be_killed("writes acknowledged and flushed");
	memset(data, 0, sizeof(data));
	batch(T_IN, span.first_sector, true);
	uint64_t bad = run_in_ring3(verify, &span);
	if (bad)
		fail("data read back differs from what was written");
	check_errors(capacity);
	lapic_timer_stop();
	if (dev.msix) {
		printf("msi-x interrupts: %u\n", interrupts);
		if (!interrupts)
			fail("MSI-X was on but no queue interrupt arrived");
	}
	printf("virtio-blk test passed: %u sectors written, flushed and read back\n", NREQ * REQ_SECTORS);
}
