/* Command-line parsing: commands, options, sizes, the --disk and --network lists, --firmware and --boot. */
#include <string.h>

#include "cli.h"
#include <stdio.h>
#include "memmap.h"
#include "suites.h"

#define ARGV(...) ((char *[]){ "vmm", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "vmm", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(cli, err, ...) cli_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), cli, err)

static void expect_usage_error(int argc, char **argv, const char *fragment)
{
	struct cli cli;
	struct vmm_error err = { 0 };

	ck_assert_int_eq(cli_parse(argc, argv, &cli, &err), -1);
	ck_assert_int_eq(err.status, VMM_EXIT_USAGE);
	ck_assert_msg(strstr(err.msg, fragment), "message '%s' lacks '%s'", err.msg, fragment);
	ck_assert_ptr_null(strchr(err.msg, '\n'));
}

#define EXPECT_ERROR(fragment, ...) expect_usage_error(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), fragment)

START_TEST(test_run_defaults)
{
	struct cli cli;
	struct vmm_error err = { 0 };

	ck_assert_int_eq(PARSE(&cli, &err, "run"), 0);
	ck_assert_int_eq(cli.command, CLI_RUN);
	ck_assert_ptr_null(cli.run.kernel);
	ck_assert_uint_eq(cli.run.vcpus, 1);
	ck_assert_uint_eq(cli.run.memory, VMM_DEFAULT_MEMORY);
	ck_assert_int_eq(cli.run.console, CONSOLE_STDIO);
	ck_assert(!cli.run.trace && !cli.run.stats);
}
END_TEST

START_TEST(test_run_all_options)
{
	struct cli cli;
	struct vmm_error err = { 0 };

	ck_assert_int_eq(PARSE(&cli, &err, "run", "--kernel", "k.elf", "--initrd=i.img", "--cmdline", "a b=c",
			       "--vcpus", "2", "--memory=1G", "--console", "file=/tmp/out", "--trace", "--stats"), 0);
	ck_assert_str_eq(cli.run.kernel, "k.elf");
	ck_assert_str_eq(cli.run.initrd, "i.img");
	ck_assert_str_eq(cli.run.cmdline, "a b=c");
	ck_assert_uint_eq(cli.run.vcpus, 2);
	ck_assert_uint_eq(cli.run.memory, GiB);
	ck_assert_int_eq(cli.run.console, CONSOLE_FILE);
	ck_assert_str_eq(cli.run.console_path, "/tmp/out");
	ck_assert(cli.run.trace && cli.run.stats);
	ck_assert_int_eq(PARSE(&cli, &err, "run", "--console", "none", "--cmdline="), 0);
	ck_assert_int_eq(cli.run.console, CONSOLE_NONE);
	ck_assert_str_eq(cli.run.cmdline, "");
}
END_TEST

START_TEST(test_memory_sizes)
{
	struct vmm_error err = { 0 };
	uint64_t b;

	ck_assert_int_eq(cli_parse_memory("2048", &b, &err), 0);
	ck_assert_uint_eq(b, 2 * GiB);
	ck_assert_int_eq(cli_parse_memory("512M", &b, &err), 0);
	ck_assert_uint_eq(b, 512 * MiB);
	ck_assert_int_eq(cli_parse_memory("512m", &b, &err), 0);
	ck_assert_uint_eq(b, 512 * MiB);
	ck_assert_int_eq(cli_parse_memory("4G", &b, &err), 0);
	ck_assert_uint_eq(b, 4 * GiB);
	ck_assert_int_eq(cli_parse_memory("16384K", &b, &err), 0);
	ck_assert_uint_eq(b, 16 * MiB);
	const char *bad[] = { "", "0", "7", "abc", "-1", "5X", "1GB", "12 ", "4097K",
			      "99999999999999999999", "1048577", "2000G" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.status = 0;
		ck_assert_msg(cli_parse_memory(bad[i], &b, &err) == -1, "'%s' accepted", bad[i]);
		ck_assert_int_eq(err.status, VMM_EXIT_USAGE);
	}
}
END_TEST

