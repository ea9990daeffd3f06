/*
 * Decompressing a kernel payload in vmm (xz, gzip or zstd, told apart by
 * their magic numbers, as boot.rst asks of loaders that read payload_offset).
 */
#ifndef BOOT_DECOMPRESS_H
#define BOOT_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define DECOMPRESS_MAX (1ull << 30)   /* larger output: a corrupt or hostile payload */

/* On success *out is malloc'ed and holds *out_len bytes. */
int decompress(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len, struct vmm_error *err);

#endif
