#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memmap.h"

void cli_usage(FILE *out)
{
	fputs("usage: vmm <command> [options]\n"
	      "\n"
	      "commands:\n"
	      "  run        boot a guest (the built-in demo guest without --kernel)\n"
	      "  info       describe this host's KVM\n"
	      "\n"
	      "  vmm --help | vmm --version | vmm run --help\n", out);
}

void cli_run_usage(FILE *out)
{
	fputs("usage: vmm run [options]\n"
	      "\n"
	      "  --kernel FILE      PVH ELF kernel to boot (default: the built-in demo guest)\n"
	      "  --initrd FILE      initial ramdisk, passed as the first PVH module\n"
	      "  --cmdline STR      kernel command line\n"
	      "  --vcpus N          number of vCPUs (default 1)\n"
	      "  --memory SIZE      guest RAM: MiB as a bare number, or with a K, M or G suffix (default 256)\n"
	      "  --console MODE     stdio (default), file=PATH or none\n"
	      "  --trace            print every VM exit on stderr\n"
	      "  --stats            print exit and device counters on stderr when the VM stops\n"
	      "\n"
	      "On a terminal the console is raw; Ctrl-] stops the VM.\n"
	      "Exit status: 0 guest powered off or reset, 1 runtime error, 2 usage error,\n"
	      "4 guest crashed, (v << 1) | 1 guest wrote v to port 0x501, 128+N signal N.\n", out);
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

/* One `--name value` or `--name=value` option of `vmm run`. */
static int parse_run_option(const char *name, const char *value, struct vm_config *cfg, struct vmm_error *err)
{
	if (!strcmp(name, "--kernel"))
		return parse_nonempty(name, value, &cfg->kernel, err);
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
	return parse_console(value, cfg, err);
}

static bool takes_value(const char *name)
{
	static const char *const names[] = { "--kernel", "--initrd", "--cmdline", "--vcpus", "--memory", "--console" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

static int parse_run(int argc, char **argv, struct cli *out, struct vmm_error *err)
{
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
	}
	return 0;
}

int cli_parse(int argc, char **argv, struct cli *out, struct vmm_error *err)
{
	memset(out, 0, sizeof(*out));
	out->run.vcpus = 1;
	out->run.memory = VMM_DEFAULT_MEMORY;
	out->run.console = CONSOLE_STDIO;
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
	if (!strcmp(cmd, "run")) {
		out->command = CLI_RUN;
		return parse_run(argc - 2, argv + 2, out, err);
	}
	return vmm_fail(err, VMM_EXIT_USAGE, "unknown command '%s' (try vmm --help)", cmd);
}
