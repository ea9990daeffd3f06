#include "virtio_attach.h"

#include <stdio.h>
#include <string.h>

#include "memmap.h"
#include "virtio_mmio.h"
#include "virtio_pci.h"
#include "vm.h"

/* GSIs for virtio-mmio devices: ISA lines no PC device here uses. */
static const uint32_t mmio_gsis[] = { 5, 6, 7, 10, 11, 12, 14, 15 };
#define NR_MMIO_SLOTS (sizeof(mmio_gsis) / sizeof(mmio_gsis[0]))

static int attach_mmio(struct vm *vm, struct virtio_dev *vdev, struct virtio_attachment *out,
		       struct vmm_error *err)
{
	if (vm->nr_mmio_devices == NR_MMIO_SLOTS)
		return vmm_fail(err, VMM_EXIT_USAGE, "at most %zu virtio-mmio devices", NR_MMIO_SLOTS);
	unsigned index = vm->nr_mmio_devices;
	uint64_t base = PLATFORM_MMIO_BASE + (uint64_t)index * VIRTIO_MMIO_SIZE;
	struct irq_line irq = { .ctl = &vm->irqchip, .gsi = mmio_gsis[index] };

	out->mmio = virtio_mmio_create(vdev, &vm->mmio, base, irq, &vm->io);
	if (!out->mmio)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot place a virtio-mmio device at 0x%llx",
				(unsigned long long)base);
	vm->mmio_devices[vm->nr_mmio_devices++] = (struct acpi_mmio_device){ base, VIRTIO_MMIO_SIZE, irq.gsi };
	return 0;
}

int virtio_attach(struct vm *vm, struct virtio_dev *vdev, enum virtio_transport_kind kind, uint32_t pci_class,
		  struct virtio_attachment *out, struct vmm_error *err)
{
	if (kind == VIRTIO_TRANSPORT_MMIO)
		return attach_mmio(vm, vdev, out, err);
	out->pci = virtio_pci_create(vdev, &vm->irqchip, &vm->io, pci_class);
	if (!out->pci || pci_host_add(&vm->pci, virtio_pci_function(out->pci)) < 0)
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
