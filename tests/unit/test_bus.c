/* The buses: registration, overlaps, lookups, unclaimed accesses and moving ranges during an access. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bus.h"
#include "suites.h"

struct recorder {
	uint64_t offset;
	unsigned size;
	uint8_t last_write;
	int reads, writes;
};

static void rec_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	struct recorder *r = opaque;
	r->offset = offset;
	r->size = size;
	r->reads++;
	memset(data, 0x5a, size);
}

static void rec_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct recorder *r = opaque;
	r->offset = offset;
	r->size = size;
	r->last_write = data[0];
	r->writes++;
}

static const struct bus_device_ops rec_ops = { rec_read, rec_write };

static struct bus bus;

static void setup(void)
{
	bus_init(&bus, "test");
}

static void teardown(void)
{
	bus_destroy(&bus);
}

START_TEST(test_dispatch_offset_and_edges)
{
	struct recorder r = { 0 };
	uint8_t v[4];

	ck_assert_int_eq(bus_register(&bus, 0x3f8, 8, &rec_ops, &r, "uart"), 0);
	ck_assert_str_eq(bus_read(&bus, 0x3f8, v, 1), "uart");
	ck_assert_uint_eq(r.offset, 0);
	ck_assert_str_eq(bus_write(&bus, 0x3ff, v, 1), "uart");
	ck_assert_uint_eq(r.offset, 7);
	ck_assert_ptr_null(bus_read(&bus, 0x3f7, v, 1));
	ck_assert_ptr_null(bus_read(&bus, 0x400, v, 1));
	ck_assert_int_eq(r.reads, 1);
	ck_assert_int_eq(r.writes, 1);
	ck_assert_uint_eq(atomic_load(&bus.map->ranges[0]->reads), 1);
	ck_assert_uint_eq(atomic_load(&bus.map->ranges[0]->writes), 1);
}
END_TEST

START_TEST(test_overlap_refused)
{
	struct recorder r = { 0 };

	ck_assert_int_eq(bus_register(&bus, 0x100, 0x10, &rec_ops, &r, "a"), 0);
	/* the same range, a range inside, and ranges over either edge */
	const uint64_t bases[] = { 0x100, 0x104, 0xf8, 0x10f };
	const uint64_t lens[] = { 0x10, 2, 0x10, 0x10 };
	for (int i = 0; i < 4; i++) {
		errno = 0;
		ck_assert_int_eq(bus_register(&bus, bases[i], lens[i], &rec_ops, &r, "b"), -1);
		ck_assert_int_eq(errno, EEXIST);
	}
	/* a range that swallows the existing one */
	ck_assert_int_eq(bus_register(&bus, 0, 0x1000, &rec_ops, &r, "b"), -1);
	/* neighbours on both sides are fine */
	ck_assert_int_eq(bus_register(&bus, 0xf0, 0x10, &rec_ops, &r, "below"), 0);
	ck_assert_int_eq(bus_register(&bus, 0x110, 0x10, &rec_ops, &r, "above"), 0);
	ck_assert_uint_eq(bus.map->nr_ranges, 3);
}
END_TEST

