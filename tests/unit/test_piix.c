/* QEMU pc's chipset through ports 0xCF8/0xCFC: the i440FX host bridge (PAM, SMRAM, no ECAM), the PIIX3 with 0xCF9 and the PIIX4's power management function. */
#include <string.h>

#include "fake_guest.h"
#include "memmap.h"
#include "pci.h"
#include "piix.h"
#include "suites.h"

static struct bus pio, mmio;
static struct pci_host host;
static struct irq_recorder irqs;
static struct piix3 piix;
static struct piix4_pm piix_pm;
static struct acpi_pm *pm;
static unsigned stops;
static int stop_status;

static void record_stop(void *ctx, int status, const char *reason)
{
	(void)ctx;
	(void)reason;
	stops++;
	stop_status = status;
}

static void setup(void)
{
	stops = 0;
	stop_status = -1;
	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	irq_recorder_init(&irqs);
	ck_assert_int_eq(pci_host_init(&host, PCI_HOST_I440FX, &pio, &mmio, &irqs.ctl), 0);
	piix3_init(&piix, (struct power_control){ record_stop, NULL });
	ck_assert_int_eq(piix3_attach(&piix, &host), 0);
	pm = acpi_pm_create((struct power_control){ record_stop, NULL }, NULL);
	ck_assert_ptr_nonnull(pm);
	piix4_pm_init(&piix_pm, pm, &pio);
	ck_assert_int_eq(piix4_pm_attach(&piix_pm, &host, &piix), 0);
}

static void teardown(void)
{
	acpi_pm_destroy(pm);
	bus_destroy(&pio);
	bus_destroy(&mmio);
}

static void set_function_address(unsigned slot, unsigned fn, unsigned reg)
{
	uint32_t addr = 0x80000000u | slot << 11 | fn << 8 | (reg & 0xfc);

	bus_write(&pio, 0xcf8, (uint8_t *)&addr, 4);
}

static void set_address(unsigned slot, unsigned reg)
{
	set_function_address(slot, 0, reg);
}

static uint32_t fn_read(unsigned slot, unsigned fn, unsigned reg)
{
	uint32_t v;

	set_function_address(slot, fn, reg);
	bus_read(&pio, 0xcfc, (uint8_t *)&v, 4);
	return v;
}

static void fn_write(unsigned slot, unsigned fn, unsigned reg, uint32_t v)
{
	set_function_address(slot, fn, reg);
	bus_write(&pio, 0xcfc, (uint8_t *)&v, 4);
}

static uint32_t cf8_read(unsigned slot, unsigned reg)
{
	return fn_read(slot, 0, reg);
}

static void cf8_write(unsigned slot, unsigned reg, uint32_t v)
{
	fn_write(slot, 0, reg, v);
}

static uint8_t cf8_read8(unsigned slot, unsigned reg)
{
	uint8_t v;

	set_address(slot, reg);
	bus_read(&pio, 0xcfc + (reg & 3), &v, 1);
	return v;
}

static void cf8_write8(unsigned slot, unsigned reg, uint8_t v)
{
	set_address(slot, reg);
	bus_write(&pio, 0xcfc + (reg & 3), &v, 1);
}

static uint8_t in8(uint16_t port)
{
	uint8_t v;

	bus_read(&pio, port, &v, 1);
	return v;
}

static void out8(uint16_t port, uint8_t v)
{
	bus_write(&pio, port, &v, 1);
}

static uint32_t in32(uint16_t port)
{
	uint32_t v;

	bus_read(&pio, port, (uint8_t *)&v, 4);
	return v;
}

START_TEST(test_i440fx_ids)
{
	ck_assert_uint_eq(cf8_read(0, 0x00), 0x12378086);
	ck_assert_uint_eq(cf8_read(0, 0x08), 0x06000002);        /* host bridge, revision 2 */
	ck_assert_uint_eq(cf8_read(0, 0x2c), 0x11001af4);        /* SeaBIOS's sign of QEMU */
}
END_TEST

