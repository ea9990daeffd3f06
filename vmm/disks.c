/* Disks: one io_uring backend and one virtio-blk device per --disk. */
#include "disks.h"

#include <string.h>

#include "virtio_blk.h"
#include "vm.h"

#define PCI_CLASS_STORAGE_OTHER 0x018000

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

int disks_attach(struct vm *vm, struct vmm_error *err)
{
	for (unsigned i = 0; i < vm->cfg.nr_disks; i++) {
		const struct disk_config *d = &vm->cfg.disks[i];
		struct vm_disk *disk = &vm->disks[i];
		unsigned queues = d->queues ? d->queues : vm->cfg.vcpus;

		disk->blk = virtio_blk_create(&vm->mem, &disk->be, queues, d->serial);
		if (!disk->blk || iothread_add(&vm->io, disk->be.event_fd, virtio_blk_complete_io, disk->blk) < 0)
			return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot create the virtio-blk device for %s", d->path);
		if (virtio_attach(vm, virtio_blk_dev(disk->blk), d->transport, PCI_CLASS_STORAGE_OTHER,
				  &disk->transport, err) < 0)
			return -1;
	}
	return 0;
}

void disks_close(struct vm *vm)
{
	for (unsigned i = 0; i < vm->cfg.nr_disks; i++) {
		struct vm_disk *disk = &vm->disks[i];
		virtio_detach(&disk->transport);
		virtio_blk_destroy(disk->blk);
		if (disk->open)
			block_close(&disk->be);
		memset(disk, 0, sizeof(*disk));
	}
}
