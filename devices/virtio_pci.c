/*
 * Virtio over PCI, modern interface only (virtio 1.2, section 4.1): the
 * common, notify, ISR and device-specific configuration structures in one
 * 64-bit memory BAR, found through vendor capabilities, plus the
 * VIRTIO_PCI_CAP_PCI_CFG window (4.1.4.9) and MSI-X with one vector per
 * queue and one for configuration changes. Without MSI-X the device falls
 * back to INTx and the ISR status register (4.1.4.5).
 *
 * Queue kicks: once the driver sets DRIVER_OK each ready queue's notify
 * address is bound to its kick (virtio_kick.c), so a kick costs no exit to
 * vmm; a BAR the guest moves takes its bindings along.
 */
#include "virtio_pci.h"

#include <stdlib.h>
#include <string.h>

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040

#define CAP_COMMON_CFG 1
#define CAP_NOTIFY_CFG 2
#define CAP_ISR_CFG 3
#define CAP_DEVICE_CFG 4
#define CAP_PCI_CFG 5

#define CAP_LEN 16
#define NOTIFY_CAP_LEN 20
#define PCI_CFG_CAP_LEN 20
#define MSIX_CAP_LEN 12
/* Offsets inside a virtio_pci_cap and the PCI_CFG capability. */
#define CAP_BAR 4
#define CAP_OFFSET 8
#define CAP_LENGTH 12
#define CAP_DATA 16
#define MSIX_CONTROL 2

#define ISR_QUEUE 1
#define ISR_CONFIG 2

struct virtio_pci {
	struct pci_function pci;
	struct virtio_dev *vdev;
	struct msix msix;
	unsigned msix_cap, cfg_cap;

	uint32_t device_feature_select, driver_feature_select;
	uint16_t queue_select;
	uint16_t config_vector;
	uint16_t *queue_vector;
	uint8_t _Atomic isr;

	bool active;               /* DRIVER_OK: kicks should be bound wherever the BAR is */
};

/* Common configuration fields (4.1.4.3): offset and width. */
enum {
	CC_DFSELECT = 0x00, CC_DF = 0x04, CC_GFSELECT = 0x08, CC_GF = 0x0c,
	CC_MSIX_CONFIG = 0x10, CC_NUM_QUEUES = 0x12, CC_STATUS = 0x14, CC_CFG_GENERATION = 0x15,
	CC_Q_SELECT = 0x16, CC_Q_SIZE = 0x18, CC_Q_MSIX = 0x1a, CC_Q_ENABLE = 0x1c,
	CC_Q_NOFF = 0x1e, CC_Q_DESC = 0x20, CC_Q_DRIVER = 0x28, CC_Q_DEVICE = 0x30,
	CC_Q_NOTIFY_DATA = 0x38, CC_Q_RESET = 0x3a, CC_END = 0x3c,
};

static const uint8_t common_widths[CC_END] = {
	[CC_DFSELECT] = 4, [CC_DF] = 4, [CC_GFSELECT] = 4, [CC_GF] = 4, [CC_MSIX_CONFIG] = 2,
	[CC_NUM_QUEUES] = 2, [CC_STATUS] = 1, [CC_CFG_GENERATION] = 1, [CC_Q_SELECT] = 2,
	[CC_Q_SIZE] = 2, [CC_Q_MSIX] = 2, [CC_Q_ENABLE] = 2, [CC_Q_NOFF] = 2, [CC_Q_DESC] = 8,
	[CC_Q_DRIVER] = 8, [CC_Q_DEVICE] = 8, [CC_Q_NOTIFY_DATA] = 2, [CC_Q_RESET] = 2,
};

/* The field that byte off belongs to. */
static unsigned field_of(unsigned off)
{
	unsigned f = off;
	while (!common_widths[f])
		f--;
	return f;
}

static struct virtqueue *selected_queue(struct virtio_pci *vp)
{
	return vp->queue_select < vp->vdev->nr_queues ? &vp->vdev->queues[vp->queue_select] : NULL;
}

