/* MSI-X table, pending bits and delivery; see msix.c. */
#ifndef DEVICES_MSIX_H
#define DEVICES_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "irq.h"

#define MSIX_ENTRY_BYTES 16
#define MSIX_NO_VECTOR 0xffff
/* Message Control bits of the MSI-X capability */
#define MSIX_CONTROL_ENABLE 0x8000
#define MSIX_CONTROL_MASK 0x4000

struct msix_entry {
	uint32_t addr_lo, addr_hi, data, control;
};

struct msix {
	pthread_mutex_t lock;
	unsigned nr;
	struct msix_entry *table;
	uint64_t *pending;            /* one bit per vector */
	bool enabled, function_masked;
	struct irq_controller *irq;
	int *irqfd;                   /* per vector: eventfd bound to its MSI, or -1 */
	int *route;                   /* per vector: the route behind irqfd, or -1 */
};

int msix_init(struct msix *m, unsigned nr, struct irq_controller *irq);
void msix_destroy(struct msix *m);
void msix_table_read(struct msix *m, uint64_t offset, uint8_t *data, unsigned size);
void msix_table_write(struct msix *m, uint64_t offset, const uint8_t *data, unsigned size);
void msix_pba_read(struct msix *m, uint64_t offset, uint8_t *data, unsigned size);
/* The capability's Enable and Function Mask bits changed. */
void msix_set_control(struct msix *m, bool enabled, bool function_masked);
bool msix_enabled(struct msix *m);
/* Sends vector v, or marks it pending while it is masked. */
void msix_notify(struct msix *m, unsigned v);

#endif
