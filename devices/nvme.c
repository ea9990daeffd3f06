/*
 * An NVM Express controller (NVM Express Base Specification 1.4; section
 * numbers below are that document's) with one namespace on a block backend
 * (block_backend.h), the way bhyve's pci_nvme.c and QEMU's hw/nvme do it.
 *
 * BAR0 holds the controller registers (3.1), the doorbells from 0x1000
 * with a stride of 4 bytes (CAP.DSTRD = 0), and the MSI-X table and PBA.
 * The admin queue is served on the vCPU thread that rings its doorbell;
 * admin commands never wait for the disk. I/O queues are served on the
 * event loop: a doorbell write signals the queue's eventfd, and once the
 * driver gives the controller shadow doorbells (Doorbell Buffer Config,
 * 5.7 and 7.13) the doorbells become KVM ioeventfds, so ringing one costs
 * no exit to vmm, and the controller reads the tails and heads from the
 * shadow buffer. It also tells the driver through the EventIdx buffer not
 * to ring at all while it has enough commands in flight: every completion
 * makes it look at the submission queues anyway.
 *
 * A command is taken from a submission queue only when its completion
 * queue has a slot promised to it, so a completion never waits for room.
 * Completions are posted on the event loop, one interrupt (an MSI-X irqfd
 * write) per completion queue per batch, fewer under Interrupt Coalescing.
 *
 * Every value the driver controls is checked: queue sizes, identifiers and
 * vectors (5.3-5.6), PRP entries and lists (4.3) and SGLs (4.4) against
 * guest RAM, transfer sizes against MDTS, LBA ranges against the namespace,
 * doorbell values against the queue (an Asynchronous Event reports a bad
 * one, 5.2). A ring that leaves guest RAM puts the controller in its fatal
 * state (CSTS.CFS); nothing a driver writes makes vmm touch memory outside
 * guest RAM or loop without bound.
 */
#include "nvme.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "msix.h"

/* Controller registers (3.1) */
#define REG_CAP 0x00
#define REG_VS 0x08
#define REG_INTMS 0x0c
#define REG_INTMC 0x10
#define REG_CC 0x14
#define REG_CSTS 0x1c
#define REG_NSSR 0x20
#define REG_AQA 0x24
#define REG_ASQ 0x28
#define REG_ACQ 0x30
#define REG_END 0x38

#define NVME_VERSION 0x00010400u
#define MQES (NVME_QUEUE_MAX_ENTRIES - 1u)
#define CAP_CQR (1ull << 16)
#define CAP_TO (15ull << 24)          /* 7.5 s to become ready, in 500 ms units */
#define CAP_CSS_NVM (1ull << 37)

#define CC_EN 1u
#define CC_CSS(cc) (((cc) >> 4) & 7)
#define CC_MPS(cc) (((cc) >> 7) & 0xf)
#define CC_AMS(cc) (((cc) >> 11) & 7)
#define CC_SHN(cc) (((cc) >> 14) & 3)
#define CC_IOSQES(cc) (((cc) >> 16) & 0xf)
#define CC_IOCQES(cc) (((cc) >> 20) & 0xf)
#define CSTS_RDY 1u
#define CSTS_CFS 2u
#define CSTS_SHST_DONE (2u << 2)

#define PAGE_SIZE 4096u               /* CC.MPS must be 0: CAP.MPSMIN = MPSMAX = 0 */
#define SQE_BYTES 64
#define CQE_BYTES 16
#define MDTS 5                        /* 2^5 pages: 128 KiB per command */
#define MAX_TRANSFER (PAGE_SIZE << MDTS)
#define MAX_IOVS ((MAX_TRANSFER / PAGE_SIZE) + 1)
#define MAX_SGL_DESCRIPTORS 256       /* per command, over all its segments */
#define AERL 3                        /* four Asynchronous Event Requests at once (0-based) */
#define DSM_MAX_RANGES 256
#define MSIX_TABLE_OFFSET 0x2000
#define MSIX_PBA_OFFSET 0x3000
#define MSIX_CAP_LEN 12
#define MSIX_CONTROL 2
#define QUEUE_ABSENT 0xffff

/* Admin opcodes (5) */
#define ADM_DELETE_SQ 0x00
#define ADM_CREATE_SQ 0x01
#define ADM_GET_LOG_PAGE 0x02
#define ADM_DELETE_CQ 0x04
#define ADM_CREATE_CQ 0x05
#define ADM_IDENTIFY 0x06
#define ADM_ABORT 0x08
#define ADM_SET_FEATURES 0x09
#define ADM_GET_FEATURES 0x0a
#define ADM_ASYNC_EVENT 0x0c
#define ADM_DOORBELL_BUFFER 0x7c

/* NVM command set opcodes (6) */
#define IO_FLUSH 0x00
#define IO_WRITE 0x01
#define IO_READ 0x02
#define IO_WRITE_ZEROES 0x08
#define IO_DSM 0x09

/* Status: Status Code Type << 8 | Status Code (4.6.1.2) */
#define SC_SUCCESS 0x000
#define SC_INVALID_OPCODE 0x001
#define SC_INVALID_FIELD 0x002
#define SC_DATA_TRANSFER_ERROR 0x004
#define SC_INTERNAL 0x006
#define SC_ABORT_SQ_DELETED 0x008
#define SC_INVALID_NAMESPACE 0x00b
#define SC_SEQUENCE_ERROR 0x00c
#define SC_INVALID_SGL_COUNT 0x00e
#define SC_SGL_LENGTH_INVALID 0x00f
#define SC_SGL_TYPE_INVALID 0x011
#define SC_PRP_OFFSET_INVALID 0x013
#define SC_WRITE_PROTECTED 0x020
#define SC_LBA_OUT_OF_RANGE 0x080
#define SC_NS_NOT_READY 0x082
#define SC_CQ_INVALID 0x100
#define SC_INVALID_QID 0x101
#define SC_INVALID_QSIZE 0x102
#define SC_AER_LIMIT 0x105
#define SC_INVALID_VECTOR 0x108
#define SC_INVALID_LOG_PAGE 0x109
#define SC_INVALID_QUEUE_DELETION 0x10c
#define SC_FEATURE_NOT_SAVEABLE 0x10d
#define STATUS_DNR 0x4000

/* Features (5.21.1) */
#define FEAT_ARBITRATION 0x01
#define FEAT_POWER 0x02
#define FEAT_TEMPERATURE 0x04
#define FEAT_ERROR_RECOVERY 0x05
#define FEAT_WRITE_CACHE 0x06
#define FEAT_NUM_QUEUES 0x07
#define FEAT_IRQ_COALESCING 0x08
#define FEAT_IRQ_CONFIG 0x09
#define FEAT_WRITE_ATOMICITY 0x0a
#define FEAT_ASYNC_EVENT 0x0b

/* Asynchronous events (5.2): Error status, Invalid Doorbell Register and Value */
#define AER_TYPE_ERROR 0
#define AER_INVALID_DB_REGISTER 0
#define AER_INVALID_DB_VALUE 1
#define LOG_ERROR 0x01
#define LOG_SMART 0x02
#define LOG_FIRMWARE 0x03

struct nvme_cmd {
	uint8_t opcode;
	uint8_t flags;                /* FUSE (1:0), PSDT (7:6) */
	uint16_t cid;
	uint32_t nsid;
	uint64_t reserved;
	uint64_t mptr;
	uint64_t dptr[2];             /* PRP1 and PRP2, or an SGL descriptor */
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

struct sgl_descriptor {
	uint64_t addr;
	uint32_t len;
	uint8_t reserved[3];
	uint8_t id;                   /* type (7:4), subtype (3:0) */
};

enum { SGL_DATA_BLOCK = 0, SGL_SEGMENT = 2, SGL_LAST_SEGMENT = 3 };

struct dsm_range {
	uint32_t attributes;
	uint32_t nlb;
	uint64_t slba;
};

struct nvme_sq {
	uint8_t *ring;                /* host address of the entries; NULL: no such queue */
	uint16_t size, head, tail;
	uint16_t cqid;
	unsigned in_flight;           /* taken, not yet completed */
	int fd;                       /* I/O queues: signalled by the doorbell (eventfd) */
	uint64_t bound_at;            /* where the doorbell is an ioeventfd, or 0 */
	struct nvme *n;
	uint16_t id;
};

struct nvme_cq {
	uint8_t *ring;
	uint16_t size, head, tail;
	bool phase, ien, unsignalled;
	uint16_t vector;
	unsigned promised;            /* slots held for commands in flight */
	unsigned aggregated;          /* entries posted since the last interrupt */
	struct timespec first_unsignalled;
};

struct nvme_request {
	struct nvme *n;
	uint16_t sqid, cid;
	uint16_t status;
	unsigned pending;             /* backend operations still running */
	bool fua;                     /* a flush follows the write */
	struct nvme_request *next_free;
	struct iovec iov[MAX_IOVS];
};

#define REQUEST_CHUNK 32

struct request_chunk {
	struct request_chunk *next;
	struct nvme_request requests[REQUEST_CHUNK];
};

struct nvme {
	pthread_mutex_t lock;
	struct pci_function pci;
	struct msix msix;
	unsigned msix_cap;
	const struct guest_mem *mem;
	struct ioevents *ioevents;
	struct event_loop *loop;
	const struct block_backend *be;
	unsigned nr_io_queues;
	char serial[NVME_SERIAL_BYTES + 1];

	/* Registers */
	uint32_t cc, csts, aqa, intms;
	uint64_t asq, acq;

