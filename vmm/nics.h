/* The VM's NICs: --network options turned into network backends and virtio-net devices. */
#ifndef VMM_NICS_H
#define VMM_NICS_H

#include "config.h"
#include "error.h"
#include "net_tap.h"
#include "net_user.h"
#include "virtio_attach.h"

struct virtio_net;

struct vm_nic {
	const struct nic_config *cfg;
	struct net_tap tap;            /* tap and bridge */
	struct net_user user;          /* user-mode NAT */
	bool open;
	struct virtio_net *net;
	struct virtio_attachment transport;
};

/* Opens the backends (taps, bridges, NAT); runs before /dev/kvm is opened. */
int nics_open(struct vm_nic *nics, const struct vm_config *cfg, struct vmm_error *err);
int nics_attach(struct vm_nic *nics, const struct vm_config *cfg, struct virtio_slots *slots, struct vmm_error *err);
void nics_close(struct vm_nic *nics, unsigned n);

#endif
