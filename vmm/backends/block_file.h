/*
 * A disk image opened the way QEMU's cache modes say, shared by the
 * io_uring and thread-pool engines: the file, its size, its lock and what
 * O_DIRECT needs of buffers, plus the bounce buffer for guest buffers that
 * do not meet it.
 */
#ifndef BACKENDS_BLOCK_FILE_H
#define BACKENDS_BLOCK_FILE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "block_backend.h"
#include "error.h"

/* QEMU's cache modes. */
enum block_cache {
	BLOCK_CACHE_WRITEBACK,     /* page cache, write cache on: a flush is fdatasync */
	BLOCK_CACHE_NONE,          /* O_DIRECT, write cache on: a flush is fdatasync */
	BLOCK_CACHE_WRITETHROUGH,  /* page cache, write cache off: every write durable */
	BLOCK_CACHE_DIRECTSYNC,    /* O_DIRECT, write cache off */
	BLOCK_CACHE_UNSAFE,        /* page cache, flushes ignored */
};

/* How requests reach the file (QEMU's aio=). */
enum block_aio {
	BLOCK_AIO_IO_URING,
	BLOCK_AIO_THREADS,
};

struct block_options {
	const char *path;
	enum block_cache cache;
	enum block_aio aio;
	bool readonly;
	unsigned depth;            /* requests in flight at most */
	void (*thread_start)(void);   /* optional: run first by each thread the engine starts */
};

struct block_file {
	int fd;
	uint64_t size;             /* bytes, a multiple of 512 */
	bool readonly;
	enum block_cache cache;
	bool write_cache;          /* what the guest sees (and may turn off) */
	unsigned align;            /* O_DIRECT buffer address alignment, or 1 */
	unsigned logical_block_size;
};

/*
 * What both engines keep alike, first in their state so that the ops
 * below take either: the image, the eventfd that says completions wait,
 * how many requests may be in flight, and whom to tell of completions.
 */
struct block_engine {
	struct block_file file;
	int event_fd;
	unsigned depth, inflight;
	size_t bounce_bytes;       /* in bounce buffers now, at most BLOCK_BOUNCE_MAX */
	block_complete_fn *complete;
	void *device;
};

/*
 * Bounce buffers a disk may hold at once. A request needing more than is
 * left waits (-EAGAIN) for earlier ones to finish; a device never sends a
 * request larger than this (virtio-blk: seg_max * size_max is less).
 */
#define BLOCK_BOUNCE_MAX (16u << 20)

bool block_engine_has_room(void *engine, unsigned ops);
int block_engine_watch(void *engine, struct event_loop *loop, event_fn *ready, void *arg);
void block_engine_set_completion(void *engine, block_complete_fn *fn, void *device);

/* Parses none|writeback|writethrough|directsync|unsafe; -1 if unknown. */
int block_cache_parse(const char *s, enum block_cache *out);
const char *block_cache_name(enum block_cache c);

/* Opens and locks the image (an OFD lock: no second writer, shared when read-only). */
int block_file_open(struct block_file *f, const struct block_options *o, struct vmm_error *err);
void block_file_close(struct block_file *f);
/* Whether every buffer meets O_DIRECT's alignment (always, without O_DIRECT). */
bool block_file_iov_aligned(const struct block_file *f, const struct iovec *iov, unsigned n);
/* Open flags for the mode: what the cache-mode tests check. */
int block_file_open_flags(enum block_cache cache, bool readonly);
/* Whether writes must be durable on completion (the write cache is off). */
bool block_file_writes_sync(const struct block_file *f);

size_t iov_total(const struct iovec *iov, unsigned n);
/* An aligned copy of iov's bytes (copied in when copy_in), within the budget; NULL with
 * errno EAGAIN (over budget: try again later) or ENOMEM. */
void *block_bounce_alloc(struct block_engine *e, const struct iovec *iov, unsigned n, bool copy_in);
void block_bounce_free(struct block_engine *e, void *bounce, size_t len);
void block_bounce_copy_out(const void *bounce, const struct iovec *iov, unsigned n);

#endif
