/*
 * Queue kicks that cost no exit to vmm (virtio 1.2, 2.9 "Driver
 * Notifications", carried out through KVM_IOEVENTFD): each queue has one
 * eventfd and one event-loop watch for the device's whole life; binding a
 * queue only tells the hypervisor which guest write signals that eventfd.
 * A reset or a moved doorbell unbinds and binds again without opening,
 * closing or watching anything, so a kick already being handled reads an
 * empty eventfd, never a descriptor that was closed and reused, and no
 * guest behaviour makes watches pile up.
 */
#include "virtio.h"

#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct virtio_kick {
	struct virtio_dev *vdev;
	unsigned queue;
	int fd;
	bool bound;
	struct ioevent where;
};

static void kick(void *arg)
{
	struct virtio_kick *k = arg;
	uint64_t count;

	if (read(k->fd, &count, sizeof(count)) == sizeof(count))
		virtio_queue_notify(k->vdev, k->queue);
}

int virtio_kicks_init(struct virtio_dev *vdev, struct ioevents *ioevents, struct event_loop *loop)
{
	if (!ioevents || !loop)
		return 0;
	vdev->kicks = calloc(vdev->nr_queues, sizeof(*vdev->kicks));
	if (!vdev->kicks)
		return -1;
	vdev->ioevents = ioevents;
	for (unsigned q = 0; q < vdev->nr_queues; q++) {
		struct virtio_kick *k = &vdev->kicks[q];
		*k = (struct virtio_kick){ vdev, q, eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), false, { 0 } };
		if (k->fd < 0 || !event_watch(loop, k->fd, kick, k))
			return -1;
	}
	return 0;
}

void virtio_kick_bind(struct virtio_dev *vdev, unsigned q, const struct ioevent *where)
{
	if (!vdev->kicks || q >= vdev->nr_queues || vdev->kicks[q].bound)
		return;
	struct virtio_kick *k = &vdev->kicks[q];
	if (vdev->ioevents->ops->assign(vdev->ioevents->ctx, where, k->fd) == 0) {
		k->where = *where;
		k->bound = true;
	}
}

void virtio_kicks_unbind(struct virtio_dev *vdev)
{
	for (unsigned q = 0; vdev->kicks && q < vdev->nr_queues; q++) {
		struct virtio_kick *k = &vdev->kicks[q];
		if (k->bound)
			vdev->ioevents->ops->deassign(vdev->ioevents->ctx, &k->where, k->fd);
		k->bound = false;
	}
}

/* The watches go with the event loop; the eventfds with the device. */
void virtio_kicks_destroy(struct virtio_dev *vdev)
{
	virtio_kicks_unbind(vdev);
	for (unsigned q = 0; vdev->kicks && q < vdev->nr_queues; q++)
		if (vdev->kicks[q].fd >= 0)
			close(vdev->kicks[q].fd);
	free(vdev->kicks);
	vdev->kicks = NULL;
}
