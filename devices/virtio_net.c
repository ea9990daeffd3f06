/*
 * virtio-net (virtio 1.2, section 5.1): queue pairs (one receive and one
 * transmit queue each, on a backend queue of their own; VIRTIO_NET_F_MQ when
 * there are several) and a control queue. Every frame is led by the 12-byte
 * virtio_net_hdr (5.1.6), the backend interface's frame header, which tap
 * passes through unchanged (IFF_VNET_HDR), so checksum
 * and segmentation offloads cost the device nothing: a transmitted chain is
 * written to the backend as it is, and a received frame is read straight
 * into guest buffers — with VIRTIO_NET_F_MRG_RXBUF across as many chains as
 * it needs, num_buffers telling the driver how many (5.1.6.3.2).
 *
 * When the guest has no receive buffers the device stops the backend from
 * reading (frames wait in the tap's queue) and starts it again when the
 * driver adds buffers; frames are dropped only by the RX filter of the
 * control queue (5.1.6.5.1, 5.1.6.5.2), and those are counted.
 */
#include "virtio_net.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Queue pair i is receive queue 2i and transmit queue 2i+1; the control queue comes last. */
#define RX_QUEUE(p) (2 * (p)->index)
#define TX_QUEUE(p) (2 * (p)->index + 1)

#define STATUS_LINK_UP 1
#define MAX_FRAME 1514
#define MAX_GSO_FRAME 65550
#define HDR_NUM_BUFFERS 10
/* Chains a frame may take with MRG_RXBUF: enough 1 KiB buffers for a 64 KiB frame. */
#define MAX_RX_CHAINS 70

#define CTRL_RX 0
#define CTRL_RX_PROMISC 0
#define CTRL_RX_ALLMULTI 1
#define CTRL_RX_ALLUNI 2
#define CTRL_RX_NOMULTI 3
#define CTRL_RX_NOUNI 4
#define CTRL_RX_NOBCAST 5
#define CTRL_MAC 1
#define CTRL_MAC_TABLE_SET 0
#define CTRL_MAC_ADDR_SET 1
#define CTRL_MQ 4
#define CTRL_MQ_VQ_PAIRS_SET 0
#define CTRL_OK 0
#define CTRL_ERR 1
#define MAC_TABLE_MAX 64   /* entries kept per table; more accept the whole class */

struct net_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
} __attribute__((packed));

struct mac_table {
	uint32_t n;
	bool overflow;              /* more entries than we keep: accept the whole class */
	uint8_t mac[MAC_TABLE_MAX][6];
};

struct rx_mode {
	bool promisc, allmulti, alluni, nomulti, nouni, nobcast;
};

/* One receive and one transmit queue, and the backend queue behind them. */
struct net_pair {
	struct virtio_net *net;
	unsigned index;
	struct net_backend be;
	bool receiving;             /* the backend is told to deliver */
	struct virtq_chain *rx;     /* MAX_RX_CHAINS chains for one frame */
	struct virtq_chain tx;
};

struct virtio_net {
	struct virtio_dev vdev;
	struct net_pair *pairs;
	unsigned nr_pairs;
	unsigned active_pairs;      /* VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 1 until then */
	struct net_config config;
	uint8_t default_mac[6];
	struct rx_mode mode;
	struct mac_table uni, multi;
	struct virtio_net_stats stats;
	struct virtq_chain ctrl;
};

static void set_receiving(struct net_pair *p, bool on)
{
	if (p->receiving != on) {
		p->receiving = on;
		p->be.ops->set_receiving(p->be.ctx, on);
	}
}

static unsigned ctrl_queue(const struct virtio_net *net)
{
	return 2 * net->nr_pairs;
}

/* Pairs in use receive; the others are taken out of the backend's rotation
 * (a multi-queue tap would otherwise hash flows onto queues nobody reads). */
static void update_receiving(struct virtio_net *net)
{
	for (unsigned i = 0; i < net->nr_pairs; i++) {
		struct net_pair *p = &net->pairs[i];
		bool in_use = i < net->active_pairs;
		if (p->be.ops->set_in_use)
			p->be.ops->set_in_use(p->be.ctx, in_use);
		set_receiving(p, virtio_driver_ok(&net->vdev) && in_use);
	}
}

