/*
 * MSI-X (PCI Local Bus Specification 3.0, section 6.8.2): a table of
 * (address, data, vector control) entries and a pending-bit array, both in
 * a BAR. A vector that fires while masked (its own mask bit, or the
 * function mask) sets its pending bit and is sent when unmasked.
 *
 * Where the hypervisor offers it, each vector is bound to an eventfd
 * (KVM_IRQFD on an MSI route), so the I/O thread interrupts the guest with
 * one write(2) and no ioctl; the route follows the guest's table writes.
 */
#include "msix.h"

#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define ENTRY_MASKED 1u

int msix_init(struct msix *m, unsigned nr, struct irq_controller *irq)
{
	memset(m, 0, sizeof(*m));
	m->nr = nr;
	m->irq = irq;
	m->table = calloc(nr, sizeof(*m->table));
	m->pending = calloc((nr + 63) / 64, sizeof(uint64_t));
	m->irqfd = malloc(nr * sizeof(int));
	m->route = malloc(nr * sizeof(int));
	if (!m->table || !m->pending || !m->irqfd || !m->route) {
		msix_destroy(m);
		return -1;
	}
	for (unsigned i = 0; i < nr; i++) {
		m->table[i].control = ENTRY_MASKED;
		m->irqfd[i] = m->route[i] = -1;
	}
	pthread_mutex_init(&m->lock, NULL);
	return 0;
}

void msix_destroy(struct msix *m)
{
	for (unsigned i = 0; m->irqfd && i < m->nr; i++) {
		if (m->irqfd[i] >= 0) {
			if (m->irq->ops->msi_irqfd_release)
				m->irq->ops->msi_irqfd_release(m->irq->ctx, m->route[i], m->irqfd[i]);
			close(m->irqfd[i]);
		}
	}
	free(m->table);
	free(m->pending);
	free(m->irqfd);
	free(m->route);
	m->table = NULL;
	m->pending = NULL;
	m->irqfd = m->route = NULL;
}

static uint64_t entry_addr(const struct msix_entry *e)
{
	return (uint64_t)e->addr_hi << 32 | e->addr_lo;
}

static bool masked(const struct msix *m, unsigned v)
{
	return m->function_masked || (m->table[v].control & ENTRY_MASKED);
}

static void deliver(struct msix *m, unsigned v)
{
	uint64_t one = 1;

	if (m->irqfd[v] >= 0 && write(m->irqfd[v], &one, sizeof(one)) == sizeof(one))
		return;
	m->irq->ops->send_msi(m->irq->ctx, entry_addr(&m->table[v]), m->table[v].data);
}

static void send_pending(struct msix *m)
{
	if (!m->enabled)
		return;
	for (unsigned v = 0; v < m->nr; v++) {
		uint64_t bit = 1ull << (v % 64);
		if ((m->pending[v / 64] & bit) && !masked(m, v)) {
			m->pending[v / 64] &= ~bit;
			deliver(m, v);
		}
	}
}

/* Points vector v's eventfd at its current address and data. */
static void sync_route(struct msix *m, unsigned v)
{
	if (!m->irq->ops->msi_irqfd)
		return;
	if (m->irqfd[v] < 0)
		m->irqfd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->irqfd[v] >= 0 &&
	    m->irq->ops->msi_irqfd(m->irq->ctx, &m->route[v], m->irqfd[v], entry_addr(&m->table[v]),
				   m->table[v].data) < 0) {
		close(m->irqfd[v]);
		m->irqfd[v] = -1;
	}
}

void msix_table_read(struct msix *m, uint64_t offset, uint8_t *data, unsigned size)
{
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < size; i++) {
		uint64_t o = offset + i;
		data[i] = o < (uint64_t)m->nr * MSIX_ENTRY_BYTES ? ((uint8_t *)m->table)[o] : 0;
	}
	pthread_mutex_unlock(&m->lock);
}

void msix_table_write(struct msix *m, uint64_t offset, const uint8_t *data, unsigned size)
{
	/* An access may not straddle two entries (6.8.2: DWORD or QWORD aligned). */
	if (offset >= (uint64_t)m->nr * MSIX_ENTRY_BYTES || offset % MSIX_ENTRY_BYTES + size > MSIX_ENTRY_BYTES)
		return;
	unsigned v = (unsigned)(offset / MSIX_ENTRY_BYTES);
	pthread_mutex_lock(&m->lock);
	memcpy((uint8_t *)m->table + offset, data, size);
	m->table[v].control &= ENTRY_MASKED;   /* the rest of Vector Control is reserved */
	if (offset % MSIX_ENTRY_BYTES < 12)
		sync_route(m, v);
	send_pending(m);
	pthread_mutex_unlock(&m->lock);
}

void msix_pba_read(struct msix *m, uint64_t offset, uint8_t *data, unsigned size)
{
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < size; i++) {
		uint64_t o = offset + i;
		data[i] = o < ((uint64_t)m->nr + 7) / 8 ? (uint8_t)(m->pending[o / 8] >> (8 * (o % 8))) : 0;
	}
	pthread_mutex_unlock(&m->lock);
}

void msix_set_control(struct msix *m, bool enabled, bool function_masked)
{
	pthread_mutex_lock(&m->lock);
	m->enabled = enabled;
	m->function_masked = function_masked;
	send_pending(m);
	pthread_mutex_unlock(&m->lock);
}

bool msix_enabled(struct msix *m)
{
	pthread_mutex_lock(&m->lock);
	bool e = m->enabled;
	pthread_mutex_unlock(&m->lock);
	return e;
}

void msix_notify(struct msix *m, unsigned v)
{
	pthread_mutex_lock(&m->lock);
	if (m->enabled && v < m->nr) {
		if (masked(m, v))
			m->pending[v / 64] |= 1ull << (v % 64);
		else
			deliver(m, v);
	}
	pthread_mutex_unlock(&m->lock);
}
