/* The CMOS clock on a clock of the test's: time formats, setting the time, UIP, the three interrupts. */
#include <sys/timerfd.h>
#include <time.h>

#include "cmos_rtc.h"
#include "fake_guest.h"
#include "suites.h"

#define NS 1000000000ll
/* Tuesday 2026-12-01 19:05:42 UTC. */
#define T0 1796151942ll

static int64_t fake_now;
static struct irq_recorder irqs;
static struct cmos_rtc *rtc;

static int64_t fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static const struct rtc_clock test_clock = { fake_clock, NULL };

static void setup(void)
{
	fake_now = T0 * NS + NS / 2;
	irq_recorder_init(&irqs);
	rtc = cmos_rtc_create((struct irq_line){ &irqs.ctl, CMOS_RTC_GSI, false }, &test_clock, NULL);
	ck_assert_ptr_nonnull(rtc);
}

static void teardown(void)
{
	cmos_rtc_destroy(rtc);
}

static uint8_t rd(uint8_t index)
{
	uint8_t v;

	cmos_rtc_ops.write(rtc, 0, &index, 1);
	cmos_rtc_ops.read(rtc, 1, &v, 1);
	return v;
}

static void wr(uint8_t index, uint8_t v)
{
	cmos_rtc_ops.write(rtc, 0, &index, 1);
	cmos_rtc_ops.write(rtc, 1, &v, 1);
}

START_TEST(test_time_bcd_24h)
{
	const uint8_t want[] = { 0x42, 0, 0x05, 0, 0x19, 0, 0x03, 0x01, 0x12, 0x26 };

	ck_assert_int_eq(T0 % 60, 42);
	for (uint8_t i = 0; i < sizeof(want); i++)
		if (i != 1 && i != 3 && i != 5)
			ck_assert_msg(rd(i) == want[i], "register %u: 0x%02x, not 0x%02x", i, rd(i), want[i]);
	ck_assert_uint_eq(rd(0x32), 0x20);
	ck_assert_uint_eq(rd(0x0a), 0x26);
	ck_assert_uint_eq(rd(0x0b), 0x02);
	ck_assert_uint_eq(rd(0x0d), 0x80);
	fake_now += 20 * NS;
	ck_assert_uint_eq(rd(0x00), 0x02);
	ck_assert_uint_eq(rd(0x02), 0x06);
}
END_TEST

START_TEST(test_binary_and_12h)
{
	wr(0x0b, 0x04);   /* binary, 12-hour */
	ck_assert_uint_eq(rd(0x00), 42);
	ck_assert_uint_eq(rd(0x04), 0x80 | 7);   /* 7 PM */
	ck_assert_uint_eq(rd(0x09), 26);
	fake_now -= 19 * 3600 * NS;              /* 00:05: 12 AM */
	ck_assert_uint_eq(rd(0x04), 12);
	fake_now += 12 * 3600 * NS;              /* 12:05: 12 PM */
	ck_assert_uint_eq(rd(0x04), 0x80 | 12);
	wr(0x04, 0x80 | 3);                      /* set 3 PM */
	wr(0x0b, 0x06);
	ck_assert_uint_eq(rd(0x04), 15);
}
END_TEST

START_TEST(test_set_holds_the_time)
{
	wr(0x0b, 0x82);   /* SET */
	wr(0x09, 0x99);
	wr(0x32, 0x19);
	wr(0x08, 0x02);
	wr(0x07, 0x28);
	wr(0x04, 0x23);
	wr(0x02, 0x59);
	wr(0x00, 0x58);
	fake_now += 5 * NS;   /* no updates while SET */
	ck_assert_uint_eq(rd(0x00), 0x58);
	ck_assert_uint_eq(rd(0x0a) & 0x80, 0);
	wr(0x0b, 0x02);
	fake_now += 3 * NS;   /* 1999-02-28 23:59:58 + 3 s */
	ck_assert_uint_eq(rd(0x00), 0x01);
	ck_assert_uint_eq(rd(0x04), 0x00);
	ck_assert_uint_eq(rd(0x07), 0x01);
	ck_assert_uint_eq(rd(0x08), 0x03);
	ck_assert_uint_eq(rd(0x09), 0x99);
	ck_assert_uint_eq(rd(0x32), 0x19);
	ck_assert_uint_eq(rd(0x06), 0x02);   /* a Monday */
	wr(0x08, 0xff);                      /* nonsense is taken as a date, not a crash */
	rd(0x08);
}
END_TEST

START_TEST(test_update_in_progress)
{
	fake_now = T0 * NS + NS - 100000;
	ck_assert_uint_eq(rd(0x0a), 0xa6);
	fake_now = T0 * NS + NS - 300000;
	ck_assert_uint_eq(rd(0x0a), 0x26);
	wr(0x0a, 0xa6);   /* UIP is read-only */
	ck_assert_uint_eq(rd(0x0a), 0x26);
}
END_TEST

START_TEST(test_periodic_interrupt)
{
	wr(0x0b, 0x42);   /* PIE */
	ck_assert(!irqs.level[CMOS_RTC_GSI]);
	fake_now += 1000000;   /* past one 976.5 us tick */
	cmos_rtc_update(rtc);
	ck_assert(irqs.level[CMOS_RTC_GSI]);
	ck_assert_uint_eq(rd(0x0c), 0xc0);   /* IRQF | PF, cleared by the read */
	ck_assert(!irqs.level[CMOS_RTC_GSI]);
	ck_assert_uint_eq(rd(0x0c), 0x00);
	wr(0x0a, 0x0f);                      /* divider off: the time base stops */
	fake_now += 10000000;
	cmos_rtc_update(rtc);
	ck_assert(!irqs.level[CMOS_RTC_GSI]);
	wr(0x0a, 0x2f);                      /* 500 ms */
	fake_now += 400000000;
	ck_assert_uint_eq(rd(0x0c) & 0x40, 0);
	fake_now += 200000000;
	ck_assert_uint_eq(rd(0x0c) & 0x40, 0x40);
}
END_TEST

