/*
 * Building a VM from a vm_config: input files first (their errors come
 * before /dev/kvm is touched), then KVM's VM with its irqchip, guest RAM,
 * the machine's devices, the guest image (boot/loader.c) and the vCPUs.
 */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "cpuid.h"
#include "loader.h"
#include "pvm.h"
#include "sandbox.h"

/* The demo guest linked into the binary (vmm/default_guest.S). */
extern const uint8_t default_guest[];
extern const uint64_t default_guest_size;

static void power_request_stop(void *ctx, int status, const char *reason)
{
	vm_request_stop(ctx, status, reason);
}

static void serial_transmit(void *ctx, uint8_t byte)
{
	struct vm *vm = ctx;
	console_transmit(&vm->console, byte);
}

/* Runs on a vCPU thread; the main loop feeds the UART. */
static void serial_rx_ready(void *ctx)
{
	struct vm *vm = ctx;
	uint64_t one = 1;

	if (write(vm->console_ready_event, &one, sizeof(one)) < 0)
		return;   /* the counter is already non-zero: the loop will look anyway */
}

void vm_request_stop(struct vm *vm, int status, const char *reason)
{
	uint64_t one = 1;

	pthread_mutex_lock(&vm->stop_lock);
	if (!atomic_load(&vm->stopping)) {
		vm->stop_status = status;
		snprintf(vm->stop_reason, sizeof(vm->stop_reason), "%s", reason);
		atomic_store(&vm->stopping, true);
		if (write(vm->stop_event, &one, sizeof(one)) < 0)
			perror("vmm: stop eventfd");
	}
	pthread_mutex_unlock(&vm->stop_lock);
}

static int create_kvm_vm(struct vm *vm, struct vmm_error *err)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t identity_map = KVM_IDENTITY_MAP_ADDR;

	vm->fd = ioctl(vm->kvm.fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "KVM_CREATE_VM failed: %s", strerror(errno));
	if (ioctl(vm->fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0 ||
	    ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &identity_map) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot place KVM's real-mode pages: %s", strerror(errno));
	if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "KVM_CREATE_IRQCHIP failed: %s", strerror(errno));
	if (ioctl(vm->fd, KVM_CREATE_PIT2, &pit) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "KVM_CREATE_PIT2 failed: %s", strerror(errno));
	if (kvm_irq_init(&vm->kvm_irq, vm->fd, err) < 0)
		return -1;
	vm->machine.irqchip = kvm_irq_controller(&vm->kvm_irq);
	vm->machine.ioevents = kvm_ioevents(&vm->kvm_irq);
	return 0;
}

static int check_memory_size(uint64_t bytes, struct vmm_error *err)
{
	struct sysinfo si;

	if (sysinfo(&si) == 0 && bytes / si.mem_unit > si.totalram)
		return vmm_fail(err, VMM_EXIT_USAGE, "--memory %llu MiB is more than this host has (%llu MiB)",
				(unsigned long long)(bytes >> 20),
				(unsigned long long)(((uint64_t)si.totalram * si.mem_unit) >> 20));
	return 0;
}

/* Anonymous memory for guest RAM, before there is a VM: the loader fills it first. */
static int allocate_guest_ram(struct vm *vm, struct vmm_error *err)
{
	struct machine *m = &vm->machine;

	memmap_init(&m->map, vm->cfg.memory);
	for (unsigned i = 0; i < m->map.nr_ram; i++) {
		const struct ram_region *r = &m->map.ram[i];
		uint8_t *hva = mmap(NULL, r->size, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (hva == MAP_FAILED)
			return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot allocate %llu MiB of guest RAM: %s",
					(unsigned long long)(r->size >> 20), strerror(errno));
		madvise(hva, r->size, MADV_HUGEPAGE);
		m->mem.region[i] = (struct guest_mem_region){ r->gpa, r->size, hva };
		m->mem.nr_regions = i + 1;
	}
	return 0;
}

