/*
 * The code at the x86 reset vector (F000:FFF0). Without firmware there is
 * nothing there, yet Linux ends `reboot` on a hardware-reduced ACPI platform
 * by jumping to it: it picks the EFI reset, finds no EFI and falls back to
 * machine_real_restart(), which enters real mode and far-jumps to F000:FFF0
 * as a BIOS would want. What sits there resets the machine the PC/AT way.
 */
#ifndef BOOT_RESET_VECTOR_H
#define BOOT_RESET_VECTOR_H

#include "guest_mem.h"

/* Writes the reset stub at RESET_VECTOR_ADDR; -1 if that is not guest RAM. */
int reset_vector_write(const struct guest_mem *gm);

#endif
