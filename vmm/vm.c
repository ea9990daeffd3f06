/*
 * Building a VM from a vm_config, and running it: vCPU threads do KVM_RUN,
 * the main thread waits in epoll for a stop request, a signal or console
 * input, then stops every vCPU and reports.
 */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "acpi.h"
#include "acpi_sleep.h"
#include "bzimage.h"
#include "cpuid.h"
#include "debug_exit.h"
#include "i8042.h"
#include "long_mode.h"
#include "post_code.h"
#include "pvh.h"
#include "pvm.h"
#include "reset_vector.h"
#include "serial.h"
#include "stats.h"

/* What was loaded, and how the bootstrap processor enters it. */
struct boot_image {
	enum { BOOT_PVH, BOOT_LINUX64 } kind;
	uint64_t entry;
	uint64_t end;           /* first byte above the kernel */
	uint64_t initrd_max;    /* highest byte an initrd may occupy */
	bool linux_kernel;
	struct bzimage bz;      /* BOOT_LINUX64 only */
};

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
	vm->irqchip = kvm_irq_controller(&vm->kvm_irq);
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

static int map_guest_ram(struct vm *vm, struct vmm_error *err)
{
	memmap_init(&vm->map, vm->cfg.memory);
	for (unsigned i = 0; i < vm->map.nr_ram; i++) {
		const struct ram_region *r = &vm->map.ram[i];
		uint8_t *hva = mmap(NULL, r->size, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (hva == MAP_FAILED)
			return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot allocate %llu MiB of guest RAM: %s",
					(unsigned long long)(r->size >> 20), strerror(errno));
		madvise(hva, r->size, MADV_HUGEPAGE);
		vm->mem.region[i] = (struct guest_mem_region){ r->gpa, r->size, hva };
		vm->mem.nr_regions = i + 1;
		struct kvm_userspace_memory_region slot = {
			.slot = i, .guest_phys_addr = r->gpa, .memory_size = r->size,
			.userspace_addr = (uintptr_t)hva,
		};
		if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
			return vmm_fail(err, VMM_EXIT_RUNTIME, "KVM_SET_USER_MEMORY_REGION failed: %s",
					strerror(errno));
	}
	return 0;
}

static int add_devices(struct vm *vm, struct vmm_error *err)
{
	struct serial_backend console = { serial_transmit, serial_rx_ready, vm };
	struct irq_line com1_irq = { .ctl = &vm->irqchip, .gsi = SERIAL_COM1_GSI };

	vm->serial = serial_create(com1_irq, console);
	if (!vm->serial)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "out of memory");
	const struct {
		uint16_t port, len;
		const struct bus_device_ops *ops;
		void *opaque;
		const char *name;
	} ports[] = {
		{ SERIAL_COM1_BASE, SERIAL_REGS, &serial_ops, vm->serial, "serial" },
		{ DEBUG_EXIT_PORT, DEBUG_EXIT_LEN, &debug_exit_ops, &vm->power, "debug-exit" },
		{ I8042_COMMAND_PORT, 1, &i8042_ops, &vm->power, "i8042" },
		{ ACPI_SLEEP_PORT, ACPI_SLEEP_LEN, &acpi_sleep_ops, &vm->power, "acpi-sleep" },
		{ POST_CODE_PORT, 1, &post_code_ops, NULL, "post-code" },
	};
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		if (bus_register(&vm->pio, ports[i].port, ports[i].len, ports[i].ops, ports[i].opaque,
				 ports[i].name) < 0)
			return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot place %s at port 0x%x: %s",
					ports[i].name, ports[i].port, strerror(errno));
	if (iothread_init(&vm->io) < 0 || pci_host_init(&vm->pci, &vm->pio, &vm->mmio, &vm->irqchip) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot set up the I/O thread and PCI host: %s", strerror(errno));
	if (disks_attach(vm, err) < 0)
		return -1;
	return nics_attach(vm, err);
}