START_TEST(test_bad_run_options)
{
	EXPECT_ERROR("--vcpus '0'", "run", "--vcpus", "0");
	EXPECT_ERROR("between 1 and", "run", "--vcpus", "100000");
	EXPECT_ERROR("whole number", "run", "--vcpus", "two");
	EXPECT_ERROR("whole number", "run", "--vcpus", "-1");
	EXPECT_ERROR("whole number", "run", "--vcpus", "");
	EXPECT_ERROR("--memory", "run", "--memory", "lots");
	EXPECT_ERROR("unknown option '--bogus'", "run", "--bogus");
	EXPECT_ERROR("needs a value", "run", "--kernel");
	EXPECT_ERROR("non-empty", "run", "--kernel=");
	EXPECT_ERROR("stdio, none or file=PATH", "run", "--console", "tty");
	EXPECT_ERROR("stdio, none or file=PATH", "run", "--console", "file=");
	EXPECT_ERROR("takes no value", "run", "--trace=yes");
	EXPECT_ERROR("unexpected argument 'extra'", "run", "extra");
}
END_TEST

START_TEST(test_commands)
{
	struct cli cli;
	struct vmm_error err = { 0 };

	ck_assert_int_eq(PARSE(&cli, &err, "--help"), 0);
	ck_assert_int_eq(cli.command, CLI_HELP);
	ck_assert_int_eq(PARSE(&cli, &err, "--version"), 0);
	ck_assert_int_eq(cli.command, CLI_VERSION);
	ck_assert_int_eq(PARSE(&cli, &err, "info"), 0);
	ck_assert_int_eq(cli.command, CLI_INFO);
	ck_assert_int_eq(PARSE(&cli, &err, "run", "--memory", "64", "--help"), 0);
	ck_assert_int_eq(cli.command, CLI_RUN_HELP);
	/* bench hands everything after it to tools/bench.py, which checks it. */
	char *bench[] = { "vmm", "bench", "--devices", "nvme", "--quick", NULL };
	ck_assert_int_eq(cli_parse(5, bench, &cli, &err), 0);
	ck_assert_int_eq(cli.command, CLI_BENCH);
	ck_assert_int_eq(cli.bench_argc, 3);
	ck_assert_str_eq(cli.bench_argv[0], "--devices");
	ck_assert_str_eq(cli.bench_argv[2], "--quick");
	EXPECT_ERROR("unknown command 'launch'", "launch");
	EXPECT_ERROR("takes no arguments", "info", "--verbose");
	char *no_args[] = { "vmm", NULL };
	expect_usage_error(1, no_args, "no command");
}
END_TEST

START_TEST(test_disk_options)
{
	struct disk_config d;
	struct vmm_error err = { 0 };

	ck_assert_int_eq(cli_parse_disk("path=/tmp/a.img", &d, &err), 0);
	ck_assert_str_eq(d.path, "/tmp/a.img");
	ck_assert_int_eq(d.cache, BLOCK_CACHE_WRITEBACK);
	ck_assert_int_eq(d.transport, VIRTIO_TRANSPORT_PCI);
	ck_assert(!d.readonly);
	ck_assert_uint_eq(d.queues, 0);
	ck_assert_int_eq(cli_parse_disk("/tmp/b.img,bus=virtio,cache=none,readonly=on,transport=mmio,"
					"serial=ABCDEFGHIJKLMNOPQRST,queues=4", &d, &err), 0);
	ck_assert_str_eq(d.path, "/tmp/b.img");
	ck_assert_int_eq(d.cache, BLOCK_CACHE_NONE);
	ck_assert(d.readonly);
	ck_assert_int_eq(d.transport, VIRTIO_TRANSPORT_MMIO);
	ck_assert_str_eq(d.serial, "ABCDEFGHIJKLMNOPQRST");
	ck_assert_uint_eq(d.queues, 4);
	const char *modes[] = { "writeback", "none", "writethrough", "directsync", "unsafe" };
	for (int m = 0; m < 5; m++) {
		char spec[64];
		snprintf(spec, sizeof(spec), "path=x,cache=%s", modes[m]);
		ck_assert_int_eq(cli_parse_disk(spec, &d, &err), 0);
		ck_assert_int_eq(d.cache, (enum block_cache)m);
	}
	/* A comma in a path is written twice, as in QEMU; '=' in a value stays. */
	ck_assert_int_eq(cli_parse_disk("path=/tmp/a,,b=c.img,cache=none", &d, &err), 0);
	ck_assert_str_eq(d.path, "/tmp/a,b=c.img");
	ck_assert_int_eq(d.cache, BLOCK_CACHE_NONE);
	ck_assert_int_eq(cli_parse_disk("/tmp/x,,,,y,aio=threads", &d, &err), 0);
	ck_assert_str_eq(d.path, "/tmp/x,,y");
	ck_assert_int_eq(d.aio, BLOCK_AIO_THREADS);
	ck_assert_int_eq(cli_parse_disk("x", &d, &err), 0);
	ck_assert_int_eq(d.aio, BLOCK_AIO_IO_URING);
	const char *bad[] = { "", "cache=none", "path=", "path=x,cache=fast", "path=x,readonly=maybe", "path=x,aio=native",
			      "x,y",
			      "path=x,transport=usb", "path=x,bus=ide", "path=x,queues=0", "path=x,queues=65",
			      "path=x,queues=2x", "path=x,serial=ABCDEFGHIJKLMNOPQRSTU", "path=x,speed=9",
			      "path=x,novalue" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.status = 0;
		ck_assert_msg(cli_parse_disk(bad[i], &d, &err) == -1, "'%s' accepted", bad[i]);
		ck_assert_int_eq(err.status, VMM_EXIT_USAGE);
	}
}
END_TEST

