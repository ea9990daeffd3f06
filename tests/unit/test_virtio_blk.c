/* virtio-blk against the in-memory block backend (tests/common/mem_block.c). */
#include <stdlib.h>
#include <string.h>

#include "fake_guest.h"
#include "mem_block.h"
#include "suites.h"
#include "virtio_blk.h"

#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define T_DISCARD 11
#define T_WRITE_ZEROES 13
#define IMAGE_BYTES (1u << 20)
#define HDR_GPA 0x80000
#define STATUS_GPA 0x90000
#define BUF_GPA 0x100000

static struct fake_guest g;
static struct mem_block disk;
static struct block_backend be;
static struct virtio_blk *blk;
static struct virtio_dev *vdev;
static unsigned signals;

static void t_signal_queue(void *t, unsigned q)
{
	(void)t;
	(void)q;
	signals++;
}

static void t_signal_config(void *t)
{
	(void)t;
}

static void t_nothing(void *t)
{
	(void)t;
}

static const struct virtio_transport_ops test_transport = { t_signal_queue, t_signal_config, t_nothing, t_nothing };

static void start_queues(bool readonly, uint64_t features, unsigned queues, unsigned ready_queue)
{
	struct platform p = { .mem = &g.mem };

	fake_guest_init(&g, 64);
	mem_block_init(&disk, &be, IMAGE_BYTES, 64 * queues, readonly);
	blk = virtio_blk_create(&p, &be, queues, queues == 1 ? "unit-test-serial" : NULL);
	ck_assert_ptr_nonnull(blk);
	vdev = virtio_blk_dev(blk);
	virtio_attach_transport(vdev, &test_transport, NULL);
	virtio_set_driver_features(vdev, 1, 1);   /* VERSION_1 */
	virtio_set_driver_features(vdev, 0, (uint32_t)features);
	virtio_set_status(vdev, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	fake_queue_layout(&g, &vdev->queues[ready_queue]);
	virtio_queue_set_ready(vdev, ready_queue, true);
	virtio_set_status(vdev, 0xf);
	ck_assert(virtio_driver_ok(vdev));
	signals = 0;
}

static void start(bool readonly, uint64_t features)
{
	start_queues(readonly, features, 1, 0);
}

static void stop(void)
{
	virtio_blk_destroy(blk);
	mem_block_free(&disk);
	fake_guest_free(&g);
}

static void teardown(void)
{
	stop();
}

static void setup(void)
{
	start(false, 0);
}

/* Builds request i (descriptors 4i..4i+2) without publishing it. */
static uint16_t build(unsigned i, uint32_t type, uint64_t sector, uint64_t buf, uint32_t len, bool device_writes)
{
	uint32_t hdr[4] = { type, 0, (uint32_t)sector, (uint32_t)(sector >> 32) };
	struct fake_buf bufs[3];
	unsigned n = 0;

	memcpy(fake_ptr(&g, HDR_GPA + 16 * i), hdr, 16);
	*(uint8_t *)fake_ptr(&g, STATUS_GPA + i) = 0xee;
	bufs[n++] = (struct fake_buf){ HDR_GPA + 16 * i, 16, false };
	if (len)
		bufs[n++] = (struct fake_buf){ buf, len, device_writes };
	bufs[n++] = (struct fake_buf){ STATUS_GPA + i, 1, true };
	return fake_add_chain(&g, (uint16_t)(4 * i), bufs, n, false);
}

static uint8_t status_of(unsigned i)
{
	return *(uint8_t *)fake_ptr(&g, STATUS_GPA + i);
}

/* Lets the backend finish what is in flight, as the event loop would. */
static void wait_used(uint16_t n)
{
	disk.hold = false;
	virtio_blk_complete_io(blk);
	ck_assert_uint_ge(fake_used_pending(&g), n);
}

static uint8_t request(uint32_t type, uint64_t sector, uint64_t buf, uint32_t len, bool device_writes)
{
	fake_publish(&g, build(0, type, sector, buf, len, device_writes));
	virtio_queue_notify(vdev, 0);
	wait_used(1);
	fake_next_used(&g);
	return status_of(0);
}

static void fill(uint64_t gpa, uint32_t len, uint8_t seed)
{
	uint8_t *p = fake_ptr(&g, gpa);
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + seed);
}

static void check_disk(uint64_t offset, uint64_t gpa, uint32_t len)
{
	ck_assert_mem_eq(disk.data + offset, fake_ptr(&g, gpa), len);
}

