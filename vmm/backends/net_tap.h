/* Tap and bridge backends for network devices; see net_tap.c. */
#ifndef BACKENDS_NET_TAP_H
#define BACKENDS_NET_TAP_H

#include <net/if.h>
#include <stdbool.h>

#include "error.h"
#include "event_loop.h"
#include "net_backend.h"

#define NET_TAP_MAX_QUEUES 16

/* One queue of the tap: a file descriptor of its own (IFF_MULTI_QUEUE). */
struct net_tap_queue {
	int fd;
	struct event_loop *loop;
	struct event_watch *watch;   /* on the loop from net_tap_watch() on */
	bool multi;                  /* the tap has several queues */
	bool attached;               /* the kernel sends frames to this queue */
};

struct net_tap {
	char ifname[IFNAMSIZ];
	bool created;                /* we made the interface: it goes when the fds close */
	unsigned nr_queues;
	struct net_tap_queue q[NET_TAP_MAX_QUEUES];
};

/* Opens tap ifname with queues queues, creating it (and bringing it up) if it does not exist. */
int net_tap_open(struct net_tap *t, const char *ifname, unsigned queues, struct vmm_error *err);
/* Creates a tap, attaches it to bridge br and brings it up. */
int net_tap_open_bridge(struct net_tap *t, const char *bridge, unsigned queues, struct vmm_error *err);
struct net_backend net_tap_backend(struct net_tap *t, unsigned queue);
/* Frames waiting on a queue call on_receive(arg) on the loop's thread, once the device enables it. */
int net_tap_watch(struct net_tap *t, unsigned queue, struct event_loop *loop, event_fn *on_receive, void *arg);
void net_tap_close(struct net_tap *t);

#endif
