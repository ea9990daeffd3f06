/* virtio-net against a backend that records what it is sent and replays frames to receive. */
#include <errno.h>
#include <string.h>

#include "fake_guest.h"
#include "suites.h"
#include "virtio_net.h"

#define QSIZE 64
#define RXQ_BASE 0x10000
#define TXQ_BASE 0x20000
#define CTRLQ_BASE 0x30000
#define BUF_GPA 0x100000

struct test_queue {
	uint64_t desc, avail, used;
	uint16_t avail_idx, used_seen;
};

struct fake_backend {
	uint8_t sent[8][2048];
	size_t sent_len[8];
	unsigned nsent;
	uint8_t frames[32][4096];
	size_t frame_len[32];
	unsigned nframes, next_frame;
	bool receiving;
	uint64_t offloads;
};

static struct fake_guest g;
static struct fake_backend fb;
static struct virtio_net *net;
static struct virtio_dev *vdev;
static struct test_queue rxq, txq, ctrlq;
static const uint8_t our_mac[6] = { 0x52, 0x54, 0x00, 0x01, 0x02, 0x03 };

static int fb_send(void *ctx, const struct iovec *iov, unsigned n)
{
	struct fake_backend *b = ctx;
	size_t at = 0;
	for (unsigned i = 0; i < n; i++) {
		memcpy(b->sent[b->nsent] + at, iov[i].iov_base, iov[i].iov_len);
		at += iov[i].iov_len;
	}
	b->sent_len[b->nsent++] = at;
	return 0;
}

static ssize_t fb_receive(void *ctx, const struct iovec *iov, unsigned n)
{
	struct fake_backend *b = ctx;
	if (b->next_frame == b->nframes)
		return 0;
	const uint8_t *f = b->frames[b->next_frame];
	size_t len = b->frame_len[b->next_frame++], at = 0;
	for (unsigned i = 0; i < n && at < len; i++) {
		size_t k = iov[i].iov_len < len - at ? iov[i].iov_len : len - at;
		memcpy(iov[i].iov_base, f + at, k);
		at += k;
	}
	return (ssize_t)at;
}

static void fb_set_receiving(void *ctx, bool on)
{
	((struct fake_backend *)ctx)->receiving = on;
}

static int fb_set_guest_offloads(void *ctx, unsigned offloads)
{
	((struct fake_backend *)ctx)->offloads = offloads;
	return 0;
}

static const struct net_backend_ops fb_ops = { fb_send, fb_receive, fb_set_receiving, fb_set_guest_offloads, NULL };

static void t_signal(void *t, unsigned q)
{
	(void)t;
	(void)q;
}

static void t_config(void *t)
{
	(void)t;
}

static const struct virtio_transport_ops transport = { t_signal, t_config, t_config, t_config };

static void queue_init(struct test_queue *q, unsigned index, uint64_t base)
{
	*q = (struct test_queue){ base, base + 0x1000, base + 0x2000, 0, 0 };
	virtio_queue_set_field(vdev, index, VIRTIO_QUEUE_SIZE, QSIZE);
	virtio_queue_set_field(vdev, index, VIRTIO_QUEUE_DESC, q->desc);
	virtio_queue_set_field(vdev, index, VIRTIO_QUEUE_DRIVER, q->avail);
	virtio_queue_set_field(vdev, index, VIRTIO_QUEUE_DEVICE, q->used);
	virtio_queue_set_ready(vdev, index, true);
}

