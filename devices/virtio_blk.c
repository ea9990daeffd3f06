/*
 * virtio-blk (virtio 1.2, section 5.2). Each request is one descriptor
 * chain: a 16-byte header the device reads, data, and a status byte the
 * device writes last (5.2.6). Reads and writes are handed to the block
 * backend (block_backend.h) with iovecs that point into guest memory; the chain's
 * completion is pushed to the used ring from the I/O thread, and the driver
 * is interrupted once per batch of completions, subject to EVENT_IDX.
 * While a queue has enough requests in flight the device asks for no kicks
 * and looks at the ring itself when they complete, as NVMe's EventIdx does;
 * with fewer it asks for kicks again (2.7.10).
 *
 * Bad requests get the status the spec defines: VIRTIO_BLK_S_IOERR for
 * ranges beyond the disk, lengths that are not whole sectors, writes to a
 * read-only disk and malformed discard segments; VIRTIO_BLK_S_UNSUPP for
 * unknown types and flags. A chain with no byte for the status, or a ring
 * the driver corrupted, sets DEVICE_NEEDS_RESET.
 */
#include "virtio_blk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_TOPOLOGY 10
#define VIRTIO_BLK_F_CONFIG_WCE 11
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define WRITE_ZEROES_UNMAP 1
#define SECTOR_SHIFT 9
#define SECTOR_SIZE 512
#define HEADER_BYTES 16
/* size_max and seg_max: what a request may carry, enforced. seg_max * size_max
 * stays under the block backends' bounce budget (BLOCK_BOUNCE_MAX, 16 MiB). */
#define MAX_SEGMENT_BYTES (64u << 10)
#define MAX_SEGMENTS (VIRTQ_MAX_CHAIN - 2)   /* the header and status take two */
/* Discard and write-zeroes segments per request, and sectors per segment. */
#define MAX_RANGE_SEGMENTS 16
#define MAX_RANGE_SECTORS (1u << 22)

/* struct virtio_blk_config (5.2.4), little-endian like the host. */
struct blk_config {
	uint64_t capacity;
	uint32_t size_max;
	uint32_t seg_max;
	struct {
		uint16_t cylinders;
		uint8_t heads;
		uint8_t sectors;
	} geometry;
	uint32_t blk_size;
	struct {
		uint8_t physical_block_exp;
		uint8_t alignment_offset;
		uint16_t min_io_size;
		uint32_t opt_io_size;
	} topology;
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
} __attribute__((packed));

#define CONFIG_WRITEBACK_OFFSET 32

