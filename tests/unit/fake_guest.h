/*
 * A guest for device tests, without KVM: guest RAM in a heap buffer, a
 * split virtqueue laid out in it, and a driver's side of the ring (adding
 * chains, reading used entries), plus an interrupt controller that records.
 */
#ifndef TESTS_FAKE_GUEST_H
#define TESTS_FAKE_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "event_loop.h"
#include "guest_mem.h"
#include "ioevent.h"
#include "irq.h"
#include "virtqueue.h"

#define FAKE_RAM_SIZE (4u << 20)
#define FAKE_DESC_GPA 0x10000
#define FAKE_AVAIL_GPA 0x20000
#define FAKE_USED_GPA 0x30000
#define FAKE_INDIRECT_GPA 0x40000
#define FAKE_DATA_GPA 0x100000

struct fake_guest {
	uint8_t *ram;
	struct guest_mem mem;
	uint16_t size;
	uint16_t avail_idx;
	uint16_t used_seen;
};

struct fake_buf {
	uint64_t gpa;
	uint32_t len;
	bool writable;
};

void fake_guest_init(struct fake_guest *g, uint16_t queue_size);
void fake_guest_free(struct fake_guest *g);
void *fake_ptr(struct fake_guest *g, uint64_t gpa);
/* Points vq at the fake rings (size, addresses) without enabling it. */
void fake_queue_layout(struct fake_guest *g, struct virtqueue *vq);
/* Writes a chain at descriptor first (or, indirect, as a table); returns its head. */
uint16_t fake_add_chain(struct fake_guest *g, uint16_t first, const struct fake_buf *bufs, unsigned n, bool indirect);
/* Makes head available (does not kick). */
void fake_publish(struct fake_guest *g, uint16_t head);
/* Used entries the device returned that we have not looked at yet. */
uint16_t fake_used_pending(struct fake_guest *g);
struct virtq_used_elem fake_next_used(struct fake_guest *g);
uint16_t *fake_avail(struct fake_guest *g);
uint16_t *fake_used(struct fake_guest *g);

/* An interrupt controller that counts what devices send. */
struct irq_recorder {
	struct irq_controller ctl;
	bool level[32];
	unsigned raises;
	unsigned msis;
	uint64_t last_msi_addr;
	uint32_t last_msi_data;
};

void irq_recorder_init(struct irq_recorder *r);

/* Doorbells and an event loop that remember what devices asked of them. */
#define FAKE_MAX_BINDINGS 16
struct doorbell_recorder {
	struct ioevents ioevents;
	struct event_loop loop;
	struct ioevent bound[FAKE_MAX_BINDINGS];   /* assigned and not deassigned */
	int bound_fd[FAKE_MAX_BINDINGS];
	unsigned nr_bound;
	struct coalesced_zone {                    /* buffered writes asked for, and not withdrawn */
		enum ioevent_space space;
		uint64_t addr, len;
	} coalesced[FAKE_MAX_BINDINGS];
	unsigned nr_coalesced;
	unsigned watches;                          /* ever made */
	event_fn *fn[FAKE_MAX_BINDINGS];           /* the watches' handlers, by fd */
	void *arg[FAKE_MAX_BINDINGS];
	int fd[FAKE_MAX_BINDINGS];
};

void doorbell_recorder_init(struct doorbell_recorder *d);
/* The binding at addr, or NULL. */
const struct ioevent *doorbell_at(const struct doorbell_recorder *d, uint64_t addr, int *fd);
/* Signals fd as KVM would on the guest's write, and runs its watch as the loop would. */
void doorbell_ring(struct doorbell_recorder *d, int fd);

#endif