/* Maps the whole file read-only. */
static int map_file(const char *what, const char *path, struct mapped_file *f, struct vmm_error *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return vmm_fail(err, VMM_EXIT_USAGE, "%s %s: %s", what, path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return vmm_fail(err, VMM_EXIT_USAGE, "%s %s: not a regular, non-empty file", what, path);
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return vmm_fail(err, VMM_EXIT_USAGE, "%s %s: %s", what, path, strerror(errno));
	*f = (struct mapped_file){ p, (size_t)st.st_size, true };
	return 0;
}

static void unmap_file(struct mapped_file *f)
{
	if (f->mapped)
		munmap((void *)f->data, f->len);
	*f = (struct mapped_file){ 0 };
}

/* Input files are opened before /dev/kvm so that their errors come first. */
static int open_input_files(struct vm *vm, struct vmm_error *err)
{
	if (vm->cfg.kernel) {
		if (map_file("--kernel", vm->cfg.kernel, &vm->kernel_file, err) < 0)
			return -1;
	} else {
		vm->kernel_file = (struct mapped_file){ default_guest, default_guest_size, false };
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
	if (!vm->kvm.pvm)
		return BZIMAGE_DECOMPRESS_GUEST;
	fprintf(stderr, "vmm: kvm_pvm host: vmm decompresses the bzImage's kernel itself "
		"(--kernel-decompress=guest to leave it to the guest)\n");
	return BZIMAGE_DECOMPRESS_VMM;
}

static int load_kernel(struct vm *vm, struct boot_image *img, struct vmm_error *err)
{
	const uint8_t *data = vm->kernel_file.data;
	size_t len = vm->kernel_file.len;
	int ret;

	if (bzimage_detect(data, len)) {
		const struct bzimage *bz = &img->bz;
		ret = bzimage_load(&vm->mem, &vm->map, data, len, bzimage_decompressor(vm), &img->bz, err);
		if (ret == 0) {
			img->kind = BOOT_LINUX64;
			img->entry = bz->entry64;
			img->end = bz->end;
			img->initrd_max = bz->initrd_addr_max;
			img->linux_kernel = true;
		}
	} else {
		struct pvh_image pvh;
		ret = pvh_load_elf(&vm->mem, &vm->map, data, len, &pvh, err);
		if (ret == 0)
			*img = (struct boot_image){ .kind = BOOT_PVH, .entry = pvh.entry, .end = pvh.end,
						    .initrd_max = UINT64_MAX, .linux_kernel = pvh.linux_kernel };
	}
	if (ret < 0 && vm->cfg.kernel)
		snprintf(err->msg + strlen(err->msg), sizeof(err->msg) - strlen(err->msg), " (--kernel %s)",
			 vm->cfg.kernel);
	return ret;
}

static int load_initrd(struct vm *vm, const struct boot_image *img, uint64_t *addr, struct vmm_error *err)
{
	const struct mapped_file *f = &vm->initrd_file;

	if (boot_place_initrd(&vm->map, img->end, img->initrd_max, f->len, addr, err) < 0)
		return -1;
	if (guest_mem_write(&vm->mem, *addr, f->data, f->len) < 0)
		return vmm_fail(err, VMM_EXIT_USAGE, "--initrd %s does not fit in guest RAM", vm->cfg.initrd);
	return 0;
}

static int write_acpi_tables(struct vm *vm, struct vmm_error *err)
{
	struct acpi_config cfg = { .nr_cpus = vm->nr_vcpus, .base = ACPI_TABLES_ADDR,
				   .mmio_devices = vm->mmio_devices, .nr_mmio_devices = vm->nr_mmio_devices };
	uint8_t *dst = guest_mem_ptr(&vm->mem, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE);

	if (!dst || acpi_build(dst, ACPI_TABLES_SIZE, &cfg) == 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "ACPI tables do not fit at 0x%llx", ACPI_TABLES_ADDR);
	return 0;
}

static void append_cmdline(struct vm *vm, const char *fmt, ...)
{
	size_t len = strlen(vm->extra_cmdline);
	va_list ap;

	va_start(ap, fmt);
	snprintf(vm->extra_cmdline + len, sizeof(vm->extra_cmdline) - len, " ");
	vsnprintf(vm->extra_cmdline + len + 1, sizeof(vm->extra_cmdline) - len - 1, fmt, ap);
	va_end(ap);
}

/*
 * Linux finds virtio-mmio devices in the DSDT; guests without ACPI get
 * them on the command line (Linux's virtio_mmio.device= syntax).
 */
static void describe_guest_platform(struct vm *vm, bool linux_kernel)
{
	if (linux_kernel && vm->kvm.pvm) {
		fprintf(stderr, "vmm: kvm_pvm host: adding '%s' to the kernel command line (instructions "
			"its emulator lacks)\n", PVM_LINUX_CMDLINE);
		append_cmdline(vm, PVM_LINUX_CMDLINE);
	}
	for (unsigned i = 0; !linux_kernel && i < vm->nr_mmio_devices; i++)
		append_cmdline(vm, "virtio_mmio.device=%u@0x%llx:%u", vm->mmio_devices[i].size,
			       (unsigned long long)vm->mmio_devices[i].base, vm->mmio_devices[i].gsi);
}

static int write_boot_info(struct vm *vm, const struct boot_image *img, const char *cmdline,
			   uint64_t initrd_addr, struct vmm_error *err)
{
	uint64_t initrd_size = vm->cfg.initrd ? vm->initrd_file.len : 0;

	if (img->kind == BOOT_PVH) {
		struct pvh_boot_params bp = { cmdline, initrd_addr, initrd_size, ACPI_TABLES_ADDR };
		return pvh_write_start_info(&vm->mem, &vm->map, &bp, err);
	}
	struct linux_boot_info info = { cmdline, initrd_addr, initrd_size, ACPI_TABLES_ADDR };
	if (long_mode_write_tables(&vm->mem) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "page tables do not fit in guest RAM");
	return bzimage_write_boot_params(&vm->mem, &vm->map, &img->bz, &info, err);
}

static int load_guest(struct vm *vm, struct boot_image *img, struct vmm_error *err)
{
	char cmdline[BOOT_CMDLINE_MAX + sizeof(vm->extra_cmdline)];
	uint64_t initrd_addr = 0;
	int ret = load_kernel(vm, img, err);

	if (ret == 0)
		describe_guest_platform(vm, img->linux_kernel);
	snprintf(cmdline, sizeof(cmdline), "%s%s", vm->cfg.cmdline ? vm->cfg.cmdline : "", vm->extra_cmdline);
	if (ret == 0 && vm->cfg.initrd)
		ret = load_initrd(vm, img, &initrd_addr, err);
	if (ret == 0)
		ret = write_boot_info(vm, img, cmdline, initrd_addr, err);
	unmap_file(&vm->kernel_file);
	unmap_file(&vm->initrd_file);
	if (ret < 0 || write_acpi_tables(vm, err) < 0)
		return -1;
	if (reset_vector_write(&vm->mem) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "the reset vector is not in guest RAM");
	return 0;
}

static int create_vcpus(struct vm *vm, const struct boot_image *img, struct vmm_error *err)
{
	struct kvm_cpuid2 *cpuid = cpuid_supported(vm->kvm.fd, err);

	if (!cpuid)
		return -1;
	if (vm->kvm.pvm)
		pvm_adjust_cpuid(cpuid);
	vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
	int ret = vm->vcpus ? 0 : vmm_fail(err, VMM_EXIT_RUNTIME, "out of memory");
	for (unsigned i = 0; ret == 0 && i < vm->nr_vcpus; i++)
		ret = vcpu_init(&vm->vcpus[i], vm, i, cpuid, err);
	free(cpuid);
	if (ret < 0)
		return -1;
	/* vCPU 0 is the bootstrap processor; the others wait for INIT/SIPI. */
	if (img->kind == BOOT_PVH)
		return vcpu_set_pvh_entry(&vm->vcpus[0], (uint32_t)img->entry, BOOT_START_INFO_ADDR, err);
	return vcpu_set_long_mode_entry(&vm->vcpus[0], img->entry, BOOT_PARAMS_ADDR, err);
}

int vm_create(struct vm *vm, const struct vm_config *cfg, struct vmm_error *err)
{
	struct boot_image img;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = *cfg;
	vm->fd = vm->stop_event = vm->console_ready_event = -1;
	vm->io.epfd = vm->io.stop_fd = -1;
	vm->console.in_fd = vm->console.out_fd = -1;
	vm->nr_vcpus = cfg->vcpus;
	pthread_mutex_init(&vm->stop_lock, NULL);
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
	vm->power = (struct power_control){ power_request_stop, vm };

	if (check_memory_size(cfg->memory, err) < 0 || open_input_files(vm, err) < 0 || disks_open(vm, err) < 0 ||
	    nics_open(vm, err) < 0)
		return -1;
	if (kvm_host_open(&vm->kvm, err) < 0)
		return -1;
	if (cfg->vcpus > (unsigned)vm->kvm.max_vcpus)
		return vmm_fail(err, VMM_EXIT_USAGE, "--vcpus %u: this host's KVM allows at most %d",
				cfg->vcpus, vm->kvm.max_vcpus);
	vm->stop_event = eventfd(0, EFD_CLOEXEC);
	vm->console_ready_event = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_event < 0 || vm->console_ready_event < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "eventfd: %s", strerror(errno));
	if (create_kvm_vm(vm, err) < 0 || map_guest_ram(vm, err) < 0 || add_devices(vm, err) < 0)
		return -1;
	if (load_guest(vm, &img, err) < 0 || create_vcpus(vm, &img, err) < 0)
		return -1;
	return console_open(&vm->console, cfg->console, cfg->console_path, err);
}

static void ignore_signal(int sig)
{
	(void)sig;
}

/* SIGINT and SIGTERM arrive through a signalfd; SIGUSR1 only interrupts KVM_RUN. */
static int setup_signals(sigset_t *blocked)
{
	struct sigaction sa = { .sa_handler = ignore_signal };

	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(blocked);
	sigaddset(blocked, SIGINT);
	sigaddset(blocked, SIGTERM);
	pthread_sigmask(SIG_BLOCK, blocked, NULL);
	return signalfd(-1, blocked, SFD_CLOEXEC);
}

/* Console input waiting for room in the UART's receive FIFO. */
struct input {
	uint8_t buf[256];
	size_t off, len;
	bool open;        /* stdin has not reached EOF */
	bool watched;     /* stdin is in the epoll set */
	bool pollable;    /* epoll can watch stdin (not a regular file) */
};

enum { EV_STOP, EV_SIGNAL, EV_INPUT, EV_CONSOLE_READY };

static void watch_input(struct vm *vm, int ep, struct input *in, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = EV_INPUT };

	if (!in->pollable || on == in->watched)
		return;
	epoll_ctl(ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, vm->console.in_fd, &ev);
	in->watched = on;
}