struct blk_range_segment {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

/* Requests come in chunks: a device holds as many as it has had in flight, not a ring's worth per queue. */
#define REQUEST_CHUNK 16

struct blk_request {
	struct virtio_blk *blk;
	unsigned queue;
	uint8_t *status;
	uint32_t used_len;
	unsigned pending;          /* backend operations still running */
	uint8_t result;
	struct virtq_chain chain;
	struct blk_request *next_free;
};

struct request_chunk {
	struct request_chunk *next;
	struct blk_request requests[REQUEST_CHUNK];
};

struct blk_queue_state {
	bool signal_pending;       /* used entries pushed since the last interrupt */
	bool kicks_held;           /* the driver rings no doorbell: look at the ring on completions */
	unsigned in_flight;        /* requests taken and not yet on the used ring */
};

struct virtio_blk {
	struct virtio_dev vdev;
	const struct block_backend *be;
	struct blk_config config;
	char serial[VIRTIO_BLK_ID_BYTES];
	struct request_chunk *chunks;      /* requests are allocated as they are needed */
	unsigned nr_requests, max_requests;
	struct blk_request *free_requests;
	struct blk_queue_state *queue_state;
	bool stalled;              /* a queue stopped for lack of backend room */
};

static void signal_queues(struct virtio_blk *blk)
{
	for (unsigned q = 0; q < blk->vdev.nr_queues; q++) {
		if (blk->queue_state[q].signal_pending) {
			blk->queue_state[q].signal_pending = false;
			virtio_signal_used(&blk->vdev, q);
		}
	}
}

static void free_request(struct virtio_blk *blk, struct blk_request *req)
{
	req->next_free = blk->free_requests;
	blk->free_requests = req;
}

static void finish(struct blk_request *req)
{
	struct virtio_blk *blk = req->blk;

	*req->status = req->result;
	virtq_push(&blk->vdev.queues[req->queue], req->chain.head, req->used_len);
	blk->queue_state[req->queue].signal_pending = true;
	blk->queue_state[req->queue].in_flight--;
	free_request(blk, req);
}

static void fail_request(struct blk_request *req, uint8_t status)
{
	req->result = status;
	req->used_len = 1;
	finish(req);
}

/* The backend finished one operation of req. */
static void backend_done(void *ctx, void *tag, int result)
{
	struct blk_request *req = tag;

	(void)ctx;
	if (result < 0)
		req->result = VIRTIO_BLK_S_IOERR;
	if (--req->pending == 0)
		finish(req);
}

/* Copies n bytes from the start of the readable buffers, then drops them from the chain. */
static bool take_out_bytes(struct virtq_chain *c, void *dst, size_t n)
{
	uint8_t *d = dst;
	unsigned i = 0;

	if (c->out_len < n)
		return false;
	while (n) {
		size_t k = c->iov[i].iov_len < n ? c->iov[i].iov_len : n;
		memcpy(d, c->iov[i].iov_base, k);
		d += k;
		n -= k;
		c->out_len -= k;
		c->iov[i].iov_base = (uint8_t *)c->iov[i].iov_base + k;
		c->iov[i].iov_len -= k;
		if (c->iov[i].iov_len == 0)
			i++;
	}
	memmove(c->iov, c->iov + i, (c->nr_out + c->nr_in - i) * sizeof(c->iov[0]));
	c->nr_out -= i;
	return true;
}

/* The last writable byte is the status; returns NULL if there is none. */
static uint8_t *take_status_byte(struct virtq_chain *c)
{
	if (c->in_len == 0)
		return NULL;
	struct iovec *last = &c->iov[c->nr_out + c->nr_in - 1];
	last->iov_len--;
	c->in_len--;
	uint8_t *status = (uint8_t *)last->iov_base + last->iov_len;
	if (last->iov_len == 0)
		c->nr_in--;
	return status;
}

static bool range_ok(const struct virtio_blk *blk, uint64_t sector, uint64_t bytes)
{
	uint64_t size = blk->be->size;
	return sector <= size >> SECTOR_SHIFT && bytes <= size - (sector << SECTOR_SHIFT);
}

/* Within seg_max and size_max (5.2.4), as the device promised the driver. */
static bool segments_ok(const struct iovec *iov, unsigned n)
{
	if (n > MAX_SEGMENTS)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (iov[i].iov_len > MAX_SEGMENT_BYTES)
			return false;
	return true;
}

/* Returns true when the backend has no room for it now: the request goes back to the ring. */
static bool submit_rw(struct blk_request *req, uint32_t type, uint64_t sector)
{
	struct virtio_blk *blk = req->blk;
	struct virtq_chain *c = &req->chain;
	bool is_read = type == VIRTIO_BLK_T_IN;
	uint64_t bytes = is_read ? c->in_len : c->out_len;

	const struct iovec *iov = is_read ? &c->iov[c->nr_out] : c->iov;
	unsigned n = is_read ? c->nr_in : c->nr_out;

	/* Data the device reads must be readable, data it writes writable (5.2.6). */
	if ((!is_read && blk->be->readonly) || (is_read ? c->out_len : c->in_len) != 0 || !segments_ok(iov, n) ||
	    bytes % SECTOR_SIZE || !range_ok(blk, sector, bytes)) {
		fail_request(req, VIRTIO_BLK_S_IOERR);
		return false;
	}
	req->used_len = (uint32_t)(is_read ? bytes : 0) + 1;
	if (bytes == 0) {
		fail_request(req, VIRTIO_BLK_S_OK);
		return false;
	}
	const struct block_backend *be = blk->be;
	int r = is_read ? be->ops->read(be->ctx, sector << SECTOR_SHIFT, iov, n, req)
			: be->ops->write(be->ctx, sector << SECTOR_SHIFT, iov, n, req);
	if (r == -EAGAIN)
		return true;
	if (r < 0)
		fail_request(req, VIRTIO_BLK_S_IOERR);
	else
		req->pending = 1;
	return false;
}

static void submit_ranges(struct blk_request *req, uint32_t type)
{
	struct virtio_blk *blk = req->blk;
	struct blk_range_segment segs[MAX_RANGE_SEGMENTS];
	uint64_t len = req->chain.out_len;
	size_t n = len / sizeof(segs[0]);

	if (blk->be->readonly || len % sizeof(segs[0]) || n == 0 || n > MAX_RANGE_SEGMENTS)
		return fail_request(req, VIRTIO_BLK_S_IOERR);
	take_out_bytes(&req->chain, segs, len);
	uint32_t allowed_flags = type == VIRTIO_BLK_T_WRITE_ZEROES ? WRITE_ZEROES_UNMAP : 0;
	for (size_t i = 0; i < n; i++) {
		if (segs[i].flags & ~allowed_flags)
			return fail_request(req, VIRTIO_BLK_S_UNSUPP);
		uint64_t bytes = (uint64_t)segs[i].num_sectors << SECTOR_SHIFT;
		if (segs[i].num_sectors > MAX_RANGE_SECTORS || !range_ok(blk, segs[i].sector, bytes))
			return fail_request(req, VIRTIO_BLK_S_IOERR);
	}
	req->used_len = 1;
	req->pending = 1;   /* held until every segment is queued */
	for (size_t i = 0; i < n; i++) {
		uint64_t off = segs[i].sector << SECTOR_SHIFT, bytes = (uint64_t)segs[i].num_sectors << SECTOR_SHIFT;
		if (bytes == 0)
			continue;
		const struct block_backend *be = blk->be;
		int r = type == VIRTIO_BLK_T_DISCARD
				? be->ops->discard(be->ctx, off, bytes, req)
				: be->ops->write_zeroes(be->ctx, off, bytes, segs[i].flags & WRITE_ZEROES_UNMAP, req);
		if (r < 0)
			req->result = VIRTIO_BLK_S_IOERR;
		else
			req->pending++;
	}
	backend_done(blk, req, 0);
}

static void submit_get_id(struct blk_request *req)
{
	struct virtq_chain *c = &req->chain;
	size_t left = VIRTIO_BLK_ID_BYTES, at = 0;

	for (unsigned i = c->nr_out; i < c->nr_out + c->nr_in && left; i++) {
		size_t k = c->iov[i].iov_len < left ? c->iov[i].iov_len : left;
		memcpy(c->iov[i].iov_base, req->blk->serial + at, k);
		at += k;
		left -= k;
	}
	req->used_len = (uint32_t)at + 1;
	req->result = VIRTIO_BLK_S_OK;
	finish(req);
}

static void submit_flush(struct blk_request *req)
{
	req->used_len = 1;
	if (req->blk->be->ops->flush(req->blk->be->ctx, req) < 0)
		return fail_request(req, VIRTIO_BLK_S_IOERR);
	req->pending = 1;
}

/* Returns true when the request must wait in the ring for backend room. */
static bool submit_request(struct blk_request *req)
{
	struct {
		uint32_t type;
		uint32_t reserved;
		uint64_t sector;
	} hdr;

	req->result = VIRTIO_BLK_S_OK;
	req->pending = 0;
	if (!take_out_bytes(&req->chain, &hdr, sizeof(hdr)))
		fail_request(req, VIRTIO_BLK_S_IOERR);
	else if (hdr.type == VIRTIO_BLK_T_IN || hdr.type == VIRTIO_BLK_T_OUT)
		return submit_rw(req, hdr.type, hdr.sector);
	else if (hdr.type == VIRTIO_BLK_T_FLUSH)
		submit_flush(req);
	else if (hdr.type == VIRTIO_BLK_T_GET_ID)
		submit_get_id(req);
	else if (hdr.type == VIRTIO_BLK_T_DISCARD || hdr.type == VIRTIO_BLK_T_WRITE_ZEROES)
		submit_ranges(req, hdr.type);
	else
		fail_request(req, VIRTIO_BLK_S_UNSUPP);
	return false;
}

/* Another chunk of requests, up to every queue full at once. */
static void grow_requests(struct virtio_blk *blk)
{
	if (blk->nr_requests >= blk->max_requests)
		return;
	struct request_chunk *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->next = blk->chunks;
	blk->chunks = c;
	blk->nr_requests += REQUEST_CHUNK;
	for (unsigned i = 0; i < REQUEST_CHUNK; i++) {
		c->requests[i].blk = blk;
		free_request(blk, &c->requests[i]);
	}
}

/* Takes one chain off queue q; false when there is nothing (more) to do. */
static bool take_request(struct virtio_blk *blk, unsigned q)
{
	struct virtqueue *vq = &blk->vdev.queues[q];

	if (!blk->free_requests)
		grow_requests(blk);
	struct blk_request *req = blk->free_requests;

	if (!req || !blk->be->ops->has_room(blk->be->ctx, MAX_RANGE_SEGMENTS)) {
		blk->stalled = true;
		return false;
	}
	/* The kick state is settled after the submission (settle_kicks()). */
	int r = virtq_pop_quiet(vq, &req->chain);
	if (r == 0)
		return false;
	if (r < 0) {
		virtio_needs_reset(&blk->vdev);
		return false;
	}
	blk->free_requests = req->next_free;
	req->queue = q;
	req->status = take_status_byte(&req->chain);
	if (!req->status) {
		/* Nowhere to put a status: the driver broke 5.2.6. */
		virtq_push(vq, req->chain.head, 0);
		free_request(blk, req);
		virtio_needs_reset(&blk->vdev);
		return false;
	}
	blk->queue_state[q].in_flight++;
	if (submit_request(req)) {
		/* Back to the ring until earlier requests make room (they are in flight). */
		blk->queue_state[q].in_flight--;
		virtq_unpop(vq, 1);
		free_request(blk, req);
		blk->stalled = true;
		return false;
	}
	return true;
}

static unsigned take_requests(struct virtio_blk *blk, unsigned q)
{
	unsigned n = 0;

	while (take_request(blk, q))
		n++;
	return n;
}

/*
 * After the backend took a round's requests: a queue with enough requests
 * in flight asks the driver for no kicks, since its completions look at the
 * ring; any other arms them, and takes what the driver added before the
 * arm. Only now, not when the ring ran empty: armed during the submission,
 * the queue would have the driver kick for each request it adds meanwhile.
 * Requests completed inside submit() count as done. A queue that takes
 * nothing (no room: requests of other queues hold it) stays for the
 * completions' round.
 */
static void settle_kicks(struct virtio_blk *blk, unsigned q)
{
	struct blk_queue_state *qs = &blk->queue_state[q];
	struct virtqueue *vq = &blk->vdev.queues[q];

	for (;;) {
		qs->kicks_held = qs->in_flight >= BLOCK_KICKS_HELD_MIN_IN_FLIGHT && vq->ready;
		if (qs->kicks_held) {
			virtq_hold_kicks(vq);
			return;
		}
		/* Armed at the driver's index: what it added before (during the
		 * submission, with no kick asked for) is ours to take now. */
		virtq_arm_kick(vq);
		if (take_requests(blk, q) == 0)
			return;
		blk->be->ops->submit(blk->be->ctx);
	}
}

static void blk_queue_notify(struct virtio_dev *vdev, unsigned q)
{
	struct virtio_blk *blk = vdev->device;

	take_requests(blk, q);
	blk->be->ops->submit(blk->be->ctx);
	settle_kicks(blk, q);
	signal_queues(blk);
}

/* Whether queue q is looked at after completions: it holds its kicks, or it stalled for room. */
static bool in_round(const struct virtio_blk *blk, unsigned q, bool stalled, unsigned skip)
{
	return q != skip && blk->vdev.queues[q].ready && (blk->queue_state[q].kicks_held || stalled);
}

/*
 * After completions, one round: what the driver added without a kick to
 * the queues holding their kicks and, now that there is room, the requests
 * left in the rings for want of it (but queue skip's), all submitted at
 * once; then the interrupts.
 */
static void after_completions(struct virtio_blk *blk, unsigned skip)
{
	bool running = virtio_driver_ok(&blk->vdev), stalled = blk->stalled && running, taken = false;

	if (stalled)
		blk->stalled = false;   /* take_request() says again if there still is no room */
	for (unsigned q = 0; running && q < blk->vdev.nr_queues; q++) {
		if (in_round(blk, q, stalled, skip)) {
			take_requests(blk, q);
			taken = true;
		}
	}
	if (taken) {
		blk->be->ops->submit(blk->be->ctx);
		for (unsigned q = 0; q < blk->vdev.nr_queues; q++)
			if (in_round(blk, q, stalled, skip))
				settle_kicks(blk, q);
	}
	signal_queues(blk);
}

void virtio_blk_complete_io(void *opaque)
{
	struct virtio_blk *blk = opaque;

	pthread_mutex_lock(&blk->vdev.lock);
	blk->be->ops->reap(blk->be->ctx);
	after_completions(blk, blk->vdev.nr_queues);
	pthread_mutex_unlock(&blk->vdev.lock);
}

static void blk_config_read(struct virtio_dev *vdev, uint32_t offset, uint8_t *data, unsigned size)
{
	struct virtio_blk *blk = vdev->device;

	virtio_config_copy(&blk->config, sizeof(blk->config), offset, data, size);
}

static void blk_config_write(struct virtio_dev *vdev, uint32_t offset, const uint8_t *data, unsigned size)
{
	struct virtio_blk *blk = vdev->device;

	/* Only the write-cache flag is writable, and only with CONFIG_WCE (5.2.6.3). */
	if (offset != CONFIG_WRITEBACK_OFFSET || size != 1 || !virtio_has_feature(vdev, VIRTIO_BLK_F_CONFIG_WCE))
		return;
	blk->config.writeback = data[0] ? 1 : 0;
	/* Off: what the driver saw complete must be durable, in flight or not. */
	if (!blk->config.writeback)
		blk->be->ops->drain(blk->be->ctx);
	blk->be->ops->set_write_cache(blk->be->ctx, blk->config.writeback);
	after_completions(blk, vdev->nr_queues);
}

/*
 * Requests in flight complete before a reset returns: their data lands in
 * guest memory, and they go on the used ring, only while the rings are
 * still the driver's (as QEMU drains before a reset). Afterwards nothing of
 * them touches guest memory. The other queues of a queue reset get their
 * interrupts and carry on.
 */
static void blk_queue_reset(struct virtio_dev *vdev, unsigned q)
{
	struct virtio_blk *blk = vdev->device;

	blk->be->ops->drain(blk->be->ctx);
	blk->queue_state[q].signal_pending = false;
	blk->queue_state[q].kicks_held = false;
	after_completions(blk, q);
}

static void blk_reset(struct virtio_dev *vdev)
{
	struct virtio_blk *blk = vdev->device;

	blk->be->ops->drain(blk->be->ctx);
	memset(blk->queue_state, 0, vdev->nr_queues * sizeof(blk->queue_state[0]));
	blk->config.writeback = blk->be->write_cache;
	blk->be->ops->set_write_cache(blk->be->ctx, blk->config.writeback);
	blk->stalled = false;
}

static const struct virtio_device_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.config_size = sizeof(struct blk_config),
	.config_read = blk_config_read,
	.config_write = blk_config_write,
	.queue_notify = blk_queue_notify,
	.reset = blk_reset,
	.queue_reset = blk_queue_reset,
};

