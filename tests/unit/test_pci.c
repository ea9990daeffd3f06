/* PCI config space, BARs, the host bridge's two access paths, MSI-X and the virtio-pci transport. */
#include <stdio.h>
#include <string.h>

#include "fake_guest.h"
#include "memmap.h"
#include "msix.h"
#include "pci.h"
#include "suites.h"
#include "virtio_pci.h"

static struct bus pio, mmio;
static struct pci_host host;
static struct irq_recorder irqs;
static struct doorbell_recorder doorbells;
static struct fake_guest g;
static struct virtio_dev vdev;
static struct virtio_pci *vp;
static struct pci_function *fn;
static uint8_t dev_config[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static unsigned notified[4];

static void cfg_read(struct virtio_dev *d, uint32_t off, uint8_t *data, unsigned size)
{
	(void)d;
	for (unsigned i = 0; i < size; i++)
		data[i] = off + i < sizeof(dev_config) ? dev_config[off + i] : 0;
}

static void cfg_write(struct virtio_dev *d, uint32_t off, const uint8_t *data, unsigned size)
{
	(void)d;
	if (off < sizeof(dev_config) && size == 1)
		dev_config[off] = data[0];
}

static void queue_notify(struct virtio_dev *d, unsigned q)
{
	(void)d;
	notified[q]++;
}

static void reset(struct virtio_dev *d)
{
	(void)d;
}

static const struct virtio_device_ops test_ops = {
	.name = "virtio-test", .device_id = 42, .config_size = sizeof(dev_config),
	.config_read = cfg_read, .config_write = cfg_write, .queue_notify = queue_notify, .reset = reset,
};

static void setup(void)
{
	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	irq_recorder_init(&irqs);
	doorbell_recorder_init(&doorbells);
	fake_guest_init(&g, 16);
	memset(notified, 0, sizeof(notified));
	ck_assert_int_eq(pci_host_init(&host, PCI_HOST_Q35, &pio, &mmio, &irqs.ctl), 0);
	ck_assert_int_eq(virtio_dev_init(&vdev, &test_ops, NULL, &g.mem, 1ull << 3, 2), 0);
	struct platform p = { &g.mem, &pio, &mmio, &irqs.ctl, &doorbells.ioevents, &doorbells.loop };
	vp = virtio_pci_create(&vdev, &p, 0x018000);
	ck_assert_ptr_nonnull(vp);
	fn = virtio_pci_function(vp);
	ck_assert_int_eq(pci_host_add(&host, fn), 0);
}

static void teardown(void)
{
	virtio_pci_destroy(vp);
	virtio_dev_destroy(&vdev);
	fake_guest_free(&g);
	bus_destroy(&pio);
	bus_destroy(&mmio);
}

static uint32_t cf8_read(unsigned slot, unsigned reg)
{
	uint32_t addr = 0x80000000u | slot << 11 | reg, v;
	bus_write(&pio, 0xcf8, (uint8_t *)&addr, 4);
	bus_read(&pio, 0xcfc, (uint8_t *)&v, 4);
	return v;
}

static void cf8_write(unsigned slot, unsigned reg, uint32_t v)
{
	uint32_t addr = 0x80000000u | slot << 11 | reg;
	bus_write(&pio, 0xcf8, (uint8_t *)&addr, 4);
	bus_write(&pio, 0xcfc, (uint8_t *)&v, 4);
}

static uint32_t ecam_read(unsigned bus, unsigned slot, unsigned reg)
{
	uint32_t v;
	bus_read(&mmio, PCI_ECAM_BASE + ((uint64_t)bus << 20) + (slot << 15) + reg, (uint8_t *)&v, 4);
	return v;
}

static uint32_t mmio32(uint64_t addr)
{
	uint32_t v;
	bus_read(&mmio, addr, (uint8_t *)&v, 4);
	return v;
}

static void mmio_w32(uint64_t addr, uint32_t v)
{
	bus_write(&mmio, addr, (uint8_t *)&v, 4);
}

START_TEST(test_ids_through_both_mechanisms)
{
	ck_assert_uint_eq(cf8_read(0, 0), 0x29c08086);
	ck_assert_uint_eq(cf8_read(1, 0), (0x1040u + 42) << 16 | 0x1af4);
	ck_assert_uint_eq(ecam_read(0, 1, 0), (0x1040u + 42) << 16 | 0x1af4);
	ck_assert_uint_eq(cf8_read(1, 8) >> 8, 0x018000);
	ck_assert_uint_eq(cf8_read(1, 8) & 0xff, 1);            /* revision 1: modern */
	ck_assert_uint_eq(cf8_read(5, 0), 0xffffffff);          /* empty slot */
	ck_assert_uint_eq(ecam_read(1, 1, 0), 0xffffffff);      /* no bus 1 */
	ck_assert_uint_eq(ecam_read(0, 1, 0x100), 0);           /* no extended capabilities */
	ck_assert_uint_eq(cf8_read(1, 0x3c) >> 8 & 0xff, 1);    /* INTA# */
}
END_TEST

START_TEST(test_bar_sizing_and_mapping)
{
	uint32_t lo = cf8_read(1, 0x20), hi = cf8_read(1, 0x24);
	uint64_t addr = ((uint64_t)hi << 32 | lo) & ~0xfull;

	ck_assert_uint_eq(lo & 0xf, 0xc);                       /* 64-bit, prefetchable */
	ck_assert_uint_ge(addr, PCI_MMIO_BASE);
	cf8_write(1, 0x20, 0xffffffff);
	cf8_write(1, 0x24, 0xffffffff);
	ck_assert_uint_eq(cf8_read(1, 0x20), (uint32_t)~(VIRTIO_PCI_BAR_SIZE - 1) | 0xc);
	ck_assert_uint_eq(cf8_read(1, 0x24), 0xffffffff);
	cf8_write(1, 0x20, (uint32_t)addr);
	cf8_write(1, 0x24, 0);
	/* Not decoded until COMMAND.MEM is set. */
	ck_assert_uint_eq(mmio32(addr + VIRTIO_PCI_COMMON + 0x12), 0xffffffff);
	cf8_write(1, 4, PCI_COMMAND_MEMORY);
	ck_assert_uint_eq(mmio32(addr + VIRTIO_PCI_COMMON + 0x12) & 0xffff, 2);   /* num_queues */
	/* Moved by the guest: gone from the old address, present at the new one. */
	cf8_write(1, 0x20, (uint32_t)(addr + 0x100000));
	ck_assert_uint_eq(mmio32(addr + VIRTIO_PCI_COMMON + 0x12), 0xffffffff);
	ck_assert_uint_eq(mmio32(addr + 0x100000 + VIRTIO_PCI_COMMON + 0x12) & 0xffff, 2);
	cf8_write(1, 4, 0);
	ck_assert_uint_eq(mmio32(addr + 0x100000 + VIRTIO_PCI_COMMON + 0x12), 0xffffffff);
}
END_TEST

START_TEST(test_capability_list)
{
	unsigned types_seen = 0, msix = 0;

	ck_assert(cf8_read(1, 4) >> 16 & PCI_STATUS_CAP_LIST);
	for (unsigned cap = cf8_read(1, 0x34) & 0xff, n = 0; cap; cap = cf8_read(1, cap) >> 8 & 0xff, n++) {
		uint32_t head = cf8_read(1, cap);
		ck_assert_uint_lt(n, 10);
		if ((head & 0xff) == PCI_CAP_ID_MSIX) {
			msix = cap;
			ck_assert_uint_eq((head >> 16) & 0x7ff, 2);      /* 3 vectors */
		} else {
			ck_assert_uint_eq(head & 0xff, PCI_CAP_ID_VNDR);
			types_seen |= 1u << (head >> 24);
			if (head >> 24 != 5)   /* the PCI_CFG window's BAR is the driver's to set */
				ck_assert_uint_eq(cf8_read(1, cap + 4) & 0xff, VIRTIO_PCI_BAR);
		}
	}
	ck_assert_uint_ne(msix, 0);
	ck_assert_uint_eq(types_seen, 0x3e);   /* common, notify, ISR, device, PCI cfg */
}
END_TEST

static uint64_t enable_bar(void)
{
	uint64_t addr = cf8_read(1, 0x20) & ~0xfull;
	cf8_write(1, 4, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	return addr;
}

static unsigned find_cap(uint8_t id, uint8_t type)
{
	for (unsigned cap = cf8_read(1, 0x34) & 0xff; cap; cap = cf8_read(1, cap) >> 8 & 0xff) {
		uint32_t head = cf8_read(1, cap);
		if ((head & 0xff) == id && (id != PCI_CAP_ID_VNDR || head >> 24 == type))
			return cap;
	}
	return 0;
}

START_TEST(test_device_config_and_cfg_window)
{
	uint64_t bar = enable_bar();
	unsigned cap = find_cap(PCI_CAP_ID_VNDR, 5);

	ck_assert_uint_eq(mmio32(bar + VIRTIO_PCI_DEVICE + 4), 0x08070605);
	/* The same through VIRTIO_PCI_CAP_PCI_CFG: bar, offset, length, then data. */
	cf8_write(1, cap + 4, VIRTIO_PCI_BAR);
	cf8_write(1, cap + 8, VIRTIO_PCI_DEVICE + 4);
	cf8_write(1, cap + 12, 4);
	ck_assert_uint_eq(cf8_read(1, cap + 16), 0x08070605);
	cf8_write(1, cap + 8, VIRTIO_PCI_COMMON + 0x12);
	cf8_write(1, cap + 12, 2);
	ck_assert_uint_eq(cf8_read(1, cap + 16) & 0xffff, 2);
}
END_TEST

START_TEST(test_feature_negotiation_and_queues)
{
	uint64_t cc = enable_bar() + VIRTIO_PCI_COMMON;

	mmio_w32(cc + 0x00, 1);
	ck_assert_uint_eq(mmio32(cc + 0x04), 1);                 /* VERSION_1 is bit 32 */
	mmio_w32(cc + 0x14, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mmio_w32(cc + 0x08, 0);
	mmio_w32(cc + 0x0c, 1u << 3);
	/* Without VERSION_1 FEATURES_OK does not stick. */
	mmio_w32(cc + 0x14, 0xb);
	ck_assert_uint_eq(mmio32(cc + 0x14) & 0xff, 3);
	mmio_w32(cc + 0x08, 1);
	mmio_w32(cc + 0x0c, 1);
	mmio_w32(cc + 0x14, 0xb);
	ck_assert_uint_eq(mmio32(cc + 0x14) & 0xff, 0xb);
	/* Queue 1: size, rings (64-bit fields written in halves), enable. */
	uint16_t sel = 1, size = 16;
	bus_write(&mmio, cc + 0x16, (uint8_t *)&sel, 2);
	bus_write(&mmio, cc + 0x18, (uint8_t *)&size, 2);
	mmio_w32(cc + 0x20, FAKE_DESC_GPA);
	mmio_w32(cc + 0x24, 0);
	mmio_w32(cc + 0x28, FAKE_AVAIL_GPA);
	mmio_w32(cc + 0x30, FAKE_USED_GPA);
	uint16_t one = 1;
	bus_write(&mmio, cc + 0x1c, (uint8_t *)&one, 2);
	ck_assert(vdev.queues[1].ready);
	ck_assert_uint_eq(vdev.queues[1].desc_gpa, FAKE_DESC_GPA);
	/* Fixed once enabled. */
	mmio_w32(cc + 0x20, 0x12340);
	ck_assert_uint_eq(vdev.queues[1].desc_gpa, FAKE_DESC_GPA);
	mmio_w32(cc + 0x14, 0xf);
	uint16_t q = 1;
	bus_write(&mmio, cc - VIRTIO_PCI_COMMON + VIRTIO_PCI_NOTIFY + 4, (uint8_t *)&q, 2);
	ck_assert_uint_eq(notified[1], 1);
	/* Reset clears status and queues. */
	mmio_w32(cc + 0x14, 0);
	ck_assert_uint_eq(mmio32(cc + 0x14) & 0xff, 0);
	ck_assert(!vdev.queues[1].ready);
}
END_TEST

/* Driver setup of queue 1 through the common configuration, up to DRIVER_OK. */
static void bring_up_queue1(uint64_t cc)
{
	uint16_t sel = 1, size = 16, one = 1;

	mmio_w32(cc + 0x14, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mmio_w32(cc + 0x08, 1);
	mmio_w32(cc + 0x0c, 1);
	mmio_w32(cc + 0x14, 0xb);
	bus_write(&mmio, cc + 0x16, (uint8_t *)&sel, 2);
	bus_write(&mmio, cc + 0x18, (uint8_t *)&size, 2);
	mmio_w32(cc + 0x20, FAKE_DESC_GPA);
	mmio_w32(cc + 0x28, FAKE_AVAIL_GPA);
	mmio_w32(cc + 0x30, FAKE_USED_GPA);
	bus_write(&mmio, cc + 0x1c, (uint8_t *)&one, 2);
	mmio_w32(cc + 0x14, 0xf);
}

/*
 * Kicks: at DRIVER_OK the ready queue's notify address is bound (and only
 * that one), ringing it reaches the device, a moved BAR takes the binding
 * along, and a reset unbinds; no cycle of these makes a new watch.
 */
START_TEST(test_kicks_follow_the_bar)
{
	uint64_t bar = enable_bar();
	int fd;

	bring_up_queue1(bar + VIRTIO_PCI_COMMON);
	ck_assert_uint_eq(doorbells.nr_bound, 1);
	const struct ioevent *ev = doorbell_at(&doorbells, bar + VIRTIO_PCI_NOTIFY + 4, &fd);
	ck_assert_ptr_nonnull(ev);
	ck_assert_int_eq(ev->space, IOEVENT_MMIO);
	doorbell_ring(&doorbells, fd);
	ck_assert_uint_eq(notified[1], 1);
	unsigned watches = doorbells.watches;
	for (int cycle = 0; cycle < 1000; cycle++) {
		uint64_t moved = bar + 0x100000ull * (uint64_t)(1 + cycle % 2);
		cf8_write(1, 0x20, (uint32_t)moved | 0xc);
		ck_assert_ptr_nonnull(doorbell_at(&doorbells, moved + VIRTIO_PCI_NOTIFY + 4, &fd));
		ck_assert_uint_eq(doorbells.nr_bound, 1);
		mmio_w32(moved + VIRTIO_PCI_COMMON + 0x14, 0);
		ck_assert_uint_eq(doorbells.nr_bound, 0);
		bring_up_queue1(moved + VIRTIO_PCI_COMMON);
	}
	ck_assert_uint_eq(doorbells.watches, watches);
}
END_TEST

static long rss_kib(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f && fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = 0;
	if (f)
		fclose(f);
	return resident * 4;
}

/*
 * What a guest can repeat without end costs no memory: a million times the
 * memory decode bit toggled through ECAM (each unmaps and maps the BAR, a
 * new bus map each time) and the device reset and brought up again (the
 * kicks unbound and bound).
 */
START_TEST(test_a_million_cycles_keep_memory_flat)
{
	uint64_t bar = enable_bar(), cmd = PCI_ECAM_BASE + (1 << 15) + PCI_COMMAND;
	long before = 0;

	for (int cycle = 0; cycle < 1000000; cycle++) {
		if (cycle == 1000)
			before = rss_kib();
		uint32_t off = PCI_COMMAND_MASTER, on = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
		bus_write(&mmio, cmd, (uint8_t *)&off, 4);
		bus_write(&mmio, cmd, (uint8_t *)&on, 4);
		if (cycle % 16 == 0) {
			mmio_w32(bar + VIRTIO_PCI_COMMON + 0x14, 0);
			bring_up_queue1(bar + VIRTIO_PCI_COMMON);
		}
	}
	ck_assert_ptr_null(mmio.retired);
	ck_assert_ptr_null(mmio.removed);
	ck_assert_uint_eq(doorbells.nr_bound, 1);
	ck_assert_uint_le(doorbells.watches, 2);
#ifdef __SANITIZE_ADDRESS__   /* ASan keeps freed memory in quarantine */
	(void)before;
#else
	ck_assert_int_lt(rss_kib() - before, 1024);
#endif
}
END_TEST

START_TEST(test_queue_outside_ram_needs_reset)
{
	uint64_t cc = enable_bar() + VIRTIO_PCI_COMMON;
	uint16_t one = 1;

	mmio_w32(cc + 0x20, 0xfffff000);
	bus_write(&mmio, cc + 0x1c, (uint8_t *)&one, 2);
	ck_assert(!vdev.queues[0].ready);
	ck_assert(vdev.status & VIRTIO_STATUS_NEEDS_RESET);
}
END_TEST

START_TEST(test_msix_masking_and_pending)
{
	uint64_t bar = enable_bar();
	unsigned cap = find_cap(PCI_CAP_ID_MSIX, 0);
	uint64_t table = bar + VIRTIO_PCI_MSIX_TABLE, pba = bar + VIRTIO_PCI_MSIX_PBA;

	/* Enable MSI-X; entry 1 for queue 0; still masked per entry. */
	cf8_write(1, cap, cf8_read(1, cap) | (uint32_t)MSIX_CONTROL_ENABLE << 16);
	mmio_w32(table + 16, 0xfee00000);
	mmio_w32(table + 20, 0);
	mmio_w32(table + 24, 0x41);
	uint16_t vector = 1;
	bus_write(&mmio, bar + VIRTIO_PCI_COMMON + 0x1a, (uint8_t *)&vector, 2);
	vdev.transport_ops->signal_queue(vdev.transport, 0);
	ck_assert_uint_eq(irqs.msis, 0);
	ck_assert_uint_eq(mmio32(pba), 2);                         /* pending */
	mmio_w32(table + 28, 0);                                   /* unmask */
	ck_assert_uint_eq(irqs.msis, 1);
	ck_assert_uint_eq(irqs.last_msi_addr, 0xfee00000);
	ck_assert_uint_eq(irqs.last_msi_data, 0x41);
	ck_assert_uint_eq(mmio32(pba), 0);
	/* Function mask holds it back too. */
	cf8_write(1, cap, cf8_read(1, cap) | (uint32_t)(MSIX_CONTROL_ENABLE | MSIX_CONTROL_MASK) << 16);
	vdev.transport_ops->signal_queue(vdev.transport, 0);
	ck_assert_uint_eq(irqs.msis, 1);
	cf8_write(1, cap, (cf8_read(1, cap) & 0xffff) | (uint32_t)MSIX_CONTROL_ENABLE << 16);
	ck_assert_uint_eq(irqs.msis, 2);
	/* A vector number the table does not have reads back as NO_VECTOR. */
	vector = 7;
	bus_write(&mmio, bar + VIRTIO_PCI_COMMON + 0x1a, (uint8_t *)&vector, 2);
	ck_assert_uint_eq(mmio32(bar + VIRTIO_PCI_COMMON + 0x18) >> 16, MSIX_NO_VECTOR);
}
END_TEST

START_TEST(test_intx_and_isr)
{
	uint64_t bar = enable_bar();
	uint32_t gsi = cf8_read(1, 0x3c) & 0xff;
	uint8_t isr;

	vdev.transport_ops->signal_queue(vdev.transport, 0);
	ck_assert(irqs.level[gsi]);
	ck_assert(cf8_read(1, 4) >> 16 & PCI_STATUS_INTERRUPT);
	bus_read(&mmio, bar + VIRTIO_PCI_ISR, &isr, 1);
	ck_assert_uint_eq(isr, 1);
	ck_assert(!irqs.level[gsi]);
	bus_read(&mmio, bar + VIRTIO_PCI_ISR, &isr, 1);
	ck_assert_uint_eq(isr, 0);
	/* INTx disabled in COMMAND: the line stays low. */
	cf8_write(1, 4, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
	vdev.transport_ops->signal_config(vdev.transport);
	ck_assert(!irqs.level[gsi]);
	cf8_write(1, 4, PCI_COMMAND_MEMORY);
	ck_assert(irqs.level[gsi]);
	bus_read(&mmio, bar + VIRTIO_PCI_ISR, &isr, 1);
	ck_assert_uint_eq(isr, 2);
}
END_TEST

START_TEST(test_config_writes_are_masked)
{
	cf8_write(1, 0, 0x12345678);            /* IDs are read-only */
	ck_assert_uint_eq(cf8_read(1, 0), (0x1040u + 42) << 16 | 0x1af4);
	cf8_write(1, 0x3c, 0xffffffff);         /* only the interrupt line is writable */
	ck_assert_uint_eq(cf8_read(1, 0x3c), 0x1ff);
}
END_TEST

/* Writes to the address register may be buffered: the port dword and nothing else, once. */
START_TEST(test_address_writes_buffered)
{
	ck_assert_int_eq(pci_host_buffer_address_writes(&host, &doorbells.ioevents), 0);
	ck_assert_uint_eq(doorbells.nr_coalesced, 1);
	ck_assert_int_eq(doorbells.coalesced[0].space, IOEVENT_PIO);
	ck_assert_uint_eq(doorbells.coalesced[0].addr, 0xcf8);
	ck_assert_uint_eq(doorbells.coalesced[0].len, 4);        /* 0xCFC-0xCFF, the data, still exit */
	ck_assert_int_eq(pci_host_buffer_address_writes(&host, NULL), -1);
	struct ioevents none = { 0 };
	ck_assert_int_eq(pci_host_buffer_address_writes(&host, &none), -1);
	ck_assert_uint_eq(cf8_read(1, 0), (0x1040u + 42) << 16 | 0x1af4);
}
END_TEST

Suite *pci_suite(void)
{
	Suite *s = suite_create("pci");
	TCase *tc = tcase_create("pci");

	tcase_add_checked_fixture(tc, setup, teardown);
	/* The million cycles take over Check's 4 s under ASan on a busy 2-core machine. */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ids_through_both_mechanisms);
	tcase_add_test(tc, test_bar_sizing_and_mapping);
	tcase_add_test(tc, test_capability_list);
	tcase_add_test(tc, test_device_config_and_cfg_window);
	tcase_add_test(tc, test_feature_negotiation_and_queues);
	tcase_add_test(tc, test_kicks_follow_the_bar);
	tcase_add_test(tc, test_a_million_cycles_keep_memory_flat);
	tcase_add_test(tc, test_queue_outside_ram_needs_reset);
	tcase_add_test(tc, test_msix_masking_and_pending);
	tcase_add_test(tc, test_intx_and_isr);
	tcase_add_test(tc, test_config_writes_are_masked);
	tcase_add_test(tc, test_address_writes_buffered);
	suite_add_tcase(s, tc);
	return s;
}
