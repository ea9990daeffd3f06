/*
 * User-mode NAT (libslirp): the guest sits on 10.0.2.0/24 behind a
 * virtual router at 10.0.2.2 that answers DHCP and forwards TCP and UDP
 * through ordinary host sockets, so it needs no privileges. 10.0.2.2 is
 * also the host's loopback, as in QEMU. hostfwd rules map host ports to
 * guest ports.
 *
 * libslirp is not thread-safe: one thread of ours runs its poll loop, and
 * every call into it (frames from the guest included) holds the lock.
 * Frames for the guest wait in a bounded queue that the device drains on
 * the I/O thread; if the guest does not take them in time, slirp's frames
 * are dropped and counted — TCP retransmits, as slirp's API expects.
 */
#include "net_user.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct net_user_timer {
	SlirpTimerCb cb;
	void *cb_opaque;
	int64_t expire_ms;             /* -1: not armed */
	struct net_user_timer *next;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void wake(int fd)
{
	uint64_t one = 1;
	if (write(fd, &one, sizeof(one)) < 0)
		return;   /* the counter is already set: a wake-up is pending anyway */
}

/* slirp -> guest; called with the lock held. */
static ssize_t send_packet(const void *buf, size_t len, void *opaque)
{
	struct net_user *u = opaque;

	if (u->count == NET_USER_QUEUE) {
		u->dropped++;
		return (ssize_t)len;
	}
	uint8_t *data = calloc(1, NET_FRAME_HEADER_BYTES + len);
	if (!data) {
		u->dropped++;
		return (ssize_t)len;
	}
	memcpy(data + NET_FRAME_HEADER_BYTES, buf, len);
	u->queue[(u->head + u->count++) % NET_USER_QUEUE] = (struct net_user_frame){ data, NET_FRAME_HEADER_BYTES + len };
	wake(u->rx_fd);
	return (ssize_t)len;
}

static void guest_error(const char *msg, void *opaque)
{
	(void)opaque;
	fprintf(stderr, "vmm: user network: %s\n", msg);
}

static int64_t clock_get_ns(void *opaque)
{
	(void)opaque;
	return now_ns();
}

static void *timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct net_user *u = opaque;
	struct net_user_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	*t = (struct net_user_timer){ cb, cb_opaque, -1, u->timers };
	u->timers = t;
	return t;
}

static void timer_free(void *timer, void *opaque)
{
	struct net_user *u = opaque;

	for (struct net_user_timer **p = &u->timers; *p; p = &(*p)->next) {
		if (*p == timer) {
			*p = ((struct net_user_timer *)timer)->next;
			free(timer);
			return;
		}
	}
}

static void timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct net_user *u = opaque;
	((struct net_user_timer *)timer)->expire_ms = expire_ms;
	wake(u->wake_fd);
}

