/*
 * The NVMe controller (devices/nvme.c) as a driver sees it: registers and
 * doorbells through BAR0 on the MMIO bus, the MSI-X capability in config
 * space, queues, PRP lists, SGLs and shadow doorbell pages in fake guest
 * RAM, and the in-memory block backend (tests/common/mem_block.c) behind
 * it. Without an event loop, I/O queues run on the thread that rings their
 * doorbell, so each test sees the controller's work when the doorbell
 * write returns; completions come inside the backend's submit(), or, with
 * disk.hold, when the test releases them (mem_block_complete() and
 * nvme_complete_io(), as the loop would).
 *
 * Offsets, opcodes and status codes are the NVM Express Base Specification
 * 1.4's, written out here rather than taken from the device, so a wrong
 * one in either place shows.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fake_guest.h"
#include "mem_block.h"
#include "nvme.h"
#include "suites.h"

/* Controller registers (3.1) */
#define CAP 0x00
#define VS 0x08
#define INTMS 0x0c
#define INTMC 0x10
#define CC 0x14
#define CSTS 0x1c
#define AQA 0x24
#define ASQ 0x28
#define ACQ 0x30
#define DOORBELLS 0x1000

#define CC_EN 1u
#define CC_SHN_NORMAL (1u << 14)
#define CC_IOSQES_64 (6u << 16)
#define CC_IOCQES_16 (4u << 20)
#define CC_READY_TO_GO (CC_EN | CC_IOSQES_64 | CC_IOCQES_16)
#define CSTS_RDY 1u
#define CSTS_CFS 2u
#define CSTS_SHST(v) (((v) >> 2) & 3)

/* Admin commands (5) */
#define ADM_DELETE_SQ 0x00
#define ADM_CREATE_SQ 0x01
#define ADM_GET_LOG 0x02
#define ADM_DELETE_CQ 0x04
#define ADM_CREATE_CQ 0x05
#define ADM_IDENTIFY 0x06
#define ADM_SET_FEATURES 0x09
#define ADM_GET_FEATURES 0x0a
#define ADM_AER 0x0c
#define ADM_DBBUF 0x7c

/* NVM commands (6) */
#define IO_FLUSH 0x00
#define IO_WRITE 0x01
#define IO_READ 0x02
#define IO_WRITE_ZEROES 0x08
#define IO_DSM 0x09

/* Status (4.6.1.2): SCT << 8 | SC; DNR is bit 14 of the 15-bit field */
#define ST_OK 0x000
#define ST_INVALID_OPCODE 0x001
#define ST_INVALID_FIELD 0x002
#define ST_DATA_XFER 0x004
#define ST_INVALID_NS 0x00b
#define ST_SEQUENCE 0x00c
#define ST_SGL_LENGTH 0x00f
#define ST_SGL_TYPE 0x011
#define ST_PRP_OFFSET 0x013
#define ST_WRITE_PROTECTED 0x020
#define ST_LBA_RANGE 0x080
#define ST_CQ_INVALID 0x100
#define ST_INVALID_QID 0x101
#define ST_INVALID_QSIZE 0x102
#define ST_AER_LIMIT 0x105
#define ST_INVALID_VECTOR 0x108
#define ST_INVALID_LOG 0x109
#define ST_QUEUE_DELETION 0x10c
#define ST_NOT_SAVEABLE 0x10d
#define ST_DNR 0x4000
#define SC(st) ((st) & 0x7ff)

/* Features (5.21.1) */
#define FID_VWC 0x06
#define FID_NUM_QUEUES 0x07
#define FID_IRQ_COALESCING 0x08
#define FID_IRQ_CONFIG 0x09

/* Fake guest RAM */
#define ASQ_GPA 0x10000
#define ACQ_GPA 0x11000
#define IOSQ_GPA(q) (0x20000u + ((q) - 1u) * 0x10000u)
#define IOCQ_GPA(q) (0x40000u + ((q) - 1u) * 0x4000u)
#define PRP_GPA 0x80000
#define SGL_GPA 0x88000
#define SHADOW_GPA 0x90000
#define EVENTIDX_GPA 0x91000
#define ID_GPA 0x98000
#define DATA_GPA 0x100000
#define DATA2_GPA 0x200000
#define DATA3_GPA 0x300000
#define RAM_END FAKE_RAM_SIZE

#define DISK_BYTES (1u << 20)
#define BLOCKS (DISK_BYTES / 512)
#define PAGE 4096u
#define MSI_ADDR 0xfee00000u
#define MSI_DATA(v) (0x40u + (v))
#define MAX_VECTORS 8

struct nvme_sqe {
	uint8_t opc, flags;
	uint16_t cid;
	uint32_t nsid;
	uint64_t rsvd;
	uint64_t mptr;
	uint64_t prp1, prp2;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};
_Static_assert(sizeof(struct nvme_sqe) == 64, "submission queue entry");

struct nvme_cqe {
	uint32_t dw0, dw1;
	uint16_t sqhd, sqid;
	uint16_t cid, sf;          /* status field << 1 | phase */
};
_Static_assert(sizeof(struct nvme_cqe) == 16, "completion queue entry");

/* The driver's side of one queue pair. */
struct queue {
	uint16_t qid, sq_size, cq_size, sq_tail, cq_head;
	uint64_t sq_gpa, cq_gpa;
	bool phase;
};

struct config {
	unsigned nr_io_queues;
	bool readonly, no_write_cache;
	const char *serial;
	unsigned depth;
	bool loop;                 /* the recorded event loop and ioevents */
};

/* Interrupts per MSI-X vector (by the data we program) and INTx levels. */
struct irqs {
	struct irq_controller ctl;
	bool level[64];
	unsigned msi[MAX_VECTORS];
	unsigned stray_msis;
};

static struct bus pio, mmio;
static struct pci_host host;
static struct irqs irqs;
static struct doorbell_recorder doorbells;
static struct fake_guest g;
static struct mem_block disk;
static struct block_backend be;
static struct nvme *ctrl;
static struct pci_function *fn;
static uint64_t bar0;
static struct config cfg;
static struct queue aq, ioq[3];
static uint16_t next_cid;

static const struct config defaults = { 2, false, false, "unit-nvme-serial", 512, false };

/* ---- Interrupts ---- */

static void rec_set_gsi(void *ctx, uint32_t gsi, bool level)
{
	struct irqs *r = ctx;
	if (gsi < 64)
		r->level[gsi] = level;
}

static void rec_send_msi(void *ctx, uint64_t addr, uint32_t data)
{
	struct irqs *r = ctx;
	if (addr == MSI_ADDR && data >= MSI_DATA(0) && data < MSI_DATA(MAX_VECTORS))
		r->msi[data - MSI_DATA(0)]++;
	else
		r->stray_msis++;
}

static const struct irq_controller_ops irq_ops = { .set_gsi = rec_set_gsi, .send_msi = rec_send_msi };

static bool inta(void)
{
	return irqs.level[fn->intx.gsi];
}

/* ---- Registers ---- */

static void wr32(uint32_t off, uint32_t v)
{
	bus_write(&mmio, bar0 + off, (uint8_t *)&v, 4);
}

static void wr64(uint32_t off, uint64_t v)
{
	bus_write(&mmio, bar0 + off, (uint8_t *)&v, 8);
}

static uint32_t rd32(uint32_t off)
{
	uint32_t v = 0;
	bus_read(&mmio, bar0 + off, (uint8_t *)&v, 4);
	return v;
}

static uint64_t rd64(uint32_t off)
{
	uint64_t v = 0;
	bus_read(&mmio, bar0 + off, (uint8_t *)&v, 8);
	return v;
}

static uint32_t cfg_rd32(unsigned off)
{
	uint32_t v;
	pci_config_read(fn, off, (uint8_t *)&v, 4);
	return v;
}

static void cfg_wr16(unsigned off, uint16_t v)
{
	pci_config_write(fn, off, (uint8_t *)&v, 2);
}

static unsigned find_msix_cap(void)
{
	for (unsigned cap = cfg_rd32(PCI_CAPABILITY_LIST) & 0xff, n = 0; cap && n < 16;
	     cap = cfg_rd32(cap) >> 8 & 0xff, n++)
		if ((cfg_rd32(cap) & 0xff) == PCI_CAP_ID_MSIX)
			return cap;
	return 0;
}

static uint32_t sq_db(uint16_t qid)
{
	return DOORBELLS + 8u * qid;
}

static uint32_t cq_db(uint16_t qid)
{
	return DOORBELLS + 8u * qid + 4;
}

/* ---- The machine ---- */

static void start(const struct config *c)
{
	cfg = *c;
	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	memset(&irqs, 0, sizeof(irqs));
	irqs.ctl = (struct irq_controller){ &irq_ops, &irqs };
	doorbell_recorder_init(&doorbells);
	fake_guest_init(&g, 16);
	ck_assert_int_eq(pci_host_init(&host, PCI_HOST_Q35, &pio, &mmio, &irqs.ctl), 0);
	mem_block_init(&disk, &be, DISK_BYTES, c->depth, c->readonly);
	if (c->no_write_cache)
		be.write_cache = false;
	struct platform p = { &g.mem, &pio, &mmio, &irqs.ctl, c->loop ? &doorbells.ioevents : NULL,
			      c->loop ? &doorbells.loop : NULL };
	ctrl = nvme_create(&p, &be, c->nr_io_queues, c->serial);
	ck_assert_ptr_nonnull(ctrl);
	ck_assert_int_eq(nvme_attach(ctrl, &host), 0);
	fn = nvme_pci_function(ctrl);
	cfg_wr16(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	bar0 = (cfg_rd32(PCI_BAR0) & ~0xfu) | (uint64_t)cfg_rd32(PCI_BAR0 + 4) << 32;
	ck_assert_uint_ne(bar0, 0);
	memset(&aq, 0, sizeof(aq));
	memset(ioq, 0, sizeof(ioq));
	next_cid = 0x100;
}

static void stop(void)
{
	nvme_destroy(ctrl);
	mem_block_free(&disk);
	bus_destroy(&pio);
	bus_destroy(&mmio);
	fake_guest_free(&g);
}

static void restart(const struct config *c)
{
	stop();
	start(c);
}

static void *ram(uint64_t gpa)
{
	return fake_ptr(&g, gpa);
}

/* Programs every MSI-X vector (address MSI_ADDR, data MSI_DATA(v)), unmasked, and enables MSI-X. */
static void msix_on(void)
{
	unsigned cap = find_msix_cap();
	ck_assert_uint_ne(cap, 0);
	uint32_t head = cfg_rd32(cap), table = cfg_rd32(cap + 4);
	unsigned vectors = ((head >> 16) & 0x7ff) + 1;
	ck_assert_uint_eq(table & 7, 0);            /* BIR: BAR0 */
	ck_assert_uint_le(vectors, MAX_VECTORS);
	for (unsigned v = 0; v < vectors; v++) {
		uint32_t e = (table & ~7u) + 16 * v;
		wr32(e, MSI_ADDR);
		wr32(e + 4, 0);
		wr32(e + 8, MSI_DATA(v));
		wr32(e + 12, 0);
	}
	cfg_wr16(cap + 2, (uint16_t)(head >> 16) | 0x8000);
}

/* Admin queue of the given sizes, CC.EN, CSTS.RDY. */
static void enable_sized(uint16_t sq_entries, uint16_t cq_entries)
{
	memset(ram(ASQ_GPA), 0, 64u * sq_entries);
	memset(ram(ACQ_GPA), 0, 16u * cq_entries);
	wr32(AQA, (uint32_t)(cq_entries - 1) << 16 | (uint32_t)(sq_entries - 1));
	wr64(ASQ, ASQ_GPA);
	wr64(ACQ, ACQ_GPA);
	wr32(CC, CC_READY_TO_GO);
	ck_assert_uint_eq(rd32(CSTS) & (CSTS_RDY | CSTS_CFS), CSTS_RDY);
	aq = (struct queue){ .qid = 0, .sq_size = sq_entries, .cq_size = cq_entries, .sq_gpa = ASQ_GPA,
			     .cq_gpa = ACQ_GPA, .phase = true };
}

static void enable(void)
{
	enable_sized(32, 32);
}

/* ---- Queues, the driver's side ---- */

static void sq_put(struct queue *q, struct nvme_sqe *c)
{
	if (!c->cid)
		c->cid = next_cid++;
	memcpy(ram(q->sq_gpa + 64u * q->sq_tail), c, 64);
	q->sq_tail = (uint16_t)((q->sq_tail + 1) % q->sq_size);
}

static void ring_sq(struct queue *q)
{
	wr32(sq_db(q->qid), q->sq_tail);
}

static struct nvme_cqe *cq_slot(struct queue *q, uint16_t i)
{
	return ram(q->cq_gpa + 16u * i);
}

static bool cqe_ready(struct queue *q)
{
	return (__atomic_load_n(&cq_slot(q, q->cq_head)->sf, __ATOMIC_ACQUIRE) & 1) == q->phase;
}

static unsigned cqes_ready(struct queue *q)
{
	unsigned n = 0;
	for (uint16_t i = q->cq_head, p = q->phase; n < q->cq_size; n++) {
		if ((cq_slot(q, i)->sf & 1) != p)
			break;
		if (++i == q->cq_size) {
			i = 0;
			p = !p;
		}
	}
	return n;
}

static struct nvme_cqe cq_pop(struct queue *q)
{
	ck_assert_msg(cqe_ready(q), "no completion in queue %u at head %u", q->qid, q->cq_head);
	struct nvme_cqe e = *cq_slot(q, q->cq_head);
	if (++q->cq_head == q->cq_size) {
		q->cq_head = 0;
		q->phase = !q->phase;
	}
	return e;
}

static void ring_cq(struct queue *q)
{
	wr32(cq_db(q->qid), q->cq_head);
}

static uint16_t status_of(struct nvme_cqe e)
{
	return e.sf >> 1;
}

/* One command: submitted, its completion taken and the head doorbell rung. */
static struct nvme_cqe run(struct queue *q, struct nvme_sqe *c)
{
	sq_put(q, c);
	ring_sq(q);
	struct nvme_cqe e = cq_pop(q);
	ring_cq(q);
	ck_assert_uint_eq(e.cid, c->cid);
	ck_assert_uint_eq(e.sqid, q->qid);
	ck_assert_uint_eq(e.sqhd, q->sq_tail);
	return e;
}

static uint16_t admin(struct nvme_sqe c, uint32_t *dw0)
{
	struct nvme_cqe e = run(&aq, &c);
	if (dw0)
		*dw0 = e.dw0;
	return status_of(e);
}

/* Marks a reply buffer, where it is in RAM, so that what the controller wrote shows. */
static void mark(uint64_t gpa)
{
	if (gpa + PAGE <= RAM_END)
		memset(ram(gpa), 0xa5, PAGE);
}

static uint16_t identify(uint8_t cns, uint32_t nsid, uint64_t gpa)
{
	mark(gpa);
	return admin((struct nvme_sqe){ .opc = ADM_IDENTIFY, .nsid = nsid, .prp1 = gpa, .cdw10 = cns }, NULL);
}

static uint16_t set_feature(uint32_t cdw10, uint32_t cdw11, uint32_t *dw0)
{
	return admin((struct nvme_sqe){ .opc = ADM_SET_FEATURES, .cdw10 = cdw10, .cdw11 = cdw11 }, dw0);
}

static uint16_t get_feature(uint8_t fid, unsigned sel, uint32_t cdw11, uint32_t *dw0)
{
	return admin((struct nvme_sqe){ .opc = ADM_GET_FEATURES, .cdw10 = fid | sel << 8, .cdw11 = cdw11 }, dw0);
}

static uint16_t create_cq(uint16_t qid, unsigned entries, uint64_t gpa, uint16_t vector, bool ien, bool pc)
{
	return admin((struct nvme_sqe){ .opc = ADM_CREATE_CQ, .prp1 = gpa,
					.cdw10 = (uint32_t)(entries - 1) << 16 | qid,
					.cdw11 = (uint32_t)vector << 16 | (ien ? 2u : 0) | (pc ? 1u : 0) }, NULL);
}

static uint16_t create_sq(uint16_t qid, unsigned entries, uint64_t gpa, uint16_t cqid, bool pc)
{
	return admin((struct nvme_sqe){ .opc = ADM_CREATE_SQ, .prp1 = gpa,
					.cdw10 = (uint32_t)(entries - 1) << 16 | qid,
					.cdw11 = (uint32_t)cqid << 16 | (pc ? 1u : 0) }, NULL);
}

static uint16_t delete_queue(uint8_t opc, uint16_t qid)
{
	return admin((struct nvme_sqe){ .opc = opc, .cdw10 = qid }, NULL);
}

static uint16_t get_log(uint8_t lid, uint32_t dwords, uint64_t offset, bool rae, uint64_t gpa)
{
	uint32_t numd = dwords - 1;
	mark(gpa);
	return admin((struct nvme_sqe){ .opc = ADM_GET_LOG, .nsid = 0xffffffff, .prp1 = gpa,
					.cdw10 = lid | (rae ? 1u << 15 : 0) | (numd & 0xffff) << 16,
					.cdw11 = numd >> 16, .cdw12 = (uint32_t)offset,
					.cdw13 = (uint32_t)(offset >> 32) }, NULL);
}

/* An I/O queue pair qid: CQ on vector, then SQ, both created with the driver's state set up. */
static void io_queue(uint16_t qid, unsigned sq_entries, unsigned cq_entries, uint16_t vector)
{
	memset(ram(IOCQ_GPA(qid)), 0, 16u * cq_entries);
	ck_assert_uint_eq(create_cq(qid, cq_entries, IOCQ_GPA(qid), vector, true, true), ST_OK);
	ck_assert_uint_eq(create_sq(qid, sq_entries, IOSQ_GPA(qid), qid, true), ST_OK);
	ioq[qid] = (struct queue){ .qid = qid, .sq_size = (uint16_t)sq_entries, .cq_size = (uint16_t)cq_entries,
				   .sq_gpa = IOSQ_GPA(qid), .cq_gpa = IOCQ_GPA(qid), .phase = true };
}

/* Enabled, MSI-X on, I/O queue pair 1 of 64 entries on vector 1. */
static void ready(void)
{
	msix_on();
	enable();
	io_queue(1, 64, 64, 1);
}

static void setup_bare(void)
{
	start(&defaults);
}

static void setup_ready(void)
{
	start(&defaults);
	ready();
}

static void teardown(void)
{
	stop();
}

/* ---- I/O ---- */

static struct nvme_sqe rw(uint8_t opc, uint64_t slba, uint32_t nlb, uint64_t prp1, uint64_t prp2)
{
	return (struct nvme_sqe){ .opc = opc, .nsid = 1, .prp1 = prp1, .prp2 = prp2, .cdw10 = (uint32_t)slba,
				  .cdw11 = (uint32_t)(slba >> 32), .cdw12 = nlb - 1 };
}

static uint16_t io(struct nvme_sqe c)
{
	return status_of(run(&ioq[1], &c));
}

static void fill(uint64_t gpa, uint32_t len, uint8_t seed)
{
	uint8_t *p = ram(gpa);
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 13 + seed + (i >> 9));
}