static uint64_t common_get(struct virtio_pci *vp, unsigned field)
{
	struct virtio_dev *vdev = vp->vdev;
	struct virtqueue *vq = selected_queue(vp);

	switch (field) {
	case CC_DFSELECT: return vp->device_feature_select;
	case CC_DF: return virtio_device_features_word(vdev, vp->device_feature_select);
	case CC_GFSELECT: return vp->driver_feature_select;
	case CC_GF: return vp->driver_feature_select < 2 ? (uint32_t)(vdev->driver_features >> (32 * vp->driver_feature_select)) : 0;
	case CC_MSIX_CONFIG: return vp->config_vector;
	case CC_NUM_QUEUES: return vdev->nr_queues;
	case CC_STATUS: return vdev->status;
	case CC_CFG_GENERATION: return vdev->config_generation;
	case CC_Q_SELECT: return vp->queue_select;
	case CC_Q_SIZE: return vq ? vq->size : 0;
	case CC_Q_MSIX: return vq ? vp->queue_vector[vp->queue_select] : MSIX_NO_VECTOR;
	case CC_Q_ENABLE: return vq ? vq->ready : 0;
	case CC_Q_NOFF:
	case CC_Q_NOTIFY_DATA: return vp->queue_select;
	case CC_Q_DESC: return vq ? vq->desc_gpa : 0;
	case CC_Q_DRIVER: return vq ? vq->avail_gpa : 0;
	case CC_Q_DEVICE: return vq ? vq->used_gpa : 0;
	default: return 0;
	}
}

static uint16_t valid_vector(const struct virtio_pci *vp, uint64_t v)
{
	return v < vp->msix.nr ? (uint16_t)v : MSIX_NO_VECTOR;
}

static void set_queue_field(struct virtio_pci *vp, unsigned field, uint64_t v)
{
	struct virtio_dev *vdev = vp->vdev;
	unsigned q = vp->queue_select;

	if (q >= vdev->nr_queues)
		return;
	switch (field) {
	case CC_Q_ENABLE:   /* only 1 means anything (4.1.4.3.2) */
		if (v == 1)
			virtio_queue_set_ready(vdev, q, true);
		break;
	case CC_Q_RESET:
		if (v == 1)
			virtio_queue_set_ready(vdev, q, false);
		break;
	case CC_Q_MSIX:
		vp->queue_vector[q] = valid_vector(vp, v);
		break;
	case CC_Q_SIZE:
		virtio_queue_set_field(vdev, q, VIRTIO_QUEUE_SIZE, v);
		break;
	case CC_Q_DESC:
		virtio_queue_set_field(vdev, q, VIRTIO_QUEUE_DESC, v);
		break;
	case CC_Q_DRIVER:
		virtio_queue_set_field(vdev, q, VIRTIO_QUEUE_DRIVER, v);
		break;
	case CC_Q_DEVICE:
		virtio_queue_set_field(vdev, q, VIRTIO_QUEUE_DEVICE, v);
		break;
	}
}

static void transport_reset(struct virtio_pci *vp)
{
	vp->config_vector = MSIX_NO_VECTOR;
	for (unsigned q = 0; q < vp->vdev->nr_queues; q++)
		vp->queue_vector[q] = MSIX_NO_VECTOR;
	vp->isr = 0;
	pci_set_intx(&vp->pci, false);
}

static void common_set(struct virtio_pci *vp, unsigned field, uint64_t v)
{
	switch (field) {
	case CC_DFSELECT:
		vp->device_feature_select = (uint32_t)v;
		break;
	case CC_GFSELECT:
		vp->driver_feature_select = (uint32_t)v;
		break;
	case CC_GF:
		virtio_set_driver_features(vp->vdev, vp->driver_feature_select, (uint32_t)v);
		break;
	case CC_MSIX_CONFIG:
		vp->config_vector = valid_vector(vp, v);
		break;
	case CC_STATUS:
		virtio_set_status(vp->vdev, (uint8_t)v);
		if (v == 0)
			transport_reset(vp);
		break;
	case CC_Q_SELECT:
		vp->queue_select = (uint16_t)v;
		break;
	default:
		set_queue_field(vp, field, v);
	}
}

static void common_read(struct virtio_pci *vp, uint64_t off, uint8_t *data, unsigned size)
{
	for (unsigned i = 0; i < size; i++) {
		uint64_t o = off + i;
		if (o >= CC_END) {
			data[i] = 0;
			continue;
		}
		unsigned f = field_of((unsigned)o);
		data[i] = (uint8_t)(common_get(vp, f) >> (8 * (o - f)));
	}
}

