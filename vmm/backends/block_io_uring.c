/*
 * The io_uring block engine. Reads and writes go straight between the
 * image and guest memory (the iovecs point into guest RAM); only an
 * O_DIRECT request whose buffers are not aligned for the device goes
 * through a bounce buffer. Requests are prepared as they come and sent in
 * one io_uring_submit() per batch. Flushes are fdatasync with
 * IOSQE_IO_DRAIN, so the kernel starts one only after every earlier request
 * has completed: a flush covers all writes the guest saw complete before
 * it, and more. With the write cache off, writes carry RWF_DSYNC.
 */
#include "block.h"

#include <errno.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* OP_SYNC: the fdatasync that makes a deallocation durable when the write cache is off. */
enum op_kind { OP_READ, OP_WRITE, OP_FLUSH, OP_DISCARD, OP_ZERO_RANGE, OP_SYNC };

struct uring_op {
	void *tag;
	enum op_kind kind;
	uint64_t offset, len;
	void *bounce;                  /* O_DIRECT copy, or NULL */
	const struct iovec *iov;       /* guest buffers, for copying a bounced read back */
	unsigned niov;
	struct uring_op *next_free;
};

struct uring_disk {
	struct block_engine e;         /* first: the shared ops take it (block_file.h) */
	struct io_uring ring;
	bool ring_ready;
	bool fixed_file;               /* the image is registered with the ring */
	unsigned queued;               /* prepared but not yet submitted */
	struct uring_op *ops;
	struct uring_op *free_ops;
};

static struct io_uring_sqe *new_op(struct uring_disk *d, enum op_kind kind, uint64_t offset, uint64_t len,
				   void *tag, struct uring_op **out);


static void release(struct uring_disk *d, struct uring_op *op)
{
	block_bounce_free(&d->e, op->bounce, op->len);
	op->bounce = NULL;
	op->next_free = d->free_ops;
	d->free_ops = op;
	d->e.inflight--;
}

/* Undoes new_op() when the request cannot be prepared after all. */
static int abandon(struct uring_disk *d, struct io_uring_sqe *sqe, struct uring_op *op, int error)
{
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data(sqe, NULL);
	release(d, op);
	return error;
}

/* Every request names the image as fixed file 0 when it is registered. */
static int image_fd(const struct uring_disk *d)
{
	return d->fixed_file ? 0 : d->e.file.fd;
}

static void set_flags(const struct uring_disk *d, struct io_uring_sqe *sqe, unsigned flags)
{
	io_uring_sqe_set_flags(sqe, flags | (d->fixed_file ? IOSQE_FIXED_FILE : 0));
}

static int rw(struct uring_disk *d, enum op_kind kind, uint64_t offset, const struct iovec *iov, unsigned n,
	      void *tag)
{
	struct uring_op *op;
	struct io_uring_sqe *sqe = new_op(d, kind, offset, iov_total(iov, n), tag, &op);

	if (!sqe)
		return -EAGAIN;
	if (!block_file_iov_aligned(&d->e.file, iov, n)) {
		op->bounce = block_bounce_alloc(&d->e, iov, n, kind == OP_WRITE);
		if (!op->bounce)
			return abandon(d, sqe, op, -errno);
		op->iov = iov;
		op->niov = n;
		io_uring_prep_rw(kind == OP_READ ? IORING_OP_READ : IORING_OP_WRITE, sqe, image_fd(d), op->bounce,
				 (unsigned)op->len, offset);
	} else if (kind == OP_READ) {
		io_uring_prep_readv(sqe, image_fd(d), iov, n, offset);
	} else {
		io_uring_prep_writev(sqe, image_fd(d), iov, n, offset);
	}
	if (kind == OP_WRITE && block_file_writes_sync(&d->e.file))
		sqe->rw_flags = RWF_DSYNC;
	set_flags(d, sqe, 0);
	return 0;
}

static int uring_read(void *ctx, uint64_t offset, const struct iovec *iov, unsigned n, void *tag)
{
	return rw(ctx, OP_READ, offset, iov, n, tag);
}

static int uring_write(void *ctx, uint64_t offset, const struct iovec *iov, unsigned n, void *tag)
{
	struct uring_disk *d = ctx;

	if (d->e.file.readonly)
		return -EROFS;
	return rw(d, OP_WRITE, offset, iov, n, tag);
}

