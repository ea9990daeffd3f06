/*
 * Loading a guest, in two steps. boot_load_kernel() puts a bzImage (Linux
 * 64-bit boot protocol) or an ELF with a PVH entry, and the initrd, into
 * guest RAM: every check of those files happens there, so vmm runs it
 * before it opens /dev/kvm. boot_finish() then writes the command line, the
 * boot information the kernel reads (boot_params or hvm_start_info), the
 * ACPI tables for the machine as built and the reset vector, and says where
 * and how vCPU 0 starts.
 */
#ifndef BOOT_LOADER_H
#define BOOT_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acpi.h"
#include "blob.h"
#include "bzimage.h"
#include "error.h"
#include "guest_mem.h"
#include "memmap.h"

struct boot_request {
	const struct guest_mem *mem;
	const struct memmap *map;
	struct boot_blob kernel;
	struct boot_blob initrd;     /* data NULL: none */
	const char *cmdline;         /* the user's; NULL: empty */
	enum bzimage_decompress decompress;
	const char *linux_cmdline;   /* appended for Linux kernels only; NULL: nothing */
	const struct acpi_config *acpi;   /* boot_finish() only */
	const char *kernel_name;     /* for error messages; NULL: the built-in guest */
	const char *initrd_name;
};

/* What boot_load_kernel() loaded, for boot_finish(). */
struct boot_kernel {
	enum boot_entry_kind { BOOT_ENTRY_PVH, BOOT_ENTRY_LINUX64, BOOT_ENTRY_RESET } kind;
	uint64_t entry;
	uint64_t end;            /* first byte above the kernel */
	uint64_t initrd_max;     /* highest byte an initrd may occupy */
	uint64_t initrd_addr, initrd_size;   /* size 0: no initrd */
	bool linux_kernel;
	struct bzimage bz;       /* BOOT_ENTRY_LINUX64 only */
};

/* PVH: 32-bit protected mode, paging off, RBX = hvm_start_info.
 * LINUX64: 64-bit mode on the loader's page tables, RSI = boot_params.
 * RESET: the CPU's power-on state, running the firmware at 0xFFFFFFF0. */
struct boot_entry {
	enum boot_entry_kind kind;
	uint64_t rip;
	uint64_t info;           /* the boot information's address */
	bool linux_kernel;       /* so linux_cmdline was appended */
};

int boot_load_kernel(const struct boot_request *req, struct boot_kernel *k, struct vmm_error *err);
int boot_finish(const struct boot_request *req, const struct boot_kernel *k, struct boot_entry *entry,
		struct vmm_error *err);

#endif
