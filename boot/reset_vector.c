/* A reset vector that resets: what F000:FFF0 runs when no firmware is loaded. */
#include "reset_vector.h"

#include <stdint.h>

#include "memmap.h"

/*
 * 16-bit code: pulse the reset line through the 8042's command port (which
 * stops the VM, devices/i8042.c), and should that return, halt for good.
 *   mov al, 0xfe; out 0x64, al; cli; hlt; jmp $-1
 */
static const uint8_t reset_stub[] = { 0xb0, 0xfe, 0xe6, 0x64, 0xfa, 0xf4, 0xeb, 0xfd };

int reset_vector_write(const struct guest_mem *gm)
{
	return guest_mem_write(gm, RESET_VECTOR_ADDR, reset_stub, sizeof(reset_stub));
}