START_TEST(test_disk_bus)
{
	struct cli cli;
	struct disk_config d;
	struct vmm_error err = { 0 };

	ck_assert_int_eq(cli_parse_disk("path=x", &d, &err), 0);
	ck_assert_int_eq(d.bus, DISK_BUS_VIRTIO);
	ck_assert_int_eq(cli_parse_disk("path=x,bus=nvme,bus=virtio,transport=mmio", &d, &err), 0);
	ck_assert_int_eq(d.bus, DISK_BUS_VIRTIO);
	ck_assert_int_eq(cli_parse_disk("path=x,bus=nvme", &d, &err), 0);
	ck_assert_int_eq(d.bus, DISK_BUS_NVME);
	ck_assert_int_eq(d.transport, VIRTIO_TRANSPORT_PCI);
	ck_assert_uint_eq(d.queues, 0);
	/* Every other disk option holds for NVMe, in any order. */
	ck_assert_int_eq(cli_parse_disk("/tmp/n.img,cache=none,aio=threads,readonly=on,serial=ABCDEFGHIJKLMNOPQRST,"
					"queues=64,transport=pci,bus=nvme", &d, &err), 0);
	ck_assert_int_eq(d.bus, DISK_BUS_NVME);
	ck_assert_str_eq(d.path, "/tmp/n.img");
	ck_assert_int_eq(d.cache, BLOCK_CACHE_NONE);
	ck_assert_int_eq(d.aio, BLOCK_AIO_THREADS);
	ck_assert(d.readonly);
	ck_assert_str_eq(d.serial, "ABCDEFGHIJKLMNOPQRST");
	ck_assert_uint_eq(d.queues, 64);
	ck_assert_int_eq(PARSE(&cli, &err, "run", "--disk", "a,bus=nvme", "--disk=b"), 0);
	ck_assert_int_eq(cli.run.disks[0].bus, DISK_BUS_NVME);
	ck_assert_int_eq(cli.run.disks[1].bus, DISK_BUS_VIRTIO);
	EXPECT_ERROR("--disk path=x,bus=nvme,transport=mmio: bus=nvme is a PCI device", "run", "--disk",
		     "path=x,bus=nvme,transport=mmio");
	EXPECT_ERROR("bus=nvme is a PCI device", "run", "--disk", "x,transport=mmio,bus=nvme");
	EXPECT_ERROR("--disk bus=bogus: expected virtio or nvme", "run", "--disk", "path=x,bus=bogus");
	EXPECT_ERROR("--disk bus=: expected virtio or nvme", "run", "--disk", "path=x,bus=");
	EXPECT_ERROR("--disk bus=NVMe: expected virtio or nvme", "run", "--disk", "path=x,bus=NVMe");
	EXPECT_ERROR("--disk queues=65: expected 1 to 64", "run", "--disk", "path=x,bus=nvme,queues=65");
	EXPECT_ERROR("--disk queues=0: expected 1 to 64", "run", "--disk", "path=x,bus=nvme,queues=0");
	/* Two controllers with one serial would claim one NVMe subsystem; vmm gives serial-less ones their own. */
	ck_assert_int_eq(PARSE(&cli, &err, "run", "--disk", "a,bus=nvme", "--disk", "b,bus=nvme", "--disk",
			       "c,serial=S", "--disk", "d,bus=nvme,serial=S"), 0);
	EXPECT_ERROR("--disk c: serial=S is NVMe disk a's too", "run", "--disk", "a,bus=nvme,serial=S", "--disk",
		     "b,serial=S", "--disk", "c,bus=nvme,serial=S");
}
END_TEST

