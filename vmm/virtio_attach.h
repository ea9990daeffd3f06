/* Puts a virtio device on the transport its options name: a PCI slot or a virtio-mmio window. */
#ifndef VMM_VIRTIO_ATTACH_H
#define VMM_VIRTIO_ATTACH_H

#include "acpi.h"
#include "config.h"
#include "error.h"
#include "pci.h"
#include "platform.h"

#define VIRTIO_MMIO_SLOTS 8

struct virtio_dev;
struct virtio_pci;
struct virtio_mmio;

/* Where new virtio devices go. */
struct virtio_slots {
	const struct platform *platform;
	struct pci_host *pci;
	struct acpi_mmio_device mmio[VIRTIO_MMIO_SLOTS];   /* placed so far, for ACPI and the command line */
	unsigned nr_mmio;
};

struct virtio_attachment {
	struct virtio_pci *pci;
	struct virtio_mmio *mmio;
};

/* PCI: the next slot on bus 0. MMIO: the next 0x200-byte window in the
 * platform range with its own GSI, announced in the DSDT (and to other
 * guests on the command line). */
int virtio_attach(struct virtio_slots *slots, struct virtio_dev *vdev, enum virtio_transport_kind kind,
		  uint32_t pci_class, struct virtio_attachment *out, struct vmm_error *err);
void virtio_detach(struct virtio_attachment *a);

#endif
