/*
 * An address-range bus, one for port I/O and one for MMIO. Devices claim
 * ranges; a guest access is routed by binary search to the device that owns
 * the address, with the offset into its range. Ranges may not overlap.
 * Accesses nobody claims read as all ones and are counted.
 *
 * Lookups take no lock: the sorted map is replaced, never changed in place,
 * so a device may (un)register ranges from inside an access (a PCI BAR that
 * moves when the guest writes config space). Replaced maps and removed
 * ranges are freed once no access that could have seen them is running:
 * every access counts itself in `readers`, and the one that brings the
 * count to zero frees what was retired (a guest toggling a BAR a million
 * times costs no memory).
 */
#ifndef PLATFORM_BUS_H
#define PLATFORM_BUS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Both handlers are required; size is 1, 2, 4 or 8; data is little-endian. */
struct bus_device_ops {
	void (*read)(void *opaque, uint64_t offset, uint8_t *data, unsigned size);
	void (*write)(void *opaque, uint64_t offset, const uint8_t *data, unsigned size);
};

struct bus_range {
	uint64_t base;
	uint64_t len;
	const struct bus_device_ops *ops;
	void *opaque;
	const char *name;
	atomic_uint_fast64_t reads;
	atomic_uint_fast64_t writes;
	struct bus_range *removed_next;
};

struct bus_map {
	size_t nr_ranges;
	struct bus_map *retired_next;
	struct bus_range *ranges[];   /* sorted by base */
};

struct bus {
	const char *name;
	pthread_mutex_t update_lock;
	struct bus_map *_Atomic map;
	atomic_uint readers;              /* accesses running */
	atomic_bool retired_any;          /* something waits in retired or removed */
	struct bus_map *retired;          /* earlier maps, until no reader can hold them */
	struct bus_range *removed;        /* unregistered ranges, likewise */
	atomic_uint_fast64_t unclaimed_reads;
	atomic_uint_fast64_t unclaimed_writes;
};

/* A read handler for write-only devices: reads return all ones. */
void bus_read_all_ones(void *opaque, uint64_t offset, uint8_t *data, unsigned size);

void bus_init(struct bus *bus, const char *name);
void bus_destroy(struct bus *bus);
/* 0 on success, -1 (errno EEXIST, EINVAL or ENOMEM) when refused. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 const struct bus_device_ops *ops, void *opaque, const char *name);
/* Removes the range starting at base; -1 (errno ENOENT) if there is none. */
int bus_unregister(struct bus *bus, uint64_t base);
/* Calls fn for each range, in address order. */
void bus_for_each(const struct bus *bus, void (*fn)(const struct bus_range *r, void *ctx), void *ctx);
/* Dispatch one access; returns the name of the device, or NULL if unclaimed. */
const char *bus_read(struct bus *bus, uint64_t addr, uint8_t *data, unsigned size);
const char *bus_write(struct bus *bus, uint64_t addr, const uint8_t *data, unsigned size);

#endif
