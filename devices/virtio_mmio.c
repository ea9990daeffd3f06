/*
 * Virtio over MMIO, version 2 (virtio 1.2, section 4.2.2): a 0x200-byte
 * register window; registers are 32-bit, the device configuration at 0x100
 * takes any width. One level-triggered interrupt line, raised while
 * InterruptStatus is non-zero and lowered by InterruptACK.
 *
 * After DRIVER_OK, writes of a ready queue's index to QueueNotify are bound
 * to an eventfd (KVM_IOEVENTFD with a data match) served by the I/O thread.
 */
#include "virtio_mmio.h"

#include <stdlib.h>
#include <string.h>

#define MAGIC 0x74726976   /* "virt" */
#define VERSION 2
#define VENDOR_ID 0x4d4d56   /* "VMM" */

enum {
	REG_MAGIC = 0x000, REG_VERSION = 0x004, REG_DEVICE_ID = 0x008, REG_VENDOR_ID = 0x00c,
	REG_DEVICE_FEATURES = 0x010, REG_DEVICE_FEATURES_SEL = 0x014,
	REG_DRIVER_FEATURES = 0x020, REG_DRIVER_FEATURES_SEL = 0x024,
	REG_QUEUE_SEL = 0x030, REG_QUEUE_NUM_MAX = 0x034, REG_QUEUE_NUM = 0x038,
	REG_QUEUE_READY = 0x044, REG_QUEUE_NOTIFY = 0x050,
	REG_INTERRUPT_STATUS = 0x060, REG_INTERRUPT_ACK = 0x064, REG_STATUS = 0x070,
	REG_QUEUE_DESC_LOW = 0x080, REG_QUEUE_DESC_HIGH = 0x084,
	REG_QUEUE_DRIVER_LOW = 0x090, REG_QUEUE_DRIVER_HIGH = 0x094,
	REG_QUEUE_DEVICE_LOW = 0x0a0, REG_QUEUE_DEVICE_HIGH = 0x0a4,
	REG_SHM_LEN_LOW = 0x0b0, REG_SHM_LEN_HIGH = 0x0b4,
	REG_QUEUE_RESET = 0x0c0, REG_CONFIG_GENERATION = 0x0fc, REG_CONFIG = 0x100,
};

#define INT_USED_BUFFER 1
#define INT_CONFIG_CHANGE 2

struct virtio_mmio {
	struct virtio_dev *vdev;
	uint64_t base;
	pthread_mutex_t irq_lock;
	struct irq_line irq;
	uint32_t interrupt_status;
	uint32_t device_features_sel, driver_features_sel, queue_sel;
};

static void set_interrupt(struct virtio_mmio *vm, uint32_t set, uint32_t clear)
{
	pthread_mutex_lock(&vm->irq_lock);
	vm->interrupt_status = (vm->interrupt_status | set) & ~clear;
	irq_line_set(&vm->irq, vm->interrupt_status != 0);
	pthread_mutex_unlock(&vm->irq_lock);
}

static struct virtqueue *selected(struct virtio_mmio *vm)
{
	return vm->queue_sel < vm->vdev->nr_queues ? &vm->vdev->queues[vm->queue_sel] : NULL;
}

static uint32_t queue_reg(struct virtio_mmio *vm, uint64_t reg)
{
	struct virtqueue *vq = selected(vm);

	if (!vq)
		return 0;
	switch (reg) {
	case REG_QUEUE_NUM_MAX: return VIRTIO_QUEUE_MAX_SIZE;
	case REG_QUEUE_READY: return vq->ready;
	case REG_QUEUE_DESC_LOW: return (uint32_t)vq->desc_gpa;
	case REG_QUEUE_DESC_HIGH: return (uint32_t)(vq->desc_gpa >> 32);
	case REG_QUEUE_DRIVER_LOW: return (uint32_t)vq->avail_gpa;
	case REG_QUEUE_DRIVER_HIGH: return (uint32_t)(vq->avail_gpa >> 32);
	case REG_QUEUE_DEVICE_LOW: return (uint32_t)vq->used_gpa;
	case REG_QUEUE_DEVICE_HIGH: return (uint32_t)(vq->used_gpa >> 32);
	default: return 0;
	}
}

static uint32_t reg_read(struct virtio_mmio *vm, uint64_t reg)
{
	struct virtio_dev *vdev = vm->vdev;

	switch (reg) {
	case REG_MAGIC: return MAGIC;
	case REG_VERSION: return VERSION;
	case REG_DEVICE_ID: return vdev->ops->device_id;
	case REG_VENDOR_ID: return VENDOR_ID;
	case REG_DEVICE_FEATURES: return virtio_device_features_word(vdev, vm->device_features_sel);
	case REG_INTERRUPT_STATUS: return vm->interrupt_status;
	case REG_STATUS: return vdev->status;
	case REG_CONFIG_GENERATION: return vdev->config_generation;
	case REG_SHM_LEN_LOW:
	case REG_SHM_LEN_HIGH: return 0xffffffff;   /* no shared memory regions */
	default: return queue_reg(vm, reg);
	}
}

/* Writes one half of a 64-bit ring address. */
static void set_address_half(struct virtio_mmio *vm, enum virtio_queue_field field, uint64_t current,
			     bool high, uint32_t v)
{
	uint64_t a = high ? (current & 0xffffffffull) | (uint64_t)v << 32 : (current & ~0xffffffffull) | v;
	virtio_queue_set_field(vm->vdev, vm->queue_sel, field, a);
}

