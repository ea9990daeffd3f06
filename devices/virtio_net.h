/* virtio-net device model; see virtio_net.c. */
#ifndef DEVICES_VIRTIO_NET_H
#define DEVICES_VIRTIO_NET_H

#include "net_backend.h"
#include "virtio.h"

#define VIRTIO_ID_NET 1

#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_GUEST_UFO 10
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_HOST_UFO 14
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_CTRL_RX 18
#define VIRTIO_NET_F_MQ 22
#define VIRTIO_NET_F_CTRL_MAC_ADDR 23
#define VIRTIO_NET_MAX_PAIRS 16

struct virtio_net_stats {
	uint64_t rx_frames, tx_frames;
	uint64_t rx_filtered;        /* not for us under the RX mode and MAC table */
	uint64_t tx_errors;          /* malformed chains, backend errors */
};

struct virtio_net;

/* nr_pairs queue pairs, pair i on backends[i], and a control queue. */
struct virtio_net *virtio_net_create(const struct guest_mem *mem, const struct net_backend *backends,
				     unsigned nr_pairs, const uint8_t mac[6]);
void virtio_net_destroy(struct virtio_net *net);
struct virtio_dev *virtio_net_dev(struct virtio_net *net);
/* The argument for virtio_net_receive() when pair's backend has frames. */
void *virtio_net_rx_port(struct virtio_net *net, unsigned pair);
/* Frames are waiting in a pair's backend: the glue calls this on the I/O thread. */
void virtio_net_receive(void *rx_port);
struct virtio_net_stats virtio_net_stats(struct virtio_net *net);

#endif
