/* `vmm bench`: runs the benchmark (tools/bench.py) with this binary as the vmm under test. */
#ifndef VMM_BENCH_H
#define VMM_BENCH_H

/* Replaces the process; returns an exit status only when it could not. */
int bench_exec(int argc, char **argv);

#endif
