/* The virtio PCI transport (modern only); see virtio_pci.c. */
#ifndef DEVICES_VIRTIO_PCI_H
#define DEVICES_VIRTIO_PCI_H

#include "msix.h"
#include "pci.h"
#include "platform.h"
#include "virtio.h"

#define VIRTIO_PCI_BAR 4
#define VIRTIO_PCI_COMMON 0x0000
#define VIRTIO_PCI_ISR 0x1000
#define VIRTIO_PCI_DEVICE 0x2000
#define VIRTIO_PCI_NOTIFY 0x3000
#define VIRTIO_PCI_MSIX_TABLE 0x4000
#define VIRTIO_PCI_MSIX_PBA 0x6000
#define VIRTIO_PCI_BAR_SIZE 0x8000
#define VIRTIO_PCI_NOTIFY_MULTIPLIER 4

struct virtio_pci;

/* Without ioevents and a loop in p, queue kicks arrive as MMIO exits on the vCPU thread. */
struct virtio_pci *virtio_pci_create(struct virtio_dev *vdev, const struct platform *p, uint32_t class_code);
struct pci_function *virtio_pci_function(struct virtio_pci *vp);
void virtio_pci_destroy(struct virtio_pci *vp);

#endif
