/*
 * Tap backend (Documentation/networking/tuntap.rst): IFF_TAP with
 * IFF_VNET_HDR and a 12-byte header, so frames carry virtio_net_hdr both
 * ways and checksum/segmentation offloads pass through. The bridge mode is
 * a tap created for the VM and added to an existing Linux bridge.
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

#include "virtio_net.h"

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

static int open_tap(struct net_tap *t, const char *name, struct vmm_error *err)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int hdr = VIRTIO_NET_HDR_BYTES;

	memset(t, 0, sizeof(*t));
	t->created = !name[0] || if_nametoindex(name) == 0;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	t->fd = open(TUN_DEVICE, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0)
		return vmm_fail(err, VMM_EXIT_USAGE, "%s: %s", TUN_DEVICE, strerror(errno));
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0)
		return vmm_fail(err, VMM_EXIT_USAGE, "tap %s: %s%s", name[0] ? name : "(new)", strerror(errno),
				errno == EPERM ? " (creating a tap needs CAP_NET_ADMIN)" : "");
	if (ioctl(t->fd, TUNSETVNETHDRSZ, &hdr) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "tap %s: TUNSETVNETHDRSZ: %s", ifr.ifr_name, strerror(errno));
	snprintf(t->ifname, sizeof(t->ifname), "%s", ifr.ifr_name);
	return t->created ? set_up(t->ifname, err) : 0;
}

int net_tap_open(struct net_tap *t, const char *ifname, struct vmm_error *err)
{
	if (!ifname[0] || strlen(ifname) >= IFNAMSIZ)
		return vmm_fail(err, VMM_EXIT_USAGE, "--network tap=%s: not an interface name", ifname);
	return open_tap(t, ifname, err);
}

int net_tap_open_bridge(struct net_tap *t, const char *bridge, struct vmm_error *err)
{
	struct ifreq ifr = { 0 };
	unsigned index = strlen(bridge) < IFNAMSIZ ? if_nametoindex(bridge) : 0;

	if (!index)
		return vmm_fail(err, VMM_EXIT_USAGE, "--network bridge=%s: no such bridge", bridge);
	if (open_tap(t, "", err) < 0)
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
	struct net_tap *t = ctx;
	ssize_t r;

	do
		r = writev(t->fd, iov, (int)n);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

static ssize_t tap_receive(void *ctx, const struct iovec *iov, unsigned n)
{
	struct net_tap *t = ctx;
	ssize_t r;

	do
		r = readv(t->fd, iov, (int)n);
	while (r < 0 && errno == EINTR);
	return r < 0 ? 0 : r;
}

static void tap_set_receiving(void *ctx, bool on)
{
	struct net_tap *t = ctx;

	if (t->watched)
		iothread_enable(t->io, t->fd, on);
}

/* TUNSETOFFLOAD: which offloaded frames the tap may hand the guest. */
static int tap_set_guest_offloads(void *ctx, uint64_t f)
{
	struct net_tap *t = ctx;
	unsigned flags = 0;

	if (f & (1ull << VIRTIO_NET_F_GUEST_CSUM)) {
		flags |= TUN_F_CSUM;
		if (f & (1ull << VIRTIO_NET_F_GUEST_TSO4))
			flags |= TUN_F_TSO4;
		if (f & (1ull << VIRTIO_NET_F_GUEST_TSO6))
			flags |= TUN_F_TSO6;
		if (f & (1ull << VIRTIO_NET_F_GUEST_ECN))
			flags |= TUN_F_TSO_ECN;
	}
	return ioctl(t->fd, TUNSETOFFLOAD, flags);
}

static const struct net_backend_ops tap_ops = {
	.send = tap_send,
	.receive = tap_receive,
	.set_receiving = tap_set_receiving,
	.set_guest_offloads = tap_set_guest_offloads,
};

struct net_backend net_tap_backend(struct net_tap *t)
{
	/* The tap takes whatever a guest sends with a virtio_net_hdr, and can
	 * deliver checksum-offloaded and TSO frames if the guest accepts them. */
	uint64_t features = (1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_HOST_TSO4) |
			    (1ull << VIRTIO_NET_F_HOST_TSO6) | (1ull << VIRTIO_NET_F_HOST_ECN) |
			    (1ull << VIRTIO_NET_F_GUEST_CSUM) | (1ull << VIRTIO_NET_F_GUEST_TSO4) |
			    (1ull << VIRTIO_NET_F_GUEST_TSO6) | (1ull << VIRTIO_NET_F_GUEST_ECN);

	return (struct net_backend){ &tap_ops, t, features };
}

int net_tap_watch(struct net_tap *t, struct iothread *io, iothread_fn *on_receive, void *device)
{
	/* Watched from now on, but paused until the device wants frames. */
	t->io = io;
	if (iothread_add(io, t->fd, on_receive, device) < 0)
		return -1;
	t->watched = true;
	return iothread_enable(io, t->fd, false);
}

void net_tap_close(struct net_tap *t)
{
	if (t->fd > 0) {
		if (t->watched)
			iothread_remove(t->io, t->fd);
		close(t->fd);
	}
	t->fd = -1;
}
