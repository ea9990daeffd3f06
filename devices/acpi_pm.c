/*
 * The fixed hardware of a (not hardware-reduced) ACPI platform, ACPI 6.5
 * section 4.8: the PM1 event block (4.8.3.1: PM1_STS, write 1 to clear;
 * PM1_EN), the PM1 control block (4.8.3.2: SCI_EN, SLP_TYP, SLP_EN) and the
 * power management timer (4.8.3.3: 24 bits at 3.579545 MHz). vmm's machine
 * under firmware needs it: the OS finds the 8259 PIC that the firmware
 * programmed, and only an OS on full ACPI takes it over and masks it.
 *
 * The platform is in ACPI mode from reset (SCI_EN reads 1, the FADT has no
 * SMI command port), raises no events and so never the SCI, and offers
 * only soft-off: SLP_EN with SLP_TYP = \_S5 stops the VM with success.
 */
#include "acpi_pm.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PM1_SCI_EN 0x0001
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP_MASK 0x1c00
#define PM1_SLP_EN 0x2000
#define PM_TMR_MASK 0xffffffu
#define NS 1000000000ll

struct acpi_pm {
	pthread_mutex_t lock;
	uint16_t status, enable, control;
	struct power_control power;
	struct acpi_pm_clock clock;
};

static int64_t host_monotonic_ns(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

struct acpi_pm *acpi_pm_create(struct power_control power, const struct acpi_pm_clock *clock)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	pthread_mutex_init(&pm->lock, NULL);
	pm->power = power;
	pm->control = PM1_SCI_EN;
	pm->clock = clock ? *clock : (struct acpi_pm_clock){ host_monotonic_ns, NULL };
	return pm;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	if (!pm)
		return;
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

static uint32_t timer_ticks(const struct acpi_pm *pm)
{
	unsigned __int128 ns = (unsigned __int128)pm->clock.monotonic_ns(pm->clock.ctx);
	return (uint32_t)(ns * ACPI_PM_TIMER_HZ / NS) & PM_TMR_MASK;
}

/* The 12 bytes as the guest would read them now. */
static void snapshot(const struct acpi_pm *pm, uint8_t regs[ACPI_PM_LEN])
{
	uint32_t tmr = timer_ticks(pm);

	memset(regs, 0, ACPI_PM_LEN);
	memcpy(regs + ACPI_PM1_EVT_OFFSET, &pm->status, 2);
	memcpy(regs + ACPI_PM1_EVT_OFFSET + 2, &pm->enable, 2);
	memcpy(regs + ACPI_PM1_CNT_OFFSET, &pm->control, 2);
	memcpy(regs + ACPI_PM_TMR_OFFSET, &tmr, 4);
}

static void acpi_pm_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	struct acpi_pm *pm = opaque;
	uint8_t regs[ACPI_PM_LEN];

	pthread_mutex_lock(&pm->lock);
	snapshot(pm, regs);
	pthread_mutex_unlock(&pm->lock);
	for (unsigned i = 0; i < size; i++)
		data[i] = offset + i < ACPI_PM_LEN ? regs[offset + i] : 0xff;
}

static void write_control(struct acpi_pm *pm, uint16_t v)
{
	pm->control = (uint16_t)((v & PM1_SLP_TYP_MASK) | PM1_SCI_EN);
	if ((v & PM1_SLP_EN) && ((v & PM1_SLP_TYP_MASK) >> PM1_SLP_TYP_SHIFT) == ACPI_PM_S5_TYPE)
		pm->power.request_stop(pm->power.ctx, 0, "guest powered off (ACPI S5)");
}

/* The written bytes of a 16-bit register at off over *reg; false if none of its bytes was written. */
static bool merge16(uint16_t *reg, const uint8_t *bytes, const bool *written, unsigned off)
{
	uint8_t cur[2];

	if (!written[off] && !written[off + 1])
		return false;
	memcpy(cur, reg, 2);
	for (unsigned i = 0; i < 2; i++)
		if (written[off + i])
			cur[i] = bytes[off + i];
	memcpy(reg, cur, 2);
	return true;
}

/* Any access width may come: each register takes the bytes that land in it. */
static void acpi_pm_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct acpi_pm *pm = opaque;
	uint8_t bytes[ACPI_PM_LEN] = { 0 };
	bool written[ACPI_PM_LEN] = { 0 };
	uint16_t clear = 0, control;

	for (unsigned i = 0; i < size && offset + i < ACPI_PM_LEN; i++) {
		bytes[offset + i] = data[i];
		written[offset + i] = true;
	}
	pthread_mutex_lock(&pm->lock);
	if (merge16(&clear, bytes, written, ACPI_PM1_EVT_OFFSET))
		pm->status &= (uint16_t)~clear;
	merge16(&pm->enable, bytes, written, ACPI_PM1_EVT_OFFSET + 2);
	control = pm->control;
	if (merge16(&control, bytes, written, ACPI_PM1_CNT_OFFSET))
		write_control(pm, control);
	pthread_mutex_unlock(&pm->lock);
}

const struct bus_device_ops acpi_pm_ops = {
	.read = acpi_pm_read,
	.write = acpi_pm_write,
};