START_TEST(test_pam_registers)
{
	cf8_write(0, 0x58, 0xffffffff);
	ck_assert_uint_eq(cf8_read(0, 0x58), 0x77777000);        /* 0x58 read-only, PAM0's low nibble reserved */
	cf8_write(0, 0x5c, 0xffffffff);
	ck_assert_uint_eq(cf8_read(0, 0x5c), 0x77777777);
	cf8_write8(0, 0x5a, 0x30);                               /* the firmware's shadowing: one byte at a time */
	ck_assert_uint_eq(cf8_read8(0, 0x5a), 0x30);
	ck_assert_uint_eq(cf8_read8(0, 0x59), 0x70);
	cf8_write(0, 0x58, 0);
	cf8_write(0, 0x5c, 0);
	ck_assert_uint_eq(cf8_read(0, 0x58), 0);
	ck_assert_uint_eq(cf8_read(0, 0x5c), 0);
}
END_TEST

START_TEST(test_smram_register)
{
	ck_assert_uint_eq(cf8_read8(0, 0x72), 0x02);
	cf8_write8(0, 0x72, 0xff);
	ck_assert_uint_eq(cf8_read8(0, 0x72), 0x7a);             /* 0x78 writable, C_BASE_SEG fixed */
	cf8_write8(0, 0x72, 0x00);
	ck_assert_uint_eq(cf8_read8(0, 0x72), 0x02);
	ck_assert_uint_eq(cf8_read8(0, 0x71), 0);                /* the neighbours are not SMRAM's */
	ck_assert_uint_eq(cf8_read8(0, 0x73), 0);
}
END_TEST

START_TEST(test_no_ecam_on_i440fx)
{
	uint32_t v = 0;
	uint64_t unclaimed = mmio.unclaimed_reads;

	ck_assert_ptr_null(bus_read(&mmio, PCI_ECAM_BASE, (uint8_t *)&v, 4));
	ck_assert_uint_eq(v, 0xffffffff);
	ck_assert_uint_eq(mmio.unclaimed_reads, unclaimed + 1);
}
END_TEST

START_TEST(test_q35_keeps_ecam)
{
	struct bus qpio, qmmio;
	struct pci_host q35;
	uint32_t v = 0;

	bus_init(&qpio, "pio");
	bus_init(&qmmio, "mmio");
	ck_assert_int_eq(pci_host_init(&q35, PCI_HOST_Q35, &qpio, &qmmio, &irqs.ctl), 0);
	ck_assert_ptr_nonnull(bus_read(&qmmio, PCI_ECAM_BASE, (uint8_t *)&v, 4));
	ck_assert_uint_eq(v, 0x29c08086);
	bus_destroy(&qpio);
	bus_destroy(&qmmio);
}
END_TEST

START_TEST(test_piix3_in_slot_1)
{
	ck_assert_uint_eq(piix.fn.slot, 1);
	ck_assert_uint_eq(cf8_read(1, 0x00), 0x70008086);
	ck_assert_uint_eq(cf8_read(1, 0x08) >> 8, 0x060100);     /* PCI-to-ISA bridge */
	ck_assert_uint_eq(cf8_read(1, 0x0c) >> 16 & 0xff, 0x80); /* multi-function header */
	ck_assert_uint_eq(cf8_read(1, 0x2c), 0x11001af4);
	ck_assert_uint_eq(cf8_read(1, 0x3c) & 0xffff, 0);        /* no interrupt pin, no line */
	ck_assert_uint_eq(pci_host_free_slot(&host), 2);
}
END_TEST

