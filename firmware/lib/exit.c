/* Ways out of the guest that vmm and QEMU both understand. */
#include "fw.h"

#define DEBUG_EXIT_PORT 0x501
#define I8042_COMMAND 0x64
#define I8042_RESET 0xfe

void debug_exit(uint8_t code)
{
	outb(DEBUG_EXIT_PORT, code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void system_reset(void)
{
	outb(I8042_COMMAND, I8042_RESET);
	for (;;)
		__asm__ volatile("cli; hlt");
}
