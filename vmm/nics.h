/* The VM's NICs: --network options turned into backends and virtio-net devices. */
#ifndef VMM_NICS_H
#define VMM_NICS_H

#include "error.h"
#include "net_tap.h"
#include "net_user.h"
#include "virtio_attach.h"

struct vm;
struct virtio_net;

struct vm_nic {
	struct net_tap tap;            /* tap and bridge */
	struct net_user user;          /* user-mode NAT */
	bool open;
	struct virtio_net *net;
	struct virtio_attachment transport;
};

/* Opens the backends (taps, bridges, NAT); runs before /dev/kvm is opened. */
int nics_open(struct vm *vm, struct vmm_error *err);
int nics_attach(struct vm *vm, struct vmm_error *err);
void nics_close(struct vm *vm);

#endif
