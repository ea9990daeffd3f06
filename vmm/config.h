/* What `vmm run` was asked to build: the result of parsing the command line. */
#ifndef VMM_CONFIG_H
#define VMM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "block_file.h"

#define VMM_MAX_VCPUS 254     /* xAPIC IDs in the MADT are 8-bit; 255 is broadcast */
#define VMM_DEFAULT_MEMORY (256ull << 20)

#define VMM_MAX_DISKS 8
#define VMM_MAX_DISK_QUEUES 64
#define VMM_DISK_SERIAL_MAX 20   /* virtio-blk GET_ID and NVMe's SN both hold 20 bytes */
#define VMM_PATH_MAX 4096

enum virtio_transport_kind {
	VIRTIO_TRANSPORT_PCI,
	VIRTIO_TRANSPORT_MMIO,
};

enum disk_bus {
	DISK_BUS_VIRTIO,    /* virtio-blk (devices/virtio_blk.c) */
	DISK_BUS_NVME,      /* an NVMe controller on PCI (devices/nvme.c) */
};

struct disk_config {
	char path[VMM_PATH_MAX];
	enum disk_bus bus;
	enum block_cache cache;
	enum block_aio aio;
	bool readonly;
	enum virtio_transport_kind transport;
	char serial[VMM_DISK_SERIAL_MAX + 1];
	unsigned queues;           /* virtio queues or NVMe I/O queue pairs; 0: one per vCPU */
};

#define VMM_MAX_NICS 8
#define VMM_MAX_NIC_QUEUES 16
#define VMM_MAX_HOSTFWD 8

enum nic_backend {
	NIC_TAP,          /* an existing tap, or one created for the VM */
	NIC_BRIDGE,       /* a new tap added to an existing bridge */
	NIC_USER,         /* user-mode NAT (libslirp) */
};

enum nic_model {
	NIC_MODEL_VIRTIO,   /* virtio-net (devices/virtio_net.c) */
	NIC_MODEL_E1000,    /* Intel 82540EM (devices/e1000.c) */
};

struct nic_config {
	enum nic_backend backend;
	enum nic_model model;
	char ifname[16];  /* the tap, or the bridge */
	uint8_t mac[6];
	bool mac_set;
	enum virtio_transport_kind transport;
	unsigned queues;                     /* queue pairs (tap and bridge); 0: one */
	char hostfwd[VMM_MAX_HOSTFWD][64];   /* user: tcp|udp:[ADDR]:PORT-[ADDR]:PORT */
	unsigned nr_hostfwd;
};

enum console_mode {
	CONSOLE_STDIO,
	CONSOLE_FILE,
	CONSOLE_NONE,
};

/* Who decompresses a bzImage's kernel (docs/linux-boot.md). */
enum kernel_decompress {
	KERNEL_DECOMPRESS_AUTO,    /* vmm on kvm_pvm hosts, the guest elsewhere */
	KERNEL_DECOMPRESS_GUEST,
	KERNEL_DECOMPRESS_VMM,
};

/* --boot: the firmware's order of the disks. */
struct boot_config {
	unsigned order[VMM_MAX_DISKS];   /* disk indexes, first to try first */
	unsigned nr_order;               /* 0: the disks in the order given */
	bool menu;                       /* the firmware's boot menu */
};

struct vm_config {
	const char *firmware;      /* the BIOS or UEFI image to boot the disks with; NULL: vmm loads the kernel */
	const char *firmware_vars; /* UEFI's variable store, kept across boots */
	struct boot_config boot;
	const char *kernel;        /* NULL: the embedded demo guest */
	enum kernel_decompress kernel_decompress;
	const char *initrd;
	const char *cmdline;
	unsigned vcpus;
	uint64_t memory;           /* bytes */
	enum console_mode console;
	const char *console_path;  /* CONSOLE_FILE */
	bool trace;
	bool stats;
	bool seccomp;              /* vmm/sandbox.c: on unless --seccomp off (or a sanitizer build) */
	struct disk_config disks[VMM_MAX_DISKS];
	unsigned nr_disks;
	struct nic_config nics[VMM_MAX_NICS];
	unsigned nr_nics;
};

#endif
