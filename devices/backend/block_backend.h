/*
 * What a disk device model sees of its storage: an ops table (in the
 * spirit of kvmtool's disk_image_operations) over an image whose size and
 * properties are fixed when it is opened. Requests are queued with
 * iovecs that point into guest memory, sent in batches by submit(), and
 * each completes exactly once through the callback the device installs,
 * on the device's event-loop thread: either inside submit() or reap()
 * (both called by the device with its lock held), never inside the call
 * that queued it. Engines: io_uring and a thread pool
 * (vmm/backends/block_*.c); the unit tests and fuzzers use one in memory.
 */
#ifndef BACKEND_BLOCK_BACKEND_H
#define BACKEND_BLOCK_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "event_loop.h"

/*
 * The disk devices (virtio-blk, NVMe) stop asking the driver for kicks or
 * doorbells only with this many requests in flight, and look at their
 * rings on completions instead. A request added meanwhile waits for the
 * next completion, and with few in flight that leaves the disk short of
 * work (4 x 128 KiB writes at a time ran at 0.78x QEMU's with kicks held
 * from one); the kick, an ioeventfd, costs less. So a driver that keeps at
 * most this many outstanding never waits, and with more, completions come
 * often and a held kick saves an exit per request.
 */
#define BLOCK_KICKS_HELD_MIN_IN_FLIGHT 4

/* result: 0, or -errno (a short read or write is -EIO). */
typedef void block_complete_fn(void *device, void *tag, int result);

struct block_backend_ops {
	/* Each returns 0, or -errno if it could not be queued (-EAGAIN: no room). */
	int (*read)(void *ctx, uint64_t offset, const struct iovec *iov, unsigned n, void *tag);
	int (*write)(void *ctx, uint64_t offset, const struct iovec *iov, unsigned n, void *tag);
	/* Completes once every write queued before it is durable. */
	int (*flush)(void *ctx, void *tag);
	/* Deallocate (punch a hole); reads of the range return zeroes afterwards. */
	int (*discard)(void *ctx, uint64_t offset, uint64_t len, void *tag);
	int (*write_zeroes)(void *ctx, uint64_t offset, uint64_t len, bool unmap, void *tag);
	/* Sends what was queued since the last call. */
	void (*submit)(void *ctx);
	/* Runs the completions that are ready; returns how many. */
	unsigned (*reap)(void *ctx);
	/* Waits until everything queued has completed, and runs those completions: after
	 * a reset nothing of the old requests may touch guest memory. */
	void (*drain)(void *ctx);
	/* Whether ops more operations can be queued now. */
	bool (*has_room)(void *ctx, unsigned ops);
	/* The guest turned its write cache on or off. Off: writes, discards and write-zeroes
	 * are durable when they complete, and turning it off makes everything before durable
	 * (the device drains first). */
	void (*set_write_cache)(void *ctx, bool on);
	/* Calls ready(arg) on loop's thread when completions wait for reap(). */
	int (*watch)(void *ctx, struct event_loop *loop, event_fn *ready, void *arg);
	void (*set_completion)(void *ctx, block_complete_fn *fn, void *device);
	/* The owner's, not the device's: closes the image (nothing may be in flight). */
	void (*close)(void *ctx);
};

struct block_backend {
	const struct block_backend_ops *ops;
	void *ctx;
	uint64_t size;                 /* bytes, a multiple of 512 */
	bool readonly;
	bool write_cache;              /* on when opened: the guest may turn it off */
	unsigned logical_block_size;   /* 512, or what the image needs of offsets and lengths */
};

#endif
