/* The unit test suites; tests/unit/main.c runs one by name. */
#ifndef TESTS_UNIT_SUITES_H
#define TESTS_UNIT_SUITES_H

#include <check.h>

Suite *bus_suite(void);
Suite *serial_suite(void);
Suite *cli_suite(void);
Suite *pvh_suite(void);
Suite *bzimage_suite(void);
Suite *cpuid_suite(void);
Suite *memmap_suite(void);
Suite *acpi_suite(void);
Suite *ports_suite(void);
Suite *virtqueue_suite(void);
Suite *pci_suite(void);
Suite *virtio_blk_suite(void);
Suite *virtio_net_suite(void);

#endif
