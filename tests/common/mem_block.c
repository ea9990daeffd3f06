/* The in-memory block backend of the device tests and fuzzers; see mem_block.h. */
#include "mem_block.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct mem_block_op {
	enum mem_block_kind kind;
	uint64_t offset, len;
	const struct iovec *iov;
	unsigned niov;
	void *tag;
	bool busy;
	struct mem_block_op *next;
};

static struct mem_block_op *take_slot(struct mem_block *m)
{
	for (unsigned i = 0; i < m->depth; i++)
		if (!m->ops[i].busy)
			return &m->ops[i];
	return NULL;
}

static void append(struct mem_block_op **list, struct mem_block_op *op)
{
	while (*list)
		list = &(*list)->next;
	op->next = NULL;
	*list = op;
}

static int queue(struct mem_block *m, enum mem_block_kind kind, uint64_t offset, uint64_t len,
		 const struct iovec *iov, unsigned n, void *tag)
{
	struct mem_block_op *op = take_slot(m);

	if (!op)
		return -EAGAIN;
	if (m->readonly && kind != MEM_READ && kind != MEM_FLUSH)
		return -EROFS;
	*op = (struct mem_block_op){ kind, offset, len, iov, n, tag, true, NULL };
	m->inflight++;
	append(&m->queued, op);
	return 0;
}

static size_t iov_len(const struct iovec *iov, unsigned n)
{
	size_t t = 0;
	for (unsigned i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

static int mb_read(void *ctx, uint64_t offset, const struct iovec *iov, unsigned n, void *tag)
{
	struct mem_block *m = ctx;
	if (m->full && m->inflight)
		return -EAGAIN;
	return queue(m, MEM_READ, offset, iov_len(iov, n), iov, n, tag);
}

static int mb_write(void *ctx, uint64_t offset, const struct iovec *iov, unsigned n, void *tag)
{
	struct mem_block *m = ctx;
	if (m->full && m->inflight)
		return -EAGAIN;
	return queue(m, MEM_WRITE, offset, iov_len(iov, n), iov, n, tag);
}

static int mb_flush(void *ctx, void *tag)
{
	return queue(ctx, MEM_FLUSH, 0, 0, NULL, 0, tag);
}

static int mb_discard(void *ctx, uint64_t offset, uint64_t len, void *tag)
{
	return queue(ctx, MEM_DISCARD, offset, len, NULL, 0, tag);
}

static int mb_write_zeroes(void *ctx, uint64_t offset, uint64_t len, bool unmap, void *tag)
{
	struct mem_block *m = ctx;
	int r = queue(m, MEM_ZEROES, offset, len, NULL, 0, tag);

	if (r == 0 && unmap)
		m->zeroes_unmap++;
	return r;
}

/* Carries an operation out now; out of range is an I/O error, as on a file. */
static int carry_out(struct mem_block *m, const struct mem_block_op *op)
{
	if (op->offset > m->size || op->len > m->size - op->offset)
		return -EIO;
	uint8_t *disk = m->data + op->offset;
	switch (op->kind) {
	case MEM_READ:
	case MEM_WRITE:
		for (unsigned i = 0; i < op->niov; disk += op->iov[i].iov_len, i++)
			memcpy(op->kind == MEM_READ ? op->iov[i].iov_base : disk,
			       op->kind == MEM_READ ? disk : op->iov[i].iov_base, op->iov[i].iov_len);
		break;
	case MEM_DISCARD:
	case MEM_ZEROES:
		memset(disk, 0, op->len);
		break;
	case MEM_FLUSH:
		m->flushes++;
		break;
	}
	return 0;
}

unsigned mem_block_complete(struct mem_block *m, unsigned n)
{
	unsigned done = 0;

	for (; done < n && m->submitted; done++) {
		struct mem_block_op *op = m->submitted;
		m->submitted = op->next;
		int result = carry_out(m, op);
		if (m->nr_log < MEM_BLOCK_LOG)
			m->log[m->nr_log++] = op->kind;
		void *tag = op->tag;
		op->busy = false;
		m->inflight--;
		m->complete(m->device, tag, result);
	}
	return done;
}

static void mb_submit(void *ctx)
{
	struct mem_block *m = ctx;

	while (m->queued) {
		struct mem_block_op *op = m->queued;
		m->queued = op->next;
		append(&m->submitted, op);
	}
	if (m->during_submit)
		m->during_submit(m->during_submit_arg);
	if (!m->hold)
		mem_block_complete(m, m->depth);
}

static unsigned mb_reap(void *ctx)
{
	struct mem_block *m = ctx;

	if (!m->hold)
		return mem_block_complete(m, m->depth);
	unsigned n = mem_block_complete(m, m->reap_budget);
	m->reap_budget -= n;
	return n;
}

static void mb_drain(void *ctx)
{
	struct mem_block *m = ctx;

	mb_submit(m);
	mem_block_complete(m, m->depth);
	m->drains++;
}

static bool mb_has_room(void *ctx, unsigned ops)
{
	struct mem_block *m = ctx;
	return m->depth - m->inflight >= ops;
}

static void mb_set_write_cache(void *ctx, bool on)
{
	struct mem_block *m = ctx;
	m->write_cache = on;
}

static int mb_watch(void *ctx, struct event_loop *loop, event_fn *ready, void *arg)
{
	(void)ctx;
	(void)loop;
	(void)ready;
	(void)arg;
	return 0;
}

static void mb_set_completion(void *ctx, block_complete_fn *fn, void *device)
{
	struct mem_block *m = ctx;
	m->complete = fn;
	m->device = device;
}

static void mb_close(void *ctx)
{
	mem_block_free(ctx);
}

static const struct block_backend_ops mem_block_ops = {
	.read = mb_read, .write = mb_write, .flush = mb_flush, .discard = mb_discard,
	.write_zeroes = mb_write_zeroes, .submit = mb_submit, .reap = mb_reap, .drain = mb_drain,
	.has_room = mb_has_room,
	.set_write_cache = mb_set_write_cache, .watch = mb_watch, .set_completion = mb_set_completion,
	.close = mb_close,
};

void mem_block_init(struct mem_block *m, struct block_backend *be, uint64_t size, unsigned depth, bool readonly)
{
	memset(m, 0, sizeof(*m));
	m->data = calloc(1, size);
	m->ops = calloc(depth, sizeof(*m->ops));
	m->size = size;
	m->depth = depth;
	m->readonly = readonly;
	m->write_cache = true;
	*be = (struct block_backend){ &mem_block_ops, m, size, readonly, true, 512 };
}

void mem_block_free(struct mem_block *m)
{
	free(m->data);
	free(m->ops);
	m->data = NULL;
	m->ops = NULL;
}