START_TEST(test_repeated_disks)
{
	struct cli cli;
	struct vmm_error err = { 0 };

	ck_assert_int_eq(PARSE(&cli, &err, "run", "--disk", "path=a", "--disk=path=b,transport=mmio"), 0);
	ck_assert_uint_eq(cli.run.nr_disks, 2);
	ck_assert_str_eq(cli.run.disks[1].path, "b");
	ck_assert_int_eq(PARSE(&cli, &err, "run", "--disk", "a", "--disk", "b", "--disk", "c", "--disk", "d",
			       "--disk", "e", "--disk", "f", "--disk", "g", "--disk", "h"), 0);
	EXPECT_ERROR("at most 8 disks", "run", "--disk", "a", "--disk", "b", "--disk", "c", "--disk", "d",
		     "--disk", "e", "--disk", "f", "--disk", "g", "--disk", "h", "--disk", "i");
}
END_TEST

START_TEST(test_network_options)
{
	struct nic_config n;
	struct vmm_error err = { 0 };

	ck_assert_int_eq(cli_parse_nic("tap=tap0", &n, &err), 0);
	ck_assert_int_eq(n.backend, NIC_TAP);
	ck_assert_str_eq(n.ifname, "tap0");
	ck_assert(!n.mac_set);
	ck_assert_int_eq(cli_parse_nic("bridge=br0,model=virtio,mac=52:54:00:12:34:56,transport=mmio,queues=4", &n, &err), 0);
	ck_assert_int_eq(n.backend, NIC_BRIDGE);
	ck_assert(n.mac_set);
	ck_assert_uint_eq(n.mac[5], 0x56);
	ck_assert_int_eq(n.transport, VIRTIO_TRANSPORT_MMIO);
	ck_assert_uint_eq(n.queues, 4);
	ck_assert_int_eq(cli_parse_nic("user,hostfwd=tcp::2222-:22,hostfwd=udp:127.0.0.1:5555-10.0.2.15:7", &n, &err), 0);
	ck_assert_int_eq(n.backend, NIC_USER);
	ck_assert_uint_eq(n.nr_hostfwd, 2);
	ck_assert_str_eq(n.hostfwd[0], "tcp::2222-:22");
	ck_assert_int_eq(n.model, NIC_MODEL_VIRTIO);
	ck_assert_int_eq(cli_parse_nic("user,model=e1000,mac=52:54:00:12:34:57", &n, &err), 0);
	ck_assert_int_eq(n.model, NIC_MODEL_E1000);
	const char *bad[] = { "", "tap=", "mac=52:54:00:12:34:56", "tap=t,mac=52:54:00:12:34", "tap=t,mac=01:00:5e:00:00:01",
			      "tap=t,mac=52:54:00:12:34:5g", "tap=t,model=rtl8139", "tap=t,model=e1000,transport=mmio",
			      "tap=t,model=e1000,queues=2", "tap=t,transport=isa", "tap=t,queues=0",
			      "tap=t,queues=17", "user,queues=2", "tap=t,hostfwd=tcp::1-:2", "tap=t,speed=9", "tap=t,user",
			      "tap=averyveryverylongname" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.status = 0;
		ck_assert_msg(cli_parse_nic(bad[i], &n, &err) == -1, "'%s' accepted", bad[i]);
		ck_assert_int_eq(err.status, VMM_EXIT_USAGE);
	}
}
END_TEST

START_TEST(test_firmware_options)
{
	struct cli cli;
	struct vmm_error err = { 0 };

	ck_assert_int_eq(PARSE(&cli, &err, "run"), 0);
	ck_assert_ptr_null(cli.run.firmware);
	ck_assert_int_eq(PARSE(&cli, &err, "run", "--firmware", "bios", "--disk", "a", "--network", "tap=t0"), 0);
	ck_assert_str_eq(cli.run.firmware, "bios");
	ck_assert_uint_eq(cli.run.boot.nr_order, 0);
	ck_assert(!cli.run.boot.menu);
	ck_assert_int_eq(PARSE(&cli, &err, "run", "--firmware=/tmp/bios.bin"), 0);
	ck_assert_str_eq(cli.run.firmware, "/tmp/bios.bin");
	ck_assert_int_eq(PARSE(&cli, &err, "run", "--firmware", "uefi", "--firmware-vars", "vm.fd"), 0);
	ck_assert_str_eq(cli.run.firmware, "uefi");
	ck_assert_str_eq(cli.run.firmware_vars, "vm.fd");
	EXPECT_ERROR("--firmware-vars needs --firmware uefi or a UEFI image", "run", "--firmware-vars", "vm.fd");
	EXPECT_ERROR("--firmware-vars needs a non-empty value", "run", "--firmware", "uefi", "--firmware-vars=");
	EXPECT_ERROR("--firmware needs a non-empty value", "run", "--firmware=");
	EXPECT_ERROR("takes no --kernel", "run", "--firmware", "bios", "--kernel", "k.elf");
	EXPECT_ERROR("takes no --kernel", "run", "--initrd", "i.img", "--firmware", "bios");
	EXPECT_ERROR("takes no --kernel", "run", "--firmware", "bios", "--cmdline=");
	EXPECT_ERROR("transport=mmio has no place under --firmware", "run", "--firmware", "bios", "--disk",
		     "a,transport=mmio");
	EXPECT_ERROR("transport=mmio has no place under --firmware", "run", "--network", "tap=t0,transport=mmio",
		     "--firmware", "bios");
}
END_TEST

