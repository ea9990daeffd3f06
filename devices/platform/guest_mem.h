/*
 * Guest physical memory as device models and loaders see it: a few RAM
 * regions mapped into this process. Every access is bounds-checked; an
 * address range that is not wholly inside one region is refused.
 */
#ifndef PLATFORM_GUEST_MEM_H
#define PLATFORM_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MAX_REGIONS 4

struct guest_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct guest_mem {
	struct guest_mem_region region[GUEST_MEM_MAX_REGIONS];
	unsigned nr_regions;
};

/* Host pointer to [gpa, gpa + len), or NULL if it is not all RAM. */
void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);
/* Copies to or from guest memory; -1 if the range is not all RAM. */
int guest_mem_read(const struct guest_mem *gm, uint64_t gpa, void *buf, size_t len);
int guest_mem_write(const struct guest_mem *gm, uint64_t gpa, const void *buf, size_t len);

#endif
