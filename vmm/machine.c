/* The machine's devices: the PC's fixed ports, the PCI host, disks and NICs, and what ACPI says of them. */
#include "machine.h"

#include <errno.h>
#include <string.h>

#include "acpi_pm.h"
#include "acpi_sleep.h"
#include "debug_exit.h"
#include "i8042.h"
#include "post_code.h"

void machine_init(struct machine *m, struct power_control power)
{
	memset(m, 0, sizeof(*m));
	bus_init(&m->pio, "pio");
	bus_init(&m->mmio, "mmio");
	m->io.epfd = m->io.stop_fd = -1;
	m->power = power;
}

int machine_open_backends(struct machine *m, const struct vm_config *cfg, struct vmm_error *err)
{
	int r = disks_open(m->disks, cfg, err);

	m->nr_disks = cfg->nr_disks;
	m->nr_nics = cfg->nr_nics;
	return r < 0 ? -1 : nics_open(m->nics, cfg, err);
}

static int add_fixed_ports(struct machine *m, struct vmm_error *err)
{
	const struct {
		uint16_t port, len;
		const struct bus_device_ops *ops;
		void *opaque;
		const char *name;
	} ports[] = {
		{ SERIAL_COM1_BASE, SERIAL_REGS, &serial_ops, m->serial, "serial" },
		{ DEBUG_EXIT_PORT, DEBUG_EXIT_LEN, &debug_exit_ops, &m->power, "debug-exit" },
		{ I8042_COMMAND_PORT, 1, &i8042_ops, &m->power, "i8042" },
		{ POST_CODE_PORT, 1, &post_code_ops, NULL, "post-code" },
		/* Under firmware, the full ACPI registers at the same ports (add_firmware_devices). */
		{ ACPI_SLEEP_PORT, m->firmware ? 0 : ACPI_SLEEP_LEN, &acpi_sleep_ops, &m->power, "acpi-sleep" },
	};
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		if (ports[i].len && bus_register(&m->pio, ports[i].port, ports[i].len, ports[i].ops, ports[i].opaque,
				 ports[i].name) < 0)
			return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot place %s at port 0x%x: %s",
					ports[i].name, ports[i].port, strerror(errno));
	return 0;
}

/*
 * The PC of QEMU's pc machine that firmware expects: PIIX3 in slot 1 with
 * the PIIX4's power management as its function 3 (ACPI's registers, where
 * the firmware puts them), fw_cfg, the CMOS clock.
 */
static int add_firmware_devices(struct machine *m, struct vmm_error *err)
{
	struct irq_line rtc_irq = { .ctl = &m->irqchip, .gsi = CMOS_RTC_GSI };

	piix3_init(&m->piix, m->power);
	if (piix3_attach(&m->piix, &m->pci) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot place the ISA bridge");
	m->fw_cfg = fw_cfg_create(&m->mem);
	m->rtc = cmos_rtc_create(rtc_irq, NULL, &m->io.loop);
	m->acpi_pm = acpi_pm_create(m->power, NULL);
	if (!m->fw_cfg || !m->rtc || !m->acpi_pm)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot create fw_cfg, the CMOS clock and ACPI's registers");
	piix4_pm_init(&m->piix_pm, m->acpi_pm, &m->pio);
	if (piix4_pm_attach(&m->piix_pm, &m->pci, &m->piix) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot place the power management function");
	if (bus_register(&m->pio, FW_CFG_PORT_BASE, FW_CFG_PORT_LEN, &fw_cfg_ops, m->fw_cfg, "fw_cfg") < 0 ||
	    bus_register(&m->pio, CMOS_RTC_PORT_BASE, CMOS_RTC_PORT_LEN, &cmos_rtc_ops, m->rtc, "cmos-rtc") < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot place fw_cfg and the CMOS clock: %s", strerror(errno));
	return 0;
}

int machine_add_devices(struct machine *m, const struct vm_config *cfg, struct serial_backend console,
			struct vmm_error *err)
{
	struct irq_line com1_irq = { .ctl = &m->irqchip, .gsi = SERIAL_COM1_GSI };

	m->firmware = cfg->firmware != NULL;
	m->serial = serial_create(com1_irq, console);
	if (!m->serial)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "out of memory");
	if (add_fixed_ports(m, err) < 0)
		return -1;
	if (iothread_init(&m->io) < 0 ||
	    pci_host_init(&m->pci, m->firmware ? PCI_HOST_I440FX : PCI_HOST_Q35, &m->pio, &m->mmio, &m->irqchip) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot set up the I/O thread and PCI host: %s", strerror(errno));
	if (m->firmware && add_firmware_devices(m, err) < 0)
		return -1;
	pci_host_buffer_address_writes(&m->pci, &m->ioevents);
	m->platform = (struct platform){ &m->mem, &m->pio, &m->mmio, &m->irqchip, &m->ioevents, &m->io.loop };
	m->slots = (struct virtio_slots){ .platform = &m->platform, .pci = &m->pci };
	if (disks_attach(m->disks, cfg, &m->slots, err) < 0)
		return -1;
	return nics_attach(m->nics, cfg, &m->slots, err);
}

/* Under firmware the PCI host has no ECAM and the firmware assigns BARs in its own window. */
void machine_acpi_board(struct acpi_board *board, bool firmware)
{
	*board = (struct acpi_board){
		.com1_port = SERIAL_COM1_BASE, .com1_ports = SERIAL_REGS, .com1_gsi = SERIAL_COM1_GSI,
		.reset_port = I8042_COMMAND_PORT, .reset_value = I8042_CMD_RESET,
		.sleep_port = ACPI_SLEEP_PORT, .s5_sleep_type = firmware ? ACPI_PM_S5_TYPE : ACPI_SLEEP_TYPE_S5,
		.pci_config_port = PCI_CONFIG_ADDRESS_PORT, .pci_slots = PCI_MAX_SLOTS,
		.pci_ecam = !firmware,
		.pci_mmio_base = firmware ? FIRMWARE_PCI_MMIO_BASE : PCI_MMIO_BASE,
		.pci_mmio_end = firmware ? FIRMWARE_PCI_MMIO_END : PCI_MMIO_BASE + PCI_MMIO_SIZE,
		.rtc_port = firmware ? CMOS_RTC_PORT_BASE : 0, .rtc_gsi = CMOS_RTC_GSI,
		.pm_port = firmware ? ACPI_PM_PORT : 0,
	};
	for (unsigned slot = 0; slot < PCI_MAX_SLOTS; slot++)
		board->pci_slot_gsi[slot] = pci_intx_gsi(slot);
}

int machine_start(struct machine *m)
{
	return iothread_start(&m->io);
}

void machine_stop(struct machine *m)
{
	iothread_stop(&m->io);
}

void machine_destroy(struct machine *m)
{
	iothread_destroy(&m->io);
	disks_close(m->disks, m->nr_disks);
	nics_close(m->nics, m->nr_nics);
	serial_destroy(m->serial);
	cmos_rtc_destroy(m->rtc);
	acpi_pm_destroy(m->acpi_pm);
	pflash_destroy(m->vars_flash);
	fw_cfg_destroy(m->fw_cfg);
	bus_destroy(&m->pio);
	bus_destroy(&m->mmio);
}