static void fill_disk(uint64_t offset, uint32_t len, uint8_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		disk.data[offset + i] = (uint8_t)(i * 7 + seed + (i >> 9));
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint16_t le16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

/* Linux's nvme_dbbuf_need_event(): ring when EventIdx lies in [old, new). */
static bool need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old);
}

static uint32_t *shadow(uint32_t db)
{
	return ram(SHADOW_GPA + db - DOORBELLS);
}

static uint32_t event_idx(uint32_t db)
{
	return __atomic_load_n((uint32_t *)ram(EVENTIDX_GPA + db - DOORBELLS), __ATOMIC_ACQUIRE);
}

/* Publishes the SQ tail as Linux does with shadow doorbells; true when it rang the register too. */
static bool shadow_publish(struct queue *q)
{
	uint32_t *db = shadow(sq_db(q->qid));
	uint16_t old = (uint16_t)*db;
	__atomic_store_n(db, q->sq_tail, __ATOMIC_SEQ_CST);
	if (!need_event((uint16_t)event_idx(sq_db(q->qid)), q->sq_tail, old))
		return false;
	ring_sq(q);
	return true;
}

static void shadow_cq_head(struct queue *q)
{
	uint32_t *db = shadow(cq_db(q->qid));
	uint16_t old = (uint16_t)*db;
	__atomic_store_n(db, q->cq_head, __ATOMIC_SEQ_CST);
	if (need_event((uint16_t)event_idx(cq_db(q->qid)), q->cq_head, old))
		ring_cq(q);
}

static uint16_t dbbuf(uint64_t shadow_gpa, uint64_t ei_gpa)
{
	return admin((struct nvme_sqe){ .opc = ADM_DBBUF, .prp1 = shadow_gpa, .prp2 = ei_gpa }, NULL);
}

/* ==== Registers ==== */

START_TEST(test_cap_and_version)
{
	uint64_t cap = rd64(CAP);

	ck_assert_uint_eq(cap & 0xffff, 1023);              /* MQES: 1024 entries */
	ck_assert_uint_eq(cap >> 16 & 1, 1);                /* CQR: contiguous queues */
	ck_assert_uint_eq(cap >> 17 & 3, 0);                /* AMS: round robin only */
	ck_assert_uint_gt(cap >> 24 & 0xff, 0);             /* TO */
	ck_assert_uint_eq(cap >> 32 & 0xf, 0);              /* DSTRD: 4-byte doorbell stride */
	ck_assert_uint_eq(cap >> 37 & 0xff, 1);             /* CSS: NVM command set */
	ck_assert_uint_eq(cap >> 48 & 0xf, 0);              /* MPSMIN: 4 KiB */
	/* The two halves read apart say the same. */
	ck_assert_uint_eq(rd32(CAP), (uint32_t)cap);
	ck_assert_uint_eq(rd32(CAP + 4), (uint32_t)(cap >> 32));
	ck_assert_uint_eq(rd32(VS), 0x00010400);
	ck_assert_uint_eq(rd32(CSTS) & CSTS_RDY, 0);
	/* PCI identity: mass storage, NVM, NVMe programming interface. */
	ck_assert_uint_eq(cfg_rd32(0x08) >> 8, 0x010802);
}
END_TEST

START_TEST(test_enable_and_ready)
{
	enable();
	ck_assert_uint_eq(rd32(CC), CC_READY_TO_GO);
	ck_assert_uint_eq(rd32(AQA), 31u << 16 | 31u);
	ck_assert_uint_eq(rd64(ASQ), ASQ_GPA);
	ck_assert_uint_eq(rd64(ACQ), ACQ_GPA);
	uint32_t dw0 = 0;
	ck_assert_uint_eq(get_feature(FID_NUM_QUEUES, 0, 0, &dw0), ST_OK);
	ck_assert_uint_eq(dw0, 1u << 16 | 1u);
}
END_TEST

START_TEST(test_enable_with_bad_admin_queue_is_fatal)
{
	/* Sizes of one entry. */
	wr32(AQA, 0);
	wr64(ASQ, ASQ_GPA);
	wr64(ACQ, ACQ_GPA);
	wr32(CC, CC_READY_TO_GO);
	ck_assert_uint_eq(rd32(CSTS) & (CSTS_RDY | CSTS_CFS), CSTS_CFS);
	wr32(CC, 0);
	ck_assert_uint_eq(rd32(CSTS) & (CSTS_RDY | CSTS_CFS), 0);
	/* The submission queue outside RAM. */
	wr32(AQA, 31u << 16 | 31u);
	wr64(ASQ, 0x40000000);
	wr32(CC, CC_READY_TO_GO);
	ck_assert_uint_eq(rd32(CSTS) & (CSTS_RDY | CSTS_CFS), CSTS_CFS);
	wr32(CC, 0);
	/* The completion queue running past the end of RAM. */
	wr32(AQA, 4095u << 16 | 31u);
	wr64(ASQ, ASQ_GPA);
	wr64(ACQ, RAM_END - PAGE);
	wr32(CC, CC_READY_TO_GO);
	ck_assert_uint_eq(rd32(CSTS) & (CSTS_RDY | CSTS_CFS), CSTS_CFS);
	wr32(CC, 0);
	/* Doorbells of a controller that is not ready do nothing. */
	memset(ram(ACQ_GPA), 0, PAGE);
	wr32(sq_db(0), 1);
	ck_assert_uint_eq(cq_slot(&(struct queue){ .cq_gpa = ACQ_GPA }, 0)->sf, 0);
	/* Page size other than 4 KiB (MPSMIN = MPSMAX = 0). */
	wr32(AQA, 31u << 16 | 31u);
	wr64(ACQ, ACQ_GPA);
	wr32(CC, CC_READY_TO_GO | 1u << 7);
	ck_assert_uint_eq(rd32(CSTS) & (CSTS_RDY | CSTS_CFS), CSTS_CFS);
}
END_TEST

/* CC.IOSQES and IOCQES are the I/O queues' entry sizes: only 64 and 16 bytes (SQES, CQES) go. */
START_TEST(test_io_queue_entry_sizes)
{
	enable();
	wr32(CC, 0);
	wr32(CC, CC_EN | 7u << 16 | CC_IOCQES_16);
	ck_assert_uint_eq(rd32(CSTS) & CSTS_RDY, CSTS_RDY);
	aq = (struct queue){ .qid = 0, .sq_size = 32, .cq_size = 32, .sq_gpa = ASQ_GPA, .cq_gpa = ACQ_GPA, .phase = true };
	memset(ram(ACQ_GPA), 0, 16 * 32);
	ck_assert_uint_eq(create_cq(1, 16, IOCQ_GPA(1), 0, true, true), ST_OK);
	ck_assert_uint_eq(SC(create_sq(1, 16, IOSQ_GPA(1), 1, true)), ST_INVALID_FIELD);
	wr32(CC, 0);
	memset(ram(ACQ_GPA), 0, 16 * 32);
	aq.sq_tail = aq.cq_head = 0;
	aq.phase = true;
	wr32(CC, CC_EN | CC_IOSQES_64 | 5u << 20);
	ck_assert_uint_eq(rd32(CSTS) & CSTS_RDY, CSTS_RDY);
	ck_assert_uint_eq(SC(create_cq(1, 16, IOCQ_GPA(1), 0, true, true)), ST_INVALID_FIELD);
	wr32(CC, 0);
	enable();
	io_queue(1, 16, 16, 0);
}
END_TEST

START_TEST(test_admin_queue_base_low_bits_are_reserved)
{
	/* ASQB and ACQB are bits 63:12 (3.1.9, 3.1.10): an unaligned base cannot be written. */
	wr64(ASQ, ASQ_GPA + 0x80);
	wr64(ACQ, ACQ_GPA + 0x10);
	ck_assert_uint_eq(rd64(ASQ), ASQ_GPA);
	ck_assert_uint_eq(rd64(ACQ), ACQ_GPA);
	wr32(ASQ, 0x12345fff);
	ck_assert_uint_eq(rd32(ASQ), 0x12345000);
	wr32(ASQ + 4, 0x1);
	ck_assert_uint_eq(rd64(ASQ), 0x112345000ull);
}
END_TEST

START_TEST(test_disable_resets_queues)
{
	ready();
	ck_assert_uint_eq(io(rw(IO_WRITE, 0, 1, DATA_GPA, 0)), ST_OK);
	wr32(CC, 0);
	ck_assert_uint_eq(rd32(CSTS) & CSTS_RDY, 0);
	/* Doorbells of the old queues do nothing while disabled. */
	struct nvme_sqe c = rw(IO_WRITE, 8, 1, DATA_GPA, 0);
	sq_put(&ioq[1], &c);
	ring_sq(&ioq[1]);
	ck_assert_uint_eq(disk.nr_log, 1);
	/* Enabled again: the I/O queues are gone, so they can be created anew, and the old
	 * queue's doorbell reaches no queue. */
	enable();
	sq_put(&aq, &(struct nvme_sqe){ .opc = ADM_AER });
	ring_sq(&aq);
	ring_sq(&ioq[1]);
	ck_assert_uint_eq(disk.nr_log, 1);
	struct nvme_cqe e = cq_pop(&aq);
	ring_cq(&aq);
	ck_assert_uint_eq(e.dw0 & 7, 0);                  /* error event */
	ck_assert_uint_eq(e.dw0 >> 8 & 0xff, 0);          /* invalid doorbell register */
	io_queue(1, 64, 64, 1);
	ck_assert_uint_eq(io(rw(IO_WRITE, 8, 1, DATA_GPA, 0)), ST_OK);
	ck_assert_uint_eq(disk.nr_log, 2);
}
END_TEST

START_TEST(test_shutdown_flushes_the_write_cache)
{
	ready();
	ck_assert_uint_eq(io(rw(IO_WRITE, 0, 8, DATA_GPA, 0)), ST_OK);
	unsigned flushes = disk.flushes;
	wr32(CC, CC_READY_TO_GO | CC_SHN_NORMAL);
	ck_assert_uint_eq(CSTS_SHST(rd32(CSTS)), 2);      /* shutdown processing complete */
	ck_assert_uint_eq(disk.flushes, flushes + 1);
	ck_assert_uint_eq(disk.inflight, 0);
	wr32(CC, 0);
	ck_assert_uint_eq(CSTS_SHST(rd32(CSTS)), 0);
	/* With the write cache turned off there is nothing to flush. */
	enable();
	ck_assert_uint_eq(set_feature(FID_VWC, 0, NULL), ST_OK);
	flushes = disk.flushes;
	wr32(CC, CC_READY_TO_GO | CC_SHN_NORMAL);
	ck_assert_uint_eq(CSTS_SHST(rd32(CSTS)), 2);
	ck_assert_uint_eq(disk.flushes, flushes);
}
END_TEST

START_TEST(test_shutdown_waits_for_io_in_flight)
{
	ready();
	disk.hold = true;
	fill(DATA_GPA, 4096, 3);
	struct nvme_sqe c = rw(IO_WRITE, 16, 8, DATA_GPA, 0);
	sq_put(&ioq[1], &c);
	ring_sq(&ioq[1]);
	ck_assert_uint_eq(disk.inflight, 1);
	wr32(CC, CC_READY_TO_GO | CC_SHN_NORMAL);
	ck_assert_uint_eq(CSTS_SHST(rd32(CSTS)), 2);
	ck_assert_uint_eq(disk.inflight, 0);
	ck_assert_mem_eq(disk.data + 16 * 512, ram(DATA_GPA), 4096);
	/* The write completed before the flush that the shutdown sent. */
	ck_assert_uint_eq(disk.log[disk.nr_log - 2], MEM_WRITE);
	ck_assert_uint_eq(disk.log[disk.nr_log - 1], MEM_FLUSH);
	struct nvme_cqe e = cq_pop(&ioq[1]);
	ck_assert_uint_eq(status_of(e), ST_OK);
}
END_TEST

/* ==== Identify ==== */

