/*
 * The PC's CMOS clock: a Motorola MC146818A real-time clock with 128 bytes
 * of battery-backed RAM (the MC146818A data sheet; QEMU's
 * hw/rtc/mc146818rtc.c for what PC firmware expects of it). Port 0x70
 * picks a register (bit 7 is the NMI mask, which a VM has no use for),
 * port 0x71 reads or writes it.
 *
 *   0x00-0x09  seconds, alarm seconds, minutes, alarm minutes, hours, alarm
 *              hours, day of week, day of month, month, year; 0x32 century
 *   0x0a (A)   update in progress (bit 7, read-only), divider, rate select
 *   0x0b (B)   SET, interrupt enables (periodic, alarm, update-ended),
 *              binary (else BCD) and 24-hour (else 12-hour) formats
 *   0x0c (C)   interrupt flags; reading them clears them and lowers IRQ 8
 *   0x0d (D)   valid RAM and time (always)
 *   0x0e-0x7f  RAM: what the firmware reads (memory sizes, CPU count, boot
 *              order) is set by the machine
 *
 * The time is the host's clock plus the offset the guest set (held still
 * while B.SET is on, as the chip's updates stop). Interrupt flags are
 * worked out from the clock whenever they are read or a timer armed for
 * the next enabled event fires, so a guest that enables nothing costs no
 * timer at all, and a 1024 Hz periodic interrupt nobody acknowledges
 * costs one wake-up.
 */
#include "cmos_rtc.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define NS 1000000000ll

#define REG_SECONDS 0x00
#define REG_ALARM_SECONDS 0x01
#define REG_MINUTES 0x02
#define REG_ALARM_MINUTES 0x03
#define REG_HOURS 0x04
#define REG_ALARM_HOURS 0x05
#define REG_DAY_OF_WEEK 0x06
#define REG_DAY 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define REG_RAM_FIRST 0x0e
#define REG_CENTURY 0x32

#define A_UIP 0x80
#define A_DIVIDER 0x70
#define A_DIVIDER_32K 0x20             /* the time base runs */
#define A_RATE 0x0f
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_BINARY 0x04
#define B_24H 0x02
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10
#define D_VRT 0x80
#define HOUR_PM 0x80
#define ALARM_ANY 0xc0                 /* an alarm byte 0xc0-0xff matches every value */
#define UIP_NS 244000                  /* UIP is up for the last 244 us of each second */
#define DAY_SECONDS 86400

struct cmos_rtc {
	pthread_mutex_t lock;
	struct irq_line irq;
	struct rtc_clock clock;
	struct event_loop *loop;
	int timer_fd;
	uint8_t index;
	uint8_t ram[CMOS_RTC_BYTES];       /* A, B, the alarms and RAM; the time is worked out */
	int64_t offset_s;                  /* the guest's time minus the host's */
	int64_t frozen_s;                  /* while B.SET: the time being set */
	int64_t seen_ns;                   /* the flags say what happened up to here */
	uint8_t flags;                     /* C's PF, AF and UF */
};

