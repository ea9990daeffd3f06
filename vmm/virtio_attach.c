/* Placing virtio devices on PCI or virtio-mmio, and remembering the MMIO windows for ACPI. */
#include "virtio_attach.h"

#include "memmap.h"
#include "virtio_mmio.h"
#include "virtio_pci.h"

/* GSIs for virtio-mmio devices: ISA lines no PC device here uses. */
static const uint32_t mmio_gsis[VIRTIO_MMIO_SLOTS] = { 5, 6, 7, 10, 11, 12, 14, 15 };

static int attach_mmio(struct virtio_slots *slots, struct virtio_dev *vdev, struct virtio_attachment *out,
		       struct vmm_error *err)
{
	if (slots->nr_mmio == VIRTIO_MMIO_SLOTS)
		return vmm_fail(err, VMM_EXIT_USAGE, "at most %d virtio-mmio devices", VIRTIO_MMIO_SLOTS);
	unsigned index = slots->nr_mmio;
	uint64_t base = PLATFORM_MMIO_BASE + (uint64_t)index * VIRTIO_MMIO_SIZE;

	out->mmio = virtio_mmio_create(vdev, slots->platform, base, mmio_gsis[index]);
	if (!out->mmio)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot place a virtio-mmio device at 0x%llx",
				(unsigned long long)base);
	slots->mmio[slots->nr_mmio++] = (struct acpi_mmio_device){ base, VIRTIO_MMIO_SIZE, mmio_gsis[index] };
	return 0;
}

int virtio_attach(struct virtio_slots *slots, struct virtio_dev *vdev, enum virtio_transport_kind kind,
		  uint32_t pci_class, struct virtio_attachment *out, struct vmm_error *err)
{
	if (kind == VIRTIO_TRANSPORT_MMIO)
		return attach_mmio(slots, vdev, out, err);
	out->pci = virtio_pci_create(vdev, slots->platform, pci_class);
	if (!out->pci || pci_host_add(slots->pci, virtio_pci_function(out->pci)) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "no room on the PCI bus for another device");
	return 0;
}

void virtio_detach(struct virtio_attachment *a)
{
	virtio_pci_destroy(a->pci);
	virtio_mmio_destroy(a->mmio);
	a->pci = NULL;
	a->mmio = NULL;
}
