/*
 * The transport-independent half of a virtio device (virtio 1.2, chapter 2
 * and 3.1): feature negotiation, device status, virtqueues, and the
 * ops table a device type implements (in the spirit of kvmtool's
 * virtio_ops). Transports (virtio_pci.c, virtio_mmio.c) map registers onto
 * this and deliver the interrupts it asks for.
 */
#ifndef DEVICES_VIRTIO_H
#define DEVICES_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event_loop.h"
#include "guest_mem.h"
#include "ioevent.h"
#include "virtqueue.h"

#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

#define VIRTIO_QUEUE_MAX_SIZE 256

struct virtio_dev;
struct virtio_kick;

/* A device type: virtio-blk, virtio-net, ... Called with the device lock held. */
struct virtio_device_ops {
	const char *name;
	uint32_t device_id;
	uint32_t config_size;
	void (*config_read)(struct virtio_dev *vdev, uint32_t offset, uint8_t *data, unsigned size);
	void (*config_write)(struct virtio_dev *vdev, uint32_t offset, const uint8_t *data, unsigned size);
	/* The driver made buffers available on queue q. */
	void (*queue_notify)(struct virtio_dev *vdev, unsigned q);
	/* The driver reset the device: finish or cancel in-flight work before returning,
	 * since the rings are gone afterwards (virtio 1.2, 2.4). */
	void (*reset)(struct virtio_dev *vdev);
	/* Optional: the same for queue q alone (2.6.1, queue reset), before it is cleared. */
	void (*queue_reset)(struct virtio_dev *vdev, unsigned q);
	/* Optional: the driver set DRIVER_OK; the negotiated features are final. */
	void (*driver_ok)(struct virtio_dev *vdev);
};

/* What the core needs from the transport it sits on. */
struct virtio_transport_ops {
	void (*signal_queue)(void *transport, unsigned q);
	void (*signal_config)(void *transport);
	/* DRIVER_OK was set: bind notifications (ioeventfds) for ready queues. */
	void (*activate)(void *transport);
	/* The device was reset: undo activate. */
	void (*deactivate)(void *transport);
};

struct virtio_dev {
	pthread_mutex_t lock;
	const struct virtio_device_ops *ops;
	void *device;                      /* the device type's state */
	const struct virtio_transport_ops *transport_ops;
	void *transport;
	const struct guest_mem *mem;

	uint64_t device_features;
	uint64_t driver_features;
	uint8_t status;
	uint8_t config_generation;
	unsigned nr_queues;
	struct virtqueue *queues;
	struct virtio_kick *kicks;         /* virtio_kick.c; NULL: kicks are register writes */
	struct ioevents *ioevents;
};

/* device_features: the device type's bits; VERSION_1, INDIRECT_DESC and EVENT_IDX are added. */
int virtio_dev_init(struct virtio_dev *vdev, const struct virtio_device_ops *ops, void *device,
		    const struct guest_mem *mem, uint64_t device_features, unsigned nr_queues);
void virtio_dev_destroy(struct virtio_dev *vdev);
void virtio_attach_transport(struct virtio_dev *vdev, const struct virtio_transport_ops *ops,
			     void *transport);

/*
 * Queue kicks without exits (virtio_kick.c). With ioevents and a loop, each
 * queue gets an eventfd watched by the loop for the device's life; without
 * them (unit tests) kicks arrive as register writes. The transport binds a
 * queue's kick to the guest write that rings its doorbell once the driver
 * sets DRIVER_OK, and unbinds them all on reset or when the doorbell moves;
 * both with the device lock held.
 */
int virtio_kicks_init(struct virtio_dev *vdev, struct ioevents *ioevents, struct event_loop *loop);
void virtio_kick_bind(struct virtio_dev *vdev, unsigned q, const struct ioevent *where);
void virtio_kicks_unbind(struct virtio_dev *vdev);
void virtio_kicks_destroy(struct virtio_dev *vdev);

/* Transport side; these take the device lock. */
void virtio_set_status(struct virtio_dev *vdev, uint8_t status);
void virtio_set_driver_features(struct virtio_dev *vdev, unsigned word, uint32_t value);
uint32_t virtio_device_features_word(const struct virtio_dev *vdev, unsigned word);
enum virtio_queue_field {
	VIRTIO_QUEUE_SIZE,
	VIRTIO_QUEUE_DESC,
	VIRTIO_QUEUE_DRIVER,     /* the available ring */
	VIRTIO_QUEUE_DEVICE,     /* the used ring */
};

/* Sets a queue's size or a ring address; ignored while the queue is ready. */
void virtio_queue_set_field(struct virtio_dev *vdev, unsigned q, enum virtio_queue_field field, uint64_t v);
/* Makes queue q live after the driver set its size and addresses. */
void virtio_queue_set_ready(struct virtio_dev *vdev, unsigned q, bool ready);
void virtio_queue_notify(struct virtio_dev *vdev, unsigned q);
bool virtio_driver_ok(const struct virtio_dev *vdev);

/* Device side; call with the lock held. */
/* A config_read for a device whose configuration is one structure: bytes past it read as 0. */
void virtio_config_copy(const void *config, size_t config_size, uint32_t offset, uint8_t *data, unsigned size);
bool virtio_has_feature(const struct virtio_dev *vdev, unsigned bit);
/* Interrupts the driver for queue q unless it asked not to be. */
void virtio_signal_used(struct virtio_dev *vdev, unsigned q);
/* The driver broke the rules: set DEVICE_NEEDS_RESET and tell it. */
void virtio_needs_reset(struct virtio_dev *vdev);

#endif