	struct nvme_sq *sq;           /* nr_io_queues + 1, the admin queue first */
	struct nvme_cq *cq;
	uint8_t *shadow_db, *event_idx;   /* Doorbell Buffer Config pages, or NULL */

	/* Features and their state */
	bool write_cache;
	uint32_t arbitration, power, temp_threshold, error_recovery, async_config, irq_coalescing;
	bool *vector_no_coalescing;   /* per vector: Interrupt Vector Configuration's CD */
	uint16_t aer_cids[AERL + 1];
	unsigned nr_aers;
	uint32_t pending_events[8];
	unsigned nr_events;
	bool error_event_masked;      /* until the host reads the Error log page */
	uint64_t error_count;

	/* Requests */
	struct request_chunk *chunks;
	unsigned nr_requests, max_requests;
	struct nvme_request *free_requests;

	/* SMART / health counters (5.14.1.2) */
	uint64_t units_read, units_written, host_reads, host_writes;
	struct timespec powered_on;
	struct nvme_stats stats;
	struct nvme_request shutdown_flush;   /* CC.SHN's flush: no queue, no completion entry */
	uint64_t finished;                    /* I/O commands completed, ever */
};

static uint32_t sq_doorbell(uint16_t qid)
{
	return 2u * qid * 4;
}

static uint32_t cq_doorbell(uint16_t qid)
{
	return (2u * qid + 1) * 4;
}

static uint32_t load_shadow(const uint8_t *page, uint32_t offset)
{
	return atomic_load_explicit((_Atomic uint32_t *)(page + offset), memory_order_acquire);
}

static void store_event_idx(struct nvme *n, uint32_t offset, uint16_t value)
{
	atomic_store_explicit((_Atomic uint32_t *)(n->event_idx + offset), value, memory_order_release);
	/* The driver stores its doorbell and then loads EventIdx; we store EventIdx and then
	 * load the doorbell. Without a full fence both could miss the other (7.13). */
	atomic_thread_fence(memory_order_seq_cst);
}

static bool shadowed(const struct nvme *n, uint16_t qid)
{
	/* Linux keeps its admin queue doorbells in the registers, as do SPDK and QEMU's tests. */
	return n->shadow_db && qid != 0;
}

/* ---- Interrupts (MSI-X, or INTx with INTMS/INTMC: 7.5.1) ---- */

static bool intx_level(const struct nvme *n)
{
	for (unsigned q = 0; q <= n->nr_io_queues; q++) {
		const struct nvme_cq *cq = &n->cq[q];
		if (cq->ring && cq->ien && cq->head != cq->tail && !(n->intms & 1))
			return true;
	}
	return false;
}

static void update_intx(struct nvme *n)
{
	if (!msix_enabled(&n->msix))
		pci_set_intx(&n->pci, intx_level(n));
}

static void signal_cq(struct nvme *n, struct nvme_cq *cq)
{
	cq->unsignalled = false;
	cq->aggregated = 0;
	if (!cq->ien)
		return;
	n->stats.interrupts++;
	if (msix_enabled(&n->msix))
		msix_notify(&n->msix, cq->vector);
	else
		update_intx(n);
}

static uint64_t elapsed_us(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)(now.tv_sec - since->tv_sec) * 1000000u + (uint64_t)(now.tv_nsec - since->tv_nsec) / 1000;
}

/*
 * Interrupt Coalescing (5.21.1.8): hold the interrupt until THR + 1 entries
 * are posted or TIME (100 us units) passed since the first. The time is
 * checked whenever completions arrive; a queue with nothing left in flight
 * is signalled at once, so no entry waits for a completion that will not
 * come. The admin queue and vectors with CD set are never coalesced.
 */
static bool may_hold_interrupt(const struct nvme *n, unsigned qid, const struct nvme_cq *cq)
{
	unsigned thr = n->irq_coalescing & 0xff, time = (n->irq_coalescing >> 8) & 0xff;

	if (qid == 0 || n->irq_coalescing == 0 || n->vector_no_coalescing[cq->vector] || cq->promised == 0)
		return false;
	return cq->aggregated <= thr && elapsed_us(&cq->first_unsignalled) < time * 100u;
}

static void signal_queues(struct nvme *n)
{
	for (unsigned q = 0; q <= n->nr_io_queues; q++) {
		struct nvme_cq *cq = &n->cq[q];
		if (cq->ring && cq->unsignalled && !may_hold_interrupt(n, q, cq))
			signal_cq(n, cq);
	}
}

/* ---- Completion queues ---- */

static unsigned cq_used(const struct nvme_cq *cq)
{
	return (unsigned)(cq->tail + cq->size - cq->head) % cq->size;
}

static void enter_fatal_state(struct nvme *n)
{
	n->csts |= CSTS_CFS;
}

/* The driver's head from the shadow buffer; a value outside the queue is ignored. */
static void refresh_cq_head(struct nvme *n, uint16_t qid)
{
	struct nvme_cq *cq = &n->cq[qid];

	if (!shadowed(n, qid))
		return;
	uint32_t head = load_shadow(n->shadow_db, cq_doorbell(qid));
	if (head < cq->size)
		cq->head = (uint16_t)head;
}

/* Room for one more command's completion, counting those promised to commands in flight. */
static bool cq_has_room(struct nvme *n, uint16_t qid)
{
	struct nvme_cq *cq = &n->cq[qid];

	refresh_cq_head(n, qid);
	if (cq_used(cq) + cq->promised + 1 < cq->size)
		return true;
	/* Full: have the driver ring the head doorbell when it consumes an entry. */
	if (shadowed(n, qid))
		store_event_idx(n, cq_doorbell(qid), cq->head);
	return false;
}

/* Posts a completion queue entry (4.6) in a slot promised to it. */
static void post_completion(struct nvme *n, uint16_t sqid, uint16_t cid, uint16_t status, uint32_t dw0)
{
	struct nvme_sq *sq = &n->sq[sqid];
	struct nvme_cq *cq = &n->cq[sq->cqid];
	uint8_t *slot = cq->ring + (size_t)cq->tail * CQE_BYTES;
	uint32_t dw2 = (uint32_t)sq->head | (uint32_t)sqid << 16;
	uint32_t dw3 = (uint32_t)cid | (uint32_t)(status << 1 | cq->phase) << 16;

	cq->promised--;
	if (status != SC_SUCCESS)
		n->stats.errors++;
	memcpy(slot, &dw0, 4);
	memset(slot + 4, 0, 4);
	memcpy(slot + 8, &dw2, 4);
	/* The phase tag makes the entry the driver's: it goes last. */
	atomic_store_explicit((_Atomic uint32_t *)(slot + 12), dw3, memory_order_release);
	if (++cq->tail == cq->size) {
		cq->tail = 0;
		cq->phase = !cq->phase;
	}
	if (!cq->unsignalled)
		clock_gettime(CLOCK_MONOTONIC, &cq->first_unsignalled);
	cq->unsignalled = true;
	cq->aggregated++;
	/* INTx stays asserted while entries are unread: without MSI-X the driver must say when it read them. */
	if (shadowed(n, sq->cqid) && !msix_enabled(&n->msix))
		store_event_idx(n, cq_doorbell(sq->cqid), cq->head);
}

/* ---- Requests ---- */

static void free_request(struct nvme *n, struct nvme_request *req)
{
	req->next_free = n->free_requests;
	n->free_requests = req;
}

static void grow_requests(struct nvme *n)
{
	if (n->nr_requests >= n->max_requests)
		return;
	struct request_chunk *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->next = n->chunks;
	n->chunks = c;
	n->nr_requests += REQUEST_CHUNK;
	for (unsigned i = 0; i < REQUEST_CHUNK; i++) {
		c->requests[i].n = n;
		free_request(n, &c->requests[i]);
	}
}

static void finish_request(struct nvme_request *req)
{
	struct nvme *n = req->n;

	if (req == &n->shutdown_flush)
		return;
	n->finished++;
	n->sq[req->sqid].in_flight--;
	post_completion(n, req->sqid, req->cid, req->status, 0);
	free_request(n, req);
}

static void backend_done(void *device, void *tag, int result)
{
	struct nvme_request *req = tag;

	(void)device;
	if (result < 0 && req->status == SC_SUCCESS)
		req->status = SC_INTERNAL;
	if (--req->pending == 0)
		finish_request(req);
}

/* ---- Data pointers: PRPs (4.3) and SGLs (4.4) ---- */

struct data_map {
	struct iovec *iov;
	unsigned nr, max;
	uint64_t bytes;
};

/* Appends [gpa, gpa + len) of guest RAM, merged with the last segment when adjacent. */
static uint16_t map_append(struct nvme *n, struct data_map *m, uint64_t gpa, uint64_t len)
{
	uint8_t *p = guest_mem_ptr(n->mem, gpa, len);

	if (!p)
		return SC_DATA_TRANSFER_ERROR;
	struct iovec *last = m->nr ? &m->iov[m->nr - 1] : NULL;
	if (last && (uint8_t *)last->iov_base + last->iov_len == p) {
		last->iov_len += len;
	} else {
		if (m->nr == m->max)
			return SC_INVALID_FIELD;
		m->iov[m->nr++] = (struct iovec){ p, len };
	}
	m->bytes += len;
	return SC_SUCCESS;
}

