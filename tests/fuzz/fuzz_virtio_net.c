/*
 * Fuzz target for virtio-net's transmit, receive and control-queue
 * parsing: the input is guest memory holding the three rings (receive at
 * 0x1000, transmit at 0x4000, control at 0x7000, each 16 entries, rings
 * and descriptors as the fuzzer likes) followed by nothing else. The
 * device is brought up by a well-behaved driver, then every queue is kicked
 * and a frame is offered to receive. The backend swallows what it is sent.
 *
 * Built as a libFuzzer target with -DVMM_FUZZ=ON, and into
 * fuzz_net_replay for ctest, which runs tests/fuzz/corpus_net.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio_net.h"

#define RAM_SIZE (1u << 20)

static uint8_t frame[1514 + NET_FRAME_HEADER_BYTES];

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

static ssize_t one_frame(void *ctx, const struct iovec *iov, unsigned n)
{
	int *left = ctx;
	size_t at = 0;

	if (!*left)
		return 0;
	(*left)--;
	for (unsigned i = 0; i < n && at < sizeof(frame); i++) {
		size_t k = iov[i].iov_len < sizeof(frame) - at ? iov[i].iov_len : sizeof(frame) - at;
		memcpy(iov[i].iov_base, frame + at, k);
		at += k;
	}
	return (ssize_t)at;
}

static void ignore(void *ctx, bool on)
{
	(void)ctx;
	(void)on;
}

static int ignore_offloads(void *ctx, unsigned f)
{
	(void)ctx;
	(void)f;
	return 0;
}

static const struct net_backend_ops fuzz_ops = { sink_send, one_frame, ignore, ignore_offloads, NULL };

static void nothing(void *t)
{
	(void)t;
}

static void nothing_q(void *t, unsigned q)
{
	(void)t;
	(void)q;
}

static const struct virtio_transport_ops transport = { nothing_q, nothing, nothing, nothing };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 1, 2, 3 };
	struct guest_mem mem = { .nr_regions = 1 };
	int frames = 2;

	if (!ram)
		ram = malloc(RAM_SIZE);
	memset(ram, 0, RAM_SIZE);
	memcpy(ram, data, size < RAM_SIZE ? size : RAM_SIZE);
	mem.region[0] = (struct guest_mem_region){ 0, RAM_SIZE, ram };
	memset(frame, 0, sizeof(frame));
	memcpy(frame + NET_FRAME_HEADER_BYTES, mac, 6);

	struct net_backend be = { &fuzz_ops, &frames, 0, 0 };
	struct virtio_net *net = virtio_net_create(&mem, &be, 1, mac);
	struct virtio_dev *vdev = virtio_net_dev(net);
	virtio_attach_transport(vdev, &transport, NULL);
	virtio_set_driver_features(vdev, 1, 1);
	virtio_set_driver_features(vdev, 0, (1u << VIRTIO_NET_F_MRG_RXBUF) | (1u << VIRTIO_NET_F_CTRL_VQ) |
					    (1u << VIRTIO_NET_F_CTRL_RX) | (1u << VIRTIO_F_EVENT_IDX));
	virtio_set_status(vdev, 0xb);
	for (unsigned q = 0; q < 3; q++) {
		uint64_t base = 0x1000 + q * 0x3000;
		virtio_queue_set_field(vdev, q, VIRTIO_QUEUE_SIZE, 16);
		virtio_queue_set_field(vdev, q, VIRTIO_QUEUE_DESC, base);
		virtio_queue_set_field(vdev, q, VIRTIO_QUEUE_DRIVER, base + 0x1000);
		virtio_queue_set_field(vdev, q, VIRTIO_QUEUE_DEVICE, base + 0x2000);
		virtio_queue_set_ready(vdev, q, true);
	}
	virtio_set_status(vdev, 0xf);
	virtio_queue_notify(vdev, 2);
	virtio_queue_notify(vdev, 1);
	virtio_queue_notify(vdev, 0);
	virtio_net_receive(virtio_net_rx_port(net, 0));
	virtio_net_destroy(net);
	return 0;
}