static uint64_t blk_features(const struct block_backend *be)
{
	uint64_t f = (1ull << VIRTIO_BLK_F_SIZE_MAX) | (1ull << VIRTIO_BLK_F_SEG_MAX) |
		     (1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_FLUSH) |
		     (1ull << VIRTIO_BLK_F_TOPOLOGY) | (1ull << VIRTIO_BLK_F_CONFIG_WCE) |
		     (1ull << VIRTIO_BLK_F_MQ);
	if (be->readonly)
		return f | (1ull << VIRTIO_BLK_F_RO);
	return f | (1ull << VIRTIO_BLK_F_DISCARD) | (1ull << VIRTIO_BLK_F_WRITE_ZEROES);
}

static void fill_config(struct virtio_blk *blk, unsigned nr_queues)
{
	struct blk_config *c = &blk->config;

	c->capacity = blk->be->size >> SECTOR_SHIFT;
	c->size_max = MAX_SEGMENT_BYTES;
	c->seg_max = MAX_SEGMENTS;
	c->blk_size = blk->be->logical_block_size;
	c->topology.min_io_size = 1;
	c->writeback = blk->be->write_cache;
	c->num_queues = (uint16_t)nr_queues;
	c->max_discard_sectors = c->max_write_zeroes_sectors = MAX_RANGE_SECTORS;
	c->max_discard_seg = c->max_write_zeroes_seg = MAX_RANGE_SEGMENTS;
	c->discard_sector_alignment = blk->be->logical_block_size / SECTOR_SIZE;
	c->write_zeroes_may_unmap = 1;
}

