/* Disks: one block backend and one virtio-blk device per --disk. */
#include "disks.h"

#include <string.h>
#include <sys/stat.h>

#include "sandbox.h"
#include "virtio_blk.h"

#define PCI_CLASS_STORAGE_OTHER 0x018000
/* Requests a disk's engine keeps in flight at most, whatever the queues could hold. */
#define DISK_DEPTH_MAX 1024

static void disk_thread_start(void)
{
	sandbox_enter(SANDBOX_DISK);
}

static unsigned disk_queues(const struct disk_config *d, const struct vm_config *cfg)
{
	return d->queues ? d->queues : cfg->vcpus;
}

/* One image on two disks would be written by two devices at once; the image lock cannot say why. */
static int check_not_repeated(const struct vm_config *cfg, unsigned i, struct vmm_error *err)
{
	struct stat a, b;

	if (stat(cfg->disks[i].path, &a) < 0)
		return 0;   /* block_open() names the problem */
	for (unsigned j = 0; j < i; j++)
		if (stat(cfg->disks[j].path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return vmm_fail(err, VMM_EXIT_USAGE, "--disk %s: the same image as --disk %s", cfg->disks[i].path,
					cfg->disks[j].path);
	return 0;
}

int disks_open(struct vm_disk *disks, const struct vm_config *cfg, struct vmm_error *err)
{
	for (unsigned i = 0; i < cfg->nr_disks; i++) {
		const struct disk_config *d = &cfg->disks[i];
		/* Room for every queue to be full at once, within io_uring's limits and reason. */
		unsigned depth = disk_queues(d, cfg) * VIRTIO_QUEUE_MAX_SIZE;
		struct block_options o = { d->path, d->cache, d->aio, d->readonly,
					   depth < DISK_DEPTH_MAX ? depth : DISK_DEPTH_MAX, disk_thread_start };
		disks[i].cfg = d;
		if (check_not_repeated(cfg, i, err) < 0 || block_open(&disks[i].be, &o, err) < 0)
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
