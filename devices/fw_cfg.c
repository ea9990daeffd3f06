/*
 * fw_cfg, QEMU's firmware configuration device (QEMU docs/specs/fw_cfg.rst):
 * the firmware reads the machine's description (memory map, ACPI tables,
 * boot order, console) as items picked by a 16-bit key. On x86, from
 * FW_CFG_PORT_BASE:
 *
 *   +0  selector, a 16-bit write: picks an item and rewinds to its start
 *       ("Selector (Control) Register");
 *   +1  data, 8-bit reads: the byte at the offset, which then moves on;
 *       0 past the end or for a key with no item ("Data Register");
 *   +4  DMA address, big-endian: a 32-bit write at +4 sets its high half,
 *       one at +8 its low half and starts the transfer; reads return the
 *       signature "QEMU CFG" ("DMA Interface").
 *
 * A transfer reads the 16-byte FWCfgDmaAccess there (control, length,
 * address, all big-endian), selects if asked, then reads, skips or writes,
 * and writes control back: 0, or the error bit. Items are read-only here,
 * so a write is an error. Every guest address and length is checked
 * against guest RAM before a byte moves; a descriptor outside RAM is
 * dropped, since there is nowhere to report it. Bit 15 of a key picks the
 * architecture's own items, bit 14 (the old write flag) is ignored.
 */
#include "fw_cfg.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MASK 0x3fff
#define KEY_ARCH 0x8000
#define NR_KEYS (FW_CFG_FILE_FIRST + FW_CFG_FILE_SLOTS)

#define ID_TRADITIONAL 0x01
#define ID_DMA 0x02

#define DMA_ERROR 0x01
#define DMA_READ 0x02
#define DMA_SKIP 0x04
#define DMA_SELECT 0x08
#define DMA_WRITE 0x10
#define DMA_ACCESS_BYTES 16

#define PORT_SELECTOR 0
#define PORT_DATA 1
#define PORT_DMA_HIGH 4
#define PORT_DMA_LOW 8
#define DIR_ENTRY_BYTES 64

static const char dma_signature[8] = "QEMU CFG";

struct item {
	uint8_t *data;
	uint32_t len;
};

struct fw_cfg {
	const struct guest_mem *gm;
	pthread_mutex_t lock;
	struct item items[2][NR_KEYS];     /* generic, then the architecture's */
	char names[FW_CFG_FILE_SLOTS][FW_CFG_NAME_MAX];
	unsigned nr_files;
	uint16_t selector;
	uint32_t offset;                   /* into the selected item */
	uint32_t dma_high;
};

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static struct item *item_of(struct fw_cfg *fc, uint16_t key)
{
	unsigned index = key & KEY_MASK;

	return index < NR_KEYS ? &fc->items[(key & KEY_ARCH) != 0][index] : NULL;
}

static int set_item(struct fw_cfg *fc, uint16_t key, const void *data, uint32_t len)
{
	struct item *it = item_of(fc, key);
	uint8_t *copy = malloc(len ? len : 1);

	if (!it || !copy) {
		free(copy);
		return -1;
	}
	memcpy(copy, data, len);
	free(it->data);
	*it = (struct item){ copy, len };
	return 0;
}

/* Key 0x19: a big-endian count, then per file its size, key and name ("File Directory"). */
static int rebuild_directory(struct fw_cfg *fc)
{
	uint8_t dir[4 + FW_CFG_FILE_SLOTS * DIR_ENTRY_BYTES] = { 0 };

	put_be32(dir, fc->nr_files);
	for (unsigned i = 0; i < fc->nr_files; i++) {
		uint8_t *e = dir + 4 + i * DIR_ENTRY_BYTES;
		put_be32(e, fc->items[0][FW_CFG_FILE_FIRST + i].len);
		put_be16(e + 4, (uint16_t)(FW_CFG_FILE_FIRST + i));
		memcpy(e + 8, fc->names[i], FW_CFG_NAME_MAX);
	}
	return set_item(fc, FW_CFG_FILE_DIR, dir, 4 + fc->nr_files * DIR_ENTRY_BYTES);
}

struct fw_cfg *fw_cfg_create(const struct guest_mem *gm)
{
	struct fw_cfg *fc = calloc(1, sizeof(*fc));
	uint8_t id[4] = { ID_TRADITIONAL | ID_DMA, 0, 0, 0 };

	if (!fc)
		return NULL;
	fc->gm = gm;
	pthread_mutex_init(&fc->lock, NULL);
	if (set_item(fc, FW_CFG_SIGNATURE, "QEMU", 4) < 0 || set_item(fc, FW_CFG_ID, id, sizeof(id)) < 0 ||
	    rebuild_directory(fc) < 0) {
		fw_cfg_destroy(fc);
		return NULL;
	}
	return fc;
}

void fw_cfg_destroy(struct fw_cfg *fc)
{
	if (!fc)
		return;
	for (unsigned arch = 0; arch < 2; arch++)
		for (unsigned k = 0; k < NR_KEYS; k++)
			free(fc->items[arch][k].data);
	pthread_mutex_destroy(&fc->lock);
	free(fc);
}