static int64_t host_realtime_ns(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static int64_t now_ns(const struct cmos_rtc *rtc)
{
	return rtc->clock.realtime_ns(rtc->clock.ctx);
}

static bool is_set(const struct cmos_rtc *rtc)
{
	return rtc->ram[REG_B] & B_SET;
}

static bool running(const struct cmos_rtc *rtc)
{
	return (rtc->ram[REG_A] & A_DIVIDER) == A_DIVIDER_32K;
}

static int64_t guest_seconds(const struct cmos_rtc *rtc, int64_t now)
{
	return is_set(rtc) ? rtc->frozen_s : now / NS + rtc->offset_s;
}

static uint8_t encode(const struct cmos_rtc *rtc, int v)
{
	return rtc->ram[REG_B] & B_BINARY ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static int decode(const struct cmos_rtc *rtc, uint8_t v)
{
	return rtc->ram[REG_B] & B_BINARY ? v : (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t encode_hours(const struct cmos_rtc *rtc, int h)
{
	if (rtc->ram[REG_B] & B_24H)
		return encode(rtc, h);
	return encode(rtc, h % 12 ? h % 12 : 12) | (h >= 12 ? HOUR_PM : 0);
}

static int decode_hours(const struct cmos_rtc *rtc, uint8_t v)
{
	if (rtc->ram[REG_B] & B_24H)
		return decode(rtc, v);
	return decode(rtc, (uint8_t)(v & ~HOUR_PM)) % 12 + (v & HOUR_PM ? 12 : 0);
}

/*
 * Days since 1970-01-01 and back, in the proleptic Gregorian calendar (the
 * algorithms of H. Hinnant's "chrono-Compatible Low-Level Date Algorithms").
 * Not gmtime_r() and timegm(): glibc reads /etc/localtime the first time
 * either runs, and these run on vCPU threads, which may not open files.
 */
static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y += floor_div(m - 1, 12);
	m -= 12 * floor_div(m - 1, 12);
	y -= m <= 2;
	int64_t era = floor_div(y, 400), yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static struct tm broken_down(int64_t seconds)
{
	int64_t days = floor_div(seconds, 86400), secs = seconds - days * 86400;
	int64_t z = days + 719468, era = floor_div(z, 146097), doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	int64_t month = mp < 10 ? mp + 3 : mp - 9;
	struct tm tm = {
		.tm_sec = (int)(secs % 60), .tm_min = (int)(secs / 60 % 60), .tm_hour = (int)(secs / 3600),
		.tm_mday = (int)(doy - (153 * mp + 2) / 5 + 1), .tm_mon = (int)month - 1,
		.tm_year = (int)(yoe + era * 400 + (month <= 2) - 1900),
		.tm_wday = (int)(days - 7 * floor_div(days + 4, 7) + 4),   /* 1970-01-01 was a Thursday */
	};
	return tm;
}

static int64_t seconds_of(const struct tm *tm)
{
	return (days_from_civil(tm->tm_year + 1900ll, tm->tm_mon + 1ll, tm->tm_mday) * 24 + tm->tm_hour) * 3600 +
	       tm->tm_min * 60ll + tm->tm_sec;
}

/* Periodic interrupt period from the rate select bits (data sheet table 5, 32.768 kHz); 0: none. */
static int64_t period_ns(const struct cmos_rtc *rtc)
{
	unsigned rs = rtc->ram[REG_A] & A_RATE;

	if (rs == 0)
		return 0;
	unsigned shift = rs < 3 ? rs + 6 : rs - 1;
	return (int64_t)(((uint64_t)1 << shift) * NS / 32768);
}

static bool alarm_byte_matches(uint8_t alarm, uint8_t now)
{
	return (alarm & ALARM_ANY) == ALARM_ANY || alarm == now;
}

static bool alarm_at(const struct cmos_rtc *rtc, int64_t seconds)
{
	struct tm tm = broken_down(seconds);

	return alarm_byte_matches(rtc->ram[REG_ALARM_SECONDS], encode(rtc, tm.tm_sec)) &&
	       alarm_byte_matches(rtc->ram[REG_ALARM_MINUTES], encode(rtc, tm.tm_min)) &&
	       alarm_byte_matches(rtc->ram[REG_ALARM_HOURS], encode_hours(rtc, tm.tm_hour));
}

/* What happened between the last look and now: periodic ticks, second updates, the alarm. */
static void update_flags(struct cmos_rtc *rtc, int64_t now)
{
	int64_t from = rtc->seen_ns, period = period_ns(rtc);

	if (now <= from)
		return;
	rtc->seen_ns = now;
	if (!running(rtc))
		return;
	if (period && now / period > from / period)
		rtc->flags |= C_PF;
	if (is_set(rtc) || now / NS == from / NS)
		return;
	rtc->flags |= C_UF;
	/* A day of updates covers every alarm; older ones could not say more. */
	for (int64_t s = now / NS; s > from / NS && now / NS - s < DAY_SECONDS; s--) {
		if (alarm_at(rtc, s + rtc->offset_s)) {
			rtc->flags |= C_AF;
			break;
		}
	}
}

static bool irq_wanted(const struct cmos_rtc *rtc)
{
	uint8_t b = rtc->ram[REG_B];

	return ((rtc->flags & C_PF) && (b & B_PIE)) || ((rtc->flags & C_AF) && (b & B_AIE)) ||
	       ((rtc->flags & C_UF) && (b & B_UIE));
}

/* The next moment an enabled interrupt can come, for the timer; 0: none, or the line is up already. */
static int64_t next_event(const struct cmos_rtc *rtc, int64_t now)
{
	uint8_t b = rtc->ram[REG_B];
	int64_t period = period_ns(rtc), next = 0;

	if (irq_wanted(rtc) || !running(rtc))
		return 0;
	if ((b & B_PIE) && period)
		next = (now / period + 1) * period;
	if ((b & (B_AIE | B_UIE)) && !is_set(rtc) && (!next || (now / NS + 1) * NS < next))
		next = (now / NS + 1) * NS;
	return next;
}

static void arm_timer(struct cmos_rtc *rtc, int64_t at)
{
	struct itimerspec its = { .it_value = { (time_t)(at / NS), (long)(at % NS) } };

	if (rtc->timer_fd >= 0)
		timerfd_settime(rtc->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* The flags brought up to now, the line set from them, the timer at the next event. */
static void refresh(struct cmos_rtc *rtc)
{
	int64_t now = now_ns(rtc);

	update_flags(rtc, now);
	irq_line_set(&rtc->irq, irq_wanted(rtc));
	arm_timer(rtc, next_event(rtc, now));
}

void cmos_rtc_update(struct cmos_rtc *rtc)
{
	pthread_mutex_lock(&rtc->lock);
	refresh(rtc);
	pthread_mutex_unlock(&rtc->lock);
}

static void timer_fired(void *arg)
{
	struct cmos_rtc *rtc = arg;
	uint64_t expirations;

	if (read(rtc->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return;
	cmos_rtc_update(rtc);
}

static uint8_t read_time(const struct cmos_rtc *rtc, unsigned index, int64_t now)
{
	struct tm tm = broken_down(guest_seconds(rtc, now));

	switch (index) {
	case REG_SECONDS:
		return encode(rtc, tm.tm_sec);
	case REG_MINUTES:
		return encode(rtc, tm.tm_min);
	case REG_HOURS:
		return encode_hours(rtc, tm.tm_hour);
	case REG_DAY_OF_WEEK:
		return encode(rtc, tm.tm_wday + 1);
	case REG_DAY:
		return encode(rtc, tm.tm_mday);
	case REG_MONTH:
		return encode(rtc, tm.tm_mon + 1);
	case REG_YEAR:
		return encode(rtc, (tm.tm_year + 1900) % 100);
	default:
		return encode(rtc, (tm.tm_year + 1900) / 100 % 100);
	}
}

/* The guest sets one field of the date or time; the others stay as they read. */
static void write_time(struct cmos_rtc *rtc, unsigned index, uint8_t v, int64_t now)
{
	struct tm tm = broken_down(guest_seconds(rtc, now));
	int year = tm.tm_year + 1900;

	switch (index) {
	case REG_SECONDS:
		tm.tm_sec = decode(rtc, v);
		break;
	case REG_MINUTES:
		tm.tm_min = decode(rtc, v);
		break;
	case REG_HOURS:
		tm.tm_hour = decode_hours(rtc, v);
		break;
	case REG_DAY:
		tm.tm_mday = decode(rtc, v);
		break;
	case REG_MONTH:
		tm.tm_mon = decode(rtc, v) - 1;
		break;
	case REG_YEAR:
		tm.tm_year = year / 100 * 100 + decode(rtc, v) % 100 - 1900;
		break;
	case REG_CENTURY:
		tm.tm_year = decode(rtc, v) % 100 * 100 + year % 100 - 1900;
		break;
	default:
		return;   /* the day of the week follows from the date */
	}
	int64_t t = seconds_of(&tm);
	if (is_set(rtc))
		rtc->frozen_s = t;
	else
		rtc->offset_s = t - now / NS;
}

static void write_b(struct cmos_rtc *rtc, uint8_t v, int64_t now)
{
	if ((v & B_SET) && !is_set(rtc))
		rtc->frozen_s = guest_seconds(rtc, now);
	else if (!(v & B_SET) && is_set(rtc))
		rtc->offset_s = rtc->frozen_s - now / NS;
	rtc->ram[REG_B] = v & B_SET ? (uint8_t)(v & ~B_UIE) : v;   /* SET turns update interrupts off */
}

static bool is_time(unsigned index)
{
	return index <= REG_YEAR ? index != REG_ALARM_SECONDS && index != REG_ALARM_MINUTES &&
				   index != REG_ALARM_HOURS : index == REG_CENTURY;
}

static uint8_t read_register(struct cmos_rtc *rtc, unsigned index)
{
	int64_t now = now_ns(rtc);

	if (is_time(index))
		return read_time(rtc, index, now);
	switch (index) {
	case REG_A:
		return rtc->ram[REG_A] | (running(rtc) && !is_set(rtc) && now % NS >= NS - UIP_NS ? A_UIP : 0);
	case REG_C: {
		update_flags(rtc, now);
		uint8_t c = rtc->flags | (irq_wanted(rtc) ? C_IRQF : 0);
		rtc->flags = 0;
		irq_line_set(&rtc->irq, false);
		arm_timer(rtc, next_event(rtc, now));
		return c;
	}
	case REG_D:
		return D_VRT;
	default:
		return rtc->ram[index];
	}
}

static void write_register(struct cmos_rtc *rtc, unsigned index, uint8_t v)
{
	int64_t now = now_ns(rtc);

	update_flags(rtc, now);   /* what happened so far happened under the old settings */
	if (is_time(index))
		write_time(rtc, index, v, now);
	else if (index == REG_A)
		rtc->ram[REG_A] = v & ~A_UIP;
	else if (index == REG_B)
		write_b(rtc, v, now);
	else if (index != REG_C && index != REG_D)
		rtc->ram[index] = v;
	refresh(rtc);
}

static void cmos_rtc_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	struct cmos_rtc *rtc = opaque;

	pthread_mutex_lock(&rtc->lock);
	for (unsigned i = 0; i < size; i++)
		data[i] = offset + i == 1 ? read_register(rtc, rtc->index) : 0xff;   /* the index reads as 0xff */
	pthread_mutex_unlock(&rtc->lock);
}

static void cmos_rtc_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct cmos_rtc *rtc = opaque;

	pthread_mutex_lock(&rtc->lock);
	for (unsigned i = 0; i < size; i++) {
		if (offset + i == 0)
			rtc->index = data[i] & 0x7f;
		else if (offset + i == 1)
			write_register(rtc, rtc->index, data[i]);
	}
	pthread_mutex_unlock(&rtc->lock);
}

const struct bus_device_ops cmos_rtc_ops = {
	.read = cmos_rtc_read,
	.write = cmos_rtc_write,
};

struct cmos_rtc *cmos_rtc_create(struct irq_line irq, const struct rtc_clock *clock, struct event_loop *loop)
{
	struct cmos_rtc *rtc = calloc(1, sizeof(*rtc));

	if (!rtc)
		return NULL;
	pthread_mutex_init(&rtc->lock, NULL);
	rtc->irq = irq;
	rtc->clock = clock ? *clock : (struct rtc_clock){ host_realtime_ns, NULL };
	rtc->loop = loop;
	rtc->timer_fd = -1;
	rtc->ram[REG_A] = A_DIVIDER_32K | 0x06;   /* 1024 Hz periodic rate, as at power-on under QEMU */
	rtc->ram[REG_B] = B_24H;
	rtc->seen_ns = now_ns(rtc);
	if (loop) {
		rtc->timer_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
		if (rtc->timer_fd < 0 || !event_watch(loop, rtc->timer_fd, timer_fired, rtc)) {
			cmos_rtc_destroy(rtc);
			return NULL;
		}
	}
	return rtc;
}

void cmos_rtc_destroy(struct cmos_rtc *rtc)
{
	if (!rtc)
		return;
	if (rtc->timer_fd >= 0)
		close(rtc->timer_fd);
	pthread_mutex_destroy(&rtc->lock);
	free(rtc);
}

int cmos_rtc_set_nvram(struct cmos_rtc *rtc, unsigned index, uint8_t value)
{
	if (index < REG_RAM_FIRST || index >= CMOS_RTC_BYTES || index == REG_CENTURY)
		return -1;
	pthread_mutex_lock(&rtc->lock);
	rtc->ram[index] = value;
	pthread_mutex_unlock(&rtc->lock);
	return 0;
}
