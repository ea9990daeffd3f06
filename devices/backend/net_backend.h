/*
 * What a network device model sees of its backend (tap, bridge, user-mode
 * NAT): frames in and out, and a switch for "tell me when frames are
 * waiting". Every frame is led by the 12-byte header of virtio 1.2,
 * 5.1.6 (struct net_frame_header), which Linux's tap speaks too
 * (IFF_VNET_HDR): it says whether the frame needs a checksum filled in and
 * how to segment it, so those offloads pass between guest and host kernel
 * untouched when both sides can take them. A device that cannot produce or
 * consume them (or a backend that cannot carry them) does the work itself.
 */
#ifndef BACKEND_NET_BACKEND_H
#define BACKEND_NET_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define NET_FRAME_HEADER_BYTES 12

/* struct virtio_net_hdr with num_buffers (virtio 1.2, 5.1.6), little-endian. */
struct net_frame_header {
	uint8_t flags;             /* NET_HDR_F_* */
	uint8_t gso_type;          /* NET_HDR_GSO_* */
	uint16_t hdr_len;          /* bytes of Ethernet, IP and TCP/UDP headers */
	uint16_t gso_size;         /* payload bytes per segment */
	uint16_t csum_start;       /* where checksumming starts */
	uint16_t csum_offset;      /* where, after csum_start, the checksum goes */
	uint16_t num_buffers;
};

#define NET_HDR_F_NEEDS_CSUM 1
#define NET_HDR_F_DATA_VALID 2
#define NET_HDR_GSO_NONE 0
#define NET_HDR_GSO_TCPV4 1
#define NET_HDR_GSO_UDP 3
#define NET_HDR_GSO_TCPV6 4
#define NET_HDR_GSO_ECN 0x80

/* Offloads a frame header may ask for: what a backend carries, what a guest takes. */
#define NET_OFFLOAD_CSUM (1u << 0)    /* NEEDS_CSUM: a partial checksum to finish */
#define NET_OFFLOAD_TSO4 (1u << 1)
#define NET_OFFLOAD_TSO6 (1u << 2)
#define NET_OFFLOAD_ECN (1u << 3)
#define NET_OFFLOAD_UFO (1u << 4)

struct net_backend_ops {
	/* Sends one frame (header first); 0, or -errno: -EAGAIN means "try later". */
	int (*send)(void *ctx, const struct iovec *iov, unsigned n);
	/* Receives one frame (header first) into iov; its length, or 0 if none is waiting. */
	ssize_t (*receive)(void *ctx, const struct iovec *iov, unsigned n);
	/* Start or stop calling the device's receive handler when frames wait. */
	void (*set_receiving)(void *ctx, bool on);
	/* The guest takes these NET_OFFLOAD_* in received frames. */
	int (*set_guest_offloads)(void *ctx, unsigned offloads);
	/* Optional: the queue is in use, or not (its backend queue should get no frames). */
	int (*set_in_use)(void *ctx, bool in_use);
};

struct net_backend {
	const struct net_backend_ops *ops;
	void *ctx;
	unsigned tx_offloads;      /* NET_OFFLOAD_* it accepts in frames from the guest */
	unsigned rx_offloads;      /* NET_OFFLOAD_* it can deliver if the guest takes them */
};

#endif
