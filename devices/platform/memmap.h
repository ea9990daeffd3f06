/*
 * The guest physical memory map. Everything that places something in guest
 * physical memory takes its address from here.
 *
 *   0x0000_0000 .. 0x0009_FFFF  RAM (real-mode area; boot data below)
 *   0x000A_0000 .. 0x000F_FFFF  reserved (legacy VGA and BIOS; ACPI tables;
 *                               the reset vector's page)
 *   0x0010_0000 .. low RAM end  RAM (kernels load at 1 MiB and above)
 *   0xC000_0000 .. 0xFFFF_FFFF  32-bit hole for MMIO and PCI (never RAM)
 *   0x1_0000_0000 ..            RAM that did not fit below the hole
 */
#ifndef PLATFORM_MEMMAP_H
#define PLATFORM_MEMMAP_H

#include <stddef.h>
#include <stdint.h>

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* Boot data written by the loaders (boot/) in the low 640 KiB. */
#define BOOT_GDT_ADDR        0x0500ull   /* 64-bit entry: flat GDT */
#define BOOT_START_INFO_ADDR 0x6000ull   /* PVH: hvm_start_info, modlist */
#define BOOT_MEMMAP_ADDR     0x7000ull   /* PVH: memory map */
#define BOOT_PARAMS_ADDR     0x7000ull   /* bzImage: struct boot_params (zero page) */
#define BOOT_PAGE_TABLES_ADDR 0x9000ull  /* 64-bit entry: PML4, PDPT, 4 PDs */
#define BOOT_CMDLINE_ADDR    0x20000ull
#define BOOT_CMDLINE_MAX     4096ull     /* bytes, with the terminating NUL */
#define LOW_RAM_END          0xA0000ull

#define LEGACY_HOLE_START    0xA0000ull
#define ACPI_TABLES_ADDR     0xE0000ull
#define ACPI_TABLES_SIZE     0x1F000ull
/* The last page below 1 MiB holds what a real-mode jump to F000:FFF0 runs. */
#define RESET_VECTOR_PAGE    0xFF000ull
#define RESET_VECTOR_ADDR    0xFFFF0ull
#define KERNEL_MIN_ADDR      0x100000ull

#define MMIO_HOLE_START      0xC0000000ull
#define MMIO_HOLE_END        0x100000000ull
#define PCI_MMIO_BASE        0xC0000000ull   /* 32-bit BARs */
#define PCI_MMIO_SIZE        0x20000000ull
#define PCI_ECAM_BASE        0xE0000000ull   /* 256 buses */
#define PCI_ECAM_SIZE        0x10000000ull
#define PLATFORM_MMIO_BASE   0xF0000000ull   /* virtio-mmio and other devices */
#define PLATFORM_MMIO_SIZE   0x0EC00000ull
#define IOAPIC_BASE          0xFEC00000ull
#define LAPIC_BASE           0xFEE00000ull
/* Pages KVM needs on Intel hosts for real-mode emulation (KVM_SET_TSS_ADDR);
 * where QEMU puts them, below the 16 MiB a firmware image may take. */
#define KVM_IDENTITY_MAP_ADDR 0xFEFFC000ull
#define KVM_TSS_ADDR          0xFEFFD000ull
#define KVM_REAL_MODE_PAGES_SIZE 0x4000ull
/*
 * Firmware (--firmware): the image ends at 4 GiB, and its last 128 KiB
 * are also what the CPU sees at 0xE0000-0xFFFFF after reset, as on a PC.
 * The PCI window is what SeaBIOS assigns BARs in on QEMU's pc machine.
 */
#define FIRMWARE_END          MMIO_HOLE_END
#define FIRMWARE_MAX_SIZE     (16 * MiB)
#define FIRMWARE_LOW_SIZE     (128 * KiB)
#define FIRMWARE_LOW_ADDR     (1 * MiB - FIRMWARE_LOW_SIZE)
#define FIRMWARE_PCI_MMIO_BASE MMIO_HOLE_START
#define FIRMWARE_PCI_MMIO_END  IOAPIC_BASE
#define HIGH_RAM_START       MMIO_HOLE_END

#define GUEST_RAM_MIN        (8 * MiB)
#define GUEST_RAM_MAX        (1ull << 40)

/* One contiguous piece of guest RAM. */
struct ram_region {
	uint64_t gpa;
	uint64_t size;
};

struct memmap {
	struct ram_region ram[2];  /* below the hole, and above 4 GiB if any */
	unsigned nr_ram;
};

/* e820 / PVH memory map entry types */
enum e820_type {
	E820_RAM = 1,
	E820_RESERVED = 2,
	E820_ACPI = 3,
};

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

#define E820_MAX_ENTRIES 8

/* Splits ram_size bytes of RAM around the hole. */
void memmap_init(struct memmap *map, uint64_t ram_size);
/* The map the guest sees; returns the number of entries written. */
size_t memmap_e820(const struct memmap *map, struct e820_entry *out, size_t max);
/* The map firmware is given (fw_cfg's etc/e820): RAM and KVM's pages only;
 * the firmware reserves its own areas and places the ACPI tables. */
size_t memmap_firmware_e820(const struct memmap *map, struct e820_entry *out, size_t max);
/* The end of RAM below the hole. */
uint64_t memmap_low_ram_end(const struct memmap *map);

#endif