START_TEST(test_write_flush_read)
{
	fill(BUF_GPA, 8192, 7);
	ck_assert_uint_eq(request(T_OUT, 8, BUF_GPA, 8192, false), 0);
	check_disk(8 * 512, BUF_GPA, 8192);
	ck_assert_uint_eq(request(T_FLUSH, 0, 0, 0, false), 0);
	ck_assert_uint_eq(disk.flushes, 1);
	ck_assert_uint_eq(request(T_IN, 8, BUF_GPA + 0x10000, 8192, true), 0);
	ck_assert_mem_eq(fake_ptr(&g, BUF_GPA + 0x10000), fake_ptr(&g, BUF_GPA), 8192);
	/* Buffers at any alignment go to the backend as they are. */
	fill(BUF_GPA + 0x20001, 512, 9);
	ck_assert_uint_eq(request(T_OUT, 100, BUF_GPA + 0x20001, 512, false), 0);
	check_disk(100 * 512, BUF_GPA + 0x20001, 512);
	ck_assert_uint_gt(signals, 0);
}
END_TEST

/* Requests in flight are each completed once, in any order, and the driver is interrupted. */
START_TEST(test_requests_in_flight)
{
	uint16_t heads[8];

	disk.hold = true;
	for (unsigned i = 0; i < 8; i++) {
		fill(BUF_GPA + i * 0x10000, 4096, (uint8_t)i);
		heads[i] = build(i, T_OUT, i * 8, BUF_GPA + i * 0x10000, 4096, false);
		fake_publish(&g, heads[i]);
	}
	virtio_queue_notify(vdev, 0);
	ck_assert_uint_eq(fake_used_pending(&g), 0);
	ck_assert_uint_eq(disk.inflight, 8);
	mem_block_complete(&disk, 3);
	virtio_blk_complete_io(blk);
	ck_assert_uint_eq(fake_used_pending(&g), 3);
	wait_used(8);
	for (unsigned i = 0; i < 8; i++) {
		ck_assert_uint_eq(fake_next_used(&g).id, heads[i]);
		ck_assert_uint_eq(status_of(i), 0);
		check_disk(i * 8 * 512, BUF_GPA + i * 0x10000, 4096);
	}
}
END_TEST

/* A request the backend has no room for waits in the ring and goes when an earlier one completes. */
START_TEST(test_request_waits_for_backend_room)
{
	disk.hold = true;
	fake_publish(&g, build(0, T_IN, 0, BUF_GPA, 4096, true));
	virtio_queue_notify(vdev, 0);
	disk.full = true;
	fake_publish(&g, build(1, T_IN, 8, BUF_GPA + 0x1000, 4096, true));
	virtio_queue_notify(vdev, 0);
	ck_assert_uint_eq(disk.inflight, 1);
	ck_assert_uint_eq(status_of(1), 0xee);
	disk.full = false;
	wait_used(2);
	ck_assert_uint_eq(status_of(0), 0);
	ck_assert_uint_eq(status_of(1), 0);
}
END_TEST

/* Segments beyond size_max, or more than seg_max of them, are refused as the config says. */
START_TEST(test_segment_limits)
{
	uint32_t size_max, seg_max;

	vdev->ops->config_read(vdev, 8, (uint8_t *)&size_max, 4);
	vdev->ops->config_read(vdev, 12, (uint8_t *)&seg_max, 4);
	ck_assert_uint_eq(size_max, 64 * 1024);
	ck_assert_uint_le((uint64_t)size_max * seg_max, 16u << 20);
	ck_assert_uint_eq(request(T_IN, 0, BUF_GPA, size_max, true), 0);
	ck_assert_uint_eq(request(T_IN, 0, BUF_GPA, size_max + 512, true), 1);
}
END_TEST

