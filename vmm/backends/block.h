/* Opening a disk image behind the block backend interface, with the engine --disk aio= names. */
#ifndef BACKENDS_BLOCK_H
#define BACKENDS_BLOCK_H

#include <stddef.h>

#include "block_backend.h"
#include "block_file.h"
#include "error.h"

int block_io_uring_open(struct block_backend *be, const struct block_options *o, struct vmm_error *err);
int block_threads_open(struct block_backend *be, const struct block_options *o, struct vmm_error *err);

static inline int block_open(struct block_backend *be, const struct block_options *o, struct vmm_error *err)
{
	return o->aio == BLOCK_AIO_THREADS ? block_threads_open(be, o, err) : block_io_uring_open(be, o, err);
}

static inline void block_close(struct block_backend *be)
{
	if (be->ops)
		be->ops->close(be->ctx);
	be->ops = NULL;
}

#endif