START_TEST(test_update_ended_interrupt)
{
	fake_now += NS;
	ck_assert_uint_eq(rd(0x0c), 0x50);   /* PF and UF, but no IRQF: nothing enabled */
	wr(0x0b, 0x12);                      /* UIE */
	fake_now += NS / 3;
	ck_assert_uint_eq(rd(0x0c), 0x40);
	fake_now += NS;
	cmos_rtc_update(rtc);
	ck_assert(irqs.level[CMOS_RTC_GSI]);
	ck_assert_uint_eq(rd(0x0c), 0xd0);
	wr(0x0b, 0x92);                      /* SET clears UIE */
	ck_assert_uint_eq(rd(0x0b), 0x82);
}
END_TEST

START_TEST(test_alarm_interrupt)
{
	wr(0x01, 0x44);   /* at :44 of any minute of any hour */
	wr(0x03, 0xff);
	wr(0x05, 0xc0);
	wr(0x0b, 0x22);   /* AIE */
	fake_now += NS;
	ck_assert_uint_eq(rd(0x0c) & 0xa0, 0);
	fake_now += NS;
	cmos_rtc_update(rtc);
	ck_assert(irqs.level[CMOS_RTC_GSI]);
	ck_assert_uint_eq(rd(0x0c) & 0xa0, 0xa0);
	fake_now += 3 * NS;                  /* passed while nobody looked: still seen */
	wr(0x01, 0x47);
	fake_now += 90 * NS;                 /* the alarm went off 30 s before this look */
	ck_assert_uint_eq(rd(0x0c) & 0xa0, 0xa0);
	fake_now += (3 * 86400 + 10) * NS;   /* days later: one look covers them */
	ck_assert_uint_eq(rd(0x0c) & 0xa0, 0xa0);
}
END_TEST

START_TEST(test_ports_and_ram)
{
	uint8_t v = 0x8d, index;

	cmos_rtc_ops.write(rtc, 0, &v, 1);   /* the NMI mask bit is not part of the index */
	cmos_rtc_ops.read(rtc, 1, &v, 1);
	ck_assert_uint_eq(v, 0x80);
	cmos_rtc_ops.read(rtc, 0, &index, 1);
	ck_assert_uint_eq(index, 0xff);
	ck_assert_int_eq(cmos_rtc_set_nvram(rtc, 0x34, 0xab), 0);
	ck_assert_uint_eq(rd(0x34), 0xab);
	wr(0x7f, 0x11);
	ck_assert_uint_eq(rd(0x7f), 0x11);
	ck_assert_int_eq(cmos_rtc_set_nvram(rtc, 0x0d, 1), -1);
	ck_assert_int_eq(cmos_rtc_set_nvram(rtc, 0x32, 1), -1);
	ck_assert_int_eq(cmos_rtc_set_nvram(rtc, 0x80, 1), -1);
	wr(0x0d, 0);
	ck_assert_uint_eq(rd(0x0d), 0x80);
	uint8_t pair[2] = { 0x35, 0x5a };    /* outw 0x70: index, then data */
	cmos_rtc_ops.write(rtc, 0, pair, 2);
	ck_assert_uint_eq(rd(0x35), 0x5a);
}
END_TEST

/* With an event loop the timer is armed only for an enabled interrupt, and not once the line is up. */
START_TEST(test_timer_only_when_enabled)
{
	struct doorbell_recorder d;
	struct itimerspec its;

	doorbell_recorder_init(&d);
	fake_now = ((int64_t)time(NULL) + 3600) * NS;
	struct cmos_rtc *r = cmos_rtc_create((struct irq_line){ &irqs.ctl, CMOS_RTC_GSI, false }, &test_clock, &d.loop);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(d.watches, 1);
	int fd = d.fd[0];
	struct cmos_rtc *saved = rtc;
	rtc = r;
	wr(0x0b, 0x02);
	timerfd_gettime(fd, &its);
	ck_assert(its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0);
	wr(0x0b, 0x42);
	timerfd_gettime(fd, &its);
	ck_assert(its.it_value.tv_sec > 0 || its.it_value.tv_nsec > 0);
	fake_now += 2000000;
	d.fn[0](d.arg[0]);   /* as if it fired: the line goes up, nothing more to wait for */
	ck_assert(irqs.level[CMOS_RTC_GSI]);
	timerfd_gettime(fd, &its);
	ck_assert(its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0);
	rd(0x0c);
	timerfd_gettime(fd, &its);
	ck_assert(its.it_value.tv_sec > 0 || its.it_value.tv_nsec > 0);
	rtc = saved;
	cmos_rtc_destroy(r);
}
END_TEST

Suite *cmos_rtc_suite(void)
{
	Suite *s = suite_create("cmos_rtc");
	TCase *tc = tcase_create("cmos_rtc");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_time_bcd_24h);
	tcase_add_test(tc, test_binary_and_12h);
	tcase_add_test(tc, test_set_holds_the_time);
	tcase_add_test(tc, test_update_in_progress);
	tcase_add_test(tc, test_periodic_interrupt);
	tcase_add_test(tc, test_update_ended_interrupt);
	tcase_add_test(tc, test_alarm_interrupt);
	tcase_add_test(tc, test_ports_and_ram);
	tcase_add_test(tc, test_timer_only_when_enabled);
	suite_add_tcase(s, tc);
	return s;
}
