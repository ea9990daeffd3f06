/* The VM's disks: --disk options turned into block backends and virtio-blk devices or NVMe controllers. */
#ifndef VMM_DISKS_H
#define VMM_DISKS_H

#include "block.h"
#include "config.h"
#include "error.h"
#include "virtio_attach.h"

struct nvme;
struct virtio_blk;

struct vm_disk {
	const struct disk_config *cfg;
	struct block_backend be;
	struct virtio_blk *blk;                /* bus=virtio, */
	struct virtio_attachment transport;    /* on its transport */
	struct nvme *nvme;                     /* or bus=nvme, on PCI */
	unsigned pci_slot;                     /* on PCI: its slot on bus 0 (firmware's boot order) */
};

/* Opens and locks every image; runs before /dev/kvm is opened. */
int disks_open(struct vm_disk *disks, const struct vm_config *cfg, struct vmm_error *err);
/* Creates the devices on their transports, once guest RAM and the I/O thread exist. */
int disks_attach(struct vm_disk *disks, const struct vm_config *cfg, struct virtio_slots *slots,
		 struct vmm_error *err);
void disks_close(struct vm_disk *disks, unsigned n);

#endif
