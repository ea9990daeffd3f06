/* Parsing vmm's command line into a vm_config; usage text. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memmap.h"
#include "nvme.h"

void cli_usage(FILE *out)
{
	fputs("usage: vmm <command> [options]\n"
	      "\n"
	      "commands:\n"
	      "  run        boot a guest (the built-in demo guest without --kernel)\n"
	      "  info       describe this host's KVM\n"
	      "  bench      benchmark devices with a Linux guest, beside QEMU (vmm bench --help)\n"
	      "\n"
	      "  vmm --help | vmm --version | vmm run --help\n", out);
}

void cli_run_usage(FILE *out)
{
	fputs("usage: vmm run [options]\n"
	      "\n"
	      "  --kernel FILE      bzImage or PVH ELF kernel to boot (default: the built-in demo guest)\n"
	      "  --firmware bios|uefi|FILE\n"
	      "                     boot the disks through firmware instead: bios is the installed\n"
	      "                     SeaBIOS (Debian package seabios), uefi the installed OVMF (ovmf),\n"
	      "                     FILE another BIOS or UEFI image\n"
	      "  --firmware-vars FILE\n"
	      "                     UEFI's variable store, kept in FILE across boots (made from OVMF's\n"
	      "                     template when missing; default: the template, for this run only)\n"
	      "  --boot hd|disk=N[,...][,menu=on|off]\n"
	      "                     the firmware's boot order: hd, the disks as given (default);\n"
	      "                     disk=N, the N-th --disk first; menu=on, SeaBIOS's boot menu\n"
	      "  --kernel-decompress auto|guest|vmm\n"
	      "                     who unpacks a bzImage's kernel: its own decompressor in the guest,\n"
	      "                     or vmm (auto: vmm on kvm_pvm hosts, the guest elsewhere)\n"
	      "  --initrd FILE      initial ramdisk\n"
	      "  --cmdline STR      kernel command line\n"
	      "  --vcpus N          number of vCPUs (default 1)\n"
	      "  --memory SIZE      guest RAM: MiB as a bare number, or with a K, M or G suffix (default 256)\n"
	      "  --console MODE     stdio (default), file=PATH or none\n"
	      "  --disk path=FILE[,bus=virtio|nvme][,cache=MODE][,aio=io_uring|threads][,readonly=on]\n"
	      "         [,transport=pci|mmio][,serial=STR][,queues=N]\n"
	      "                     a disk (repeatable): virtio-blk (default), or with bus=nvme an NVMe\n"
	      "                     controller on PCI with queues=N I/O queue pairs; cache: none,\n"
	      "                     writeback (default), writethrough, directsync, unsafe; a comma in\n"
	      "                     FILE is written ,,\n"
	      "  --network tap=NAME|bridge=BR|user[,model=virtio|e1000][,mac=MAC][,transport=pci|mmio]\n"
	      "            [,queues=N][,hostfwd=tcp|udp:[ADDR]:PORT-[ADDR]:PORT]\n"
	      "                     a NIC (virtio-net, or an emulated Intel e1000) on a tap (created\n"
	      "                     if missing), on a new tap added to bridge BR, or behind user-mode\n"
	      "                     NAT (repeatable)\n"
	      "  --seccomp on|off   confine each thread to the system calls it needs (default on)\n"
	      "  --trace            print every VM exit on stderr\n"
	      "  --stats            print exit and device counters on stderr when the VM stops\n"
	      "\n"
	      "On a terminal the console is raw; Ctrl-] stops the VM.\n"
	      "Exit status: 0 guest powered off or reset, 1 runtime error, 2 usage error,\n"
	      "4 guest crashed, (v << 1) | 1 guest wrote v to port 0x501, 128+N signal N,\n"
	      "159 a forbidden system call (seccomp).\n", out);
}

int cli_parse_memory(const char *s, uint64_t *bytes, struct vmm_error *err)
{
	char *end;
	uint64_t unit = MiB;

	if (!*s || *s < '0' || *s > '9')
		return vmm_fail(err, VMM_EXIT_USAGE, "--memory '%s': expected a size such as 512, 512M or 2G", s);
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end) {
		switch (*end) {
		case 'k': case 'K': unit = KiB; break;
		case 'm': case 'M': unit = MiB; break;
		case 'g': case 'G': unit = GiB; break;
		default: return vmm_fail(err, VMM_EXIT_USAGE, "--memory '%s': unknown unit (use K, M or G)", s);
		}
		if (end[1])
			return vmm_fail(err, VMM_EXIT_USAGE, "--memory '%s': unknown unit (use K, M or G)", s);
	}
	if (errno == ERANGE || v > GUEST_RAM_MAX / unit)
		return vmm_fail(err, VMM_EXIT_USAGE, "--memory '%s': more than the 1 TiB vmm supports", s);
	*bytes = v * unit;
	if (*bytes < GUEST_RAM_MIN)
		return vmm_fail(err, VMM_EXIT_USAGE, "--memory '%s': guests need at least 8 MiB", s);
	if (*bytes % (4 * KiB))
		return vmm_fail(err, VMM_EXIT_USAGE, "--memory '%s': must be a multiple of 4 KiB", s);
	return 0;
}

static int parse_vcpus(const char *s, unsigned *out, struct vmm_error *err)
{
	char *end;

	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *s < '0' || *s > '9' || *end || errno == ERANGE)
		return vmm_fail(err, VMM_EXIT_USAGE, "--vcpus '%s': expected a whole number", s);
	if (v < 1 || v > VMM_MAX_VCPUS)
		return vmm_fail(err, VMM_EXIT_USAGE, "--vcpus '%s': must be between 1 and %u", s, VMM_MAX_VCPUS);
	*out = (unsigned)v;
	return 0;
}

static int parse_console(const char *s, struct vm_config *cfg, struct vmm_error *err)
{
	if (!strcmp(s, "stdio")) {
		cfg->console = CONSOLE_STDIO;
	} else if (!strcmp(s, "none")) {
		cfg->console = CONSOLE_NONE;
	} else if (!strncmp(s, "file=", 5) && s[5]) {
		cfg->console = CONSOLE_FILE;
		cfg->console_path = s + 5;
	} else {
		return vmm_fail(err, VMM_EXIT_USAGE, "--console '%s': expected stdio, none or file=PATH", s);
	}
	return 0;
}

static int parse_nonempty(const char *opt, const char *value, const char **out, struct vmm_error *err)
{
	if (!*value)
		return vmm_fail(err, VMM_EXIT_USAGE, "%s needs a non-empty value", opt);
	*out = value;
	return 0;
}

/* One key=value item of an option's comma-separated list. */
struct list_item {
	const char *opt;           /* --disk, --network: for messages */
	char text[VMM_PATH_MAX + 64];
	const char *key;
	const char *value;         /* after the first '='; "" without one */
	bool has_value;
};