/* PRP entries of a list, starting at gpa: as many as fit before the end of its page. */
static uint16_t read_prp_list(struct nvme *n, uint64_t gpa, uint64_t *entries, unsigned *count)
{
	unsigned fit = (unsigned)((PAGE_SIZE - gpa % PAGE_SIZE) / 8);

	if (gpa % 8)
		return SC_PRP_OFFSET_INVALID;
	if (*count > fit)
		*count = fit;
	return guest_mem_read(n->mem, gpa, entries, *count * 8u) < 0 ? SC_DATA_TRANSFER_ERROR : SC_SUCCESS;
}

static uint16_t map_prps(struct nvme *n, const struct nvme_cmd *cmd, uint64_t len, struct data_map *m)
{
	uint64_t prp1 = cmd->dptr[0], prp2 = cmd->dptr[1];
	uint64_t first = PAGE_SIZE - prp1 % PAGE_SIZE;

	if (prp1 % 4)
		return SC_PRP_OFFSET_INVALID;
	if (first > len)
		first = len;
	uint16_t st = map_append(n, m, prp1, first);
	uint64_t left = len - first;
	if (st || left == 0)
		return st;
	if (left <= PAGE_SIZE) {
		if (prp2 % PAGE_SIZE)
			return SC_PRP_OFFSET_INVALID;
		return map_append(n, m, prp2, left);
	}
	/* PRP2 points to a list; the last entry of a full list page points to the next page. */
	uint64_t list = prp2;
	/* Every list page but a pathological one carries data: MAX_IOVS pages are plenty. */
	for (unsigned pages = 0; left; pages++) {
		if (pages == MAX_IOVS)
			return SC_INVALID_FIELD;
		uint64_t entries[PAGE_SIZE / 8];
		unsigned want = (unsigned)((left + PAGE_SIZE - 1) / PAGE_SIZE), count = want;
		if ((st = read_prp_list(n, list, entries, &count)))
			return st;
		unsigned data = count < want ? count - 1 : count;
		for (unsigned i = 0; i < data; i++) {
			uint64_t k = left < PAGE_SIZE ? left : PAGE_SIZE;
			if (entries[i] % PAGE_SIZE)
				return SC_PRP_OFFSET_INVALID;
			if ((st = map_append(n, m, entries[i], k)))
				return st;
			left -= k;
		}
		if (left)
			list = entries[count - 1];
	}
	return SC_SUCCESS;
}

static uint16_t read_sgl_segment(struct nvme *n, const struct sgl_descriptor *seg, struct sgl_descriptor *out,
				 unsigned *count)
{
	if (seg->len == 0 || seg->len % sizeof(*out) || seg->len / sizeof(*out) > *count)
		return SC_INVALID_SGL_COUNT;
	*count = seg->len / sizeof(*out);
	return guest_mem_read(n->mem, seg->addr, out, seg->len) < 0 ? SC_DATA_TRANSFER_ERROR : SC_SUCCESS;
}

/* A Data Block descriptor. The SGL must describe exactly the transfer: SGLS bit 17 is clear. */
static uint16_t map_sgl_data(struct nvme *n, const struct sgl_descriptor *d, uint64_t len, struct data_map *m)
{
	if (d->id != SGL_DATA_BLOCK << 4)
		return SC_SGL_TYPE_INVALID;
	if (d->len > len - m->bytes)
		return SC_SGL_LENGTH_INVALID;
	return d->len ? map_append(n, m, d->addr, d->len) : SC_SUCCESS;
}

static uint16_t map_sgl(struct nvme *n, const struct nvme_cmd *cmd, uint64_t len, struct data_map *m)
{
	struct sgl_descriptor d, list[MAX_SGL_DESCRIPTORS];
	unsigned budget = MAX_SGL_DESCRIPTORS;
	uint16_t st;

	memcpy(&d, cmd->dptr, sizeof(d));
	if (d.id == SGL_DATA_BLOCK << 4)
		st = map_sgl_data(n, &d, len, m);
	else
		st = SC_SUCCESS;
	/* A Segment may end with a pointer to the next; a Last Segment may not (4.4). */
	while (st == SC_SUCCESS && (d.id == SGL_SEGMENT << 4 || d.id == SGL_LAST_SEGMENT << 4)) {
		bool last_segment = d.id == SGL_LAST_SEGMENT << 4;
		unsigned count = budget;
		if ((st = read_sgl_segment(n, &d, list, &count)))
			break;
		budget -= count;
		unsigned data = count;
		d.id = SGL_DATA_BLOCK << 4;
		if (!last_segment && (list[count - 1].id >> 4) != SGL_DATA_BLOCK) {
			d = list[count - 1];
			data--;
		}
		for (unsigned i = 0; i < data && st == SC_SUCCESS; i++)
			st = map_sgl_data(n, &list[i], len, m);
		if (d.id == SGL_DATA_BLOCK << 4)
			break;
		if (budget == 0 && st == SC_SUCCESS)
			st = SC_INVALID_SGL_COUNT;
	}
	if (st == SC_SUCCESS && d.id != SGL_DATA_BLOCK << 4 && d.id != SGL_SEGMENT << 4 &&
	    d.id != SGL_LAST_SEGMENT << 4)
		st = SC_SGL_TYPE_INVALID;
	if (st == SC_SUCCESS && m->bytes < len)
		st = SC_SGL_LENGTH_INVALID;
	return st;
}

/* The command's data buffer as iovecs into guest memory. PSDT 0: PRPs; 1 or 2: an SGL (I/O only). */
static uint16_t map_data(struct nvme *n, const struct nvme_cmd *cmd, uint64_t len, bool sgl_allowed,
			 struct iovec *iov, unsigned max, unsigned *nr)
{
	struct data_map m = { iov, 0, max, 0 };
	unsigned psdt = cmd->flags >> 6;
	uint16_t st;

	if (psdt == 0)
		st = map_prps(n, cmd, len, &m);
	else if (psdt == 3 || !sgl_allowed)
		st = SC_INVALID_FIELD;
	else
		st = map_sgl(n, cmd, len, &m);
	*nr = m.nr;
	return st;
}

/* Copies a reply into the command's data buffer (admin commands: PRPs). */
static uint16_t copy_to_guest(struct nvme *n, const struct nvme_cmd *cmd, const void *src, size_t len)
{
	struct iovec iov[3];
	unsigned nr;
	uint16_t st = map_data(n, cmd, len, false, iov, 3, &nr);
	const uint8_t *s = src;

	if (st)
		return st;
	for (unsigned i = 0; i < nr; i++) {
		memcpy(iov[i].iov_base, s, iov[i].iov_len);
		s += iov[i].iov_len;
	}
	return SC_SUCCESS;
}

/* ---- Identify (5.15) ---- */

static void put16(uint8_t *p, unsigned off, uint16_t v)
{
	memcpy(p + off, &v, 2);
}

static void put32(uint8_t *p, unsigned off, uint32_t v)
{
	memcpy(p + off, &v, 4);
}

static void put64(uint8_t *p, unsigned off, uint64_t v)
{
	memcpy(p + off, &v, 8);
}

/* ASCII, padded with spaces, not terminated (1.5). */
static void put_string(uint8_t *p, unsigned off, unsigned len, const char *s)
{
	size_t k = strnlen(s, len);

	memset(p + off, ' ', len);
	memcpy(p + off, s, k);
}

static void identify_controller(const struct nvme *n, uint8_t *id)
{
	put16(id, 0, NVME_VENDOR_ID);
	put16(id, 2, NVME_VENDOR_ID);
	put_string(id, 4, 20, n->serial);
	put_string(id, 24, 40, "vmm NVMe controller");
	put_string(id, 64, 8, "1.0");
	id[72] = 6;                               /* RAB: 64 commands of arbitration burst */
	id[77] = MDTS;
	put16(id, 78, 1);                         /* CNTLID */
	put32(id, 80, NVME_VERSION);
	put32(id, 92, 1u << 8);                   /* OAES: Namespace Attribute Notices */
	id[111] = 1;                              /* CNTRLTYPE: I/O controller */
	put16(id, 256, 1u << 8);                  /* OACS: Doorbell Buffer Config */
	id[258] = 3;                              /* ACL: four Aborts */
	id[259] = AERL;
	id[260] = 1u << 1 | 1;                    /* FRMW: one slot, read-only */
	id[261] = 1u << 2;                        /* LPA: extended data for Get Log Page */
	id[262] = 0;                              /* ELPE: one Error log entry */
	put16(id, 266, 0x157);                    /* WCTEMP: 343 K */
	put16(id, 268, 0x175);                    /* CCTEMP: 373 K */
	id[512] = 6 << 4 | 6;                     /* SQES: 64 bytes */
	id[513] = 4 << 4 | 4;                     /* CQES: 16 bytes */
	put16(id, 514, MQES + 1);                 /* MAXCMD */
	put32(id, 516, 1);                        /* NN */
	put16(id, 520, 1u << 2 | 1u << 3);        /* ONCS: Dataset Management, Write Zeroes */
	id[524] = n->be->write_cache ? 1 | 3u << 1 : 0;   /* VWC; Flush of all namespaces (NSID FFFFFFFFh) */
	put32(id, 536, 1);                        /* SGLS: SGLs without alignment rules */
	snprintf((char *)id + 768, 256, "nqn.2026-12.dev.vmm:nvme:%s", n->serial);
	put16(id, 2048, 2500);                    /* PSD0: MP, 25 W */
}

static uint8_t lba_shift(const struct nvme *n)
{
	return (uint8_t)__builtin_ctz(n->be->logical_block_size);
}

static uint64_t namespace_blocks(const struct nvme *n)
{
	return n->be->size >> lba_shift(n);
}

