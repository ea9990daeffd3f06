/* ACPI's fixed PM registers at ports 0x600-0x60b: PM1 status and enable, PM1 control with soft-off, the PM timer. */
#include <time.h>

#include "acpi_pm.h"
#include "suites.h"

#define NS 1000000000ll
#define PM1_STS ACPI_PM_PORT
#define PM1_EN (ACPI_PM_PORT + 2)
#define PM1_CNT (ACPI_PM_PORT + ACPI_PM1_CNT_OFFSET)
#define PM_TMR (ACPI_PM_PORT + ACPI_PM_TMR_OFFSET)
#define SCI_EN 0x0001
#define SLP_EN 0x2000
#define SLP_TYP(t) ((t) << 10)

static struct bus pio;
static struct acpi_pm *pm;
static int64_t fake_now;
static unsigned stops;
static int stop_status;

static int64_t fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static const struct acpi_pm_clock test_clock = { fake_clock, NULL };

static void record_stop(void *ctx, int status, const char *reason)
{
	(void)ctx;
	(void)reason;
	stops++;
	stop_status = status;
}

static void setup(void)
{
	fake_now = 0;
	stops = 0;
	stop_status = -1;
	bus_init(&pio, "pio");
	pm = acpi_pm_create((struct power_control){ record_stop, NULL }, &test_clock);
	ck_assert_ptr_nonnull(pm);
	ck_assert_int_eq(bus_register(&pio, ACPI_PM_PORT, ACPI_PM_LEN, &acpi_pm_ops, pm, "acpi-pm"), 0);
}

static void teardown(void)
{
	bus_destroy(&pio);
	acpi_pm_destroy(pm);
}

static uint64_t in(uint16_t port, unsigned size)
{
	uint64_t v = 0;

	ck_assert_ptr_nonnull(bus_read(&pio, port, (uint8_t *)&v, size));
	return v;
}

static void out(uint16_t port, unsigned size, uint64_t v)
{
	ck_assert_ptr_nonnull(bus_write(&pio, port, (uint8_t *)&v, size));
}

/* The first time at which the timer reads ticks (before the 24-bit wrap). */
static int64_t ns_at_tick(int64_t ticks)
{
	return (ticks * NS + ACPI_PM_TIMER_HZ - 1) / ACPI_PM_TIMER_HZ;
}

START_TEST(test_control_from_reset)
{
	/* In ACPI mode from reset: the FADT has no SMI command port to switch with. */
	ck_assert_uint_eq(in(PM1_CNT, 2), SCI_EN);
	ck_assert_uint_eq(in(PM1_STS, 2), 0);
	ck_assert_uint_eq(in(PM1_EN, 2), 0);
	out(PM1_CNT, 2, 0);                      /* SCI_EN cannot be cleared */
	ck_assert_uint_eq(in(PM1_CNT, 2), SCI_EN);
}
END_TEST

START_TEST(test_sleep_type_reads_back_sleep_enable_does_not)
{
	out(PM1_CNT, 2, SLP_TYP(3));
	ck_assert_uint_eq(in(PM1_CNT, 2), SLP_TYP(3) | SCI_EN);
	out(PM1_CNT, 2, SLP_TYP(3) | SLP_EN);
	ck_assert_uint_eq(in(PM1_CNT, 2), SLP_TYP(3) | SCI_EN);
	out(PM1_CNT, 2, 0xffff & ~SLP_EN);       /* the other bits are not there either */
	ck_assert_uint_eq(in(PM1_CNT, 2), SLP_TYP(7) | SCI_EN);
	ck_assert_uint_eq(in(PM1_CNT + 1, 1), SLP_TYP(7) >> 8);
	ck_assert_uint_eq(stops, 0);
}
END_TEST

START_TEST(test_s5_word_write_powers_off)
{
	out(PM1_CNT, 2, SLP_TYP(ACPI_PM_S5_TYPE) | SLP_EN);
	ck_assert_uint_eq(stops, 1);
	ck_assert_int_eq(stop_status, 0);
	/* SLP_EN is not stored, so a later write of the other byte does not power off again. */
	ck_assert_uint_eq(in(PM1_CNT, 2), SLP_TYP(ACPI_PM_S5_TYPE) | SCI_EN);
	out(PM1_CNT, 1, SCI_EN);
	ck_assert_uint_eq(stops, 1);
}
END_TEST

START_TEST(test_s5_byte_writes_power_off_on_the_high_byte)
{
	out(PM1_CNT, 1, SCI_EN);
	ck_assert_uint_eq(stops, 0);
	out(PM1_CNT + 1, 1, (SLP_TYP(ACPI_PM_S5_TYPE) | SLP_EN) >> 8);
	ck_assert_uint_eq(stops, 1);
	ck_assert_int_eq(stop_status, 0);
}
END_TEST

START_TEST(test_other_sleep_types_do_not_stop)
{
	for (unsigned t = 0; t < 8; t++) {
		if (t == ACPI_PM_S5_TYPE)
			continue;
		out(PM1_CNT, 2, SLP_TYP(t) | SLP_EN);
		ck_assert_msg(stops == 0, "SLP_TYP %u stopped the machine", t);
		ck_assert_uint_eq(in(PM1_CNT, 2), SLP_TYP(t) | SCI_EN);
	}
}
END_TEST