/*
 * Takes the next item of a list such as "path=a.img,cache=none" from *p;
 * 1 with an item, 0 at the end. A comma inside a value is written twice
 * (QEMU's ",,"), so that paths with commas can be given.
 */
static int next_item(const char **p, struct list_item *it, struct vmm_error *err)
{
	size_t n = 0;
	const char *s = *p;

	if (!*s)
		return 0;
	for (; *s && (*s != ',' || s[1] == ','); s++) {
		if (*s == ',')
			s++;
		if (n == sizeof(it->text) - 1)
			return vmm_fail(err, VMM_EXIT_USAGE, "%s: an item is too long", it->opt);
		it->text[n++] = *s;
	}
	it->text[n] = 0;
	*p = *s ? s + 1 : s;
	char *eq = strchr(it->text, '=');
	it->has_value = eq != NULL;
	it->key = it->text;
	it->value = eq ? eq + 1 : "";
	if (eq)
		*eq = 0;
	return 1;
}

static int parse_flag(const struct list_item *it, bool *out, struct vmm_error *err)
{
	if (!strcmp(it->value, "on") || !strcmp(it->value, "yes")) {
		*out = true;
	} else if (!strcmp(it->value, "off") || !strcmp(it->value, "no")) {
		*out = false;
	} else {
		return vmm_fail(err, VMM_EXIT_USAGE, "%s %s=%s: expected on or off", it->opt, it->key, it->value);
	}
	return 0;
}