/*
 * The firmware is a read-only slot: the CPU fetches its reset vector there
 * (KVM cannot run code from MMIO), and a guest's writes to it become MMIO
 * exits that nothing claims, as writes to a ROM go nowhere.
 */
static int register_firmware(struct vm *vm, unsigned slot_id, struct vmm_error *err)
{
	const struct firmware_image *img = &vm->firmware;
	struct kvm_userspace_memory_region slot = {
		.slot = slot_id, .flags = KVM_MEM_READONLY, .guest_phys_addr = img->gpa,
		.memory_size = img->size, .userspace_addr = (uintptr_t)img->data,
	};

	if (ioctl(vm->kvm.fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) <= 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "--firmware needs read-only memory slots "
				"(KVM_CAP_READONLY_MEM), which this host's KVM lacks");
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot map the firmware: %s", strerror(errno));
	return 0;
}

/*
 * The variable store's slot, there while the flash reads as its array
 * (pflash.c): KVM then serves reads from the file's pages and sends only
 * writes to vmm. Without it every read is an exit, which is still right.
 */
static void set_vars_direct(void *ctx, bool direct)
{
	struct vm *vm = ctx;
	struct kvm_userspace_memory_region slot = {
		.slot = vm->machine.mem.nr_regions + 1, .flags = KVM_MEM_READONLY,
		.guest_phys_addr = vm->vars.gpa, .memory_size = direct ? vm->vars.size : 0,
		.userspace_addr = (uintptr_t)vm->vars.data,
	};
	static atomic_flag reported = ATOMIC_FLAG_INIT;

	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0 && !atomic_flag_test_and_set(&reported))
		fprintf(stderr, "vmm: cannot %s the variable store's memory slot: %s\n", direct ? "map" : "unmap",
			strerror(errno));
}

static int attach_vars_flash(struct vm *vm, struct vmm_error *err)
{
	if (!vm->vars.data)
		return 0;
	sandbox_allow_flash();
	struct pflash *f = pflash_create(vm->vars.data, vm->vars.size, false, (struct pflash_mapping){ set_vars_direct, vm },
					 (struct pflash_backing){ firmware_vars_write, &vm->vars });

	vm->machine.vars_flash = f;
	if (!f || bus_register(&vm->machine.mmio, vm->vars.gpa, vm->vars.size, &pflash_ops, f, "pflash") < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot place the variable store at 0x%llx",
				(unsigned long long)vm->vars.gpa);
	return 0;
}

static int register_guest_ram(struct vm *vm, struct vmm_error *err)
{
	unsigned i = 0;

	for (; i < vm->machine.mem.nr_regions; i++) {
		const struct guest_mem_region *r = &vm->machine.mem.region[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i, .guest_phys_addr = r->gpa, .memory_size = r->size,
			.userspace_addr = (uintptr_t)r->hva,
		};
		if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
			return vmm_fail(err, VMM_EXIT_RUNTIME, "KVM_SET_USER_MEMORY_REGION failed: %s",
					strerror(errno));
	}
	return vm->firmware.data ? register_firmware(vm, i, err) : 0;
}

