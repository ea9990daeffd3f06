/*
 * The thread-pool block engine (QEMU's aio=threads), for hosts where
 * io_uring is disabled or missing: a few worker threads run preadv,
 * pwritev, fdatasync and fallocate from a FIFO queue and hand completions
 * back through an eventfd. A flush is a barrier, as IOSQE_IO_DRAIN is for
 * io_uring: it starts when everything queued before it has finished, and
 * nothing queued after it starts before it is done.
 */
#include "block.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define WORKERS 4

enum op_kind { OP_READ, OP_WRITE, OP_FLUSH, OP_DISCARD, OP_ZERO_RANGE };

struct thread_op {
	void *tag;
	enum op_kind kind;
	uint64_t offset, len;
	const struct iovec *iov;
	unsigned niov;
	void *bounce;
	int result;
	struct thread_op *next;
};

struct op_list {
	struct thread_op *head, *tail;
};

struct threads_disk {
	struct block_engine e;         /* first: the shared ops take it (block_file.h) */
	pthread_mutex_t lock;
	pthread_cond_t work;           /* something to start, or stop */
	pthread_cond_t finished;       /* an op joined the done list */
	struct op_list pending;        /* queued, not started; FIFO */
	struct op_list done;           /* finished, waiting for reap() */
	unsigned running;              /* started, not finished */
	bool flushing;                 /* a flush runs: nothing else may start */
	bool stop;
	pthread_t workers[WORKERS];
	unsigned nr_workers;
	void (*thread_start)(void);
	struct op_list staged;         /* queued since the last submit() (device thread only) */
	struct thread_op *ops, *free_ops;
};

static void list_append(struct op_list *l, struct thread_op *op)
{
	op->next = NULL;
	if (l->tail)
		l->tail->next = op;
	else
		l->head = op;
	l->tail = op;
}

static void list_splice(struct op_list *dst, struct op_list *src)
{
	if (!src->head)
		return;
	if (dst->tail)
		dst->tail->next = src->head;
	else
		dst->head = src->head;
	dst->tail = src->tail;
	*src = (struct op_list){ 0 };
}

static struct thread_op *list_pop(struct op_list *l)
{
	struct thread_op *op = l->head;
	if (op) {
		l->head = op->next;
		if (!l->head)
			l->tail = NULL;
	}
	return op;
}

static int do_rw(struct threads_disk *d, struct thread_op *op)
{
	struct iovec bounced = { op->bounce, op->len };
	const struct iovec *iov = op->bounce ? &bounced : op->iov;
	int n = op->bounce ? 1 : (int)op->niov;
	ssize_t r = op->kind == OP_READ ? preadv(d->e.file.fd, iov, n, (off_t)op->offset)
					: pwritev2(d->e.file.fd, iov, n, (off_t)op->offset,
						   block_file_writes_sync(&d->e.file) ? RWF_DSYNC : 0);

	if (r < 0)
		return -errno;
	/* A short transfer would leave guest data half done: report it. */
	if ((uint64_t)r != op->len)
		return -EIO;
	if (op->bounce && op->kind == OP_READ)
		block_bounce_copy_out(op->bounce, op->iov, op->niov);
	return 0;
}

/* With the write cache off, durable before it completes. */
static int deallocate(struct threads_disk *d, int mode, struct thread_op *op)
{
	if (fallocate(d->e.file.fd, mode | FALLOC_FL_KEEP_SIZE, (off_t)op->offset, (off_t)op->len) == 0)
		return block_file_writes_sync(&d->e.file) && fdatasync(d->e.file.fd) < 0 ? -errno : 0;
	/* Without FALLOC_FL_ZERO_RANGE a punched hole still reads as zeroes. */
	if (errno == EOPNOTSUPP && mode == FALLOC_FL_ZERO_RANGE)
		return deallocate(d, FALLOC_FL_PUNCH_HOLE, op);
	return -errno;
}

