/* Intel 82540EM Gigabit Ethernet controller (e1000) device model; see e1000.c. */
#ifndef DEVICES_E1000_H
#define DEVICES_E1000_H

#include <stdint.h>

#include "net_backend.h"
#include "pci.h"
#include "platform.h"

#define E1000_VENDOR_ID 0x8086
#define E1000_DEVICE_ID 0x100e          /* 82540EM desktop */
#define E1000_MMIO_SIZE 0x20000         /* BAR0: 128 KiB of registers */
#define E1000_IO_SIZE 0x40              /* BAR1: IOADDR and IODATA */

struct e1000_stats {
	uint64_t rx_frames, tx_frames;
	uint64_t rx_filtered;           /* not for us under RCTL, RAL/RAH, MTA and VFTA */
	uint64_t rx_oversized;          /* longer than RCTL allows, or than the descriptors left */
	uint64_t rx_waits;              /* times the ring ran out of descriptors and the backend was paused */
	uint64_t rx_errors;             /* receive descriptors or buffers outside guest RAM */
	uint64_t tx_errors;             /* malformed descriptors, backend errors */
	uint64_t interrupts;            /* times INTA# was asserted */
};

struct e1000;

/* One NIC on backend be with MAC address mac; NULL on failure. */
struct e1000 *e1000_create(const struct platform *p, const struct net_backend *be, const uint8_t mac[6]);
void e1000_destroy(struct e1000 *e);
/* Puts the NIC on the PCI bus and INTA# on a resampling irqfd where the platform has one. */
int e1000_attach(struct e1000 *e, struct pci_host *h);
struct pci_function *e1000_pci_function(struct e1000 *e);
/* Frames are waiting on the backend: the glue calls this on the I/O thread. */
void e1000_receive(void *e1000);
/* Link state as the cable would set it (STATUS.LU, PHY status, an LSC interrupt). */
void e1000_set_link(struct e1000 *e, bool up);
struct e1000_stats e1000_stats(struct e1000 *e);

#endif