static void poll_fd_noop(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

static void notify(void *opaque)
{
	struct net_user *u = opaque;
	wake(u->wake_fd);
}

static const SlirpCb callbacks = {
	.send_packet = send_packet,
	.guest_error = guest_error,
	.clock_get_ns = clock_get_ns,
	.timer_new = timer_new,
	.timer_free = timer_free,
	.timer_mod = timer_mod,
	.register_poll_fd = poll_fd_noop,
	.unregister_poll_fd = poll_fd_noop,
	.notify = notify,
};

static short to_poll(int ev)
{
	return (short)(((ev & SLIRP_POLL_IN) ? POLLIN : 0) | ((ev & SLIRP_POLL_OUT) ? POLLOUT : 0) |
		       ((ev & SLIRP_POLL_PRI) ? POLLPRI : 0));
}

static int add_poll(int fd, int events, void *opaque)
{
	struct net_user *u = opaque;

	if (u->npfds == NET_USER_MAX_POLL)
		return -1;
	u->pfds[u->npfds] = (struct pollfd){ .fd = fd, .events = to_poll(events) };
	return u->npfds++;
}

static int get_revents(int idx, void *opaque)
{
	struct net_user *u = opaque;
	short r = idx >= 0 && idx < u->npfds ? u->pfds[idx].revents : 0;

	return ((r & POLLIN) ? SLIRP_POLL_IN : 0) | ((r & POLLOUT) ? SLIRP_POLL_OUT : 0) |
	       ((r & POLLPRI) ? SLIRP_POLL_PRI : 0) | ((r & POLLERR) ? SLIRP_POLL_ERR : 0) |
	       ((r & POLLHUP) ? SLIRP_POLL_HUP : 0);
}

/* Milliseconds until the next timer, capped by slirp's own timeout. */
static int next_timeout(struct net_user *u, uint32_t slirp_ms)
{
	int64_t now = now_ns() / 1000000, t = slirp_ms == UINT32_MAX ? -1 : (int64_t)slirp_ms;

	for (struct net_user_timer *x = u->timers; x; x = x->next) {
		if (x->expire_ms < 0)
			continue;
		int64_t left = x->expire_ms > now ? x->expire_ms - now : 0;
		if (t < 0 || left < t)
			t = left;
	}
	return t > 1000 ? 1000 : (int)t;
}

static void run_timers(struct net_user *u)
{
	int64_t now = now_ns() / 1000000;

	for (struct net_user_timer *x = u->timers; x; x = x->next) {
		if (x->expire_ms >= 0 && x->expire_ms <= now) {
			x->expire_ms = -1;
			x->cb(x->cb_opaque);
			return;   /* the callback may have changed the list: look again next round */
		}
	}
}

static void *slirp_loop(void *arg)
{
	struct net_user *u = arg;

	if (u->thread_start)
		u->thread_start();
	for (;;) {
		uint32_t slirp_ms = UINT32_MAX;
		uint64_t count;

		pthread_mutex_lock(&u->lock);
		if (u->stop) {
			pthread_mutex_unlock(&u->lock);
			return NULL;
		}
		u->npfds = 0;
		add_poll(u->wake_fd, SLIRP_POLL_IN, u);
		slirp_pollfds_fill(u->slirp, &slirp_ms, add_poll, u);
		int timeout = next_timeout(u, slirp_ms);
		pthread_mutex_unlock(&u->lock);

		int r = poll(u->pfds, (nfds_t)u->npfds, timeout);

		pthread_mutex_lock(&u->lock);
		if (r > 0 && (u->pfds[0].revents & POLLIN) && read(u->wake_fd, &count, sizeof(count)) < 0)
			count = 0;
		slirp_pollfds_poll(u->slirp, r < 0, get_revents, u);
		run_timers(u);
		pthread_mutex_unlock(&u->lock);
	}
}

/* [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport, as QEMU writes it. */
static int add_hostfwd(struct net_user *u, const char *rule, struct vmm_error *err)
{
	char proto[4], haddr[16] = "", gaddr[16] = "";
	unsigned hport, gport;
	struct in_addr h = { INADDR_ANY }, g;

	if (sscanf(rule, "%3[a-z]:%15[0-9.]:%u-%15[0-9.]:%u", proto, haddr, &hport, gaddr, &gport) != 5 &&
	    sscanf(rule, "%3[a-z]::%u-%15[0-9.]:%u", proto, &hport, gaddr, &gport) != 4 &&
	    sscanf(rule, "%3[a-z]::%u-:%u", proto, &hport, &gport) != 3 &&
	    sscanf(rule, "%3[a-z]:%15[0-9.]:%u-:%u", proto, haddr, &hport, &gport) != 4)
		return vmm_fail(err, VMM_EXIT_USAGE, "--network hostfwd=%s: expected tcp|udp:[ADDR]:PORT-[ADDR]:PORT", rule);
	bool udp = !strcmp(proto, "udp");
	if ((!udp && strcmp(proto, "tcp")) || hport > 65535 || gport > 65535 || !gport ||
	    (haddr[0] && !inet_aton(haddr, &h)) || !inet_aton(gaddr[0] ? gaddr : "10.0.2.15", &g))
		return vmm_fail(err, VMM_EXIT_USAGE, "--network hostfwd=%s: bad protocol, address or port", rule);
	if (slirp_add_hostfwd(u->slirp, udp, h, (int)hport, g, (int)gport) < 0)
		return vmm_fail(err, VMM_EXIT_USAGE, "--network hostfwd=%s: cannot listen on host port %u", rule, hport);
	return 0;
}

int net_user_open(struct net_user *u, const char *const *hostfwd, unsigned nr_hostfwd, void (*thread_start)(void),
		  struct vmm_error *err)
{
	SlirpConfig cfg = {
		.version = 1,
		.in_enabled = true,
		.vnetwork = { htonl(0x0a000200) },      /* 10.0.2.0 */
		.vnetmask = { htonl(0xffffff00) },
		.vhost = { htonl(0x0a000202) },         /* 10.0.2.2 */
		.vdhcp_start = { htonl(0x0a00020f) },   /* 10.0.2.15 */
		.vnameserver = { htonl(0x0a000203) },   /* 10.0.2.3 */
		.vhostname = "vmm",
	};

	memset(u, 0, sizeof(*u));
	u->thread_start = thread_start;
	pthread_mutex_init(&u->lock, NULL);
	u->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	u->rx_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	u->pfds = calloc(NET_USER_MAX_POLL, sizeof(*u->pfds));
	if (u->wake_fd < 0 || u->rx_fd < 0 || !u->pfds)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "user network: %s", strerror(errno));
	u->slirp = slirp_new(&cfg, &callbacks, u);
	if (!u->slirp)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "user network: libslirp did not start");
	for (unsigned i = 0; i < nr_hostfwd; i++)
		if (add_hostfwd(u, hostfwd[i], err) < 0)
			return -1;
	if (pthread_create(&u->thread, NULL, slirp_loop, u))
		return vmm_fail(err, VMM_EXIT_RUNTIME, "user network: cannot start its thread");
	u->running = true;
	return 0;
}

