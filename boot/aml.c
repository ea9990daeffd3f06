/* AML writer; see aml.h. Opcodes are from ACPI 6.5, 20.3. */
#include "aml.h"

#include <string.h>

#define AML_ZERO_OP     0x00
#define AML_ONE_OP      0x01
#define AML_NAME_OP     0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_QWORD_PREFIX 0x0e
#define AML_SCOPE_OP    0x10
#define AML_BUFFER_OP   0x11
#define AML_PACKAGE_OP  0x12
#define AML_EXT_OP      0x5b
#define AML_DEVICE_OP   0x82   /* after AML_EXT_OP */
#define AML_ROOT_CHAR   '\\'
#define AML_DUAL_NAME   0x2e
#define AML_MULTI_NAME  0x2f
#define PKG_LENGTH_MAX_BYTES 4
#define BUFFER_SIZE_BYTES 5    /* the DWordConst that aml_end fills in */

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->overflow || n > a->size - a->len) {
		a->overflow = true;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void aml_le(struct aml *a, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

static void name_segment(struct aml *a, const char *seg, size_t n)
{
	for (size_t i = 0; i < 4; i++)
		aml_byte(a, i < n ? (uint8_t)seg[i] : '_');
}

void aml_name_string(struct aml *a, const char *path)
{
	size_t nsegs = 1;

	if (*path == AML_ROOT_CHAR) {
		aml_byte(a, AML_ROOT_CHAR);
		path++;
	}
	for (const char *p = path; *p; p++)
		nsegs += *p == '.';
	if (nsegs == 2)
		aml_byte(a, AML_DUAL_NAME);
	else if (nsegs > 2) {
		aml_byte(a, AML_MULTI_NAME);
		aml_byte(a, (uint8_t)nsegs);
	}
	while (*path) {
		size_t n = strcspn(path, ".");
		name_segment(a, path, n < 4 ? n : 4);
		path += n + (path[n] == '.');
	}
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v <= 1) {
		aml_byte(a, v ? AML_ONE_OP : AML_ZERO_OP);
	} else if (v <= 0xff) {
		aml_byte(a, AML_BYTE_PREFIX);
		aml_le(a, v, 1);
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD_PREFIX);
		aml_le(a, v, 2);
	} else if (v <= 0xffffffff) {
		aml_byte(a, AML_DWORD_PREFIX);
		aml_le(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		aml_le(a, v, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

static unsigned hex_digit(char c)
{
	return (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10) & 0xf;
}

void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v = ((uint32_t)(id[0] - 0x40) << 26) | ((uint32_t)(id[1] - 0x40) << 21) |
		     ((uint32_t)(id[2] - 0x40) << 16) | (hex_digit(id[3]) << 12) | (hex_digit(id[4]) << 8) |
		     (hex_digit(id[5]) << 4) | hex_digit(id[6]);

	aml_integer(a, __builtin_bswap32(v));
}

void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, AML_NAME_OP);
	aml_name_string(a, name);
}

/* Room for the longest PkgLength; aml_end() shrinks it to fit. */
static size_t open_pkg(struct aml *a)
{
	size_t mark = a->len;

	aml_le(a, 0, PKG_LENGTH_MAX_BYTES);
	return mark;
}

size_t aml_scope(struct aml *a, const char *name)
{
	aml_byte(a, AML_SCOPE_OP);
	size_t mark = open_pkg(a);
	aml_name_string(a, name);
	return mark;
}

size_t aml_device(struct aml *a, const char *name)
{
	aml_byte(a, AML_EXT_OP);
	aml_byte(a, AML_DEVICE_OP);
	size_t mark = open_pkg(a);
	aml_name_string(a, name);
	return mark;
}

size_t aml_package(struct aml *a, uint8_t nr_elements)
{
	aml_byte(a, AML_PACKAGE_OP);
	size_t mark = open_pkg(a);
	aml_byte(a, nr_elements);
	return mark;
}

size_t aml_buffer(struct aml *a)
{
	aml_byte(a, AML_BUFFER_OP);
	size_t mark = open_pkg(a);
	aml_byte(a, AML_DWORD_PREFIX);
	aml_le(a, 0, 4);
	return mark;
}

void aml_end(struct aml *a, size_t mark)
{
	if (a->overflow)
		return;
	uint8_t *content = a->buf + mark + PKG_LENGTH_MAX_BYTES;
	size_t len = a->len - mark - PKG_LENGTH_MAX_BYTES;
	unsigned k = len + 1 < 0x40 ? 1 : len + 2 < 0x1000 ? 2 : len + 3 < 0x100000 ? 3 : 4;
	size_t total = len + k;

	if (a->buf[mark - 1] == AML_BUFFER_OP) {
		uint32_t size = (uint32_t)(len - BUFFER_SIZE_BYTES);
		memcpy(content + 1, &size, 4);
	}
	if (k == 1) {
		a->buf[mark] = (uint8_t)total;
	} else {
		a->buf[mark] = (uint8_t)(((k - 1) << 6) | (total & 0xf));
		for (unsigned i = 1; i < k; i++)
			a->buf[mark + i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	}
	memmove(a->buf + mark + k, content, len);
	a->len -= PKG_LENGTH_MAX_BYTES - k;
}

/* ACPI 6.5, 6.4.2 small and 6.4.3 large resource data types. */
#define RES_IRQ_NO_FLAGS 0x22
#define RES_IO           0x47
#define RES_END          0x79
#define RES_MEMORY32_FIXED 0x86
#define RES_DWORD_SPACE  0x87
#define RES_WORD_SPACE   0x88
#define RES_EXT_IRQ      0x89
#define SPACE_MEMORY 0
#define SPACE_IO 1
#define SPACE_BUS 2
#define WINDOW_FLAGS 0x0c      /* producer, positive decode, min and max fixed */

void aml_res_io(struct aml *a, uint16_t port, uint8_t len)
{
	aml_byte(a, RES_IO);
	aml_byte(a, 1);   /* 16-bit decode */
	aml_le(a, port, 2);
	aml_le(a, port, 2);
	aml_byte(a, 1);
	aml_byte(a, len);
}

void aml_res_irq(struct aml *a, uint8_t irq)
{
	aml_byte(a, RES_IRQ_NO_FLAGS);
	aml_le(a, 1u << irq, 2);
}

void aml_res_memory32_fixed(struct aml *a, uint32_t base, uint32_t len)
{
	aml_byte(a, RES_MEMORY32_FIXED);
	aml_le(a, 9, 2);
	aml_byte(a, 1);   /* read/write */
	aml_le(a, base, 4);
	aml_le(a, len, 4);
}

void aml_res_interrupt(struct aml *a, uint32_t gsi, bool level, bool active_low)
{
	aml_byte(a, RES_EXT_IRQ);
	aml_le(a, 6, 2);
	aml_byte(a, (uint8_t)(1 | (level ? 0 : 2) | (active_low ? 4 : 0)));   /* consumer, exclusive */
	aml_byte(a, 1);
	aml_le(a, gsi, 4);
}

static void word_space(struct aml *a, uint8_t type, uint8_t type_flags, uint16_t first, uint16_t last)
{
	aml_byte(a, RES_WORD_SPACE);
	aml_le(a, 13, 2);
	aml_byte(a, type);
	aml_byte(a, WINDOW_FLAGS);
	aml_byte(a, type_flags);
	aml_le(a, 0, 2);   /* granularity */
	aml_le(a, first, 2);
	aml_le(a, last, 2);
	aml_le(a, 0, 2);   /* translation */
	aml_le(a, (uint16_t)(last - first + 1), 2);
}

void aml_res_bus_numbers(struct aml *a, uint16_t first, uint16_t last)
{
	word_space(a, SPACE_BUS, 0, first, last);
}

void aml_res_io_window(struct aml *a, uint16_t first, uint16_t last)
{
	word_space(a, SPACE_IO, 3, first, last);   /* ISA and non-ISA ranges */
}

void aml_res_memory_window(struct aml *a, uint32_t first, uint32_t last)
{
	aml_byte(a, RES_DWORD_SPACE);
	aml_le(a, 23, 2);
	aml_byte(a, SPACE_MEMORY);
	aml_byte(a, WINDOW_FLAGS);
	aml_byte(a, 1);   /* read/write, not cacheable */
	aml_le(a, 0, 4);
	aml_le(a, first, 4);
	aml_le(a, last, 4);
	aml_le(a, 0, 4);
	aml_le(a, last - first + 1, 4);
}

void aml_res_end(struct aml *a)
{
	aml_byte(a, RES_END);
	aml_byte(a, 0);   /* checksum 0: "treated as if the checksum operation succeeded" */
}