static int run_op(struct threads_disk *d, struct thread_op *op)
{
	switch (op->kind) {
	case OP_READ:
	case OP_WRITE:
		return do_rw(d, op);
	case OP_FLUSH:
		if (d->e.file.cache == BLOCK_CACHE_UNSAFE)
			return 0;
		return fdatasync(d->e.file.fd) < 0 ? -errno : 0;
	case OP_DISCARD:
		return deallocate(d, FALLOC_FL_PUNCH_HOLE, op);
	case OP_ZERO_RANGE:
		return deallocate(d, FALLOC_FL_ZERO_RANGE, op);
	}
	return -EINVAL;
}

/* The next op a worker may start: a flush only when nothing else runs, and nothing beside a flush. */
static struct thread_op *next_op(struct threads_disk *d)
{
	struct thread_op *op = d->pending.head;

	if (!op || d->flushing || (op->kind == OP_FLUSH && d->running))
		return NULL;
	d->flushing = op->kind == OP_FLUSH;
	return list_pop(&d->pending);
}

static void *worker(void *arg)
{
	struct threads_disk *d = arg;
	struct thread_op *op = NULL;
	uint64_t one = 1;

	if (d->thread_start)
		d->thread_start();
	pthread_mutex_lock(&d->lock);
	for (;;) {
		while (!d->stop && !(op = next_op(d)))
			pthread_cond_wait(&d->work, &d->lock);
		if (d->stop)
			break;
		d->running++;
		pthread_mutex_unlock(&d->lock);
		op->result = run_op(d, op);
		pthread_mutex_lock(&d->lock);
		d->running--;
		if (op->kind == OP_FLUSH)
			d->flushing = false;
		list_append(&d->done, op);
		pthread_cond_broadcast(&d->finished);
		/* A flush that waited for this one, or the work behind a finished flush. */
		if (!d->running)
			pthread_cond_broadcast(&d->work);
		if (write(d->e.event_fd, &one, sizeof(one)) < 0)
			break;
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

static int queue(struct threads_disk *d, enum op_kind kind, uint64_t offset, uint64_t len, const struct iovec *iov,
		 unsigned n, void *tag)
{
	struct thread_op *op = d->free_ops;

	if (!op)
		return -EAGAIN;
	void *bounce = NULL;
	if ((kind == OP_READ || kind == OP_WRITE) && !block_file_iov_aligned(&d->e.file, iov, n)) {
		bounce = block_bounce_alloc(&d->e, iov, n, kind == OP_WRITE);
		if (!bounce)
			return -errno;
	}
	d->free_ops = op->next;
	*op = (struct thread_op){ .tag = tag, .kind = kind, .offset = offset, .len = len, .iov = iov, .niov = n,
				  .bounce = bounce };
	d->e.inflight++;
	list_append(&d->staged, op);
	return 0;
}

static int threads_read(void *ctx, uint64_t offset, const struct iovec *iov, unsigned n, void *tag)
{
	return queue(ctx, OP_READ, offset, iov_total(iov, n), iov, n, tag);
}

static int threads_write(void *ctx, uint64_t offset, const struct iovec *iov, unsigned n, void *tag)
{
	struct threads_disk *d = ctx;

	if (d->e.file.readonly)
		return -EROFS;
	return queue(d, OP_WRITE, offset, iov_total(iov, n), iov, n, tag);
}

static int threads_flush(void *ctx, void *tag)
{
	return queue(ctx, OP_FLUSH, 0, 0, NULL, 0, tag);
}

static int threads_discard(void *ctx, uint64_t offset, uint64_t len, void *tag)
{
	struct threads_disk *d = ctx;

	if (d->e.file.readonly)
		return -EROFS;
	return queue(d, OP_DISCARD, offset, len, NULL, 0, tag);
}

static int threads_write_zeroes(void *ctx, uint64_t offset, uint64_t len, bool unmap, void *tag)
{
	struct threads_disk *d = ctx;

	if (d->e.file.readonly)
		return -EROFS;
	return queue(d, unmap ? OP_DISCARD : OP_ZERO_RANGE, offset, len, NULL, 0, tag);
}

static void threads_submit(void *ctx)
{
	struct threads_disk *d = ctx;

	if (!d->staged.head)
		return;
	pthread_mutex_lock(&d->lock);
	list_splice(&d->pending, &d->staged);
	pthread_cond_broadcast(&d->work);
	pthread_mutex_unlock(&d->lock);
}

static unsigned threads_reap(void *ctx)
{
	struct threads_disk *d = ctx;
	uint64_t ignored;
	unsigned count = 0;

	if (read(d->e.event_fd, &ignored, sizeof(ignored)) < 0 && errno != EAGAIN)
		return 0;
	pthread_mutex_lock(&d->lock);
	struct op_list done = d->done;
	d->done = (struct op_list){ 0 };
	pthread_mutex_unlock(&d->lock);
	for (struct thread_op *op; (op = list_pop(&done)); count++) {
		void *tag = op->tag;
		int result = op->result;
		block_bounce_free(&d->e, op->bounce, op->len);
		op->bounce = NULL;
		op->next = d->free_ops;
		d->free_ops = op;
		d->e.inflight--;
		d->e.complete(d->e.device, tag, result);
	}
	return count;
}


static void threads_drain(void *ctx)
{
	struct threads_disk *d = ctx;

	threads_submit(d);
	while (d->e.inflight) {
		pthread_mutex_lock(&d->lock);
		while (!d->done.head)
			pthread_cond_wait(&d->finished, &d->lock);
		pthread_mutex_unlock(&d->lock);
		threads_reap(d);
	}
}

/* Turning the write cache off makes what was written before durable (the device drained first). */
static void threads_set_write_cache(void *ctx, bool on)
{
	struct threads_disk *d = ctx;

	pthread_mutex_lock(&d->lock);
	if (!on && d->e.file.write_cache && d->e.file.cache != BLOCK_CACHE_UNSAFE)
		fdatasync(d->e.file.fd);
	d->e.file.write_cache = on;
	pthread_mutex_unlock(&d->lock);
}



static void threads_close(void *ctx)
{
	struct threads_disk *d = ctx;

	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_broadcast(&d->work);
	pthread_mutex_unlock(&d->lock);
	for (unsigned i = 0; i < d->nr_workers; i++)
		pthread_join(d->workers[i], NULL);
	for (unsigned i = 0; d->ops && i < d->e.depth; i++)
		block_bounce_free(&d->e, d->ops[i].bounce, d->ops[i].len);
	free(d->ops);
	if (d->e.event_fd >= 0)
		close(d->e.event_fd);
	block_file_close(&d->e.file);
	pthread_cond_destroy(&d->work);
	pthread_cond_destroy(&d->finished);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static const struct block_backend_ops threads_ops = {
	.read = threads_read,
	.write = threads_write,
	.flush = threads_flush,
	.discard = threads_discard,
	.write_zeroes = threads_write_zeroes,
	.submit = threads_submit,
	.reap = threads_reap,
	.drain = threads_drain,
	.has_room = block_engine_has_room,
	.set_write_cache = threads_set_write_cache,
	.watch = block_engine_watch,
	.set_completion = block_engine_set_completion,
	.close = threads_close,
};

static int start(struct threads_disk *d, unsigned depth, struct vmm_error *err)
{
	d->e.event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->e.depth = depth;
	d->ops = calloc(depth, sizeof(*d->ops));
	if (d->e.event_fd < 0 || !d->ops)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot set up the disk's worker threads");
	for (unsigned i = 0; i < depth; i++) {
		d->ops[i].next = d->free_ops;
		d->free_ops = &d->ops[i];
	}
	for (; d->nr_workers < WORKERS; d->nr_workers++)
		if (pthread_create(&d->workers[d->nr_workers], NULL, worker, d))
			return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot start the disk's worker threads");
	return 0;
}

int block_threads_open(struct block_backend *be, const struct block_options *o, struct vmm_error *err)
{
	struct threads_disk *d = calloc(1, sizeof(*d));

	if (!d)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "out of memory");
	d->e.event_fd = -1;
	d->thread_start = o->thread_start;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->work, NULL);
	pthread_cond_init(&d->finished, NULL);
	if (block_file_open(&d->e.file, o, err) < 0 || start(d, o->depth, err) < 0) {
		threads_close(d);
		return -1;
	}
	*be = (struct block_backend){ &threads_ops, d, d->e.file.size, d->e.file.readonly, d->e.file.write_cache,
				      d->e.file.logical_block_size };
	return 0;
}
