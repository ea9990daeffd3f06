/*
 * Split virtqueues (virtio 1.2, section 2.7): descriptor table, available
 * ring and used ring in guest memory; indirect descriptors (2.7.5.3) and
 * VIRTIO_F_EVENT_IDX notification suppression (2.7.7, 2.7.10).
 *
 * Every value the driver controls is checked before use: ring positions
 * are taken modulo the queue size, a head or next index must be below it,
 * every buffer must lie wholly in guest RAM, a chain may not be longer than
 * VIRTQ_MAX_CHAIN descriptors (which also ends any loop), indirect tables
 * may not nest or chain, and writable buffers may not precede readable ones.
 * A violation makes virtq_pop() fail; the device then needs a reset.
 */
#include "virtqueue.h"

#include <string.h>

#define AVAIL_FLAGS 0
#define AVAIL_IDX 1
#define AVAIL_RING 2
#define USED_FLAGS 0
#define USED_F_NO_NOTIFY 1
#define USED_IDX 1

static size_t desc_bytes(uint16_t size)
{
	return (size_t)size * sizeof(struct virtq_desc);
}

static size_t avail_bytes(uint16_t size)
{
	return 2 * (3 + (size_t)size);
}

static size_t used_bytes(uint16_t size)
{
	return 2 * 2 + (size_t)size * sizeof(struct virtq_used_elem) + 2;
}

int virtq_enable(struct virtqueue *vq)
{
	if (vq->size == 0 || (vq->size & (vq->size - 1)))
		return -1;
	/* Alignment from 2.7: 16 for the table, 2 for avail, 4 for used. */
	if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3))
		return -1;
	vq->desc = guest_mem_ptr(vq->mem, vq->desc_gpa, desc_bytes(vq->size));
	vq->avail = guest_mem_ptr(vq->mem, vq->avail_gpa, avail_bytes(vq->size));
	vq->used = guest_mem_ptr(vq->mem, vq->used_gpa, used_bytes(vq->size));
	if (!vq->desc || !vq->avail || !vq->used)
		return -1;
	vq->used_ring = (struct virtq_used_elem *)(vq->used + 2);
	vq->last_avail = vq->used_idx = 0;
	vq->signalled_valid = false;
	vq->ready = true;
	return 0;
}

void virtq_reset(struct virtqueue *vq)
{
	const struct guest_mem *mem = vq->mem;
	uint16_t size = vq->size;

	memset(vq, 0, sizeof(*vq));
	vq->mem = mem;
	vq->size = size;
}

static uint16_t load16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static uint16_t *used_event(struct virtqueue *vq)
{
	return &vq->avail[AVAIL_RING + vq->size];
}

static uint16_t *avail_event(struct virtqueue *vq)
{
	return (uint16_t *)&vq->used_ring[vq->size];
}

struct chain_walk {
	struct virtq_chain *chain;
	unsigned count;
	bool seen_writable;
};

static int add_buffer(struct chain_walk *w, const struct virtqueue *vq, const struct virtq_desc *d)
{
	bool writable = d->flags & VIRTQ_DESC_F_WRITE;
	struct virtq_chain *c = w->chain;

	if (++w->count > VIRTQ_MAX_CHAIN)
		return -1;
	if (!writable && w->seen_writable)
		return -1;
	w->seen_writable |= writable;
	if (d->len == 0)
		return 0;
	void *p = guest_mem_ptr(vq->mem, d->addr, d->len);
	if (!p)
		return -1;
	c->iov[c->nr_out + c->nr_in] = (struct iovec){ p, d->len };
	if (writable) {
		c->nr_in++;
		c->in_len += d->len;
	} else {
		c->nr_out++;
		c->out_len += d->len;
	}
	return 0;
}