int fw_cfg_add_item(struct fw_cfg *fc, uint16_t key, const void *data, uint32_t len)
{
	if ((key & KEY_MASK) >= FW_CFG_FILE_FIRST || (key & ~(KEY_MASK | KEY_ARCH)) ||
	    key == FW_CFG_FILE_DIR || key == FW_CFG_SIGNATURE || key == FW_CFG_ID)
		return -1;
	return set_item(fc, key, data, len);
}

int fw_cfg_add_u16(struct fw_cfg *fc, uint16_t key, uint16_t value)
{
	uint8_t le[2] = { (uint8_t)value, (uint8_t)(value >> 8) };

	return fw_cfg_add_item(fc, key, le, sizeof(le));
}

int fw_cfg_add_file(struct fw_cfg *fc, const char *name, const void *data, uint32_t len)
{
	size_t n = strlen(name);

	if (n == 0 || n >= FW_CFG_NAME_MAX || fc->nr_files == FW_CFG_FILE_SLOTS)
		return -1;
	for (unsigned i = 0; i < fc->nr_files; i++)
		if (!strcmp(fc->names[i], name))
			return -1;
	if (set_item(fc, (uint16_t)(FW_CFG_FILE_FIRST + fc->nr_files), data, len) < 0)
		return -1;
	memset(fc->names[fc->nr_files], 0, FW_CFG_NAME_MAX);
	memcpy(fc->names[fc->nr_files], name, n);
	fc->nr_files++;
	return rebuild_directory(fc);
}

static void select_item(struct fw_cfg *fc, uint16_t key)
{
	fc->selector = key;
	fc->offset = 0;
}

/* The selected item's bytes from the offset on; 0 of them for an unknown key. */
static uint32_t remaining(struct fw_cfg *fc, const uint8_t **from)
{
	const struct item *it = item_of(fc, fc->selector);

	if (!it || !it->data || fc->offset >= it->len)
		return 0;
	*from = it->data + fc->offset;
	return it->len - fc->offset;
}

static uint8_t next_byte(struct fw_cfg *fc)
{
	const uint8_t *from;

	if (remaining(fc, &from) == 0)
		return 0;
	fc->offset++;
	return *from;
}

/* Copies len bytes to guest RAM at gpa, zeros past the item's end; false if not all of it is RAM. */
static bool dma_read(struct fw_cfg *fc, uint64_t gpa, uint32_t len)
{
	uint8_t *dst = len ? guest_mem_ptr(fc->gm, gpa, len) : NULL;
	const uint8_t *from;

	if (len && !dst)
		return false;
	uint32_t n = remaining(fc, &from);
	if (n > len)
		n = len;
	if (n)
		memcpy(dst, from, n);
	if (len > n)
		memset(dst + n, 0, len - n);
	fc->offset += n;
	return true;
}

static void dma_skip(struct fw_cfg *fc, uint32_t len)
{
	const uint8_t *from;
	uint32_t n = remaining(fc, &from);

	fc->offset += n < len ? n : len;
}

static void dma_transfer(struct fw_cfg *fc, uint64_t desc)
{
	uint8_t *access = guest_mem_ptr(fc->gm, desc, DMA_ACCESS_BYTES);

	if (!access)
		return;
	uint32_t control = get_be32(access), len = get_be32(access + 4);
	uint64_t gpa = (uint64_t)get_be32(access + 8) << 32 | get_be32(access + 12);
	bool ok = true;

	if (control & DMA_SELECT)
		select_item(fc, (uint16_t)(control >> 16));
	if (control & DMA_READ)
		ok = dma_read(fc, gpa, len);
	else if (control & DMA_WRITE)
		ok = false;
	else if (control & DMA_SKIP)
		dma_skip(fc, len);
	put_be32(access, ok ? 0 : DMA_ERROR);
}

static void fw_cfg_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	struct fw_cfg *fc = opaque;

	pthread_mutex_lock(&fc->lock);
	if (offset >= PORT_DMA_HIGH) {
		for (unsigned i = 0; i < size; i++)
			data[i] = offset + i - PORT_DMA_HIGH < sizeof(dma_signature) ?
				  (uint8_t)dma_signature[offset + i - PORT_DMA_HIGH] : 0;
	} else if (size == 1 && offset <= PORT_DATA) {
		data[0] = next_byte(fc);
	} else {
		memset(data, 0xff, size);
	}
	pthread_mutex_unlock(&fc->lock);
}

static void fw_cfg_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct fw_cfg *fc = opaque;

	pthread_mutex_lock(&fc->lock);
	if (offset == PORT_SELECTOR && size == 2) {
		select_item(fc, (uint16_t)(data[0] | data[1] << 8));
	} else if (offset == PORT_DMA_HIGH && size == 4) {
		fc->dma_high = get_be32(data);
	} else if (offset == PORT_DMA_LOW && size == 4) {
		uint64_t desc = (uint64_t)fc->dma_high << 32 | get_be32(data);
		fc->dma_high = 0;   /* each transfer writes its high half again, or none */
		dma_transfer(fc, desc);
	}
	pthread_mutex_unlock(&fc->lock);
}

const struct bus_device_ops fw_cfg_ops = {
	.read = fw_cfg_read,
	.write = fw_cfg_write,
};