START_TEST(test_pirq_route_registers)
{
	ck_assert_uint_eq(cf8_read(1, 0x60), 0x80808080);        /* PIRQA-D not routed */
	cf8_write(1, 0x60, 0xffffffff);
	ck_assert_uint_eq(cf8_read(1, 0x60), 0x8f8f8f8f);
	cf8_write(1, 0x60, 0x0b0a0b0a);                          /* SeaBIOS's IRQs 10, 11, 10, 11 */
	ck_assert_uint_eq(cf8_read(1, 0x60), 0x0b0a0b0a);
	cf8_write8(1, 0x63, 0x85);
	ck_assert_uint_eq(cf8_read(1, 0x60), 0x850a0b0a);
	ck_assert_uint_eq(cf8_read(1, 0x64), 0);                 /* and there are four */
}
END_TEST

START_TEST(test_reset_control_stops_on_bit_2)
{
	out8(PIIX_RCR_PORT, PIIX_RCR_SYS_RESET | PIIX_RCR_RESET_CPU);
	ck_assert_uint_eq(stops, 1);
	ck_assert_int_eq(stop_status, 0);
	out8(PIIX_RCR_PORT, PIIX_RCR_RESET_CPU);
	ck_assert_uint_eq(stops, 2);
}
END_TEST

START_TEST(test_reset_control_keeps_bit_1)
{
	ck_assert_uint_eq(in8(PIIX_RCR_PORT), 0);
	out8(PIIX_RCR_PORT, PIIX_RCR_SYS_RESET);
	ck_assert_uint_eq(in8(PIIX_RCR_PORT), PIIX_RCR_SYS_RESET);
	out8(PIIX_RCR_PORT, 0xfb);                               /* every bit but the reset: only bit 1 stays */
	ck_assert_uint_eq(in8(PIIX_RCR_PORT), PIIX_RCR_SYS_RESET);
	out8(PIIX_RCR_PORT, 0);
	ck_assert_uint_eq(in8(PIIX_RCR_PORT), 0);
	ck_assert_uint_eq(stops, 0);
}
END_TEST

/* 0xCF8 is still the config address for dwords; only byte accesses at 0xCF9 are the reset register's. */
START_TEST(test_cf9_beside_config_address)
{
	set_address(1, 0);
	ck_assert_uint_eq(in32(0xcf8), 0x80000800);
	out8(PIIX_RCR_PORT, PIIX_RCR_SYS_RESET);
	ck_assert_uint_eq(in32(0xcf8), 0x80000800);
	ck_assert_uint_eq(in8(PIIX_RCR_PORT), PIIX_RCR_SYS_RESET);   /* not the address's byte 1 (0x08) */
	ck_assert_uint_eq(in32(0xcfc), 0x70008086);
	uint16_t word = PIIX_RCR_RESET_CPU;
	bus_write(&pio, PIIX_RCR_PORT, (uint8_t *)&word, 2);    /* the reset register is a byte */
	ck_assert_uint_eq(stops, 0);
}
END_TEST

/* A buffered write to 0xCF9 would wait for the next exit: with the reset register there, every write exits. */
START_TEST(test_address_writes_not_buffered_beside_cf9)
{
	struct doorbell_recorder rec;

	doorbell_recorder_init(&rec);
	ck_assert_int_eq(pci_host_buffer_address_writes(&host, &rec.ioevents), -1);
	ck_assert_uint_eq(rec.nr_coalesced, 0);
}
END_TEST

START_TEST(test_no_cf9_without_piix)
{
	struct bus qpio, qmmio;
	struct pci_host q35;
	uint32_t addr = 0x80000008, v;
	uint8_t reset = PIIX_RCR_SYS_RESET | PIIX_RCR_RESET_CPU, b;

	bus_init(&qpio, "pio");
	bus_init(&qmmio, "mmio");
	ck_assert_int_eq(pci_host_init(&q35, PCI_HOST_Q35, &qpio, &qmmio, &irqs.ctl), 0);
	bus_write(&qpio, 0xcf8, (uint8_t *)&addr, 4);
	bus_write(&qpio, PIIX_RCR_PORT, &reset, 1);
	ck_assert_uint_eq(stops, 0);
	bus_read(&qpio, 0xcf8, (uint8_t *)&v, 4);
	ck_assert_uint_eq(v, 0x80000008);                        /* the byte went nowhere: not the address, */
	addr = 0x80000004;
	bus_write(&qpio, 0xcf8, (uint8_t *)&addr, 4);
	bus_read(&qpio, 0xcfc, (uint8_t *)&v, 4);
	ck_assert_uint_eq(v & 0xffff, 0);                        /* nor config space (COMMAND's INTx disable) */
	addr = 0x80000800;
	bus_write(&qpio, 0xcf8, (uint8_t *)&addr, 4);
	bus_read(&qpio, PIIX_RCR_PORT, &b, 1);
	ck_assert_uint_eq(b, 0x08);                              /* it reads as the address register's byte 1 */
	bus_destroy(&qpio);
	bus_destroy(&qmmio);
}
END_TEST

