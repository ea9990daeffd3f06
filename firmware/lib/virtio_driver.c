/*
 * Guest-side virtio driver (virtio 1.2: 4.1 PCI, 4.2 MMIO, 2.7 split
 * virtqueues, 3.1 initialization), enough for the test and benchmark guests.
 */
#include "virtio_driver.h"

uint32_t pci_read32(unsigned slot, unsigned off);
void pci_write32(unsigned slot, unsigned off, uint32_t v);

#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER 2
#define STATUS_DRIVER_OK 4
#define STATUS_FEATURES_OK 8

/* PCI common configuration (4.1.4.3) */
#define CC_DFSELECT 0x00
#define CC_DF 0x04
#define CC_GFSELECT 0x08
#define CC_GF 0x0c
#define CC_MSIX_CONFIG 0x10
#define CC_STATUS 0x14
#define CC_Q_SELECT 0x16
#define CC_Q_SIZE 0x18
#define CC_Q_MSIX 0x1a
#define CC_Q_ENABLE 0x1c
#define CC_Q_NOFF 0x1e
#define CC_Q_DESC 0x20
#define CC_Q_DRIVER 0x28
#define CC_Q_DEVICE 0x30

/* MMIO registers (4.2.2) */
#define MMIO_MAGIC 0x000
#define MMIO_VERSION 0x004
#define MMIO_DEVICE_FEATURES 0x010
#define MMIO_DEVICE_FEATURES_SEL 0x014
#define MMIO_DRIVER_FEATURES 0x020
#define MMIO_DRIVER_FEATURES_SEL 0x024
#define MMIO_QUEUE_SEL 0x030
#define MMIO_QUEUE_NUM_MAX 0x034
#define MMIO_QUEUE_NUM 0x038
#define MMIO_QUEUE_READY 0x044
#define MMIO_QUEUE_NOTIFY 0x050
#define MMIO_STATUS 0x070
#define MMIO_QUEUE_DESC 0x080
#define MMIO_QUEUE_DRIVER 0x090
#define MMIO_QUEUE_DEVICE 0x0a0
#define MMIO_CONFIG 0x100

#define USED_WAIT_CYCLES 20000000000ull
#define NO_VECTOR 0xffff
#define MSI_ADDRESS 0xfee00000u   /* physical destination APIC 0 */

static void w8(volatile uint8_t *p, uint8_t v) { *p = v; }
static void w16(volatile uint8_t *p, uint16_t v) { *(volatile uint16_t *)p = v; }
static void w32(volatile uint8_t *p, uint32_t v) { *(volatile uint32_t *)p = v; }
static uint8_t r8(volatile uint8_t *p) { return *p; }
static uint16_t r16(volatile uint8_t *p) { return *(volatile uint16_t *)p; }
static uint32_t r32(volatile uint8_t *p) { return *(volatile uint32_t *)p; }
static void w64(volatile uint8_t *p, uint64_t v) { w32(p, (uint32_t)v); w32(p + 4, (uint32_t)(v >> 32)); }

/* The 64-bit memory BAR bar of slot, with memory decoding and bus mastering on. */
static uint64_t pci_bar(unsigned slot, unsigned bar)
{
	uint32_t lo = pci_read32(slot, 0x10 + 4 * bar);
	uint64_t a = lo & ~0xfu;

	if ((lo & 6) == 4)
		a |= (uint64_t)pci_read32(slot, 0x14 + 4 * bar) << 32;
	pci_write32(slot, 0x04, pci_read32(slot, 0x04) | 0x6);
	return a;
}

int virtio_pci_open(struct vdev *d, unsigned slot)
{
	memset(d, 0, sizeof(*d));
	for (unsigned cap = pci_read32(slot, 0x34) & 0xfc; cap; cap = (pci_read32(slot, cap) >> 8) & 0xfc) {
		uint32_t head = pci_read32(slot, cap);
		if ((head & 0xff) != 0x09)
			continue;
		unsigned type = (head >> 24) & 0xff;
		unsigned bar = pci_read32(slot, cap + 4) & 0xff;
		uint64_t base = pci_bar(slot, bar);
		if (base >= (4ull << 30)) {
			printf("virtio-pci: BAR %u at 0x%lx is above the 4 GiB this firmware maps\n", bar, base);
			return -1;
		}
		volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)(base + pci_read32(slot, cap + 8));
		if (type == 1)
			d->common = p;
		else if (type == 2) {
			d->notify = p;
			d->notify_multiplier = pci_read32(slot, cap + 16);
		} else if (type == 3)
			d->isr = p;
		else if (type == 4)
			d->device = p;
	}
	return d->common && d->notify && d->isr && d->device ? 0 : -1;
}