START_TEST(test_status_is_write_one_to_clear)
{
	out(PM1_STS, 2, 0xffff);
	ck_assert_uint_eq(in(PM1_STS, 2), 0);
	out(PM1_STS, 1, 0xff);
	out(PM1_STS + 1, 1, 0xff);
	ck_assert_uint_eq(in(PM1_STS, 2), 0);
	ck_assert_uint_eq(in(PM1_EN, 2), 0);   /* clearing status leaves enable alone */
}
END_TEST

START_TEST(test_enable_reads_back)
{
	out(PM1_EN, 2, 0x0521);
	ck_assert_uint_eq(in(PM1_EN, 2), 0x0521);
	out(PM1_EN + 1, 1, 0x01);                /* one byte of it, the other kept */
	ck_assert_uint_eq(in(PM1_EN, 2), 0x0121);
	out(PM1_EN, 1, 0x20);
	ck_assert_uint_eq(in(PM1_EN, 1), 0x20);
	ck_assert_uint_eq(in(PM1_EN + 1, 1), 0x01);
	out(PM1_STS, 4, 0xabcd0000);             /* a dword at the event block: status, then enable */
	ck_assert_uint_eq(in(PM1_STS, 4), 0xabcd0000);
}
END_TEST

START_TEST(test_timer_counts_at_3579545_hz)
{
	ck_assert_uint_eq(in(PM_TMR, 4), 0);
	fake_now = NS;
	ck_assert_uint_eq(in(PM_TMR, 4), 3579545 & 0xffffff);
	fake_now = ns_at_tick(1000) - 1;
	ck_assert_uint_eq(in(PM_TMR, 4), 999);
	fake_now = ns_at_tick(1000);
	ck_assert_uint_eq(in(PM_TMR, 4), 1000);
	ck_assert_uint_eq(in(PM_TMR, 2), 1000);
	ck_assert_uint_eq(in(PM_TMR + 1, 1), 1000 >> 8);
}
END_TEST

START_TEST(test_timer_wraps_at_24_bits)
{
	fake_now = ns_at_tick(0xffffff);
	ck_assert_uint_eq(in(PM_TMR, 4), 0xffffff);
	fake_now = ns_at_tick(0x1000000);
	ck_assert_uint_eq(in(PM_TMR, 4), 0);
	fake_now = 5 * NS;
	ck_assert_uint_eq(in(PM_TMR, 4), (5ull * 3579545) & 0xffffff);
	/* Ten days up: ns times the rate is past 64 bits. */
	fake_now = 864000 * NS;
	ck_assert_uint_eq(in(PM_TMR, 4), (864000ull * 3579545) & 0xffffff);
}
END_TEST

START_TEST(test_reads_past_the_end_are_all_ones)
{
	fake_now = NS;   /* 0x369e99 */
	ck_assert_uint_eq(in(PM_TMR + 2, 4), 0xffff0036);
	ck_assert_uint_eq(in(PM_TMR + 3, 2), 0xff00);
	ck_assert_uint_eq(in(PM_TMR, 8), 0xffffffff00369e99ull);
	out(PM_TMR + 2, 4, 0);                   /* the timer is read-only, past it is nothing */
	ck_assert_uint_eq(in(PM_TMR, 4), 0x369e99);
}
END_TEST

/* Without a clock of the test's, the timer runs on the host's monotonic clock. */
START_TEST(test_host_clock)
{
	struct acpi_pm *host = acpi_pm_create((struct power_control){ record_stop, NULL }, NULL);
	uint8_t v[4];
	uint32_t before, after;

	ck_assert_ptr_nonnull(host);
	acpi_pm_ops.read(host, ACPI_PM_TMR_OFFSET, v, 4);
	before = (uint32_t)v[0] | (uint32_t)v[1] << 8 | (uint32_t)v[2] << 16 | (uint32_t)v[3] << 24;
	nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	acpi_pm_ops.read(host, ACPI_PM_TMR_OFFSET, v, 4);
	after = (uint32_t)v[0] | (uint32_t)v[1] << 8 | (uint32_t)v[2] << 16 | (uint32_t)v[3] << 24;
	ck_assert_uint_eq(v[3], 0);
	ck_assert_uint_ge((after - before) & 0xffffff, 10 * ACPI_PM_TIMER_HZ / 1000);   /* at least 10 ms */
	acpi_pm_destroy(host);
}
END_TEST

Suite *acpi_pm_suite(void)
{
	Suite *s = suite_create("acpi_pm");
	TCase *tc = tcase_create("acpi_pm");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_control_from_reset);
	tcase_add_test(tc, test_sleep_type_reads_back_sleep_enable_does_not);
	tcase_add_test(tc, test_s5_word_write_powers_off);
	tcase_add_test(tc, test_s5_byte_writes_power_off_on_the_high_byte);
	tcase_add_test(tc, test_other_sleep_types_do_not_stop);
	tcase_add_test(tc, test_status_is_write_one_to_clear);
	tcase_add_test(tc, test_enable_reads_back);
	tcase_add_test(tc, test_timer_counts_at_3579545_hz);
	tcase_add_test(tc, test_timer_wraps_at_24_bits);
	tcase_add_test(tc, test_reads_past_the_end_are_all_ones);
	tcase_add_test(tc, test_host_clock);
	suite_add_tcase(s, tc);
	return s;
}
