/* NICs: a backend (tap, bridge or user-mode NAT) and a NIC model (virtio-net or e1000) per --network. */
#include "nics.h"

#include <string.h>
#include <unistd.h>

#include "e1000.h"
#include "sandbox.h"
#include "virtio_net.h"

#define PCI_CLASS_NETWORK_ETHERNET 0x020000

static void nat_thread_start(void)
{
	sandbox_enter(SANDBOX_NAT);
}

static int open_backend(struct vm_nic *nic, const struct nic_config *n, struct vmm_error *err)
{
	const char *hostfwd[VMM_MAX_HOSTFWD];
	unsigned queues = n->queues ? n->queues : 1;

	switch (n->backend) {
	case NIC_USER:
		for (unsigned i = 0; i < n->nr_hostfwd; i++)
			hostfwd[i] = n->hostfwd[i];
		return net_user_open(&nic->user, hostfwd, n->nr_hostfwd, nat_thread_start, err);
	case NIC_TAP:
		return net_tap_open(&nic->tap, n->ifname, queues, err);
	case NIC_BRIDGE:
		return net_tap_open_bridge(&nic->tap, n->ifname, queues, err);
	}
	return -1;
}

int nics_open(struct vm_nic *nics, const struct vm_config *cfg, struct vmm_error *err)
{
	for (unsigned i = 0; i < cfg->nr_nics; i++) {
		nics[i].cfg = &cfg->nics[i];
		nics[i].open = true;
		if (open_backend(&nics[i], &cfg->nics[i], err) < 0)
			return -1;
	}
	return 0;
}

/* QEMU's 52:54:00 prefix; the rest from our pid and the NIC's index, so
 * that NICs of one VM, and of VMMs running side by side, differ. */
static void default_mac(unsigned index, uint8_t mac[6])
{
	unsigned pid = (unsigned)getpid();
	const uint8_t m[6] = { 0x52, 0x54, 0x00, (uint8_t)(pid >> 8), (uint8_t)pid, (uint8_t)index };
	memcpy(mac, m, 6);
}

/* Frames waiting on backend queue q wake the device's receive path (fn(port)) on the loop. */
static int watch_backend(struct vm_nic *nic, unsigned q, struct event_loop *loop, event_fn *fn, void *port)
{
	return nic->cfg->backend == NIC_USER ? net_user_watch(&nic->user, loop, fn, port)
					     : net_tap_watch(&nic->tap, q, loop, fn, port);
}

static int watch_backends(struct vm_nic *nic, unsigned pairs, struct event_loop *loop)
{
	for (unsigned q = 0; q < pairs; q++)
		if (watch_backend(nic, q, loop, virtio_net_receive, virtio_net_rx_port(nic->net, q)) < 0)
			return -1;
	return 0;
}

static int attach_e1000(struct vm_nic *nic, unsigned index, const uint8_t mac[6], struct virtio_slots *slots,
			struct vmm_error *err)
{
	struct net_backend be = nic->cfg->backend == NIC_USER ? net_user_backend(&nic->user)
							      : net_tap_backend(&nic->tap, 0);

	nic->e1000 = e1000_create(slots->platform, &be, mac);
	if (!nic->e1000)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot create e1000 device %u", index);
	if (watch_backend(nic, 0, slots->platform->loop, e1000_receive, nic->e1000) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot watch the backend of NIC %u", index);
	if (e1000_attach(nic->e1000, slots->pci) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "no room on the PCI bus for another device");
	return 0;
}

static int attach_nic(struct vm_nic *nic, unsigned index, struct virtio_slots *slots, struct vmm_error *err)
{
	const struct nic_config *n = nic->cfg;
	bool user = n->backend == NIC_USER;
	unsigned pairs = user ? 1 : nic->tap.nr_queues;
	struct net_backend backends[VIRTIO_NET_MAX_PAIRS];
	uint8_t mac[6];

	if (n->mac_set)
		memcpy(mac, n->mac, 6);
	else
		default_mac(index, mac);
	if (n->model == NIC_MODEL_E1000)
		return attach_e1000(nic, index, mac, slots, err);
	for (unsigned q = 0; q < pairs; q++)
		backends[q] = user ? net_user_backend(&nic->user) : net_tap_backend(&nic->tap, q);
	nic->net = virtio_net_create(slots->platform->mem, backends, pairs, mac);
	if (!nic->net)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot create virtio-net device %u", index);
	if (watch_backends(nic, pairs, slots->platform->loop) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot watch the backend of NIC %u", index);
	return virtio_attach(slots, virtio_net_dev(nic->net), n->transport, PCI_CLASS_NETWORK_ETHERNET,
			     &nic->transport, err);
}

int nics_attach(struct vm_nic *nics, const struct vm_config *cfg, struct virtio_slots *slots, struct vmm_error *err)
{
	for (unsigned i = 0; i < cfg->nr_nics; i++)
		if (attach_nic(&nics[i], i, slots, err) < 0)
			return -1;
	return 0;
}

void nics_close(struct vm_nic *nics, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct vm_nic *nic = &nics[i];
		virtio_detach(&nic->transport);
		virtio_net_destroy(nic->net);
		e1000_destroy(nic->e1000);
		if (nic->open && nic->cfg->backend == NIC_USER)
			net_user_close(&nic->user);
		else if (nic->open)
			net_tap_close(&nic->tap);
		memset(nic, 0, sizeof(*nic));
	}
}