static int copy_value(char *dst, size_t size, const struct list_item *it, struct vmm_error *err)
{
	if (!it->value[0] || strlen(it->value) >= size)
		return vmm_fail(err, VMM_EXIT_USAGE, "%s %s: needs a value of 1 to %zu characters", it->opt, it->key,
				size - 1);
	strcpy(dst, it->value);
	return 0;
}

static int parse_transport(const struct list_item *it, enum virtio_transport_kind *out, struct vmm_error *err)
{
	if (strcmp(it->value, "pci") && strcmp(it->value, "mmio"))
		return vmm_fail(err, VMM_EXIT_USAGE, "%s transport=%s: expected pci or mmio", it->opt, it->value);
	*out = strcmp(it->value, "pci") ? VIRTIO_TRANSPORT_MMIO : VIRTIO_TRANSPORT_PCI;
	return 0;
}

static int parse_count(const struct list_item *it, unsigned max, unsigned *out, struct vmm_error *err)
{
	char *end;
	unsigned long n = strtoul(it->value, &end, 10);

	if (*it->value < '0' || *it->value > '9' || *end || n < 1 || n > max)
		return vmm_fail(err, VMM_EXIT_USAGE, "%s %s=%s: expected 1 to %u", it->opt, it->key, it->value, max);
	*out = (unsigned)n;
	return 0;
}

static int parse_bus(const char *v, enum disk_bus *out, struct vmm_error *err)
{
	if (strcmp(v, "virtio") && strcmp(v, "nvme"))
		return vmm_fail(err, VMM_EXIT_USAGE, "--disk bus=%s: expected virtio or nvme", v);
	*out = strcmp(v, "virtio") ? DISK_BUS_NVME : DISK_BUS_VIRTIO;
	return 0;
}

/* serial= and queues= have one limit whatever the bus: an NVMe controller must take what virtio-blk does. */
_Static_assert(VMM_DISK_SERIAL_MAX <= NVME_SERIAL_BYTES, "--disk serial= allows more than NVMe's SN holds");
_Static_assert(VMM_MAX_DISK_QUEUES <= NVME_MAX_IO_QUEUES, "--disk queues= allows more than NVMe has");

static int parse_disk_key(struct disk_config *d, const struct list_item *it, struct vmm_error *err)
{
	const char *key = it->key, *v = it->value;

	if (!strcmp(key, "path"))
		return copy_value(d->path, sizeof(d->path), it, err);
	if (!strcmp(key, "serial"))
		return copy_value(d->serial, sizeof(d->serial), it, err);
	if (!strcmp(key, "readonly"))
		return parse_flag(it, &d->readonly, err);
	if (!strcmp(key, "cache")) {
		if (block_cache_parse(v, &d->cache) < 0)
			return vmm_fail(err, VMM_EXIT_USAGE,
					"--disk cache=%s: expected none, writeback, writethrough, directsync or unsafe", v);
		return 0;
	}
	if (!strcmp(key, "aio")) {
		if (strcmp(v, "io_uring") && strcmp(v, "threads"))
			return vmm_fail(err, VMM_EXIT_USAGE, "--disk aio=%s: expected io_uring or threads", v);
		d->aio = strcmp(v, "threads") ? BLOCK_AIO_IO_URING : BLOCK_AIO_THREADS;
		return 0;
	}
	if (!strcmp(key, "transport"))
		return parse_transport(it, &d->transport, err);
	if (!strcmp(key, "bus"))
		return parse_bus(v, &d->bus, err);
	if (!strcmp(key, "queues"))
		return parse_count(it, VMM_MAX_DISK_QUEUES, &d->queues, err);
	return vmm_fail(err, VMM_EXIT_USAGE, "--disk: unknown key '%s'", key);
}

