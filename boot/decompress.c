/*
 * Streaming decompression through a fixed window with liblzma (.xz), zlib
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

/* The window the decompressor fills, and where each filled part goes. */
struct output {
	uint8_t *buf;
	uint64_t total;
	decompress_sink sink;
	void *ctx;
	bool stopped;   /* by the sink, or by DECOMPRESS_MAX */
};

/* Hands the window's first n bytes to the sink; false when decompression must stop. */
static bool emit(struct output *o, size_t n)
{
	if (n == 0)
		return true;
	o->total += n;
	if (o->total > DECOMPRESS_MAX || o->sink(o->ctx, o->buf, n) < 0)
		o->stopped = true;
	return !o->stopped;
}

static int unxz(const uint8_t *in, size_t len, struct output *o)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret r = lzma_stream_decoder(&s, UINT64_MAX, 0);

	s.next_in = in;
	s.avail_in = len;
	while (r == LZMA_OK) {
		s.next_out = o->buf;
		s.avail_out = DECOMPRESS_WINDOW;
		r = lzma_code(&s, LZMA_FINISH);
		if (!emit(o, DECOMPRESS_WINDOW - s.avail_out))
			break;
	}
	lzma_end(&s);
	return r == LZMA_STREAM_END && !o->stopped ? 0 : -1;
}

static int gunzip(const uint8_t *in, size_t len, struct output *o)
{
	z_stream s = { .next_in = (Bytef *)in, .avail_in = (uInt)len };
	int r = len <= UINT32_MAX ? inflateInit2(&s, 16 + MAX_WBITS) : Z_DATA_ERROR;

	while (r == Z_OK) {
		s.next_out = o->buf;
		s.avail_out = DECOMPRESS_WINDOW;
		r = inflate(&s, Z_FINISH);
		if (!emit(o, DECOMPRESS_WINDOW - s.avail_out))
			break;
		if (r == Z_BUF_ERROR && s.avail_out == 0)
			r = Z_OK;   /* only out of room */
	}
	inflateEnd(&s);
	return r == Z_STREAM_END && !o->stopped ? 0 : -1;
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
		ZSTD_outBuffer dst = { o->buf, DECOMPRESS_WINDOW, 0 };
		r = ZSTD_decompressStream(d, &dst, &src);
		if (!emit(o, dst.pos))
			break;
		if (r != 0 && src.pos == len && dst.pos < dst.size)
			break;   /* truncated: all input used, room left, frame unfinished */
	}
	ZSTD_freeDStream(d);
	return r == 0 && !o->stopped ? 0 : -1;
}

int decompress(const uint8_t *in, size_t len, decompress_sink sink, void *ctx, struct vmm_error *err)
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
		struct output o = { .buf = malloc(DECOMPRESS_WINDOW), .sink = sink, .ctx = ctx };
		if (!o.buf)
			return vmm_fail(err, VMM_EXIT_RUNTIME, "no memory to decompress the kernel");
		int ret = formats[i].run(in, len, &o);
		free(o.buf);
		if (ret == 0)
			return 0;
		if (o.stopped && o.total <= DECOMPRESS_MAX)
			return -1;   /* the sink said why */
		return vmm_fail(err, VMM_EXIT_USAGE, "the %s payload is corrupt, truncated or larger than %llu MiB",
				formats[i].name, DECOMPRESS_MAX >> 20);
	}
	return vmm_fail(err, VMM_EXIT_USAGE, "payload compression not supported by vmm (it reads xz, gzip and "
			"zstd); use --kernel-decompress=guest");
}