int virtio_pci_enable_msix(struct vdev *d, unsigned slot, uint8_t vector)
{
	for (unsigned cap = pci_read32(slot, 0x34) & 0xfc; cap; cap = (pci_read32(slot, cap) >> 8) & 0xfc) {
		uint32_t head = pci_read32(slot, cap);
		if ((head & 0xff) != 0x11)
			continue;
		uint32_t table = pci_read32(slot, cap + 4);
		volatile uint8_t *entry = (volatile uint8_t *)(uintptr_t)(pci_bar(slot, table & 7) + (table & ~7u));
		w32(entry, MSI_ADDRESS);
		w32(entry + 4, 0);
		w32(entry + 8, vector);
		w32(entry + 12, 0);   /* unmasked */
		pci_write32(slot, cap, head | 0x80000000u);   /* MSI-X Enable */
		w16(d->common + CC_MSIX_CONFIG, NO_VECTOR);
		d->msix = true;
		return 0;
	}
	return -1;
}

int virtio_mmio_open(struct vdev *d, uint64_t base)
{
	memset(d, 0, sizeof(*d));
	d->mmio = true;
	d->regs = (volatile uint8_t *)(uintptr_t)base;
	if (r32(d->regs + MMIO_MAGIC) != 0x74726976 || r32(d->regs + MMIO_VERSION) != 2)
		return -1;
	return 0;
}

static __attribute__((noreturn)) void no_device(const char *name, const char *why)
{
	printf("%s test FAILED: %s\n", name, why);
	debug_exit(FW_EXIT_FAILURE);
}

int virtio_open_from_cmdline(struct vdev *d, uint16_t pci_device, const char *name)
{
	const char *transport = cmdline_get("transport");

	if (transport && !strcmp(transport, "mmio")) {
		/* cmdline_get() reuses one buffer: transport is not needed past here. */
		const char *spec = cmdline_get("virtio_mmio.device");
		const char *at = spec ? spec : "";
		while (*at && *at != '@')
			at++;
		if (!*at || virtio_mmio_open(d, strtoul(at + 1, NULL, 0)) < 0)
			no_device(name, "no virtio-mmio device (virtio_mmio.device= on the command line)");
		printf("%s over mmio\n", name);
		return -1;
	}
	int slot = pci_find(0x1af4, pci_device);
	if (slot < 0 || virtio_pci_open(d, (unsigned)slot) < 0)
		no_device(name, "no modern virtio PCI device of that type");
	printf("%s over pci, slot %d\n", name, slot);
	return slot;
}

static void set_status(struct vdev *d, uint8_t s)
{
	if (d->mmio)
		w32(d->regs + MMIO_STATUS, s);
	else
		w8(d->common + CC_STATUS, s);
}

uint8_t virtio_status(struct vdev *d)
{
	return d->mmio ? (uint8_t)r32(d->regs + MMIO_STATUS) : r8(d->common + CC_STATUS);
}

static uint32_t feature_word(struct vdev *d, unsigned w)
{
	if (d->mmio) {
		w32(d->regs + MMIO_DEVICE_FEATURES_SEL, w);
		return r32(d->regs + MMIO_DEVICE_FEATURES);
	}
	w32(d->common + CC_DFSELECT, w);
	return r32(d->common + CC_DF);
}

static void set_feature_word(struct vdev *d, unsigned w, uint32_t v)
{
	if (d->mmio) {
		w32(d->regs + MMIO_DRIVER_FEATURES_SEL, w);
		w32(d->regs + MMIO_DRIVER_FEATURES, v);
	} else {
		w32(d->common + CC_GFSELECT, w);
		w32(d->common + CC_GF, v);
	}
}