/* Hands buffered input to the UART; watches stdin again once all is taken. */
static void feed_uart(struct vm *vm, int ep, struct input *in)
{
	in->off += serial_receive(vm->serial, in->buf + in->off, in->len - in->off);
	if (in->off == in->len)
		in->off = in->len = 0;
	watch_input(vm, ep, in, in->open && in->len == 0);
}

static void read_console(struct vm *vm, int ep, struct input *in)
{
	size_t n = sizeof(in->buf);

	if (in->len)
		return;
	switch (console_read(&vm->console, in->buf, &n)) {
	case CONSOLE_INPUT_EOF:
		in->open = false;
		break;
	case CONSOLE_INPUT_ESCAPE:
		vm_request_stop(vm, VMM_EXIT_OK, "stopped from the console (Ctrl-])");
		break;
	case CONSOLE_INPUT_DATA:
		break;
	}
	in->len = n;
	feed_uart(vm, ep, in);
}

static void handle_event(struct vm *vm, int ep, int sigfd, struct input *in, uint32_t ev)
{
	struct signalfd_siginfo si;
	uint64_t count;
	char why[64];

	switch (ev) {
	case EV_SIGNAL:
		if (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
			snprintf(why, sizeof(why), "stopped by %s", strsignal((int)si.ssi_signo));
			vm_request_stop(vm, 128 + (int)si.ssi_signo, why);
		}
		break;
	case EV_INPUT:
		read_console(vm, ep, in);
		break;
	case EV_CONSOLE_READY:
		if (read(vm->console_ready_event, &count, sizeof(count)) == sizeof(count) && in->len)
			feed_uart(vm, ep, in);
		break;
	}
}