struct virtio_blk *virtio_blk_create(const struct platform *p, const struct block_backend *be,
				     unsigned nr_queues, const char *serial)
{
	struct virtio_blk *blk = calloc(1, sizeof(*blk));

	if (!blk)
		return NULL;
	blk->be = be;
	blk->max_requests = nr_queues * VIRTIO_QUEUE_MAX_SIZE;
	blk->queue_state = calloc(nr_queues, sizeof(blk->queue_state[0]));
	if (!blk->queue_state ||
	    virtio_dev_init(&blk->vdev, &blk_ops, blk, p->mem, blk_features(be), nr_queues) < 0 ||
	    (p->loop && be->ops->watch(be->ctx, p->loop, virtio_blk_complete_io, blk) < 0)) {
		free(blk->queue_state);
		free(blk);
		return NULL;
	}
	/* GET_ID: up to 20 bytes, NUL-padded, not NUL-terminated when all 20 are used. */
	if (serial)
		memcpy(blk->serial, serial, strnlen(serial, sizeof(blk->serial)));
	fill_config(blk, nr_queues);
	be->ops->set_completion(be->ctx, backend_done, blk);
	return blk;
}

struct virtio_dev *virtio_blk_dev(struct virtio_blk *blk)
{
	return &blk->vdev;
}

void virtio_blk_destroy(struct virtio_blk *blk)
{
	if (!blk)
		return;
	virtio_dev_destroy(&blk->vdev);
	for (struct request_chunk *c = blk->chunks, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	free(blk->queue_state);
	free(blk);
}