static void common_write(struct virtio_pci *vp, uint64_t off, const uint8_t *data, unsigned size)
{
	if (off >= CC_END || size > CC_END - off)
		return;
	unsigned f = field_of((unsigned)off);
	/* Read-modify-write, so a 64-bit field may be written as two halves. */
	uint64_t v = common_get(vp, f);
	for (unsigned i = 0; i < size; i++) {
		unsigned shift = 8 * ((unsigned)off + i - f);
		if ((unsigned)off + i >= f + common_widths[f])
			break;
		v = (v & ~(0xffull << shift)) | ((uint64_t)data[i] << shift);
	}
	common_set(vp, f, v);
}

static uint8_t read_isr(struct virtio_pci *vp)
{
	uint8_t v = atomic_exchange(&vp->isr, 0);
	pci_set_intx(&vp->pci, false);
	return v;
}

static void vp_bar_read(struct pci_function *f, int bar, uint64_t off, uint8_t *data, unsigned size)
{
	struct virtio_pci *vp = f->opaque;

	memset(data, 0, size);
	if (bar != VIRTIO_PCI_BAR)
		return;
	if (off < VIRTIO_PCI_ISR)
		common_read(vp, off, data, size);
	else if (off == VIRTIO_PCI_ISR)
		data[0] = read_isr(vp);
	else if (off >= VIRTIO_PCI_DEVICE && off < VIRTIO_PCI_NOTIFY)
		vp->vdev->ops->config_read(vp->vdev, (uint32_t)(off - VIRTIO_PCI_DEVICE), data, size);
	else if (off >= VIRTIO_PCI_MSIX_TABLE && off < VIRTIO_PCI_MSIX_PBA)
		msix_table_read(&vp->msix, off - VIRTIO_PCI_MSIX_TABLE, data, size);
	else if (off >= VIRTIO_PCI_MSIX_PBA)
		msix_pba_read(&vp->msix, off - VIRTIO_PCI_MSIX_PBA, data, size);
}

static void config_write_locked(struct virtio_dev *vdev, uint32_t off, const uint8_t *data, unsigned size)
{
	pthread_mutex_lock(&vdev->lock);
	vdev->ops->config_write(vdev, off, data, size);
	pthread_mutex_unlock(&vdev->lock);
}

static void vp_bar_write(struct pci_function *f, int bar, uint64_t off, const uint8_t *data, unsigned size)
{
	struct virtio_pci *vp = f->opaque;

	if (bar != VIRTIO_PCI_BAR)
		return;
	if (off < VIRTIO_PCI_ISR)
		common_write(vp, off, data, size);
	else if (off >= VIRTIO_PCI_DEVICE && off < VIRTIO_PCI_NOTIFY)
		config_write_locked(vp->vdev, (uint32_t)(off - VIRTIO_PCI_DEVICE), data, size);
	else if (off >= VIRTIO_PCI_NOTIFY && off < VIRTIO_PCI_MSIX_TABLE)
		virtio_queue_notify(vp->vdev, (unsigned)((off - VIRTIO_PCI_NOTIFY) / VIRTIO_PCI_NOTIFY_MULTIPLIER));
	else if (off >= VIRTIO_PCI_MSIX_TABLE && off < VIRTIO_PCI_MSIX_PBA)
		msix_table_write(&vp->msix, off - VIRTIO_PCI_MSIX_TABLE, data, size);
}

/* The VIRTIO_PCI_CAP_PCI_CFG window: a BAR access named in config space. */
static bool cfg_window(struct virtio_pci *vp, unsigned off, unsigned size, uint64_t *bar_off, unsigned *len)
{
	const uint8_t *cap = vp->pci.cfg + vp->cfg_cap;
	uint32_t length, offset;

	if (!vp->cfg_cap || off != vp->cfg_cap + CAP_DATA || size != 4)
		return false;
	memcpy(&offset, cap + CAP_OFFSET, 4);
	memcpy(&length, cap + CAP_LENGTH, 4);
	if (cap[CAP_BAR] != VIRTIO_PCI_BAR || (length != 1 && length != 2 && length != 4) ||
	    offset >= VIRTIO_PCI_BAR_SIZE || length > VIRTIO_PCI_BAR_SIZE - offset)
		return false;
	*bar_off = offset;
	*len = length;
	return true;
}

