/*
 * Tap backend (Documentation/networking/tuntap.rst): IFF_TAP with
 * IFF_VNET_HDR and a 12-byte header, so frames carry virtio_net_hdr both
 * ways and checksum/segmentation offloads pass through; with several queue
 * pairs the tap is IFF_MULTI_QUEUE, one file descriptor per pair. The
 * bridge mode is a tap created for the VM and added to an existing bridge.
 */
#include "net_tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>


#define TUN_DEVICE "/dev/net/tun"

static int set_up(const char *ifname, struct vmm_error *err)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = 0;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) < 0))
		ret = vmm_fail(err, VMM_EXIT_RUNTIME, "cannot bring %s up: %s", ifname, strerror(errno));
	if (s >= 0)
		close(s);
	return ret;
}

/* One more queue of the tap named t->ifname (a new tap when it is empty). */
static int open_queue(struct net_tap *t, unsigned queues, struct vmm_error *err)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (queues > 1 ? IFF_MULTI_QUEUE : 0) };
	struct net_tap_queue *q = &t->q[t->nr_queues];
	int hdr = NET_FRAME_HEADER_BYTES;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", t->ifname);
	q->fd = open(TUN_DEVICE, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (q->fd < 0)
		return vmm_fail(err, VMM_EXIT_USAGE, "%s: %s", TUN_DEVICE, strerror(errno));
	t->nr_queues++;
	q->multi = queues > 1;
	q->attached = true;
	if (ioctl(q->fd, TUNSETIFF, &ifr) < 0)
		return vmm_fail(err, VMM_EXIT_USAGE, "tap %s: %s%s", t->ifname[0] ? t->ifname : "(new)", strerror(errno),
				errno == EPERM ? " (creating a tap needs CAP_NET_ADMIN)" :
				errno == EINVAL ? " (is it a tap, with the same number of queues?)" : "");
	if (ioctl(q->fd, TUNSETVNETHDRSZ, &hdr) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "tap %s: TUNSETVNETHDRSZ: %s", ifr.ifr_name, strerror(errno));
	snprintf(t->ifname, sizeof(t->ifname), "%s", ifr.ifr_name);
	return 0;
}

static int open_tap(struct net_tap *t, const char *name, unsigned queues, struct vmm_error *err)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < NET_TAP_MAX_QUEUES; i++)
		t->q[i].fd = -1;
	if (queues < 1 || queues > NET_TAP_MAX_QUEUES)
		return vmm_fail(err, VMM_EXIT_USAGE, "--network queues=%u: 1 to %d", queues, NET_TAP_MAX_QUEUES);
	t->created = !name[0] || if_nametoindex(name) == 0;
	snprintf(t->ifname, sizeof(t->ifname), "%s", name);
	while (t->nr_queues < queues)
		if (open_queue(t, queues, err) < 0)
			return -1;
	return t->created ? set_up(t->ifname, err) : 0;
}

int net_tap_open(struct net_tap *t, const char *ifname, unsigned queues, struct vmm_error *err)
{
	if (!ifname[0] || strlen(ifname) >= IFNAMSIZ)
		return vmm_fail(err, VMM_EXIT_USAGE, "--network tap=%s: not an interface name", ifname);
	return open_tap(t, ifname, queues, err);
}

int net_tap_open_bridge(struct net_tap *t, const char *bridge, unsigned queues, struct vmm_error *err)
{
	struct ifreq ifr = { 0 };
	unsigned index = strlen(bridge) < IFNAMSIZ ? if_nametoindex(bridge) : 0;

	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < NET_TAP_MAX_QUEUES; i++)
		t->q[i].fd = -1;
	if (!index)
		return vmm_fail(err, VMM_EXIT_USAGE, "--network bridge=%s: no such bridge", bridge);
	if (open_tap(t, "", queues, err) < 0)
		return -1;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", bridge);
	ifr.ifr_ifindex = (int)if_nametoindex(t->ifname);
	int r = s < 0 ? -1 : ioctl(s, SIOCBRADDIF, &ifr);
	int saved = errno;
	if (s >= 0)
		close(s);
	if (r < 0)
		return vmm_fail(err, VMM_EXIT_USAGE, "--network bridge=%s: cannot add %s to it: %s", bridge,
				t->ifname, strerror(saved));
	return 0;
}