START_TEST(test_bad_requests)
{
	ck_assert_uint_eq(request(T_IN, IMAGE_BYTES / 512, BUF_GPA, 512, true), 1);       /* past the end */
	ck_assert_uint_eq(request(T_IN, IMAGE_BYTES / 512 - 1, BUF_GPA, 1024, true), 1);  /* runs off the end */
	ck_assert_uint_eq(request(T_IN, UINT64_MAX / 256, BUF_GPA, 512, true), 1);        /* sector overflows */
	ck_assert_uint_eq(request(T_OUT, 0, BUF_GPA, 100, false), 1);                     /* not whole sectors */
	ck_assert_uint_eq(request(77, 0, BUF_GPA, 512, true), 2);                          /* unknown type */
	ck_assert_uint_eq(request(T_IN, 0, BUF_GPA, 512, false), 1);                       /* read into read-only buffers */
	ck_assert_uint_eq(request(T_OUT, 0, BUF_GPA, 512, true), 1);                       /* write from writable buffers */
	/* A header cut short. */
	struct fake_buf short_hdr[] = { { HDR_GPA, 8, false }, { STATUS_GPA, 1, true } };
	*(uint8_t *)fake_ptr(&g, STATUS_GPA) = 0xee;
	fake_publish(&g, fake_add_chain(&g, 0, short_hdr, 2, false));
	virtio_queue_notify(vdev, 0);
	wait_used(1);
	fake_next_used(&g);
	ck_assert_uint_eq(status_of(0), 1);
}
END_TEST

START_TEST(test_no_status_byte_needs_reset)
{
	struct fake_buf only_hdr = { HDR_GPA, 16, false };

	fake_publish(&g, fake_add_chain(&g, 0, &only_hdr, 1, false));
	virtio_queue_notify(vdev, 0);
	ck_assert(vdev->status & VIRTIO_STATUS_NEEDS_RESET);
	/* Nothing more is processed until the driver resets the device. */
	fake_publish(&g, build(1, T_FLUSH, 0, 0, 0, false));
	virtio_queue_notify(vdev, 0);
	ck_assert_uint_eq(status_of(1), 0xee);
}
END_TEST

START_TEST(test_get_id)
{
	memset(fake_ptr(&g, BUF_GPA), 0xaa, 32);
	ck_assert_uint_eq(request(T_GET_ID, 0, BUF_GPA, 20, true), 0);
	ck_assert_mem_eq(fake_ptr(&g, BUF_GPA), "unit-test-serial\0\0\0\0", 20);
	ck_assert_uint_eq(*(uint8_t *)fake_ptr(&g, BUF_GPA + 20), 0xaa);
}
END_TEST

static uint8_t range_request(uint32_t type, uint64_t sector, uint32_t count, uint32_t flags)
{
	uint32_t seg[4] = { (uint32_t)sector, (uint32_t)(sector >> 32), count, flags };
	memcpy(fake_ptr(&g, BUF_GPA + 0x80000), seg, 16);
	return request(type, 0, BUF_GPA + 0x80000, 16, false);
}

START_TEST(test_discard_and_write_zeroes)
{
	fill(BUF_GPA, 65536, 3);
	ck_assert_uint_eq(request(T_OUT, 0, BUF_GPA, 65536, false), 0);
	ck_assert_uint_eq(range_request(T_DISCARD, 0, 16, 0), 0);
	ck_assert_uint_eq(range_request(T_WRITE_ZEROES, 16, 16, 0), 0);
	ck_assert_uint_eq(range_request(T_WRITE_ZEROES, 32, 16, 1), 0);   /* may unmap */
	memset(fake_ptr(&g, BUF_GPA + 0x40000), 0, 48 * 512);
	check_disk(0, BUF_GPA + 0x40000, 48 * 512);
	check_disk(48 * 512, BUF_GPA + 48 * 512, 65536 - 48 * 512);   /* the rest untouched */
	ck_assert_uint_eq(range_request(T_DISCARD, 0, 8, 1), 2);           /* unmap flag on discard */
	ck_assert_uint_eq(range_request(T_WRITE_ZEROES, 0, 8, 4), 2);      /* unknown flag */
	ck_assert_uint_eq(range_request(T_DISCARD, IMAGE_BYTES / 512 - 4, 8, 0), 1);
	ck_assert_uint_eq(request(T_DISCARD, 0, BUF_GPA, 20, false), 1);   /* not whole segments */
}
END_TEST

START_TEST(test_read_only_disk)
{
	stop();
	start(true, 0);
	ck_assert(vdev->device_features & (1ull << 5));   /* VIRTIO_BLK_F_RO */
	ck_assert_uint_eq(request(T_OUT, 0, BUF_GPA, 512, false), 1);
	ck_assert_uint_eq(range_request(T_DISCARD, 0, 8, 0), 1);
	ck_assert_uint_eq(request(T_IN, 0, BUF_GPA, 512, true), 0);
}
END_TEST