START_TEST(test_identify_controller)
{
	const uint8_t *id = ram(ID_GPA);

	ck_assert_uint_eq(identify(1, 0, ID_GPA), ST_OK);
	ck_assert_uint_eq(le16(id), NVME_VENDOR_ID);
	ck_assert_mem_eq(id + 4, "unit-nvme-serial    ", 20);   /* SN: ASCII, padded with spaces */
	ck_assert_uint_ne(id[24], ' ');                           /* MN */
	ck_assert_uint_eq(id[77], 5);                             /* MDTS: 2^5 pages, 128 KiB */
	ck_assert_uint_eq(le32(id + 80), 0x00010400);             /* VER */
	ck_assert_uint_eq(le16(id + 256) & 1u << 8, 1u << 8);     /* OACS: Doorbell Buffer Config */
	ck_assert_uint_eq(id[259], 3);                            /* AERL: 4 outstanding */
	ck_assert_uint_eq(id[512], 0x66);                         /* SQES: 64 bytes */
	ck_assert_uint_eq(id[513], 0x44);                         /* CQES: 16 bytes */
	ck_assert_uint_eq(le32(id + 516), 1);                     /* NN */
	ck_assert_uint_eq(le16(id + 520) & 0xc, 0xc);             /* ONCS: DSM and Write Zeroes */
	ck_assert_uint_eq(id[524] & 1, 1);                        /* VWC present */
	ck_assert_uint_eq(id[524] >> 1 & 3, 3);                   /* Flush with NSID FFFFFFFFh */
	ck_assert_uint_eq(le32(id + 536) & 3, 1);                 /* SGLS: supported, no alignment */
	ck_assert_uint_eq(id[4095], 0);                           /* the whole page written */
	ck_assert_msg(strstr((const char *)id + 768, "unit-nvme-serial") != NULL, "SUBNQN");
}
END_TEST

START_TEST(test_identify_controller_serial_and_cache)
{
	const uint8_t *id = ram(ID_GPA);
	struct config c = defaults;

	c.serial = "a-serial-longer-than-twenty";
	c.no_write_cache = true;
	restart(&c);
	id = ram(ID_GPA);
	enable();
	ck_assert_uint_eq(identify(1, 0, ID_GPA), ST_OK);
	ck_assert_mem_eq(id + 4, "a-serial-longer-than", 20);
	ck_assert_uint_eq(id[524] & 1, 0);                        /* no volatile write cache */
	c.serial = "";
	restart(&c);
	id = ram(ID_GPA);
	enable();
	ck_assert_uint_eq(identify(1, 0, ID_GPA), ST_OK);
	for (unsigned i = 0; i < 20; i++)
		ck_assert_msg(id[4 + i] >= 0x20 && id[4 + i] < 0x7f, "SN byte %u is 0x%x", i, id[4 + i]);
}
END_TEST

START_TEST(test_identify_namespace)
{
	const uint8_t *id = ram(ID_GPA);

	ck_assert_uint_eq(identify(0, 1, ID_GPA), ST_OK);
	ck_assert_uint_eq(le64(id), BLOCKS);                      /* NSZE */
	ck_assert_uint_eq(le64(id + 8), BLOCKS);                  /* NCAP */
	ck_assert_uint_eq(id[25], 0);                             /* NLBAF: one format */
	ck_assert_uint_eq(id[26] & 0xf, 0);                       /* FLBAS: format 0 */
	ck_assert_uint_eq(id[128 + 2], 9);                        /* LBAF0.LBADS: 512 bytes */
	ck_assert_uint_eq(le16(id + 128), 0);                     /* LBAF0.MS: no metadata */
	ck_assert_uint_eq(id[33] & 7, 1);                         /* DLFEAT: deallocated blocks read zeroes */
	ck_assert_uint_eq(id[33] & 8, 8);                         /* DLFEAT: Write Zeroes may deallocate */
	ck_assert_uint_eq(id[99] & 1, 0);                         /* NSATTR: not write protected */
	uint8_t nguid[16], zero[16] = { 0 };
	memcpy(nguid, id + 104, 16);
	ck_assert_mem_ne(nguid, zero, 16);
	/* Namespace Identification Descriptors: the same NGUID. */
	ck_assert_uint_eq(identify(3, 1, ID_GPA), ST_OK);
	ck_assert_uint_eq(id[0], 2);                              /* NIDT: NGUID */
	ck_assert_uint_eq(id[1], 16);
	ck_assert_mem_eq(id + 4, nguid, 16);
	ck_assert_uint_eq(id[20], 0);                             /* then the end of the list */
	/* Namespaces that do not exist. */
	ck_assert_uint_eq(SC(identify(0, 2, ID_GPA)), ST_INVALID_NS);
	ck_assert_uint_eq(SC(identify(0, 0, ID_GPA)), ST_INVALID_NS);
	ck_assert_uint_eq(SC(identify(3, 2, ID_GPA)), ST_INVALID_NS);
}
END_TEST

START_TEST(test_identify_namespace_readonly)
{
	struct config c = defaults;

	c.readonly = true;
	restart(&c);
	enable();
	ck_assert_uint_eq(identify(0, 1, ID_GPA), ST_OK);
	ck_assert_uint_eq(((const uint8_t *)ram(ID_GPA))[99] & 1, 1);   /* NSATTR: write protected */
}
END_TEST

START_TEST(test_identify_active_namespaces_and_bad_cns)
{
	const uint8_t *id = ram(ID_GPA);

	ck_assert_uint_eq(identify(2, 0, ID_GPA), ST_OK);
	ck_assert_uint_eq(le32(id), 1);
	ck_assert_uint_eq(le32(id + 4), 0);
	ck_assert_uint_eq(id[4095], 0);
	ck_assert_uint_eq(identify(2, 1, ID_GPA), ST_OK);          /* none above 1 */
	ck_assert_uint_eq(le32(id), 0);
	ck_assert_uint_eq(SC(identify(2, 0xfffffffe, ID_GPA)), ST_INVALID_NS);
	uint16_t st = identify(0x7f, 0, ID_GPA);
	ck_assert_uint_eq(SC(st), ST_INVALID_FIELD);
	ck_assert_uint_eq(st & ST_DNR, ST_DNR);
	ck_assert_uint_eq(id[0], 0xa5);                           /* nothing written */
	/* The data pointer is checked like any other. */
	ck_assert_uint_eq(SC(identify(1, 0, RAM_END)), ST_DATA_XFER);
	ck_assert_uint_eq(SC(admin((struct nvme_sqe){ .opc = ADM_IDENTIFY, .prp1 = ID_GPA + 2, .cdw10 = 1 }, NULL)),
			  ST_PRP_OFFSET);
	/* Admin commands take PRPs only (PSDT 0). */
	ck_assert_uint_eq(SC(admin((struct nvme_sqe){ .opc = ADM_IDENTIFY, .flags = 1u << 6, .prp1 = ID_GPA,
						      .cdw10 = 1 }, NULL)), ST_INVALID_FIELD);
	ck_assert_uint_eq(SC(admin((struct nvme_sqe){ .opc = 0x7e }, NULL)), ST_INVALID_OPCODE);
}
END_TEST

START_TEST(test_identify_split_over_two_pages)
{
	/* PRP1 at an offset: the rest of the 4 KiB structure goes to PRP2's page. */
	memset(ram(DATA_GPA), 0, 2 * PAGE);
	memset(ram(DATA2_GPA), 0, PAGE);
	ck_assert_uint_eq(admin((struct nvme_sqe){ .opc = ADM_IDENTIFY, .prp1 = DATA_GPA + 0xc00,
						   .prp2 = DATA2_GPA, .cdw10 = 1 }, NULL), ST_OK);
	ck_assert_uint_eq(le16(ram(DATA_GPA + 0xc00)), NVME_VENDOR_ID);
	/* Byte 1024 of the structure (SQES is at 512: 0xc00 + 512 is still in page one). */
	ck_assert_uint_eq(((uint8_t *)ram(DATA_GPA + 0xc00))[512], 0x66);
	/* PSD0 at 2048 lands at PRP2 + 2048 - 1024. */
	ck_assert_uint_eq(le16(ram(DATA2_GPA + 1024)), 2500);
	ck_assert_uint_eq(((uint8_t *)ram(DATA_GPA + PAGE))[0], 0);   /* nothing past PRP1's page */
}
END_TEST

/* ==== Features ==== */

START_TEST(test_feature_number_of_queues)
{
	uint32_t dw0 = 0;

	enable();
	ck_assert_uint_eq(set_feature(FID_NUM_QUEUES, 7u << 16 | 7u, &dw0), ST_OK);
	ck_assert_uint_eq(dw0, 1u << 16 | 1u);                    /* two of each, 0's based */
	ck_assert_uint_eq(get_feature(FID_NUM_QUEUES, 0, 0, &dw0), ST_OK);
	ck_assert_uint_eq(dw0, 1u << 16 | 1u);
	ck_assert_uint_eq(SC(set_feature(FID_NUM_QUEUES, 0xffffu, NULL)), ST_INVALID_FIELD);
	io_queue(1, 16, 16, 1);
	ck_assert_uint_eq(SC(set_feature(FID_NUM_QUEUES, 0, NULL)), ST_SEQUENCE);
	/* Saving is not supported. */
	ck_assert_uint_eq(SC(set_feature(1u << 31 | FID_NUM_QUEUES, 0, NULL)), ST_NOT_SAVEABLE);
}
END_TEST

START_TEST(test_feature_volatile_write_cache)
{
	uint32_t dw0 = 0;

	ck_assert(disk.write_cache);
	ck_assert_uint_eq(get_feature(FID_VWC, 0, 0, &dw0), ST_OK);
	ck_assert_uint_eq(dw0, 1);
	ck_assert_uint_eq(set_feature(FID_VWC, 0, NULL), ST_OK);
	ck_assert(!disk.write_cache);
	ck_assert_uint_eq(get_feature(FID_VWC, 0, 0, &dw0), ST_OK);
	ck_assert_uint_eq(dw0, 0);
	ck_assert_uint_eq(get_feature(FID_VWC, 1, 0, &dw0), ST_OK);   /* default: on */
	ck_assert_uint_eq(dw0, 1);
	ck_assert_uint_eq(set_feature(FID_VWC, 1, NULL), ST_OK);
	ck_assert(disk.write_cache);
	/* A reset turns it back on. */
	ck_assert_uint_eq(set_feature(FID_VWC, 0, NULL), ST_OK);
	wr32(CC, 0);
	ck_assert(disk.write_cache);
}
END_TEST

START_TEST(test_feature_write_cache_absent)
{
	struct config c = defaults;
	uint32_t dw0 = 0xff;

	c.no_write_cache = true;
	restart(&c);
	enable();
	ck_assert_uint_eq(SC(set_feature(FID_VWC, 1, NULL)), ST_INVALID_FIELD);
	ck_assert_uint_eq(get_feature(FID_VWC, 0, 0, &dw0), ST_OK);
	ck_assert_uint_eq(dw0, 0);
}
END_TEST

START_TEST(test_feature_interrupt_config_and_unknown)
{
	uint32_t dw0 = 0;

	ck_assert_uint_eq(set_feature(FID_IRQ_COALESCING, 0x0a03, NULL), ST_OK);
	ck_assert_uint_eq(get_feature(FID_IRQ_COALESCING, 0, 0, &dw0), ST_OK);
	ck_assert_uint_eq(dw0, 0x0a03);
	ck_assert_uint_eq(get_feature(FID_IRQ_COALESCING, 1, 0, &dw0), ST_OK);
	ck_assert_uint_eq(dw0, 0);
	ck_assert_uint_eq(set_feature(FID_IRQ_CONFIG, 1u << 16 | 2, NULL), ST_OK);   /* CD on vector 2 */
	ck_assert_uint_eq(get_feature(FID_IRQ_CONFIG, 0, 2, &dw0), ST_OK);
	ck_assert_uint_eq(dw0, 1u << 16 | 2);
	ck_assert_uint_eq(get_feature(FID_IRQ_CONFIG, 0, 1, &dw0), ST_OK);
	ck_assert_uint_eq(dw0, 1);
	/* Three vectors: 0 to 2. */
	ck_assert_uint_eq(SC(set_feature(FID_IRQ_CONFIG, 3, NULL)), ST_INVALID_FIELD);
	ck_assert_uint_eq(SC(get_feature(FID_IRQ_CONFIG, 0, 3, NULL)), ST_INVALID_FIELD);
	ck_assert_uint_eq(SC(set_feature(1u << 31 | FID_IRQ_COALESCING, 0, NULL)), ST_NOT_SAVEABLE);
	ck_assert_uint_eq(SC(set_feature(0x7f, 0, NULL)), ST_INVALID_FIELD);
	ck_assert_uint_eq(SC(get_feature(0x7f, 0, 0, NULL)), ST_INVALID_FIELD);
	ck_assert_uint_eq(SC(set_feature(0x00, 0, NULL)), ST_INVALID_FIELD);
}
END_TEST

/* Get Features with SEL = 3 (supported capabilities) of a feature the controller does not have. */
START_TEST(test_feature_capabilities_of_unknown_feature)
{
	uint32_t dw0 = 0;

	ck_assert_uint_eq(get_feature(FID_VWC, 3, 0, &dw0), ST_OK);
	ck_assert_uint_eq(dw0 & 1, 0);                            /* not saveable */
	ck_assert_uint_eq(dw0 & 4, 4);                            /* changeable */
	ck_assert_uint_eq(SC(get_feature(0x7f, 3, 0, NULL)), ST_INVALID_FIELD);
}
END_TEST

/* ==== Queue creation and deletion ==== */

START_TEST(test_create_cq_errors)
{
	enable();
	ck_assert_uint_eq(SC(create_cq(0, 16, IOCQ_GPA(1), 1, true, true)), ST_INVALID_QID);
	ck_assert_uint_eq(SC(create_cq(3, 16, IOCQ_GPA(1), 1, true, true)), ST_INVALID_QID);
	ck_assert_uint_eq(SC(create_cq(0xffff, 16, IOCQ_GPA(1), 1, true, true)), ST_INVALID_QID);
	ck_assert_uint_eq(SC(create_cq(1, 1, IOCQ_GPA(1), 1, true, true)), ST_INVALID_QSIZE);
	ck_assert_uint_eq(SC(create_cq(1, 1025, IOCQ_GPA(1), 1, true, true)), ST_INVALID_QSIZE);
	ck_assert_uint_eq(SC(create_cq(1, 16, IOCQ_GPA(1), 3, true, true)), ST_INVALID_VECTOR);
	ck_assert_uint_eq(SC(create_cq(1, 16, IOCQ_GPA(1), 1, true, false)), ST_INVALID_FIELD);   /* PC = 0 */
	ck_assert_uint_eq(SC(create_cq(1, 16, RAM_END, 1, true, true)), ST_INVALID_FIELD);
	ck_assert_uint_eq(SC(create_cq(1, 1024, RAM_END - PAGE, 1, true, true)), ST_INVALID_FIELD);
	ck_assert_uint_eq(SC(create_cq(1, 16, IOCQ_GPA(1) + 0x100, 1, true, true)), ST_INVALID_FIELD);
	/* Nothing was created by those: the largest queue goes in now, once. */
	uint16_t st = create_cq(1, 1024, IOCQ_GPA(1), 2, true, true);
	ck_assert_uint_eq(st, ST_OK);
	st = create_cq(1, 16, IOCQ_GPA(1), 1, true, true);
	ck_assert_uint_eq(SC(st), ST_INVALID_QID);
	ck_assert_uint_eq(st & ST_DNR, ST_DNR);
}
END_TEST

