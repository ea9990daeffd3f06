/*
 * KVM behind the platform's interrupt and doorbell interfaces. GSI
 * routing: KVM_SET_GSI_ROUTING replaces the whole table, so we keep it:
 * GSIs 0-15 on the PIC and IOAPIC pins as on a PC, with GSI 0 on IOAPIC
 * pin 2 as the MADT's override says (and QEMU does); 16-23 on IOAPIC pins;
 * MSI routes for irqfds from 24 up. Doorbells: KVM_IOEVENTFD and
 * KVM_REGISTER_COALESCED_MMIO.
 */
#include "kvm_irq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define IOAPIC_PINS 24
#define PIC_PINS 16

static struct kvm_irq_routing_entry *add_entry(struct kvm_irq *k)
{
	if (k->routing->nr >= KVM_IRQ_MAX_ROUTES)
		return NULL;
	struct kvm_irq_routing_entry *e = &k->routing->entries[k->routing->nr++];
	memset(e, 0, sizeof(*e));
	return e;
}

static void add_pin(struct kvm_irq *k, uint32_t gsi, uint32_t chip, uint32_t pin)
{
	struct kvm_irq_routing_entry *e = add_entry(k);

	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_IRQCHIP;
	e->u.irqchip.irqchip = chip;
	e->u.irqchip.pin = pin;
}

int kvm_irq_init(struct kvm_irq *k, int vm_fd, struct vmm_error *err)
{
	memset(k, 0, sizeof(*k));
	k->vm_fd = vm_fd;
	pthread_mutex_init(&k->lock, NULL);
	k->routing = calloc(1, sizeof(*k->routing) + KVM_IRQ_MAX_ROUTES * sizeof(struct kvm_irq_routing_entry));
	if (!k->routing)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "out of memory");
	for (uint32_t gsi = 0; gsi < PIC_PINS; gsi++)
		if (gsi != 2)
			add_pin(k, gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE, gsi % 8);
	add_pin(k, 0, KVM_IRQCHIP_IOAPIC, 2);
	for (uint32_t gsi = 1; gsi < IOAPIC_PINS; gsi++)
		if (gsi != 2)
			add_pin(k, gsi, KVM_IRQCHIP_IOAPIC, gsi);
	k->next_gsi = IOAPIC_PINS;
	if (ioctl(vm_fd, KVM_SET_GSI_ROUTING, k->routing) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "KVM_SET_GSI_ROUTING failed: %s", strerror(errno));
	return 0;
}

void kvm_irq_destroy(struct kvm_irq *k)
{
	free(k->routing);
	k->routing = NULL;
	pthread_mutex_destroy(&k->lock);
}

static void set_gsi(void *ctx, uint32_t gsi, bool level)
{
	struct kvm_irq *k = ctx;
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	ioctl(k->vm_fd, KVM_IRQ_LINE, &irq);
}

static void send_msi(void *ctx, uint64_t addr, uint32_t data)
{
	struct kvm_irq *k = ctx;
	struct kvm_msi msi = { .address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32), .data = data };

	ioctl(k->vm_fd, KVM_SIGNAL_MSI, &msi);
}

static struct kvm_irq_routing_entry *find_route(struct kvm_irq *k, uint32_t gsi)
{
	for (uint32_t i = 0; i < k->routing->nr; i++)
		if (k->routing->entries[i].gsi == gsi && k->routing->entries[i].type == KVM_IRQ_ROUTING_MSI)
			return &k->routing->entries[i];
	return NULL;
}

static int msi_irqfd(void *ctx, int *route, int fd, uint64_t addr, uint32_t data)
{
	struct kvm_irq *k = ctx;
	struct kvm_irq_routing_entry *e;
	int ret = -1;

	pthread_mutex_lock(&k->lock);
	bool fresh = *route < 0;
	e = fresh ? add_entry(k) : find_route(k, (uint32_t)*route);
	if (!e)
		goto out;
	if (fresh) {
		e->gsi = k->next_gsi++;
		e->type = KVM_IRQ_ROUTING_MSI;
	}
	e->u.msi.address_lo = (uint32_t)addr;
	e->u.msi.address_hi = (uint32_t)(addr >> 32);
	e->u.msi.data = data;
	if (ioctl(k->vm_fd, KVM_SET_GSI_ROUTING, k->routing) < 0)
		goto out;
	if (fresh) {
		struct kvm_irqfd irqfd = { .fd = (uint32_t)fd, .gsi = e->gsi };
		if (ioctl(k->vm_fd, KVM_IRQFD, &irqfd) < 0)
			goto out;
		*route = (int)e->gsi;
	}
	ret = 0;
out:
	pthread_mutex_unlock(&k->lock);
	return ret;
}