/* A reset finishes what is in flight before it returns; after it nothing touches guest memory. */
START_TEST(test_reset_with_requests_in_flight)
{
	disk.hold = true;
	for (unsigned i = 0; i < 4; i++)
		fake_publish(&g, build(i, T_IN, i * 8, BUF_GPA + i * 0x1000, 4096, true));
	virtio_queue_notify(vdev, 0);
	ck_assert_uint_eq(disk.inflight, 4);
	virtio_set_status(vdev, 0);
	ck_assert_uint_eq(disk.inflight, 0);
	ck_assert_uint_eq(disk.drains, 1);
	memset(fake_ptr(&g, BUF_GPA), 0xaa, 4 * 4096);
	memset(fake_ptr(&g, STATUS_GPA), 0xee, 4);
	ck_assert_uint_eq(mem_block_complete(&disk, 8), 0);
	virtio_blk_complete_io(blk);
	ck_assert_uint_eq(*(uint8_t *)fake_ptr(&g, BUF_GPA), 0xaa);
	ck_assert_uint_eq(status_of(0), 0xee);
}
END_TEST

/* A queue reset (virtio-pci queue_reset, virtio-mmio QueueReady = 0) does the same for its queue. */
START_TEST(test_queue_reset_with_requests_in_flight)
{
	stop();
	start_queues(false, 1u << 12, 2, 1);
	disk.hold = true;
	fake_publish(&g, build(0, T_IN, 0, BUF_GPA, 4096, true));
	virtio_queue_notify(vdev, 1);
	ck_assert_uint_eq(disk.inflight, 1);
	signals = 0;
	virtio_queue_set_ready(vdev, 1, false);
	ck_assert_uint_eq(disk.inflight, 0);
	ck_assert_uint_eq(status_of(0), 0);           /* completed while the ring was the driver's */
	ck_assert_uint_eq(signals, 0);                /* no interrupt for a queue being reset */
	ck_assert(!vdev->queues[1].ready);
	memset(fake_ptr(&g, BUF_GPA), 0xaa, 4096);
	ck_assert_uint_eq(mem_block_complete(&disk, 8), 0);
	ck_assert_uint_eq(*(uint8_t *)fake_ptr(&g, BUF_GPA), 0xaa);
}
END_TEST

START_TEST(test_wce_toggle)
{
	stop();
	start(false, 1u << 11);
	uint8_t off = 0, wce;
	vdev->ops->config_read(vdev, 32, &wce, 1);
	ck_assert_uint_eq(wce, 1);
	/* Turning the cache off waits for writes in flight: they must be durable too. */
	disk.hold = true;
	fill(BUF_GPA, 4096, 1);
	fake_publish(&g, build(0, T_OUT, 0, BUF_GPA, 4096, false));
	virtio_queue_notify(vdev, 0);
	ck_assert_uint_eq(disk.inflight, 1);
	vdev->ops->config_write(vdev, 32, &off, 1);
	ck_assert_uint_eq(disk.inflight, 0);
	ck_assert_uint_eq(status_of(0), 0);
	ck_assert(!disk.write_cache);
	virtio_set_status(vdev, 0);   /* a reset restores the backend's default */
	ck_assert(disk.write_cache);
}
END_TEST

START_TEST(test_config_space)
{
	uint64_t capacity;
	uint32_t seg_max;
	uint16_t queues;

	vdev->ops->config_read(vdev, 0, (uint8_t *)&capacity, 8);
	vdev->ops->config_read(vdev, 12, (uint8_t *)&seg_max, 4);
	vdev->ops->config_read(vdev, 34, (uint8_t *)&queues, 2);
	ck_assert_uint_eq(capacity, IMAGE_BYTES / 512);
	ck_assert_uint_eq(seg_max, VIRTQ_MAX_CHAIN - 2);
	ck_assert_uint_eq(queues, 1);
	uint8_t beyond[4] = { 1, 1, 1, 1 };
	vdev->ops->config_read(vdev, 4096, beyond, 4);
	ck_assert_uint_eq(beyond[0] | beyond[3], 0);
}
END_TEST

