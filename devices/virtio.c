/*
 * Virtio device core (virtio 1.2: 2.1 device status, 2.2 feature bits,
 * 3.1.1 driver initialization, 2.4 device reset). Only the modern
 * interface exists: a driver that does not accept VIRTIO_F_VERSION_1 cannot
 * get FEATURES_OK.
 */
#include "virtio.h"

#include <stdlib.h>
#include <string.h>

#define TRANSPORT_FEATURES \
	((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX))

int virtio_dev_init(struct virtio_dev *vdev, const struct virtio_device_ops *ops, void *device,
		    const struct guest_mem *mem, uint64_t device_features, unsigned nr_queues)
{
	memset(vdev, 0, sizeof(*vdev));
	vdev->queues = calloc(nr_queues, sizeof(*vdev->queues));
	if (!vdev->queues)
		return -1;
	pthread_mutex_init(&vdev->lock, NULL);
	vdev->ops = ops;
	vdev->device = device;
	vdev->mem = mem;
	vdev->device_features = device_features | TRANSPORT_FEATURES;
	vdev->nr_queues = nr_queues;
	for (unsigned i = 0; i < nr_queues; i++) {
		vdev->queues[i].mem = mem;
		vdev->queues[i].size = VIRTIO_QUEUE_MAX_SIZE;
	}
	return 0;
}

void virtio_dev_destroy(struct virtio_dev *vdev)
{
	free(vdev->queues);
	vdev->queues = NULL;
	pthread_mutex_destroy(&vdev->lock);
}

void virtio_attach_transport(struct virtio_dev *vdev, const struct virtio_transport_ops *ops,
			     void *transport)
{
	vdev->transport_ops = ops;
	vdev->transport = transport;
}

bool virtio_has_feature(const struct virtio_dev *vdev, unsigned bit)
{
	return vdev->driver_features & (1ull << bit);
}

void virtio_config_copy(const void *config, size_t config_size, uint32_t offset, uint8_t *data, unsigned size)
{
	memset(data, 0, size);
	if (offset < config_size)
		memcpy(data, (const uint8_t *)config + offset, size < config_size - offset ? size : config_size - offset);
}

bool virtio_driver_ok(const struct virtio_dev *vdev)
{
	return (vdev->status & VIRTIO_STATUS_DRIVER_OK) && !(vdev->status & VIRTIO_STATUS_NEEDS_RESET);
}

uint32_t virtio_device_features_word(const struct virtio_dev *vdev, unsigned word)
{
	return word < 2 ? (uint32_t)(vdev->device_features >> (32 * word)) : 0;
}

void virtio_set_driver_features(struct virtio_dev *vdev, unsigned word, uint32_t value)
{
	pthread_mutex_lock(&vdev->lock);
	/* Features are fixed once FEATURES_OK is set (3.1.1 step 5). */
	if (word < 2 && !(vdev->status & VIRTIO_STATUS_FEATURES_OK)) {
		uint64_t mask = 0xffffffffull << (32 * word);
		vdev->driver_features = (vdev->driver_features & ~mask) | ((uint64_t)value << (32 * word));
	}
	pthread_mutex_unlock(&vdev->lock);
}

static void reset_locked(struct virtio_dev *vdev)
{
	if (vdev->status & VIRTIO_STATUS_DRIVER_OK)
		vdev->transport_ops->deactivate(vdev->transport);
	vdev->ops->reset(vdev);
	for (unsigned i = 0; i < vdev->nr_queues; i++) {
		virtq_reset(&vdev->queues[i]);
		vdev->queues[i].size = VIRTIO_QUEUE_MAX_SIZE;
	}
	vdev->status = 0;
	vdev->driver_features = 0;
}

static bool features_acceptable(const struct virtio_dev *vdev)
{
	return !(vdev->driver_features & ~vdev->device_features) &&
	       virtio_has_feature(vdev, VIRTIO_F_VERSION_1);
}