START_TEST(test_create_sq_errors)
{
	enable();
	ck_assert_uint_eq(SC(create_sq(1, 16, IOSQ_GPA(1), 1, true)), ST_CQ_INVALID);     /* no CQ 1 yet */
	ck_assert_uint_eq(create_cq(1, 16, IOCQ_GPA(1), 1, true, true), ST_OK);
	ck_assert_uint_eq(SC(create_sq(1, 16, IOSQ_GPA(1), 0, true)), ST_CQ_INVALID);     /* the admin CQ */
	ck_assert_uint_eq(SC(create_sq(1, 16, IOSQ_GPA(1), 2, true)), ST_CQ_INVALID);
	ck_assert_uint_eq(SC(create_sq(1, 16, IOSQ_GPA(1), 3, true)), ST_CQ_INVALID);
	ck_assert_uint_eq(SC(create_sq(0, 16, IOSQ_GPA(1), 1, true)), ST_INVALID_QID);
	ck_assert_uint_eq(SC(create_sq(3, 16, IOSQ_GPA(1), 1, true)), ST_INVALID_QID);
	ck_assert_uint_eq(SC(create_sq(1, 1, IOSQ_GPA(1), 1, true)), ST_INVALID_QSIZE);
	ck_assert_uint_eq(SC(create_sq(1, 1025, IOSQ_GPA(1), 1, true)), ST_INVALID_QSIZE);
	ck_assert_uint_eq(SC(create_sq(1, 16, IOSQ_GPA(1), 1, false)), ST_INVALID_FIELD);
	ck_assert_uint_eq(SC(create_sq(1, 16, RAM_END - 0x200, 1, true)), ST_INVALID_FIELD);
	ck_assert_uint_eq(SC(create_sq(1, 1024, RAM_END - PAGE, 1, true)), ST_INVALID_FIELD);
	ck_assert_uint_eq(create_sq(1, 16, IOSQ_GPA(1), 1, true), ST_OK);
	ck_assert_uint_eq(SC(create_sq(1, 16, IOSQ_GPA(1), 1, true)), ST_INVALID_QID);
	/* Two submission queues may share a completion queue. */
	ck_assert_uint_eq(create_sq(2, 16, IOSQ_GPA(2), 1, true), ST_OK);
}
END_TEST

START_TEST(test_delete_queues)
{
	enable();
	io_queue(1, 16, 16, 1);
	uint16_t st = delete_queue(ADM_DELETE_CQ, 1);
	ck_assert_uint_eq(SC(st), ST_QUEUE_DELETION);
	ck_assert_uint_eq(SC(delete_queue(ADM_DELETE_SQ, 0)), ST_INVALID_QID);
	ck_assert_uint_eq(SC(delete_queue(ADM_DELETE_SQ, 2)), ST_INVALID_QID);
	ck_assert_uint_eq(SC(delete_queue(ADM_DELETE_CQ, 0)), ST_INVALID_QID);
	ck_assert_uint_eq(SC(delete_queue(ADM_DELETE_CQ, 2)), ST_INVALID_QID);
	ck_assert_uint_eq(delete_queue(ADM_DELETE_SQ, 1), ST_OK);
	ck_assert_uint_eq(SC(delete_queue(ADM_DELETE_SQ, 1)), ST_INVALID_QID);
	/* The deleted queue's doorbell runs nothing. */
	struct nvme_sqe c = rw(IO_WRITE, 0, 1, DATA_GPA, 0);
	sq_put(&ioq[1], &c);
	ring_sq(&ioq[1]);
	ck_assert_uint_eq(disk.nr_log, 0);
	ck_assert_uint_eq(delete_queue(ADM_DELETE_CQ, 1), ST_OK);
	/* Both can be made again, of other sizes. */
	io_queue(1, 4, 8, 2);
	ck_assert_uint_eq(io(rw(IO_READ, 0, 1, DATA_GPA, 0)), ST_OK);
}
END_TEST

START_TEST(test_delete_sq_with_io_in_flight)
{
	disk.hold = true;
	fill(DATA_GPA, 512, 1);
	struct nvme_sqe c = rw(IO_WRITE, 4, 1, DATA_GPA, 0);
	sq_put(&ioq[1], &c);
	ring_sq(&ioq[1]);
	ck_assert_uint_eq(disk.inflight, 1);
	ck_assert_uint_eq(delete_queue(ADM_DELETE_SQ, 1), ST_OK);
	/* The command finished first, its completion posted before the queue went. */
	ck_assert_uint_eq(disk.inflight, 0);
	ck_assert_mem_eq(disk.data + 4 * 512, ram(DATA_GPA), 512);
	struct nvme_cqe e = cq_pop(&ioq[1]);
	ck_assert_uint_eq(e.cid, c.cid);
	ck_assert_uint_eq(status_of(e), ST_OK);
}
END_TEST

/* ==== I/O: PRPs ==== */

START_TEST(test_rw_prp1_only)
{
	fill(DATA_GPA, 512, 1);
	ck_assert_uint_eq(io(rw(IO_WRITE, 3, 1, DATA_GPA, 0)), ST_OK);
	ck_assert_mem_eq(disk.data + 3 * 512, ram(DATA_GPA), 512);
	/* A whole page, and a short transfer at a dword offset within one page. */
	fill(DATA_GPA + PAGE, PAGE, 2);
	ck_assert_uint_eq(io(rw(IO_WRITE, 100, 8, DATA_GPA + PAGE, 0)), ST_OK);
	ck_assert_mem_eq(disk.data + 100 * 512, ram(DATA_GPA + PAGE), PAGE);
	fill(DATA_GPA + 2 * PAGE + 0x104, 1024, 3);
	ck_assert_uint_eq(io(rw(IO_WRITE, 200, 2, DATA_GPA + 2 * PAGE + 0x104, 0)), ST_OK);
	ck_assert_mem_eq(disk.data + 200 * 512, ram(DATA_GPA + 2 * PAGE + 0x104), 1024);
	/* Read back elsewhere. */
	memset(ram(DATA2_GPA), 0, PAGE);
	ck_assert_uint_eq(io(rw(IO_READ, 100, 8, DATA2_GPA, 0)), ST_OK);
	ck_assert_mem_eq(ram(DATA2_GPA), disk.data + 100 * 512, PAGE);
	ck_assert_uint_eq(io(rw(IO_READ, 200, 2, DATA2_GPA + PAGE + 0x10, 0)), ST_OK);
	ck_assert_mem_eq(ram(DATA2_GPA + PAGE + 0x10), disk.data + 200 * 512, 1024);
}
END_TEST

START_TEST(test_rw_prp1_and_prp2)
{
	/* Two whole pages, far apart. */
	fill(DATA_GPA, PAGE, 4);
	fill(DATA2_GPA, PAGE, 5);
	ck_assert_uint_eq(io(rw(IO_WRITE, 16, 16, DATA_GPA, DATA2_GPA)), ST_OK);
	ck_assert_mem_eq(disk.data + 16 * 512, ram(DATA_GPA), PAGE);
	ck_assert_mem_eq(disk.data + 16 * 512 + PAGE, ram(DATA2_GPA), PAGE);
	/* PRP1 at an offset: one page's worth over two pages. */
	fill(DATA_GPA + PAGE + 0xe00, 0x200, 6);
	fill(DATA3_GPA, 0xe00, 7);
	ck_assert_uint_eq(io(rw(IO_WRITE, 40, 8, DATA_GPA + PAGE + 0xe00, DATA3_GPA)), ST_OK);
	ck_assert_mem_eq(disk.data + 40 * 512, ram(DATA_GPA + PAGE + 0xe00), 0x200);
	ck_assert_mem_eq(disk.data + 40 * 512 + 0x200, ram(DATA3_GPA), 0xe00);
	/* And read into the same shape. */
	memset(ram(DATA3_GPA + PAGE), 0, 2 * PAGE);
	ck_assert_uint_eq(io(rw(IO_READ, 16, 16, DATA3_GPA + 2 * PAGE, DATA3_GPA + PAGE)), ST_OK);
	ck_assert_mem_eq(ram(DATA3_GPA + 2 * PAGE), disk.data + 16 * 512, PAGE);
	ck_assert_mem_eq(ram(DATA3_GPA + PAGE), disk.data + 16 * 512 + PAGE, PAGE);
}
END_TEST

START_TEST(test_rw_prp_list_128k)
{
	uint64_t *list = ram(PRP_GPA);
	const unsigned pages = 32;

	/* PRP1 and 31 list entries, in descending order so the order shows. */
	for (unsigned i = 1; i < pages; i++)
		list[i - 1] = DATA2_GPA + (uint64_t)(pages - i) * PAGE * 2;
	fill(DATA_GPA, PAGE, 9);
	for (unsigned i = 1; i < pages; i++)
		fill(list[i - 1], PAGE, (uint8_t)(10 + i));
	ck_assert_uint_eq(io(rw(IO_WRITE, 256, 256, DATA_GPA, PRP_GPA)), ST_OK);
	ck_assert_mem_eq(disk.data + 256 * 512, ram(DATA_GPA), PAGE);
	for (unsigned i = 1; i < pages; i++)
		ck_assert_mem_eq(disk.data + 256 * 512 + i * PAGE, ram(list[i - 1]), PAGE);
	/* Read it back through a list of other pages. */
	for (unsigned i = 1; i < pages; i++)
		list[i - 1] = DATA3_GPA + (uint64_t)i * PAGE;
	memset(ram(DATA3_GPA), 0, pages * PAGE);
	ck_assert_uint_eq(io(rw(IO_READ, 256, 256, DATA3_GPA, PRP_GPA)), ST_OK);
	ck_assert_mem_eq(ram(DATA3_GPA), disk.data + 256 * 512, pages * PAGE);
}
END_TEST

START_TEST(test_rw_prp_list_chained_to_a_second_page)
{
	/* PRP1 at 0x100 into its page: 32 KiB need 8 more pages. The list starts 4 entries
	 * before the end of its page, so that page holds 3 entries and a pointer to the next. */
	uint64_t first = PRP_GPA + PAGE - 4 * 8, second = PRP_GPA + 4 * PAGE;
	uint64_t *l1 = ram(first), *l2 = ram(second);
	uint64_t pages[8];

	for (unsigned i = 0; i < 8; i++)
		pages[i] = DATA2_GPA + (uint64_t)(7 - i) * 3 * PAGE;
	l1[0] = pages[0];
	l1[1] = pages[1];
	l1[2] = pages[2];
	l1[3] = second;
	for (unsigned i = 3; i < 8; i++)
		l2[i - 3] = pages[i];
	l2[5] = 0xdead000;                          /* past the end of the list: not used */
	fill(DATA_GPA + 0x100, PAGE - 0x100, 1);
	for (unsigned i = 0; i < 8; i++)
		fill(pages[i], PAGE, (uint8_t)(20 + i));
	ck_assert_uint_eq(io(rw(IO_WRITE, 512, 64, DATA_GPA + 0x100, first)), ST_OK);
	const uint8_t *d = disk.data + 512 * 512;
	ck_assert_mem_eq(d, ram(DATA_GPA + 0x100), PAGE - 0x100);
	d += PAGE - 0x100;
	for (unsigned i = 0; i < 7; i++, d += PAGE)
		ck_assert_mem_eq(d, ram(pages[i]), PAGE);
	ck_assert_mem_eq(d, ram(pages[7]), 0x100);   /* the last page partly */
}
END_TEST

START_TEST(test_rw_prp_list_exactly_filling_its_page)
{
	/* Three entries needed and three fit before the end of the page: the last is data,
	 * not a pointer to another list. */
	uint64_t list_gpa = PRP_GPA + PAGE - 3 * 8;
	uint64_t *l = ram(list_gpa);

	l[0] = DATA2_GPA;
	l[1] = DATA2_GPA + 2 * PAGE;
	l[2] = DATA2_GPA + 4 * PAGE;
	fill(DATA_GPA, PAGE, 1);
	for (unsigned i = 0; i < 3; i++)
		fill(l[i], PAGE, (uint8_t)(40 + i));
	ck_assert_uint_eq(io(rw(IO_WRITE, 64, 32, DATA_GPA, list_gpa)), ST_OK);
	ck_assert_mem_eq(disk.data + 64 * 512, ram(DATA_GPA), PAGE);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_mem_eq(disk.data + 64 * 512 + (i + 1) * PAGE, ram(l[i]), PAGE);
}
END_TEST

START_TEST(test_prp_bad_offsets)
{
	uint64_t *list = ram(PRP_GPA);

	/* PRP1 not dword aligned. */
	ck_assert_uint_eq(SC(io(rw(IO_READ, 0, 1, DATA_GPA + 2, 0))), ST_PRP_OFFSET);
	/* PRP2 a data page with an offset. */
	ck_assert_uint_eq(SC(io(rw(IO_READ, 0, 16, DATA_GPA, DATA2_GPA + 0x200))), ST_PRP_OFFSET);
	/* A list entry with an offset. */
	list[0] = DATA2_GPA;
	list[1] = DATA2_GPA + PAGE + 8;
	ck_assert_uint_eq(SC(io(rw(IO_READ, 0, 24, DATA_GPA, PRP_GPA))), ST_PRP_OFFSET);
	/* The list pointer not qword aligned. */
	list[1] = DATA2_GPA + PAGE;
	ck_assert_uint_eq(SC(io(rw(IO_READ, 0, 24, DATA_GPA, PRP_GPA + 4))), ST_PRP_OFFSET);
	ck_assert_uint_eq(io(rw(IO_READ, 0, 24, DATA_GPA, PRP_GPA)), ST_OK);
	/* None of the failures reached the backend. */
	ck_assert_uint_eq(disk.nr_log, 1);
}
END_TEST

START_TEST(test_prp_outside_ram)
{
	uint64_t *list = ram(PRP_GPA);

	ck_assert_uint_eq(SC(io(rw(IO_READ, 0, 1, RAM_END, 0))), ST_DATA_XFER);
	ck_assert_uint_eq(SC(io(rw(IO_WRITE, 0, 16, DATA_GPA, RAM_END))), ST_DATA_XFER);
	ck_assert_uint_eq(SC(io(rw(IO_WRITE, 0, 24, DATA_GPA, RAM_END))), ST_DATA_XFER);       /* the list */
	list[0] = DATA2_GPA;
	list[1] = 0x7fff0000000ull;
	ck_assert_uint_eq(SC(io(rw(IO_WRITE, 0, 24, DATA_GPA, PRP_GPA))), ST_DATA_XFER);
	/* A list whose page holds only the pointer to the next list, which is outside RAM. */
	*(uint64_t *)ram(PRP_GPA + PAGE - 8) = RAM_END;
	ck_assert_uint_eq(SC(io(rw(IO_WRITE, 0, 24, DATA_GPA, PRP_GPA + PAGE - 8))), ST_DATA_XFER);
	ck_assert_uint_eq(disk.nr_log, 0);
}
END_TEST

/*
 * A PRP list that starts in the last entry of its page holds nothing but the pointer to
 * the next list page. When that pointer names itself, the walk must end (with an error)
 * rather than follow it for ever: "nothing a driver writes makes vmm loop without bound".
 */
START_TEST(test_prp_list_chained_to_itself_ends)
{
	uint64_t last_entry = PRP_GPA + PAGE - 8;

	*(uint64_t *)ram(last_entry) = last_entry;
	uint16_t st = io(rw(IO_READ, 0, 24, DATA_GPA, last_entry));
	ck_assert_uint_ne(st, ST_OK);
	ck_assert_uint_eq(disk.nr_log, 0);
}
END_TEST

START_TEST(test_transfer_size_and_lba_range)
{
	/* MDTS 5: 128 KiB; one block more is refused. */
	ck_assert_uint_eq(SC(io(rw(IO_READ, 0, 257, DATA_GPA, PRP_GPA))), ST_INVALID_FIELD);
	ck_assert_uint_eq(SC(io(rw(IO_READ, BLOCKS, 1, DATA_GPA, 0))), ST_LBA_RANGE);
	ck_assert_uint_eq(SC(io(rw(IO_READ, BLOCKS - 1, 2, DATA_GPA, 0))), ST_LBA_RANGE);
	ck_assert_uint_eq(SC(io(rw(IO_WRITE, BLOCKS - 1, 2, DATA_GPA, 0))), ST_LBA_RANGE);
	ck_assert_uint_eq(SC(io(rw(IO_READ, 1ull << 40, 1, DATA_GPA, 0))), ST_LBA_RANGE);
	ck_assert_uint_eq(SC(io(rw(IO_READ, ~0ull, 2, DATA_GPA, 0))), ST_LBA_RANGE);
	ck_assert_uint_eq(disk.nr_log, 0);
	/* The last block is in range. */
	fill(DATA_GPA, 512, 8);
	ck_assert_uint_eq(io(rw(IO_WRITE, BLOCKS - 1, 1, DATA_GPA, 0)), ST_OK);
	ck_assert_mem_eq(disk.data + DISK_BYTES - 512, ram(DATA_GPA), 512);
}
END_TEST