static bool vp_config_read(struct pci_function *f, unsigned off, uint8_t *data, unsigned size)
{
	struct virtio_pci *vp = f->opaque;
	uint64_t bar_off;
	unsigned len;

	if (!cfg_window(vp, off, size, &bar_off, &len))
		return false;
	memset(data, 0, size);
	vp_bar_read(f, VIRTIO_PCI_BAR, bar_off, data, len);
	return true;
}

static void vp_config_written(struct pci_function *f, unsigned off, unsigned size)
{
	struct virtio_pci *vp = f->opaque;
	uint64_t bar_off;
	unsigned len;

	if (cfg_window(vp, off, size, &bar_off, &len))
		vp_bar_write(f, VIRTIO_PCI_BAR, bar_off, f->cfg + off, len);
	if (off <= vp->msix_cap + MSIX_CONTROL + 1 && off + size > vp->msix_cap + MSIX_CONTROL) {
		uint16_t ctl = pci_cfg16(f, vp->msix_cap + MSIX_CONTROL);
		msix_set_control(&vp->msix, ctl & MSIX_CONTROL_ENABLE, ctl & MSIX_CONTROL_MASK);
	}
}

/* Each ready queue's notify address signals its kick (virtio_kick.c), while the BAR is mapped. */
static void bind_kicks(struct virtio_pci *vp)
{
	uint64_t bar = vp->pci.bars[VIRTIO_PCI_BAR].mapped_at;

	if (!bar)
		return;
	for (unsigned q = 0; q < vp->vdev->nr_queues; q++) {
		struct ioevent where = { .space = IOEVENT_MMIO,
					 .addr = bar + VIRTIO_PCI_NOTIFY + q * VIRTIO_PCI_NOTIFY_MULTIPLIER };
		if (vp->vdev->queues[q].ready)
			virtio_kick_bind(vp->vdev, q, &where);
	}
}

static void vp_bar_mapped(struct pci_function *f, int bar, uint64_t addr)
{
	struct virtio_pci *vp = f->opaque;

	(void)addr;
	if (bar != VIRTIO_PCI_BAR)
		return;
	/* The doorbells moved, or went away with memory decoding. */
	pthread_mutex_lock(&vp->vdev->lock);
	virtio_kicks_unbind(vp->vdev);
	if (vp->active)
		bind_kicks(vp);
	pthread_mutex_unlock(&vp->vdev->lock);
}

static const struct pci_function_ops vp_pci_ops = {
	.bar_read = vp_bar_read,
	.bar_write = vp_bar_write,
	.config_read = vp_config_read,
	.config_written = vp_config_written,
	.bar_mapped = vp_bar_mapped,
};

static void signal_vector(struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit)
{
	if (msix_enabled(&vp->msix)) {
		if (vector != MSIX_NO_VECTOR)
			msix_notify(&vp->msix, vector);
		return;
	}
	atomic_fetch_or(&vp->isr, isr_bit);
	pci_set_intx(&vp->pci, true);
}

static void vp_signal_queue(void *t, unsigned q)
{
	struct virtio_pci *vp = t;
	signal_vector(vp, vp->queue_vector[q], ISR_QUEUE);
}

static void vp_signal_config(void *t)
{
	struct virtio_pci *vp = t;
	signal_vector(vp, vp->config_vector, ISR_CONFIG);
}

static void vp_activate(void *t)
{
	struct virtio_pci *vp = t;

	vp->active = true;
	bind_kicks(vp);
}

static void vp_deactivate(void *t)
{
	struct virtio_pci *vp = t;

	vp->active = false;
	virtio_kicks_unbind(vp->vdev);
}

static const struct virtio_transport_ops vp_transport_ops = {
	.signal_queue = vp_signal_queue,
	.signal_config = vp_signal_config,
	.activate = vp_activate,
	.deactivate = vp_deactivate,
};