static size_t rx_frame_max(const struct virtio_net *net)
{
	const struct virtio_dev *v = &net->vdev;
	bool gso = virtio_has_feature(v, VIRTIO_NET_F_GUEST_TSO4) || virtio_has_feature(v, VIRTIO_NET_F_GUEST_TSO6) ||
		   virtio_has_feature(v, VIRTIO_NET_F_GUEST_UFO);
	return NET_FRAME_HEADER_BYTES + (gso ? MAX_GSO_FRAME : MAX_FRAME);
}

/* Copies between buf and the chain's writable buffers, from offset off in them. */
static void chain_copy(struct virtq_chain *c, size_t off, void *buf, size_t len, bool to_chain)
{
	uint8_t *p = buf;
	for (unsigned i = c->nr_out; i < c->nr_out + c->nr_in && len; i++) {
		size_t l = c->iov[i].iov_len;
		if (off >= l) {
			off -= l;
			continue;
		}
		size_t k = l - off < len ? l - off : len;
		uint8_t *g = (uint8_t *)c->iov[i].iov_base + off;
		memcpy(to_chain ? g : p, to_chain ? p : g, k);
		p += k;
		len -= k;
		off = 0;
	}
}

static bool in_table(const struct mac_table *t, const uint8_t *mac)
{
	if (t->overflow)
		return true;
	for (uint32_t i = 0; i < t->n; i++)
		if (!memcmp(t->mac[i], mac, 6))
			return true;
	return false;
}

/* The receive filter of 5.1.6.5.1 and 5.1.6.5.2 for a destination address. */
static bool accept_frame(const struct virtio_net *net, const uint8_t *dst)
{
	static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	if (net->mode.promisc)
		return true;
	if (!memcmp(dst, broadcast, 6))
		return !net->mode.nobcast;
	if (dst[0] & 1)
		return !net->mode.nomulti && (net->mode.allmulti || in_table(&net->multi, dst));
	if (net->mode.nouni)
		return false;
	return net->mode.alluni || !memcmp(dst, net->config.mac, 6) || in_table(&net->uni, dst);
}

/* Takes chains until they hold a frame of the largest size; how many, or -1 on a ring error. */
static int gather_rx(struct net_pair *p, struct iovec *iov, unsigned *niov)
{
	struct virtio_net *net = p->net;
	struct virtqueue *vq = &net->vdev.queues[RX_QUEUE(p)];
	bool mrg = virtio_has_feature(&net->vdev, VIRTIO_NET_F_MRG_RXBUF);
	size_t room = 0, want = rx_frame_max(net);
	int n = 0;

	*niov = 0;
	while (room < want && n < (mrg ? MAX_RX_CHAINS : 1)) {
		struct virtq_chain *c = &p->rx[n];
		int r = virtq_pop(vq, c);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		n++;
		/* Receive buffers are device-writable only, and the first holds the header. */
		if (c->nr_out || (n == 1 && c->in_len < NET_FRAME_HEADER_BYTES) || *niov + c->nr_in > VIRTQ_MAX_CHAIN)
			return -1;
		memcpy(iov + *niov, &c->iov[c->nr_out], c->nr_in * sizeof(*iov));
		*niov += c->nr_in;
		room += c->in_len;
	}
	/* Without mergeable buffers one chain must take any frame (5.1.6.3.1). */
	if (n && !mrg && room < want)
		return -1;
	/* Too little room for the largest frame: wait for more buffers rather
	 * than let the backend cut a frame short. */
	if (room < want) {
		virtq_unpop(vq, (uint16_t)n);
		return 0;
	}
	return n;
}

/* Pushes the chains a frame of len bytes filled; gives back the rest. */
static void finish_rx(struct net_pair *p, int chains, size_t len)
{
	struct virtqueue *vq = &p->net->vdev.queues[RX_QUEUE(p)];
	uint16_t used = 0;
	size_t left = len;

	for (int i = 0; i < chains && (left || i == 0); i++) {
		size_t k = p->rx[i].in_len < left ? p->rx[i].in_len : left;
		left -= k;
		used++;
	}
	chain_copy(&p->rx[0], HDR_NUM_BUFFERS, &used, sizeof(used), true);
	virtq_unpop(vq, (uint16_t)(chains - used));
	left = len;
	for (uint16_t i = 0; i < used; i++) {
		size_t k = p->rx[i].in_len < left ? p->rx[i].in_len : left;
		virtq_push(vq, p->rx[i].head, (uint32_t)k);
		left -= k;
	}
}