uint64_t virtio_negotiate(struct vdev *d, uint64_t wanted)
{
	set_status(d, 0);
	set_status(d, STATUS_ACKNOWLEDGE);
	set_status(d, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
	uint64_t offered = feature_word(d, 0) | (uint64_t)feature_word(d, 1) << 32;
	uint64_t f = offered & wanted;
	set_feature_word(d, 0, (uint32_t)f);
	set_feature_word(d, 1, (uint32_t)(f >> 32));
	set_status(d, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
	if (!(virtio_status(d) & STATUS_FEATURES_OK))
		return 0;
	return f;
}

int virtio_queue_setup(struct vdev *d, unsigned q, struct fw_vring *vr)
{
	uint64_t desc = (uintptr_t)vr->desc, avail = (uintptr_t)&vr->avail, used = (uintptr_t)&vr->used;

	if (d->mmio) {
		w32(d->regs + MMIO_QUEUE_SEL, q);
		if (r32(d->regs + MMIO_QUEUE_NUM_MAX) < FW_QUEUE_SIZE)
			return -1;
		w32(d->regs + MMIO_QUEUE_NUM, FW_QUEUE_SIZE);
		w64(d->regs + MMIO_QUEUE_DESC, desc);
		w64(d->regs + MMIO_QUEUE_DRIVER, avail);
		w64(d->regs + MMIO_QUEUE_DEVICE, used);
		w32(d->regs + MMIO_QUEUE_READY, 1);
		return 0;
	}
	w16(d->common + CC_Q_SELECT, (uint16_t)q);
	if (r16(d->common + CC_Q_SIZE) < FW_QUEUE_SIZE)
		return -1;
	w16(d->common + CC_Q_SIZE, FW_QUEUE_SIZE);
	w64(d->common + CC_Q_DESC, desc);
	w64(d->common + CC_Q_DRIVER, avail);
	w64(d->common + CC_Q_DEVICE, used);
	d->notify_off[q] = r16(d->common + CC_Q_NOFF);
	if (d->msix) {
		w16(d->common + CC_Q_MSIX, 0);
		if (r16(d->common + CC_Q_MSIX) != 0)
			return -1;
	}
	w16(d->common + CC_Q_ENABLE, 1);
	return 0;
}

void virtio_driver_ok(struct vdev *d)
{
	set_status(d, virtio_status(d) | STATUS_DRIVER_OK);
}

void virtio_config_read(struct vdev *d, unsigned off, void *buf, unsigned len)
{
	volatile uint8_t *base = d->mmio ? d->regs + MMIO_CONFIG : d->device;
	uint8_t *b = buf;
	for (unsigned i = 0; i < len; i++)
		b[i] = r8(base + off + i);
}

static void kick(struct vdev *d, unsigned q)
{
	if (d->mmio)
		w32(d->regs + MMIO_QUEUE_NOTIFY, q);
	else
		w16(d->notify + d->notify_off[q] * d->notify_multiplier, (uint16_t)q);
}

static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

void virtio_publish(struct vdev *d, unsigned q, struct fw_vring *vr, const uint16_t *heads, unsigned n)
{
	uint16_t old = vr->avail.idx;

	for (unsigned i = 0; i < n; i++)
		vr->avail.ring[(old + i) % FW_QUEUE_SIZE] = heads[i];
	__atomic_store_n(&vr->avail.idx, (uint16_t)(old + n), __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vr->event_idx || need_event(__atomic_load_n(&vr->used.avail_event, __ATOMIC_ACQUIRE),
					 (uint16_t)(old + n), old))
		kick(d, q);
}

static bool nothing_used(struct fw_vring *vr)
{
	return __atomic_load_n(&vr->used.idx, __ATOMIC_ACQUIRE) == vr->last_used;
}

int virtio_wait_used(struct vdev *d, struct fw_vring *vr, uint32_t *len)
{
	uint64_t deadline = rdtsc() + USED_WAIT_CYCLES;

	while (nothing_used(vr)) {
		if (rdtsc() > deadline)
			return -1;
		if (!d->msix) {
			cpu_relax();
			continue;
		}
		/* Ask for an interrupt at the next used entry, look once more, then sleep. */
		__atomic_store_n(&vr->avail.used_event, vr->last_used, __ATOMIC_RELEASE);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (nothing_used(vr))
			irq_wait();
	}
	unsigned slot = vr->last_used++ % FW_QUEUE_SIZE;
	if (len)
		*len = vr->used.ring[slot].len;
	return (int)vr->used.ring[slot].id;
}