static int walk_indirect(struct chain_walk *w, const struct virtqueue *vq, const struct virtq_desc *d)
{
	if ((d->flags & VIRTQ_DESC_F_NEXT) || d->len == 0 || d->len % sizeof(struct virtq_desc))
		return -1;
	size_t n = d->len / sizeof(struct virtq_desc);
	if (n > VIRTQ_MAX_CHAIN)
		return -1;
	const struct virtq_desc *table = guest_mem_ptr(vq->mem, d->addr, d->len);
	if (!table)
		return -1;
	for (size_t i = 0;;) {
		struct virtq_desc e;
		memcpy(&e, &table[i], sizeof(e));   /* the driver may change it under us */
		if ((e.flags & VIRTQ_DESC_F_INDIRECT) || add_buffer(w, vq, &e) < 0)
			return -1;
		if (!(e.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (e.next >= n)
			return -1;
		i = e.next;
	}
}

static int pop_available(struct virtqueue *vq, struct virtq_chain *chain)
{
	if (!vq->ready)
		return 0;
	uint16_t avail_idx = load16(&vq->avail[AVAIL_IDX]);
	if (avail_idx == vq->last_avail)
		return 0;
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->size)
		return -1;
	uint16_t head = vq->avail[AVAIL_RING + vq->last_avail % vq->size];
	if (head >= vq->size)
		return -1;
	vq->last_avail++;

	struct chain_walk w = { .chain = chain };
	chain->head = head;
	chain->nr_out = chain->nr_in = 0;
	chain->out_len = chain->in_len = 0;
	for (uint16_t i = head;;) {
		struct virtq_desc d;
		memcpy(&d, &vq->desc[i], sizeof(d));
		int r = (d.flags & VIRTQ_DESC_F_INDIRECT) ? walk_indirect(&w, vq, &d) : add_buffer(&w, vq, &d);
		if (r < 0)
			return -1;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 1;
		if (d.next >= vq->size)
			return -1;
		i = d.next;
	}
}

/* An empty ring arms the kick before the device goes idle: with EVENT_IDX a
 * driver kicks only when it passes avail_event, so a consumer that forgot
 * would never hear of the next buffer (2.7.10). */
int virtq_pop(struct virtqueue *vq, struct virtq_chain *chain)
{
	int r = pop_available(vq, chain);

	if (r == 0 && virtq_arm_kick(vq))
		r = pop_available(vq, chain);
	return r;
}

int virtq_pop_quiet(struct virtqueue *vq, struct virtq_chain *chain)
{
	return pop_available(vq, chain);
}

void virtq_unpop(struct virtqueue *vq, uint16_t n)
{
	vq->last_avail = (uint16_t)(vq->last_avail - n);
}

void virtq_push(struct virtqueue *vq, uint16_t head, uint32_t len)
{
	struct virtq_used_elem *e = &vq->used_ring[vq->used_idx % vq->size];

	e->id = head;
	e->len = len;
	vq->used_idx++;
	/* The element must be visible before the index that publishes it. */
	__atomic_store_n(&vq->used[USED_IDX], vq->used_idx, __ATOMIC_RELEASE);
}

/* vring_need_event() of the spec: did new_idx pass event since old_idx? */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

bool virtq_should_interrupt(struct virtqueue *vq)
{
	/* Order our used->idx store before reading the driver's suppression state. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(load16(&vq->avail[AVAIL_FLAGS]) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	uint16_t old = vq->signalled_used;
	bool valid = vq->signalled_valid;
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	return !valid || need_event(load16(used_event(vq)), vq->used_idx, old);
}

bool virtq_arm_kick(struct virtqueue *vq)
{
	if (!vq->ready)
		return false;
	uint16_t idx = load16(&vq->avail[AVAIL_IDX]);
	/* At the driver's index, not ours: buffers the device left in the ring
	 * must not stand between the driver and its next kick. */
	if (vq->event_idx)
		__atomic_store_n(avail_event(vq), idx, __ATOMIC_RELEASE);
	else
		__atomic_store_n(&vq->used[USED_FLAGS], 0, __ATOMIC_RELEASE);
	/* A buffer added before the driver saw avail_event would get no kick. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load16(&vq->avail[AVAIL_IDX]) != idx;
}

/*
 * avail_event half the index space away from the entries the device has
 * taken. The driver kicks when the index it publishes passes avail_event
 * (2.7.10: vring_need_event(avail_event, new, old)), and it is never more
 * than a ring (at most 32768 entries) ahead of last_avail, so it never
 * does. Just behind last_avail would not do: when the device has taken a
 * batch before the driver looks, last_avail - 1 lies inside that batch,
 * and the driver kicks for buffers already taken.
 */
void virtq_hold_kicks(struct virtqueue *vq)
{
	if (!vq->ready)
		return;
	if (vq->event_idx)
		__atomic_store_n(avail_event(vq), (uint16_t)(vq->last_avail + 0x8000), __ATOMIC_RELEASE);
	else
		__atomic_store_n(&vq->used[USED_FLAGS], USED_F_NO_NOTIFY, __ATOMIC_RELEASE);
}
