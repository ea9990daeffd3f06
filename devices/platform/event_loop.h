/*
 * The thread where device work runs, as a device model or backend sees it:
 * watch a file descriptor, and a function is called on that thread when it
 * is readable. vmm's I/O thread implements it (vmm/iothread.c). Handlers
 * run one at a time. A watch is made once, when a device or backend is set
 * up, and lives as long as the loop; it may be paused and resumed any
 * number of times without allocating, so nothing a guest does makes
 * watches pile up.
 */
#ifndef PLATFORM_EVENT_LOOP_H
#define PLATFORM_EVENT_LOOP_H

#include <stdbool.h>

typedef void event_fn(void *arg);

struct event_watch;

struct event_loop_ops {
	/* Calls fn(arg) on the loop's thread whenever fd is readable; NULL on failure. */
	struct event_watch *(*watch)(void *ctx, int fd, event_fn *fn, void *arg);
	/* Pauses (false) or resumes (true) a watch. */
	int (*enable)(void *ctx, struct event_watch *w, bool on);
};

struct event_loop {
	const struct event_loop_ops *ops;
	void *ctx;
};

static inline struct event_watch *event_watch(struct event_loop *loop, int fd, event_fn *fn, void *arg)
{
	return loop->ops->watch(loop->ctx, fd, fn, arg);
}

static inline int event_watch_enable(struct event_loop *loop, struct event_watch *w, bool on)
{
	return loop->ops->enable(loop->ctx, w, on);
}

#endif
