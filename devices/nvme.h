/* NVM Express controller device model (NVMe 1.4 over PCI); see nvme.c. */
#ifndef DEVICES_NVME_H
#define DEVICES_NVME_H

#include <stdbool.h>
#include <stdint.h>

#include "block_backend.h"
#include "pci.h"
#include "platform.h"

#define NVME_VENDOR_ID 0x1b36           /* Red Hat's, as QEMU's emulated controller */
#define NVME_DEVICE_ID 0x0010
#define NVME_CLASS 0x010802             /* mass storage, non-volatile memory, NVMe */
#define NVME_MAX_IO_QUEUES 64
#define NVME_QUEUE_MAX_ENTRIES 1024     /* CAP.MQES + 1 */
#define NVME_SERIAL_BYTES 20
#define NVME_BAR_SIZE 0x4000            /* registers, doorbells, the MSI-X table and PBA */
#define NVME_DOORBELLS 0x1000

struct nvme_stats {
	uint64_t commands;              /* I/O commands taken from submission queues */
	uint64_t admin_commands;
	uint64_t interrupts;            /* MSI-X messages and INTx assertions */
	uint64_t doorbell_writes;       /* doorbell writes that reached vmm (exits) */
	uint64_t shadow_polls;          /* submission queues read from the shadow doorbells */
	uint64_t errors;                /* commands completed with an error status */
};

struct nvme;

/* One controller with one namespace on backend be and nr_io_queues I/O queue pairs
 * (1..NVME_MAX_IO_QUEUES). The device takes over the backend's completion callback and,
 * with a loop in p, runs its submission queues and completions there. NULL on failure. */
struct nvme *nvme_create(const struct platform *p, const struct block_backend *be, unsigned nr_io_queues,
			 const char *serial);
void nvme_destroy(struct nvme *n);
/* Puts the controller on the PCI bus; -1 when the bus is full. */
int nvme_attach(struct nvme *n, struct pci_host *h);
struct pci_function *nvme_pci_function(struct nvme *n);
/* Runs backend completions and the submission queues: the loop calls it (and tests do). */
void nvme_complete_io(void *nvme);
struct nvme_stats nvme_stats(struct nvme *n);

#endif
