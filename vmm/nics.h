/* The VM's NICs: --network options turned into network backends and NIC models (virtio-net, e1000). */
#ifndef VMM_NICS_H
#define VMM_NICS_H

#include "config.h"
#include "error.h"
#include "net_tap.h"
#include "net_user.h"
#include "virtio_attach.h"

struct virtio_net;
struct e1000;

struct vm_nic {
	const struct nic_config *cfg;
	struct net_tap tap;            /* tap and bridge */
	struct net_user user;          /* user-mode NAT */
	bool open;
	struct virtio_net *net;        /* model=virtio */
	struct virtio_attachment transport;
	struct e1000 *e1000;           /* model=e1000 */
};

/* Opens the backends (taps, bridges, NAT); runs before /dev/kvm is opened. */
int nics_open(struct vm_nic *nics, const struct vm_config *cfg, struct vmm_error *err);
int nics_attach(struct vm_nic *nics, const struct vm_config *cfg, struct virtio_slots *slots, struct vmm_error *err);
void nics_close(struct vm_nic *nics, unsigned n);

#endif
