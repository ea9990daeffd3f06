/*
 * The block backend: a disk image file driven through io_uring, with
 * QEMU's cache modes. Requests are queued with block_read() and friends,
 * sent to the kernel in one batch by block_submit(), and completed by
 * block_reap() on the I/O thread when the ring's eventfd fires.
 */
#ifndef VMM_BLOCK_H
#define VMM_BLOCK_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "config.h"
#include "error.h"

/* Parses none|writeback|writethrough|directsync|unsafe; -1 if unknown. */
int block_cache_parse(const char *s, enum block_cache *out);
const char *block_cache_name(enum block_cache c);

typedef void block_complete_fn(void *ctx, void *tag, int result);

struct block_op;

struct block_backend {
	int fd;
	uint64_t size;                 /* bytes, a multiple of 512 */
	bool readonly;
	enum block_cache cache;
	bool write_cache;              /* what the guest sees (and may turn off) */
	unsigned align;                /* O_DIRECT buffer address alignment, or 1 */
	unsigned logical_block_size;   /* 512, or what O_DIRECT needs of offsets and lengths */

	struct io_uring ring;
	bool ring_ready;
	bool fixed_file;               /* the image is registered with the ring */
	int event_fd;                  /* signalled when completions are waiting */
	unsigned depth;                /* operations in flight at most */
	unsigned inflight;
	unsigned queued;               /* prepared but not yet submitted */
	struct block_op *ops;
	struct block_op *free_ops;

	block_complete_fn *complete;
	void *ctx;
};

/* Opens and locks path (an OFD lock: no second writer); depth is the ring size. */
int block_open(struct block_backend *be, const char *path, enum block_cache cache, bool readonly,
	       unsigned depth, struct vmm_error *err);
void block_close(struct block_backend *be);
void block_set_completion(struct block_backend *be, block_complete_fn *fn, void *ctx);

bool block_has_room(const struct block_backend *be, unsigned ops);
/* Each returns 0, or -errno if it could not be queued. tag comes back in the completion. */
int block_read(struct block_backend *be, uint64_t offset, const struct iovec *iov, unsigned n, void *tag);
int block_write(struct block_backend *be, uint64_t offset, const struct iovec *iov, unsigned n, void *tag);
/* Durable once every write submitted before it has completed. */
int block_flush(struct block_backend *be, void *tag);
int block_discard(struct block_backend *be, uint64_t offset, uint64_t len, void *tag);
int block_write_zeroes(struct block_backend *be, uint64_t offset, uint64_t len, bool unmap, void *tag);
/* Sends everything queued since the last call to the kernel in one io_uring_submit(). */
void block_submit(struct block_backend *be);
/* Runs completions; returns how many. */
unsigned block_reap(struct block_backend *be);

#endif
