/* What `vmm run` was asked to build: the result of parsing the command line. */
#ifndef VMM_CONFIG_H
#define VMM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define VMM_MAX_VCPUS 254     /* xAPIC IDs in the MADT are 8-bit; 255 is broadcast */
#define VMM_DEFAULT_MEMORY (256ull << 20)

enum console_mode {
	CONSOLE_STDIO,
	CONSOLE_FILE,
	CONSOLE_NONE,
};

struct vm_config {
	const char *kernel;        /* NULL: the embedded demo guest */
	const char *initrd;
	const char *cmdline;
	unsigned vcpus;
	uint64_t memory;           /* bytes */
	enum console_mode console;
	const char *console_path;  /* CONSOLE_FILE */
	bool trace;
	bool stats;
};

#endif
