/*
 * Disks: one io_uring backend and one virtio-blk device per --disk, on
 * virtio-pci (a slot on bus 0) or virtio-mmio (a 0x200-byte window in the
 * platform MMIO range with its own GSI, announced to Linux on the command
 * line as virtio_mmio.device=, which the firmware guests read too).
 */
#include "disks.h"

#include <stdio.h>
#include <string.h>

#include "memmap.h"
#include "virtio_blk.h"
#include "virtio_mmio.h"
#include "virtio_pci.h"
#include "vm.h"

#define PCI_CLASS_STORAGE_OTHER 0x018000

/* GSIs for virtio-mmio devices: ISA lines no PC device here uses. */
static const uint32_t mmio_gsis[VMM_MAX_DISKS] = { 5, 6, 7, 10, 11, 12, 14, 15 };

int disks_open(struct vm *vm, struct vmm_error *err)
{
	for (unsigned i = 0; i < vm->cfg.nr_disks; i++) {
		const struct disk_config *d = &vm->cfg.disks[i];
		/* Enough ring for every queue to be full at once. */
		unsigned queues = d->queues ? d->queues : vm->cfg.vcpus;
		if (block_open(&vm->disks[i].be, d->path, d->cache, d->readonly,
			       queues * VIRTIO_QUEUE_MAX_SIZE, err) < 0)
			return -1;
		vm->disks[i].open = true;
	}
	return 0;
}

static int attach_mmio(struct vm *vm, struct vm_disk *disk, unsigned index, struct vmm_error *err)
{
	uint64_t base = PLATFORM_MMIO_BASE + (uint64_t)index * VIRTIO_MMIO_SIZE;
	struct irq_line irq = { .ctl = &vm->irqchip, .gsi = mmio_gsis[index] };
	size_t len = strlen(vm->extra_cmdline);

	disk->mmio = virtio_mmio_create(virtio_blk_dev(disk->blk), &vm->mmio, base, irq, &vm->io);
	if (!disk->mmio)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot place a virtio-mmio disk at 0x%llx",
				(unsigned long long)base);
	snprintf(vm->extra_cmdline + len, sizeof(vm->extra_cmdline) - len, " virtio_mmio.device=%u@0x%llx:%u",
		 VIRTIO_MMIO_SIZE, (unsigned long long)base, irq.gsi);
	return 0;
}

static int attach_pci(struct vm *vm, struct vm_disk *disk, struct vmm_error *err)
{
	disk->pci = virtio_pci_create(virtio_blk_dev(disk->blk), &vm->irqchip, &vm->io, PCI_CLASS_STORAGE_OTHER);
	if (!disk->pci || pci_host_add(&vm->pci, virtio_pci_function(disk->pci)) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "no room on the PCI bus for another disk");
	return 0;
}

int disks_attach(struct vm *vm, struct vmm_error *err)
{
	unsigned nr_mmio = 0;

	for (unsigned i = 0; i < vm->cfg.nr_disks; i++) {
		const struct disk_config *d = &vm->cfg.disks[i];
		struct vm_disk *disk = &vm->disks[i];
		unsigned queues = d->queues ? d->queues : vm->cfg.vcpus;

		disk->blk = virtio_blk_create(&vm->mem, &disk->be, queues, d->serial);
		if (!disk->blk || iothread_add(&vm->io, disk->be.event_fd, virtio_blk_complete_io, disk->blk) < 0)
			return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot create the virtio-blk device for %s", d->path);
		int r = d->transport == DISK_TRANSPORT_MMIO ? attach_mmio(vm, disk, nr_mmio++, err)
							    : attach_pci(vm, disk, err);
		if (r < 0)
			return -1;
	}
	return 0;
}

void disks_close(struct vm *vm)
{
	for (unsigned i = 0; i < vm->cfg.nr_disks; i++) {
		struct vm_disk *disk = &vm->disks[i];
		virtio_pci_destroy(disk->pci);
		virtio_mmio_destroy(disk->mmio);
		virtio_blk_destroy(disk->blk);
		if (disk->open)
			block_close(&disk->be);
		memset(disk, 0, sizeof(*disk));
	}
}
