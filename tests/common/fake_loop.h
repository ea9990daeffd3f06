/*
 * An event loop for the fuzzers: it remembers each watch and runs them all
 * when the input says, as the loop's thread would when their fds are
 * readable (the handlers read their eventfds and find out for themselves).
 */
#ifndef TESTS_FAKE_LOOP_H
#define TESTS_FAKE_LOOP_H

#include "event_loop.h"

#define FAKE_LOOP_WATCHES 8

struct fake_loop {
	event_fn *fn[FAKE_LOOP_WATCHES];
	void *arg[FAKE_LOOP_WATCHES];
	unsigned n;
	struct event_loop loop;     /* what the device is given */
};

void fake_loop_init(struct fake_loop *l);
void fake_loop_run(const struct fake_loop *l);

#endif
