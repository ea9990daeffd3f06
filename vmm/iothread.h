/*
 * The I/O thread: an epoll loop that runs device work off the vCPU
 * threads (queue kicks arriving through ioeventfds, disk completions,
 * frames from network backends). It is the event loop device models and
 * backends see (platform/event_loop.h); handlers run one at a time.
 */
#ifndef VMM_IOTHREAD_H
#define VMM_IOTHREAD_H

#include <pthread.h>
#include <stdbool.h>

#include "event_loop.h"

struct iothread {
	int epfd;
	int stop_fd;
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;          /* the watch list: watches are made from any thread */
	struct event_watch *watches;
	struct event_loop loop;
};

int iothread_init(struct iothread *t);
int iothread_start(struct iothread *t);
/* Stops and joins the thread; handlers do not run after this returns. */
void iothread_stop(struct iothread *t);
void iothread_destroy(struct iothread *t);

#endif
