/*
 * Device-level virtio-blk benchmark, no KVM: this thread plays the guest
 * driver (it writes descriptors into "guest memory", kicks through an
 * eventfd as an ioeventfd would, and sleeps on an eventfd that the device
 * signals as it would an irqfd), while the I/O thread runs the real device
 * model and io_uring backend. Random reads of a fixed size at a fixed
 * queue depth; prints IOPS and kicks and interrupts per request (each is a
 * VM exit or an injected interrupt on a real guest).
 *
 *   blk_bench FILE QUEUE_DEPTH SECONDS [BLOCK_SIZE] [CACHE]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "block.h"
#include "iothread.h"
#include "virtio_blk.h"

#define RAM_SIZE (64u << 20)
#define QUEUE_SIZE 256
#define DESC_GPA 0x10000
#define AVAIL_GPA 0x20000
#define USED_GPA 0x30000
#define HDR_GPA 0x40000
#define STATUS_GPA 0x50000
#define DATA_GPA 0x100000

struct bench {
	uint8_t *ram;
	struct guest_mem mem;
	struct block_backend be;
	struct virtio_blk *blk;
	struct virtio_dev *vdev;
	struct iothread io;
	int kick_fd, irq_fd;
	unsigned block, depth;
	uint64_t sectors;             /* in blocks */
	uint16_t avail_idx, used_seen;
	uint64_t kicks, irqs, done;
	uint64_t rng;
};

static void *gpa(struct bench *b, uint64_t a)
{
	return b->ram + a;
}

static uint16_t *avail(struct bench *b) { return gpa(b, AVAIL_GPA); }
static uint16_t *used(struct bench *b) { return gpa(b, USED_GPA); }

static void signal_queue(void *t, unsigned q)
{
	struct bench *b = t;
	uint64_t one = 1;
	(void)q;
	if (write(b->irq_fd, &one, sizeof(one)) == sizeof(one))
		b->irqs++;
}

static void nothing(void *t)
{
	(void)t;
}

static const struct virtio_transport_ops bench_transport = { signal_queue, nothing, nothing, nothing };

static void kick_handler(void *arg)
{
	struct bench *b = arg;
	uint64_t n;
	if (read(b->kick_fd, &n, sizeof(n)) == sizeof(n))
		virtio_queue_notify(b->vdev, 0);
}

static uint64_t next_random(struct bench *b)
{
	b->rng ^= b->rng << 13;
	b->rng ^= b->rng >> 7;
	b->rng ^= b->rng << 17;
	return b->rng;
}

/* Slot s uses descriptors 3s..3s+2: header, data, status. */
static void prepare(struct bench *b, unsigned s)
{
	struct virtq_desc *d = gpa(b, DESC_GPA);
	uint32_t hdr[4] = { 0, 0 };
	uint64_t sector = (next_random(b) % b->sectors) * (b->block / 512);

	memcpy(&hdr[2], &sector, 8);
	memcpy(gpa(b, HDR_GPA + 16 * s), hdr, 16);
	d[3 * s] = (struct virtq_desc){ HDR_GPA + 16 * s, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(3 * s + 1) };
	d[3 * s + 1] = (struct virtq_desc){ DATA_GPA + (uint64_t)b->block * s, b->block,
					    VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, (uint16_t)(3 * s + 2) };
	d[3 * s + 2] = (struct virtq_desc){ STATUS_GPA + s, 1, VIRTQ_DESC_F_WRITE, 0 };
	avail(b)[2 + b->avail_idx % QUEUE_SIZE] = (uint16_t)(3 * s);
	b->avail_idx++;
}

static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

static void publish(struct bench *b, uint16_t old)
{
	uint64_t one = 1;
	uint16_t *avail_event = (uint16_t *)((uint8_t *)used(b) + 4 + 8 * QUEUE_SIZE);

	__atomic_store_n(&avail(b)[1], b->avail_idx, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (need_event(__atomic_load_n(avail_event, __ATOMIC_ACQUIRE), b->avail_idx, old) &&
	    write(b->kick_fd, &one, sizeof(one)) == sizeof(one))
		b->kicks++;
}

/* Sleeps until the device has returned something, as an interrupt-driven driver does. */
static void wait_for_used(struct bench *b)
{
	uint16_t *used_event = &avail(b)[2 + QUEUE_SIZE];
	uint64_t n;

	while (__atomic_load_n(&used(b)[1], __ATOMIC_ACQUIRE) == b->used_seen) {
		__atomic_store_n(used_event, b->used_seen, __ATOMIC_RELEASE);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&used(b)[1], __ATOMIC_ACQUIRE) != b->used_seen)
			break;
		if (read(b->irq_fd, &n, sizeof(n)) < 0 && errno != EINTR)
			exit(1);
	}
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void run(struct bench *b, double seconds)
{
	struct virtq_used_elem *ring = (struct virtq_used_elem *)(used(b) + 2);
	double end = now() + seconds;

	uint16_t old = b->avail_idx;
	for (unsigned s = 0; s < b->depth; s++)
		prepare(b, s);
	publish(b, old);
	/* Like fio, each completed request is replaced at once, not in batches. */
	while (now() < end) {
		wait_for_used(b);
		uint16_t idx = __atomic_load_n(&used(b)[1], __ATOMIC_ACQUIRE);
		for (; b->used_seen != idx; b->used_seen++) {
			unsigned s = ring[b->used_seen % QUEUE_SIZE].id / 3;
			if (*(uint8_t *)gpa(b, STATUS_GPA + s) != 0) {
				fprintf(stderr, "blk_bench: request failed\n");
				exit(1);
			}
			b->done++;
			old = b->avail_idx;
			prepare(b, s);
			publish(b, old);
		}
	}
}

