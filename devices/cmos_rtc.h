/* The PC's CMOS real-time clock and NVRAM (MC146818A) at ports 0x70/0x71; see cmos_rtc.c. */
#ifndef DEVICES_CMOS_RTC_H
#define DEVICES_CMOS_RTC_H

#include <stdint.h>

#include "bus.h"
#include "event_loop.h"
#include "irq.h"

#define CMOS_RTC_PORT_BASE 0x70
#define CMOS_RTC_PORT_LEN 2
#define CMOS_RTC_GSI 8
#define CMOS_RTC_BYTES 128

/* Where the clock's time comes from: the host's CLOCK_REALTIME, or a test's. */
struct rtc_clock {
	int64_t (*realtime_ns)(void *ctx);
	void *ctx;
};

struct cmos_rtc;

/*
 * clock NULL: the host's. loop NULL: no timer, so interrupts are raised
 * only when the guest reads the registers (tests drive cmos_rtc_update()).
 */
struct cmos_rtc *cmos_rtc_create(struct irq_line irq, const struct rtc_clock *clock, struct event_loop *loop);
void cmos_rtc_destroy(struct cmos_rtc *rtc);

/* An NVRAM byte the machine sets for firmware (memory sizes, CPU count); index 0x0e-0x7f. */
int cmos_rtc_set_nvram(struct cmos_rtc *rtc, unsigned index, uint8_t value);

/* Brings the interrupt flags up to the clock's present and the line with them (the timer calls it). */
void cmos_rtc_update(struct cmos_rtc *rtc);

/* The device on the port I/O bus: opaque is the struct cmos_rtc. */
extern const struct bus_device_ops cmos_rtc_ops;

#endif
