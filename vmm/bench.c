/*
 * `vmm bench`: the benchmark is tools/bench.py, which builds the Linux guest,
 * drives the workloads from the host, runs QEMU beside vmm and draws the
 * chart; this hands it the arguments and the path of this very binary.
 */
#include "bench.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

#ifndef VMM_SOURCE_DIR
#define VMM_SOURCE_DIR "."
#endif

#define MAX_BENCH_ARGS 64

int bench_exec(int argc, char **argv)
{
	const char *source = getenv("VMM_SOURCE_DIR") ? getenv("VMM_SOURCE_DIR") : VMM_SOURCE_DIR;
	char script[PATH_MAX], self[PATH_MAX], vmm_arg[PATH_MAX + 8];
	char *args[MAX_BENCH_ARGS + 5];
	int n = 0;

	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len < 0 || snprintf(script, sizeof(script), "%s/tools/bench.py", source) >= (int)sizeof(script)) {
		fprintf(stderr, "vmm: bench: cannot find this binary or the source tree\n");
		return VMM_EXIT_RUNTIME;
	}
	self[len] = '\0';
	if (argc > MAX_BENCH_ARGS) {
		fprintf(stderr, "vmm: bench: at most %d arguments\n", MAX_BENCH_ARGS);
		return VMM_EXIT_USAGE;
	}
	snprintf(vmm_arg, sizeof(vmm_arg), "--vmm=%s", self);
	args[n++] = "python3";
	args[n++] = script;
	args[n++] = vmm_arg;
	for (int i = 0; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	execvp(args[0], args);
	fprintf(stderr, "vmm: bench: cannot run %s with python3: %s (set VMM_SOURCE_DIR to the source tree)\n", script,
		strerror(errno));
	return VMM_EXIT_RUNTIME;
}