/* Maps the whole file read-only, and keeps it open for boot_blob_copy(). */
static int map_file(const char *what, const char *path, struct mapped_file *f, struct vmm_error *err)
{
	struct stat st;
	/* O_NONBLOCK: a FIFO given by mistake is refused below instead of blocking here. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return vmm_fail(err, VMM_EXIT_USAGE, "%s %s: %s", what, path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return vmm_fail(err, VMM_EXIT_USAGE, "%s %s: not a regular, non-empty file", what, path);
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return vmm_fail(err, VMM_EXIT_USAGE, "%s %s: %s", what, path, strerror(errno));
	}
	*f = (struct mapped_file){ p, (size_t)st.st_size, true, fd };
	return 0;
}

static void unmap_file(struct mapped_file *f)
{
	if (f->mapped) {
		munmap((void *)f->data, f->len);
		close(f->fd);
	}
	*f = (struct mapped_file){ 0 };
}

/*
 * UEFI keeps its variables in flash below the code: the VM's own file, or
 * for --firmware uefi without one, the template for this run. A whole
 * OVMF.fd given as FILE carries its store inside, read-only here, and OVMF
 * then keeps variables in memory (as under QEMU's -bios).
 */
static int open_firmware(struct vm *vm, struct vmm_error *err)
{
	const char *path = firmware_path(vm->cfg.firmware, err);

	if (!path || firmware_load(path, &vm->firmware, err) < 0)
		return -1;
	if (!firmware_is_uefi(&vm->firmware))
		return vm->cfg.firmware_vars ? vmm_fail(err, VMM_EXIT_USAGE, "--firmware-vars: %s is not UEFI "
							"firmware", path) : 0;
	const char *template_path = strcmp(vm->cfg.firmware, "uefi") ? NULL : FIRMWARE_UEFI_VARS_PATH;
	if (!vm->cfg.firmware_vars && !template_path)
		return 0;
	return firmware_vars_open(vm->cfg.firmware_vars, template_path, &vm->firmware, &vm->vars, err);
}

static int open_input_files(struct vm *vm, struct vmm_error *err)
{
	if (vm->cfg.firmware)
		return open_firmware(vm, err);
	if (vm->cfg.kernel) {
		if (map_file("--kernel", vm->cfg.kernel, &vm->kernel_file, err) < 0)
			return -1;
	} else {
		vm->kernel_file = (struct mapped_file){ default_guest, default_guest_size, false, -1 };
	}
	if (vm->cfg.initrd && map_file("--initrd", vm->cfg.initrd, &vm->initrd_file, err) < 0)
		return -1;
	return 0;
}

/*
 * On a kvm_pvm host the guest's own decompressor would run for most of an
 * hour, every instruction emulated (docs/linux-boot.md); vmm unpacks the
 * payload in milliseconds and says so.
 */
static enum bzimage_decompress bzimage_decompressor(const struct vm *vm)
{
	switch (vm->cfg.kernel_decompress) {
	case KERNEL_DECOMPRESS_GUEST:
		return BZIMAGE_DECOMPRESS_GUEST;
	case KERNEL_DECOMPRESS_VMM:
		return BZIMAGE_DECOMPRESS_VMM;
	case KERNEL_DECOMPRESS_AUTO:
		break;
	}
	if (!kvm_host_is_pvm() || !bzimage_detect(vm->kernel_file.data, vm->kernel_file.len))
		return BZIMAGE_DECOMPRESS_GUEST;
	fprintf(stderr, "vmm: kvm_pvm host: vmm decompresses the bzImage's kernel itself "
		"(--kernel-decompress=guest to leave it to the guest)\n");
	return BZIMAGE_DECOMPRESS_VMM;
}

static struct boot_blob blob_of(const struct mapped_file *f)
{
	return (struct boot_blob){ f->data, f->len, f->mapped ? f->fd : -1 };
}

static struct boot_request boot_request(struct vm *vm, const struct acpi_config *acpi)
{
	return (struct boot_request){
		.mem = &vm->machine.mem, .map = &vm->machine.map,
		.kernel = blob_of(&vm->kernel_file), .initrd = blob_of(&vm->initrd_file),
		.cmdline = vm->cfg.cmdline, .decompress = vm->decompress,
		.linux_cmdline = kvm_host_is_pvm() ? PVM_LINUX_CMDLINE : NULL, .acpi = acpi,
		.kernel_name = vm->cfg.kernel, .initrd_name = vm->cfg.initrd,
	};
}

/* The kernel and initrd, checked and in guest RAM; then the files can go. Firmware loads its own. */
static int load_kernel(struct vm *vm, struct boot_kernel *k, struct vmm_error *err)
{
	if (vm->firmware.data)
		return firmware_copy_low(&vm->firmware, &vm->machine.mem, err);
	vm->decompress = bzimage_decompressor(vm);
	struct boot_request req = boot_request(vm, NULL);
	int ret = boot_load_kernel(&req, k, err);

	unmap_file(&vm->initrd_file);
	if (ret == 0 && k->kind == BOOT_ENTRY_PVH)
		unmap_file(&vm->kernel_file);
	return ret;
}

/* What the firmware reads: ACPI tables to place, the memory map, the disks in boot order. */
static int fill_firmware_tables(struct vm *vm, struct vmm_error *err)
{
	struct machine *m = &vm->machine;
	struct acpi_board board;
	struct firmware_disk disks[VMM_MAX_DISKS];

	machine_acpi_board(&board, true);
	board.pm_port = firmware_pm_base(&vm->firmware);
	struct acpi_config acpi = { .nr_cpus = vm->nr_vcpus, .base = 0, .board = &board };
	for (unsigned i = 0; i < m->nr_disks; i++)
		disks[i].pci_slot = m->disks[i].pci_slot;
	struct firmware_setup setup = {
		.map = &m->map, .nr_cpus = vm->nr_vcpus, .acpi = &acpi, .boot = &vm->cfg.boot,
		.disks = disks, .nr_disks = m->nr_disks, .console_port = SERIAL_COM1_BASE,
	};
	firmware_fill_cmos(m->rtc, &m->map, vm->nr_vcpus);
	return firmware_fill_fw_cfg(m->fw_cfg, &setup, err);
}

/* Boot information and ACPI tables for the machine as built. */
static int finish_boot(struct vm *vm, const struct boot_kernel *k, struct boot_entry *entry, struct vmm_error *err)
{
	struct machine *m = &vm->machine;
	struct acpi_board board;

	if (vm->firmware.data) {
		*entry = (struct boot_entry){ .kind = BOOT_ENTRY_RESET };
		return fill_firmware_tables(vm, err);
	}
	machine_acpi_board(&board, false);
	struct acpi_config acpi = { .nr_cpus = vm->nr_vcpus, .base = ACPI_TABLES_ADDR, .board = &board,
				    .mmio_devices = m->slots.mmio, .nr_mmio_devices = m->slots.nr_mmio };
	struct boot_request req = boot_request(vm, &acpi);
	int ret = boot_finish(&req, k, entry, err);

	unmap_file(&vm->kernel_file);
	if (ret == 0 && entry->linux_kernel && req.linux_cmdline)
		fprintf(stderr, "vmm: kvm_pvm host: added '%s' to the kernel command line (instructions "
			"its emulator lacks)\n", PVM_LINUX_CMDLINE);
	return ret;
}

/* KVM's ring of buffered MMIO writes, shared by all vCPUs, sits in each run area. */
static void find_coalesced_ring(struct vm *vm)
{
	if (vm->kvm.coalesced_mmio_page > 0 && vm->nr_vcpus)
		vm->vcpu_env.coalesced = (struct kvm_coalesced_mmio_ring *)((uint8_t *)vm->vcpus[0].run +
			(size_t)vm->kvm.coalesced_mmio_page * (size_t)sysconf(_SC_PAGESIZE));
}

static int create_vcpus(struct vm *vm, const struct boot_entry *entry, struct vmm_error *err)
{
	struct kvm_cpuid2 *cpuid = cpuid_supported(vm->kvm.fd, err);

	if (!cpuid)
		return -1;
	if (vm->kvm.pvm)
		pvm_adjust_cpuid(cpuid);
	vm->vcpu_env = (struct vcpu_env){
		.vm_fd = vm->fd, .run_size = (size_t)vm->kvm.run_size, .nr_vcpus = vm->nr_vcpus,
		.pio = &vm->machine.pio, .mmio = &vm->machine.mmio, .mem = &vm->machine.mem,
		.trace = vm->cfg.trace, .pvm = vm->kvm.pvm, .stopping = &vm->stopping,
		.stop = { power_request_stop, vm }, .coalesced_lock = &vm->coalesced_lock,
	};
	vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
	int ret = vm->vcpus ? 0 : vmm_fail(err, VMM_EXIT_RUNTIME, "out of memory");
	for (unsigned i = 0; ret == 0 && i < vm->nr_vcpus; i++)
		ret = vcpu_init(&vm->vcpus[i], &vm->vcpu_env, i, cpuid, err);
	free(cpuid);
	if (ret < 0)
		return -1;
	find_coalesced_ring(vm);
	/* vCPU 0 is the bootstrap processor; the others wait for INIT/SIPI. */
	if (entry->kind == BOOT_ENTRY_RESET)
		return 0;
	if (entry->kind == BOOT_ENTRY_PVH)
		return vcpu_set_pvh_entry(&vm->vcpus[0], (uint32_t)entry->rip, (uint32_t)entry->info, err);
	return vcpu_set_long_mode_entry(&vm->vcpus[0], entry->rip, entry->info, err);
}

static int open_kvm(struct vm *vm, struct vmm_error *err)
{
	if (kvm_host_open(&vm->kvm, err) < 0)
		return -1;
	if (vm->cfg.vcpus > (unsigned)vm->kvm.max_vcpus)
		return vmm_fail(err, VMM_EXIT_USAGE, "--vcpus %u: this host's KVM allows at most %d",
				vm->cfg.vcpus, vm->kvm.max_vcpus);
	vm->stop_event = eventfd(0, EFD_CLOEXEC);
	vm->console_ready_event = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_event < 0 || vm->console_ready_event < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "eventfd: %s", strerror(errno));
	return 0;
}

