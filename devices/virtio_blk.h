/* virtio-blk device model; see virtio_blk.c. */
#ifndef DEVICES_VIRTIO_BLK_H
#define DEVICES_VIRTIO_BLK_H

#include "block_backend.h"
#include "platform.h"
#include "virtio.h"

#define VIRTIO_ID_BLOCK 2
#define VIRTIO_BLK_ID_BYTES 20

struct virtio_blk;

/* The device takes over the backend's completion callback, and with a loop
 * in p has its completions run there. */
struct virtio_blk *virtio_blk_create(const struct platform *p, const struct block_backend *be,
				     unsigned nr_queues, const char *serial);
void virtio_blk_destroy(struct virtio_blk *blk);
struct virtio_dev *virtio_blk_dev(struct virtio_blk *blk);
/* Runs backend completions: the loop calls it when the backend has some. */
void virtio_blk_complete_io(void *blk);

#endif