static uint16_t in16(uint16_t port)
{
	uint16_t v;

	bus_read(&pio, port, (uint8_t *)&v, 2);
	return v;
}

static void out16(uint16_t port, uint16_t v)
{
	bus_write(&pio, port, (uint8_t *)&v, 2);
}

#define PM_FN PIIX4_PM_FUNCTION

/* The firmware's own steps: base, then PMIOSE (SeaBIOS's piix4_pm_config_setup, OVMF's PlatformPei). */
static void enable_pm_at(uint16_t base)
{
	fn_write(1, PM_FN, PIIX4_PMBA, base | 1);
	fn_write(1, PM_FN, PIIX4_PMREGMISC, PIIX4_PMIOSE);
}

START_TEST(test_piix4_pm_ids)
{
	ck_assert_uint_eq(fn_read(1, PM_FN, 0x00), 0x71138086);
	ck_assert_uint_eq(fn_read(1, PM_FN, 0x08), 0x06800003);  /* other bridge, revision 3 */
	ck_assert_uint_eq(fn_read(1, PM_FN, 0x2c), 0x11001af4);
	ck_assert_uint_eq(fn_read(1, PM_FN, 0x3c) & 0xffff, 0);  /* the SCI is IRQ 9, not INTA */
	ck_assert_uint_eq(fn_read(1, 1, 0x00), 0xffffffff);      /* no IDE, no USB */
	ck_assert_uint_eq(fn_read(1, 2, 0x00), 0xffffffff);
	ck_assert_uint_eq(fn_read(2, PM_FN, 0x00), 0xffffffff);  /* only in the bridge's slot */
	ck_assert_uint_eq(pci_host_free_slot(&host), 2);         /* and it takes no slot of its own */
}
END_TEST

START_TEST(test_piix4_pm_registers)
{
	ck_assert_uint_eq(fn_read(1, PM_FN, PIIX4_PMBA), 1);     /* I/O, no base, off */
	ck_assert_uint_eq(fn_read(1, PM_FN, PIIX4_PMREGMISC) & 0xff, 0);
	ck_assert(fn_read(1, PM_FN, PIIX4_DEVACTB) & PIIX4_DEVACTB_APMC_EN);
	fn_write(1, PM_FN, PIIX4_PMBA, 0xffffffff);
	ck_assert_uint_eq(fn_read(1, PM_FN, PIIX4_PMBA), 0xffc1);   /* 64 bytes of ports below 64 KiB */
	fn_write(1, PM_FN, PIIX4_PMREGMISC, 0xff);
	ck_assert_uint_eq(fn_read(1, PM_FN, PIIX4_PMREGMISC) & 0xff, PIIX4_PMIOSE);
	fn_write(1, PM_FN, PIIX4_SMBBA, 0x701);
	ck_assert_uint_eq(fn_read(1, PM_FN, PIIX4_SMBBA), 0x701);
	ck_assert_int_eq(pci_host_add_function(&host, 1, PM_FN, &piix_pm.fn), -1);   /* taken */
	ck_assert_int_eq(pci_host_add_function(&host, 5, 1, &piix_pm.fn), -1);       /* no function 0 there */
}
END_TEST

