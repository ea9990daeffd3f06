/* C entry points for the bootstrap and application processors. */
#include "fw.h"

extern uint32_t boot_start_info;

void boot_info_parse(uint32_t start_info_paddr);
void smp_ap_online(void);

__attribute__((weak)) void guest_ap_main(unsigned cpu)
{
	(void)cpu;
}

void fw_start(void)
{
	/* The loader's data may sit where we put the AP trampoline: copy it first. */
	boot_info_parse(boot_start_info);
	trap_init_cpu(0);
	serial_init();
	guest_main();
	system_reset();
}

void fw_ap_start(unsigned cpu)
{
	trap_init_cpu(cpu);
	guest_ap_main(cpu);
	smp_ap_online();
	__asm__ volatile("cli; 1: hlt; jmp 1b");
	__builtin_unreachable();
}
