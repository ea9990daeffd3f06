/*
 * Streaming decompression into a growing buffer with liblzma (.xz), zlib
 * (gzip) and libzstd (zstd frames), the formats Linux kernels are
 * commonly compressed with.
 */
#include "decompress.h"

#include <lzma.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

struct output {
	uint8_t *buf;
	size_t len, size;
};

/* Makes room for more output; false when the limit or memory runs out. */
static bool grow(struct output *o, size_t hint)
{
	size_t want = o->size ? o->size * 2 : (hint < 1024 * 1024 ? 1024 * 1024 : hint * 4);

	if (o->size >= DECOMPRESS_MAX)
		return false;
	if (want > DECOMPRESS_MAX)
		want = DECOMPRESS_MAX;
	uint8_t *b = realloc(o->buf, want);
	if (!b)
		return false;
	o->buf = b;
	o->size = want;
	return true;
}

static int unxz(const uint8_t *in, size_t len, struct output *o)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret r = lzma_stream_decoder(&s, UINT64_MAX, 0);

	s.next_in = in;
	s.avail_in = len;
	while (r == LZMA_OK) {
		if (o->len == o->size && !grow(o, len))
			break;
		s.next_out = o->buf + o->len;
		s.avail_out = o->size - o->len;
		r = lzma_code(&s, LZMA_FINISH);
		o->len = o->size - s.avail_out;
	}
	lzma_end(&s);
	return r == LZMA_STREAM_END ? 0 : -1;
}

static int gunzip(const uint8_t *in, size_t len, struct output *o)
{
	z_stream s = { .next_in = (Bytef *)in, .avail_in = (uInt)len };
	int r = len <= UINT32_MAX ? inflateInit2(&s, 16 + MAX_WBITS) : Z_DATA_ERROR;

	while (r == Z_OK) {
		if (o->len == o->size && !grow(o, len))
			break;
		size_t room = o->size - o->len;
		s.next_out = o->buf + o->len;
		s.avail_out = room > UINT32_MAX ? UINT32_MAX : (uInt)room;
		uInt before = s.avail_out;
		r = inflate(&s, Z_FINISH);
		o->len += before - s.avail_out;
		if (r == Z_BUF_ERROR && s.avail_out == 0)
			r = Z_OK;   /* only out of room */
	}
	inflateEnd(&s);
	return r == Z_STREAM_END ? 0 : -1;
}

static int unzstd(const uint8_t *in, size_t len, struct output *o)
{
	ZSTD_DStream *d = ZSTD_createDStream();
	ZSTD_inBuffer src = { in, len, 0 };
	size_t r = 1;   /* ZSTD_decompressStream returns 0 once the frame is complete */

	if (!d)
		return -1;
	ZSTD_initDStream(d);
	while (r != 0 && !ZSTD_isError(r)) {
		if (o->len == o->size && !grow(o, len))
			break;
		ZSTD_outBuffer dst = { o->buf, o->size, o->len };
		r = ZSTD_decompressStream(d, &dst, &src);
		o->len = dst.pos;
		if (r != 0 && src.pos == len && dst.pos < dst.size)
			break;   /* truncated: all input used, room left, frame unfinished */
	}
	ZSTD_freeDStream(d);
	return r == 0 ? 0 : -1;
}

int decompress(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len, struct vmm_error *err)
{
	static const struct {
		const char *name;
		uint8_t magic[6];
		size_t magic_len;
		int (*run)(const uint8_t *, size_t, struct output *);
	} formats[] = {
		{ "xz", { 0xfd, '7', 'z', 'X', 'Z', 0 }, 6, unxz },
		{ "gzip", { 0x1f, 0x8b }, 2, gunzip },
		{ "zstd", { 0x28, 0xb5, 0x2f, 0xfd }, 4, unzstd },
	};

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (len < formats[i].magic_len || memcmp(in, formats[i].magic, formats[i].magic_len))
			continue;
		struct output o = { 0 };
		if (formats[i].run(in, len, &o) < 0) {
			free(o.buf);
			return vmm_fail(err, VMM_EXIT_USAGE, "the %s payload is corrupt, truncated or larger than %llu MiB",
					formats[i].name, DECOMPRESS_MAX >> 20);
		}
		*out = o.buf;
		*out_len = o.len;
		return 0;
	}
	return vmm_fail(err, VMM_EXIT_USAGE, "payload compression not supported by vmm (it reads xz, gzip and "
			"zstd); use --kernel-decompress=guest");
}