static void add(struct test_queue *q, uint16_t head, const struct fake_buf *bufs, unsigned n)
{
	struct virtq_desc *d = fake_ptr(&g, q->desc);
	uint16_t *avail = fake_ptr(&g, q->avail);
	for (unsigned i = 0; i < n; i++)
		d[head + i] = (struct virtq_desc){ bufs[i].gpa, bufs[i].len,
						   (uint16_t)((bufs[i].writable ? VIRTQ_DESC_F_WRITE : 0) |
							      (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
						   (uint16_t)(head + i + 1) };
	avail[2 + q->avail_idx++ % QSIZE] = head;
	__atomic_store_n(&avail[1], q->avail_idx, __ATOMIC_RELEASE);
}

/* The next used entry: 1 with id and len, or 0. */
static int used(struct test_queue *q, uint32_t *id, uint32_t *len)
{
	uint16_t *u = fake_ptr(&g, q->used);
	if (u[1] == q->used_seen)
		return 0;
	struct virtq_used_elem *e = (struct virtq_used_elem *)(u + 2) + q->used_seen++ % QSIZE;
	*id = e->id;
	*len = e->len;
	return 1;
}

static void setup_offloads(uint32_t low, unsigned backend_offloads)
{
	memset(&fb, 0, sizeof(fb));
	fake_guest_init(&g, QSIZE);
	struct net_backend be = { &fb_ops, &fb, backend_offloads, backend_offloads };
	net = virtio_net_create(&g.mem, &be, 1, our_mac);
	ck_assert_ptr_nonnull(net);
	vdev = virtio_net_dev(net);
	virtio_attach_transport(vdev, &transport, NULL);
	virtio_set_driver_features(vdev, 1, 1);
	virtio_set_driver_features(vdev, 0, low);
	virtio_set_status(vdev, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	queue_init(&rxq, 0, RXQ_BASE);
	queue_init(&txq, 1, TXQ_BASE);
	queue_init(&ctrlq, 2, CTRLQ_BASE);
	virtio_set_status(vdev, 0xf);
	ck_assert(virtio_driver_ok(vdev));
}

static void setup_features(uint32_t low)
{
	setup_offloads(low, 0);
}

static void setup(void)
{
	setup_features((1u << VIRTIO_NET_F_MAC) | (1u << VIRTIO_NET_F_MRG_RXBUF) | (1u << VIRTIO_NET_F_CTRL_VQ) |
		       (1u << VIRTIO_NET_F_CTRL_RX) | (1u << VIRTIO_NET_F_STATUS));
}

static void teardown(void)
{
	virtio_net_destroy(net);
	fake_guest_free(&g);
}

/* A frame for the backend to deliver: header, then Ethernet to dst. */
static void queue_frame(const uint8_t dst[6], size_t payload)
{
	uint8_t *f = fb.frames[fb.nframes];
	memset(f, 0, NET_FRAME_HEADER_BYTES);
	memcpy(f + NET_FRAME_HEADER_BYTES, dst, 6);
	for (size_t i = 6; i < 14 + payload; i++)
		f[NET_FRAME_HEADER_BYTES + i] = (uint8_t)(i * 3 + fb.nframes);
	fb.frame_len[fb.nframes++] = NET_FRAME_HEADER_BYTES + 14 + payload;
}

static void post_rx(unsigned n, uint32_t size)
{
	for (unsigned i = 0; i < n; i++) {
		struct fake_buf b = { BUF_GPA + (rxq.avail_idx % QSIZE) * 0x1000u, size, true };
		add(&rxq, (uint16_t)(rxq.avail_idx % QSIZE), &b, 1);
	}
	virtio_queue_notify(vdev, 0);
}

START_TEST(test_tx_framing)
{
	uint8_t *hdr = fake_ptr(&g, BUF_GPA), *frame = fake_ptr(&g, BUF_GPA + 0x100);
	uint32_t id, len;

	memset(hdr, 0, 12);
	hdr[0] = 1;   /* NEEDS_CSUM passes through to the backend untouched */
	for (int i = 0; i < 60; i++)
		frame[i] = (uint8_t)i;
	struct fake_buf two[] = { { BUF_GPA, 12, false }, { BUF_GPA + 0x100, 60, false } };
	add(&txq, 0, two, 2);
	memcpy(fake_ptr(&g, BUF_GPA + 0x200), hdr, 12);
	memcpy(fake_ptr(&g, BUF_GPA + 0x20c), frame, 60);
	struct fake_buf one = { BUF_GPA + 0x200, 72, false };
	add(&txq, 2, &one, 1);
	virtio_queue_notify(vdev, 1);
	ck_assert_uint_eq(fb.nsent, 2);
	for (unsigned k = 0; k < 2; k++) {
		ck_assert_uint_eq(fb.sent_len[k], 72);
		ck_assert_mem_eq(fb.sent[k], hdr, 12);
		ck_assert_mem_eq(fb.sent[k] + 12, frame, 60);
		ck_assert_int_eq(used(&txq, &id, &len), 1);
		ck_assert_uint_eq(len, 0);
	}
	ck_assert_uint_eq(virtio_net_stats(net).tx_frames, 2);
}
END_TEST

START_TEST(test_tx_malformed)
{
	uint32_t id, len;
	struct fake_buf writable[] = { { BUF_GPA, 12, false }, { BUF_GPA + 0x100, 60, true } };
	struct fake_buf short_hdr = { BUF_GPA, 8, false };

	add(&txq, 0, writable, 2);
	add(&txq, 4, &short_hdr, 1);
	virtio_queue_notify(vdev, 1);
	ck_assert_uint_eq(fb.nsent, 0);
	ck_assert_uint_eq(virtio_net_stats(net).tx_errors, 2);
	ck_assert_int_eq(used(&txq, &id, &len), 1);   /* both returned to the driver */
	ck_assert_int_eq(used(&txq, &id, &len), 1);
}
END_TEST

static void add_and_kick_as_asked(struct test_queue *q, unsigned index, const struct fake_buf *bufs, unsigned n);

/*
 * With GSO the device waits for room for a 64 KiB frame. Buffers it takes
 * and puts back must not hide the next ones from the driver's EVENT_IDX
 * check: it asks for a kick at the driver's index, so the buffer that
 * completes the room is heard of (a TCP stream over a tap stalled without).
 */
START_TEST(test_rx_waits_for_room_with_event_idx)
{
	uint32_t id, len;

	teardown();
	setup_offloads((1u << VIRTIO_NET_F_MAC) | (1u << VIRTIO_NET_F_MRG_RXBUF) | (1u << VIRTIO_NET_F_GUEST_CSUM) |
		       (1u << VIRTIO_NET_F_GUEST_TSO4) | (1u << VIRTIO_F_EVENT_IDX),
		       NET_OFFLOAD_CSUM | NET_OFFLOAD_TSO4);
	for (unsigned i = 0; i < 10; i++) {
		struct fake_buf b = { BUF_GPA + i * 0x1000u, 4096, true };
		add_and_kick_as_asked(&rxq, 0, &b, 1);
	}
	queue_frame(our_mac, 1000);
	virtio_net_receive(virtio_net_rx_port(net, 0));
	ck_assert(!fb.receiving);                 /* 40 KiB is not room for 64 KiB */
	struct fake_buf more[10];
	for (unsigned i = 0; i < 10; i++)
		more[i] = (struct fake_buf){ BUF_GPA + (10 + i) * 0x1000u, 4096, true };
	add_and_kick_as_asked(&rxq, 0, more, 10);   /* one chain of 10 buffers: 80 KiB in all */
	ck_assert_msg(fb.receiving, "no kick reached the device for the new buffers");
	virtio_net_receive(virtio_net_rx_port(net, 0));
	ck_assert_int_eq(used(&rxq, &id, &len), 1);
	ck_assert_uint_eq(len, 12 + 14 + 1000);
}
END_TEST

START_TEST(test_rx_waits_for_buffers)
{
	uint32_t id, len;

	ck_assert(fb.receiving);   /* DRIVER_OK started it */
	queue_frame(our_mac, 100);
	virtio_net_receive(virtio_net_rx_port(net, 0));
	ck_assert(!fb.receiving);              /* no buffers: the backend holds the frame */
	ck_assert_uint_eq(fb.next_frame, 0);
	post_rx(4, 2048);
	ck_assert(fb.receiving);               /* buffers: deliver again */
	virtio_net_receive(virtio_net_rx_port(net, 0));
	ck_assert_int_eq(used(&rxq, &id, &len), 1);
	ck_assert_uint_eq(len, 12 + 14 + 100);
	uint8_t *buf = fake_ptr(&g, BUF_GPA + id * 0x1000u);
	uint16_t num_buffers;
	memcpy(&num_buffers, buf + 10, 2);
	ck_assert_uint_eq(num_buffers, 1);
	ck_assert_mem_eq(buf + 12, fb.frames[0] + 12, 14 + 100);
	ck_assert_int_eq(used(&rxq, &id, &len), 0);   /* the other buffers stay available */
	ck_assert_uint_eq(virtio_net_stats(net).rx_frames, 1);
}
END_TEST

/* Buffers kicked before DRIVER_OK: the backend is told to stop, not polled for nothing
 * (its watch is level-triggered), and DRIVER_OK starts it. */
START_TEST(test_rx_kick_before_driver_ok)
{
	uint32_t id, len;

	virtio_set_status(vdev, 0);
	ck_assert(!fb.receiving);
	virtio_set_driver_features(vdev, 1, 1);
	virtio_set_driver_features(vdev, 0, 1u << VIRTIO_NET_F_MAC);
	virtio_set_status(vdev, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	queue_init(&rxq, 0, RXQ_BASE);
	queue_init(&txq, 1, TXQ_BASE);
	queue_frame(our_mac, 100);
	post_rx(4, 2048);
	virtio_net_receive(virtio_net_rx_port(net, 0));
	ck_assert(!fb.receiving);
	ck_assert_uint_eq(fb.next_frame, 0);
	virtio_set_status(vdev, 0xf);
	ck_assert(fb.receiving);
	virtio_net_receive(virtio_net_rx_port(net, 0));
	ck_assert_int_eq(used(&rxq, &id, &len), 1);
	ck_assert_uint_eq(len, 12 + 14 + 100);
}
END_TEST

START_TEST(test_rx_merged_buffers)
{
	uint32_t id[2], len[2];

	post_rx(6, 1024);
	queue_frame(our_mac, 1500);            /* 1526 bytes with the header: two buffers */
	queue_frame(our_mac, 20);
	virtio_net_receive(virtio_net_rx_port(net, 0));
	ck_assert_int_eq(used(&rxq, &id[0], &len[0]), 1);
	ck_assert_int_eq(used(&rxq, &id[1], &len[1]), 1);
	ck_assert_uint_eq(len[0], 1024);
	ck_assert_uint_eq(len[1], 12 + 14 + 1500 - 1024);
	uint8_t *first = fake_ptr(&g, BUF_GPA + id[0] * 0x1000u), *second = fake_ptr(&g, BUF_GPA + id[1] * 0x1000u);
	uint16_t num_buffers;
	memcpy(&num_buffers, first + 10, 2);
	ck_assert_uint_eq(num_buffers, 2);
	ck_assert_mem_eq(first + 12, fb.frames[0] + 12, 1024 - 12);
	ck_assert_mem_eq(second, fb.frames[0] + 1024, len[1]);
	/* The second frame fits one buffer and takes the next one in order. */
	ck_assert_int_eq(used(&rxq, &id[0], &len[0]), 1);
	ck_assert_uint_eq(id[0], 2);
	ck_assert_uint_eq(len[0], 12 + 14 + 20);
}
END_TEST

static unsigned ctrl_index = 2;   /* the control queue follows the queue pairs */

static uint8_t ctrl(uint8_t class, uint8_t cmd, const void *data, size_t len)
{
	uint8_t *c = fake_ptr(&g, BUF_GPA + 0x8000);
	uint32_t id, ulen;

	c[0] = class;
	c[1] = cmd;
	memcpy(c + 2, data, len);
	*(uint8_t *)fake_ptr(&g, BUF_GPA + 0x9000) = 0xee;
	struct fake_buf bufs[] = { { BUF_GPA + 0x8000, (uint32_t)(2 + len), false }, { BUF_GPA + 0x9000, 1, true } };
	add(&ctrlq, (uint16_t)(ctrlq.avail_idx * 2 % QSIZE), bufs, 2);
	virtio_queue_notify(vdev, ctrl_index);
	ck_assert_int_eq(used(&ctrlq, &id, &ulen), 1);
	return *(uint8_t *)fake_ptr(&g, BUF_GPA + 0x9000);
}

/* A driver that kicks only when EVENT_IDX asks for it, as Linux does: the
 * device's avail_event sits after the used ring. */
static void add_and_kick_as_asked(struct test_queue *q, unsigned index, const struct fake_buf *bufs, unsigned n)
{
	uint16_t old = q->avail_idx;
	add(q, (uint16_t)(old * n % QSIZE), bufs, n);
	uint16_t event = *(uint16_t *)fake_ptr(&g, q->used + 4 + QSIZE * sizeof(struct virtq_used_elem));
	if ((uint16_t)(q->avail_idx - event - 1) < (uint16_t)(q->avail_idx - old))
		virtio_queue_notify(vdev, index);
}

/* Linux 6.1 sends PROMISC, ALLMULTI and MAC_TABLE_SET back to back when an
 * interface comes up and polls for each reply: every command must be
 * answered although only the first was kicked unconditionally. */
START_TEST(test_control_queue_event_idx)
{
	virtio_net_destroy(net);
	fake_guest_free(&g);
	setup_features((1u << VIRTIO_NET_F_MAC) | (1u << VIRTIO_NET_F_CTRL_VQ) | (1u << VIRTIO_NET_F_CTRL_RX) |
		       (1u << VIRTIO_F_EVENT_IDX));
	uint8_t *status = fake_ptr(&g, BUF_GPA + 0x9000);
	for (unsigned i = 0; i < 3 * QSIZE; i++) {
		uint8_t *c = fake_ptr(&g, BUF_GPA + 0x8000);
		c[0] = 0;          /* VIRTIO_NET_CTRL_RX */
		c[1] = i % 2;      /* PROMISC, ALLMULTI */
		c[2] = 1;
		*status = 0xee;
		struct fake_buf bufs[] = { { BUF_GPA + 0x8000, 3, false }, { BUF_GPA + 0x9000, 1, true } };
		add_and_kick_as_asked(&ctrlq, 2, bufs, 2);
		uint32_t id, len;
		ck_assert_msg(used(&ctrlq, &id, &len) == 1, "command %u was not answered", i);
		ck_assert_uint_eq(*status, 0);
	}
}
END_TEST

static bool delivered(const uint8_t dst[6])
{
	uint32_t id, len;
	queue_frame(dst, 46);
	virtio_net_receive(virtio_net_rx_port(net, 0));
	return used(&rxq, &id, &len) == 1;
}

START_TEST(test_rx_filter_and_control_queue)
{
	const uint8_t other[6] = { 0x52, 0x54, 0, 9, 9, 9 }, bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	uint8_t off = 0, on = 1;

	post_rx(32, 2048);
	ck_assert(delivered(other));                                  /* promiscuous after reset */
	ck_assert_uint_eq(ctrl(0, 0, &off, 1), 0);                     /* PROMISC off */
	ck_assert(!delivered(other));
	ck_assert_uint_eq(virtio_net_stats(net).rx_filtered, 1);
	ck_assert(delivered(our_mac));
	ck_assert(delivered(bcast));
	ck_assert(!delivered(mcast));
	ck_assert_uint_eq(ctrl(0, 5, &on, 1), 0);                      /* NOBCAST */
	ck_assert(!delivered(bcast));
	ck_assert_uint_eq(ctrl(0, 1, &on, 1), 0);                      /* ALLMULTI */
	ck_assert(delivered(mcast));
	/* A unicast table with one address, an empty multicast table. */
	uint8_t table[4 + 6 + 4] = { 1, 0, 0, 0, 0x52, 0x54, 0, 9, 9, 9, 0, 0, 0, 0 };
	ck_assert_uint_eq(ctrl(1, 0, table, sizeof(table)), 0);
	ck_assert(delivered(other));
	ck_assert_uint_eq(ctrl(1, 0, table, sizeof(table) - 1), 1);   /* malformed */
	/* A new MAC: config space follows, the old one is filtered. */
	ck_assert_uint_eq(ctrl(1, 1, other, 6), 0);
	uint8_t mac[6];
	vdev->ops->config_read(vdev, 0, mac, 6);
	ck_assert_mem_eq(mac, other, 6);
	ck_assert(!delivered(our_mac));
	ck_assert_uint_eq(ctrl(0, 9, &on, 1), 1);                      /* unknown RX command */
	ck_assert_uint_eq(ctrl(7, 0, &on, 1), 1);                      /* unknown class */
	/* Reset brings back the MAC and promiscuous mode. */
	virtio_set_status(vdev, 0);
	vdev->ops->config_read(vdev, 0, mac, 6);
	ck_assert_mem_eq(mac, our_mac, 6);
}
END_TEST

START_TEST(test_config_and_offloads)
{
	uint8_t cfg[8];
	uint16_t status;

	vdev->ops->config_read(vdev, 0, cfg, 8);
	ck_assert_mem_eq(cfg, our_mac, 6);
	memcpy(&status, cfg + 6, 2);
	ck_assert_uint_eq(status, 1);   /* link up */
	ck_assert_uint_eq(fb.offloads, 0);
	teardown();
	/* The backend's offloads become HOST_* and GUEST_* features; what the driver takes goes back. */
	setup_offloads((1u << VIRTIO_NET_F_MAC) | (1u << VIRTIO_NET_F_GUEST_CSUM) | (1u << VIRTIO_NET_F_GUEST_TSO4),
		       NET_OFFLOAD_CSUM | NET_OFFLOAD_TSO4);
	ck_assert(vdev->device_features & (1ull << VIRTIO_NET_F_CSUM));
	ck_assert(vdev->device_features & (1ull << VIRTIO_NET_F_HOST_TSO4));
	ck_assert(!(vdev->device_features & (1ull << VIRTIO_NET_F_HOST_TSO6)));
	ck_assert(vdev->device_features & (1ull << VIRTIO_NET_F_GUEST_TSO4));
	ck_assert_uint_eq(fb.offloads, NET_OFFLOAD_CSUM | NET_OFFLOAD_TSO4);
	teardown();
	setup_features(1u << VIRTIO_NET_F_MAC);   /* no mergeable buffers */
	uint32_t id, len;
	post_rx(1, 1000);                          /* too small for a whole frame */
	queue_frame(our_mac, 10);
	virtio_net_receive(virtio_net_rx_port(net, 0));
	ck_assert(vdev->status & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_int_eq(used(&rxq, &id, &len), 0);
}
END_TEST

START_TEST(test_multiqueue)
{
	static struct fake_backend fb1;
	struct test_queue rx1, tx1, ctrl2;
	uint32_t id, len;
	uint16_t pairs;

	teardown();
	memset(&fb, 0, sizeof(fb));
	memset(&fb1, 0, sizeof(fb1));
	fake_guest_init(&g, QSIZE);
	struct net_backend be[2] = { { &fb_ops, &fb, 0, 0 }, { &fb_ops, &fb1, 0, 0 } };
	net = virtio_net_create(&g.mem, be, 2, our_mac);
	vdev = virtio_net_dev(net);
	virtio_attach_transport(vdev, &transport, NULL);
	ck_assert(vdev->device_features & (1ull << VIRTIO_NET_F_MQ));
	vdev->ops->config_read(vdev, 8, (uint8_t *)&pairs, 2);
	ck_assert_uint_eq(pairs, 2);
	virtio_set_driver_features(vdev, 1, 1);
	virtio_set_driver_features(vdev, 0, (1u << VIRTIO_NET_F_MQ) | (1u << VIRTIO_NET_F_CTRL_VQ));
	virtio_set_status(vdev, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	queue_init(&rxq, 0, RXQ_BASE);
	queue_init(&txq, 1, TXQ_BASE);
	queue_init(&rx1, 2, 0x40000);
	queue_init(&tx1, 3, 0x50000);
	queue_init(&ctrl2, 4, 0x60000);
	virtio_set_status(vdev, 0xf);
	ck_assert(fb.receiving);
	ck_assert(!fb1.receiving);          /* one pair until the driver asks for more */
	/* Transmit queue 3 goes to the second backend queue. */
	memset(fake_ptr(&g, BUF_GPA), 0, 72);
	struct fake_buf frame = { BUF_GPA, 72, false };
	add(&tx1, 0, &frame, 1);
	virtio_queue_notify(vdev, 3);
	ck_assert_uint_eq(fb1.nsent, 1);
	ck_assert_uint_eq(fb.nsent, 0);
	/* VQ_PAIRS_SET through the control queue (now queue 4). */
	uint16_t two = 2, three = 3;
	ctrlq = ctrl2;
	ctrl_index = 4;
	ck_assert_uint_eq(ctrl(4, 0, &three, 2), 1);
	ck_assert_uint_eq(ctrl(4, 0, &two, 2), 0);
	ck_assert(fb1.receiving);
	/* A frame on the second backend queue lands in receive queue 2. */
	struct fake_buf b = { BUF_GPA + 0x10000, 2048, true };
	add(&rx1, 0, &b, 1);
	virtio_queue_notify(vdev, 2);
	uint8_t *f = fb1.frames[fb1.nframes];
	memset(f, 0, 12);
	memcpy(f + 12, our_mac, 6);
	fb1.frame_len[fb1.nframes++] = 12 + 60;
	virtio_net_receive(virtio_net_rx_port(net, 1));
	ck_assert_int_eq(used(&rx1, &id, &len), 1);
	ck_assert_uint_eq(len, 72);
	ck_assert_int_eq(used(&rxq, &id, &len), 0);
	ctrl_index = 2;
}
END_TEST

Suite *virtio_net_suite(void)
{
	Suite *s = suite_create("virtio_net");
	TCase *tc = tcase_create("virtio_net");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_tx_framing);
	tcase_add_test(tc, test_tx_malformed);
	tcase_add_test(tc, test_rx_waits_for_buffers);
	tcase_add_test(tc, test_rx_kick_before_driver_ok);
	tcase_add_test(tc, test_rx_merged_buffers);
	tcase_add_test(tc, test_rx_waits_for_room_with_event_idx);
	tcase_add_test(tc, test_rx_filter_and_control_queue);
	tcase_add_test(tc, test_control_queue_event_idx);
	tcase_add_test(tc, test_config_and_offloads);
	tcase_add_test(tc, test_multiqueue);
	suite_add_tcase(s, tc);
	return s;
}