/*
 * Everything that checks the user's input comes before /dev/kvm is
 * opened: the files, the kernel and initrd (loaded into RAM that is not yet
 * the guest's), the disk images and network backends.
 */
int vm_create(struct vm *vm, const struct vm_config *cfg, struct vmm_error *err)
{
	struct serial_backend console = { serial_transmit, serial_rx_ready, vm };
	struct boot_kernel kernel;
	struct boot_entry entry;

	memset(vm, 0, sizeof(*vm));
	vm_block_signals(vm);
	vm->cfg = *cfg;
	vm->fd = vm->stop_event = vm->console_ready_event = vm->vars.fd = -1;
	vm->console.in_fd = vm->console.out_fd = -1;
	vm->nr_vcpus = cfg->vcpus;
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_mutex_init(&vm->coalesced_lock, NULL);
	machine_init(&vm->machine, (struct power_control){ power_request_stop, vm });

	if (check_memory_size(cfg->memory, err) < 0 || open_input_files(vm, err) < 0 ||
	    allocate_guest_ram(vm, err) < 0 || load_kernel(vm, &kernel, err) < 0 ||
	    machine_open_backends(&vm->machine, &vm->cfg, err) < 0 ||
	    console_open(&vm->console, cfg->console, cfg->console_path, err) < 0)
		return -1;
	if (open_kvm(vm, err) < 0 || create_kvm_vm(vm, err) < 0 || register_guest_ram(vm, err) < 0 ||
	    machine_add_devices(&vm->machine, &vm->cfg, console, err) < 0 || attach_vars_flash(vm, err) < 0)
		return -1;
	if (finish_boot(vm, &kernel, &entry, err) < 0 || create_vcpus(vm, &entry, err) < 0)
		return -1;
	return console_start(&vm->console, err);
}

void vm_destroy(struct vm *vm)
{
	console_close(&vm->console);
	unmap_file(&vm->kernel_file);
	unmap_file(&vm->initrd_file);
	firmware_unload(&vm->firmware);
	for (unsigned i = 0; vm->vcpus && i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].env)
			vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	machine_destroy(&vm->machine);
	for (unsigned i = 0; i < vm->machine.mem.nr_regions; i++)
		munmap(vm->machine.mem.region[i].hva, vm->machine.mem.region[i].size);
	if (vm->fd >= 0)
		close(vm->fd);
	firmware_vars_close(&vm->vars);
	if (vm->stop_event >= 0)
		close(vm->stop_event);
	if (vm->console_ready_event >= 0)
		close(vm->console_ready_event);
	kvm_irq_destroy(&vm->kvm_irq);
	kvm_host_close(&vm->kvm);
	pthread_mutex_destroy(&vm->coalesced_lock);
	pthread_mutex_destroy(&vm->stop_lock);
}
