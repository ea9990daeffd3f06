/* Split virtqueues (virtio 1.2, section 2.7); see virtqueue.c. */
#ifndef DEVICES_VIRTQUEUE_H
#define DEVICES_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "guest_mem.h"

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

/* Longest descriptor chain a device accepts, indirect tables included. */
#define VIRTQ_MAX_CHAIN 256

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtqueue {
	const struct guest_mem *mem;
	uint16_t size;
	bool ready;
	bool event_idx;            /* VIRTIO_F_EVENT_IDX negotiated */
	uint64_t desc_gpa, avail_gpa, used_gpa;

	/* Host views of the rings, checked once when the queue is made ready. */
	struct virtq_desc *desc;
	uint16_t *avail;           /* flags, idx, ring[size], used_event */
	uint16_t *used;            /* flags, idx, then elements; avail_event after them */
	struct virtq_used_elem *used_ring;

	uint16_t last_avail;       /* next available entry to take */
	uint16_t used_idx;         /* next used entry to fill */
	uint16_t signalled_used;   /* used_idx when the driver was last interrupted */
	bool signalled_valid;
};

/* A descriptor chain as scatter-gather lists: readable first, then writable. */
struct virtq_chain {
	uint16_t head;
	unsigned nr_out, nr_in;
	struct iovec iov[VIRTQ_MAX_CHAIN];   /* out: [0, nr_out), in: [nr_out, nr_out + nr_in) */
	uint64_t out_len, in_len;
};

/* Sets up the rings from desc/avail/used_gpa and size; -1 if they are not in RAM. */
int virtq_enable(struct virtqueue *vq);
void virtq_reset(struct virtqueue *vq);
/* 1: a chain was taken; 0: nothing available, and the driver will kick for
 * the next buffer (avail_event armed); -1: the driver broke the ring rules. */
int virtq_pop(struct virtqueue *vq, struct virtq_chain *chain);
/* As virtq_pop(), but an empty ring leaves the kick state alone: for a device
 * that decides after its submission whether to arm or hold kicks. */
int virtq_pop_quiet(struct virtqueue *vq, struct virtq_chain *chain);
/* Puts back the last n chains taken and not yet pushed. */
void virtq_unpop(struct virtqueue *vq, uint16_t n);
/* Returns a chain to the driver with len bytes written. */
void virtq_push(struct virtqueue *vq, uint16_t head, uint32_t len);
/* Whether the driver wants an interrupt for what was pushed since the last one. */
bool virtq_should_interrupt(struct virtqueue *vq);
/* With EVENT_IDX: ask for a kick when the driver adds its next buffer (even if the
 * device left earlier ones in the ring); true if one was added meanwhile. */
bool virtq_arm_kick(struct virtqueue *vq);
/* No kicks until the next virtq_arm_kick(): for a device that looks at the ring
 * again by itself (when buffers it has in flight complete). */
void virtq_hold_kicks(struct virtqueue *vq);

#endif