static void add_virtio_cap(struct pci_function *f, uint8_t type, uint32_t offset, uint32_t length, unsigned len)
{
	unsigned c = pci_add_capability(f, PCI_CAP_ID_VNDR, len);

	f->cfg[c + 2] = (uint8_t)len;
	f->cfg[c + 3] = type;
	f->cfg[c + CAP_BAR] = VIRTIO_PCI_BAR;
	pci_set_cfg32(f, c + CAP_OFFSET, offset);
	pci_set_cfg32(f, c + CAP_LENGTH, length);
	if (type == CAP_NOTIFY_CFG)
		pci_set_cfg32(f, c + CAP_DATA, VIRTIO_PCI_NOTIFY_MULTIPLIER);
}

static void build_config_space(struct virtio_pci *vp, uint32_t class_code)
{
	struct pci_function *f = &vp->pci;
	struct virtio_dev *vdev = vp->vdev;

	pci_function_init(f, vdev->ops->name, VIRTIO_PCI_VENDOR,
			  (uint16_t)(VIRTIO_PCI_DEVICE_BASE + vdev->ops->device_id), class_code, 1);
	pci_set_cfg16(f, PCI_SUBSYSTEM_ID, (uint16_t)(VIRTIO_PCI_DEVICE_BASE + vdev->ops->device_id));
	f->ops = &vp_pci_ops;
	f->opaque = vp;
	pci_add_bar(f, VIRTIO_PCI_BAR, VIRTIO_PCI_BAR_SIZE, PCI_BAR_MEM64 | PCI_BAR_PREFETCH);

	vp->msix_cap = pci_add_capability(f, PCI_CAP_ID_MSIX, MSIX_CAP_LEN);
	pci_set_cfg16(f, vp->msix_cap + MSIX_CONTROL, (uint16_t)(vp->msix.nr - 1));
	pci_set_cfg32(f, vp->msix_cap + 4, VIRTIO_PCI_MSIX_TABLE | VIRTIO_PCI_BAR);
	pci_set_cfg32(f, vp->msix_cap + 8, VIRTIO_PCI_MSIX_PBA | VIRTIO_PCI_BAR);
	f->wmask[vp->msix_cap + MSIX_CONTROL + 1] = (MSIX_CONTROL_ENABLE | MSIX_CONTROL_MASK) >> 8;

	add_virtio_cap(f, CAP_COMMON_CFG, VIRTIO_PCI_COMMON, CC_END, CAP_LEN);
	add_virtio_cap(f, CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY,
		       vdev->nr_queues * VIRTIO_PCI_NOTIFY_MULTIPLIER, NOTIFY_CAP_LEN);
	add_virtio_cap(f, CAP_ISR_CFG, VIRTIO_PCI_ISR, 1, CAP_LEN);
	add_virtio_cap(f, CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE, vdev->ops->config_size, CAP_LEN);
	vp->cfg_cap = pci_add_capability(f, PCI_CAP_ID_VNDR, PCI_CFG_CAP_LEN);
	f->cfg[vp->cfg_cap + 2] = PCI_CFG_CAP_LEN;
	f->cfg[vp->cfg_cap + 3] = CAP_PCI_CFG;
	memset(f->wmask + vp->cfg_cap + CAP_BAR, 0xff, 1);
	memset(f->wmask + vp->cfg_cap + CAP_OFFSET, 0xff, PCI_CFG_CAP_LEN - CAP_OFFSET);
}

struct virtio_pci *virtio_pci_create(struct virtio_dev *vdev, const struct platform *p, uint32_t class_code)
{
	struct virtio_pci *vp = calloc(1, sizeof(*vp));

	if (!vp)
		return NULL;
	vp->vdev = vdev;
	vp->queue_vector = calloc(vdev->nr_queues, sizeof(uint16_t));
	if (!vp->queue_vector || msix_init(&vp->msix, vdev->nr_queues + 1, p->irq) < 0 ||
	    virtio_kicks_init(vdev, p->ioevents, p->loop) < 0) {
		virtio_pci_destroy(vp);
		return NULL;
	}
	build_config_space(vp, class_code);
	transport_reset(vp);
	virtio_attach_transport(vdev, &vp_transport_ops, vp);
	return vp;
}

struct pci_function *virtio_pci_function(struct virtio_pci *vp)
{
	return &vp->pci;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	if (!vp)
		return;
	virtio_kicks_destroy(vp->vdev);
	if (vp->msix.table)
		msix_destroy(&vp->msix);
	free(vp->queue_vector);
	free(vp);
}
