/*
 * The table loader's commands, as QEMU's hw/acpi/bios-linker-loader.c
 * defines them and SeaBIOS's src/fw/romfile_loader.c runs them: 128-byte
 * little-endian entries, a command word then its fields.
 *   ALLOCATE     file[56], align u32, zone u8
 *   ADD_POINTER  dest_file[56], src_file[56], offset u32, size u8:
 *                the size-byte field at dest+offset gets src's address added
 *   ADD_CHECKSUM file[56], offset u32, start u32, length u32:
 *                the byte at offset makes [start, start+length) sum to 0
 * The tables go high in RAM, aligned as QEMU aligns its own (64: a FACS
 * would need it); the RSDP goes in the F segment, the only place SeaBIOS
 * and a legacy OS look for it. Pointers are patched before any checksum.
 */
#include "acpi_loader.h"

#include <string.h>

#define TABLES_ALIGN 64
#define RSDP_ALIGN 16
#define ACPI_HEADER_CHECKSUM 9
#define RSDP_CHECKSUM 8
#define RSDP_V1_LENGTH 20
#define RSDP_EXT_CHECKSUM 32

struct script {
	uint8_t *out;
	size_t size, used;
	int full;
};

static uint8_t *entry(struct script *s, uint32_t command)
{
	if (s->used + ACPI_LOADER_ENTRY_SIZE > s->size) {
		s->full = 1;
		return NULL;
	}
	uint8_t *e = s->out + s->used;
	memset(e, 0, ACPI_LOADER_ENTRY_SIZE);
	memcpy(e, &command, 4);
	s->used += ACPI_LOADER_ENTRY_SIZE;
	return e;
}

static void put_name(uint8_t *at, const char *name)
{
	memcpy(at, name, strlen(name) + 1);
}

static void put32(uint8_t *at, uint32_t v)
{
	memcpy(at, &v, 4);
}

static void allocate(struct script *s, const char *file, uint32_t align, uint8_t zone)
{
	uint8_t *e = entry(s, ACPI_LOADER_ALLOCATE);
	if (!e)
		return;
	put_name(e + 4, file);
	put32(e + 60, align);
	e[64] = zone;
}

static void add_pointer(struct script *s, const char *dest, const char *src, uint32_t offset, uint8_t size)
{
	uint8_t *e = entry(s, ACPI_LOADER_ADD_POINTER);
	if (!e)
		return;
	put_name(e + 4, dest);
	put_name(e + 60, src);
	put32(e + 116, offset);
	e[120] = size;
}

static void add_checksum(struct script *s, const char *file, uint32_t offset, uint32_t start, uint32_t length)
{
	uint8_t *e = entry(s, ACPI_LOADER_ADD_CHECKSUM);
	if (!e)
		return;
	put_name(e + 4, file);
	put32(e + 60, offset);
	put32(e + 64, start);
	put32(e + 68, length);
}

size_t acpi_loader_build(const struct acpi_layout *layout, uint8_t *out, size_t size)
{
	struct script s = { out, size, 0, 0 };

	allocate(&s, ACPI_LOADER_TABLES_FILE, TABLES_ALIGN, ACPI_LOADER_ZONE_HIGH);
	allocate(&s, ACPI_LOADER_RSDP_FILE, RSDP_ALIGN, ACPI_LOADER_ZONE_FSEG);
	for (unsigned i = 0; i < layout->nr_pointers; i++) {
		const struct acpi_pointer *p = &layout->pointers[i];
		add_pointer(&s, p->in_rsdp ? ACPI_LOADER_RSDP_FILE : ACPI_LOADER_TABLES_FILE,
			    ACPI_LOADER_TABLES_FILE, p->offset, p->size);
	}
	for (unsigned i = 0; i < layout->nr_tables; i++) {
		const struct acpi_extent *t = &layout->tables[i];
		add_checksum(&s, ACPI_LOADER_TABLES_FILE, t->offset + ACPI_HEADER_CHECKSUM, t->offset, t->length);
	}
	/* The first 20 bytes first: the extended checksum covers the first one's byte. */
	add_checksum(&s, ACPI_LOADER_RSDP_FILE, RSDP_CHECKSUM, 0, RSDP_V1_LENGTH);
	add_checksum(&s, ACPI_LOADER_RSDP_FILE, RSDP_EXT_CHECKSUM, 0, layout->rsdp.length);
	return s.full ? 0 : s.used;
}
