/*
 * Decompressing a kernel payload in vmm (xz, gzip or zstd, told apart by
 * their magic numbers, as boot.rst asks of loaders that read payload_offset).
 * The output streams through a small window to a sink, which puts it where
 * it belongs (boot/elf_loader.c's ELF stream): a 60 MiB kernel never needs
 * 60 MiB of vmm's own memory.
 */
#ifndef BOOT_DECOMPRESS_H
#define BOOT_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define DECOMPRESS_MAX (1ull << 30)     /* larger output: a corrupt or hostile payload */
#define DECOMPRESS_WINDOW (1u << 20)    /* bytes handed to the sink at a time, at most */

/* Takes the next len bytes of output; returns -1 (with its own error set) to stop. */
typedef int (*decompress_sink)(void *ctx, const uint8_t *data, size_t len);

int decompress(const uint8_t *in, size_t len, decompress_sink sink, void *ctx, struct vmm_error *err);

#endif