/* path=FILE,key=value,... (virt-install's vocabulary); a first item without '=' is the path.
 * The bus and the transport are checked together at the end, whatever their order. */
int cli_parse_disk(const char *spec, struct disk_config *d, struct vmm_error *err)
{
	struct list_item it = { .opt = "--disk" };
	int r;

	memset(d, 0, sizeof(*d));
	d->cache = BLOCK_CACHE_WRITEBACK;
	const char *p = spec;
	for (unsigned i = 0; (r = next_item(&p, &it, err)) > 0; i++) {
		if (!it.has_value && i == 0 && it.key[0]) {
			it.value = it.key;
			it.key = "path";
		} else if (!it.has_value) {
			return vmm_fail(err, VMM_EXIT_USAGE, "--disk: '%s' is not key=value", it.key);
		}
		if (parse_disk_key(d, &it, err) < 0)
			return -1;
	}
	if (r < 0)
		return -1;
	if (!d->path[0])
		return vmm_fail(err, VMM_EXIT_USAGE, "--disk %s: no path=FILE", spec);
	if (d->bus == DISK_BUS_NVME && d->transport != VIRTIO_TRANSPORT_PCI)
		return vmm_fail(err, VMM_EXIT_USAGE, "--disk %s: bus=nvme is a PCI device (transport=mmio is virtio's)",
				spec);
	return 0;
}

static int parse_mac(const char *v, uint8_t mac[6], struct vmm_error *err)
{
	unsigned b[6];
	char tail;

	if (sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6 ||
	    strlen(v) != 17)
		return vmm_fail(err, VMM_EXIT_USAGE, "--network mac=%s: expected six hex bytes like 52:54:00:12:34:56", v);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	if (mac[0] & 1)
		return vmm_fail(err, VMM_EXIT_USAGE, "--network mac=%s: a multicast address cannot be a NIC's", v);
	return 0;
}

static int parse_nic_key(struct nic_config *n, const struct list_item *it, bool first, struct vmm_error *err)
{
	const char *key = it->key, *v = it->value;

	if (first && (!strcmp(key, "tap") || !strcmp(key, "bridge"))) {
		n->backend = strcmp(key, "tap") ? NIC_BRIDGE : NIC_TAP;
		return copy_value(n->ifname, sizeof(n->ifname), it, err);
	}
	if (!strcmp(key, "mac")) {
		n->mac_set = true;
		return parse_mac(v, n->mac, err);
	}
	if (!strcmp(key, "model")) {
		if (!strcmp(v, "virtio") || !strcmp(v, "e1000")) {
			n->model = strcmp(v, "virtio") ? NIC_MODEL_E1000 : NIC_MODEL_VIRTIO;
			return 0;
		}
		return vmm_fail(err, VMM_EXIT_USAGE, "--network model=%s: expected virtio or e1000", v);
	}
	if (!strcmp(key, "transport"))
		return parse_transport(it, &n->transport, err);
	if (!strcmp(key, "queues") && n->backend != NIC_USER)
		return parse_count(it, VMM_MAX_NIC_QUEUES, &n->queues, err);
	if (!strcmp(key, "hostfwd") && n->backend == NIC_USER) {
		if (n->nr_hostfwd == VMM_MAX_HOSTFWD)
			return vmm_fail(err, VMM_EXIT_USAGE, "--network: at most %d hostfwd rules", VMM_MAX_HOSTFWD);
		return copy_value(n->hostfwd[n->nr_hostfwd++], sizeof(n->hostfwd[0]), it, err);
	}
	return vmm_fail(err, VMM_EXIT_USAGE,
			"--network: unknown or misplaced key '%s' (tap=, bridge= or user comes first; hostfwd needs user, "
			"queues needs tap or bridge)", key);
}