START_TEST(test_boot_options)
{
	struct cli cli;
	struct vmm_error err = { 0 };

	ck_assert_int_eq(PARSE(&cli, &err, "run", "--firmware", "bios", "--disk", "a", "--boot", "hd"), 0);
	ck_assert_uint_eq(cli.run.boot.nr_order, 0);
	ck_assert(!cli.run.boot.menu);
	ck_assert_int_eq(PARSE(&cli, &err, "run", "--firmware", "bios", "--disk", "a", "--disk", "b", "--boot",
			       "disk=2,menu=on"), 0);
	ck_assert_uint_eq(cli.run.boot.nr_order, 1);
	ck_assert_uint_eq(cli.run.boot.order[0], 1);   /* disk=N counts from 1 */
	ck_assert(cli.run.boot.menu);
	/* The disks are counted once all options are in: --boot may come first. */
	ck_assert_int_eq(PARSE(&cli, &err, "run", "--boot=disk=3,disk=1,menu=off", "--firmware", "bios", "--disk", "a",
			       "--disk", "b", "--disk", "c"), 0);
	ck_assert_uint_eq(cli.run.boot.nr_order, 2);
	ck_assert_uint_eq(cli.run.boot.order[0], 2);
	ck_assert_uint_eq(cli.run.boot.order[1], 0);
	ck_assert(!cli.run.boot.menu);
	/* As with every option, the last --boot stands. */
	ck_assert_int_eq(PARSE(&cli, &err, "run", "--firmware", "bios", "--disk", "a", "--disk", "b", "--boot",
			       "disk=2,menu=on", "--boot", "hd"), 0);
	ck_assert_uint_eq(cli.run.boot.nr_order, 0);
	ck_assert(!cli.run.boot.menu);
	EXPECT_ERROR("--boot disk=0: expected 1 to 8", "run", "--firmware", "bios", "--disk", "a", "--boot", "disk=0");
	EXPECT_ERROR("--boot disk=9: expected 1 to 8", "run", "--firmware", "bios", "--disk", "a", "--boot", "disk=9");
	EXPECT_ERROR("--boot needs --firmware", "run", "--disk", "a", "--boot", "hd");
	EXPECT_ERROR("--boot disk=3: there are 2 disks", "run", "--firmware", "bios", "--disk", "a", "--disk", "b",
		     "--boot", "disk=3");
	EXPECT_ERROR("--boot: unknown item 'cdrom'", "run", "--firmware", "bios", "--disk", "a", "--boot", "cdrom");
	EXPECT_ERROR("--boot: unknown item 'hd'", "run", "--firmware", "bios", "--disk", "a", "--boot", "hd=1");
	EXPECT_ERROR("expected on or off", "run", "--firmware", "bios", "--disk", "a", "--boot", "menu=maybe");
	EXPECT_ERROR("--boot needs a value", "run", "--firmware", "bios", "--boot=");
}
END_TEST

Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");

	tcase_add_test(tc, test_run_defaults);
	tcase_add_test(tc, test_run_all_options);
	tcase_add_test(tc, test_memory_sizes);
	tcase_add_test(tc, test_bad_run_options);
	tcase_add_test(tc, test_commands);
	tcase_add_test(tc, test_disk_options);
	tcase_add_test(tc, test_disk_bus);
	tcase_add_test(tc, test_repeated_disks);
	tcase_add_test(tc, test_network_options);
	tcase_add_test(tc, test_firmware_options);
	tcase_add_test(tc, test_boot_options);
	suite_add_tcase(s, tc);
	return s;
}
