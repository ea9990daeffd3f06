#include "iothread.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct watch {
	iothread_fn *fn;
	void *arg;
	int fd;
	struct watch *next;
};

int iothread_init(struct iothread *t)
{
	t->running = false;
	t->watches = NULL;
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

	for (;;) {
		struct epoll_event evs[16];
		int n = epoll_wait(t->epfd, evs, 16, -1);
		if (n < 0 && errno != EINTR)
			return NULL;
		for (int i = 0; i < n; i++) {
			struct watch *w = evs[i].data.ptr;
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

int iothread_add(struct iothread *t, int fd, iothread_fn *fn, void *arg)
{
	struct watch *w = malloc(sizeof(*w));

	if (!w)
		return -1;
	*w = (struct watch){ fn, arg, fd, t->watches };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(w);
		return -1;
	}
	t->watches = w;
	return 0;
}

int iothread_enable(struct iothread *t, int fd, bool on)
{
	struct watch *w = t->watches;

	while (w && w->fd != fd)
		w = w->next;
	if (!w)
		return -1;
	struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.ptr = w };
	return epoll_ctl(t->epfd, EPOLL_CTL_MOD, fd, &ev);
}

void iothread_remove(struct iothread *t, int fd)
{
	/* The watch stays allocated until iothread_destroy(): the loop may be
	 * about to run it. Devices remove watches only when they are reset. */
	epoll_ctl(t->epfd, EPOLL_CTL_DEL, fd, NULL);
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
	for (struct watch *w = t->watches, *next; w; w = next) {
		next = w->next;
		free(w);
	}
	t->watches = NULL;
}
