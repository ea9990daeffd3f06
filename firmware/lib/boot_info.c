/*
 * Reads hvm_start_info (xen/include/public/arch-x86/hvm/start_info.h),
 * version 1 with the memory map, into boot_info.
 */
#include "fw.h"
#include "hvm_start_info.h"

struct fw_boot_info boot_info;

static void copy_cmdline(uint64_t paddr)
{
	const char *src = (const char *)(uintptr_t)paddr;
	size_t i = 0;

	if (!paddr)
		return;
	for (; i + 1 < sizeof(boot_info.cmdline) && src[i]; i++)
		boot_info.cmdline[i] = src[i];
	boot_info.cmdline[i] = 0;
}

void boot_info_parse(uint32_t paddr)
{
	const struct hvm_start_info *si = (const void *)(uintptr_t)paddr;

	if (si->magic != HVM_START_MAGIC)
		return;
	copy_cmdline(si->cmdline_paddr);
	boot_info.rsdp = si->rsdp_paddr;
	boot_info.nr_modules = si->nr_modules;
	if (si->nr_modules && si->modlist_paddr) {
		const struct hvm_modlist_entry *m = (const void *)(uintptr_t)si->modlist_paddr;
		boot_info.module_addr = m->paddr;
		boot_info.module_size = m->size;
	}
	if (si->version < 1 || !si->memmap_paddr)
		return;
	const struct hvm_memmap_entry *e = (const void *)(uintptr_t)si->memmap_paddr;
	for (uint32_t i = 0; i < si->memmap_entries && i < FW_MAX_MEM_RANGES; i++) {
		boot_info.mem[i].addr = e[i].addr;
		boot_info.mem[i].size = e[i].size;
		boot_info.mem[i].type = e[i].type;
		boot_info.nr_mem++;
	}
}

static const char *find_key(const char *key)
{
	size_t n = strlen(key);
	const char *p = boot_info.cmdline;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, n) && (p[n] == '=' || p[n] == ' ' || p[n] == 0))
			return p + n;
		while (*p && *p != ' ')
			p++;
	}
	return NULL;
}

const char *cmdline_get(const char *key)
{
	static char value[FW_CMDLINE_MAX];
	const char *p = find_key(key);
	size_t i = 0;

	if (!p)
		return NULL;
	if (*p == '=')
		p++;
	while (p[i] && p[i] != ' ' && i + 1 < sizeof(value)) {
		value[i] = p[i];
		i++;
	}
	value[i] = 0;
	return value;
}

unsigned long cmdline_get_ulong(const char *key, unsigned long dflt)
{
	const char *v = cmdline_get(key);
	return v && *v ? strtoul(v, NULL, 0) : dflt;
}