START_TEST(test_namespace_and_opcode_errors)
{
	struct nvme_sqe c = rw(IO_READ, 0, 1, DATA_GPA, 0);

	c.nsid = 2;
	ck_assert_uint_eq(SC(io(c)), ST_INVALID_NS);
	c.nsid = 0;
	ck_assert_uint_eq(SC(io(c)), ST_INVALID_NS);
	c.nsid = 0xffffffff;
	ck_assert_uint_eq(SC(io(c)), ST_INVALID_NS);
	c = rw(0x7f, 0, 1, DATA_GPA, 0);
	uint16_t st = io(c);
	ck_assert_uint_eq(SC(st), ST_INVALID_OPCODE);
	ck_assert_uint_eq(st & ST_DNR, ST_DNR);
	ck_assert_uint_eq(disk.nr_log, 0);
}
END_TEST

START_TEST(test_readonly_namespace)
{
	struct config c = defaults;

	c.readonly = true;
	restart(&c);
	ready();
	fill_disk(0, 512, 1);
	uint16_t st = io(rw(IO_WRITE, 0, 1, DATA_GPA, 0));
	ck_assert_uint_eq(SC(st), ST_WRITE_PROTECTED);
	ck_assert_uint_eq(st & ST_DNR, ST_DNR);
	ck_assert_uint_eq(SC(io(rw(IO_WRITE_ZEROES, 0, 1, 0, 0))), ST_WRITE_PROTECTED);
	*(uint32_t *)ram(DATA2_GPA + 4) = 1;
	*(uint64_t *)ram(DATA2_GPA + 8) = 0;
	ck_assert_uint_eq(SC(io((struct nvme_sqe){ .opc = IO_DSM, .nsid = 1, .prp1 = DATA2_GPA, .cdw10 = 0,
						.cdw11 = 1u << 2 })), ST_WRITE_PROTECTED);
	ck_assert_uint_eq(disk.nr_log, 0);
	ck_assert_uint_eq(io(rw(IO_READ, 0, 1, DATA_GPA, 0)), ST_OK);
	ck_assert_mem_eq(ram(DATA_GPA), disk.data, 512);
}
END_TEST

START_TEST(test_flush)
{
	ck_assert_uint_eq(io((struct nvme_sqe){ .opc = IO_FLUSH, .nsid = 1 }), ST_OK);
	ck_assert_uint_eq(disk.flushes, 1);
	ck_assert_uint_eq(io((struct nvme_sqe){ .opc = IO_FLUSH, .nsid = 0xffffffff }), ST_OK);
	ck_assert_uint_eq(disk.flushes, 2);
	ck_assert_uint_eq(SC(io((struct nvme_sqe){ .opc = IO_FLUSH, .nsid = 2 })), ST_INVALID_NS);
	ck_assert_uint_eq(disk.flushes, 2);
	/* FUA: the write, then a flush, before the completion. */
	struct nvme_sqe c = rw(IO_WRITE, 0, 1, DATA_GPA, 0);
	c.cdw12 |= 1u << 30;
	ck_assert_uint_eq(io(c), ST_OK);
	ck_assert_uint_eq(disk.flushes, 3);
	ck_assert_uint_eq(disk.log[disk.nr_log - 2], MEM_WRITE);
	ck_assert_uint_eq(disk.log[disk.nr_log - 1], MEM_FLUSH);
}
END_TEST

START_TEST(test_write_zeroes)
{
	memset(disk.data, 0xff, 64 * 512);
	struct nvme_sqe c = rw(IO_WRITE_ZEROES, 10, 4, 0, 0);
	ck_assert_uint_eq(io(c), ST_OK);
	ck_assert_uint_eq(disk.log[disk.nr_log - 1], MEM_ZEROES);
	ck_assert_uint_eq(disk.zeroes_unmap, 0);
	for (unsigned i = 0; i < 64 * 512; i++)
		ck_assert_uint_eq(disk.data[i], i >= 10 * 512 && i < 14 * 512 ? 0 : 0xff);
	/* DEAC: the backend may deallocate. */
	c = rw(IO_WRITE_ZEROES, 20, 8, 0, 0);
	c.cdw12 |= 1u << 25;
	ck_assert_uint_eq(io(c), ST_OK);
	ck_assert_uint_eq(disk.zeroes_unmap, 1);
	ck_assert_uint_eq(disk.data[20 * 512], 0);
	ck_assert_uint_eq(disk.data[28 * 512], 0xff);
	ck_assert_uint_eq(SC(io(rw(IO_WRITE_ZEROES, BLOCKS - 2, 3, 0, 0))), ST_LBA_RANGE);
}
END_TEST

START_TEST(test_dsm_deallocate)
{
	struct { uint32_t attr, nlb; uint64_t slba; } *r = ram(DATA2_GPA);

	memset(disk.data, 0xff, 200 * 512);
	r[0] = (typeof(*r)){ 0, 4, 8 };
	r[1] = (typeof(*r)){ 0, 1, 100 };
	r[2] = (typeof(*r)){ 0, 0, 150 };            /* no blocks: nothing to do */
	r[3] = (typeof(*r)){ 0, 16, 180 };
	struct nvme_sqe c = { .opc = IO_DSM, .nsid = 1, .prp1 = DATA2_GPA, .cdw10 = 3, .cdw11 = 1u << 2 };
	ck_assert_uint_eq(io(c), ST_OK);
	unsigned discards = 0;
	for (unsigned i = 0; i < disk.nr_log; i++)
		discards += disk.log[i] == MEM_DISCARD;
	ck_assert_uint_eq(discards, 3);
	ck_assert_uint_eq(disk.data[8 * 512 - 1], 0xff);
	ck_assert_uint_eq(disk.data[8 * 512], 0);
	ck_assert_uint_eq(disk.data[12 * 512 - 1], 0);
	ck_assert_uint_eq(disk.data[12 * 512], 0xff);
	ck_assert_uint_eq(disk.data[100 * 512], 0);
	ck_assert_uint_eq(disk.data[101 * 512], 0xff);
	ck_assert_uint_eq(disk.data[150 * 512], 0xff);
	ck_assert_uint_eq(disk.data[195 * 512], 0);
	/* One bad range among good ones: nothing is discarded. */
	unsigned log = disk.nr_log;
	memset(disk.data, 0xff, 200 * 512);
	r[1] = (typeof(*r)){ 0, 2, BLOCKS - 1 };
	ck_assert_uint_eq(SC(io(c)), ST_LBA_RANGE);
	ck_assert_uint_eq(disk.nr_log, log);
	ck_assert_uint_eq(disk.data[8 * 512], 0xff);
	/* Without AD (attribute deallocate) it is a hint: success, nothing done. */
	r[1] = (typeof(*r)){ 0, 1, 100 };
	c.cdw11 = 0;
	ck_assert_uint_eq(io(c), ST_OK);
	ck_assert_uint_eq(disk.nr_log, log);
	/* The ranges themselves outside RAM. */
	c.cdw11 = 1u << 2;
	c.prp1 = RAM_END;
	ck_assert_uint_eq(SC(io(c)), ST_DATA_XFER);
	ck_assert_uint_eq(disk.nr_log, log);
}
END_TEST

/* ==== I/O: SGLs ==== */

struct sgl {
	uint64_t addr;
	uint32_t len;
	uint8_t rsvd[3];
	uint8_t id;
};

#define SGL_DATA 0x00
#define SGL_BIT_BUCKET 0x10
#define SGL_SEGMENT 0x20
#define SGL_LAST 0x30

static struct nvme_sqe sgl_rw(uint8_t opc, uint64_t slba, uint32_t nlb, struct sgl d)
{
	struct nvme_sqe c = rw(opc, slba, nlb, 0, 0);
	c.flags = 1u << 6;                          /* PSDT 01b: SGL */
	memcpy(&c.prp1, &d, 16);
	return c;
}

START_TEST(test_sgl_single_data_block)
{
	fill(DATA_GPA + 3, 1024, 1);                /* SGLs have no alignment rules */
	ck_assert_uint_eq(io(sgl_rw(IO_WRITE, 30, 2, (struct sgl){ DATA_GPA + 3, 1024, { 0 }, SGL_DATA })), ST_OK);
	ck_assert_mem_eq(disk.data + 30 * 512, ram(DATA_GPA + 3), 1024);
	memset(ram(DATA2_GPA), 0, 2048);
	ck_assert_uint_eq(io(sgl_rw(IO_READ, 30, 2, (struct sgl){ DATA2_GPA + 1, 1024, { 0 }, SGL_DATA })), ST_OK);
	ck_assert_mem_eq(ram(DATA2_GPA + 1), disk.data + 30 * 512, 1024);
	ck_assert_uint_eq(((uint8_t *)ram(DATA2_GPA))[1025], 0);
}
END_TEST

START_TEST(test_sgl_last_segment_of_data_blocks)
{
	struct sgl *seg = ram(SGL_GPA);

	seg[0] = (struct sgl){ DATA_GPA, 700, { 0 }, SGL_DATA };
	seg[1] = (struct sgl){ DATA2_GPA + 5, 300, { 0 }, SGL_DATA };
	seg[2] = (struct sgl){ DATA3_GPA + 0x800, 536, { 0 }, SGL_DATA };
	fill(DATA_GPA, 700, 1);
	fill(DATA2_GPA + 5, 300, 2);
	fill(DATA3_GPA + 0x800, 536, 3);
	ck_assert_uint_eq(io(sgl_rw(IO_WRITE, 60, 3, (struct sgl){ SGL_GPA, 3 * 16, { 0 }, SGL_LAST })), ST_OK);
	const uint8_t *d = disk.data + 60 * 512;
	ck_assert_mem_eq(d, ram(DATA_GPA), 700);
	ck_assert_mem_eq(d + 700, ram(DATA2_GPA + 5), 300);
	ck_assert_mem_eq(d + 1000, ram(DATA3_GPA + 0x800), 536);
}
END_TEST

START_TEST(test_sgl_segment_chained_to_last_segment)
{
	struct sgl *s1 = ram(SGL_GPA), *s2 = ram(SGL_GPA + 0x400);

	s1[0] = (struct sgl){ DATA_GPA, 1000, { 0 }, SGL_DATA };
	s1[1] = (struct sgl){ DATA2_GPA, 24, { 0 }, SGL_DATA };
	s1[2] = (struct sgl){ SGL_GPA + 0x400, 2 * 16, { 0 }, SGL_LAST };
	s2[0] = (struct sgl){ DATA3_GPA, 512, { 0 }, SGL_DATA };
	s2[1] = (struct sgl){ DATA3_GPA + PAGE, 512, { 0 }, SGL_DATA };
	fill(DATA_GPA, 1000, 1);
	fill(DATA2_GPA, 24, 2);
	fill(DATA3_GPA, 512, 3);
	fill(DATA3_GPA + PAGE, 512, 4);
	ck_assert_uint_eq(io(sgl_rw(IO_WRITE, 70, 4, (struct sgl){ SGL_GPA, 3 * 16, { 0 }, SGL_SEGMENT })), ST_OK);
	const uint8_t *d = disk.data + 70 * 512;
	ck_assert_mem_eq(d, ram(DATA_GPA), 1000);
	ck_assert_mem_eq(d + 1000, ram(DATA2_GPA), 24);
	ck_assert_mem_eq(d + 1024, ram(DATA3_GPA), 512);
	ck_assert_mem_eq(d + 1536, ram(DATA3_GPA + PAGE), 512);
	/* Read back through the same list. */
	memset(ram(DATA_GPA), 0, 1000);
	memset(ram(DATA3_GPA + PAGE), 0, 512);
	ck_assert_uint_eq(io(sgl_rw(IO_READ, 70, 4, (struct sgl){ SGL_GPA, 3 * 16, { 0 }, SGL_SEGMENT })), ST_OK);
	ck_assert_mem_eq(ram(DATA_GPA), d, 1000);
	ck_assert_mem_eq(ram(DATA3_GPA + PAGE), d + 1536, 512);
}
END_TEST

START_TEST(test_sgl_errors)
{
	struct sgl *seg = ram(SGL_GPA);

	/* A type the controller does not take (SGLS says data blocks and segments). */
	uint16_t st = io(sgl_rw(IO_READ, 0, 1, (struct sgl){ DATA_GPA, 512, { 0 }, SGL_BIT_BUCKET }));
	ck_assert_uint_eq(SC(st), ST_SGL_TYPE);
	ck_assert_uint_eq(SC(io(sgl_rw(IO_READ, 0, 1, (struct sgl){ DATA_GPA, 512, { 0 }, 0xf0 }))), ST_SGL_TYPE);
	/* A Segment descriptor inside a Last Segment. */
	seg[0] = (struct sgl){ DATA_GPA, 256, { 0 }, SGL_DATA };
	seg[1] = (struct sgl){ SGL_GPA + 0x400, 16, { 0 }, SGL_SEGMENT };
	ck_assert_uint_eq(SC(io(sgl_rw(IO_READ, 0, 1, (struct sgl){ SGL_GPA, 32, { 0 }, SGL_LAST }))), ST_SGL_TYPE);
	/* Less data than the command transfers. */
	st = io(sgl_rw(IO_READ, 0, 2, (struct sgl){ DATA_GPA, 1000, { 0 }, SGL_DATA }));
	ck_assert_uint_eq(SC(st), ST_SGL_LENGTH);
	seg[1] = (struct sgl){ DATA2_GPA, 200, { 0 }, SGL_DATA };
	ck_assert_uint_eq(SC(io(sgl_rw(IO_READ, 0, 1, (struct sgl){ SGL_GPA, 32, { 0 }, SGL_LAST }))), ST_SGL_LENGTH);
	/* Data outside RAM. */
	ck_assert_uint_eq(SC(io(sgl_rw(IO_READ, 0, 1, (struct sgl){ RAM_END - 100, 512, { 0 }, SGL_DATA }))),
			  ST_DATA_XFER);
	/* PSDT 11b is reserved. */
	struct nvme_sqe c = sgl_rw(IO_READ, 0, 1, (struct sgl){ DATA_GPA, 512, { 0 }, SGL_DATA });
	c.flags = 3u << 6;
	ck_assert_uint_eq(SC(io(c)), ST_INVALID_FIELD);
	ck_assert_uint_eq(disk.nr_log, 0);
	/* A Segment that points at itself runs out of descriptors rather than loop. */
	seg[0] = (struct sgl){ DATA_GPA, 1, { 0 }, SGL_DATA };
	seg[1] = (struct sgl){ SGL_GPA, 32, { 0 }, SGL_SEGMENT };
	st = io(sgl_rw(IO_READ, 0, 1, (struct sgl){ SGL_GPA, 32, { 0 }, SGL_SEGMENT }));
	ck_assert_uint_ne(st, ST_OK);
	ck_assert_uint_eq(disk.nr_log, 0);
}
END_TEST

/* ==== Interrupts ==== */

