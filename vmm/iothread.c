/* The I/O thread's epoll loop and the event_loop interface devices use to reach it. */
#include "iothread.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "sandbox.h"

struct event_watch {
	event_fn *fn;
	void *arg;
	int fd;
	struct event_watch *next;
};

static struct event_watch *iothread_watch(void *ctx, int fd, event_fn *fn, void *arg)
{
	struct iothread *t = ctx;
	struct event_watch *w = malloc(sizeof(*w));

	if (!w)
		return NULL;
	*w = (struct event_watch){ fn, arg, fd, NULL };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(w);
		return NULL;
	}
	pthread_mutex_lock(&t->lock);
	w->next = t->watches;
	t->watches = w;
	pthread_mutex_unlock(&t->lock);
	return w;
}

static int iothread_enable(void *ctx, struct event_watch *w, bool on)
{
	struct iothread *t = ctx;
	struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.ptr = w };

	return epoll_ctl(t->epfd, EPOLL_CTL_MOD, w->fd, &ev);
}

static const struct event_loop_ops iothread_loop_ops = {
	.watch = iothread_watch,
	.enable = iothread_enable,
};

int iothread_init(struct iothread *t)
{
	t->running = false;
	t->watches = NULL;
	t->loop = (struct event_loop){ &iothread_loop_ops, t };
	pthread_mutex_init(&t->lock, NULL);
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	t->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (t->epfd < 0 || t->stop_fd < 0)
		return -1;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	return epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->stop_fd, &ev);
}

static void *loop(void *arg)
{
	struct iothread *t = arg;

	sandbox_enter(SANDBOX_IO);
	for (;;) {
		struct epoll_event evs[16];
		int n = epoll_wait(t->epfd, evs, 16, -1);
		if (n < 0 && errno != EINTR)
			return NULL;
		for (int i = 0; i < n; i++) {
			struct event_watch *w = evs[i].data.ptr;
			if (!w)
				return NULL;
			w->fn(w->arg);
		}
	}
}

int iothread_start(struct iothread *t)
{
	if (pthread_create(&t->thread, NULL, loop, t))
		return -1;
	t->running = true;
	return 0;
}

void iothread_stop(struct iothread *t)
{
	uint64_t one = 1;

	if (!t->running)
		return;
	if (write(t->stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(t->thread, NULL);
	t->running = false;
}

void iothread_destroy(struct iothread *t)
{
	iothread_stop(t);
	if (t->epfd >= 0)
		close(t->epfd);
	if (t->stop_fd >= 0)
		close(t->stop_fd);
	for (struct event_watch *w = t->watches, *next; w; w = next) {
		next = w->next;
		free(w);
	}
	t->watches = NULL;
	pthread_mutex_destroy(&t->lock);
}
