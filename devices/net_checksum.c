/* The Internet checksum (RFC 1071, with RFC 1624's folding) over scattered frames. */
#include "net_checksum.h"

#include <string.h>

uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len, int odd)
{
	uint64_t s = sum;
	size_t i = 0;

	/* A byte at an odd offset of the frame is the low half of its 16-bit word. */
	if (odd && len)
		s += p[i++];
	for (; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < len)
		s += (uint32_t)p[i] << 8;
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Calls fn on each piece of [off, off + len) of a scattered frame; returns the bytes visited. */
static size_t iov_range(const struct iovec *iov, unsigned n, size_t off, size_t len,
			void (*fn)(uint8_t *p, size_t k, size_t done, void *ctx), void *ctx)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t l = iov[i].iov_len;
		if (off >= l) {
			off -= l;
			continue;
		}
		size_t k = l - off < len - done ? l - off : len - done;
		fn((uint8_t *)iov[i].iov_base + off, k, done, ctx);
		done += k;
		off = 0;
	}
	return done;
}

static void sum_piece(uint8_t *p, size_t k, size_t done, void *ctx)
{
	uint32_t *sum = ctx;
	*sum = csum_add(*sum, p, k, (int)(done & 1));
}

uint32_t csum_iov(const struct iovec *iov, unsigned n, size_t off, size_t len)
{
	uint32_t sum = 0;

	iov_range(iov, n, off, len, sum_piece, &sum);
	return sum;
}

size_t iov_length(const struct iovec *iov, unsigned n)
{
	size_t len = 0;

	for (unsigned i = 0; i < n; i++)
		len += iov[i].iov_len;
	return len;
}

static void copy_out(uint8_t *p, size_t k, size_t done, void *buf)
{
	memcpy((uint8_t *)buf + done, p, k);
}

static void copy_in(uint8_t *p, size_t k, size_t done, void *buf)
{
	memcpy(p, (const uint8_t *)buf + done, k);
}

size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len)
{
	return iov_range(iov, n, off, len, copy_out, buf);
}

size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len)
{
	return iov_range(iov, n, off, len, copy_in, (void *)buf);
}

unsigned iov_slice(const struct iovec *src, unsigned n, size_t off, size_t len, struct iovec *dst, unsigned max)
{
	unsigned out = 0;

	for (unsigned i = 0; i < n && len && out < max; i++) {
		size_t l = src[i].iov_len;
		if (off >= l) {
			off -= l;
			continue;
		}
		size_t k = l - off < len ? l - off : len;
		dst[out++] = (struct iovec){ (uint8_t *)src[i].iov_base + off, k };
		len -= k;
		off = 0;
	}
	return out;
}