static void write_queue_address(struct virtio_mmio *vm, uint64_t reg, uint32_t v)
{
	struct virtqueue *vq = selected(vm);

	if (!vq)
		return;
	if (reg == REG_QUEUE_DESC_LOW || reg == REG_QUEUE_DESC_HIGH)
		set_address_half(vm, VIRTIO_QUEUE_DESC, vq->desc_gpa, reg == REG_QUEUE_DESC_HIGH, v);
	else if (reg == REG_QUEUE_DRIVER_LOW || reg == REG_QUEUE_DRIVER_HIGH)
		set_address_half(vm, VIRTIO_QUEUE_DRIVER, vq->avail_gpa, reg == REG_QUEUE_DRIVER_HIGH, v);
	else if (reg == REG_QUEUE_DEVICE_LOW || reg == REG_QUEUE_DEVICE_HIGH)
		set_address_half(vm, VIRTIO_QUEUE_DEVICE, vq->used_gpa, reg == REG_QUEUE_DEVICE_HIGH, v);
}

static void reg_write(struct virtio_mmio *vm, uint64_t reg, uint32_t v)
{
	struct virtio_dev *vdev = vm->vdev;

	switch (reg) {
	case REG_DEVICE_FEATURES_SEL:
		vm->device_features_sel = v;
		break;
	case REG_DRIVER_FEATURES:
		virtio_set_driver_features(vdev, vm->driver_features_sel, v);
		break;
	case REG_DRIVER_FEATURES_SEL:
		vm->driver_features_sel = v;
		break;
	case REG_QUEUE_SEL:
		vm->queue_sel = v;
		break;
	case REG_QUEUE_NUM:
		virtio_queue_set_field(vdev, vm->queue_sel, VIRTIO_QUEUE_SIZE, v);
		break;
	case REG_QUEUE_READY:
		virtio_queue_set_ready(vdev, vm->queue_sel, v == 1);
		break;
	case REG_QUEUE_RESET:
		if (v == 1)
			virtio_queue_set_ready(vdev, vm->queue_sel, false);
		break;
	case REG_QUEUE_NOTIFY:
		virtio_queue_notify(vdev, v & 0xffff);
		break;
	case REG_INTERRUPT_ACK:
		set_interrupt(vm, 0, v);
		break;
	case REG_STATUS:
		virtio_set_status(vdev, (uint8_t)v);
		if (v == 0)
			set_interrupt(vm, 0, ~0u);
		break;
	default:
		write_queue_address(vm, reg, v);
	}
}

static void mmio_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	struct virtio_mmio *vm = opaque;

	memset(data, 0, size);
	if (offset >= REG_CONFIG) {
		pthread_mutex_lock(&vm->vdev->lock);
		vm->vdev->ops->config_read(vm->vdev, (uint32_t)(offset - REG_CONFIG), data, size);
		pthread_mutex_unlock(&vm->vdev->lock);
	} else if (size == 4 && offset % 4 == 0) {
		uint32_t v = reg_read(vm, offset);
		memcpy(data, &v, 4);
	}
}

static void mmio_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct virtio_mmio *vm = opaque;

	if (offset >= REG_CONFIG) {
		pthread_mutex_lock(&vm->vdev->lock);
		vm->vdev->ops->config_write(vm->vdev, (uint32_t)(offset - REG_CONFIG), data, size);
		pthread_mutex_unlock(&vm->vdev->lock);
	} else if (size == 4 && offset % 4 == 0) {
		uint32_t v;
		memcpy(&v, data, 4);
		reg_write(vm, offset, v);
	}
}

static const struct bus_device_ops mmio_ops = { mmio_read, mmio_write };

/* QueueNotify writes of each ready queue's index signal its kick (virtio_kick.c). */
static void mmio_activate(void *t)
{
	struct virtio_mmio *vm = t;

	for (unsigned q = 0; q < vm->vdev->nr_queues; q++) {
		struct ioevent where = { .space = IOEVENT_MMIO, .addr = vm->base + REG_QUEUE_NOTIFY, .len = 4,
					 .match_data = true, .data = q };
		if (vm->vdev->queues[q].ready)
			virtio_kick_bind(vm->vdev, q, &where);
	}
}

static void mmio_deactivate(void *t)
{
	struct virtio_mmio *vm = t;
	virtio_kicks_unbind(vm->vdev);
}

static void mmio_signal_queue(void *t, unsigned q)
{
	(void)q;
	set_interrupt(t, INT_USED_BUFFER, 0);
}

static void mmio_signal_config(void *t)
{
	set_interrupt(t, INT_CONFIG_CHANGE, 0);
}

static const struct virtio_transport_ops mmio_transport_ops = {
	.signal_queue = mmio_signal_queue,
	.signal_config = mmio_signal_config,
	.activate = mmio_activate,
	.deactivate = mmio_deactivate,
};

struct virtio_mmio *virtio_mmio_create(struct virtio_dev *vdev, const struct platform *p, uint64_t base, uint32_t gsi)
{
	struct virtio_mmio *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return NULL;
	vm->vdev = vdev;
	vm->base = base;
	vm->irq = (struct irq_line){ .ctl = p->irq, .gsi = gsi };
	pthread_mutex_init(&vm->irq_lock, NULL);
	if (virtio_kicks_init(vdev, p->ioevents, p->loop) < 0 ||
	    bus_register(p->mmio, base, VIRTIO_MMIO_SIZE, &mmio_ops, vm, vdev->ops->name) < 0) {
		virtio_kicks_destroy(vdev);
		free(vm);
		return NULL;
	}
	virtio_attach_transport(vdev, &mmio_transport_ops, vm);
	return vm;
}

void virtio_mmio_destroy(struct virtio_mmio *vm)
{
	if (!vm)
		return;
	virtio_kicks_destroy(vm->vdev);
	pthread_mutex_destroy(&vm->irq_lock);
	free(vm);
}
