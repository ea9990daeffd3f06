/*
 * Starts the application processors with the INIT-SIPI-SIPI sequence
 * (Intel SDM vol. 3, 8.4.4.1) through the local APIC's ICR.
 */
#include "fw.h"

#define LAPIC_BASE 0xfee00000ul
#define LAPIC_ID 0x20
#define LAPIC_SVR 0xf0
#define SVR_APIC_ENABLED 0x100
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310
#define LAPIC_EOI 0xb0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INITIAL 0x380
#define LAPIC_TIMER_DIVIDE 0x3e0
#define LVT_MASKED 0x10000
#define LVT_PERIODIC 0x20000
#define SPURIOUS_VECTOR 0xff
#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_DATA 0xa1
#define ICR_INIT 0x00004500
#define ICR_STARTUP 0x00004600
#define ICR_PENDING 0x00001000
#define AP_WAIT_CYCLES 2000000000ull

extern const char ap_trampoline[], ap_trampoline_end[];
static volatile unsigned cpus_online = 1;

static volatile uint32_t *lapic_reg(unsigned reg)
{
	return (volatile uint32_t *)(LAPIC_BASE + reg);
}

uint32_t lapic_id(void)
{
	return *lapic_reg(LAPIC_ID) >> 24;
}

static void send_ipi(uint8_t apic_id, uint32_t command)
{
	*lapic_reg(LAPIC_ICR_HIGH) = (uint32_t)apic_id << 24;
	*lapic_reg(LAPIC_ICR_LOW) = command;
	while (*lapic_reg(LAPIC_ICR_LOW) & ICR_PENDING)
		cpu_relax();
}

void lapic_enable(void)
{
	/* Interrupts come through the local APIC only. A BIOS that ran before
	 * us (SeaBIOS under QEMU) leaves the 8259s routing the timer to vector 8,
	 * which would look like a double fault: mask them. */
	outb(PIC_MASTER_DATA, 0xff);
	outb(PIC_SLAVE_DATA, 0xff);
	*lapic_reg(LAPIC_SVR) = SVR_APIC_ENABLED | SPURIOUS_VECTOR;
}

void lapic_eoi(void)
{
	*lapic_reg(LAPIC_EOI) = 0;
}

void lapic_timer_start(uint8_t vector, uint32_t count)
{
	*lapic_reg(LAPIC_TIMER_DIVIDE) = 0xb;   /* divide by 1 */
	*lapic_reg(LAPIC_LVT_TIMER) = LVT_PERIODIC | vector;
	*lapic_reg(LAPIC_TIMER_INITIAL) = count;
}

void lapic_timer_stop(void)
{
	*lapic_reg(LAPIC_LVT_TIMER) = LVT_MASKED;
	*lapic_reg(LAPIC_TIMER_INITIAL) = 0;
}

unsigned smp_cpu_count(void)
{
	uint8_t ids[FW_MAX_CPUS];
	int n = acpi_cpu_apic_ids(ids, FW_MAX_CPUS);
	return n > 0 ? (unsigned)n : 1;
}

void smp_ap_online(void)
{
	__atomic_add_fetch(&cpus_online, 1, __ATOMIC_RELEASE);
}

unsigned smp_start_aps(void)
{
	uint8_t ids[FW_MAX_CPUS];
	int n = acpi_cpu_apic_ids(ids, FW_MAX_CPUS);
	uint32_t self = lapic_id();
	unsigned expected = 1;

	lapic_enable();
	memcpy((void *)AP_TRAMPOLINE, ap_trampoline, (size_t)(ap_trampoline_end - ap_trampoline));
	for (int i = 0; i < n; i++) {
		if (ids[i] == self)
			continue;
		send_ipi(ids[i], ICR_INIT);
		send_ipi(ids[i], ICR_STARTUP | (AP_TRAMPOLINE >> 12));
		send_ipi(ids[i], ICR_STARTUP | (AP_TRAMPOLINE >> 12));
		expected++;
	}
	uint64_t deadline = rdtsc() + AP_WAIT_CYCLES;
	while (__atomic_load_n(&cpus_online, __ATOMIC_ACQUIRE) < expected && rdtsc() < deadline)
		cpu_relax();
	return __atomic_load_n(&cpus_online, __ATOMIC_ACQUIRE);
}
