/*
 * Booting through firmware (--firmware): the BIOS image in guest memory,
 * and what the firmware reads from the machine: fw_cfg files (memory map,
 * ACPI tables through the table loader, boot order, serial console) and
 * the CMOS bytes for memory sizes and the CPU count; see firmware.c.
 */
#ifndef VMM_FIRMWARE_H
#define VMM_FIRMWARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acpi.h"
#include "cmos_rtc.h"
#include "config.h"
#include "error.h"
#include "fw_cfg.h"
#include "guest_mem.h"
#include "memmap.h"

/* Debian's seabios package, then QEMU's copy of it. */
#define FIRMWARE_BIOS_PATHS { "/usr/share/seabios/bios-256k.bin", "/usr/share/qemu/bios-256k.bin" }
/* Debian's ovmf package: the code, and the variable store a new VM starts from. */
#define FIRMWARE_UEFI_CODE_PATH "/usr/share/OVMF/OVMF_CODE_4M.fd"
#define FIRMWARE_UEFI_VARS_PATH "/usr/share/OVMF/OVMF_VARS_4M.fd"
/* Where OVMF puts the PIIX4's PM registers (PcdAcpiPmBaseAddress); SeaBIOS's is ACPI_PM_PORT. */
#define FIRMWARE_OVMF_PM_BASE 0xb000

/* A firmware image in memory of its own, which guest memory maps read-only at its end below 4 GiB. */
struct firmware_image {
	uint8_t *data;
	size_t size;
	uint64_t gpa;
};

/*
 * UEFI's variable store: flash just below the code (QEMU's second pflash
 * unit). The array is the VM's own file (--firmware-vars) read into memory
 * of its own, and what the guest programs is written back to the file as it
 * happens (firmware_vars_write()); without a file, a copy of the template
 * that lasts one run.
 */
struct firmware_vars {
	uint8_t *data;
	size_t size;
	uint64_t gpa;
	int fd;                 /* the locked file, or -1: a store for one run */
};

/* "bios" and "uefi" name the installed SeaBIOS and OVMF; anything else is a path. NULL (and err) when not installed. */
const char *firmware_path(const char *spec, struct vmm_error *err);
/* Reads and checks the image: 64 KiB to FIRMWARE_MAX_SIZE, a multiple of 4 KiB. */
int firmware_load(const char *path, struct firmware_image *img, struct vmm_error *err);
void firmware_unload(struct firmware_image *img);
/* UEFI firmware (OVMF) starts with a firmware volume; a BIOS does not. */
bool firmware_is_uefi(const struct firmware_image *img);
/* Where the firmware will put ACPI's PM registers, and the FADT says so. */
uint16_t firmware_pm_base(const struct firmware_image *img);
/*
 * The variable store below code: path (created from template when it does
 * not exist yet), or with path NULL a copy of template that lasts one run.
 */
int firmware_vars_open(const char *path, const char *template_path, const struct firmware_image *code,
		       struct firmware_vars *v, struct vmm_error *err);
/* The flash's backing (struct pflash_backing): bytes of the array to the file; 0, or -1 on failure. */
int firmware_vars_write(void *ctx, uint64_t offset, const uint8_t *data, size_t len);
/* Writes the file out (fdatasync) and frees the store. */
void firmware_vars_close(struct firmware_vars *v);
/* The last 128 KiB, where the CPU runs them in real mode after reset: 0xE0000-0xFFFFF. */
int firmware_copy_low(const struct firmware_image *img, const struct guest_mem *mem, struct vmm_error *err);

/* Where each disk sits, for the boot order. */
struct firmware_disk {
	unsigned pci_slot;
};

struct firmware_setup {
	const struct memmap *map;
	unsigned nr_cpus;
	const struct acpi_config *acpi;
	const struct boot_config *boot;
	const struct firmware_disk *disks;
	unsigned nr_disks;
	uint16_t console_port;          /* SeaBIOS draws its text console there */
};

/* Fills fw_cfg with what the firmware reads. */
int firmware_fill_fw_cfg(struct fw_cfg *fc, const struct firmware_setup *s, struct vmm_error *err);
/* The NVRAM bytes of QEMU's pc machine: memory below and above 4 GiB, the CPU count. */
void firmware_fill_cmos(struct cmos_rtc *rtc, const struct memmap *map, unsigned nr_cpus);

/* The bootorder file's text for these disks in this order (bytes written, 0 if out is too small). */
size_t firmware_bootorder(const struct firmware_setup *s, char *out, size_t size);

#endif
