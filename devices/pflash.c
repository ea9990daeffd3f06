/*
 * Parallel NOR flash, 8 bits wide, with the Intel/Sharp basic command set
 * (Intel's Common Flash Interface, application note AP-646, and the
 * 28F-series datasheets: read array 0xFF, read status 0x70, clear status
 * 0x50, byte program 0x10/0x40, block erase 0x20 + 0xD0, read identifier
 * 0x90, CFI query 0x98, block lock setup 0x60), as QEMU's pflash_cfi01
 * gives it to OVMF: the firmware's UEFI variables live there, written by
 * the guest and kept in the file behind the array.
 *
 * OVMF decides that the flash is flash and not RAM or ROM by writing
 * "clear status" and "read status" and reading 0x00 back
 * (OvmfPkg/QemuFlashFvbServicesRuntimeDxe/QemuFlash.c), so reads outside
 * read-array mode must reach the device: the machine maps the array for
 * direct reads only while the flash is in read-array mode.
 *
 * Programming clears bits, as NOR flash does: a byte becomes old & new,
 * and only an erase (a whole 4 KiB block to 0xFF) sets them again. Each
 * change goes to the backing (the store's file) as it is made; one the
 * backing refuses is undone and fails with the status bit its command has.
 */
#include "pflash.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum mode { READ_ARRAY, READ_STATUS, READ_ID, READ_QUERY };
enum pending { PENDING_NONE, PENDING_PROGRAM, PENDING_ERASE, PENDING_LOCK };

#define CMD_READ_ARRAY 0xff
#define CMD_PROGRAM 0x10
#define CMD_PROGRAM_ALT 0x40
#define CMD_ERASE 0x20
#define CMD_ERASE_CONFIRM 0xd0
#define CMD_CLEAR_STATUS 0x50
#define CMD_LOCK_SETUP 0x60
#define CMD_READ_STATUS 0x70
#define CMD_READ_ID 0x90
#define CMD_QUERY 0x98

#define SR_READY 0x80
#define SR_ERASE_ERROR 0x20
#define SR_PROGRAM_ERROR 0x10
#define SR_SEQUENCE_ERROR (SR_ERASE_ERROR | SR_PROGRAM_ERROR)

#define ID_MANUFACTURER_INTEL 0x89
#define ID_DEVICE 0x18
#define QUERY_LEN 0x40

struct pflash {
	pthread_mutex_t lock;
	uint8_t *array;
	size_t size;
	bool readonly;
	struct pflash_mapping mapping;
	struct pflash_backing backing;
	enum mode mode;
	enum pending pending;
	bool direct;
	uint8_t status;
	uint8_t query[QUERY_LEN];
	struct pflash_stats stats;
};

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static unsigned log2_ceil(size_t v)
{
	unsigned n = 0;

	while (((size_t)1 << n) < v)
		n++;
	return n;
}

/* AP-646's query structure for one x8 device with one region of equal blocks and no write buffer. */
static void fill_query(struct pflash *f)
{
	uint8_t *q = f->query;

	memcpy(q + 0x10, "QRY", 3);
	put16(q + 0x13, 0x0001);           /* Intel/Sharp extended command set */
	put16(q + 0x15, 0x0031);           /* its extended table */
	q[0x1b] = 0x45;                    /* Vcc 4.5-5.5 V */
	q[0x1c] = 0x55;
	q[0x1f] = 7;                       /* byte program: 2^7 us typical */
	q[0x21] = 10;                      /* block erase: 2^10 ms typical */
	q[0x23] = q[0x25] = 4;             /* and at most 2^4 times that */
	q[0x27] = (uint8_t)log2_ceil(f->size);
	q[0x2c] = 1;                       /* one erase block region */
	put16(q + 0x2d, (unsigned)(f->size / PFLASH_BLOCK_SIZE - 1));
	put16(q + 0x2f, PFLASH_BLOCK_SIZE / 256);
	memcpy(q + 0x31, "PRI10", 5);
}

struct pflash *pflash_create(uint8_t *array, size_t size, bool readonly, struct pflash_mapping mapping,
			     struct pflash_backing backing)
{
	if (!size || size % PFLASH_BLOCK_SIZE)
		return NULL;
	struct pflash *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	pthread_mutex_init(&f->lock, NULL);
	f->array = array;
	f->size = size;
	f->readonly = readonly;
	f->mapping = mapping;
	f->backing = backing;
	f->mode = READ_ARRAY;
	f->status = SR_READY;
	fill_query(f);
	f->direct = true;
	f->mapping.set_direct_reads(f->mapping.ctx, true);
	return f;
}

void pflash_destroy(struct pflash *f)
{
	if (!f)
		return;
	pthread_mutex_destroy(&f->lock);
	free(f);
}

void pflash_get_stats(struct pflash *f, struct pflash_stats *out)
{
	pthread_mutex_lock(&f->lock);
	*out = f->stats;
	pthread_mutex_unlock(&f->lock);
}

/* Direct reads exactly while nothing but the array can be read. */
static void set_mode(struct pflash *f, enum mode mode, enum pending pending)
{
	f->mode = mode;
	f->pending = pending;
	bool direct = mode == READ_ARRAY && pending == PENDING_NONE;
	if (direct != f->direct) {
		f->direct = direct;
		f->mapping.set_direct_reads(f->mapping.ctx, direct);
	}
}