START_TEST(test_msix_vector_per_queue)
{
	io_queue(2, 16, 16, 2);
	unsigned admin_msis = irqs.msi[0];
	ck_assert_uint_gt(admin_msis, 0);            /* the admin commands so far */
	ck_assert_uint_eq(irqs.msi[1], 0);
	ck_assert_uint_eq(io(rw(IO_READ, 0, 1, DATA_GPA, 0)), ST_OK);
	ck_assert_uint_eq(irqs.msi[1], 1);
	ck_assert_uint_eq(irqs.msi[2], 0);
	struct nvme_sqe c = rw(IO_READ, 0, 1, DATA_GPA, 0);
	run(&ioq[2], &c);
	ck_assert_uint_eq(irqs.msi[1], 1);
	ck_assert_uint_eq(irqs.msi[2], 1);
	ck_assert_uint_eq(irqs.msi[0], admin_msis);
	ck_assert_uint_eq(irqs.stray_msis, 0);
	ck_assert(!inta());
	/* A masked vector keeps its message pending (PBA) until unmasked. */
	unsigned cap = find_msix_cap();
	uint32_t table = cfg_rd32(cap + 4) & ~7u, pba = cfg_rd32(cap + 8) & ~7u;
	wr32(table + 16 * 1 + 12, 1);
	ck_assert_uint_eq(io(rw(IO_READ, 0, 1, DATA_GPA, 0)), ST_OK);
	ck_assert_uint_eq(irqs.msi[1], 1);
	ck_assert_uint_eq(rd32(pba) & 2, 2);
	wr32(table + 16 * 1 + 12, 0);
	ck_assert_uint_eq(irqs.msi[1], 2);
	ck_assert_uint_eq(rd32(pba) & 2, 0);
	/* A CQ without IEN interrupts no one. */
	ck_assert_uint_eq(delete_queue(ADM_DELETE_SQ, 2), ST_OK);
	ck_assert_uint_eq(delete_queue(ADM_DELETE_CQ, 2), ST_OK);
	memset(ram(IOCQ_GPA(2)), 0, 16 * 16);
	ck_assert_uint_eq(create_cq(2, 16, IOCQ_GPA(2), 2, false, true), ST_OK);
	ck_assert_uint_eq(create_sq(2, 16, IOSQ_GPA(2), 2, true), ST_OK);
	ioq[2] = (struct queue){ .qid = 2, .sq_size = 16, .cq_size = 16, .sq_gpa = IOSQ_GPA(2),
				 .cq_gpa = IOCQ_GPA(2), .phase = true };
	c = rw(IO_READ, 0, 1, DATA_GPA, 0);
	run(&ioq[2], &c);
	ck_assert_uint_eq(irqs.msi[2], 1);
}
END_TEST

START_TEST(test_intx_follows_unread_entries_and_intms)
{
	/* No MSI-X: INTA# while the admin CQ holds entries the driver has not acknowledged. */
	enable();
	ck_assert(!inta());
	sq_put(&aq, &(struct nvme_sqe){ .opc = ADM_GET_FEATURES, .cdw10 = FID_NUM_QUEUES });
	ring_sq(&aq);
	ck_assert(inta());
	ck_assert_uint_eq(cfg_rd32(PCI_COMMAND) >> 16 & PCI_STATUS_INTERRUPT, PCI_STATUS_INTERRUPT);
	cq_pop(&aq);
	ck_assert(inta());
	ring_cq(&aq);
	ck_assert(!inta());
	/* INTMS masks it, INTMC unmasks it. */
	sq_put(&aq, &(struct nvme_sqe){ .opc = ADM_GET_FEATURES, .cdw10 = FID_NUM_QUEUES });
	wr32(INTMS, 1);
	ck_assert_uint_eq(rd32(INTMS), 1);
	ring_sq(&aq);
	ck_assert(!inta());
	wr32(INTMC, 1);
	ck_assert_uint_eq(rd32(INTMC), 0);
	ck_assert(inta());
	cq_pop(&aq);
	ring_cq(&aq);
	ck_assert(!inta());
	/* An I/O queue on INTx. */
	io_queue(1, 8, 8, 0);
	struct nvme_sqe c = rw(IO_READ, 0, 1, DATA_GPA, 0);
	sq_put(&ioq[1], &c);
	ring_sq(&ioq[1]);
	ck_assert(inta());
	cq_pop(&ioq[1]);
	ring_cq(&ioq[1]);
	ck_assert(!inta());
	/* MSI-X on: INTx is not used. */
	msix_on();
	sq_put(&ioq[1], &c);
	ring_sq(&ioq[1]);
	ck_assert(!inta());
	ck_assert_uint_eq(irqs.msi[0], 1);
}
END_TEST

START_TEST(test_reset_clears_intms)
{
	enable();
	wr32(INTMS, 1);
	ck_assert_uint_eq(rd32(INTMS), 1);
	/* A Controller Level Reset (CC.EN 1 to 0) resets every register but AQA, ASQ and ACQ (7.3.2). */
	wr32(CC, 0);
	ck_assert_uint_eq(rd32(INTMS), 0);
}
END_TEST

static double ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

START_TEST(test_interrupt_coalescing_threshold)
{
	struct timespec t0;
	unsigned seen[6];

	/* THR 3 (4 entries), TIME 255 (25.5 ms). */
	ck_assert_uint_eq(set_feature(FID_IRQ_COALESCING, 255u << 8 | 3, NULL), ST_OK);
	disk.hold = true;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned i = 0; i < 8; i++) {
		struct nvme_sqe c = rw(IO_READ, i, 1, DATA_GPA + i * PAGE, 0);
		sq_put(&ioq[1], &c);
	}
	ring_sq(&ioq[1]);
	ck_assert_uint_eq(disk.inflight, 8);
	/* One at a time, five of them; then the last three together. */
	for (unsigned i = 0; i < 6; i++) {
		mem_block_complete(&disk, i < 5 ? 1 : 3);
		nvme_complete_io(ctrl);
		seen[i] = irqs.msi[1];
	}
	ck_assert_uint_eq(cqes_ready(&ioq[1]), 8);
	if (ms_since(&t0) < 20) {
		/* Held while commands are in flight, until the fourth entry; once nothing is left
		 * in flight the queue is signalled at once. */
		static const unsigned expect[6] = { 0, 0, 0, 1, 1, 2 };
		for (unsigned i = 0; i < 6; i++)
			ck_assert_msg(seen[i] == expect[i], "after completion step %u: %u interrupts, expected %u", i,
				      seen[i], expect[i]);
	} else {
		/* Too slow a machine to tell the threshold from the timer: at least not one per entry. */
		ck_assert_uint_lt(seen[5], 6);
		ck_assert_uint_gt(seen[5], seen[4]);
	}
	/* Coalescing Disable on the vector: each batch interrupts. */
	for (unsigned i = 0; i < 8; i++)
		cq_pop(&ioq[1]);
	ring_cq(&ioq[1]);
	ck_assert_uint_eq(set_feature(FID_IRQ_CONFIG, 1u << 16 | 1, NULL), ST_OK);
	for (unsigned i = 0; i < 4; i++) {
		struct nvme_sqe c = rw(IO_READ, i, 1, DATA_GPA + i * PAGE, 0);
		sq_put(&ioq[1], &c);
	}
	ring_sq(&ioq[1]);
	unsigned before = irqs.msi[1];
	mem_block_complete(&disk, 1);
	nvme_complete_io(ctrl);
	ck_assert_uint_eq(irqs.msi[1], before + 1);
	/* The admin queue is never coalesced. */
	unsigned admin_msis = irqs.msi[0];
	uint32_t dw0;
	ck_assert_uint_eq(get_feature(FID_NUM_QUEUES, 0, 0, &dw0), ST_OK);
	ck_assert_uint_eq(irqs.msi[0], admin_msis + 1);
	mem_block_complete(&disk, 3);
	nvme_complete_io(ctrl);
}
END_TEST

/* ==== Doorbells and asynchronous events ==== */

static void submit_aer(void)
{
	sq_put(&aq, &(struct nvme_sqe){ .opc = ADM_AER });
	ring_sq(&aq);
	ck_assert(!cqe_ready(&aq));                 /* outstanding */
}

START_TEST(test_bad_sq_tail_raises_error_event)
{
	submit_aer();
	struct nvme_sqe c = rw(IO_WRITE, 0, 1, DATA_GPA, 0);
	sq_put(&ioq[1], &c);
	wr32(sq_db(1), 64);                          /* the queue has 64 entries: 0 to 63 */
	ck_assert_uint_eq(disk.nr_log, 0);
	ck_assert(!cqe_ready(&ioq[1]));
	struct nvme_cqe e = cq_pop(&aq);
	ring_cq(&aq);
	ck_assert_uint_eq(status_of(e), ST_OK);
	ck_assert_uint_eq(e.dw0 & 7, 0);                  /* Error status */
	ck_assert_uint_eq(e.dw0 >> 8 & 0xff, 1);          /* Invalid Doorbell Write Value */
	ck_assert_uint_eq(e.dw0 >> 16 & 0xff, 1);         /* Error Information log page */
	/* Masked until the log page is read: another bad write reports nothing. */
	submit_aer();
	wr32(sq_db(1), 1000);
	ck_assert(!cqe_ready(&aq));
	ck_assert_uint_eq(get_log(1, 16, 0, false, ID_GPA), ST_OK);
	ck_assert(!cqe_ready(&aq));
	/* Now a doorbell of a queue that does not exist (SQ 2), and one beyond every queue. */
	wr32(sq_db(2), 1);
	e = cq_pop(&aq);
	ring_cq(&aq);
	ck_assert_uint_eq(e.dw0, 1u << 16 | 0u << 8 | 0);   /* Invalid Doorbell Register */
	ck_assert_uint_eq(get_log(1, 16, 0, false, ID_GPA), ST_OK);
	submit_aer();
	wr32(cq_db(9), 0);
	e = cq_pop(&aq);
	ring_cq(&aq);
	ck_assert_uint_eq(e.dw0 & 0xffff, 0);
	ck_assert_uint_eq(e.dw0 >> 16 & 0xff, 1);
	/* A valid doorbell afterwards runs the command that waited. */
	ring_sq(&ioq[1]);
	ck_assert_uint_eq(status_of(cq_pop(&ioq[1])), ST_OK);
	ck_assert_uint_eq(disk.nr_log, 1);
}
END_TEST

START_TEST(test_bad_cq_head_raises_error_event)
{
	submit_aer();
	/* Nothing was posted to CQ 1: its head cannot move. */
	wr32(cq_db(1), 5);
	struct nvme_cqe e = cq_pop(&aq);
	ring_cq(&aq);
	ck_assert_uint_eq(e.dw0, 1u << 16 | 1u << 8);
	ck_assert_uint_eq(get_log(1, 16, 0, true, ID_GPA), ST_OK);   /* RAE: stays masked */
	submit_aer();
	wr32(cq_db(1), 70);
	ck_assert(!cqe_ready(&aq));
	ck_assert_uint_eq(get_log(1, 16, 0, false, ID_GPA), ST_OK);
	wr32(cq_db(1), 70);
	e = cq_pop(&aq);
	ck_assert_uint_eq(e.dw0, 1u << 16 | 1u << 8);
}
END_TEST

/* The completion of an Asynchronous Event Request is an interrupt like any other, whichever bad write caused it. */
START_TEST(test_error_event_completion_interrupts)
{
	static const struct { uint32_t db, value; const char *what; } bad[] = {
		{ 0x1000 + 8 * 1, 64, "SQ 1 tail beyond the queue" },
		{ 0x1000 + 8 * 2, 0, "SQ 2 that does not exist" },
		{ 0x1000 + 8 * 1 + 4, 5, "CQ 1 head over entries not posted" },
		{ 0x1000 + 8 * 9, 0, "a queue beyond every queue" },
	};
	char missed[256] = "";

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		submit_aer();
		unsigned before = irqs.msi[0];
		wr32(bad[i].db, bad[i].value);
		ck_assert_msg(cqe_ready(&aq), "no event for %s", bad[i].what);
		if (irqs.msi[0] != before + 1)
			snprintf(missed + strlen(missed), sizeof(missed) - strlen(missed), "%s%s", *missed ? "; " : "",
				 bad[i].what);
		cq_pop(&aq);
		ring_cq(&aq);
		ck_assert_uint_eq(get_log(1, 16, 0, false, ID_GPA), ST_OK);
	}
	ck_assert_msg(!*missed, "Asynchronous Event completions posted without an interrupt: %s", missed);
}
END_TEST

START_TEST(test_event_waits_for_a_request)
{
	/* The error comes first, the request after: the event is kept for it. */
	wr32(sq_db(1), 64);
	ck_assert(!cqe_ready(&aq));
	sq_put(&aq, &(struct nvme_sqe){ .opc = ADM_AER });
	ring_sq(&aq);
	struct nvme_cqe e = cq_pop(&aq);
	ck_assert_uint_eq(e.dw0, 1u << 16 | 1u << 8);
}
END_TEST

START_TEST(test_aer_limit)
{
	for (unsigned i = 0; i < 4; i++)
		submit_aer();
	struct nvme_sqe c = { .opc = ADM_AER };
	sq_put(&aq, &c);
	ring_sq(&aq);
	struct nvme_cqe e = cq_pop(&aq);
	ring_cq(&aq);
	ck_assert_uint_eq(e.cid, c.cid);
	ck_assert_uint_eq(SC(status_of(e)), ST_AER_LIMIT);
	/* The four still wait; one event completes one of them. */
	wr32(sq_db(1), 64);
	e = cq_pop(&aq);
	ck_assert_uint_eq(status_of(e), ST_OK);
	ck_assert_uint_eq(e.dw0, 1u << 16 | 1u << 8);
	ck_assert(!cqe_ready(&aq));
}
END_TEST

START_TEST(test_ring_wrap_admin_queue)
{
	/* Admin queues of 4 and 3 entries: 20 commands, one, two or three at a time. */
	enable_sized(4, 3);
	unsigned done = 0;
	for (unsigned round = 0; done < 20; round++) {
		unsigned batch = 1 + round % 2 + (round % 3 == 2);
		uint16_t cids[3];
		for (unsigned i = 0; i < batch; i++) {
			struct nvme_sqe c = { .opc = ADM_GET_FEATURES, .cdw10 = FID_NUM_QUEUES };
			sq_put(&aq, &c);
			cids[i] = c.cid;
		}
		ring_sq(&aq);
		ck_assert_uint_eq(cqes_ready(&aq), batch < 3 ? batch : 2);   /* a 3-entry CQ holds two */
		for (unsigned i = 0; i < batch; i++) {
			bool phase = aq.phase;
			struct nvme_cqe e = cq_pop(&aq);
			ck_assert_uint_eq(e.sf & 1, phase);
			ck_assert_uint_eq(e.cid, cids[i]);
			ck_assert_uint_eq(status_of(e), ST_OK);
			ck_assert_uint_eq(e.dw0, 1u << 16 | 1u);
			ring_cq(&aq);
			done++;
		}
		ck_assert(!cqe_ready(&aq));
	}
}
END_TEST

START_TEST(test_ring_wrap_io_queue)
{
	/* SQ of 7, CQ of 5: 40 writes in batches of 1 to 4, every entry checked. */
	io_queue(2, 7, 5, 2);
	unsigned n = 0;
	for (unsigned round = 0; n < 40; round++) {
		unsigned batch = 1 + round % 4;
		uint16_t cids[4], heads[4];
		for (unsigned i = 0; i < batch; i++, n++) {
			fill(DATA_GPA + (n % 16) * 512, 512, (uint8_t)n);
			struct nvme_sqe c = rw(IO_WRITE, n, 1, DATA_GPA + (n % 16) * 512, 0);
			sq_put(&ioq[2], &c);
			cids[i] = c.cid;
			heads[i] = ioq[2].sq_tail;
		}
		ring_sq(&ioq[2]);
		for (unsigned i = 0; i < batch; i++) {
			bool phase = ioq[2].phase;
			struct nvme_cqe e = cq_pop(&ioq[2]);
			ck_assert_uint_eq(e.sf & 1, phase);
			ck_assert_uint_eq(e.cid, cids[i]);
			ck_assert_uint_eq(e.sqid, 2);
			ck_assert_uint_eq(status_of(e), ST_OK);
			ck_assert_uint_eq(e.sqhd, heads[batch - 1]);   /* every command taken by the one doorbell */
		}
		ring_cq(&ioq[2]);
	}
	ck_assert_uint_eq(disk.nr_log, 40);
	/* The last 16 writes are still in their buffers. */
	for (unsigned i = 24; i < 40; i++)
		ck_assert_mem_eq(disk.data + i * 512, ram(DATA_GPA + (i % 16) * 512), 512);
}
END_TEST

