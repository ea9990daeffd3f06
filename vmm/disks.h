/* The VM's disks: --disk options turned into backends and virtio-blk devices. */
#ifndef VMM_DISKS_H
#define VMM_DISKS_H

#include "block.h"
#include "error.h"
#include "virtio_attach.h"

struct vm;
struct virtio_blk;

struct vm_disk {
	struct block_backend be;
	bool open;
	struct virtio_blk *blk;
	struct virtio_attachment transport;
};

/* Opens and locks every image; runs before /dev/kvm is opened. */
int disks_open(struct vm *vm, struct vmm_error *err);
/* Creates the devices on their transports, once guest RAM and the I/O thread exist. */
int disks_attach(struct vm *vm, struct vmm_error *err);
void disks_close(struct vm *vm);

#endif
