/*
 * A small virtio 1.x driver for the test guests: the PCI (modern) and MMIO
 * transports, and split virtqueues that the guest fills and polls.
 */
#ifndef FW_VIRTIO_DRIVER_H
#define FW_VIRTIO_DRIVER_H

#include "fw.h"

#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4

#define FW_QUEUE_SIZE 32

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct fw_vring {
	struct virtq_desc desc[FW_QUEUE_SIZE] __attribute__((aligned(16)));
	struct {
		uint16_t flags, idx, ring[FW_QUEUE_SIZE], used_event;
	} avail __attribute__((aligned(2)));
	struct {
		uint16_t flags, idx;
		struct { uint32_t id, len; } ring[FW_QUEUE_SIZE];
		uint16_t avail_event;
	} used __attribute__((aligned(4096)));
	uint16_t last_used;
	bool event_idx;
};

struct vdev {
	bool mmio;
	bool msix;                                          /* queue 0 interrupts on an MSI-X vector */
	volatile uint8_t *common, *isr, *device, *notify;   /* PCI */
	uint32_t notify_multiplier;
	volatile uint8_t *regs;                             /* MMIO */
	unsigned notify_off[8];
};

/* PCI bus 0: the slot holding vendor:device, or -1. */
int pci_find(uint16_t vendor, uint16_t device);
int virtio_pci_open(struct vdev *d, unsigned slot);
int virtio_mmio_open(struct vdev *d, uint64_t base);
/* The device the command line names: transport=mmio uses virtio_mmio.device=,
 * else PCI vendor 1af4 with pci_device. Returns the PCI slot, or -1 for MMIO;
 * on failure it reports and exits. */
int virtio_open_from_cmdline(struct vdev *d, uint16_t pci_device, const char *name);
/* Resets, acknowledges and negotiates: returns the features both sides have, or 0 on failure. */
uint64_t virtio_negotiate(struct vdev *d, uint64_t wanted);
/* PCI: MSI-X on, table entry 0 sending vector to this CPU; call before the queues are set up. */
int virtio_pci_enable_msix(struct vdev *d, unsigned slot, uint8_t vector);
int virtio_queue_setup(struct vdev *d, unsigned q, struct fw_vring *vr);
void virtio_driver_ok(struct vdev *d);
uint8_t virtio_status(struct vdev *d);
void virtio_config_read(struct vdev *d, unsigned off, void *buf, unsigned len);
/* Publishes n new heads starting at the current avail index, and kicks if the device wants it. */
void virtio_publish(struct vdev *d, unsigned q, struct fw_vring *vr, const uint16_t *heads, unsigned n);
/* Waits for one used entry (bounded), polling, or sleeping until an
 * interrupt when the device has one; returns its id, or -1 on timeout. */
int virtio_wait_used(struct vdev *d, struct fw_vring *vr, uint32_t *len);

#endif