START_TEST(test_cq_full_commands_wait_in_the_sq)
{
	/* A CQ of 3 entries holds two completions. */
	io_queue(2, 8, 3, 2);
	for (unsigned i = 0; i < 6; i++) {
		fill(DATA_GPA + i * 512, 512, (uint8_t)(i + 1));
		struct nvme_sqe c = rw(IO_WRITE, i, 1, DATA_GPA + i * 512, 0);
		c.cid = (uint16_t)(0x500 + i);
		sq_put(&ioq[2], &c);
	}
	ring_sq(&ioq[2]);
	ck_assert_uint_eq(disk.nr_log, 2);
	ck_assert_uint_eq(cqes_ready(&ioq[2]), 2);
	ck_assert_uint_eq(cq_slot(&ioq[2], 2)->sf, 0);       /* the third slot untouched */
	/* Two taken; the rest wait in the SQ. */
	unsigned cid = 0x500;
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned i = 0; i < 2; i++) {
			struct nvme_cqe e = cq_pop(&ioq[2]);
			ck_assert_uint_eq(e.cid, cid++);
			ck_assert_uint_eq(status_of(e), ST_OK);
		}
		ck_assert(!cqe_ready(&ioq[2]));
		ring_cq(&ioq[2]);
		ck_assert_uint_eq(disk.nr_log, round < 2 ? 4 + 2 * round : 6);
	}
	for (unsigned i = 0; i < 6; i++)
		ck_assert_mem_eq(disk.data + i * 512, ram(DATA_GPA + i * 512), 512);
	/* A CQ of two entries holds one: the same, one at a time. */
	ck_assert_uint_eq(delete_queue(ADM_DELETE_SQ, 2), ST_OK);
	ck_assert_uint_eq(delete_queue(ADM_DELETE_CQ, 2), ST_OK);
	io_queue(2, 4, 2, 2);
	for (unsigned i = 0; i < 3; i++) {
		struct nvme_sqe c = rw(IO_READ, i, 1, DATA2_GPA + i * 512, 0);
		c.cid = (uint16_t)(0x600 + i);
		sq_put(&ioq[2], &c);
	}
	ring_sq(&ioq[2]);
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_uint_eq(cqes_ready(&ioq[2]), 1);
		struct nvme_cqe e = cq_pop(&ioq[2]);
		ck_assert_uint_eq(e.cid, 0x600 + i);
		ring_cq(&ioq[2]);
	}
	ck_assert(!cqe_ready(&ioq[2]));
}
END_TEST

START_TEST(test_cq_full_with_io_in_flight)
{
	/* Completion slots are promised when commands are taken: with three in flight on a
	 * 4-entry CQ, a fourth waits even though the CQ is still empty. */
	io_queue(2, 8, 4, 2);
	disk.hold = true;
	for (unsigned i = 0; i < 5; i++) {
		struct nvme_sqe c = rw(IO_READ, i, 1, DATA2_GPA + i * 512, 0);
		sq_put(&ioq[2], &c);
	}
	ring_sq(&ioq[2]);
	ck_assert_uint_eq(disk.inflight, 3);
	mem_block_complete(&disk, 3);
	nvme_complete_io(ctrl);
	ck_assert_uint_eq(cqes_ready(&ioq[2]), 3);
	ck_assert_uint_eq(disk.inflight, 0);
	for (unsigned i = 0; i < 3; i++)
		cq_pop(&ioq[2]);
	ring_cq(&ioq[2]);
	ck_assert_uint_eq(disk.inflight, 2);
	mem_block_complete(&disk, 2);
	nvme_complete_io(ctrl);
	ck_assert_uint_eq(cqes_ready(&ioq[2]), 2);
}
END_TEST

/* A backend that has no room stalls the queue; completions inside submit() make room. */
START_TEST(test_backend_room_after_inline_completions)
{
	struct config c = defaults;

	c.depth = 256;                                /* room for one command at a time */
	restart(&c);
	ready();
	for (unsigned i = 0; i < 3; i++) {
		struct nvme_sqe cmd = rw(IO_READ, i, 1, DATA2_GPA + i * 512, 0);
		sq_put(&ioq[1], &cmd);
	}
	ring_sq(&ioq[1]);
	/* Each completed in submit(): nothing is in flight, so nothing holds the others back. */
	ck_assert_uint_eq(disk.inflight, 0);
	ck_assert_uint_eq(cqes_ready(&ioq[1]), 3);
}
END_TEST

/* A backend that says -EAGAIN: the command stays in the SQ and goes once another completes. */
START_TEST(test_backend_busy_command_waits)
{
	disk.hold = true;
	struct nvme_sqe a = rw(IO_READ, 0, 1, DATA2_GPA, 0), b = rw(IO_READ, 1, 1, DATA2_GPA + 512, 0);
	sq_put(&ioq[1], &a);
	ring_sq(&ioq[1]);
	disk.full = true;                            /* reads and writes: -EAGAIN while one is in flight */
	sq_put(&ioq[1], &b);
	ring_sq(&ioq[1]);
	ck_assert_uint_eq(disk.inflight, 1);
	mem_block_complete(&disk, 1);
	nvme_complete_io(ctrl);
	ck_assert_uint_eq(disk.inflight, 1);         /* b went once a made room */
	mem_block_complete(&disk, 1);
	nvme_complete_io(ctrl);
	struct nvme_cqe e = cq_pop(&ioq[1]);
	ck_assert_uint_eq(e.cid, a.cid);
	e = cq_pop(&ioq[1]);
	ck_assert_uint_eq(e.cid, b.cid);
	ck_assert_uint_eq(status_of(e), ST_OK);
	ck_assert_uint_eq(e.sqhd, 2);
}
END_TEST

/* Two SQs complete into one full CQ: its head doorbell lets both go on. */
START_TEST(test_shared_cq_full_runs_every_sq)
{
	ck_assert_uint_eq(create_sq(2, 8, IOSQ_GPA(2), 1, true), ST_OK);
	struct queue *q1 = &ioq[1];
	struct queue q2 = { .qid = 2, .sq_size = 8, .sq_gpa = IOSQ_GPA(2) };
	ck_assert_uint_eq(delete_queue(ADM_DELETE_SQ, 1), ST_OK);
	ck_assert_uint_eq(delete_queue(ADM_DELETE_SQ, 2), ST_OK);
	ck_assert_uint_eq(delete_queue(ADM_DELETE_CQ, 1), ST_OK);
	memset(ram(IOCQ_GPA(1)), 0, PAGE);
	ck_assert_uint_eq(create_cq(1, 3, IOCQ_GPA(1), 1, true, true), ST_OK);
	ck_assert_uint_eq(create_sq(1, 8, IOSQ_GPA(1), 1, true), ST_OK);
	ck_assert_uint_eq(create_sq(2, 8, IOSQ_GPA(2), 1, true), ST_OK);
	*q1 = (struct queue){ .qid = 1, .sq_size = 8, .cq_size = 3, .sq_gpa = IOSQ_GPA(1), .cq_gpa = IOCQ_GPA(1),
			      .phase = true };
	for (unsigned i = 0; i < 3; i++) {
		struct nvme_sqe c = rw(IO_READ, i, 1, DATA2_GPA, 0);
		c.cid = (uint16_t)(0x100 + i);
		sq_put(q1, &c);
		c.cid = (uint16_t)(0x200 + i);
		sq_put(&q2, &c);
	}
	ring_sq(q1);
	ring_sq(&q2);
	ck_assert_uint_eq(disk.nr_log, 2);
	unsigned from1 = 0, from2 = 0;
	for (unsigned round = 0; round < 3; round++) {
		ck_assert_uint_eq(cqes_ready(q1), 2);
		for (unsigned i = 0; i < 2; i++) {
			struct nvme_cqe e = cq_pop(q1);
			ck_assert_uint_eq(e.sqid, e.cid >> 8);
			if (e.sqid == 1)
				ck_assert_uint_eq(e.cid, 0x100 + from1++);
			else
				ck_assert_uint_eq(e.cid, 0x200 + from2++);
		}
		ring_cq(q1);
	}
	ck_assert_uint_eq(from1, 3);
	ck_assert_uint_eq(from2, 3);
	ck_assert(!cqe_ready(q1));
}
END_TEST

START_TEST(test_fua_without_write_cache_and_abort)
{
	ck_assert_uint_eq(set_feature(FID_VWC, 0, NULL), ST_OK);
	struct nvme_sqe c = rw(IO_WRITE, 0, 1, DATA_GPA, 0);
	c.cdw12 |= 1u << 30;
	unsigned flushes = disk.flushes;
	ck_assert_uint_eq(io(c), ST_OK);
	ck_assert_uint_eq(disk.flushes, flushes);     /* writes are durable already */
	/* Abort (5.1): commands finish on their own; dw0 bit 0 says "not aborted". */
	uint32_t dw0 = 0;
	ck_assert_uint_eq(admin((struct nvme_sqe){ .opc = 0x08, .cdw10 = 1u << 16 | 1 }, &dw0), ST_OK);
	ck_assert_uint_eq(dw0 & 1, 1);
}
END_TEST

/* ==== Shadow doorbells ==== */

START_TEST(test_dbbuf_config_errors)
{
	ck_assert_uint_eq(SC(dbbuf(SHADOW_GPA + 0x10, EVENTIDX_GPA)), ST_INVALID_FIELD);
	ck_assert_uint_eq(SC(dbbuf(SHADOW_GPA, EVENTIDX_GPA + 8)), ST_INVALID_FIELD);
	ck_assert_uint_eq(SC(dbbuf(RAM_END, EVENTIDX_GPA)), ST_INVALID_FIELD);
	ck_assert_uint_eq(SC(dbbuf(SHADOW_GPA, RAM_END)), ST_INVALID_FIELD);
	ck_assert_uint_eq(SC(admin((struct nvme_sqe){ .opc = ADM_DBBUF, .flags = 1u << 6, .prp1 = SHADOW_GPA,
						      .prp2 = EVENTIDX_GPA }, NULL)), ST_INVALID_FIELD);
	/* None took: the register doorbell still carries the tail. */
	memset(ram(SHADOW_GPA), 0, PAGE);
	ck_assert_uint_eq(io(rw(IO_READ, 0, 1, DATA_GPA, 0)), ST_OK);
}
END_TEST

/* Shadow buffers set up before the I/O queues, as Linux does. */
static void shadow_ready(unsigned sq_entries)
{
	msix_on();
	enable();
	memset(ram(SHADOW_GPA), 0, PAGE);
	memset(ram(EVENTIDX_GPA), 0xff, PAGE);
	ck_assert_uint_eq(dbbuf(SHADOW_GPA, EVENTIDX_GPA), ST_OK);
	io_queue(1, sq_entries, 64, 1);
	ck_assert_uint_eq(event_idx(sq_db(1)), 0);
}

START_TEST(test_shadow_tail_is_read_from_the_buffer)
{
	shadow_ready(16);
	for (unsigned i = 0; i < 3; i++) {
		struct nvme_sqe c = rw(IO_READ, i, 1, DATA2_GPA + i * 512, 0);
		sq_put(&ioq[1], &c);
	}
	/* The shadow says 3; the register write says 1: the shadow is the tail. */
	*shadow(sq_db(1)) = 3;
	wr32(sq_db(1), 1);
	ck_assert_uint_eq(cqes_ready(&ioq[1]), 3);
	ck_assert_uint_ge(nvme_stats(ctrl).shadow_polls, 1);
	/* A shadow tail outside the queue is an error event, and runs nothing. */
	submit_aer();
	struct nvme_sqe c = rw(IO_READ, 0, 1, DATA2_GPA, 0);
	sq_put(&ioq[1], &c);
	*shadow(sq_db(1)) = 16;
	wr32(sq_db(1), 4);
	ck_assert_uint_eq(cqes_ready(&ioq[1]), 3);
	struct nvme_cqe e = cq_pop(&aq);
	ck_assert_uint_eq(e.dw0, 1u << 16 | 1u << 8);
}
END_TEST

/* A reset forgets the shadow buffers: the queues made after it take the register's tail. */
START_TEST(test_reset_forgets_shadow_buffers)
{
	shadow_ready(16);
	wr32(CC, 0);
	enable();
	io_queue(1, 16, 16, 1);
	memset(ram(SHADOW_GPA), 0, PAGE);
	memset(ram(EVENTIDX_GPA), 0x5a, PAGE);
	struct nvme_sqe c = rw(IO_READ, 0, 1, DATA2_GPA, 0);
	sq_put(&ioq[1], &c);
	ring_sq(&ioq[1]);
	ck_assert_uint_eq(status_of(cq_pop(&ioq[1])), ST_OK);
	ck_assert_uint_eq(*(uint32_t *)ram(EVENTIDX_GPA + 8), 0x5a5a5a5a);   /* EventIdx left alone */
}
END_TEST

#define HELD_FROM BLOCK_KICKS_HELD_MIN_IN_FLIGHT

START_TEST(test_shadow_event_idx_with_io_in_flight_and_idle)
{
	/* A 16-entry SQ: 10 rounds of HELD_FROM + 1 wrap its index several times. */
	shadow_ready(16);
	disk.hold = true;
	unsigned done = 0;
	for (unsigned round = 0; round < 10; round++) {
		uint16_t cids[HELD_FROM + 1];
		/* Idle, and with fewer than HELD_FROM in flight, each submission rings. */
		for (unsigned i = 0; i < HELD_FROM; i++) {
			struct nvme_sqe c = rw(IO_READ, i, 1, DATA2_GPA + 512 * i, 0);
			sq_put(&ioq[1], &c);
			cids[i] = c.cid;
			ck_assert_msg(shadow_publish(&ioq[1]), "round %u, command %u: %u in flight, doorbell not asked for",
				      round, i, i);
			ck_assert_uint_eq(disk.inflight, i + 1);
		}
		/* HELD_FROM in flight: the next does not ring, and is taken when one completes. */
		struct nvme_sqe b = rw(IO_READ, HELD_FROM, 1, DATA2_GPA + 512 * HELD_FROM, 0);
		sq_put(&ioq[1], &b);
		cids[HELD_FROM] = b.cid;
		ck_assert_msg(!shadow_publish(&ioq[1]), "round %u: doorbell asked for with %u in flight", round, HELD_FROM);
		ck_assert_uint_eq(disk.inflight, HELD_FROM);
		mem_block_complete(&disk, 1);
		nvme_complete_io(ctrl);
		ck_assert_uint_eq(disk.inflight, HELD_FROM);
		mem_block_complete(&disk, HELD_FROM);
		nvme_complete_io(ctrl);
		ck_assert_uint_eq(disk.inflight, 0);
		/* Idle again: EventIdx is the tail, so the next submission rings. */
		ck_assert_uint_eq(event_idx(sq_db(1)), ioq[1].sq_tail);
		for (unsigned i = 0; i <= HELD_FROM; i++)
			ck_assert_uint_eq(cq_pop(&ioq[1]).cid, cids[i]);
		shadow_cq_head(&ioq[1]);
		done += HELD_FROM + 1;
	}
	ck_assert_uint_eq(done, 10 * (HELD_FROM + 1));
	ck_assert_uint_eq(nvme_stats(ctrl).commands, 10 * (HELD_FROM + 1));
}
END_TEST

/* Completions that come inside the backend's submit() leave the queue idle too. */
START_TEST(test_shadow_event_idx_after_inline_completions)
{
	shadow_ready(8);
	for (unsigned i = 0; i < 20; i++) {
		struct nvme_sqe c = rw(IO_READ, i, 1, DATA2_GPA, 0);
		sq_put(&ioq[1], &c);
		bool rang = shadow_publish(&ioq[1]);
		ck_assert_msg(rang, "command %u: EventIdx %u, tail %u: Linux would not ring an idle controller", i,
			      event_idx(sq_db(1)), ioq[1].sq_tail);
		struct nvme_cqe e = cq_pop(&ioq[1]);
		ck_assert_uint_eq(e.cid, c.cid);
		shadow_cq_head(&ioq[1]);
		ck_assert_msg(event_idx(sq_db(1)) == ioq[1].sq_tail,
			      "command %u completed, nothing in flight: EventIdx %u, tail %u", i, event_idx(sq_db(1)),
			      ioq[1].sq_tail);
	}
}
END_TEST