static bool receive_one(struct net_pair *p)
{
	struct virtio_net *net = p->net;
	struct virtqueue *vq = &net->vdev.queues[RX_QUEUE(p)];
	static __thread struct iovec iov[VIRTQ_MAX_CHAIN];
	unsigned niov;
	int chains = gather_rx(p, iov, &niov);

	if (chains < 0) {
		virtio_needs_reset(&net->vdev);
		set_receiving(p, false);
		return false;
	}
	if (chains == 0) {
		/* Not room enough: leave frames in the backend until the driver adds
		 * buffers, unless it did just now (then look again). */
		if (virtq_arm_kick(vq))
			return true;
		set_receiving(p, false);
		return false;
	}
	ssize_t len = p->be.ops->receive(p->be.ctx, iov, niov);
	if (len <= NET_FRAME_HEADER_BYTES) {
		virtq_unpop(vq, (uint16_t)chains);
		return false;
	}
	uint8_t dst[6];
	chain_copy(&p->rx[0], NET_FRAME_HEADER_BYTES, dst, sizeof(dst), false);
	if (!accept_frame(net, dst)) {
		virtq_unpop(vq, (uint16_t)chains);
		net->stats.rx_filtered++;
		return true;
	}
	finish_rx(p, chains, (size_t)len);
	net->stats.rx_frames++;
	return true;
}

void virtio_net_receive(void *rx_port)
{
	struct net_pair *p = rx_port;
	struct virtio_net *net = p->net;
	bool pushed = false;

	pthread_mutex_lock(&net->vdev.lock);
	if (!virtio_driver_ok(&net->vdev) || !net->vdev.queues[RX_QUEUE(p)].ready)
		set_receiving(p, false);   /* a receive kick came early: the backend waits for DRIVER_OK or a kick */
	else
		while (receive_one(p))
			pushed = true;
	if (pushed)
		virtio_signal_used(&net->vdev, RX_QUEUE(p));
	pthread_mutex_unlock(&net->vdev.lock);
}

static void transmit(struct net_pair *p)
{
	struct virtio_net *net = p->net;
	struct virtqueue *vq = &net->vdev.queues[TX_QUEUE(p)];
	bool pushed = false;

	for (;;) {
		int r = virtq_pop(vq, &p->tx);
		if (r == 0)
			break;
		if (r < 0) {
			virtio_needs_reset(&net->vdev);
			break;
		}
		/* Transmit buffers are device-readable, header first (5.1.6.2). */
		int sent = -EINVAL;
		if (!p->tx.nr_in && p->tx.out_len > NET_FRAME_HEADER_BYTES)
			sent = p->be.ops->send(p->be.ctx, p->tx.iov, p->tx.nr_out);
		if (sent == -EAGAIN) {
			virtq_unpop(vq, 1);
			break;
		}
		if (sent < 0)
			net->stats.tx_errors++;
		else
			net->stats.tx_frames++;
		virtq_push(vq, p->tx.head, 0);
		pushed = true;
	}
	if (pushed)
		virtio_signal_used(&net->vdev, TX_QUEUE(p));
}

static uint8_t ctrl_rx_mode(struct virtio_net *net, uint8_t cmd, const uint8_t *data, size_t len)
{
	bool *flags[] = {
		[CTRL_RX_PROMISC] = &net->mode.promisc, [CTRL_RX_ALLMULTI] = &net->mode.allmulti,
		[CTRL_RX_ALLUNI] = &net->mode.alluni, [CTRL_RX_NOMULTI] = &net->mode.nomulti,
		[CTRL_RX_NOUNI] = &net->mode.nouni, [CTRL_RX_NOBCAST] = &net->mode.nobcast,
	};

	if (cmd > CTRL_RX_NOBCAST || len != 1)
		return CTRL_ERR;
	*flags[cmd] = data[0] != 0;
	return CTRL_OK;
}

/* One table of VIRTIO_NET_CTRL_MAC_TABLE_SET: le32 entries, then entries MACs. */
static size_t parse_mac_table(struct mac_table *t, const uint8_t *data, size_t len)
{
	uint32_t n;

	if (len < 4)
		return 0;
	memcpy(&n, data, 4);
	if (n > (len - 4) / 6)
		return 0;
	t->n = n <= MAC_TABLE_MAX ? n : 0;
	t->overflow = n > MAC_TABLE_MAX;
	memcpy(t->mac, data + 4, t->n * 6);
	return 4 + (size_t)n * 6;
}