/* The namespace's globally unique identifier, from the serial (stable across runs). */
static void namespace_guid(const struct nvme *n, uint8_t guid[16])
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *s = n->serial; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	put64(guid, 0, h);
	put64(guid, 8, h * 0x9e3779b97f4a7c15ull | 1);
}

static void identify_namespace(const struct nvme *n, uint8_t *id)
{
	uint64_t blocks = namespace_blocks(n);

	put64(id, 0, blocks);                     /* NSZE */
	put64(id, 8, blocks);                     /* NCAP */
	put64(id, 16, blocks);                    /* NUSE */
	id[24] = 1;                               /* NSFEAT: thin provisioning (deallocation) */
	id[25] = 0;                               /* NLBAF: one format */
	id[33] = 1u << 3 | 1;                     /* DLFEAT: deallocated reads are zeroes; Write Zeroes may deallocate */
	id[99] = n->be->readonly ? 1 : 0;         /* NSATTR: write protected */
	namespace_guid(n, id + 104);              /* NGUID */
	id[128 + 2] = lba_shift(n);               /* LBAF0: LBADS */
}

/* Namespace Identification Descriptors (5.15.2.3): the NGUID, then a terminator. */
static void identify_descriptors(const struct nvme *n, uint8_t *id)
{
	id[0] = 2;                                /* NIDT: NGUID */
	id[1] = 16;
	namespace_guid(n, id + 4);
}

static uint16_t admin_identify(struct nvme *n, const struct nvme_cmd *cmd)
{
	uint8_t id[4096] = { 0 };
	unsigned cns = cmd->cdw10 & 0xff;

	switch (cns) {
	case 0x00:
	case 0x03:
		if (cmd->nsid != 1)
			return SC_INVALID_NAMESPACE | STATUS_DNR;
		if (cns == 0)
			identify_namespace(n, id);
		else
			identify_descriptors(n, id);
		break;
	case 0x01:
		identify_controller(n, id);
		break;
	case 0x02:
		/* Active namespaces above NSID: ours is 1. */
		if (cmd->nsid >= 0xfffffffe)
			return SC_INVALID_NAMESPACE | STATUS_DNR;
		if (cmd->nsid == 0)
			put32(id, 0, 1);
		break;
	default:
		return SC_INVALID_FIELD | STATUS_DNR;
	}
	return copy_to_guest(n, cmd, id, sizeof(id));
}

/* ---- Log pages (5.14) ---- */

static void put128(uint8_t *p, unsigned off, uint64_t v)
{
	put64(p, off, v);
}

static void smart_log(const struct nvme *n, uint8_t *log)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	put16(log, 1, 296);                       /* Composite Temperature: 296 K */
	log[3] = 100;                             /* Available Spare */
	log[4] = 10;                              /* Available Spare Threshold */
	put128(log, 32, (n->units_read + 999) / 1000);
	put128(log, 48, (n->units_written + 999) / 1000);
	put128(log, 64, n->host_reads);
	put128(log, 80, n->host_writes);
	put128(log, 128, (uint64_t)(now.tv_sec - n->powered_on.tv_sec) / 3600);
	put128(log, 176, n->error_count);
}

static uint16_t admin_get_log_page(struct nvme *n, const struct nvme_cmd *cmd)
{
	uint8_t log[512] = { 0 };
	unsigned lid = cmd->cdw10 & 0xff;
	bool retain = cmd->cdw10 & (1u << 15);
	uint64_t dwords = ((cmd->cdw10 >> 16) | (uint64_t)(cmd->cdw11 & 0xffff) << 16) + 1;
	uint64_t offset = cmd->cdw12 | (uint64_t)cmd->cdw13 << 32;
	size_t size;

	switch (lid) {
	case LOG_ERROR:
		/* The newest error: doorbell writes are the only ones logged, tied to no command. */
		size = 64;
		put64(log, 0, n->error_count);
		put16(log, 8, 0xffff);            /* SQID */
		put16(log, 10, 0xffff);           /* CID */
		if (!retain)
			n->error_event_masked = false;
		break;
	case LOG_SMART:
		if (cmd->nsid != 0 && cmd->nsid != 1 && cmd->nsid != 0xffffffff)
			return SC_INVALID_NAMESPACE | STATUS_DNR;
		size = 512;
		smart_log(n, log);
		break;
	case LOG_FIRMWARE:
		size = 512;
		log[0] = 1;                       /* AFI: slot 1 active */
		put_string(log, 8, 8, "1.0");
		break;
	default:
		return SC_INVALID_LOG_PAGE | STATUS_DNR;
	}
	if (offset % 4 || offset > size)
		return SC_INVALID_FIELD | STATUS_DNR;
	uint64_t len = dwords * 4 < size - offset ? dwords * 4 : size - offset;
	if (len == 0)
		return SC_SUCCESS;
	return copy_to_guest(n, cmd, log + offset, len);
}

/* ---- Asynchronous events (5.2) ---- */

static void deliver_events(struct nvme *n)
{
	while (n->nr_aers && n->nr_events) {
		uint32_t event = n->pending_events[0];
		memmove(n->pending_events, n->pending_events + 1, --n->nr_events * sizeof(uint32_t));
		post_completion(n, 0, n->aer_cids[--n->nr_aers], SC_SUCCESS, event);
	}
}

static void raise_error_event(struct nvme *n, unsigned info)
{
	n->error_count++;
	if (n->error_event_masked || n->nr_events == sizeof(n->pending_events) / sizeof(n->pending_events[0]))
		return;
	n->error_event_masked = true;
	n->pending_events[n->nr_events++] = AER_TYPE_ERROR | info << 8 | LOG_ERROR << 16;
	deliver_events(n);
	signal_queues(n);
}

/* ---- Queue management (5.3-5.6) ---- */

static bool io_qid_ok(const struct nvme *n, uint16_t qid)
{
	return qid >= 1 && qid <= n->nr_io_queues;
}

/* A queue's entries, wholly in guest RAM; CAP.CQR: physically contiguous, page aligned. */
static uint8_t *map_ring(struct nvme *n, uint64_t gpa, unsigned entries, unsigned entry_bytes)
{
	if (gpa % PAGE_SIZE)
		return NULL;
	return guest_mem_ptr(n->mem, gpa, (uint64_t)entries * entry_bytes);
}

static uint16_t admin_create_cq(struct nvme *n, const struct nvme_cmd *cmd)
{
	uint16_t qid = (uint16_t)cmd->cdw10, size = (uint16_t)((cmd->cdw10 >> 16) + 1);
	uint16_t vector = (uint16_t)(cmd->cdw11 >> 16);

	if (!io_qid_ok(n, qid) || n->cq[qid].ring)
		return SC_INVALID_QID | STATUS_DNR;
	if (size < 2 || size > MQES + 1)
		return SC_INVALID_QSIZE | STATUS_DNR;
	if (vector >= n->msix.nr)
		return SC_INVALID_VECTOR | STATUS_DNR;
	if (!(cmd->cdw11 & 1) || CC_IOCQES(n->cc) != 4)
		return SC_INVALID_FIELD | STATUS_DNR;   /* PC must be set (CAP.CQR); 16-byte entries */
	uint8_t *ring = map_ring(n, cmd->dptr[0], size, CQE_BYTES);
	if (!ring)
		return SC_INVALID_FIELD | STATUS_DNR;
	n->cq[qid] = (struct nvme_cq){ .ring = ring, .size = size, .phase = true, .ien = cmd->cdw11 & 2,
				       .vector = vector };
	if (shadowed(n, qid)) {
		/* Never needed: the controller reads the head from the shadow buffer. */
		store_event_idx(n, cq_doorbell(qid), (uint16_t)(size - 1));
	}
	return SC_SUCCESS;
}

static void bind_doorbell(struct nvme *n, struct nvme_sq *sq)
{
	uint64_t bar = n->pci.bars[0].mapped_at;

	if (!n->ioevents || sq->fd < 0 || sq->bound_at || !bar || !shadowed(n, sq->id) || !sq->ring)
		return;
	struct ioevent where = { .space = IOEVENT_MMIO, .addr = bar + NVME_DOORBELLS + sq_doorbell(sq->id), .len = 4 };
	if (n->ioevents->ops->assign(n->ioevents->ctx, &where, sq->fd) == 0)
		sq->bound_at = where.addr;
}

static void unbind_doorbell(struct nvme *n, struct nvme_sq *sq)
{
	if (!sq->bound_at)
		return;
	struct ioevent where = { .space = IOEVENT_MMIO, .addr = sq->bound_at, .len = 4 };
	n->ioevents->ops->deassign(n->ioevents->ctx, &where, sq->fd);
	sq->bound_at = 0;
}

static uint16_t admin_create_sq(struct nvme *n, const struct nvme_cmd *cmd)
{
	uint16_t qid = (uint16_t)cmd->cdw10, size = (uint16_t)((cmd->cdw10 >> 16) + 1);
	uint16_t cqid = (uint16_t)(cmd->cdw11 >> 16);

	if (!io_qid_ok(n, qid) || n->sq[qid].ring)
		return SC_INVALID_QID | STATUS_DNR;
	if (!io_qid_ok(n, cqid) || !n->cq[cqid].ring)
		return SC_CQ_INVALID | STATUS_DNR;
	if (size < 2 || size > MQES + 1)
		return SC_INVALID_QSIZE | STATUS_DNR;
	if (!(cmd->cdw11 & 1) || CC_IOSQES(n->cc) != 6)
		return SC_INVALID_FIELD | STATUS_DNR;   /* 64-byte entries */
	uint8_t *ring = map_ring(n, cmd->dptr[0], size, SQE_BYTES);
	if (!ring)
		return SC_INVALID_FIELD | STATUS_DNR;
	struct nvme_sq *sq = &n->sq[qid];
	sq->ring = ring;
	sq->size = size;
	sq->head = sq->tail = 0;
	sq->cqid = cqid;
	sq->in_flight = 0;
	n->max_requests += size;
	if (shadowed(n, qid))
		store_event_idx(n, sq_doorbell(qid), 0);
	bind_doorbell(n, sq);
	return SC_SUCCESS;
}

