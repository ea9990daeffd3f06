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

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	pthread_rwlock_init(&bus->lock, NULL);
}

void bus_destroy(struct bus *bus)
{
	for (size_t i = 0; i < bus->nr_ranges; i++)
		free(bus->ranges[i]);
	free(bus->ranges);
	pthread_rwlock_destroy(&bus->lock);
}

/* Index of the first range whose end lies above addr. */
static size_t lower_bound(const struct bus *bus, uint64_t addr)
{
	size_t lo = 0, hi = bus->nr_ranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bus_range *r = bus->ranges[mid];
		if (r->base + (r->len - 1) < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct bus_range *find(const struct bus *bus, uint64_t addr)
{
	size_t i = lower_bound(bus, addr);
	if (i < bus->nr_ranges && bus->ranges[i]->base <= addr)
		return bus->ranges[i];
	return NULL;
}

static int grow(struct bus *bus)
{
	size_t cap = bus->capacity ? bus->capacity * 2 : 16;
	struct bus_range **r = realloc(bus->ranges, cap * sizeof(*r));
	if (!r)
		return -1;
	bus->ranges = r;
	bus->capacity = cap;
	return 0;
}

static int insert(struct bus *bus, struct bus_range *range)
{
	uint64_t last = range->base + (range->len - 1);
	size_t i = lower_bound(bus, range->base);

	if (i < bus->nr_ranges && bus->ranges[i]->base <= last) {
		errno = EEXIST;
		return -1;
	}
	if (bus->nr_ranges == bus->capacity && grow(bus) < 0) {
		errno = ENOMEM;
		return -1;
	}
	memmove(&bus->ranges[i + 1], &bus->ranges[i], (bus->nr_ranges - i) * sizeof(*bus->ranges));
	bus->ranges[i] = range;
	bus->nr_ranges++;
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
	pthread_rwlock_wrlock(&bus->lock);
	int ret = insert(bus, range);
	pthread_rwlock_unlock(&bus->lock);
	if (ret < 0) {
		int saved = errno;
		free(range);
		errno = saved;
	}
	return ret;
}

/* Finds the device for addr and calls it, counting the access either way. */
static const char *dispatch(struct bus *bus, uint64_t addr, uint8_t *data, unsigned size, bool write)
{
	const char *name = NULL;

	pthread_rwlock_rdlock(&bus->lock);
	struct bus_range *r = find(bus, addr);
	if (r) {
		uint64_t offset = addr - r->base;
		atomic_fetch_add_explicit(write ? &r->writes : &r->reads, 1, memory_order_relaxed);
		if (write)
			r->ops->write(r->opaque, offset, data, size);
		else
			r->ops->read(r->opaque, offset, data, size);
		name = r->name;
	}
	pthread_rwlock_unlock(&bus->lock);
	if (!name)
		atomic_fetch_add_explicit(write ? &bus->unclaimed_writes : &bus->unclaimed_reads, 1,
					  memory_order_relaxed);
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
