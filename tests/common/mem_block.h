/*
 * A block backend in memory, for the device tests and fuzzers: the disk is
 * a heap buffer, and each request is carried out only when it completes,
 * so a device that touches a request's guest memory after it finished, or
 * after a reset, is caught. Completions come in submit() (like io_uring's
 * page-cache hits) unless held; held ones come when the test says, directly
 * or through the device's reap (so under its lock), reap_budget at a time.
 */
#ifndef TESTS_MEM_BLOCK_H
#define TESTS_MEM_BLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "block_backend.h"

#define MEM_BLOCK_LOG 64

enum mem_block_kind { MEM_READ, MEM_WRITE, MEM_FLUSH, MEM_DISCARD, MEM_ZEROES };

struct mem_block_op;

struct mem_block {
	uint8_t *data;
	uint64_t size;
	bool readonly;
	bool write_cache;
	bool hold;                     /* completions wait: for mem_block_complete(), or reap() with budget */
	unsigned reap_budget;          /* held: how many the next reap() may complete */
	bool full;                     /* reads and writes get -EAGAIN while others are in flight */
	unsigned depth;
	unsigned inflight;             /* queued or submitted, not completed */
	struct mem_block_op *ops;      /* depth slots */
	struct mem_block_op *queued;   /* FIFO, not yet submitted */
	struct mem_block_op *submitted;
	block_complete_fn *complete;
	void *device;
	/* What was carried out, in order. */
	enum mem_block_kind log[MEM_BLOCK_LOG];
	unsigned nr_log;
	unsigned flushes;
	unsigned drains;
	unsigned zeroes_unmap;         /* write-zeroes queued with unmap (deallocate) asked */
	/* Called inside each submit(), before anything completes: a driver acting meanwhile. */
	void (*during_submit)(void *arg);
	void *during_submit_arg;
};

/* A zeroed disk of size bytes; depth requests in flight at most. */
void mem_block_init(struct mem_block *m, struct block_backend *be, uint64_t size, unsigned depth, bool readonly);
void mem_block_free(struct mem_block *m);
/* Completes up to n submitted requests (oldest first); how many. */
unsigned mem_block_complete(struct mem_block *m, unsigned n);

#endif
