/* The virtio-mmio transport, version 2; see virtio_mmio.c. */
#ifndef DEVICES_VIRTIO_MMIO_H
#define DEVICES_VIRTIO_MMIO_H

#include "platform.h"
#include "virtio.h"

#define VIRTIO_MMIO_SIZE 0x200

struct virtio_mmio;

/* Places the device at base on the platform's MMIO bus, interrupting on gsi. Without
 * ioevents and a loop in p, queue kicks arrive as MMIO exits. */
struct virtio_mmio *virtio_mmio_create(struct virtio_dev *vdev, const struct platform *p, uint64_t base, uint32_t gsi);
void virtio_mmio_destroy(struct virtio_mmio *vm);

#endif
