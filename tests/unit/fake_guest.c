/* Test helpers: guest RAM in a heap buffer, the driver's side of a split ring, recorders for interrupts and doorbells. */
#include "fake_guest.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fake_guest_init(struct fake_guest *g, uint16_t queue_size)
{
	memset(g, 0, sizeof(*g));
	g->ram = calloc(1, FAKE_RAM_SIZE);
	g->mem.region[0] = (struct guest_mem_region){ 0, FAKE_RAM_SIZE, g->ram };
	g->mem.nr_regions = 1;
	g->size = queue_size;
}

void fake_guest_free(struct fake_guest *g)
{
	free(g->ram);
	g->ram = NULL;
}

void *fake_ptr(struct fake_guest *g, uint64_t gpa)
{
	return g->ram + gpa;
}

void fake_queue_layout(struct fake_guest *g, struct virtqueue *vq)
{
	vq->mem = &g->mem;
	vq->size = g->size;
	vq->desc_gpa = FAKE_DESC_GPA;
	vq->avail_gpa = FAKE_AVAIL_GPA;
	vq->used_gpa = FAKE_USED_GPA;
}

uint16_t fake_add_chain(struct fake_guest *g, uint16_t first, const struct fake_buf *bufs, unsigned n, bool indirect)
{
	struct virtq_desc *table = indirect ? fake_ptr(g, FAKE_INDIRECT_GPA + first * 16u * 64u)
					    : fake_ptr(g, FAKE_DESC_GPA);
	uint16_t base = indirect ? 0 : first;

	for (unsigned i = 0; i < n; i++) {
		struct virtq_desc *d = &table[base + i];
		d->addr = bufs[i].gpa;
		d->len = bufs[i].len;
		d->flags = (uint16_t)((bufs[i].writable ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		d->next = (uint16_t)(base + i + 1);
	}
	if (indirect) {
		struct virtq_desc *d = &((struct virtq_desc *)fake_ptr(g, FAKE_DESC_GPA))[first];
		*d = (struct virtq_desc){ FAKE_INDIRECT_GPA + first * 16u * 64u, (uint32_t)(n * 16), VIRTQ_DESC_F_INDIRECT, 0 };
	}
	return first;
}

uint16_t *fake_avail(struct fake_guest *g)
{
	return fake_ptr(g, FAKE_AVAIL_GPA);
}

uint16_t *fake_used(struct fake_guest *g)
{
	return fake_ptr(g, FAKE_USED_GPA);
}

void fake_publish(struct fake_guest *g, uint16_t head)
{
	uint16_t *avail = fake_avail(g);
	avail[2 + g->avail_idx % g->size] = head;
	g->avail_idx++;
	__atomic_store_n(&avail[1], g->avail_idx, __ATOMIC_RELEASE);
}

uint16_t fake_used_pending(struct fake_guest *g)
{
	return (uint16_t)(__atomic_load_n(&fake_used(g)[1], __ATOMIC_ACQUIRE) - g->used_seen);
}

struct virtq_used_elem fake_next_used(struct fake_guest *g)
{
	struct virtq_used_elem *ring = (struct virtq_used_elem *)(fake_used(g) + 2);
	return ring[g->used_seen++ % g->size];
}

static void rec_set_gsi(void *ctx, uint32_t gsi, bool level)
{
	struct irq_recorder *r = ctx;
	if (gsi < 32)
		r->level[gsi] = level;
	if (level)
		r->raises++;
}

static void rec_send_msi(void *ctx, uint64_t addr, uint32_t data)
{
	struct irq_recorder *r = ctx;
	r->msis++;
	r->last_msi_addr = addr;
	r->last_msi_data = data;
}

static const struct irq_controller_ops recorder_ops = {
	.set_gsi = rec_set_gsi,
	.send_msi = rec_send_msi,
};

void irq_recorder_init(struct irq_recorder *r)
{
	memset(r, 0, sizeof(*r));
	r->ctl = (struct irq_controller){ &recorder_ops, r };
}

static int rec_assign(void *ctx, const struct ioevent *ev, int fd)
{
	struct doorbell_recorder *d = ctx;
	if (d->nr_bound == FAKE_MAX_BINDINGS)
		return -1;
	d->bound_fd[d->nr_bound] = fd;
	d->bound[d->nr_bound++] = *ev;
	return 0;
}

static void rec_deassign(void *ctx, const struct ioevent *ev, int fd)
{
	struct doorbell_recorder *d = ctx;
	for (unsigned i = 0; i < d->nr_bound; i++) {
		if (d->bound_fd[i] == fd && d->bound[i].addr == ev->addr) {
			d->bound[i] = d->bound[--d->nr_bound];
			d->bound_fd[i] = d->bound_fd[d->nr_bound];
			return;
		}
	}
}

static int rec_coalesce(void *ctx, enum ioevent_space space, uint64_t addr, uint64_t len, bool on)
{
	struct doorbell_recorder *d = ctx;
	for (unsigned i = 0; i < d->nr_coalesced; i++) {
		struct coalesced_zone *z = &d->coalesced[i];
		if (z->space == space && z->addr == addr && z->len == len) {
			if (!on)
				*z = d->coalesced[--d->nr_coalesced];
			return on ? -1 : 0;
		}
	}
	if (!on || d->nr_coalesced == FAKE_MAX_BINDINGS)
		return -1;
	d->coalesced[d->nr_coalesced++] = (struct coalesced_zone){ space, addr, len };
	return 0;
}

static const struct ioevent_ops doorbell_recorder_ops = { rec_assign, rec_deassign, rec_coalesce };

static struct event_watch *rec_watch(void *ctx, int fd, event_fn *fn, void *arg)
{
	struct doorbell_recorder *d = ctx;
	if (d->watches == FAKE_MAX_BINDINGS)
		return NULL;
	d->fd[d->watches] = fd;
	d->fn[d->watches] = fn;
	d->arg[d->watches] = arg;
	return (struct event_watch *)&d->fd[d->watches++];
}

static int rec_enable(void *ctx, struct event_watch *w, bool on)
{
	(void)ctx;
	(void)w;
	(void)on;
	return 0;
}

static const struct event_loop_ops loop_recorder_ops = { rec_watch, rec_enable };

void doorbell_recorder_init(struct doorbell_recorder *d)
{
	memset(d, 0, sizeof(*d));
	d->ioevents = (struct ioevents){ &doorbell_recorder_ops, d };
	d->loop = (struct event_loop){ &loop_recorder_ops, d };
}

const struct ioevent *doorbell_at(const struct doorbell_recorder *d, uint64_t addr, int *fd)
{
	for (unsigned i = 0; i < d->nr_bound; i++) {
		if (d->bound[i].addr == addr) {
			*fd = d->bound_fd[i];
			return &d->bound[i];
		}
	}
	return NULL;
}

void doorbell_ring(struct doorbell_recorder *d, int fd)
{
	uint64_t one = 1;
	if (write(fd, &one, sizeof(one)) != sizeof(one))
		return;
	for (unsigned i = 0; i < d->watches; i++)
		if (d->fd[i] == fd)
			d->fn[i](d->arg[i]);
}
