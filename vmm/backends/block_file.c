/* Opening a disk image for either block engine: flags, size, lock, O_DIRECT alignment. */
#include "block_file.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECTOR 512

static const char *const cache_names[] = {
	[BLOCK_CACHE_WRITEBACK] = "writeback",
	[BLOCK_CACHE_NONE] = "none",
	[BLOCK_CACHE_WRITETHROUGH] = "writethrough",
	[BLOCK_CACHE_DIRECTSYNC] = "directsync",
	[BLOCK_CACHE_UNSAFE] = "unsafe",
};

int block_cache_parse(const char *s, enum block_cache *out)
{
	for (unsigned i = 0; i < sizeof(cache_names) / sizeof(cache_names[0]); i++) {
		if (!strcmp(s, cache_names[i])) {
			*out = (enum block_cache)i;
			return 0;
		}
	}
	return -1;
}

const char *block_cache_name(enum block_cache c)
{
	return cache_names[c];
}

static bool cache_is_direct(enum block_cache c)
{
	return c == BLOCK_CACHE_NONE || c == BLOCK_CACHE_DIRECTSYNC;
}

int block_file_open_flags(enum block_cache cache, bool readonly)
{
	return (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | (cache_is_direct(cache) ? O_DIRECT : 0);
}

bool block_file_writes_sync(const struct block_file *f)
{
	return !f->write_cache;
}

static int image_size(struct block_file *f, const char *path, struct vmm_error *err)
{
	struct stat st;

	if (fstat(f->fd, &st) < 0)
		return vmm_fail(err, VMM_EXIT_USAGE, "--disk %s: %s", path, strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(f->fd, BLKGETSIZE64, &f->size) < 0)
			return vmm_fail(err, VMM_EXIT_USAGE, "--disk %s: %s", path, strerror(errno));
	} else if (S_ISREG(st.st_mode)) {
		f->size = (uint64_t)st.st_size;
	} else {
		return vmm_fail(err, VMM_EXIT_USAGE, "--disk %s: not a regular file or block device", path);
	}
	if (f->size == 0 || f->size % SECTOR)
		return vmm_fail(err, VMM_EXIT_USAGE, "--disk %s: size %llu is not a positive multiple of 512",
				path, (unsigned long long)f->size);
	return 0;
}

static int lock_image(struct block_file *f, const char *path, struct vmm_error *err)
{
	struct flock lk = { .l_type = f->readonly ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET };

	if (fcntl(f->fd, F_OFD_SETLK, &lk) < 0)
		return vmm_fail(err, VMM_EXIT_USAGE, "--disk %s: %s", path,
				errno == EAGAIN || errno == EACCES ? "in use by another process (locked)"
								   : strerror(errno));
	return 0;
}

/* What O_DIRECT needs of buffer addresses and of offsets and lengths. */
static void direct_io_alignment(struct block_file *f)
{
	struct statx sx;

	f->align = SECTOR;
	if (statx(f->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 && (sx.stx_mask & STATX_DIOALIGN) &&
	    sx.stx_dio_offset_align) {
		f->align = sx.stx_dio_mem_align > 1 ? sx.stx_dio_mem_align : 1;
		if (sx.stx_dio_offset_align > SECTOR)
			f->logical_block_size = sx.stx_dio_offset_align;
	}
}

int block_file_open(struct block_file *f, const struct block_options *o, struct vmm_error *err)
{
	memset(f, 0, sizeof(*f));
	f->readonly = o->readonly;
	f->cache = o->cache;
	f->align = 1;
	f->logical_block_size = SECTOR;
	f->write_cache = o->cache != BLOCK_CACHE_WRITETHROUGH && o->cache != BLOCK_CACHE_DIRECTSYNC;
	/* O_NONBLOCK until the type is known: opening a FIFO would block. */
	f->fd = open(o->path, block_file_open_flags(o->cache, o->readonly) | O_NONBLOCK);
	if (f->fd < 0)
		return vmm_fail(err, VMM_EXIT_USAGE, "--disk %s: %s", o->path, strerror(errno));
	if (image_size(f, o->path, err) < 0 || lock_image(f, o->path, err) < 0)
		return -1;
	fcntl(f->fd, F_SETFL, fcntl(f->fd, F_GETFL) & ~O_NONBLOCK);
	if (cache_is_direct(o->cache))
		direct_io_alignment(f);
	return 0;
}

void block_file_close(struct block_file *f)
{
	struct flock unlock = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

	if (f->fd >= 0) {
		/*
		 * The lock belongs to the open file description, which an
		 * io_uring ring being torn down in the background can still
		 * hold after close(): unlocked here, the image is free at once.
		 */
		fcntl(f->fd, F_OFD_SETLK, &unlock);
		close(f->fd);
	}
	f->fd = -1;
}

bool block_file_iov_aligned(const struct block_file *f, const struct iovec *iov, unsigned n)
{
	for (unsigned i = 0; f->align > 1 && i < n; i++)
		if ((uintptr_t)iov[i].iov_base % f->align || iov[i].iov_len % f->logical_block_size)
			return false;
	return true;
}

size_t iov_total(const struct iovec *iov, unsigned n)
{
	size_t t = 0;
	for (unsigned i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

void *block_bounce_alloc(struct block_engine *e, const struct iovec *iov, unsigned n, bool copy_in)
{
	size_t len = iov_total(iov, n), at = 0;
	void *p;

	if (len > BLOCK_BOUNCE_MAX - e->bounce_bytes) {
		errno = len > BLOCK_BOUNCE_MAX ? ENOMEM : EAGAIN;
		return NULL;
	}
	if (posix_memalign(&p, e->file.align, len ? len : e->file.align)) {
		errno = ENOMEM;
		return NULL;
	}
	e->bounce_bytes += len;
	for (unsigned i = 0; copy_in && i < n; i++) {
		memcpy((uint8_t *)p + at, iov[i].iov_base, iov[i].iov_len);
		at += iov[i].iov_len;
	}
	return p;
}

void block_bounce_free(struct block_engine *e, void *bounce, size_t len)
{
	if (!bounce)
		return;
	free(bounce);
	e->bounce_bytes -= len;
}

void block_bounce_copy_out(const void *bounce, const struct iovec *iov, unsigned n)
{
	size_t at = 0;
	for (unsigned i = 0; i < n; at += iov[i].iov_len, i++)
		memcpy(iov[i].iov_base, (const uint8_t *)bounce + at, iov[i].iov_len);
}

bool block_engine_has_room(void *engine, unsigned ops)
{
	const struct block_engine *e = engine;
	return e->depth - e->inflight >= ops;
}

int block_engine_watch(void *engine, struct event_loop *loop, event_fn *ready, void *arg)
{
	const struct block_engine *e = engine;
	return event_watch(loop, e->event_fd, ready, arg) ? 0 : -1;
}

void block_engine_set_completion(void *engine, block_complete_fn *fn, void *device)
{
	struct block_engine *e = engine;
	e->complete = fn;
	e->device = device;
}
