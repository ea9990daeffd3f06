/*
 * The Internet checksum (RFC 1071) and byte ranges of scattered frames, for
 * NIC models that carry out checksum and segmentation offloads themselves
 * when their backend cannot.
 */
#ifndef DEVICES_NET_CHECKSUM_H
#define DEVICES_NET_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Adds len bytes at p to a running one's-complement sum; odd says whether p starts at an odd offset. */
uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len, int odd);
/* The 16-bit one's-complement sum, folded (not inverted). */
uint16_t csum_fold(uint32_t sum);
/* The sum over [off, off + len) of a scattered frame. */
uint32_t csum_iov(const struct iovec *iov, unsigned n, size_t off, size_t len);

size_t iov_length(const struct iovec *iov, unsigned n);
/* Copies [off, off + len) of the frame to buf; returns the bytes copied. */
size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len);
/* Copies buf into the frame at off; returns the bytes copied. */
size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len);
/* dst describes [off, off + len) of src; returns its entries (at most max). */
unsigned iov_slice(const struct iovec *src, unsigned n, size_t off, size_t len, struct iovec *dst, unsigned max);

#endif