static int uring_flush(void *ctx, void *tag)
{
	struct uring_disk *d = ctx;
	struct uring_op *op;
	struct io_uring_sqe *sqe = new_op(d, OP_FLUSH, 0, 0, tag, &op);

	if (!sqe)
		return -EAGAIN;
	if (d->e.file.cache == BLOCK_CACHE_UNSAFE) {
		io_uring_prep_nop(sqe);
		return 0;
	}
	io_uring_prep_fsync(sqe, image_fd(d), IORING_FSYNC_DATASYNC);
	set_flags(d, sqe, IOSQE_IO_DRAIN);
	return 0;
}

static int deallocate(struct uring_disk *d, enum op_kind kind, int mode, uint64_t offset, uint64_t len, void *tag)
{
	struct uring_op *op;

	if (d->e.file.readonly)
		return -EROFS;
	struct io_uring_sqe *sqe = new_op(d, kind, offset, len, tag, &op);
	if (!sqe)
		return -EAGAIN;
	io_uring_prep_fallocate(sqe, image_fd(d), mode | FALLOC_FL_KEEP_SIZE, offset, len);
	set_flags(d, sqe, 0);
	return 0;
}

static int uring_discard(void *ctx, uint64_t offset, uint64_t len, void *tag)
{
	return deallocate(ctx, OP_DISCARD, FALLOC_FL_PUNCH_HOLE, offset, len, tag);
}

static int uring_write_zeroes(void *ctx, uint64_t offset, uint64_t len, bool unmap, void *tag)
{
	if (unmap)
		return deallocate(ctx, OP_DISCARD, FALLOC_FL_PUNCH_HOLE, offset, len, tag);
	return deallocate(ctx, OP_ZERO_RANGE, FALLOC_FL_ZERO_RANGE, offset, len, tag);
}

/* Puts op back on the ring as something else; false if the ring is full. */
static bool resubmit(struct uring_disk *d, struct uring_op *op, enum op_kind kind)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&d->ring);

	if (!sqe)
		return false;
	op->kind = kind;
	if (kind == OP_SYNC)
		io_uring_prep_fsync(sqe, image_fd(d), IORING_FSYNC_DATASYNC);
	else
		io_uring_prep_fallocate(sqe, image_fd(d), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, op->offset,
					op->len);
	set_flags(d, sqe, 0);
	io_uring_sqe_set_data(sqe, op);
	d->queued++;
	return true;
}

/*
 * A deallocation needs a second step: a file system without
 * FALLOC_FL_ZERO_RANGE can still punch a hole (which reads as zeroes), and
 * with the write cache off the result must be durable before it completes.
 */
static bool needs_second_step(struct uring_disk *d, struct uring_op *op, int res)
{
	if (op->kind == OP_ZERO_RANGE && res == -EOPNOTSUPP)
		return resubmit(d, op, OP_DISCARD);
	if ((op->kind == OP_DISCARD || op->kind == OP_ZERO_RANGE) && res >= 0 && block_file_writes_sync(&d->e.file))
		return resubmit(d, op, OP_SYNC);
	return false;
}

static unsigned reap_ready(struct uring_disk *d)
{
	struct io_uring_cqe *cqe;
	unsigned count = 0, head;

	io_uring_for_each_cqe(&d->ring, head, cqe) {
		struct uring_op *op = io_uring_cqe_get_data(cqe);
		int res = cqe->res;
		count++;
		if (!op || needs_second_step(d, op, res))
			continue;
		/* A short read or write would leave guest data half done: report it. */
		if (res >= 0 && (op->kind == OP_READ || op->kind == OP_WRITE) && (uint64_t)res != op->len)
			res = -EIO;
		if (res >= 0 && op->bounce && op->kind == OP_READ)
			block_bounce_copy_out(op->bounce, op->iov, op->niov);
		void *tag = op->tag;
		release(d, op);
		d->e.complete(d->e.device, tag, res < 0 ? res : 0);
	}
	io_uring_cq_advance(&d->ring, count);
	return count;
}

static void uring_submit(void *ctx)
{
	struct uring_disk *d = ctx;

	while (d->queued) {
		io_uring_submit(&d->ring);
		d->queued = 0;
		/* Requests served from the page cache are done already: finish
		 * them now rather than after another trip through epoll. */
		if (io_uring_cq_ready(&d->ring))
			reap_ready(d);
	}
}

