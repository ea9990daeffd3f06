/* Disks: one block backend and one virtio-blk device or NVMe controller per --disk. */
#include "disks.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "nvme.h"
#include "sandbox.h"
#include "virtio_blk.h"

#define PCI_CLASS_STORAGE_OTHER 0x018000
/* Requests a disk's engine keeps in flight at most, whatever the queues could hold. */
#define DISK_DEPTH_MAX 1024

static void disk_thread_start(void)
{
	sandbox_enter(SANDBOX_DISK);
}

/* virtio queues, or NVMe I/O queue pairs: one per vCPU unless queues= says, as far as a controller has them. */
static unsigned disk_queues(const struct disk_config *d, const struct vm_config *cfg)
{
	unsigned n = d->queues ? d->queues : cfg->vcpus;

	return d->bus == DISK_BUS_NVME && n > NVME_MAX_IO_QUEUES ? NVME_MAX_IO_QUEUES : n;
}

/* Room for every queue to be full at once, within io_uring's limits and reason. */
static unsigned disk_depth(const struct disk_config *d, const struct vm_config *cfg)
{
	unsigned entries = d->bus == DISK_BUS_NVME ? NVME_QUEUE_MAX_ENTRIES : VIRTIO_QUEUE_MAX_SIZE;
	unsigned depth = disk_queues(d, cfg) * entries;

	return depth < DISK_DEPTH_MAX ? depth : DISK_DEPTH_MAX;
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
		struct block_options o = { d->path, d->cache, d->aio, d->readonly, disk_depth(d, cfg),
					   disk_thread_start };
		disks[i].cfg = d;
		if (check_not_repeated(cfg, i, err) < 0 || block_open(&disks[i].be, &o, err) < 0)
			return -1;
	}
	return 0;
}

/*
 * serial=, or one from the disk's index: the controller's subsystem NQN is made of
 * its serial, and Linux refuses a second controller that claims the first one's
 * subsystem with the same controller ID, so two controllers must not share one.
 */
static void nvme_serial(const struct disk_config *d, unsigned index, char serial[VMM_DISK_SERIAL_MAX + 1])
{
	if (d->serial[0])
		memcpy(serial, d->serial, VMM_DISK_SERIAL_MAX + 1);
	else
		snprintf(serial, VMM_DISK_SERIAL_MAX + 1, "vmm-nvme-%u", index);
}

/* The controller watches the backend's completions itself (nvme_create), as virtio-blk does. */
static int attach_nvme(struct vm_disk *disk, unsigned index, unsigned queues, struct virtio_slots *slots,
		       struct vmm_error *err)
{
	const struct disk_config *d = disk->cfg;
	char serial[VMM_DISK_SERIAL_MAX + 1];

	nvme_serial(d, index, serial);
	disk->nvme = nvme_create(slots->platform, &disk->be, queues, serial);
	if (!disk->nvme)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot create the NVMe controller for %s", d->path);
	if (nvme_attach(disk->nvme, slots->pci) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "no room on the PCI bus for another device");
	return 0;
}

static int attach_virtio_blk(struct vm_disk *disk, unsigned queues, struct virtio_slots *slots,
			     struct vmm_error *err)
{
	const struct disk_config *d = disk->cfg;

	disk->blk = virtio_blk_create(slots->platform, &disk->be, queues, d->serial);
	if (!disk->blk)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot create the virtio-blk device for %s", d->path);
	return virtio_attach(slots, virtio_blk_dev(disk->blk), d->transport, PCI_CLASS_STORAGE_OTHER,
			     &disk->transport, err);
}

int disks_attach(struct vm_disk *disks, const struct vm_config *cfg, struct virtio_slots *slots,
		 struct vmm_error *err)
{
	for (unsigned i = 0; i < cfg->nr_disks; i++) {
		const struct disk_config *d = &cfg->disks[i];
		unsigned queues = disk_queues(d, cfg);

		/* pci_host_add() takes the first free slot. */
		disks[i].pci_slot = pci_host_free_slot(slots->pci);
		int r = d->bus == DISK_BUS_NVME ? attach_nvme(&disks[i], i, queues, slots, err)
						: attach_virtio_blk(&disks[i], queues, slots, err);
		if (r < 0)
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
		nvme_destroy(disk->nvme);
		block_close(&disk->be);
		memset(disk, 0, sizeof(*disk));
	}
}
