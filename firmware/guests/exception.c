/* Test guest: executes ud2; the runtime must report #UD and exit with failure. */
#include "fw.h"

void guest_main(void)
{
	printf("about to execute ud2\n");
	__asm__ volatile("ud2");
	printf("still running after ud2\n");
}
