/* Loading the kernel, initrd, command line, boot information and ACPI tables into guest memory. */
#include "loader.h"

#include <stdio.h>
#include <string.h>

#include "long_mode.h"
#include "pvh.h"
#include "reset_vector.h"

static int load_kernel(const struct boot_request *req, struct boot_kernel *k, struct vmm_error *err)
{
	if (bzimage_detect(req->kernel.data, req->kernel.len)) {
		if (bzimage_load(req->mem, req->map, &req->kernel, req->decompress, &k->bz, err) < 0)
			return -1;
		k->kind = BOOT_ENTRY_LINUX64;
		k->entry = k->bz.entry64;
		k->end = k->bz.end;
		k->initrd_max = k->bz.initrd_addr_max;
		k->linux_kernel = true;
		return 0;
	}
	struct pvh_image pvh;
	if (pvh_load_elf(req->mem, req->map, &req->kernel, &pvh, err) < 0)
		return -1;
	*k = (struct boot_kernel){ .kind = BOOT_ENTRY_PVH, .entry = pvh.entry, .end = pvh.end,
				   .initrd_max = UINT64_MAX, .linux_kernel = pvh.linux_kernel };
	return 0;
}

/*
 * The user's command line, then what vmm adds: for Linux, linux_cmdline;
 * for other guests, the virtio-mmio devices in Linux's virtio_mmio.device=
 * syntax (Linux itself finds them in the DSDT).
 */
static void build_cmdline(const struct boot_request *req, const struct boot_kernel *k, char *out, size_t size)
{
	const struct acpi_config *acpi = req->acpi;
	size_t len = (size_t)snprintf(out, size, "%s", req->cmdline ? req->cmdline : "");

	if (k->linux_kernel && req->linux_cmdline && len < size)
		len += (size_t)snprintf(out + len, size - len, " %s", req->linux_cmdline);
	for (unsigned i = 0; !k->linux_kernel && i < acpi->nr_mmio_devices && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, " virtio_mmio.device=%u@0x%llx:%u",
					acpi->mmio_devices[i].size,
					(unsigned long long)acpi->mmio_devices[i].base, acpi->mmio_devices[i].gsi);
}

static int write_boot_info(const struct boot_request *req, const struct boot_kernel *k, const char *cmdline,
			   struct vmm_error *err)
{
	if (k->kind == BOOT_ENTRY_PVH) {
		struct pvh_boot_params bp = { cmdline, k->initrd_addr, k->initrd_size, req->acpi->base };
		return pvh_write_start_info(req->mem, req->map, &bp, err);
	}
	struct linux_boot_info info = { cmdline, k->initrd_addr, k->initrd_size, req->acpi->base };
	if (long_mode_write_tables(req->mem) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "page tables do not fit in guest RAM");
	return bzimage_write_boot_params(req->mem, req->map, &k->bz, &info, err);
}

static int write_acpi_tables(const struct boot_request *req, struct vmm_error *err)
{
	uint8_t *dst = guest_mem_ptr(req->mem, req->acpi->base, ACPI_TABLES_SIZE);

	if (!dst || acpi_build(dst, ACPI_TABLES_SIZE, req->acpi) == 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "ACPI tables do not fit at 0x%llx",
				(unsigned long long)req->acpi->base);
	return 0;
}

int boot_load_kernel(const struct boot_request *req, struct boot_kernel *k, struct vmm_error *err)
{
	if (load_kernel(req, k, err) < 0) {
		size_t n = strlen(err->msg);
		if (req->kernel_name)
			snprintf(err->msg + n, sizeof(err->msg) - n, " (--kernel %s)", req->kernel_name);
		return -1;
	}
	k->initrd_addr = k->initrd_size = 0;
	if (!req->initrd.data)
		return 0;
	k->initrd_size = req->initrd.len;
	if (boot_place_initrd(req->map, k->end, k->initrd_max, req->initrd.len, &k->initrd_addr, err) < 0)
		return -1;
	uint8_t *dst = guest_mem_ptr(req->mem, k->initrd_addr, req->initrd.len);
	if (!dst)
		return vmm_fail(err, VMM_EXIT_USAGE, "--initrd %s does not fit in guest RAM", req->initrd_name);
	if (boot_blob_copy(&req->initrd, 0, dst, req->initrd.len) < 0)
		return vmm_fail(err, VMM_EXIT_USAGE, "--initrd %s: cannot read it", req->initrd_name);
	return 0;
}

int boot_finish(const struct boot_request *req, const struct boot_kernel *k, struct boot_entry *entry,
		struct vmm_error *err)
{
	char cmdline[BOOT_CMDLINE_MAX];

	build_cmdline(req, k, cmdline, sizeof(cmdline));
	if (write_boot_info(req, k, cmdline, err) < 0 || write_acpi_tables(req, err) < 0)
		return -1;
	if (reset_vector_write(req->mem) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "the reset vector is not in guest RAM");
	*entry = (struct boot_entry){ k->kind, k->entry,
				      k->kind == BOOT_ENTRY_PVH ? BOOT_START_INFO_ADDR : BOOT_PARAMS_ADDR,
				      k->linux_kernel };
	return 0;
}