/* SeaBIOS puts the PM block at 0x600; OVMF moves it to 0xB000; the registers follow. */
START_TEST(test_pm_space_follows_pmba)
{
	ck_assert_uint_eq(in32(ACPI_PM_PORT + ACPI_PM_TMR_OFFSET), 0xffffffff);   /* off after reset */
	enable_pm_at(ACPI_PM_PORT);
	ck_assert_uint_lt(in32(ACPI_PM_PORT + ACPI_PM_TMR_OFFSET), 1u << 24);
	ck_assert_uint_eq(in16(ACPI_PM_PORT + ACPI_PM1_CNT_OFFSET) & 1, 1);     /* SCI_EN */
	fn_write(1, PM_FN, PIIX4_PMREGMISC, 0);
	ck_assert_uint_eq(in16(ACPI_PM_PORT + ACPI_PM1_CNT_OFFSET), 0xffff);
	enable_pm_at(0xb000);
	ck_assert_uint_eq(in16(ACPI_PM_PORT + ACPI_PM1_CNT_OFFSET), 0xffff);
	ck_assert_uint_lt(in32(0xb000 + ACPI_PM_TMR_OFFSET), 1u << 24);
	fn_write(1, PM_FN, PIIX4_PMBA, 0xc001);                   /* moved while on */
	ck_assert_uint_eq(in16(0xb000 + ACPI_PM1_CNT_OFFSET), 0xffff);
	ck_assert_uint_eq(in16(0xc000 + ACPI_PM1_CNT_OFFSET) & 1, 1);
	out16(0xc000 + ACPI_PM1_CNT_OFFSET, ACPI_PM_S5_TYPE << 10 | 1u << 13);  /* soft-off there */
	ck_assert_uint_eq(stops, 1);
	ck_assert_int_eq(stop_status, 0);
}
END_TEST

/* A base another device holds: the PM block stays off, and comes on when moved away. */
START_TEST(test_pm_space_never_over_another_device)
{
	enable_pm_at(0xcc0);                                      /* 0xCC0-0xCFF holds 0xCF8's ports */
	ck_assert_uint_eq(in32(0xcf8) & 0x80000000u, 0x80000000u);
	ck_assert_uint_eq(in16(0xcc0 + ACPI_PM1_CNT_OFFSET), 0xffff);
	fn_write(1, PM_FN, PIIX4_PMBA, 0xd001);
	ck_assert_uint_eq(in16(0xd000 + ACPI_PM1_CNT_OFFSET) & 1, 1);
	fn_write(1, PM_FN, PIIX4_PMBA, 0x0001);                   /* base 0: off */
	ck_assert_uint_eq(in16(0xd000 + ACPI_PM1_CNT_OFFSET), 0xffff);
	ck_assert_uint_eq(in16(ACPI_PM1_CNT_OFFSET), 0xffff);
}
END_TEST

Suite *piix_suite(void)
{
	Suite *s = suite_create("piix");
	TCase *tc = tcase_create("piix");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_i440fx_ids);
	tcase_add_test(tc, test_pam_registers);
	tcase_add_test(tc, test_smram_register);
	tcase_add_test(tc, test_no_ecam_on_i440fx);
	tcase_add_test(tc, test_q35_keeps_ecam);
	tcase_add_test(tc, test_piix3_in_slot_1);
	tcase_add_test(tc, test_pirq_route_registers);
	tcase_add_test(tc, test_reset_control_stops_on_bit_2);
	tcase_add_test(tc, test_reset_control_keeps_bit_1);
	tcase_add_test(tc, test_cf9_beside_config_address);
	tcase_add_test(tc, test_address_writes_not_buffered_beside_cf9);
	tcase_add_test(tc, test_no_cf9_without_piix);
	tcase_add_test(tc, test_piix4_pm_ids);
	tcase_add_test(tc, test_piix4_pm_registers);
	tcase_add_test(tc, test_pm_space_follows_pmba);
	tcase_add_test(tc, test_pm_space_never_over_another_device);
	suite_add_tcase(s, tc);
	return s;
}