/* Commands of a deleted queue complete first (their data lands while the driver still owns it). */
static void drain_backend(struct nvme *n)
{
	n->be->ops->drain(n->be->ctx);
}

static void delete_sq(struct nvme *n, uint16_t qid)
{
	struct nvme_sq *sq = &n->sq[qid];

	unbind_doorbell(n, sq);
	n->max_requests -= sq->ring ? sq->size : 0;
	sq->ring = NULL;
	sq->size = sq->head = sq->tail = 0;
	sq->cqid = QUEUE_ABSENT;
}

static uint16_t admin_delete_sq(struct nvme *n, const struct nvme_cmd *cmd)
{
	uint16_t qid = (uint16_t)cmd->cdw10;

	if (!io_qid_ok(n, qid) || !n->sq[qid].ring)
		return SC_INVALID_QID | STATUS_DNR;
	drain_backend(n);
	delete_sq(n, qid);
	return SC_SUCCESS;
}

static uint16_t admin_delete_cq(struct nvme *n, const struct nvme_cmd *cmd)
{
	uint16_t qid = (uint16_t)cmd->cdw10;

	if (!io_qid_ok(n, qid) || !n->cq[qid].ring)
		return SC_INVALID_QID | STATUS_DNR;
	for (unsigned q = 1; q <= n->nr_io_queues; q++)
		if (n->sq[q].ring && n->sq[q].cqid == qid)
			return SC_INVALID_QUEUE_DELETION | STATUS_DNR;
	n->cq[qid] = (struct nvme_cq){ 0 };
	return SC_SUCCESS;
}

/* Doorbell Buffer Config (5.7): one page each, the shadow doorbells and EventIdx. */
static uint16_t admin_doorbell_buffer(struct nvme *n, const struct nvme_cmd *cmd)
{
	uint64_t dbs = cmd->dptr[0], eis = cmd->dptr[1];
	uint8_t *shadow = dbs % PAGE_SIZE ? NULL : guest_mem_ptr(n->mem, dbs, PAGE_SIZE);
	uint8_t *event_idx = eis % PAGE_SIZE ? NULL : guest_mem_ptr(n->mem, eis, PAGE_SIZE);

	if (!shadow || !event_idx || (cmd->flags >> 6))
		return SC_INVALID_FIELD | STATUS_DNR;
	n->shadow_db = shadow;
	n->event_idx = event_idx;
	/* Queues made before: their current tails and heads carry over into the buffer. */
	for (uint16_t q = 1; q <= n->nr_io_queues; q++) {
		if (n->sq[q].ring) {
			atomic_store((_Atomic uint32_t *)(shadow + sq_doorbell(q)), n->sq[q].tail);
			store_event_idx(n, sq_doorbell(q), n->sq[q].tail);
			n->sq[q].fd >= 0 ? bind_doorbell(n, &n->sq[q]) : (void)0;
		}
		if (n->cq[q].ring) {
			atomic_store((_Atomic uint32_t *)(shadow + cq_doorbell(q)), n->cq[q].head);
			store_event_idx(n, cq_doorbell(q), (uint16_t)(n->cq[q].size - 1));
		}
	}
	return SC_SUCCESS;
}

/* ---- Features (5.21) ---- */

static uint16_t set_num_queues(struct nvme *n, const struct nvme_cmd *cmd, uint32_t *dw0)
{
	if ((cmd->cdw11 & 0xffff) == 0xffff || (cmd->cdw11 >> 16) == 0xffff)
		return SC_INVALID_FIELD | STATUS_DNR;
	for (unsigned q = 1; q <= n->nr_io_queues; q++)
		if (n->sq[q].ring || n->cq[q].ring)
			return SC_SEQUENCE_ERROR | STATUS_DNR;
	/* The controller allocates what it has, whatever was asked (5.21.1.7). */
	*dw0 = (n->nr_io_queues - 1) | (n->nr_io_queues - 1) << 16;
	return SC_SUCCESS;
}

static uint16_t set_write_cache(struct nvme *n, bool on)
{
	if (!n->be->write_cache)
		return SC_INVALID_FIELD | STATUS_DNR;
	if (!on && n->write_cache)
		drain_backend(n);   /* what completed so far must be durable once it is off */
	n->write_cache = on;
	n->be->ops->set_write_cache(n->be->ctx, on);
	return SC_SUCCESS;
}

static uint16_t set_irq_config(struct nvme *n, uint32_t cdw11)
{
	uint16_t vector = (uint16_t)cdw11;

	if (vector >= n->msix.nr)
		return SC_INVALID_FIELD | STATUS_DNR;
	n->vector_no_coalescing[vector] = cdw11 & (1u << 16);
	return SC_SUCCESS;
}

static uint16_t admin_set_features(struct nvme *n, const struct nvme_cmd *cmd, uint32_t *dw0)
{
	uint32_t v = cmd->cdw11;

	if (cmd->cdw10 & (1u << 31))
		return SC_FEATURE_NOT_SAVEABLE | STATUS_DNR;
	switch (cmd->cdw10 & 0xff) {
	case FEAT_ARBITRATION: n->arbitration = v; return SC_SUCCESS;
	case FEAT_POWER: return (v & 0x1f) ? SC_INVALID_FIELD | STATUS_DNR : (n->power = v, SC_SUCCESS);
	case FEAT_TEMPERATURE: n->temp_threshold = v & 0xffff; return SC_SUCCESS;
	case FEAT_ERROR_RECOVERY: n->error_recovery = v & 0xffff; return SC_SUCCESS;
	case FEAT_WRITE_CACHE: return set_write_cache(n, v & 1);
	case FEAT_NUM_QUEUES: return set_num_queues(n, cmd, dw0);
	case FEAT_IRQ_COALESCING: n->irq_coalescing = v & 0xffff; return SC_SUCCESS;
	case FEAT_IRQ_CONFIG: return set_irq_config(n, v);
	case FEAT_WRITE_ATOMICITY: return SC_SUCCESS;
	case FEAT_ASYNC_EVENT: n->async_config = v; return SC_SUCCESS;
	default: return SC_INVALID_FIELD | STATUS_DNR;
	}
}

static uint16_t admin_get_features(struct nvme *n, const struct nvme_cmd *cmd, uint32_t *dw0)
{
	unsigned select = (cmd->cdw10 >> 8) & 7;
	/* Current, default and saved values are the same but where the driver changed one. */
	bool current = select == 0;
	switch (cmd->cdw10 & 0xff) {
	case FEAT_ARBITRATION: *dw0 = current ? n->arbitration : 0; break;
	case FEAT_POWER: *dw0 = current ? n->power : 0; break;
	case FEAT_TEMPERATURE: *dw0 = current ? n->temp_threshold : 0x157; break;
	case FEAT_ERROR_RECOVERY: *dw0 = current ? n->error_recovery : 0; break;
	case FEAT_WRITE_CACHE: *dw0 = current ? n->write_cache : n->be->write_cache; break;
	case FEAT_NUM_QUEUES: *dw0 = (n->nr_io_queues - 1) | (n->nr_io_queues - 1) << 16; break;
	case FEAT_IRQ_COALESCING: *dw0 = current ? n->irq_coalescing : 0; break;
	case FEAT_IRQ_CONFIG:
		if ((uint16_t)cmd->cdw11 >= n->msix.nr)
			return SC_INVALID_FIELD | STATUS_DNR;
		*dw0 = (uint16_t)cmd->cdw11 | (current && n->vector_no_coalescing[(uint16_t)cmd->cdw11]) << 16;
		break;
	case FEAT_WRITE_ATOMICITY: *dw0 = 0; break;
	case FEAT_ASYNC_EVENT: *dw0 = current ? n->async_config : 0; break;
	default: return SC_INVALID_FIELD | STATUS_DNR;
	}
	if (select == 3)
		*dw0 = 1u << 2;     /* capabilities: changeable, not saveable */
	return SC_SUCCESS;
}

/* ---- The admin queue ---- */

/* Returns false when the command stays outstanding (an Asynchronous Event Request). */
static bool admin_command(struct nvme *n, const struct nvme_cmd *cmd, uint16_t *status, uint32_t *dw0)
{
	*dw0 = 0;
	switch (cmd->opcode) {
	case ADM_DELETE_SQ: *status = admin_delete_sq(n, cmd); break;
	case ADM_CREATE_SQ: *status = admin_create_sq(n, cmd); break;
	case ADM_GET_LOG_PAGE: *status = admin_get_log_page(n, cmd); break;
	case ADM_DELETE_CQ: *status = admin_delete_cq(n, cmd); break;
	case ADM_CREATE_CQ: *status = admin_create_cq(n, cmd); break;
	case ADM_IDENTIFY: *status = admin_identify(n, cmd); break;
	case ADM_ABORT: *dw0 = 1; *status = SC_SUCCESS; break;   /* not aborted: commands finish soon */
	case ADM_SET_FEATURES: *status = admin_set_features(n, cmd, dw0); break;
	case ADM_GET_FEATURES: *status = admin_get_features(n, cmd, dw0); break;
	case ADM_DOORBELL_BUFFER: *status = admin_doorbell_buffer(n, cmd); break;
	case ADM_ASYNC_EVENT:
		if (n->nr_aers > AERL) {
			*status = SC_AER_LIMIT;
			break;
		}
		n->aer_cids[n->nr_aers++] = cmd->cid;
		return false;
	default: *status = SC_INVALID_OPCODE | STATUS_DNR; break;
	}
	return true;
}

