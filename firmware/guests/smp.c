/* Test guest: starts every processor in the MADT; each one says so. */
#include "fw.h"

void guest_ap_main(unsigned cpu)
{
	print_lock();
	printf("cpu %u online (apic id %u)\n", cpu, lapic_id());
	print_unlock();
}

void guest_main(void)
{
	unsigned want = smp_cpu_count();

	print_lock();
	printf("cpu 0 online (apic id %u), %u cpus in the MADT\n", lapic_id(), want);
	print_unlock();
	unsigned online = smp_start_aps();
	print_lock();
	printf("%u of %u cpus online\n", online, want);
	print_unlock();
	if (online != want)
		debug_exit(FW_EXIT_FAILURE);
}
