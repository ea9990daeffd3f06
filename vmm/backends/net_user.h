/* User-mode NAT for network devices through libslirp; see net_user.c. */
#ifndef BACKENDS_NET_USER_H
#define BACKENDS_NET_USER_H

#include <pthread.h>
#include <slirp/libslirp.h>
#include <stdbool.h>

#include "error.h"
#include "event_loop.h"
#include "net_backend.h"

#define NET_USER_QUEUE 256          /* frames waiting for the guest */
#define NET_USER_MAX_POLL 256

struct net_user_frame {
	uint8_t *data;                  /* virtio_net_hdr, then the frame */
	size_t len;
};

struct net_user_timer;

struct net_user {
	Slirp *slirp;
	pthread_mutex_t lock;           /* slirp is not thread-safe */
	pthread_t thread;
	bool running, stop;
	void (*thread_start)(void);
	int wake_fd;                    /* eventfd: poll again (new sockets, stop) */
	int rx_fd;                      /* eventfd: frames wait for the guest */
	struct event_loop *loop;
	struct event_watch *watch;
	struct net_user_frame queue[NET_USER_QUEUE];
	unsigned head, count;
	uint64_t dropped;               /* the guest did not take frames fast enough */
	struct net_user_timer *timers;
	struct pollfd *pfds;
	int npfds;
};

/* Starts the NAT (10.0.2.0/24, host 10.0.2.2, DHCP from 10.0.2.15) with hostfwd rules
 * (tcp|udp:[ADDR]:PORT-[ADDR]:PORT); its thread first runs thread_start, if given. */
int net_user_open(struct net_user *u, const char *const *hostfwd, unsigned nr_hostfwd, void (*thread_start)(void),
		  struct vmm_error *err);
struct net_backend net_user_backend(struct net_user *u);
int net_user_watch(struct net_user *u, struct event_loop *loop, event_fn *on_receive, void *device);
/* Frames for the guest dropped because it left the queue full. */
uint64_t net_user_dropped(struct net_user *u);
void net_user_close(struct net_user *u);

#endif