static void read_sqe(const struct nvme_sq *sq, struct nvme_cmd *cmd)
{
	memcpy(cmd, sq->ring + (size_t)sq->head * SQE_BYTES, sizeof(*cmd));
}

static void run_admin_queue(struct nvme *n)
{
	struct nvme_sq *sq = &n->sq[0];
	struct nvme_cmd cmd;
	uint16_t status;
	uint32_t dw0;

	while (sq->head != sq->tail && cq_has_room(n, 0) && !(n->csts & CSTS_CFS)) {
		read_sqe(sq, &cmd);
		sq->head = (uint16_t)((sq->head + 1) % sq->size);
		n->stats.admin_commands++;
		n->cq[0].promised++;
		if (admin_command(n, &cmd, &status, &dw0))
			post_completion(n, 0, cmd.cid, status, dw0);
	}
	deliver_events(n);
}

/* ---- I/O commands (6) ---- */

static uint16_t check_range(const struct nvme *n, uint64_t slba, uint64_t nlb)
{
	uint64_t blocks = namespace_blocks(n);
	return slba < blocks && nlb <= blocks - slba ? SC_SUCCESS : SC_LBA_OUT_OF_RANGE | STATUS_DNR;
}

static void count_io(struct nvme *n, bool is_read, uint64_t bytes)
{
	/* In 512-byte units; the log reports thousands of them, rounded up (5.14.1.2). */
	uint64_t units = (bytes + 511) / 512;
	if (is_read) {
		n->host_reads++;
		n->units_read += units;
	} else {
		n->host_writes++;
		n->units_written += units;
	}
}

/* A backend call's result for the command: one more operation to wait for, a failure, or
 * -EAGAIN (no room: the command stays in its queue). */
static int queued(struct nvme_request *req, int r)
{
	if (r == -EAGAIN)
		return r;
	if (r < 0)
		req->status = SC_INTERNAL;
	else
		req->pending++;
	return 0;
}

/* Returns -EAGAIN when the backend has no room: the command goes back to the queue. */
static int io_read_write(struct nvme *n, struct nvme_request *req, const struct nvme_cmd *cmd)
{
	bool is_read = cmd->opcode == IO_READ;
	uint64_t slba = cmd->cdw10 | (uint64_t)cmd->cdw11 << 32, nlb = (cmd->cdw12 & 0xffff) + 1;
	uint64_t bytes = nlb << lba_shift(n);
	unsigned nr;

	if ((req->status = check_range(n, slba, nlb)))
		return 0;
	if (bytes > MAX_TRANSFER) {
		req->status = SC_INVALID_FIELD | STATUS_DNR;
		return 0;
	}
	if (!is_read && n->be->readonly) {
		req->status = SC_WRITE_PROTECTED | STATUS_DNR;
		return 0;
	}
	if ((req->status = map_data(n, cmd, bytes, true, req->iov, MAX_IOVS, &nr)))
		return 0;
	const struct block_backend *be = n->be;
	uint64_t offset = slba << lba_shift(n);
	int r = queued(req, is_read ? be->ops->read(be->ctx, offset, req->iov, nr, req)
				    : be->ops->write(be->ctx, offset, req->iov, nr, req));
	if (r || req->status)
		return r;
	count_io(n, is_read, bytes);
	/* FUA (6.15): durable on completion; a flush queued after the write waits for it. */
	if (!is_read && (cmd->cdw12 & (1u << 30)) && n->write_cache) {
		if (be->ops->flush(be->ctx, req) == 0)
			req->pending++;
		else
			req->status = SC_INTERNAL;
	}
	return 0;
}

static int io_write_zeroes(struct nvme *n, struct nvme_request *req, const struct nvme_cmd *cmd)
{
	uint64_t slba = cmd->cdw10 | (uint64_t)cmd->cdw11 << 32, nlb = (cmd->cdw12 & 0xffff) + 1;
	bool deallocate = cmd->cdw12 & (1u << 25);

	if ((req->status = check_range(n, slba, nlb)))
		return 0;
	if (n->be->readonly) {
		req->status = SC_WRITE_PROTECTED | STATUS_DNR;
		return 0;
	}
	return queued(req, n->be->ops->write_zeroes(n->be->ctx, slba << lba_shift(n), nlb << lba_shift(n), deallocate,
						    req));
}

/* Dataset Management (6.7): only Deallocate does anything; ranges are checked first. */
static int io_dsm(struct nvme *n, struct nvme_request *req, const struct nvme_cmd *cmd)
{
	struct dsm_range ranges[DSM_MAX_RANGES];
	unsigned nr_ranges = (cmd->cdw10 & 0xff) + 1, nr;
	struct iovec iov[3];

	if (!(cmd->cdw11 & (1u << 2)))
		return 0;
	if (n->be->readonly) {
		req->status = SC_WRITE_PROTECTED | STATUS_DNR;
		return 0;
	}
	if ((req->status = map_data(n, cmd, nr_ranges * sizeof(ranges[0]), true, iov, 3, &nr)))
		return 0;
	uint8_t *d = (uint8_t *)ranges;
	for (unsigned i = 0; i < nr; d += iov[i].iov_len, i++)
		memcpy(d, iov[i].iov_base, iov[i].iov_len);
	for (unsigned i = 0; i < nr_ranges; i++)
		if ((req->status = check_range(n, ranges[i].slba, ranges[i].nlb)))
			return 0;
	for (unsigned i = 0; i < nr_ranges; i++) {
		if (ranges[i].nlb == 0)
			continue;
		if (n->be->ops->discard(n->be->ctx, ranges[i].slba << lba_shift(n),
					(uint64_t)ranges[i].nlb << lba_shift(n), req) < 0)
			req->status = SC_INTERNAL;
		else
			req->pending++;
	}
	return 0;
}

static int io_flush(struct nvme *n, struct nvme_request *req)
{
	return queued(req, n->be->ops->flush(n->be->ctx, req));
}

static int io_command(struct nvme *n, struct nvme_request *req, const struct nvme_cmd *cmd)
{
	bool all_namespaces = cmd->opcode == IO_FLUSH && cmd->nsid == 0xffffffff;

	if (cmd->nsid != 1 && !all_namespaces) {
		req->status = SC_INVALID_NAMESPACE | STATUS_DNR;
		return 0;
	}
	switch (cmd->opcode) {
	case IO_FLUSH: return io_flush(n, req);
	case IO_READ:
	case IO_WRITE: return io_read_write(n, req, cmd);
	case IO_WRITE_ZEROES: return io_write_zeroes(n, req, cmd);
	case IO_DSM: return io_dsm(n, req, cmd);
	default: req->status = SC_INVALID_OPCODE | STATUS_DNR; return 0;
	}
}

/* Backend operations a command queues at most: a discard per range, or a write and its FUA flush. */
static unsigned backend_ops_needed(const struct nvme_cmd *cmd)
{
	return cmd->opcode == IO_DSM ? (cmd->cdw10 & 0xff) + 1 : 2;
}

/* Takes one command off I/O queue sq; false when there is nothing (more) to do now. */
static bool take_command(struct nvme *n, struct nvme_sq *sq)
{
	struct nvme_cmd cmd;

	if (sq->head == sq->tail || !cq_has_room(n, sq->cqid))
		return false;
	if (!n->free_requests)
		grow_requests(n);
	struct nvme_request *req = n->free_requests;
	/* No request or no backend room: commands in flight will complete and bring the controller back. */
	if (!req)
		return false;
	read_sqe(sq, &cmd);
	if (!n->be->ops->has_room(n->be->ctx, backend_ops_needed(&cmd)))
		return false;
	req->sqid = sq->id;
	req->cid = cmd.cid;
	req->status = SC_SUCCESS;
	req->pending = 0;
	if (io_command(n, req, &cmd) == -EAGAIN)
		return false;          /* earlier commands in flight will make room */
	n->free_requests = req->next_free;
	sq->head = (uint16_t)((sq->head + 1) % sq->size);
	sq->in_flight++;
	n->cq[sq->cqid].promised++;
	n->stats.commands++;
	req->pending++;            /* held while the command is being queued */
	backend_done(n, req, 0);
	return true;
}

/* I/O queues run on the event loop: the doorbell exit only signals it. */
static bool kick_io_queue(struct nvme_sq *sq)
{
	uint64_t one = 1;

	return sq->fd >= 0 && write(sq->fd, &one, sizeof(one)) == sizeof(one);
}

static bool refresh_sq_tail(struct nvme *n, struct nvme_sq *sq)
{
	uint32_t tail = load_shadow(n->shadow_db, sq_doorbell(sq->id));

	if (tail >= sq->size) {
		raise_error_event(n, AER_INVALID_DB_VALUE);
		return false;
	}
	sq->tail = (uint16_t)tail;
	return true;
}

/*
 * One I/O submission queue. With shadow doorbells, EventIdx asks for no
 * doorbell while BLOCK_KICKS_HELD_MIN_IN_FLIGHT or more commands are in
 * flight (block_backend.h says why): their completions bring
 * the controller back here (7.13). With fewer, and idle, the next command
 * rings.
 */
