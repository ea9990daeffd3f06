/* A unit test executable's suites (generated from tests/CMakeLists.txt); unit/main.c runs one by name. */
#ifndef TESTS_UNIT_SUITES_H
#define TESTS_UNIT_SUITES_H

#include <check.h>

struct unit_suite {
	const char *name;
	Suite *(*make)(void);
};

extern const struct unit_suite unit_suites[];
extern const unsigned unit_nr_suites;

#endif
