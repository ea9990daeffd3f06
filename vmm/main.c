/* vmm: a small KVM hypervisor. See README.md and docs/. */
#include <stdio.h>

#include "bench.h"
#include "cli.h"
#include "kvm.h"
#include "sandbox.h"
#include "vm.h"

#ifndef VMM_VERSION
#define VMM_VERSION "unknown"
#endif

static int run(const struct vm_config *cfg)
{
	static struct vm vm;
	struct vmm_error err = { 0 };
	int status;

	if (vm_create(&vm, cfg, &err) < 0) {
		fprintf(stderr, "vmm: %s\n", err.msg);
		status = err.status;
	} else {
		status = vm_run(&vm);
	}
	vm_destroy(&vm);
	return status;
}

int main(int argc, char **argv)
{
	struct cli cli;
	struct vmm_error err = { 0 };

	if (cli_parse(argc, argv, &cli, &err) < 0) {
		fprintf(stderr, "vmm: %s\n", err.msg);
		return err.status;
	}
	switch (cli.command) {
	case CLI_HELP:
		cli_usage(stdout);
		return 0;
	case CLI_RUN_HELP:
		cli_run_usage(stdout);
		return 0;
	case CLI_VERSION:
		printf("vmm %s\n", VMM_VERSION);
		return 0;
	case CLI_INFO:
		if (kvm_host_describe(stdout, &err) < 0) {
			fprintf(stderr, "vmm: %s\n", err.msg);
			return err.status;
		}
		return 0;
	case CLI_RUN:
		sandbox_configure(cli.run.seccomp);
		return run(&cli.run);
	case CLI_BENCH:
		return bench_exec(cli.bench_argc, cli.bench_argv);
	}
	return VMM_EXIT_USAGE;
}