static int user_send(void *ctx, const struct iovec *iov, unsigned n)
{
	struct net_user *u = ctx;
	static __thread uint8_t frame[65536];
	size_t len = 0, skip = NET_FRAME_HEADER_BYTES;

	/* slirp wants the bare Ethernet frame: drop the virtio_net_hdr. */
	for (unsigned i = 0; i < n; i++) {
		size_t l = iov[i].iov_len, off = skip < l ? skip : l;
		skip -= off;
		if (l - off > sizeof(frame) - len)
			return -EMSGSIZE;
		memcpy(frame + len, (uint8_t *)iov[i].iov_base + off, l - off);
		len += l - off;
	}
	pthread_mutex_lock(&u->lock);
	slirp_input(u->slirp, frame, (int)len);
	pthread_mutex_unlock(&u->lock);
	wake(u->wake_fd);
	return 0;
}

static ssize_t user_receive(void *ctx, const struct iovec *iov, unsigned n)
{
	struct net_user *u = ctx;
	uint64_t count;

	pthread_mutex_lock(&u->lock);
	if (!u->count) {
		/* Empty: clear the eventfd under the lock, so no frame's wake-up is lost. */
		if (read(u->rx_fd, &count, sizeof(count)) < 0)
			count = 0;
		pthread_mutex_unlock(&u->lock);
		return 0;
	}
	struct net_user_frame f = u->queue[u->head];
	u->head = (u->head + 1) % NET_USER_QUEUE;
	u->count--;
	pthread_mutex_unlock(&u->lock);
	size_t at = 0;
	for (unsigned i = 0; i < n && at < f.len; i++) {
		size_t k = iov[i].iov_len < f.len - at ? iov[i].iov_len : f.len - at;
		memcpy(iov[i].iov_base, f.data + at, k);
		at += k;
	}
	free(f.data);
	return (ssize_t)at;
}

static void user_set_receiving(void *ctx, bool on)
{
	struct net_user *u = ctx;
	if (u->watch)
		event_watch_enable(u->loop, u->watch, on);
}

static int user_set_guest_offloads(void *ctx, unsigned offloads)
{
	(void)ctx;
	(void)offloads;
	return 0;
}

static const struct net_backend_ops user_ops = {
	.send = user_send,
	.receive = user_receive,
	.set_receiving = user_set_receiving,
	.set_guest_offloads = user_set_guest_offloads,
};

/* No offloads: slirp wants complete frames with real checksums. */
struct net_backend net_user_backend(struct net_user *u)
{
	return (struct net_backend){ &user_ops, u, 0, 0 };
}

int net_user_watch(struct net_user *u, struct event_loop *loop, event_fn *on_receive, void *device)
{
	u->loop = loop;
	u->watch = event_watch(loop, u->rx_fd, on_receive, device);
	if (!u->watch)
		return -1;
	return event_watch_enable(loop, u->watch, false);
}

uint64_t net_user_dropped(struct net_user *u)
{
	pthread_mutex_lock(&u->lock);
	uint64_t n = u->dropped;
	pthread_mutex_unlock(&u->lock);
	return n;
}

void net_user_close(struct net_user *u)
{
	if (u->running) {
		pthread_mutex_lock(&u->lock);
		u->stop = true;
		pthread_mutex_unlock(&u->lock);
		wake(u->wake_fd);
		pthread_join(u->thread, NULL);
		u->running = false;
	}
	if (u->slirp)
		slirp_cleanup(u->slirp);
	u->slirp = NULL;
	while (u->timers)
		timer_free(u->timers, u);
	for (; u->count; u->count--, u->head = (u->head + 1) % NET_USER_QUEUE)
		free(u->queue[u->head].data);
	free(u->pfds);
	u->pfds = NULL;
	if (u->wake_fd >= 0)
		close(u->wake_fd);
	if (u->rx_fd >= 0)
		close(u->rx_fd);
	u->wake_fd = u->rx_fd = -1;
}