static void msi_irqfd_release(void *ctx, int route, int fd)
{
	struct kvm_irq *k = ctx;
	struct kvm_irqfd irqfd = { .fd = (uint32_t)fd, .gsi = (uint32_t)route, .flags = KVM_IRQFD_FLAG_DEASSIGN };

	if (route >= 0)
		ioctl(k->vm_fd, KVM_IRQFD, &irqfd);
}

/* Level-triggered INTx on an irqfd: KVM lowers the line at EOI and signals resample_fd. */
static int intx_irqfd(void *ctx, uint32_t gsi, int fd, int resample_fd, bool assign)
{
	struct kvm_irq *k = ctx;
	struct kvm_irqfd irqfd = { .fd = (uint32_t)fd, .gsi = gsi, .resamplefd = (uint32_t)resample_fd,
				   .flags = assign ? KVM_IRQFD_FLAG_RESAMPLE : KVM_IRQFD_FLAG_DEASSIGN };

	return ioctl(k->vm_fd, KVM_IRQFD, &irqfd);
}

static const struct irq_controller_ops kvm_irq_ops = {
	.set_gsi = set_gsi,
	.send_msi = send_msi,
	.msi_irqfd = msi_irqfd,
	.msi_irqfd_release = msi_irqfd_release,
	.intx_irqfd = intx_irqfd,
};

struct irq_controller kvm_irq_controller(struct kvm_irq *k)
{
	return (struct irq_controller){ &kvm_irq_ops, k };
}

static int ioeventfd(struct kvm_irq *k, const struct ioevent *ev, int fd, bool assign)
{
	struct kvm_ioeventfd kev = {
		.datamatch = ev->data, .addr = ev->addr, .len = ev->len, .fd = fd,
		.flags = (ev->match_data ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0u) |
			 (ev->space == IOEVENT_PIO ? KVM_IOEVENTFD_FLAG_PIO : 0u) |
			 (assign ? 0u : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	return ioctl(k->vm_fd, KVM_IOEVENTFD, &kev);
}

static int ioevent_assign(void *ctx, const struct ioevent *ev, int fd)
{
	return ioeventfd(ctx, ev, fd, true);
}

static void ioevent_deassign(void *ctx, const struct ioevent *ev, int fd)
{
	ioeventfd(ctx, ev, fd, false);
}

/* Only MMIO zones count for the main thread's periodic drain (ioevent.h). */
static int coalesce(void *ctx, enum ioevent_space space, uint64_t addr, uint64_t len, bool on)
{
	struct kvm_irq *k = ctx;
	bool pio = space == IOEVENT_PIO;
	struct kvm_coalesced_mmio_zone zone = { .addr = addr, .size = (uint32_t)len, .pio = pio };

	if (pio && ioctl(k->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO) <= 0)
		return -1;
	int r = ioctl(k->vm_fd, on ? KVM_REGISTER_COALESCED_MMIO : KVM_UNREGISTER_COALESCED_MMIO, &zone);
	if (r == 0 && !pio && on)
		atomic_fetch_add(&k->coalesced_zones, 1);
	else if (r == 0 && !pio)
		atomic_fetch_sub(&k->coalesced_zones, 1);
	return r;
}

static const struct ioevent_ops kvm_ioevent_ops = {
	.assign = ioevent_assign,
	.deassign = ioevent_deassign,
	.coalesce = coalesce,
};

struct ioevents kvm_ioevents(struct kvm_irq *k)
{
	return (struct ioevents){ &kvm_ioevent_ops, k };
}