/* tap=NAME|bridge=BR|user[,model=virtio|e1000][,mac=MAC][,transport=pci|mmio]... */
int cli_parse_nic(const char *spec, struct nic_config *n, struct vmm_error *err)
{
	struct list_item it = { .opt = "--network" };
	const char *p = spec;
	int r;

	memset(n, 0, sizeof(*n));
	for (unsigned i = 0; (r = next_item(&p, &it, err)) > 0; i++) {
		if (i == 0 && !it.has_value && !strcmp(it.key, "user")) {
			n->backend = NIC_USER;
			continue;
		}
		if (!it.has_value)
			return vmm_fail(err, VMM_EXIT_USAGE, "--network: '%s' is not key=value", it.key);
		if (parse_nic_key(n, &it, i == 0, err) < 0)
			return -1;
	}
	if (r < 0)
		return -1;
	if (!n->ifname[0] && n->backend != NIC_USER)
		return vmm_fail(err, VMM_EXIT_USAGE, "--network %s: expected tap=NAME, bridge=BR or user", spec);
	if (n->model == NIC_MODEL_E1000 && (n->transport != VIRTIO_TRANSPORT_PCI || n->queues > 1))
		return vmm_fail(err, VMM_EXIT_USAGE, "--network %s: model=e1000 is a PCI device with one queue", spec);
	return 0;
}

static int add_nic(const char *spec, struct vm_config *cfg, struct vmm_error *err)
{
	if (cfg->nr_nics == VMM_MAX_NICS)
		return vmm_fail(err, VMM_EXIT_USAGE, "--network: at most %d NICs", VMM_MAX_NICS);
	if (cli_parse_nic(spec, &cfg->nics[cfg->nr_nics], err) < 0)
		return -1;
	cfg->nr_nics++;
	return 0;
}

/* An NVMe controller's subsystem NQN is made of its serial: Linux refuses a second controller with the first one's. */
static int check_nvme_serial(const struct vm_config *cfg, const struct disk_config *d, struct vmm_error *err)
{
	for (unsigned i = 0; i < cfg->nr_disks && d->bus == DISK_BUS_NVME && d->serial[0]; i++)
		if (cfg->disks[i].bus == DISK_BUS_NVME && !strcmp(cfg->disks[i].serial, d->serial))
			return vmm_fail(err, VMM_EXIT_USAGE, "--disk %s: serial=%s is NVMe disk %s's too; each needs its own",
					d->path, d->serial, cfg->disks[i].path);
	return 0;
}

static int add_disk(const char *spec, struct vm_config *cfg, struct vmm_error *err)
{
	struct disk_config *d = &cfg->disks[cfg->nr_disks];

	if (cfg->nr_disks == VMM_MAX_DISKS)
		return vmm_fail(err, VMM_EXIT_USAGE, "--disk: at most %d disks", VMM_MAX_DISKS);
	if (cli_parse_disk(spec, d, err) < 0 || check_nvme_serial(cfg, d, err) < 0)
		return -1;
	cfg->nr_disks++;
	return 0;
}

static int parse_kernel_decompress(const char *value, enum kernel_decompress *out, struct vmm_error *err)
{
	static const char *const names[] = { "auto", "guest", "vmm" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(value, names[i])) {
			*out = (enum kernel_decompress)i;
			return 0;
		}
	}
	return vmm_fail(err, VMM_EXIT_USAGE, "--kernel-decompress '%s': expected auto, guest or vmm", value);
}

