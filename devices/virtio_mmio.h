/* The virtio-mmio transport, version 2; see virtio_mmio.c. */
#ifndef DEVICES_VIRTIO_MMIO_H
#define DEVICES_VIRTIO_MMIO_H

#include "bus.h"
#include "iothread.h"
#include "irq.h"
#include "virtio.h"

#define VIRTIO_MMIO_SIZE 0x200

struct virtio_mmio;

/* Places the device at base on the MMIO bus with interrupt line irq.
 * io may be NULL: queue kicks then arrive as MMIO exits. */
struct virtio_mmio *virtio_mmio_create(struct virtio_dev *vdev, struct bus *mmio, uint64_t base,
				       struct irq_line irq, struct iothread *io);
void virtio_mmio_destroy(struct virtio_mmio *vm);

#endif
