/* The port-I/O and MMIO buses: sorted ranges, binary search, maps replaced rather than changed. */
#include "bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void bus_read_all_ones(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	(void)opaque;
	(void)offset;
	memset(data, 0xff, size);
}

static struct bus_map *map_alloc(size_t n)
{
	return calloc(1, sizeof(struct bus_map) + n * sizeof(struct bus_range *));
}

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	pthread_mutex_init(&bus->update_lock, NULL);
	atomic_store(&bus->map, map_alloc(0));
}

static void free_retired(struct bus_map *maps, struct bus_range *ranges)
{
	for (struct bus_map *m = maps, *next; m; m = next) {
		next = m->retired_next;
		free(m);
	}
	for (struct bus_range *r = ranges, *next; r; r = next) {
		next = r->removed_next;
		free(r);
	}
}

void bus_destroy(struct bus *bus)
{
	struct bus_map *map = atomic_load(&bus->map);

	for (size_t i = 0; map && i < map->nr_ranges; i++)
		free(map->ranges[i]);
	free(map);
	free_retired(bus->retired, bus->removed);
	pthread_mutex_destroy(&bus->update_lock);
}

/*
 * Frees what was retired if no access is running. Retiring happens under
 * the lock after the new map is published, and an access counts itself
 * before it loads the map (both sequentially consistent): so with no reader
 * counted here, none can hold a retired map or range, and any that starts
 * now finds the current map.
 */
static void reclaim(struct bus *bus)
{
	struct bus_map *maps = NULL;
	struct bus_range *ranges = NULL;

	pthread_mutex_lock(&bus->update_lock);
	if (atomic_load(&bus->readers) == 0) {
		maps = bus->retired;
		ranges = bus->removed;
		bus->retired = NULL;
		bus->removed = NULL;
		atomic_store(&bus->retired_any, false);
	}
	pthread_mutex_unlock(&bus->update_lock);
	free_retired(maps, ranges);
}

/* Index of the first range whose end lies at or above addr. */
static size_t lower_bound(const struct bus_map *map, uint64_t addr)
{
	size_t lo = 0, hi = map->nr_ranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bus_range *r = map->ranges[mid];
		if (r->base + (r->len - 1) < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Publishes a map built from the current one with range inserted at i
 * (when range is set) or the entry at i removed (when it is NULL). */
static int replace_map(struct bus *bus, size_t i, struct bus_range *range)
{
	struct bus_map *old = atomic_load(&bus->map);
	size_t n = old->nr_ranges + (range ? 1 : -1);
	struct bus_map *map = map_alloc(n);

	if (!map)
		return -1;
	map->nr_ranges = n;
	memcpy(map->ranges, old->ranges, i * sizeof(*old->ranges));
	if (range) {
		map->ranges[i] = range;
		memcpy(&map->ranges[i + 1], &old->ranges[i], (old->nr_ranges - i) * sizeof(*old->ranges));
	} else {
		memcpy(&map->ranges[i], &old->ranges[i + 1], (old->nr_ranges - i - 1) * sizeof(*old->ranges));
	}
	atomic_store(&bus->map, map);
	old->retired_next = bus->retired;
	bus->retired = old;
	atomic_store(&bus->retired_any, true);
	return 0;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 const struct bus_device_ops *ops, void *opaque, const char *name)
{
	if (len == 0 || base + (len - 1) < base) {
		errno = EINVAL;
		return -1;
	}
	struct bus_range *range = calloc(1, sizeof(*range));
	if (!range) {
		errno = ENOMEM;
		return -1;
	}
	*range = (struct bus_range){ .base = base, .len = len, .ops = ops, .opaque = opaque, .name = name };
	pthread_mutex_lock(&bus->update_lock);
	const struct bus_map *map = atomic_load(&bus->map);
	size_t i = lower_bound(map, base);
	int ret = -1;
	if (i < map->nr_ranges && map->ranges[i]->base <= base + (len - 1))
		errno = EEXIST;
	else if (replace_map(bus, i, range) < 0)
		errno = ENOMEM;
	else
		ret = 0;
	pthread_mutex_unlock(&bus->update_lock);
	if (ret < 0) {
		int saved = errno;
		free(range);
		errno = saved;
	}
	if (atomic_load(&bus->readers) == 0)
		reclaim(bus);
	return ret;
}

int bus_unregister(struct bus *bus, uint64_t base)
{
	int ret = -1;

	pthread_mutex_lock(&bus->update_lock);
	const struct bus_map *map = atomic_load(&bus->map);
	size_t i = lower_bound(map, base);
	if (i < map->nr_ranges && map->ranges[i]->base == base) {
		struct bus_range *r = map->ranges[i];
		if (replace_map(bus, i, NULL) == 0) {
			/* A reader may still hold it: it goes when none can. */
			r->removed_next = bus->removed;
			bus->removed = r;
			ret = 0;
		}
	} else {
		errno = ENOENT;
	}
	pthread_mutex_unlock(&bus->update_lock);
	if (atomic_load(&bus->readers) == 0)
		reclaim(bus);
	return ret;
}

void bus_for_each(const struct bus *bus, void (*fn)(const struct bus_range *r, void *ctx), void *ctx)
{
	const struct bus_map *map = atomic_load(&bus->map);

	for (size_t i = 0; i < map->nr_ranges; i++)
		fn(map->ranges[i], ctx);
}

/* Finds the device for addr and calls it, counting the access either way. */
static const char *dispatch(struct bus *bus, uint64_t addr, uint8_t *data, unsigned size, bool write)
{
	const char *name = NULL;

	atomic_fetch_add(&bus->readers, 1);
	const struct bus_map *map = atomic_load(&bus->map);
	size_t i = lower_bound(map, addr);
	if (i == map->nr_ranges || map->ranges[i]->base > addr) {
		atomic_fetch_add_explicit(write ? &bus->unclaimed_writes : &bus->unclaimed_reads, 1,
					  memory_order_relaxed);
	} else {
		struct bus_range *r = map->ranges[i];
		atomic_fetch_add_explicit(write ? &r->writes : &r->reads, 1, memory_order_relaxed);
		if (write)
			r->ops->write(r->opaque, addr - r->base, data, size);
		else
			r->ops->read(r->opaque, addr - r->base, data, size);
		name = r->name;
	}
	if (atomic_fetch_sub(&bus->readers, 1) == 1 && atomic_load(&bus->retired_any))
		reclaim(bus);
	return name;
}

const char *bus_read(struct bus *bus, uint64_t addr, uint8_t *data, unsigned size)
{
	const char *name = dispatch(bus, addr, data, size, false);
	if (!name)
		memset(data, 0xff, size);
	return name;
}

const char *bus_write(struct bus *bus, uint64_t addr, const uint8_t *data, unsigned size)
{
	return dispatch(bus, addr, (uint8_t *)data, size, true);
}