static uint8_t ctrl_mac(struct virtio_net *net, uint8_t cmd, const uint8_t *data, size_t len)
{
	if (cmd == CTRL_MAC_ADDR_SET && len == 6) {
		memcpy(net->config.mac, data, 6);
		return CTRL_OK;
	}
	if (cmd != CTRL_MAC_TABLE_SET)
		return CTRL_ERR;
	struct mac_table uni, multi;
	size_t a = parse_mac_table(&uni, data, len);
	size_t b = a ? parse_mac_table(&multi, data + a, len - a) : 0;
	if (!a || !b || a + b != len)
		return CTRL_ERR;
	net->uni = uni;
	net->multi = multi;
	return CTRL_OK;
}

/* VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET (5.1.6.5.6): how many pairs the driver uses. */
static uint8_t ctrl_mq(struct virtio_net *net, uint8_t cmd, const uint8_t *data, size_t len)
{
	uint16_t n;

	if (cmd != CTRL_MQ_VQ_PAIRS_SET || len != 2 || !virtio_has_feature(&net->vdev, VIRTIO_NET_F_MQ))
		return CTRL_ERR;
	memcpy(&n, data, 2);
	if (n < 1 || n > net->nr_pairs)
		return CTRL_ERR;
	net->active_pairs = n;
	update_receiving(net);
	return CTRL_OK;
}

static void control(struct virtio_net *net)
{
	struct virtqueue *vq = &net->vdev.queues[ctrl_queue(net)];
	static __thread uint8_t cmd[4096];

	for (;;) {
		int r = virtq_pop(vq, &net->ctrl);
		if (r <= 0) {
			if (r < 0)
				virtio_needs_reset(&net->vdev);
			break;
		}
		struct virtq_chain *c = &net->ctrl;
		uint8_t ack = CTRL_ERR;
		size_t len = c->out_len, at = 0;
		if (c->in_len < 1) {
			virtio_needs_reset(&net->vdev);
			break;
		}
		if (len >= 2 && len <= sizeof(cmd)) {
			for (unsigned i = 0; i < c->nr_out; at += c->iov[i].iov_len, i++)
				memcpy(cmd + at, c->iov[i].iov_base, c->iov[i].iov_len);
			if (cmd[0] == CTRL_RX && virtio_has_feature(&net->vdev, VIRTIO_NET_F_CTRL_RX))
				ack = ctrl_rx_mode(net, cmd[1], cmd + 2, len - 2);
			else if (cmd[0] == CTRL_MAC)
				ack = ctrl_mac(net, cmd[1], cmd + 2, len - 2);
			else if (cmd[0] == CTRL_MQ)
				ack = ctrl_mq(net, cmd[1], cmd + 2, len - 2);
		}
		chain_copy(c, c->in_len - 1, &ack, 1, true);
		virtq_push(vq, c->head, 1);
	}
	virtio_signal_used(&net->vdev, ctrl_queue(net));
}

static void net_queue_notify(struct virtio_dev *vdev, unsigned q)
{
	struct virtio_net *net = vdev->device;

	if (q == ctrl_queue(net))
		control(net);
	else if (q % 2)
		transmit(&net->pairs[q / 2]);
	else if (q / 2 < net->active_pairs)
		set_receiving(&net->pairs[q / 2], true);   /* new receive buffers: deliver again */
}

static void net_config_read(struct virtio_dev *vdev, uint32_t offset, uint8_t *data, unsigned size)
{
	struct virtio_net *net = vdev->device;

	virtio_config_copy(&net->config, sizeof(net->config), offset, data, size);
}

static void net_config_write(struct virtio_dev *vdev, uint32_t offset, const uint8_t *data, unsigned size)
{
	/* The MAC is writable by legacy drivers only; modern ones use CTRL_MAC_ADDR_SET. */
	(void)vdev;
	(void)offset;
	(void)data;
	(void)size;
}

static void net_reset(struct virtio_dev *vdev)
{
	struct virtio_net *net = vdev->device;

	memcpy(net->config.mac, net->default_mac, 6);
	net->mode = (struct rx_mode){ .promisc = true };
	net->uni.n = net->multi.n = 0;
	net->uni.overflow = net->multi.overflow = false;
	net->active_pairs = 1;
	for (unsigned i = 0; i < net->nr_pairs; i++)
		set_receiving(&net->pairs[i], false);
}

