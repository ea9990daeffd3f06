/* The default guest: says hello and describes the machine it was given. */
#include "fw.h"

static const char *mem_type_name(uint32_t type)
{
	switch (type) {
	case 1: return "ram";
	case 2: return "reserved";
	case 3: return "acpi";
	case 4: return "nvs";
	default: return "other";
	}
}

static uint64_t ring3_sum(void *arg)
{
	uint64_t n = (uint64_t)(uintptr_t)arg, sum = 0;
	for (uint64_t i = 1; i <= n; i++)
		sum += i;
	return sum + current_cpl() * 1000000000000ul;
}

void guest_main(void)
{
	uint64_t ram = 0;

	printf("vmm demo guest: hello from a PVH guest in long mode\n");
	printf("vcpus: %u\n", smp_cpu_count());
	printf("memory map:\n");
	for (unsigned i = 0; i < boot_info.nr_mem; i++) {
		const struct fw_mem_range *m = &boot_info.mem[i];
		printf("  %016lx-%016lx %s\n", m->addr, m->addr + m->size - 1, mem_type_name(m->type));
		if (m->type == 1)
			ram += m->size;
	}
	printf("ram: %lu KiB\n", ram >> 10);
	printf("cmdline: \"%s\"\n", boot_info.cmdline);
	if (boot_info.nr_modules)
		printf("initrd: %lu bytes at 0x%lx\n", boot_info.module_size, boot_info.module_addr);
	/* 1 + ... + 1000 computed at CPL3; the CPL shows in the trillions. */
	uint64_t r = run_in_ring3(ring3_sum, (void *)1000);
	printf("ring 3: cpl %lu, sum %lu\n", r / 1000000000000ul, r % 1000000000000ul);
	printf("demo guest done\n");
}
