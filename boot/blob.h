/*
 * A file the loaders read. Its headers are read where it is mapped, which
 * brings only those pages into vmm's memory; its bulk (a kernel, an
 * initrd) is copied into guest RAM with pread() from the file, so it goes
 * from the page cache straight to the guest and never counts as vmm's own
 * memory. Without a file (fd < 0: the built-in guest, tests, fuzzers) the
 * copy is a memcpy from data.
 */
#ifndef BOOT_BLOB_H
#define BOOT_BLOB_H

#include <stddef.h>
#include <stdint.h>

struct boot_blob {
	const uint8_t *data;   /* NULL: no file (an initrd not given) */
	size_t len;
	int fd;                /* the same bytes as data; < 0: none */
};

/* Copies len bytes at offset of the blob to dst; -1 if the file cannot be read or is shorter. */
int boot_blob_copy(const struct boot_blob *b, uint64_t offset, void *dst, size_t len);

#endif
