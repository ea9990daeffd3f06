/* NICs: a backend (tap, bridge or user-mode NAT) and a virtio-net device per --network. */
#include "nics.h"

#include <string.h>
#include <unistd.h>

#include "virtio_net.h"
#include "vm.h"

#define PCI_CLASS_NETWORK_ETHERNET 0x020000

int nics_open(struct vm *vm, struct vmm_error *err)
{
	for (unsigned i = 0; i < vm->cfg.nr_nics; i++) {
		const struct nic_config *n = &vm->cfg.nics[i];
		struct vm_nic *nic = &vm->nics[i];
		unsigned queues = n->queues ? n->queues : 1;
		int r = n->backend == NIC_USER ? net_user_open(&nic->user, n, err)
			: n->backend == NIC_TAP ? net_tap_open(&nic->tap, n->ifname, queues, err)
						: net_tap_open_bridge(&nic->tap, n->ifname, queues, err);
		nic->open = true;
		if (r < 0)
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

int nics_attach(struct vm *vm, struct vmm_error *err)
{
	for (unsigned i = 0; i < vm->cfg.nr_nics; i++) {
		const struct nic_config *n = &vm->cfg.nics[i];
		struct vm_nic *nic = &vm->nics[i];
		uint8_t mac[6];

		if (n->mac_set)
			memcpy(mac, n->mac, 6);
		else
			default_mac(i, mac);
		bool user = n->backend == NIC_USER;
		unsigned pairs = user ? 1 : nic->tap.nr_queues;
		struct net_backend backends[VIRTIO_NET_MAX_PAIRS];
		for (unsigned q = 0; q < pairs; q++)
			backends[q] = user ? net_user_backend(&nic->user) : net_tap_backend(&nic->tap, q);
		nic->net = virtio_net_create(&vm->mem, backends, pairs, mac);
		if (!nic->net)
			return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot create virtio-net device %u", i);
		for (unsigned q = 0; q < pairs; q++) {
			void *port = virtio_net_rx_port(nic->net, q);
			if ((user ? net_user_watch(&nic->user, &vm->io, virtio_net_receive, port)
				  : net_tap_watch(&nic->tap, q, &vm->io, virtio_net_receive, port)) < 0)
				return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot watch the backend of NIC %u", i);
		}
		if (virtio_attach(vm, virtio_net_dev(nic->net), n->transport, PCI_CLASS_NETWORK_ETHERNET,
				  &nic->transport, err) < 0)
			return -1;
	}
	return 0;
}

void nics_close(struct vm *vm)
{
	for (unsigned i = 0; i < vm->cfg.nr_nics; i++) {
		struct vm_nic *nic = &vm->nics[i];
		virtio_detach(&nic->transport);
		virtio_net_destroy(nic->net);
		if (nic->open && vm->cfg.nics[i].backend == NIC_USER)
			net_user_close(&nic->user);
		else if (nic->open)
			net_tap_close(&nic->tap);
		memset(nic, 0, sizeof(*nic));
	}
}
