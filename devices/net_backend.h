/*
 * What a network device model sees of its backend (tap, bridge, user-mode
 * NAT): frames in and out, each led by the 12-byte virtio_net_hdr, and a
 * switch for "tell me when frames are waiting". The VMM side (vmm/net_*.c)
 * owns the file descriptors and the I/O thread watches.
 */
#ifndef DEVICES_NET_BACKEND_H
#define DEVICES_NET_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define VIRTIO_NET_HDR_BYTES 12

struct net_backend_ops {
	/* Sends one frame (header first); 0, or -errno: -EAGAIN means "try later". */
	int (*send)(void *ctx, const struct iovec *iov, unsigned n);
	/* Receives one frame (header first) into iov; its length, or 0 if none is waiting. */
	ssize_t (*receive)(void *ctx, const struct iovec *iov, unsigned n);
	/* Start or stop calling the device's receive handler when frames wait. */
	void (*set_receiving)(void *ctx, bool on);
	/* The guest accepts these offloads (VIRTIO_NET_F_GUEST_* bits) on received frames. */
	int (*set_guest_offloads)(void *ctx, uint64_t features);
	/* Optional: the queue pair is in use, or not (its backend queue should get no frames). */
	int (*set_in_use)(void *ctx, bool in_use);
};

struct net_backend {
	const struct net_backend_ops *ops;
	void *ctx;
	uint64_t features;   /* offload VIRTIO_NET_F_* bits the backend can carry */
};

#endif
