/*
 * A small ACPI Machine Language writer (ACPI 6.5, chapter 20 "ACPI Machine
 * Language Specification") for the DSDT: names, integers, strings,
 * packages, buffers, scopes and devices, and the resource descriptors
 * (6.4) that _CRS buffers hold. Writes past the end of the buffer are
 * dropped and remembered in overflow, so callers check once at the end.
 */
#ifndef BOOT_AML_H
#define BOOT_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml {
	uint8_t *buf;
	size_t size, len;
	bool overflow;
};

void aml_bytes(struct aml *a, const void *p, size_t n);
/* A NameString: "\\_SB_.PCI0", "_HID"; segments shorter than 4 are padded with '_'. */
void aml_name_string(struct aml *a, const char *path);
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);
/* An EISA ID ("PNP0A08") as its compressed 32-bit integer. */
void aml_eisaid(struct aml *a, const char *id);
/* Name(name, ...): the caller writes the object next. */
void aml_name(struct aml *a, const char *name);

/* Scope, Device, Package and Buffer open a PkgLength; aml_end closes it. */
size_t aml_scope(struct aml *a, const char *name);
size_t aml_device(struct aml *a, const char *name);
size_t aml_package(struct aml *a, uint8_t nr_elements);
/* A buffer of raw bytes; aml_end also fills in its size. */
size_t aml_buffer(struct aml *a);
void aml_end(struct aml *a, size_t mark);

/* Resource descriptors, to be written inside aml_buffer() ... aml_end(). */
void aml_res_io(struct aml *a, uint16_t port, uint8_t len);
void aml_res_irq(struct aml *a, uint8_t irq);
void aml_res_memory32_fixed(struct aml *a, uint32_t base, uint32_t len);
void aml_res_interrupt(struct aml *a, uint32_t gsi, bool level, bool active_low);
void aml_res_bus_numbers(struct aml *a, uint16_t first, uint16_t last);
void aml_res_io_window(struct aml *a, uint16_t first, uint16_t last);
void aml_res_memory_window(struct aml *a, uint32_t first, uint32_t last);
void aml_res_end(struct aml *a);

#endif