START_TEST(test_shadow_cq_head_frees_room)
{
	/* CQ of 3 with shadow doorbells: the head is read from the shadow buffer, and when the
	 * CQ is full, EventIdx asks the driver to ring when it moves the head. */
	msix_on();
	enable();
	memset(ram(SHADOW_GPA), 0, PAGE);
	ck_assert_uint_eq(dbbuf(SHADOW_GPA, EVENTIDX_GPA), ST_OK);
	io_queue(2, 8, 3, 2);
	for (unsigned i = 0; i < 4; i++) {
		struct nvme_sqe c = rw(IO_READ, i, 1, DATA2_GPA + i * 512, 0);
		sq_put(&ioq[2], &c);
	}
	ck_assert(shadow_publish(&ioq[2]));
	ck_assert_uint_eq(cqes_ready(&ioq[2]), 2);
	cq_pop(&ioq[2]);
	cq_pop(&ioq[2]);
	uint32_t *head = shadow(cq_db(2));
	uint16_t old = (uint16_t)*head;
	*head = ioq[2].cq_head;
	ck_assert(need_event((uint16_t)event_idx(cq_db(2)), ioq[2].cq_head, old));
	wr32(cq_db(2), 0x7777);                       /* the value is the shadow's */
	ck_assert_uint_eq(cqes_ready(&ioq[2]), 2);
}
END_TEST

START_TEST(test_shadow_doorbells_become_ioeventfds)
{
	struct config c = defaults;
	int fd = -1;

	c.loop = true;
	restart(&c);
	msix_on();
	enable();
	io_queue(1, 16, 16, 1);
	/* Without shadow buffers every doorbell is an exit: none is bound. */
	ck_assert_uint_eq(doorbells.nr_bound, 0);
	memset(ram(SHADOW_GPA), 0, PAGE);
	ck_assert_uint_eq(dbbuf(SHADOW_GPA, EVENTIDX_GPA), ST_OK);
	ck_assert_ptr_nonnull(doorbell_at(&doorbells, bar0 + sq_db(1), &fd));
	io_queue(2, 16, 16, 2);
	int fd2 = -1;
	ck_assert_ptr_nonnull(doorbell_at(&doorbells, bar0 + sq_db(2), &fd2));
	ck_assert_int_ne(fd, fd2);
	ck_assert_ptr_null(doorbell_at(&doorbells, bar0 + sq_db(0), &fd2));   /* the admin queue exits */
	/* KVM signals the eventfd, the loop runs the queue. */
	struct nvme_sqe cmd = rw(IO_READ, 0, 1, DATA2_GPA, 0);
	sq_put(&ioq[1], &cmd);
	*shadow(sq_db(1)) = ioq[1].sq_tail;
	doorbell_ring(&doorbells, fd);
	ck_assert_uint_eq(status_of(cq_pop(&ioq[1])), ST_OK);
	ck_assert_uint_eq(irqs.msi[1], 1);
	/* The BAR moves: the bindings follow. */
	uint64_t old_bar = bar0;
	uint32_t lo = (uint32_t)(bar0 + 0x100000);
	pci_config_write(fn, PCI_BAR0, (uint8_t *)&lo, 4);
	bar0 = (cfg_rd32(PCI_BAR0) & ~0xfu) | (uint64_t)cfg_rd32(PCI_BAR0 + 4) << 32;
	ck_assert_uint_ne(bar0, old_bar);
	ck_assert_ptr_null(doorbell_at(&doorbells, old_bar + sq_db(1), &fd2));
	ck_assert_ptr_nonnull(doorbell_at(&doorbells, bar0 + sq_db(1), &fd2));
	ck_assert_int_eq(fd2, fd);
	/* A reset deletes the queues and their bindings. */
	wr32(CC, 0);
	ck_assert_uint_eq(doorbells.nr_bound, 0);
}
END_TEST

/* ==== Reset with I/O in flight ==== */

START_TEST(test_reset_drains_io_in_flight)
{
	disk.hold = true;
	fill_disk(0, 16 * 512, 5);
	for (unsigned i = 0; i < 8; i++) {
		struct nvme_sqe c = rw(IO_READ, 2 * i, 2, DATA2_GPA + i * PAGE, 0);
		sq_put(&ioq[1], &c);
	}
	fill(DATA_GPA, 512, 9);
	struct nvme_sqe w = rw(IO_WRITE, 100, 1, DATA_GPA, 0);
	sq_put(&ioq[1], &w);
	ring_sq(&ioq[1]);
	ck_assert_uint_eq(disk.inflight, 9);
	unsigned drains = disk.drains;
	wr32(CC, 0);
	ck_assert_uint_gt(disk.drains, drains);
	ck_assert_uint_eq(disk.inflight, 0);
	ck_assert_uint_eq(rd32(CSTS) & CSTS_RDY, 0);
	/* They finished before the reset did. */
	for (unsigned i = 0; i < 8; i++)
		ck_assert_mem_eq(ram(DATA2_GPA + i * PAGE), disk.data + 2 * i * 512, 1024);
	ck_assert_mem_eq(disk.data + 100 * 512, ram(DATA_GPA), 512);
	/* Afterwards nothing touches guest memory: not the buffers, not the old queues. */
	memset(ram(DATA2_GPA), 0xee, 8 * PAGE);
	uint8_t cq_copy[64 * 16];
	memcpy(cq_copy, ram(IOCQ_GPA(1)), sizeof(cq_copy));
	ck_assert_uint_eq(mem_block_complete(&disk, 64), 0);
	nvme_complete_io(ctrl);
	for (unsigned i = 0; i < 8 * PAGE; i++)
		ck_assert_uint_eq(((uint8_t *)ram(DATA2_GPA))[i], 0xee);
	ck_assert_mem_eq(ram(IOCQ_GPA(1)), cq_copy, sizeof(cq_copy));
	/* And the controller comes back. */
	disk.hold = false;
	enable();
	io_queue(1, 16, 16, 1);
	ck_assert_uint_eq(io(rw(IO_READ, 0, 1, DATA_GPA, 0)), ST_OK);
}
END_TEST

/* ==== Log pages ==== */

START_TEST(test_smart_log_counts_commands)
{
	const uint8_t *log = ram(ID_GPA);

	ck_assert_uint_eq(get_log(2, 128, 0, false, ID_GPA), ST_OK);
	ck_assert_uint_eq(le64(log + 64), 0);        /* host read commands */
	ck_assert_uint_eq(le64(log + 80), 0);        /* host write commands */
	ck_assert_uint_gt(le16(log + 1), 273);       /* composite temperature, kelvin */
	for (unsigned i = 0; i < 3; i++)
		ck_assert_uint_eq(io(rw(IO_READ, 0, 1, DATA_GPA, 0)), ST_OK);
	ck_assert_uint_eq(io(rw(IO_WRITE, 0, 8, DATA_GPA, 0)), ST_OK);
	ck_assert_uint_eq(SC(io(rw(IO_READ, BLOCKS, 1, DATA_GPA, 0))), ST_LBA_RANGE);
	ck_assert_uint_eq(get_log(2, 128, 0, false, ID_GPA), ST_OK);
	ck_assert_uint_eq(le64(log + 64), 3);
	ck_assert_uint_eq(le64(log + 80), 1);
	ck_assert_uint_eq(log[511], 0);              /* all 512 bytes written */
	/* Part of the page, at an offset. */
	ck_assert_uint_eq(get_log(2, 2, 64, false, ID_GPA), ST_OK);
	ck_assert_uint_eq(le32(log), 3);
	ck_assert_uint_eq(log[8], 0xa5);             /* no more than asked */
	ck_assert_uint_eq(SC(get_log(2, 1, 516, false, ID_GPA)), ST_INVALID_FIELD);
	ck_assert_uint_eq(SC(get_log(2, 1, 2, false, ID_GPA)), ST_INVALID_FIELD);
	ck_assert_uint_eq(SC(get_log(2, 1, 1ull << 32, false, ID_GPA)), ST_INVALID_FIELD);
}
END_TEST

/* Data Units Read and Written are thousands of 512-byte units, rounded up (5.14.1.2). */
START_TEST(test_smart_log_data_units_in_thousands)
{
	const uint8_t *log = ram(ID_GPA);

	/* 16 + 16 blocks written, 8 read: each 1 thousand, rounded up. */
	ck_assert_uint_eq(io(rw(IO_WRITE, 0, 16, DATA_GPA, DATA2_GPA)), ST_OK);
	ck_assert_uint_eq(io(rw(IO_WRITE, 16, 16, DATA_GPA, DATA2_GPA)), ST_OK);
	ck_assert_uint_eq(io(rw(IO_READ, 0, 8, DATA_GPA, 0)), ST_OK);
	ck_assert_uint_eq(get_log(2, 128, 0, false, ID_GPA), ST_OK);
	ck_assert_uint_eq(le64(log + 32), 1);        /* Data Units Read */
	ck_assert_uint_eq(le64(log + 48), 1);        /* Data Units Written */
	/* 1001 units written in all: 2 thousands. */
	uint64_t *list = ram(PRP_GPA);
	for (unsigned i = 0; i < 31; i++)
		list[i] = DATA3_GPA + (uint64_t)i * PAGE;
	for (unsigned i = 0; i < 3; i++)
		ck_assert_uint_eq(io(rw(IO_WRITE, 0, 256, DATA_GPA, PRP_GPA)), ST_OK);   /* 768 units */
	ck_assert_uint_eq(io(rw(IO_WRITE, 0, 201, DATA_GPA, PRP_GPA)), ST_OK);       /* 969 */
	ck_assert_uint_eq(get_log(2, 128, 0, false, ID_GPA), ST_OK);
	ck_assert_uint_eq(le64(log + 48), 2);        /* 1001 units: 2 thousands, rounded up */
}
END_TEST

START_TEST(test_firmware_and_error_logs)
{
	const uint8_t *log = ram(ID_GPA);

	ck_assert_uint_eq(get_log(3, 128, 0, false, ID_GPA), ST_OK);
	ck_assert_uint_eq(log[0] & 7, 1);            /* AFI: slot 1 active */
	ck_assert_mem_eq(log + 8, "1.0     ", 8);   /* FRS1 */
	ck_assert_uint_eq(log[16], 0);
	ck_assert_uint_eq(get_log(1, 16, 0, false, ID_GPA), ST_OK);
	ck_assert_uint_eq(log[63], 0);
	ck_assert_uint_eq(SC(get_log(0x7f, 16, 0, false, ID_GPA)), ST_INVALID_LOG);
	ck_assert_uint_eq(SC(get_log(0xc0, 16, 0, false, ID_GPA)), ST_INVALID_LOG);
	ck_assert_uint_eq(SC(get_log(3, 1, 1024, false, ID_GPA)), ST_INVALID_FIELD);
}
END_TEST

Suite *nvme_suite(void)
{
	Suite *s = suite_create("nvme");
	TCase *regs = tcase_create("registers");
	TCase *tc = tcase_create("ready");

	tcase_add_checked_fixture(regs, setup_bare, teardown);
	tcase_add_test(regs, test_cap_and_version);
	tcase_add_test(regs, test_enable_and_ready);
	tcase_add_test(regs, test_enable_with_bad_admin_queue_is_fatal);
	tcase_add_test(regs, test_admin_queue_base_low_bits_are_reserved);
	tcase_add_test(regs, test_io_queue_entry_sizes);
	tcase_add_test(regs, test_disable_resets_queues);
	tcase_add_test(regs, test_shutdown_flushes_the_write_cache);
	tcase_add_test(regs, test_shutdown_waits_for_io_in_flight);
	tcase_add_test(regs, test_intx_follows_unread_entries_and_intms);
	tcase_add_test(regs, test_ring_wrap_admin_queue);
	tcase_add_test(regs, test_delete_queues);
	tcase_add_test(regs, test_create_sq_errors);
	tcase_add_test(regs, test_create_cq_errors);
	tcase_add_test(regs, test_feature_number_of_queues);
	tcase_add_test(regs, test_shadow_tail_is_read_from_the_buffer);
	tcase_add_test(regs, test_shadow_event_idx_with_io_in_flight_and_idle);
	tcase_add_test(regs, test_reset_forgets_shadow_buffers);
	tcase_add_test(regs, test_shadow_cq_head_frees_room);
	tcase_add_test(regs, test_shadow_doorbells_become_ioeventfds);
	tcase_add_test(regs, test_reset_clears_intms);
	tcase_add_test(regs, test_shadow_event_idx_after_inline_completions);
	tcase_add_test(regs, test_backend_room_after_inline_completions);
	suite_add_tcase(s, regs);

	tcase_add_checked_fixture(tc, setup_ready, teardown);
	tcase_add_test(tc, test_identify_controller);
	tcase_add_test(tc, test_identify_controller_serial_and_cache);
	tcase_add_test(tc, test_identify_namespace);
	tcase_add_test(tc, test_identify_namespace_readonly);
	tcase_add_test(tc, test_identify_active_namespaces_and_bad_cns);
	tcase_add_test(tc, test_identify_split_over_two_pages);
	tcase_add_test(tc, test_feature_volatile_write_cache);
	tcase_add_test(tc, test_feature_write_cache_absent);
	tcase_add_test(tc, test_feature_interrupt_config_and_unknown);
	tcase_add_test(tc, test_delete_sq_with_io_in_flight);
	tcase_add_test(tc, test_rw_prp1_only);
	tcase_add_test(tc, test_rw_prp1_and_prp2);
	tcase_add_test(tc, test_rw_prp_list_128k);
	tcase_add_test(tc, test_rw_prp_list_chained_to_a_second_page);
	tcase_add_test(tc, test_rw_prp_list_exactly_filling_its_page);
	tcase_add_test(tc, test_prp_bad_offsets);
	tcase_add_test(tc, test_prp_outside_ram);
	tcase_add_test(tc, test_prp_list_chained_to_itself_ends);
	tcase_add_test(tc, test_transfer_size_and_lba_range);
	tcase_add_test(tc, test_namespace_and_opcode_errors);
	tcase_add_test(tc, test_readonly_namespace);
	tcase_add_test(tc, test_flush);
	tcase_add_test(tc, test_write_zeroes);
	tcase_add_test(tc, test_dsm_deallocate);
	tcase_add_test(tc, test_sgl_single_data_block);
	tcase_add_test(tc, test_sgl_last_segment_of_data_blocks);
	tcase_add_test(tc, test_sgl_segment_chained_to_last_segment);
	tcase_add_test(tc, test_sgl_errors);
	tcase_add_test(tc, test_dbbuf_config_errors);
	tcase_add_test(tc, test_msix_vector_per_queue);
	tcase_add_test(tc, test_interrupt_coalescing_threshold);
	tcase_add_test(tc, test_bad_sq_tail_raises_error_event);
	tcase_add_test(tc, test_bad_cq_head_raises_error_event);
	tcase_add_test(tc, test_event_waits_for_a_request);
	tcase_add_test(tc, test_aer_limit);
	tcase_add_test(tc, test_ring_wrap_io_queue);
	tcase_add_test(tc, test_cq_full_commands_wait_in_the_sq);
	tcase_add_test(tc, test_cq_full_with_io_in_flight);
	tcase_add_test(tc, test_reset_drains_io_in_flight);
	tcase_add_test(tc, test_backend_busy_command_waits);
	tcase_add_test(tc, test_shared_cq_full_runs_every_sq);
	tcase_add_test(tc, test_fua_without_write_cache_and_abort);
	tcase_add_test(tc, test_smart_log_counts_commands);
	tcase_add_test(tc, test_firmware_and_error_logs);
	tcase_add_test(tc, test_feature_capabilities_of_unknown_feature);
	tcase_add_test(tc, test_error_event_completion_interrupts);
	tcase_add_test(tc, test_smart_log_data_units_in_thousands);
	suite_add_tcase(s, tc);

	return s;
}
