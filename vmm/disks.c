/* Disks: one block backend and one virtio-blk device per --disk. */
#include "disks.h"

#include <string.h>

#include "virtio_blk.h"

#define PCI_CLASS_STORAGE_OTHER 0x018000

static unsigned disk_queues(const struct disk_config *d, const struct vm_config *cfg)
{
	return d->queues ? d->queues : cfg->vcpus;
}

int disks_open(struct vm_disk *disks, const struct vm_config *cfg, struct vmm_error *err)
{
	for (unsigned i = 0; i < cfg->nr_disks; i++) {
		const struct disk_config *d = &cfg->disks[i];
		/* Enough room for every queue to be full at once. */
		struct block_options o = { d->path, d->cache, d->aio, d->readonly,
					   disk_queues(d, cfg) * VIRTIO_QUEUE_MAX_SIZE };
		disks[i].cfg = d;
		if (block_open(&disks[i].be, &o, err) < 0)
			return -1;
	}
	return 0;
}

int disks_attach(struct vm_disk *disks, const struct vm_config *cfg, struct virtio_slots *slots,
		 struct vmm_error *err)
{
	for (unsigned i = 0; i < cfg->nr_disks; i++) {
		const struct disk_config *d = &cfg->disks[i];
		struct vm_disk *disk = &disks[i];

		disk->blk = virtio_blk_create(slots->platform, &disk->be, disk_queues(d, cfg), d->serial);
		if (!disk->blk)
			return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot create the virtio-blk device for %s", d->path);
		if (virtio_attach(slots, virtio_blk_dev(disk->blk), d->transport, PCI_CLASS_STORAGE_OTHER,
				  &disk->transport, err) < 0)
			return -1;
	}
	return 0;
}

void disks_close(struct vm_disk *disks, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct vm_disk *disk = &disks[i];
		virtio_detach(&disk->transport);
		virtio_blk_destroy(disk->blk);
		block_close(&disk->be);
		memset(disk, 0, sizeof(*disk));
	}
}
