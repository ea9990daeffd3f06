/* Test guest: echoes each line it receives on COM1 until the line "quit". */
#include "fw.h"

void guest_main(void)
{
	char line[128];
	size_t n = 0;

	printf("echo ready\n");
	for (;;) {
		int c = serial_getc();
		if (c == '\r' || c == '\n') {
			line[n] = 0;
			if (!strcmp(line, "quit"))
				break;
			printf("echo: %s\n", line);
			n = 0;
		} else if (n + 1 < sizeof(line)) {
			line[n++] = (char)c;
		}
	}
	printf("echo done\n");
}