static void run_io_queue(struct nvme *n, struct nvme_sq *sq)
{
	if (!sq->ring || (n->csts & CSTS_CFS))
		return;
	if (!shadowed(n, sq->id)) {
		while (take_command(n, sq))
			;
		return;
	}
	n->stats.shadow_polls++;
	/* A driver that keeps moving its tail gets the loop back later, not this thread forever. */
	for (unsigned round = 0;; round++) {
		if (round == 4) {
			kick_io_queue(sq);
			return;
		}
		if (!refresh_sq_tail(n, sq))
			return;
		while (take_command(n, sq))
			;
		if (sq->in_flight >= BLOCK_KICKS_HELD_MIN_IN_FLIGHT) {
			store_event_idx(n, sq_doorbell(sq->id), (uint16_t)((sq->head + sq->size - 1) % sq->size));
			return;
		}
		store_event_idx(n, sq_doorbell(sq->id), sq->tail);
		if (load_shadow(n->shadow_db, sq_doorbell(sq->id)) == sq->tail)
			return;
	}
}

/*
 * Sends what the queues took. Completions may come inside submit() (io_uring's
 * page-cache hits), and they change what the queues may do, as after reap():
 * room, and EventIdx of a queue that went idle. So the queues run again while
 * submit() completes something; a driver that keeps them busy gets the event
 * loop back after a few rounds, its queues kicked to be looked at again.
 */
static void submit_and_rerun(struct nvme *n)
{
	for (unsigned round = 0;; round++) {
		uint64_t finished = n->finished;
		n->be->ops->submit(n->be->ctx);
		if (n->finished == finished || !(n->csts & CSTS_RDY))
			return;
		for (unsigned q = 1; q <= n->nr_io_queues; q++) {
			if (round < 8)
				run_io_queue(n, &n->sq[q]);
			else
				kick_io_queue(&n->sq[q]);
		}
		if (round >= 8)
			return;
	}
}

static void run_io_queues(struct nvme *n)
{
	for (unsigned q = 1; q <= n->nr_io_queues; q++)
		run_io_queue(n, &n->sq[q]);
	submit_and_rerun(n);
}

/* After completions: what waited for room, then the interrupts. */
static void after_completions(struct nvme *n)
{
	if (n->cc & CC_EN)
		run_io_queues(n);
	signal_queues(n);
}

void nvme_complete_io(void *opaque)
{
	struct nvme *n = opaque;

	pthread_mutex_lock(&n->lock);
	n->be->ops->reap(n->be->ctx);
	after_completions(n);
	pthread_mutex_unlock(&n->lock);
}

static void sq_kicked(void *arg)
{
	struct nvme_sq *sq = arg;
	struct nvme *n = sq->n;
	uint64_t count;

	if (read(sq->fd, &count, sizeof(count)) != sizeof(count))
		return;
	pthread_mutex_lock(&n->lock);
	if (n->csts & CSTS_RDY) {
		run_io_queue(n, sq);
		submit_and_rerun(n);
		signal_queues(n);
	}
	pthread_mutex_unlock(&n->lock);
}

/* ---- Controller enable, reset and shutdown (7.6) ---- */

static void reset_queues(struct nvme *n)
{
	for (uint16_t q = 0; q <= n->nr_io_queues; q++) {
		delete_sq(n, q);
		n->cq[q] = (struct nvme_cq){ 0 };
	}
	n->max_requests = 0;
}

static void reset_features(struct nvme *n)
{
	n->write_cache = n->be->write_cache;
	n->be->ops->set_write_cache(n->be->ctx, n->write_cache);
	n->arbitration = n->power = n->error_recovery = n->async_config = n->irq_coalescing = 0;
	n->temp_threshold = 0x157;
	memset(n->vector_no_coalescing, 0, n->msix.nr * sizeof(bool));
	n->nr_aers = n->nr_events = 0;
	n->error_event_masked = false;
}

/* Controller Level Reset: commands in flight complete first, then every queue goes. */
static void controller_reset(struct nvme *n)
{
	drain_backend(n);
	reset_queues(n);
	n->shadow_db = n->event_idx = NULL;
	reset_features(n);
	n->csts &= 3u << 2;    /* RDY and CFS clear; a shutdown stays reported */
	n->intms = 0;
	update_intx(n);
}

static void controller_enable(struct nvme *n)
{
	uint16_t sq_size = (uint16_t)((n->aqa & 0xfff) + 1), cq_size = (uint16_t)(((n->aqa >> 16) & 0xfff) + 1);
	uint8_t *sq_ring = map_ring(n, n->asq, sq_size, SQE_BYTES);
	uint8_t *cq_ring = map_ring(n, n->acq, cq_size, CQE_BYTES);

	if (CC_CSS(n->cc) != 0 || CC_MPS(n->cc) != 0 || CC_AMS(n->cc) != 0 || sq_size < 2 || cq_size < 2 ||
	    !sq_ring || !cq_ring) {
		enter_fatal_state(n);
		return;
	}
	n->sq[0] = (struct nvme_sq){ .ring = sq_ring, .size = sq_size, .cqid = 0, .fd = -1, .n = n, .id = 0 };
	n->cq[0] = (struct nvme_cq){ .ring = cq_ring, .size = cq_size, .phase = true, .ien = true, .vector = 0 };
	n->max_requests = 0;
	n->csts = CSTS_RDY;
}

/* Normal or abrupt shutdown (CC.SHN): what is in flight completes, the write cache is flushed. */
static void controller_shutdown(struct nvme *n)
{
	drain_backend(n);
	n->shutdown_flush = (struct nvme_request){ .n = n, .pending = 1 };
	if (n->write_cache && n->be->ops->flush(n->be->ctx, &n->shutdown_flush) == 0) {
		n->be->ops->submit(n->be->ctx);
		drain_backend(n);
	}
	n->csts = (n->csts & ~(3u << 2)) | CSTS_SHST_DONE;
}

static void write_cc(struct nvme *n, uint32_t cc)
{
	uint32_t old = n->cc;

	/* IOSQES and IOCQES are checked when I/O queues are made, the rest at enable. */
	n->cc = cc;
	if ((cc & CC_EN) && !(old & CC_EN))
		controller_enable(n);
	else if (!(cc & CC_EN) && (old & CC_EN))
		controller_reset(n);
	if (CC_SHN(cc) && !CC_SHN(old))
		controller_shutdown(n);
	else if (!CC_SHN(cc))
		n->csts &= ~(3u << 2);
}

/* ---- Doorbells (3.1.17, 3.1.18) ---- */

static void write_sq_doorbell(struct nvme *n, uint16_t qid, uint32_t value)
{
	struct nvme_sq *sq = &n->sq[qid];

	if (!sq->ring) {
		raise_error_event(n, AER_INVALID_DB_REGISTER);
		return;
	}
	if (value >= sq->size) {
		raise_error_event(n, AER_INVALID_DB_VALUE);
		return;
	}
	/* Shadowed, the write still means "look": run_io_queue() reads the shadow tail. */
	sq->tail = (uint16_t)value;
	if (qid == 0) {
		run_admin_queue(n);
		signal_queues(n);
		return;
	}
	if (!kick_io_queue(sq)) {
		run_io_queue(n, sq);
		submit_and_rerun(n);
		signal_queues(n);
	}
}

static void write_cq_doorbell(struct nvme *n, uint16_t qid, uint32_t value)
{
	struct nvme_cq *cq = &n->cq[qid];

	if (!cq->ring) {
		raise_error_event(n, AER_INVALID_DB_REGISTER);
		return;
	}
	/* The head may move only over entries the controller posted. */
	if (!shadowed(n, qid) && (value >= cq->size || (value + cq->size - cq->head) % cq->size > cq_used(cq))) {
		raise_error_event(n, AER_INVALID_DB_VALUE);
		return;
	}
	if (shadowed(n, qid))
		refresh_cq_head(n, qid);
	else
		cq->head = (uint16_t)value;
	update_intx(n);
	if (qid == 0) {
		run_admin_queue(n);
		signal_queues(n);
		return;
	}
	/* Room in the queue: the submission queues that complete into it may go on. */
	for (unsigned q = 1; q <= n->nr_io_queues; q++) {
		struct nvme_sq *sq = &n->sq[q];
		if (sq->ring && sq->cqid == qid && !kick_io_queue(sq))
			run_io_queue(n, sq);
	}
	submit_and_rerun(n);
	signal_queues(n);
}

static void write_doorbell(struct nvme *n, uint64_t offset, uint32_t value)
{
	uint32_t index = (uint32_t)(offset / 4);
	uint16_t qid = (uint16_t)(index / 2);

	n->stats.doorbell_writes++;
	if (!(n->cc & CC_EN) || !(n->csts & CSTS_RDY) || (n->csts & CSTS_CFS))
		return;
	if (qid > n->nr_io_queues) {
		raise_error_event(n, AER_INVALID_DB_REGISTER);
		return;
	}
	if (index % 2 == 0)
		write_sq_doorbell(n, qid, value);
	else
		write_cq_doorbell(n, qid, value);
}

/* ---- Registers ---- */