static int tap_send(void *ctx, const struct iovec *iov, unsigned n)
{
	struct net_tap_queue *q = ctx;
	ssize_t r;

	do
		r = writev(q->fd, iov, (int)n);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

static ssize_t tap_receive(void *ctx, const struct iovec *iov, unsigned n)
{
	struct net_tap_queue *q = ctx;
	ssize_t r;

	do
		r = readv(q->fd, iov, (int)n);
	while (r < 0 && errno == EINTR);
	return r < 0 ? 0 : r;
}

static void tap_set_receiving(void *ctx, bool on)
{
	struct net_tap_queue *q = ctx;

	if (q->watch)
		event_watch_enable(q->loop, q->watch, on);
}

/* TUNSETOFFLOAD: which offloaded frames the tap may hand the guest. */
static int tap_set_guest_offloads(void *ctx, unsigned offloads)
{
	static const struct { unsigned offload, tun; } map[] = {
		{ NET_OFFLOAD_TSO4, TUN_F_TSO4 }, { NET_OFFLOAD_TSO6, TUN_F_TSO6 },
		{ NET_OFFLOAD_ECN, TUN_F_TSO_ECN }, { NET_OFFLOAD_UFO, TUN_F_UFO },
	};
	struct net_tap_queue *q = ctx;
	unsigned flags = 0;

	/* Segmentation offloads need the checksum one (the kernel refuses them alone). */
	if (offloads & NET_OFFLOAD_CSUM) {
		flags |= TUN_F_CSUM;
		for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (offloads & map[i].offload)
				flags |= map[i].tun;
	}
	return ioctl(q->fd, TUNSETOFFLOAD, flags);
}

/* TUNSETQUEUE: a multi-queue tap spreads frames over attached queues only. */
static int tap_set_in_use(void *ctx, bool in_use)
{
	struct net_tap_queue *q = ctx;
	struct ifreq ifr = { .ifr_flags = in_use ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE };

	if (!q->multi || q->attached == in_use)
		return 0;
	if (ioctl(q->fd, TUNSETQUEUE, &ifr) < 0)
		return -errno;
	q->attached = in_use;
	return 0;
}

static const struct net_backend_ops tap_ops = {
	.send = tap_send,
	.receive = tap_receive,
	.set_receiving = tap_set_receiving,
	.set_guest_offloads = tap_set_guest_offloads,
	.set_in_use = tap_set_in_use,
};

struct net_backend net_tap_backend(struct net_tap *t, unsigned queue)
{
	/* The tap takes whatever a guest sends with a frame header, and can
	 * deliver checksum-offloaded and TSO frames if the guest accepts them. */
	unsigned offloads = NET_OFFLOAD_CSUM | NET_OFFLOAD_TSO4 | NET_OFFLOAD_TSO6 | NET_OFFLOAD_ECN;

	/* UFO only where this kernel's tap still takes it. */
	if (ioctl(t->q[queue].fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_UFO) == 0) {
		offloads |= NET_OFFLOAD_UFO;
		ioctl(t->q[queue].fd, TUNSETOFFLOAD, 0);
	}
	return (struct net_backend){ &tap_ops, &t->q[queue], offloads, offloads };
}

int net_tap_watch(struct net_tap *t, unsigned queue, struct event_loop *loop, event_fn *on_receive, void *arg)
{
	struct net_tap_queue *q = &t->q[queue];

	/* Watched from now on, but paused until the device wants frames. */
	q->loop = loop;
	q->watch = event_watch(loop, q->fd, on_receive, arg);
	if (!q->watch)
		return -1;
	return event_watch_enable(loop, q->watch, false);
}

void net_tap_close(struct net_tap *t)
{
	for (unsigned i = 0; i < t->nr_queues; i++) {
		struct net_tap_queue *q = &t->q[i];
		if (q->fd >= 0)
			close(q->fd);
		q->fd = -1;
	}
	t->nr_queues = 0;
}