/* One `--name value` or `--name=value` option of `vmm run`. */
static int parse_boot_item(const struct list_item *it, struct boot_config *b, struct vmm_error *err)
{
	unsigned n;

	if (!strcmp(it->key, "hd") && !it->has_value)
		return 0;
	if (!strcmp(it->key, "menu"))
		return parse_flag(it, &b->menu, err);
	if (strcmp(it->key, "disk"))
		return vmm_fail(err, VMM_EXIT_USAGE, "--boot: unknown item '%s' (expected hd, disk=N or menu=on|off)",
				it->key);
	if (parse_count(it, VMM_MAX_DISKS, &n, err) < 0)
		return -1;
	if (b->nr_order == VMM_MAX_DISKS)
		return vmm_fail(err, VMM_EXIT_USAGE, "--boot: more than %u disks", VMM_MAX_DISKS);
	b->order[b->nr_order++] = n - 1;
	return 0;
}

static int parse_boot(const char *value, struct boot_config *b, struct vmm_error *err)
{
	struct list_item it = { .opt = "--boot" };
	int r;

	*b = (struct boot_config){ 0 };
	if (!*value)
		return vmm_fail(err, VMM_EXIT_USAGE, "--boot needs a value");
	while ((r = next_item(&value, &it, err)) > 0)
		if (parse_boot_item(&it, b, err) < 0)
			return -1;
	return r;
}

static int parse_run_option(const char *name, const char *value, struct vm_config *cfg, struct vmm_error *err)
{
	if (!strcmp(name, "--firmware"))
		return parse_nonempty(name, value, &cfg->firmware, err);
	if (!strcmp(name, "--firmware-vars"))
		return parse_nonempty(name, value, &cfg->firmware_vars, err);
	if (!strcmp(name, "--boot"))
		return parse_boot(value, &cfg->boot, err);
	if (!strcmp(name, "--kernel"))
		return parse_nonempty(name, value, &cfg->kernel, err);
	if (!strcmp(name, "--kernel-decompress"))
		return parse_kernel_decompress(value, &cfg->kernel_decompress, err);
	if (!strcmp(name, "--initrd"))
		return parse_nonempty(name, value, &cfg->initrd, err);
	if (!strcmp(name, "--cmdline")) {
		cfg->cmdline = value;
		return 0;
	}
	if (!strcmp(name, "--vcpus"))
		return parse_vcpus(value, &cfg->vcpus, err);
	if (!strcmp(name, "--memory"))
		return cli_parse_memory(value, &cfg->memory, err);
	if (!strcmp(name, "--disk"))
		return add_disk(value, cfg, err);
	if (!strcmp(name, "--network"))
		return add_nic(value, cfg, err);
	if (!strcmp(name, "--seccomp")) {
		if (strcmp(value, "on") && strcmp(value, "off"))
			return vmm_fail(err, VMM_EXIT_USAGE, "--seccomp '%s': expected on or off", value);
		cfg->seccomp = !strcmp(value, "on");
		return 0;
	}
	return parse_console(value, cfg, err);
}