static void setup(struct bench *b, const char *path, enum block_cache cache)
{
	struct vmm_error err;
	void *ram;

	struct block_options o = { path, cache, BLOCK_AIO_IO_URING, true, QUEUE_SIZE, NULL };

	if (posix_memalign(&ram, 4096, RAM_SIZE) || block_open(&b->be, &o, &err) < 0) {
		fprintf(stderr, "blk_bench: %s\n", err.msg);
		exit(1);
	}
	b->ram = memset(ram, 0, RAM_SIZE);
	b->mem.region[0] = (struct guest_mem_region){ 0, RAM_SIZE, b->ram };
	b->mem.nr_regions = 1;
	b->sectors = b->be.size / b->block;
	if (iothread_init(&b->io) < 0) {
		fprintf(stderr, "blk_bench: cannot set up the I/O thread\n");
		exit(1);
	}
	struct platform p = { .mem = &b->mem, .loop = &b->io.loop };
	b->blk = virtio_blk_create(&p, &b->be, 1, NULL);
	b->vdev = virtio_blk_dev(b->blk);
	virtio_attach_transport(b->vdev, &bench_transport, b);
	virtio_set_driver_features(b->vdev, 1, 1);
	virtio_set_driver_features(b->vdev, 0, 1u << 29);   /* EVENT_IDX */
	virtio_set_status(b->vdev, 0xb);
	virtio_queue_set_field(b->vdev, 0, VIRTIO_QUEUE_SIZE, QUEUE_SIZE);
	virtio_queue_set_field(b->vdev, 0, VIRTIO_QUEUE_DESC, DESC_GPA);
	virtio_queue_set_field(b->vdev, 0, VIRTIO_QUEUE_DRIVER, AVAIL_GPA);
	virtio_queue_set_field(b->vdev, 0, VIRTIO_QUEUE_DEVICE, USED_GPA);
	virtio_queue_set_ready(b->vdev, 0, true);
	virtio_set_status(b->vdev, 0xf);
	b->kick_fd = eventfd(0, EFD_CLOEXEC);
	b->irq_fd = eventfd(0, EFD_CLOEXEC);
	if (!event_watch(&b->io.loop, b->kick_fd, kick_handler, b) || iothread_start(&b->io) < 0) {
		fprintf(stderr, "blk_bench: cannot start the I/O thread\n");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	static struct bench b;
	enum block_cache cache = BLOCK_CACHE_NONE;

	if (argc < 4 || (argc > 5 && block_cache_parse(argv[5], &cache) < 0)) {
		fprintf(stderr, "usage: blk_bench FILE QUEUE_DEPTH SECONDS [BLOCK_SIZE] [CACHE]\n");
		return 2;
	}
	b.depth = (unsigned)atoi(argv[2]);
	b.block = argc > 4 ? (unsigned)atoi(argv[4]) : 4096;
	b.rng = 0x9e3779b97f4a7c15ull;
	if (b.depth < 1 || b.depth > QUEUE_SIZE / 3 || b.block < 512 || b.block % 512 ||
	    (uint64_t)b.block * b.depth > RAM_SIZE - DATA_GPA) {
		fprintf(stderr, "blk_bench: queue depth 1-%d and a block size that is a multiple of 512\n", QUEUE_SIZE / 3);
		return 2;
	}
	setup(&b, argv[1], cache);
	double t0 = now();
	run(&b, atof(argv[3]));
	double secs = now() - t0;
	iothread_stop(&b.io);
	printf("qd %u bs %u: %.0f IOPS, %.1f MiB/s, %.3f kicks/request, %.3f interrupts/request\n", b.depth, b.block,
	       b.done / secs, b.done * b.block / secs / (1 << 20), (double)b.kicks / b.done, (double)b.irqs / b.done);
	return 0;
}
