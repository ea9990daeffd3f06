/* Runs one unit test suite by name: unit_LAYER SUITE (see tests/CMakeLists.txt). */
#include <stdio.h>
#include <string.h>

#include "suites.h"

int main(int argc, char **argv)
{
	for (unsigned i = 0; i < unit_nr_suites; i++) {
		if (argc != 2 || strcmp(argv[1], unit_suites[i].name))
			continue;
		SRunner *sr = srunner_create(unit_suites[i].make());
		srunner_run_all(sr, CK_NORMAL);
		int failed = srunner_ntests_failed(sr);
		srunner_free(sr);
		return failed ? 1 : 0;
	}
	fprintf(stderr, "usage: %s SUITE, one of:", argv[0]);
	for (unsigned i = 0; i < unit_nr_suites; i++)
		fprintf(stderr, " %s", unit_suites[i].name);
	fputc('\n', stderr);
	return 2;
}