/* Offloads and the feature bits that offer them: the device's (HOST_*) and the driver's (GUEST_*). */
static const struct {
	unsigned offload, host_bit, guest_bit;
} offload_features[] = {
	{ NET_OFFLOAD_CSUM, VIRTIO_NET_F_CSUM, VIRTIO_NET_F_GUEST_CSUM },
	{ NET_OFFLOAD_TSO4, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_GUEST_TSO4 },
	{ NET_OFFLOAD_TSO6, VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_GUEST_TSO6 },
	{ NET_OFFLOAD_ECN, VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_GUEST_ECN },
	{ NET_OFFLOAD_UFO, VIRTIO_NET_F_HOST_UFO, VIRTIO_NET_F_GUEST_UFO },
};

static uint64_t offload_feature_bits(const struct net_backend *be)
{
	uint64_t f = 0;
	for (size_t i = 0; i < sizeof(offload_features) / sizeof(offload_features[0]); i++) {
		if (be->tx_offloads & offload_features[i].offload)
			f |= 1ull << offload_features[i].host_bit;
		if (be->rx_offloads & offload_features[i].offload)
			f |= 1ull << offload_features[i].guest_bit;
	}
	return f;
}

static unsigned guest_offloads(const struct virtio_dev *vdev)
{
	unsigned offloads = 0;
	for (size_t i = 0; i < sizeof(offload_features) / sizeof(offload_features[0]); i++)
		if (virtio_has_feature(vdev, offload_features[i].guest_bit))
			offloads |= offload_features[i].offload;
	return offloads;
}

static void net_driver_ok(struct virtio_dev *vdev)
{
	struct virtio_net *net = vdev->device;

	for (unsigned i = 0; i < net->nr_pairs; i++)
		net->pairs[i].be.ops->set_guest_offloads(net->pairs[i].be.ctx, guest_offloads(vdev));
	update_receiving(net);
}

static const struct virtio_device_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.config_size = sizeof(struct net_config),
	.config_read = net_config_read,
	.config_write = net_config_write,
	.queue_notify = net_queue_notify,
	.reset = net_reset,
	.driver_ok = net_driver_ok,
};

static void free_pairs(struct virtio_net *net)
{
	for (unsigned i = 0; net->pairs && i < net->nr_pairs; i++)
		free(net->pairs[i].rx);
	free(net->pairs);
}

struct virtio_net *virtio_net_create(const struct guest_mem *mem, const struct net_backend *backends,
				     unsigned nr_pairs, const uint8_t mac[6])
{
	struct virtio_net *net = calloc(1, sizeof(*net));
	uint64_t features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS) |
			    (1ull << VIRTIO_NET_F_MRG_RXBUF) | (1ull << VIRTIO_NET_F_CTRL_VQ) |
			    (1ull << VIRTIO_NET_F_CTRL_RX) | (1ull << VIRTIO_NET_F_CTRL_MAC_ADDR) |
			    offload_feature_bits(&backends[0]) |
			    (nr_pairs > 1 ? 1ull << VIRTIO_NET_F_MQ : 0);

	if (!net)
		return NULL;
	net->nr_pairs = nr_pairs;
	net->pairs = calloc(nr_pairs, sizeof(*net->pairs));
	for (unsigned i = 0; net->pairs && i < nr_pairs; i++) {
		net->pairs[i] = (struct net_pair){ .net = net, .index = i, .be = backends[i] };
		net->pairs[i].rx = calloc(MAX_RX_CHAINS, sizeof(struct virtq_chain));
		if (!net->pairs[i].rx)
			break;
	}
	if (!net->pairs || !net->pairs[nr_pairs - 1].rx ||
	    virtio_dev_init(&net->vdev, &net_ops, net, mem, features, 2 * nr_pairs + 1) < 0) {
		free_pairs(net);
		free(net);
		return NULL;
	}
	memcpy(net->default_mac, mac, 6);
	memcpy(net->config.mac, mac, 6);
	net->config.status = STATUS_LINK_UP;
	net->config.max_virtqueue_pairs = (uint16_t)nr_pairs;
	net->mode.promisc = true;
	net->active_pairs = 1;
	return net;
}

void *virtio_net_rx_port(struct virtio_net *net, unsigned pair)
{
	return &net->pairs[pair];
}

struct virtio_dev *virtio_net_dev(struct virtio_net *net)
{
	return &net->vdev;
}

struct virtio_net_stats virtio_net_stats(struct virtio_net *net)
{
	pthread_mutex_lock(&net->vdev.lock);
	struct virtio_net_stats s = net->stats;
	pthread_mutex_unlock(&net->vdev.lock);
	return s;
}

void virtio_net_destroy(struct virtio_net *net)
{
	if (!net)
		return;
	virtio_dev_destroy(&net->vdev);
	free_pairs(net);
	free(net);
}