static int add_watch(int ep, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void event_loop(struct vm *vm, int sigfd)
{
	struct input in = { .open = vm->console.in_fd >= 0 };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	add_watch(ep, vm->stop_event, EV_STOP);
	add_watch(ep, sigfd, EV_SIGNAL);
	add_watch(ep, vm->console_ready_event, EV_CONSOLE_READY);
	if (in.open) {
		in.pollable = add_watch(ep, vm->console.in_fd, EV_INPUT) == 0;
		in.watched = in.pollable;
	}
	while (!atomic_load(&vm->stopping)) {
		struct epoll_event evs[4];
		/* A regular file or /dev/null cannot be polled: it is always readable. */
		bool read_now = !in.pollable && in.open && !in.len;
		int n = epoll_wait(ep, evs, 4, read_now ? 0 : -1);
		for (int i = 0; i < n; i++)
			handle_event(vm, ep, sigfd, &in, evs[i].data.u32);
		if (read_now)
			read_console(vm, ep, &in);
	}
	close(ep);
}

int vm_run(struct vm *vm)
{
	sigset_t blocked;
	int sigfd = setup_signals(&blocked);
	unsigned started = 0;

	if (sigfd < 0) {
		fprintf(stderr, "vmm: signalfd: %s\n", strerror(errno));
		return VMM_EXIT_RUNTIME;
	}
	if (iothread_start(&vm->io) < 0) {
		fprintf(stderr, "vmm: cannot start the I/O thread\n");
		return VMM_EXIT_RUNTIME;
	}
	for (; started < vm->nr_vcpus; started++) {
		if (pthread_create(&vm->vcpus[started].thread, NULL, vcpu_thread, &vm->vcpus[started])) {
			vm_request_stop(vm, VMM_EXIT_RUNTIME, "cannot start a vCPU thread");
			break;
		}
	}
	event_loop(vm, sigfd);
	for (unsigned i = 0; i < started; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (unsigned i = 0; i < started; i++)
		pthread_join(vm->vcpus[i].thread, NULL);
	iothread_stop(&vm->io);
	close(sigfd);
	pthread_sigmask(SIG_UNBLOCK, &blocked, NULL);
	console_close(&vm->console);
	if (vm->stop_status != VMM_EXIT_OK)
		fprintf(stderr, "vmm: %s (exit status %d)\n", vm->stop_reason, vm->stop_status);
	if (vm->cfg.stats)
		stats_print(stderr, vm);
	return vm->stop_status;
}

void vm_destroy(struct vm *vm)
{
	console_close(&vm->console);
	unmap_file(&vm->kernel_file);
	unmap_file(&vm->initrd_file);
	for (unsigned i = 0; vm->vcpus && i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].vm)
			vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	iothread_destroy(&vm->io);
	disks_close(vm);
	nics_close(vm);
	serial_destroy(vm->serial);
	bus_destroy(&vm->pio);
	bus_destroy(&vm->mmio);
	for (unsigned i = 0; i < vm->mem.nr_regions; i++)
		munmap(vm->mem.region[i].hva, vm->mem.region[i].size);
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->stop_event >= 0)
		close(vm->stop_event);
	if (vm->console_ready_event >= 0)
		close(vm->console_ready_event);
	kvm_irq_destroy(&vm->kvm_irq);
	kvm_host_close(&vm->kvm);
	pthread_mutex_destroy(&vm->stop_lock);
}