/* The driver's kick test (vring_need_event, 2.7.10): adding entries old..new-1. */
static bool driver_would_kick(uint16_t old, uint16_t new_idx)
{
	uint16_t event = *(uint16_t *)((uint8_t *)fake_used(&g) + 4 + 8 * g.size);
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* Publishes reads first..first+n-1, each of its own 4 KiB. */
static void publish_reads(unsigned first, unsigned n)
{
	for (unsigned i = first; i < first + n; i++)
		fake_publish(&g, build(i, T_IN, 8 * i, BUF_GPA + 0x1000 * i, 4096, true));
}

#define HELD_FROM BLOCK_KICKS_HELD_MIN_IN_FLIGHT

/*
 * EVENT_IDX: while enough requests are in flight the driver is asked for
 * no kick, and what it adds meanwhile is taken when one completes; with
 * fewer in flight, and idle, the queue asks for the next kick.
 */
START_TEST(test_no_kicks_while_in_flight)
{
	stop();
	start(false, 1u << 29);   /* VIRTIO_F_EVENT_IDX */
	disk.hold = true;
	publish_reads(0, HELD_FROM);
	virtio_queue_notify(vdev, 0);
	ck_assert_uint_eq(disk.inflight, HELD_FROM);
	ck_assert(!driver_would_kick(HELD_FROM, HELD_FROM + 1));
	publish_reads(HELD_FROM, 2);
	ck_assert(!driver_would_kick(HELD_FROM, HELD_FROM + 2));
	/* The first completes: the two added without a kick go to the backend. */
	mem_block_complete(&disk, 1);
	virtio_blk_complete_io(blk);
	ck_assert_uint_eq(fake_used_pending(&g), 1);
	ck_assert_uint_eq(disk.inflight, HELD_FROM + 1);
	ck_assert(!driver_would_kick(HELD_FROM + 2, HELD_FROM + 3));
	wait_used(HELD_FROM + 2);
	for (unsigned i = 0; i < HELD_FROM + 2; i++)
		ck_assert_uint_eq(status_of(i), 0);
	/* Idle: the next request is kicked. */
	ck_assert(driver_would_kick(HELD_FROM + 2, HELD_FROM + 3));
}
END_TEST

/*
 * With fewer than BLOCK_KICKS_HELD_MIN_IN_FLIGHT in flight the driver kicks for
 * each request: held, one added after a completion round would wait for
 * the next completion while the disk has little else to do.
 */
START_TEST(test_kicks_armed_with_few_in_flight)
{
	stop();
	start(false, 1u << 29);   /* VIRTIO_F_EVENT_IDX */
	disk.hold = true;
	publish_reads(0, HELD_FROM - 1);
	virtio_queue_notify(vdev, 0);
	ck_assert_uint_eq(disk.inflight, HELD_FROM - 1);
	ck_assert(driver_would_kick(HELD_FROM - 1, HELD_FROM));
	/* The driver adds one and kicks: now enough are in flight to hold. */
	publish_reads(HELD_FROM - 1, 1);
	virtio_queue_notify(vdev, 0);
	ck_assert_uint_eq(disk.inflight, HELD_FROM);
	ck_assert(!driver_would_kick(HELD_FROM, HELD_FROM + 1));
	/* One completes: below the mark again, and armed at the driver's index. */
	mem_block_complete(&disk, 1);
	virtio_blk_complete_io(blk);
	ck_assert_uint_eq(disk.inflight, HELD_FROM - 1);
	ck_assert(driver_would_kick(HELD_FROM, HELD_FROM + 1));
	wait_used(HELD_FROM);
	for (unsigned i = 0; i < HELD_FROM; i++)
		ck_assert_uint_eq(status_of(i), 0);
}
END_TEST

static uint16_t kicks_seen;

/* The driver adds a request while vmm is inside its submission, and kicks if avail_event says so. */
static void driver_adds_during_submit(void *arg)
{
	uint16_t old = fake_avail(&g)[1];

	(void)arg;
	disk.during_submit = NULL;
	fake_publish(&g, build(1, T_IN, 8, BUF_GPA + 0x1000, 4096, true));
	if (driver_would_kick(old, fake_avail(&g)[1]))
		kicks_seen++;
}

/*
 * A queue found empty is not armed until its submission is over: armed
 * during it, the driver would kick for each request it adds meanwhile,
 * which the device takes anyway once the submission returns.
 */
START_TEST(test_no_kick_during_submission)
{
	stop();
	start(false, 1u << 29);   /* VIRTIO_F_EVENT_IDX */
	disk.hold = true;
	kicks_seen = 0;
	disk.during_submit = driver_adds_during_submit;
	fake_publish(&g, build(0, T_IN, 0, BUF_GPA, 4096, true));
	virtio_queue_notify(vdev, 0);
	ck_assert_uint_eq(kicks_seen, 0);
	ck_assert_uint_eq(disk.inflight, 2);   /* the one added meanwhile is taken once the submission is over */
	wait_used(2);
	ck_assert_uint_eq(status_of(1), 0);
	ck_assert(driver_would_kick(2, 3));    /* idle: armed again */
}
END_TEST

/*
 * As above, but the first request completes inside submit() (io_uring's
 * page-cache hit): the queue is idle when settle_kicks() arms it, and the
 * request the driver added during the submission must still be taken. The
 * driver kicks only if avail_event says so; the event loop then runs one
 * completion round (io_uring's eventfd fires for the inline completion).
 */
START_TEST(test_added_during_inline_completion_is_taken)
{
	stop();
	start(false, 1u << 29);   /* VIRTIO_F_EVENT_IDX */
	kicks_seen = 0;
	disk.during_submit = driver_adds_during_submit;
	fake_publish(&g, build(0, T_IN, 0, BUF_GPA, 4096, true));
	virtio_queue_notify(vdev, 0);
	if (kicks_seen)
		virtio_queue_notify(vdev, 0);   /* the ioeventfd the driver rang meanwhile */
	virtio_blk_complete_io(blk);        /* the eventfd round */
	ck_assert_msg(status_of(1) == 0,
		      "request 1 stranded: avail idx %u, avail_event %u, kicks %u", fake_avail(&g)[1],
		      *(uint16_t *)((uint8_t *)fake_used(&g) + 4 + 8 * g.size), kicks_seen);
	ck_assert_uint_ge(fake_used_pending(&g), 2);
	ck_assert(driver_would_kick(2, 3));    /* idle: armed at the driver's index */
}
END_TEST

/* Without EVENT_IDX the same is said with VIRTQ_USED_F_NO_NOTIFY. */
START_TEST(test_no_notify_while_in_flight)
{
	disk.hold = true;
	publish_reads(0, HELD_FROM);
	virtio_queue_notify(vdev, 0);
	ck_assert_uint_eq(fake_used(&g)[0] & 1, 1);
	publish_reads(HELD_FROM, 1);
	mem_block_complete(&disk, 1);
	virtio_blk_complete_io(blk);
	ck_assert_uint_eq(disk.inflight, HELD_FROM);
	wait_used(HELD_FROM + 1);
	ck_assert_uint_eq(status_of(HELD_FROM), 0);
	ck_assert_uint_eq(fake_used(&g)[0] & 1, 0);
}
END_TEST

START_TEST(test_second_queue)
{
	stop();
	start_queues(false, 1u << 12, 2, 1);   /* MQ; only queue 1 ready */
	uint16_t num_queues;
	vdev->ops->config_read(vdev, 34, (uint8_t *)&num_queues, 2);
	ck_assert_uint_eq(num_queues, 2);
	fill(BUF_GPA, 4096, 5);
	fake_publish(&g, build(0, T_OUT, 3, BUF_GPA, 4096, false));
	virtio_queue_notify(vdev, 0);   /* queue 0 is not ready: nothing happens */
	ck_assert_uint_eq(status_of(0), 0xee);
	virtio_queue_notify(vdev, 1);
	wait_used(1);
	ck_assert_uint_eq(status_of(0), 0);
	check_disk(3 * 512, BUF_GPA, 4096);
}
END_TEST

Suite *virtio_blk_suite(void)
{
	Suite *s = suite_create("virtio_blk");
	TCase *tc = tcase_create("virtio_blk");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_write_flush_read);
	tcase_add_test(tc, test_requests_in_flight);
	tcase_add_test(tc, test_request_waits_for_backend_room);
	tcase_add_test(tc, test_segment_limits);
	tcase_add_test(tc, test_bad_requests);
	tcase_add_test(tc, test_no_status_byte_needs_reset);
	tcase_add_test(tc, test_get_id);
	tcase_add_test(tc, test_discard_and_write_zeroes);
	tcase_add_test(tc, test_read_only_disk);
	tcase_add_test(tc, test_reset_with_requests_in_flight);
	tcase_add_test(tc, test_queue_reset_with_requests_in_flight);
	tcase_add_test(tc, test_wce_toggle);
	tcase_add_test(tc, test_config_space);
	tcase_add_test(tc, test_second_queue);
	tcase_add_test(tc, test_no_kicks_while_in_flight);
	tcase_add_test(tc, test_kicks_armed_with_few_in_flight);
	tcase_add_test(tc, test_no_kick_during_submission);
	tcase_add_test(tc, test_added_during_inline_completion_is_taken);
	tcase_add_test(tc, test_no_notify_while_in_flight);
	suite_add_tcase(s, tc);
	return s;
}
