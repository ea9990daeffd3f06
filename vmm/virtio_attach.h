/* Puts a virtio device on the transport its options name. */
#ifndef VMM_VIRTIO_ATTACH_H
#define VMM_VIRTIO_ATTACH_H

#include "config.h"
#include "error.h"

struct vm;
struct virtio_dev;
struct virtio_pci;
struct virtio_mmio;

struct virtio_attachment {
	struct virtio_pci *pci;
	struct virtio_mmio *mmio;
};

/* PCI: the next slot on bus 0. MMIO: the next 0x200-byte window in the
 * platform range with its own GSI, announced as virtio_mmio.device= on the
 * kernel command line (the firmware guests read it too). */
int virtio_attach(struct vm *vm, struct virtio_dev *vdev, enum virtio_transport_kind kind, uint32_t pci_class,
		  struct virtio_attachment *out, struct vmm_error *err);
void virtio_detach(struct virtio_attachment *a);

#endif