static struct io_uring_sqe *new_op(struct uring_disk *d, enum op_kind kind, uint64_t offset, uint64_t len,
				   void *tag, struct uring_op **out)
{
	struct io_uring_sqe *sqe;

	if (!d->free_ops)
		return NULL;
	sqe = io_uring_get_sqe(&d->ring);
	if (!sqe) {
		uring_submit(d);
		sqe = io_uring_get_sqe(&d->ring);
		if (!sqe)
			return NULL;
	}
	struct uring_op *op = d->free_ops;
	d->free_ops = op->next_free;
	*op = (struct uring_op){ .tag = tag, .kind = kind, .offset = offset, .len = len };
	d->e.inflight++;
	d->queued++;
	io_uring_sqe_set_data(sqe, op);
	*out = op;
	return sqe;
}

static unsigned uring_reap(void *ctx)
{
	struct uring_disk *d = ctx;
	uint64_t ignored;

	if (read(d->e.event_fd, &ignored, sizeof(ignored)) < 0 && errno != EAGAIN)
		return 0;
	unsigned count = reap_ready(d);
	uring_submit(d);
	return count;
}

static void uring_drain(void *ctx)
{
	struct uring_disk *d = ctx;
	struct io_uring_cqe *cqe;

	uring_submit(d);
	while (d->e.inflight && io_uring_wait_cqe(&d->ring, &cqe) == 0) {
		reap_ready(d);
		uring_submit(d);
	}
}

/* Turning the write cache off makes what was written before durable (the device drained first). */
static void uring_set_write_cache(void *ctx, bool on)
{
	struct uring_disk *d = ctx;

	if (!on && d->e.file.write_cache && d->e.file.cache != BLOCK_CACHE_UNSAFE)
		fdatasync(d->e.file.fd);
	d->e.file.write_cache = on;
}



static void uring_close(void *ctx)
{
	struct uring_disk *d = ctx;

	/* The ring's teardown is asynchronous: without this the registered
	 * file, and with it the image's lock, would outlive close(). */
	if (d->fixed_file)
		io_uring_unregister_files(&d->ring);
	if (d->ring_ready)
		io_uring_queue_exit(&d->ring);
	for (unsigned i = 0; d->ops && i < d->e.depth; i++)
		block_bounce_free(&d->e, d->ops[i].bounce, d->ops[i].len);
	free(d->ops);
	if (d->e.event_fd >= 0)
		close(d->e.event_fd);
	block_file_close(&d->e.file);
	free(d);
}

static const struct block_backend_ops uring_ops = {
	.read = uring_read,
	.write = uring_write,
	.flush = uring_flush,
	.discard = uring_discard,
	.write_zeroes = uring_write_zeroes,
	.submit = uring_submit,
	.reap = uring_reap,
	.drain = uring_drain,
	.has_room = block_engine_has_room,
	.set_write_cache = uring_set_write_cache,
	.watch = block_engine_watch,
	.set_completion = block_engine_set_completion,
	.close = uring_close,
};

static int setup_ring(struct uring_disk *d, unsigned depth, struct vmm_error *err)
{
	int r = io_uring_queue_init(depth, &d->ring, 0);

	if (r < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "io_uring_queue_init: %s%s", strerror(-r),
				r == -ENOSYS || r == -EPERM ? " (io_uring is disabled here: try --disk ...,aio=threads)" : "");
	d->ring_ready = true;
	/* A registered file saves a file-table lookup per request. */
	d->fixed_file = io_uring_register_files(&d->ring, &d->e.file.fd, 1) == 0;
	d->e.event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->e.event_fd < 0 || io_uring_register_eventfd(&d->ring, d->e.event_fd) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot attach an eventfd to io_uring");
	d->e.depth = depth;
	d->ops = calloc(depth, sizeof(*d->ops));
	if (!d->ops)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "out of memory");
	for (unsigned i = 0; i < depth; i++) {
		d->ops[i].next_free = d->free_ops;
		d->free_ops = &d->ops[i];
	}
	return 0;
}

int block_io_uring_open(struct block_backend *be, const struct block_options *o, struct vmm_error *err)
{
	struct uring_disk *d = calloc(1, sizeof(*d));

	if (!d)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "out of memory");
	d->e.event_fd = -1;
	if (block_file_open(&d->e.file, o, err) < 0 || setup_ring(d, o->depth, err) < 0) {
		uring_close(d);
		return -1;
	}
	*be = (struct block_backend){ &uring_ops, d, d->e.file.size, d->e.file.readonly, d->e.file.write_cache,
				      d->e.file.logical_block_size };
	return 0;
}