START_TEST(test_bad_ranges_refused)
{
	struct recorder r = { 0 };

	ck_assert_int_eq(bus_register(&bus, 0x100, 0, &rec_ops, &r, "empty"), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(bus_register(&bus, UINT64_MAX - 1, 4, &rec_ops, &r, "wraps"), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(bus_register(&bus, UINT64_MAX - 3, 4, &rec_ops, &r, "top"), 0);
	uint8_t v;
	ck_assert_str_eq(bus_read(&bus, UINT64_MAX, &v, 1), "top");
}
END_TEST

START_TEST(test_unclaimed_reads_all_ones_and_counts)
{
	uint8_t v[8] = { 0 };

	ck_assert_ptr_null(bus_read(&bus, 0x1234, v, 4));
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(v[i], 0xff);
	ck_assert_uint_eq(v[4], 0);
	ck_assert_ptr_null(bus_write(&bus, 0x1234, v, 2));
	ck_assert_ptr_null(bus_write(&bus, 0x1235, v, 2));
	ck_assert_uint_eq(atomic_load(&bus.unclaimed_reads), 1);
	ck_assert_uint_eq(atomic_load(&bus.unclaimed_writes), 2);
}
END_TEST

START_TEST(test_many_devices_in_any_order)
{
	static struct recorder recs[200];
	char names[200][8];
	uint8_t v;

	memset(recs, 0, sizeof(recs));
	/* registered in a scrambled order; each range is 0x10 wide with a gap */
	for (int k = 0; k < 200; k++) {
		int i = (k * 77) % 200;
		snprintf(names[i], sizeof(names[i]), "d%d", i);
		ck_assert_int_eq(bus_register(&bus, 0x1000 + (uint64_t)i * 0x20, 0x10, &rec_ops, &recs[i], names[i]), 0);
	}
	for (int i = 0; i < 200; i++) {
		ck_assert_str_eq(bus_read(&bus, 0x1000 + (uint64_t)i * 0x20 + 0xf, &v, 1), names[i]);
		ck_assert_uint_eq(recs[i].offset, 0xf);
		ck_assert_ptr_null(bus_read(&bus, 0x1000 + (uint64_t)i * 0x20 + 0x10, &v, 1));
	}
	for (size_t i = 1; i < bus.map->nr_ranges; i++)
		ck_assert_uint_lt(bus.map->ranges[i - 1]->base, bus.map->ranges[i]->base);
}
END_TEST

START_TEST(test_write_only_device)
{
	static const struct bus_device_ops wo = { bus_read_all_ones, rec_write };
	struct recorder r = { 0 };
	uint8_t v[2] = { 1, 2 };

	ck_assert_int_eq(bus_register(&bus, 0x80, 1, &wo, &r, "wo"), 0);
	ck_assert_str_eq(bus_read(&bus, 0x80, v, 2), "wo");
	ck_assert_uint_eq(v[0], 0xff);
	ck_assert_uint_eq(v[1], 0xff);
	ck_assert_uint_eq(atomic_load(&bus.unclaimed_reads), 0);
}
END_TEST

/* A device that moves itself while being accessed, as a PCI BAR does. */
struct mover {
	struct bus *bus;
	uint64_t base;
	int writes;
};

static void mover_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	(void)opaque;
	(void)offset;
	memset(data, 0x11, size);
}

static void mover_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size);
static const struct bus_device_ops mover_ops = { mover_read, mover_write };

static void mover_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct mover *m = opaque;
	(void)offset;
	(void)data;
	(void)size;
	m->writes++;
	ck_assert_int_eq(bus_unregister(m->bus, m->base), 0);
	m->base += 0x100;
	ck_assert_int_eq(bus_register(m->bus, m->base, 0x10, &mover_ops, m, "mover"), 0);
}

START_TEST(test_unregister_and_move_during_access)
{
	struct mover m = { &bus, 0x1000, 0 };
	uint8_t v = 0;

	ck_assert_int_eq(bus_register(&bus, 0x1000, 0x10, &mover_ops, &m, "mover"), 0);
	ck_assert_str_eq(bus_write(&bus, 0x1004, &v, 1), "mover");
	ck_assert_ptr_null(bus_read(&bus, 0x1004, &v, 1));
	ck_assert_str_eq(bus_read(&bus, 0x1104, &v, 1), "mover");
	ck_assert_uint_eq(v, 0x11);
	ck_assert_int_eq(bus_unregister(&bus, 0x1104), -1);   /* not a base */
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(bus_unregister(&bus, 0x1100), 0);
	ck_assert_ptr_null(bus_read(&bus, 0x1104, &v, 1));
	ck_assert_uint_eq(bus.map->nr_ranges, 0);
}
END_TEST

Suite *bus_suite(void)
{
	Suite *s = suite_create("bus");
	TCase *tc = tcase_create("bus");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_dispatch_offset_and_edges);
	tcase_add_test(tc, test_overlap_refused);
	tcase_add_test(tc, test_bad_ranges_refused);
	tcase_add_test(tc, test_unclaimed_reads_all_ones_and_counts);
	tcase_add_test(tc, test_many_devices_in_any_order);
	tcase_add_test(tc, test_write_only_device);
	tcase_add_test(tc, test_unregister_and_move_during_access);
	suite_add_tcase(s, tc);
	return s;
}