static uint64_t read_register(struct nvme *n, uint64_t offset)
{
	switch (offset) {
	case REG_CAP:
		return MQES | CAP_CQR | CAP_TO | CAP_CSS_NVM;
	case REG_CAP + 4:
		return (MQES | CAP_CQR | CAP_TO | CAP_CSS_NVM) >> 32;
	case REG_VS: return NVME_VERSION;
	case REG_INTMS:
	case REG_INTMC: return n->intms;
	case REG_CC: return n->cc;
	case REG_CSTS: return n->csts;
	case REG_AQA: return n->aqa;
	case REG_ASQ: return n->asq;
	case REG_ASQ + 4: return n->asq >> 32;
	case REG_ACQ: return n->acq;
	case REG_ACQ + 4: return n->acq >> 32;
	default: return 0;
	}
}

static void write_register(struct nvme *n, uint64_t offset, uint64_t value, unsigned size)
{
	switch (offset) {
	case REG_INTMS: n->intms |= (uint32_t)value & 1; update_intx(n); break;
	case REG_INTMC: n->intms &= ~((uint32_t)value & 1); update_intx(n); break;
	case REG_CC: write_cc(n, (uint32_t)value); break;
	case REG_AQA: n->aqa = (uint32_t)value & 0x0fff0fff; break;
	case REG_ASQ: n->asq = size == 8 ? value & ~0xfffull : (n->asq & ~0xffffffffull) | (value & ~0xfffull); break;
	case REG_ASQ + 4: n->asq = (n->asq & 0xffffffffull) | value << 32; break;
	case REG_ACQ: n->acq = size == 8 ? value & ~0xfffull : (n->acq & ~0xffffffffull) | (value & ~0xfffull); break;
	case REG_ACQ + 4: n->acq = (n->acq & 0xffffffffull) | value << 32; break;
	default: break;   /* read-only, NSSR (not supported) and reserved */
	}
}

static bool in_msix(uint64_t offset, uint64_t base, unsigned bytes)
{
	return offset >= base && offset < base + bytes;
}

static void bar_read(struct pci_function *f, int bar, uint64_t offset, uint8_t *data, unsigned size)
{
	struct nvme *n = f->opaque;

	memset(data, 0, size);
	if (bar != 0)
		return;
	if (in_msix(offset, MSIX_TABLE_OFFSET, n->msix.nr * MSIX_ENTRY_BYTES))
		return msix_table_read(&n->msix, offset - MSIX_TABLE_OFFSET, data, size);
	if (in_msix(offset, MSIX_PBA_OFFSET, 0x1000))
		return msix_pba_read(&n->msix, offset - MSIX_PBA_OFFSET, data, size);
	if (offset >= REG_END || (size != 4 && size != 8) || offset % 4)
		return;
	pthread_mutex_lock(&n->lock);
	uint64_t v = read_register(n, offset);
	if (size == 8)
		v = (v & 0xffffffffull) | read_register(n, offset + 4) << 32;
	pthread_mutex_unlock(&n->lock);
	memcpy(data, &v, size);
}

static void bar_write(struct pci_function *f, int bar, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct nvme *n = f->opaque;
	uint64_t v = 0;

	if (bar != 0)
		return;
	if (in_msix(offset, MSIX_TABLE_OFFSET, n->msix.nr * MSIX_ENTRY_BYTES))
		return msix_table_write(&n->msix, offset - MSIX_TABLE_OFFSET, data, size);
	/* Registers are 32 or 64 bits wide, naturally aligned (3.1). */
	if ((size != 4 && size != 8) || offset % 4)
		return;
	memcpy(&v, data, size);
	pthread_mutex_lock(&n->lock);
	if (offset >= NVME_DOORBELLS && offset < MSIX_TABLE_OFFSET)
		write_doorbell(n, offset - NVME_DOORBELLS, (uint32_t)v);
	else if (offset < REG_END)
		write_register(n, offset, v, size);
	pthread_mutex_unlock(&n->lock);
}

static void config_written(struct pci_function *f, unsigned off, unsigned size)
{
	struct nvme *n = f->opaque;

	if (off <= n->msix_cap + MSIX_CONTROL + 1 && off + size > n->msix_cap + MSIX_CONTROL) {
		uint16_t ctl = pci_cfg16(f, n->msix_cap + MSIX_CONTROL);
		msix_set_control(&n->msix, ctl & MSIX_CONTROL_ENABLE, ctl & MSIX_CONTROL_MASK);
		pthread_mutex_lock(&n->lock);
		if (msix_enabled(&n->msix))
			pci_set_intx(&n->pci, false);
		else
			update_intx(n);
		pthread_mutex_unlock(&n->lock);
	}
}

/* The doorbells moved, or went away with memory decoding: ioeventfds follow. */
static void bar_mapped(struct pci_function *f, int bar, uint64_t addr)
{
	struct nvme *n = f->opaque;

	(void)addr;
	if (bar != 0)
		return;
	pthread_mutex_lock(&n->lock);
	for (unsigned q = 1; q <= n->nr_io_queues; q++)
		unbind_doorbell(n, &n->sq[q]);
	for (unsigned q = 1; q <= n->nr_io_queues; q++)
		bind_doorbell(n, &n->sq[q]);
	pthread_mutex_unlock(&n->lock);
}

static const struct pci_function_ops nvme_pci_ops = {
	.bar_read = bar_read,
	.bar_write = bar_write,
	.config_written = config_written,
	.bar_mapped = bar_mapped,
};

/* ---- Life cycle ---- */

static void build_config_space(struct nvme *n)
{
	struct pci_function *f = &n->pci;

	pci_function_init(f, "nvme", NVME_VENDOR_ID, NVME_DEVICE_ID, NVME_CLASS, 2);
	pci_set_cfg16(f, PCI_SUBSYSTEM_VENDOR_ID, NVME_VENDOR_ID);
	pci_set_cfg16(f, PCI_SUBSYSTEM_ID, NVME_DEVICE_ID);
	f->ops = &nvme_pci_ops;
	f->opaque = n;
	pci_add_bar(f, 0, NVME_BAR_SIZE, PCI_BAR_MEM64);
	n->msix_cap = pci_add_capability(f, PCI_CAP_ID_MSIX, MSIX_CAP_LEN);
	pci_set_cfg16(f, n->msix_cap + MSIX_CONTROL, (uint16_t)(n->msix.nr - 1));
	pci_set_cfg32(f, n->msix_cap + 4, MSIX_TABLE_OFFSET);
	pci_set_cfg32(f, n->msix_cap + 8, MSIX_PBA_OFFSET);
	f->wmask[n->msix_cap + MSIX_CONTROL + 1] = (MSIX_CONTROL_ENABLE | MSIX_CONTROL_MASK) >> 8;
}

static int init_queues(struct nvme *n, const struct platform *p)
{
	unsigned nr = n->nr_io_queues + 1;

	n->sq = calloc(nr, sizeof(*n->sq));
	n->cq = calloc(nr, sizeof(*n->cq));
	n->vector_no_coalescing = calloc(nr, sizeof(bool));
	if (!n->sq || !n->cq || !n->vector_no_coalescing)
		return -1;
	for (uint16_t q = 0; q < nr; q++) {
		n->sq[q] = (struct nvme_sq){ .fd = -1, .n = n, .id = q, .cqid = QUEUE_ABSENT };
		if (q == 0 || !p->loop)
			continue;
		n->sq[q].fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		struct event_watch *w = n->sq[q].fd >= 0 ? event_watch(p->loop, n->sq[q].fd, sq_kicked, &n->sq[q]) : NULL;
		if (!w || event_watch_enable(p->loop, w, true) < 0)
			return -1;
	}
	return 0;
}

struct nvme *nvme_create(const struct platform *p, const struct block_backend *be, unsigned nr_io_queues,
			 const char *serial)
{
	if (nr_io_queues < 1 || nr_io_queues > NVME_MAX_IO_QUEUES)
		return NULL;
	struct nvme *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	pthread_mutex_init(&n->lock, NULL);
	n->mem = p->mem;
	n->ioevents = p->ioevents;
	n->loop = p->loop;
	n->be = be;
	n->nr_io_queues = nr_io_queues;
	snprintf(n->serial, sizeof(n->serial), "%s", serial && *serial ? serial : "vmm-nvme");
	clock_gettime(CLOCK_MONOTONIC, &n->powered_on);
	if (msix_init(&n->msix, nr_io_queues + 1, p->irq) < 0) {
		free(n);
		return NULL;
	}
	if (init_queues(n, p) < 0 || (p->loop && be->ops->watch(be->ctx, p->loop, nvme_complete_io, n) < 0)) {
		nvme_destroy(n);
		return NULL;
	}
	build_config_space(n);
	reset_features(n);
	be->ops->set_completion(be->ctx, backend_done, n);
	return n;
}

int nvme_attach(struct nvme *n, struct pci_host *h)
{
	return pci_host_add(h, &n->pci);
}

struct pci_function *nvme_pci_function(struct nvme *n)
{
	return &n->pci;
}

struct nvme_stats nvme_stats(struct nvme *n)
{
	pthread_mutex_lock(&n->lock);
	struct nvme_stats s = n->stats;
	pthread_mutex_unlock(&n->lock);
	return s;
}

void nvme_destroy(struct nvme *n)
{
	if (!n)
		return;
	for (unsigned q = 0; n->sq && q <= n->nr_io_queues; q++) {
		unbind_doorbell(n, &n->sq[q]);
		if (n->sq[q].fd >= 0)
			close(n->sq[q].fd);
	}
	for (struct request_chunk *c = n->chunks, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	msix_destroy(&n->msix);
	free(n->sq);
	free(n->cq);
	free(n->vector_no_coalescing);
	pthread_mutex_destroy(&n->lock);
	free(n);
}
