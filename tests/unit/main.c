/* Runs one unit test suite: unit_tests NAME (see tests/CMakeLists.txt). */
#include <stdio.h>
#include <string.h>

#include "suites.h"

static const struct {
	const char *name;
	Suite *(*make)(void);
} suites[] = {
	{ "bus", bus_suite },
	{ "serial", serial_suite },
	{ "cli", cli_suite },
	{ "pvh", pvh_suite },
	{ "bzimage", bzimage_suite },
	{ "cpuid", cpuid_suite },
	{ "memmap", memmap_suite },
	{ "acpi", acpi_suite },
	{ "ports", ports_suite },
	{ "virtqueue", virtqueue_suite },
	{ "pci", pci_suite },
	{ "virtio_blk", virtio_blk_suite },
	{ "virtio_net", virtio_net_suite },
};

int main(int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		if (argc != 2 || strcmp(argv[1], suites[i].name))
			continue;
		SRunner *sr = srunner_create(suites[i].make());
		srunner_run_all(sr, CK_NORMAL);
		int failed = srunner_ntests_failed(sr);
		srunner_free(sr);
		return failed ? 1 : 0;
	}
	fprintf(stderr, "usage: unit_tests SUITE (see tests/CMakeLists.txt)\n");
	return 2;
}