void virtio_set_status(struct virtio_dev *vdev, uint8_t status)
{
	pthread_mutex_lock(&vdev->lock);
	if (status == 0) {
		reset_locked(vdev);
		pthread_mutex_unlock(&vdev->lock);
		return;
	}
	uint8_t added = status & ~vdev->status;
	if ((added & VIRTIO_STATUS_FEATURES_OK) && !features_acceptable(vdev))
		status &= ~VIRTIO_STATUS_FEATURES_OK;
	if ((added & VIRTIO_STATUS_DRIVER_OK) && !(status & VIRTIO_STATUS_FEATURES_OK))
		status &= ~VIRTIO_STATUS_DRIVER_OK;
	/* Only a write of 0 clears bits (2.1.2); NEEDS_RESET is the device's to set. */
	vdev->status |= status & ~VIRTIO_STATUS_NEEDS_RESET;
	if ((added & VIRTIO_STATUS_DRIVER_OK) && (vdev->status & VIRTIO_STATUS_DRIVER_OK)) {
		bool event_idx = virtio_has_feature(vdev, VIRTIO_F_EVENT_IDX);
		for (unsigned i = 0; i < vdev->nr_queues; i++)
			vdev->queues[i].event_idx = event_idx;
		if (vdev->ops->driver_ok)
			vdev->ops->driver_ok(vdev);
		vdev->transport_ops->activate(vdev->transport);
	}
	pthread_mutex_unlock(&vdev->lock);
}

void virtio_queue_set_field(struct virtio_dev *vdev, unsigned q, enum virtio_queue_field field, uint64_t v)
{
	if (q >= vdev->nr_queues)
		return;
	pthread_mutex_lock(&vdev->lock);
	struct virtqueue *vq = &vdev->queues[q];
	if (!vq->ready) {
		switch (field) {
		case VIRTIO_QUEUE_SIZE:
			vq->size = (uint16_t)v;
			break;
		case VIRTIO_QUEUE_DESC:
			vq->desc_gpa = v;
			break;
		case VIRTIO_QUEUE_DRIVER:
			vq->avail_gpa = v;
			break;
		case VIRTIO_QUEUE_DEVICE:
			vq->used_gpa = v;
			break;
		}
	}
	pthread_mutex_unlock(&vdev->lock);
}

void virtio_queue_set_ready(struct virtio_dev *vdev, unsigned q, bool ready)
{
	if (q >= vdev->nr_queues)
		return;
	pthread_mutex_lock(&vdev->lock);
	struct virtqueue *vq = &vdev->queues[q];
	if (!ready) {
		if (vq->ready && vdev->ops->queue_reset)
			vdev->ops->queue_reset(vdev, q);
		virtq_reset(vq);
		vq->size = VIRTIO_QUEUE_MAX_SIZE;
	} else if (!vq->ready && (vq->size > VIRTIO_QUEUE_MAX_SIZE || virtq_enable(vq) < 0)) {
		virtio_needs_reset(vdev);
	}
	pthread_mutex_unlock(&vdev->lock);
}

void virtio_queue_notify(struct virtio_dev *vdev, unsigned q)
{
	pthread_mutex_lock(&vdev->lock);
	if (q < vdev->nr_queues && virtio_driver_ok(vdev) && vdev->queues[q].ready)
		vdev->ops->queue_notify(vdev, q);
	pthread_mutex_unlock(&vdev->lock);
}

void virtio_signal_used(struct virtio_dev *vdev, unsigned q)
{
	if (virtq_should_interrupt(&vdev->queues[q]))
		vdev->transport_ops->signal_queue(vdev->transport, q);
}

void virtio_needs_reset(struct virtio_dev *vdev)
{
	if (vdev->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	vdev->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (vdev->status & VIRTIO_STATUS_DRIVER_OK)
		vdev->transport_ops->signal_config(vdev->transport);
}
