/* The fuzzers' event loop; see fake_loop.h. */
#include "fake_loop.h"

#include <string.h>

static struct event_watch *watch(void *ctx, int fd, event_fn *fn, void *arg)
{
	struct fake_loop *l = ctx;

	(void)fd;
	if (l->n == FAKE_LOOP_WATCHES)
		return NULL;
	l->fn[l->n] = fn;
	l->arg[l->n] = arg;
	return (struct event_watch *)&l->fn[l->n++];
}

static int enable(void *ctx, struct event_watch *w, bool on)
{
	(void)ctx;
	(void)w;
	(void)on;
	return 0;
}

static const struct event_loop_ops fake_loop_ops = { watch, enable };

void fake_loop_init(struct fake_loop *l)
{
	memset(l, 0, sizeof(*l));
	l->loop = (struct event_loop){ &fake_loop_ops, l };
}

void fake_loop_run(const struct fake_loop *l)
{
	for (unsigned i = 0; i < l->n; i++)
		l->fn[i](l->arg[i]);
}
