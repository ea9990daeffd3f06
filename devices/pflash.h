/* A parallel NOR flash with the Intel/Sharp command set, as QEMU's pflash_cfi01: OVMF's variable store; see pflash.c. */
#ifndef DEVICES_PFLASH_H
#define DEVICES_PFLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"

#define PFLASH_BLOCK_SIZE 4096    /* QEMU pc's sector, and OVMF's FVB block */

/*
 * While the flash reads as its array, the guest's reads need not come to
 * the device: the machine maps the array read-only (a KVM memory slot) and
 * sends only writes. In any other mode every read is the device's.
 */
struct pflash_mapping {
	void (*set_direct_reads)(void *ctx, bool direct);
	void *ctx;
};

/*
 * Where the array's changes go besides the array: the store's file. write
 * gets each programmed or erased range after the change; -1 makes the
 * flash undo it and report the program or erase as failed. NULL: nowhere.
 */
struct pflash_backing {
	int (*write)(void *ctx, uint64_t offset, const uint8_t *data, size_t len);
	void *ctx;
};

struct pflash_stats {
	uint64_t programs, erases, refused;
};

struct pflash;

/*
 * array: size bytes (a multiple of PFLASH_BLOCK_SIZE) the device programs
 * and erases in place; the caller owns it and keeps it mapped. A read-only
 * flash refuses both with its status bits. Starts in read-array mode.
 */
struct pflash *pflash_create(uint8_t *array, size_t size, bool readonly, struct pflash_mapping mapping,
			     struct pflash_backing backing);
void pflash_destroy(struct pflash *f);
void pflash_get_stats(struct pflash *f, struct pflash_stats *out);

/* The whole array on the MMIO bus: opaque is the struct pflash. */
extern const struct bus_device_ops pflash_ops;

#endif
