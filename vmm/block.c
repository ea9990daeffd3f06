/*
 * io_uring block backend. Reads and writes go straight between the image
 * and guest memory (the iovecs point into guest RAM); only an O_DIRECT
 * request whose buffers are not aligned for the device goes through a
 * bounce buffer. Flushes are fdatasync with IOSQE_IO_DRAIN, so the kernel
 * starts one only after every earlier request has completed: a flush
 * covers all writes the guest saw complete before it, and more.
 */
#include "block.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECTOR 512

enum op_kind { OP_READ, OP_WRITE, OP_FLUSH, OP_DISCARD, OP_ZERO_RANGE };

struct block_op {
	void *tag;
	enum op_kind kind;
	uint64_t offset, len;
	void *bounce;                  /* O_DIRECT copy, or NULL */
	const struct iovec *iov;       /* guest buffers, for copying a bounced read back */
	unsigned niov;
	struct block_op *next_free;
};

static const char *const cache_names[] = {
	[BLOCK_CACHE_WRITEBACK] = "writeback",
	[BLOCK_CACHE_NONE] = "none",
	[BLOCK_CACHE_WRITETHROUGH] = "writethrough",
	[BLOCK_CACHE_DIRECTSYNC] = "directsync",
	[BLOCK_CACHE_UNSAFE] = "unsafe",
};

int block_cache_parse(const char *s, enum block_cache *out)
{
	for (unsigned i = 0; i < sizeof(cache_names) / sizeof(cache_names[0]); i++) {
		if (!strcmp(s, cache_names[i])) {
			*out = (enum block_cache)i;
			return 0;
		}
	}
	return -1;
}

const char *block_cache_name(enum block_cache c)
{
	return cache_names[c];
}

static bool cache_is_direct(enum block_cache c)
{
	return c == BLOCK_CACHE_NONE || c == BLOCK_CACHE_DIRECTSYNC;
}

static int image_size(struct block_backend *be, const char *path, struct vmm_error *err)
{
	struct stat st;

	if (fstat(be->fd, &st) < 0)
		return vmm_fail(err, VMM_EXIT_USAGE, "--disk %s: %s", path, strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(be->fd, BLKGETSIZE64, &be->size) < 0)
			return vmm_fail(err, VMM_EXIT_USAGE, "--disk %s: %s", path, strerror(errno));
	} else if (S_ISREG(st.st_mode)) {
		be->size = (uint64_t)st.st_size;
	} else {
		return vmm_fail(err, VMM_EXIT_USAGE, "--disk %s: not a regular file or block device", path);
	}
	if (be->size == 0 || be->size % SECTOR)
		return vmm_fail(err, VMM_EXIT_USAGE, "--disk %s: size %llu is not a positive multiple of 512",
				path, (unsigned long long)be->size);
	return 0;
}

static int lock_image(struct block_backend *be, const char *path, struct vmm_error *err)
{
	struct flock lk = { .l_type = be->readonly ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET };

	if (fcntl(be->fd, F_OFD_SETLK, &lk) < 0)
		return vmm_fail(err, VMM_EXIT_USAGE, "--disk %s: %s", path,
				errno == EAGAIN || errno == EACCES ? "in use by another process (locked)"
								   : strerror(errno));
	return 0;
}

static int setup_ring(struct block_backend *be, unsigned depth, struct vmm_error *err)
{
	int r = io_uring_queue_init(depth, &be->ring, 0);

	if (r < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "io_uring_queue_init: %s", strerror(-r));
	be->ring_ready = true;
	/* A registered file saves a file-table lookup per request. */
	be->fixed_file = io_uring_register_files(&be->ring, &be->fd, 1) == 0;
	be->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (be->event_fd < 0 || io_uring_register_eventfd(&be->ring, be->event_fd) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot attach an eventfd to io_uring");
	be->depth = depth;
	be->ops = calloc(depth, sizeof(*be->ops));
	if (!be->ops)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "out of memory");
	for (unsigned i = 0; i < depth; i++) {
		be->ops[i].next_free = be->free_ops;
		be->free_ops = &be->ops[i];
	}
	return 0;
}

