/* Tap and bridge backends for network devices; see net_tap.c. */
#ifndef VMM_NET_TAP_H
#define VMM_NET_TAP_H

#include <net/if.h>
#include <stdbool.h>

#include "error.h"
#include "iothread.h"
#include "net_backend.h"

struct net_tap {
	int fd;
	char ifname[IFNAMSIZ];
	bool created;                /* we made the interface: it goes when fd closes */
	struct iothread *io;
	bool watched;                /* the fd is in the I/O thread's set */
};

/* Opens tap ifname, creating it (and bringing it up) if it does not exist. */
int net_tap_open(struct net_tap *t, const char *ifname, struct vmm_error *err);
/* Creates a tap, attaches it to bridge br and brings it up. */
int net_tap_open_bridge(struct net_tap *t, const char *bridge, struct vmm_error *err);
struct net_backend net_tap_backend(struct net_tap *t);
/* Frames waiting on the tap call on_receive(device) on the I/O thread, once the device enables it. */
int net_tap_watch(struct net_tap *t, struct iothread *io, iothread_fn *on_receive, void *device);
void net_tap_close(struct net_tap *t);

#endif
