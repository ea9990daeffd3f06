/* Test guest: an empty IDT turns the first exception into a triple fault. */
#include "fw.h"

void guest_main(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty = { 0, 0 };

	printf("about to triple fault\n");
	__asm__ volatile("lidt %0; ud2" : : "m"(empty));
}