static bool takes_value(const char *name)
{
	static const char *const names[] = { "--firmware", "--firmware-vars", "--boot", "--kernel", "--kernel-decompress", "--initrd", "--cmdline", "--vcpus",
					     "--memory", "--console", "--disk", "--network", "--seccomp" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

static bool any_mmio(const struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_disks; i++)
		if (cfg->disks[i].transport == VIRTIO_TRANSPORT_MMIO)
			return true;
	for (unsigned i = 0; i < cfg->nr_nics; i++)
		if (cfg->nics[i].transport == VIRTIO_TRANSPORT_MMIO)
			return true;
	return false;
}

/* What --firmware and --boot allow together with the rest. */
static int check_firmware_options(const struct vm_config *cfg, bool boot_given, struct vmm_error *err)
{
	if (!cfg->firmware && cfg->firmware_vars)
		return vmm_fail(err, VMM_EXIT_USAGE, "--firmware-vars needs --firmware uefi or a UEFI image (it is UEFI's variable store)");
	if (!cfg->firmware)
		return boot_given ? vmm_fail(err, VMM_EXIT_USAGE, "--boot needs --firmware (it orders the "
					     "firmware's boot disks)") : 0;
	if (cfg->kernel || cfg->initrd || cfg->cmdline)
		return vmm_fail(err, VMM_EXIT_USAGE, "--firmware boots from the disks: it takes no --kernel, "
				"--initrd or --cmdline");
	if (any_mmio(cfg))
		return vmm_fail(err, VMM_EXIT_USAGE, "transport=mmio has no place under --firmware (the firmware's "
				"PC has virtio on PCI only)");
	for (unsigned i = 0; i < cfg->boot.nr_order; i++)
		if (cfg->boot.order[i] >= cfg->nr_disks)
			return vmm_fail(err, VMM_EXIT_USAGE, "--boot disk=%u: there are %u disks", cfg->boot.order[i] + 1,
					cfg->nr_disks);
	return 0;
}

static int parse_run(int argc, char **argv, struct cli *out, struct vmm_error *err)
{
	bool boot_given = false;

	struct vm_config *cfg = &out->run;

	for (int i = 0; i < argc; i++) {
		char name[32];
		const char *arg = argv[i], *eq = strchr(arg, '='), *value = NULL;
		size_t n = eq ? (size_t)(eq - arg) : strlen(arg);

		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			out->command = CLI_RUN_HELP;
			return 0;
		}
		if (n >= sizeof(name) || strncmp(arg, "--", 2))
			return vmm_fail(err, VMM_EXIT_USAGE, "unexpected argument '%s' (see vmm run --help)", arg);
		memcpy(name, arg, n);
		name[n] = 0;
		bool is_trace = !strcmp(name, "--trace");
		if (is_trace || !strcmp(name, "--stats")) {
			if (eq)
				return vmm_fail(err, VMM_EXIT_USAGE, "%s takes no value", name);
			if (is_trace)
				cfg->trace = true;
			else
				cfg->stats = true;
			continue;
		}
		if (!takes_value(name))
			return vmm_fail(err, VMM_EXIT_USAGE, "unknown option '%s' (see vmm run --help)", name);
		if (eq)
			value = eq + 1;
		else if (i + 1 < argc)
			value = argv[++i];
		else
			return vmm_fail(err, VMM_EXIT_USAGE, "%s needs a value", name);
		if (parse_run_option(name, value, cfg, err) < 0)
			return -1;
		boot_given |= !strcmp(name, "--boot");
	}
	return check_firmware_options(cfg, boot_given, err);
}

int cli_parse(int argc, char **argv, struct cli *out, struct vmm_error *err)
{
	memset(out, 0, sizeof(*out));
	out->run.vcpus = 1;
	out->run.memory = VMM_DEFAULT_MEMORY;
	out->run.console = CONSOLE_STDIO;
#ifndef __SANITIZE_ADDRESS__
	out->run.seccomp = true;   /* off under ASan: its leak check at exit needs ptrace */
#endif
	if (argc < 2)
		return vmm_fail(err, VMM_EXIT_USAGE, "no command given (try vmm --help)");
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		out->command = CLI_HELP;
		return 0;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		out->command = CLI_VERSION;
		return 0;
	}
	if (!strcmp(cmd, "info")) {
		out->command = CLI_INFO;
		if (argc > 2)
			return vmm_fail(err, VMM_EXIT_USAGE, "vmm info takes no arguments (got '%s')", argv[2]);
		return 0;
	}
	if (!strcmp(cmd, "bench")) {
		out->command = CLI_BENCH;
		out->bench_argc = argc - 2;
		out->bench_argv = argv + 2;
		return 0;
	}
	if (!strcmp(cmd, "run")) {
		out->command = CLI_RUN;
		return parse_run(argc - 2, argv + 2, out, err);
	}
	return vmm_fail(err, VMM_EXIT_USAGE, "unknown command '%s' (try vmm --help)", cmd);
}