/* What O_DIRECT needs of buffer addresses and of offsets and lengths. */
static void direct_io_alignment(struct block_backend *be)
{
	struct statx sx;

	be->align = SECTOR;
	if (statx(be->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 && (sx.stx_mask & STATX_DIOALIGN) &&
	    sx.stx_dio_offset_align) {
		be->align = sx.stx_dio_mem_align > 1 ? sx.stx_dio_mem_align : 1;
		if (sx.stx_dio_offset_align > SECTOR)
			be->logical_block_size = sx.stx_dio_offset_align;
	}
}

int block_open(struct block_backend *be, const char *path, enum block_cache cache, bool readonly,
	       unsigned depth, struct vmm_error *err)
{
	int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | (cache_is_direct(cache) ? O_DIRECT : 0);

	memset(be, 0, sizeof(*be));
	be->event_fd = -1;
	be->readonly = readonly;
	be->cache = cache;
	be->align = 1;
	be->logical_block_size = SECTOR;
	be->write_cache = cache != BLOCK_CACHE_WRITETHROUGH && cache != BLOCK_CACHE_DIRECTSYNC;
	be->fd = open(path, flags);
	if (be->fd < 0)
		return vmm_fail(err, VMM_EXIT_USAGE, "--disk %s: %s", path, strerror(errno));
	if (image_size(be, path, err) < 0 || lock_image(be, path, err) < 0)
		return -1;
	if (cache_is_direct(cache))
		direct_io_alignment(be);
	return setup_ring(be, depth, err);
}

void block_close(struct block_backend *be)
{
	if (be->ring_ready)
		io_uring_queue_exit(&be->ring);
	be->ring_ready = false;
	for (unsigned i = 0; be->ops && i < be->depth; i++)
		free(be->ops[i].bounce);
	free(be->ops);
	be->ops = NULL;
	if (be->event_fd >= 0)
		close(be->event_fd);
	if (be->fd >= 0)
		close(be->fd);
	be->fd = be->event_fd = -1;
}

void block_set_completion(struct block_backend *be, block_complete_fn *fn, void *ctx)
{
	be->complete = fn;
	be->ctx = ctx;
}

bool block_has_room(const struct block_backend *be, unsigned ops)
{
	return be->depth - be->inflight >= ops;
}

static struct io_uring_sqe *new_op(struct block_backend *be, enum op_kind kind, uint64_t offset,
				   uint64_t len, void *tag, struct block_op **out)
{
	struct io_uring_sqe *sqe;

	if (!be->free_ops)
		return NULL;
	sqe = io_uring_get_sqe(&be->ring);
	if (!sqe) {
		block_submit(be);
		sqe = io_uring_get_sqe(&be->ring);
		if (!sqe)
			return NULL;
	}
	struct block_op *op = be->free_ops;
	be->free_ops = op->next_free;
	op->tag = tag;
	op->kind = kind;
	op->offset = offset;
	op->len = len;
	op->iov = NULL;
	op->niov = 0;
	be->inflight++;
	be->queued++;
	io_uring_sqe_set_data(sqe, op);
	*out = op;
	return sqe;
}

static bool iov_aligned(const struct block_backend *be, const struct iovec *iov, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if ((uintptr_t)iov[i].iov_base % be->align || iov[i].iov_len % be->logical_block_size)
			return false;
	return true;
}

static size_t iov_total(const struct iovec *iov, unsigned n)
{
	size_t t = 0;
	for (unsigned i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

/* For O_DIRECT with misaligned guest buffers: one aligned buffer instead. */
static int bounce(struct block_backend *be, struct block_op *op, const struct iovec *iov, unsigned n,
		  bool copy_in)
{
	size_t len = iov_total(iov, n), at = 0;

	free(op->bounce);
	op->bounce = NULL;
	if (posix_memalign(&op->bounce, be->align, len ? len : be->align))
		return -ENOMEM;
	for (unsigned i = 0; copy_in && i < n; i++) {
		memcpy((uint8_t *)op->bounce + at, iov[i].iov_base, iov[i].iov_len);
		at += iov[i].iov_len;
	}
	op->iov = iov;
	op->niov = n;
	op->len = len;
	return 0;
}

static void release(struct block_backend *be, struct block_op *op)
{
	free(op->bounce);
	op->bounce = NULL;
	op->next_free = be->free_ops;
	be->free_ops = op;
	be->inflight--;
}

/* Undoes new_op() when the request cannot be prepared after all. */
static int abandon(struct block_backend *be, struct io_uring_sqe *sqe, struct block_op *op, int error)
{
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data(sqe, NULL);
	release(be, op);
	return error;
}

/* Every request names the image as fixed file 0 when it is registered. */
static int image_fd(const struct block_backend *be)
{
	return be->fixed_file ? 0 : be->fd;
}

static void set_flags(const struct block_backend *be, struct io_uring_sqe *sqe, unsigned flags)
{
	io_uring_sqe_set_flags(sqe, flags | (be->fixed_file ? IOSQE_FIXED_FILE : 0));
}

static int rw(struct block_backend *be, enum op_kind kind, uint64_t offset, const struct iovec *iov,
	      unsigned n, void *tag)
{
	struct block_op *op;
	struct io_uring_sqe *sqe = new_op(be, kind, offset, iov_total(iov, n), tag, &op);

	if (!sqe)
		return -EAGAIN;
	bool misaligned = be->align > 1 && !iov_aligned(be, iov, n);
	if (misaligned) {
		if (bounce(be, op, iov, n, kind == OP_WRITE) < 0)
			return abandon(be, sqe, op, -ENOMEM);
		io_uring_prep_rw(kind == OP_READ ? IORING_OP_READ : IORING_OP_WRITE, sqe, image_fd(be),
				 op->bounce, (unsigned)op->len, offset);
	} else if (kind == OP_READ) {
		io_uring_prep_readv(sqe, image_fd(be), iov, n, offset);
	} else {
		io_uring_prep_writev(sqe, image_fd(be), iov, n, offset);
	}
	if (kind == OP_WRITE && !be->write_cache)
		sqe->rw_flags = RWF_DSYNC;
	set_flags(be, sqe, 0);
	return 0;
}

int block_read(struct block_backend *be, uint64_t offset, const struct iovec *iov, unsigned n, void *tag)
{
	return rw(be, OP_READ, offset, iov, n, tag);
}

int block_write(struct block_backend *be, uint64_t offset, const struct iovec *iov, unsigned n, void *tag)
{
	if (be->readonly)
		return -EROFS;
	return rw(be, OP_WRITE, offset, iov, n, tag);
}

int block_flush(struct block_backend *be, void *tag)
{
	struct block_op *op;
	struct io_uring_sqe *sqe = new_op(be, OP_FLUSH, 0, 0, tag, &op);

	if (!sqe)
		return -EAGAIN;
	if (be->cache == BLOCK_CACHE_UNSAFE) {
		io_uring_prep_nop(sqe);
		return 0;
	}
	io_uring_prep_fsync(sqe, image_fd(be), IORING_FSYNC_DATASYNC);
	set_flags(be, sqe, IOSQE_IO_DRAIN);
	return 0;
}

static int deallocate(struct block_backend *be, enum op_kind kind, int mode, uint64_t offset,
		      uint64_t len, void *tag)
{
	struct block_op *op;

	if (be->readonly)
		return -EROFS;
	struct io_uring_sqe *sqe = new_op(be, kind, offset, len, tag, &op);
	if (!sqe)
		return -EAGAIN;
	io_uring_prep_fallocate(sqe, image_fd(be), mode | FALLOC_FL_KEEP_SIZE, offset, len);
	set_flags(be, sqe, 0);
	return 0;
}

int block_discard(struct block_backend *be, uint64_t offset, uint64_t len, void *tag)
{
	return deallocate(be, OP_DISCARD, FALLOC_FL_PUNCH_HOLE, offset, len, tag);
}

int block_write_zeroes(struct block_backend *be, uint64_t offset, uint64_t len, bool unmap, void *tag)
{
	if (unmap)
		return deallocate(be, OP_DISCARD, FALLOC_FL_PUNCH_HOLE, offset, len, tag);
	return deallocate(be, OP_ZERO_RANGE, FALLOC_FL_ZERO_RANGE, offset, len, tag);
}

static void copy_back(struct block_op *op)
{
	size_t at = 0;
	for (unsigned i = 0; i < op->niov; at += op->iov[i].iov_len, i++)
		memcpy(op->iov[i].iov_base, (uint8_t *)op->bounce + at, op->iov[i].iov_len);
}

/* A file system without FALLOC_FL_ZERO_RANGE can still punch a hole, which reads as zeroes. */
static bool retry_as_hole(struct block_backend *be, struct block_op *op, int res)
{
	if (op->kind != OP_ZERO_RANGE || res != -EOPNOTSUPP)
		return false;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&be->ring);
	if (!sqe)
		return false;
	op->kind = OP_DISCARD;
	io_uring_prep_fallocate(sqe, image_fd(be), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, op->offset, op->len);
	set_flags(be, sqe, 0);
	io_uring_sqe_set_data(sqe, op);
	be->queued++;
	return true;
}

static unsigned reap_ready(struct block_backend *be)
{
	struct io_uring_cqe *cqe;
	unsigned count = 0, head;

	io_uring_for_each_cqe(&be->ring, head, cqe) {
		struct block_op *op = io_uring_cqe_get_data(cqe);
		int res = cqe->res;
		count++;
		if (!op || retry_as_hole(be, op, res))
			continue;
		/* A short read or write would leave guest data half done: report it. */
		if (res >= 0 && (op->kind == OP_READ || op->kind == OP_WRITE) && (uint64_t)res != op->len)
			res = -EIO;
		if (res >= 0 && op->bounce && op->kind == OP_READ)
			copy_back(op);
		void *tag = op->tag;
		release(be, op);
		be->complete(be->ctx, tag, res);
	}
	io_uring_cq_advance(&be->ring, count);
	return count;
}

void block_submit(struct block_backend *be)
{
	while (be->queued) {
		io_uring_submit(&be->ring);
		be->queued = 0;
		/* Requests served from the page cache are done already: finish
		 * them now rather than after another trip through epoll. */
		if (io_uring_cq_ready(&be->ring))
			reap_ready(be);
	}
}

unsigned block_reap(struct block_backend *be)
{
	uint64_t ignored;

	if (read(be->event_fd, &ignored, sizeof(ignored)) < 0 && errno != EAGAIN)
		return 0;
	unsigned count = reap_ready(be);
	block_submit(be);
	return count;
}
