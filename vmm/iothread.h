/*
 * The I/O thread: an epoll loop that runs device work off the vCPU threads
 * (queue kicks arriving through ioeventfds, io_uring completions).
 * Handlers run on that one thread, one at a time.
 */
#ifndef VMM_IOTHREAD_H
#define VMM_IOTHREAD_H

#include <pthread.h>
#include <stdbool.h>

typedef void iothread_fn(void *arg);
struct watch;

struct iothread {
	int epfd;
	int stop_fd;
	pthread_t thread;
	bool running;
	struct watch *watches;
};

int iothread_init(struct iothread *t);
int iothread_start(struct iothread *t);
/* Watches fd for input; fn(arg) runs on the I/O thread when it is readable. */
int iothread_add(struct iothread *t, int fd, iothread_fn *fn, void *arg);
/* Pauses or resumes a watch without giving it up. */
int iothread_enable(struct iothread *t, int fd, bool on);
void iothread_remove(struct iothread *t, int fd);
/* Stops and joins the thread; handlers do not run after this returns. */
void iothread_stop(struct iothread *t);
void iothread_destroy(struct iothread *t);

#endif
