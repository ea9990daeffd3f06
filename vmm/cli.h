/* The vmm command line: `vmm run|info|bench|--help|--version`, see docs/cli.md. */
#ifndef VMM_CLI_H
#define VMM_CLI_H

#include <stdio.h>

#include "config.h"
#include "error.h"

enum cli_command {
	CLI_RUN,
	CLI_INFO,
	CLI_HELP,
	CLI_RUN_HELP,
	CLI_VERSION,
	CLI_BENCH,
};

struct cli {
	enum cli_command command;
	struct vm_config run;
	int bench_argc;            /* vmm bench: what follows "bench", for tools/bench.py */
	char **bench_argv;
};

/* 0 on success; -1 with a one-line message and VMM_EXIT_USAGE in err. */
int cli_parse(int argc, char **argv, struct cli *out, struct vmm_error *err);
/* "2048" is MiB (virt-install style); K, M and G suffixes are KiB, MiB and GiB. */
int cli_parse_memory(const char *s, uint64_t *bytes, struct vmm_error *err);
/* One --network value. */
int cli_parse_nic(const char *spec, struct nic_config *n, struct vmm_error *err);
/* One --disk value. */
int cli_parse_disk(const char *spec, struct disk_config *d, struct vmm_error *err);
void cli_usage(FILE *out);
void cli_run_usage(FILE *out);

#endif