static uint8_t id_byte(uint64_t offset)
{
	switch (offset % PFLASH_BLOCK_SIZE) {
	case 0: return ID_MANUFACTURER_INTEL;
	case 1: return ID_DEVICE;
	default: return 0;     /* 2: the block's lock status, never locked */
	}
}

static uint8_t read_byte(const struct pflash *f, enum mode mode, uint64_t offset)
{
	switch (mode) {
	case READ_ARRAY: return f->array[offset];
	case READ_STATUS: return f->status;
	case READ_ID: return id_byte(offset);
	case READ_QUERY: return offset < QUERY_LEN ? f->query[offset] : 0;
	}
	return 0;
}

static void pflash_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	struct pflash *f = opaque;

	pthread_mutex_lock(&f->lock);
	/* While a program or erase waits for its second cycle, reads are the status's. */
	enum mode mode = f->pending != PENDING_NONE ? READ_STATUS : f->mode;
	for (unsigned i = 0; i < size; i++)
		data[i] = offset + i < f->size ? read_byte(f, mode, offset + i) : 0xff;
	pthread_mutex_unlock(&f->lock);
}

static void refuse(struct pflash *f, uint8_t status)
{
	f->status |= status;
	f->stats.refused++;
}

/* The changed range to the backing; when it fails, the array is put back as it was. */
static bool keep(struct pflash *f, uint64_t offset, size_t len, const uint8_t *before)
{
	if (!f->backing.write || f->backing.write(f->backing.ctx, offset, f->array + offset, len) == 0)
		return true;
	memcpy(f->array + offset, before, len);
	return false;
}

/* Called with at most 8 bytes, inside the array (pflash_write() checked). */
static void program(struct pflash *f, uint64_t offset, const uint8_t *data, unsigned size)
{
	uint8_t before[8];

	if (f->readonly) {
		refuse(f, SR_PROGRAM_ERROR);
		return;
	}
	memcpy(before, f->array + offset, size);
	for (unsigned i = 0; i < size; i++)
		f->array[offset + i] &= data[i];
	if (!keep(f, offset, size, before)) {
		refuse(f, SR_PROGRAM_ERROR);
		return;
	}
	f->stats.programs++;
}

static void erase(struct pflash *f, uint64_t offset, uint8_t confirm)
{
	uint64_t block = offset / PFLASH_BLOCK_SIZE * PFLASH_BLOCK_SIZE;
	uint8_t before[PFLASH_BLOCK_SIZE];

	if (confirm != CMD_ERASE_CONFIRM) {
		refuse(f, SR_SEQUENCE_ERROR);
		return;
	}
	if (f->readonly) {
		refuse(f, SR_ERASE_ERROR);
		return;
	}
	memcpy(before, f->array + block, PFLASH_BLOCK_SIZE);
	memset(f->array + block, 0xff, PFLASH_BLOCK_SIZE);
	if (!keep(f, block, PFLASH_BLOCK_SIZE, before)) {
		refuse(f, SR_ERASE_ERROR);
		return;
	}
	f->stats.erases++;
}

/* The second cycle of a two-cycle command; the flash then reads its status. */
static void second_cycle(struct pflash *f, uint64_t offset, const uint8_t *data, unsigned size)
{
	if (f->pending == PENDING_PROGRAM)
		program(f, offset, data, size);
	else if (f->pending == PENDING_ERASE)
		erase(f, offset, data[0]);
	/* PENDING_LOCK: blocks are never locked, so lock, unlock and lock-down all succeed. */
	f->status |= SR_READY;
	set_mode(f, READ_STATUS, PENDING_NONE);
}

static void command(struct pflash *f, uint8_t cmd)
{
	switch (cmd) {
	case CMD_PROGRAM:
	case CMD_PROGRAM_ALT: set_mode(f, f->mode, PENDING_PROGRAM); break;
	case CMD_ERASE: set_mode(f, f->mode, PENDING_ERASE); break;
	case CMD_LOCK_SETUP: set_mode(f, f->mode, PENDING_LOCK); break;
	case CMD_READ_STATUS: set_mode(f, READ_STATUS, PENDING_NONE); break;
	case CMD_READ_ID: set_mode(f, READ_ID, PENDING_NONE); break;
	case CMD_QUERY: set_mode(f, READ_QUERY, PENDING_NONE); break;
	case CMD_CLEAR_STATUS:
		/* As QEMU's: the status is cleared and the flash reads its array again. */
		f->status = 0;
		set_mode(f, READ_ARRAY, PENDING_NONE);
		break;
	default:
		/* 0xFF, and commands this flash lacks (write to buffer, suspend): back to the array. */
		set_mode(f, READ_ARRAY, PENDING_NONE);
		break;
	}
}

static void pflash_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct pflash *f = opaque;

	if (offset >= f->size || size > f->size - offset || size > 8)
		return;
	pthread_mutex_lock(&f->lock);
	if (f->pending != PENDING_NONE)
		second_cycle(f, offset, data, size);
	else
		command(f, data[0]);
	pthread_mutex_unlock(&f->lock);
}

const struct bus_device_ops pflash_ops = {
	.read = pflash_read,
	.write = pflash_write,
};
