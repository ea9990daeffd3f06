/*
 * Intel 82540EM Gigabit Ethernet controller ("e1000"), as described in
 * Intel's "PCI/PCI-X Family of Gigabit Ethernet Controllers Software
 * Developer's Manual" (8254x SDM, rev. 4.0); section numbers below are
 * that manual's.
 *
 * - Registers (13): BAR0 maps all of them, BAR1 is the I/O window
 *   IOADDR/IODATA (13.2.1) that Linux uses to reset the chip.
 * - EEPROM (5): 64 words, read bit by bit through EECD (microwire, 5.5)
 *   as Linux's e1000 driver does, or a word at a time through EERD
 *   (13.4.4); the MAC address in words 0-2 and a checksum word that makes
 *   words 0x00-0x3F sum to 0xBABA (5.6.21).
 * - PHY (an M88E1011, 8.4 / 13.4.8 MDIC): link up, autonegotiation done
 *   as soon as it is asked for, link changes signalled with ICR.LSC.
 * - Receive (3.2): legacy descriptors, RCTL filtering by RAL/RAH, the
 *   multicast table, broadcast and promiscuous modes, VLAN filtering and
 *   stripping (3.11), RXCSUM. Frames are read from the backend straight
 *   into the guest's buffers. When the ring holds too few descriptors for
 *   a frame the device stops reading the backend (frames wait there) and
 *   starts again when the driver moves RDT: nothing is dropped here.
 * - Transmit (3.3): legacy, context and data descriptors; checksum
 *   insertion (3.3.6) and TCP segmentation (3.5) handed to the backend as
 *   a virtio-net header where it can take them, carried out here where it
 *   cannot; VLAN tag insertion. Buffers go to the backend as they are.
 * - Interrupts (3.4 / 13.4.17-21): ICR read-to-clear, ICS, IMS, IMC, the
 *   RDTR/RADV and TIDV/TADV delay timers and ITR throttling (13.4.18),
 *   on INTA# through a resampling irqfd: KVM lowers the line at the
 *   guest's EOI, so a level interrupt costs no exit to vmm.
 *
 * Register writes that take effect only when the device next looks (ring
 * addresses, filters, timers) are left to KVM's coalesced MMIO; the ones
 * that start work or change the interrupt line exit. Every guest value is
 * checked: ring sizes and indexes, descriptor and buffer addresses (inside
 * guest RAM or the ring stops), lengths, header offsets.
 */
#include "e1000.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "net_checksum.h"

/* Registers (13.4), byte offsets into BAR0. */
#define REG_CTRL 0x0000
#define REG_STATUS 0x0008
#define REG_EECD 0x0010
#define REG_EERD 0x0014
#define REG_MDIC 0x0020
#define REG_VET 0x0038
#define REG_ICR 0x00c0
#define REG_ITR 0x00c4
#define REG_ICS 0x00c8
#define REG_IMS 0x00d0
#define REG_IMC 0x00d8
#define REG_RCTL 0x0100
#define REG_TCTL 0x0400
#define REG_LEDCTL 0x0e00
#define REG_PBA 0x1000
#define REG_RDBAL 0x2800
#define REG_RDBAH 0x2804
#define REG_RDLEN 0x2808
#define REG_RDH 0x2810
#define REG_RDT 0x2818
#define REG_RDTR 0x2820
#define REG_RADV 0x282c
#define REG_TDBAL 0x3800
#define REG_TDBAH 0x3804
#define REG_TDLEN 0x3808
#define REG_TDH 0x3810
#define REG_TDT 0x3818
#define REG_TIDV 0x3820
#define REG_TADV 0x382c
#define REG_STATS_FIRST 0x4000
#define REG_STATS_LAST 0x40fc
#define REG_MPC 0x4010
#define REG_PRC64 0x405c
#define REG_GPRC 0x4074
#define REG_BPRC 0x4078
#define REG_MPRC 0x407c
#define REG_GPTC 0x4080
#define REG_GORCL 0x4088
#define REG_GOTCL 0x4090
#define REG_RNBC 0x40a0
#define REG_ROC 0x40ac
#define REG_TORL 0x40c0
#define REG_TOTL 0x40c8
#define REG_TPR 0x40d0
#define REG_TPT 0x40d4
#define REG_PTC64 0x40d8
#define REG_MPTC 0x40f0
#define REG_BPTC 0x40f4
#define REG_TSCTC 0x40f8
#define REG_RXCSUM 0x5000
#define REG_MTA 0x5200
#define REG_RA 0x5400
#define REG_VFTA 0x5600

#define CTRL_SLU (1u << 6)
#define CTRL_SPD_1000 (2u << 8)
#define CTRL_SWDPIN0 (1u << 18)
#define CTRL_SWDPIN2 (1u << 20)
#define CTRL_RST (1u << 26)
#define CTRL_VME (1u << 30)

#define STATUS_FD (1u << 0)
#define STATUS_LU (1u << 1)
#define STATUS_SPEED_1000 (2u << 6)
#define STATUS_ASDV_1000 (2u << 8)
#define STATUS_MTXCKOK (1u << 10)

#define EECD_SK (1u << 0)
#define EECD_CS (1u << 1)
#define EECD_DI (1u << 2)
#define EECD_DO (1u << 3)
#define EECD_FWE (3u << 4)
#define EECD_REQ (1u << 6)
#define EECD_GNT (1u << 7)
#define EECD_PRES (1u << 8)
#define EERD_START (1u << 0)
#define EERD_DONE (1u << 4)

#define MDIC_DATA 0xffffu
#define MDIC_REG_SHIFT 16
#define MDIC_PHY_SHIFT 21
#define MDIC_OP_WRITE (1u << 26)
#define MDIC_OP_READ (2u << 26)
#define MDIC_READY (1u << 28)
#define MDIC_IE (1u << 29)
#define MDIC_ERROR (1u << 30)
#define PHY_ADDRESS 1

#define ICR_TXDW (1u << 0)
#define ICR_TXQE (1u << 1)
#define ICR_LSC (1u << 2)
#define ICR_RXDMT0 (1u << 4)
#define ICR_RXT0 (1u << 7)
#define ICR_MDAC (1u << 9)

#define RCTL_EN (1u << 1)
#define RCTL_SBP (1u << 2)
#define RCTL_UPE (1u << 3)
#define RCTL_MPE (1u << 4)
#define RCTL_LPE (1u << 5)
#define RCTL_RDMTS_SHIFT 8
#define RCTL_MO_SHIFT 12
#define RCTL_BAM (1u << 15)
#define RCTL_BSIZE_SHIFT 16
#define RCTL_VFE (1u << 18)
#define RCTL_BSEX (1u << 25)
#define RCTL_SECRC (1u << 26)
#define TCTL_EN (1u << 1)
#define RDTR_FPD (1u << 31)
#define RXCSUM_IPOFLD (1u << 8)
#define RXCSUM_TUOFLD (1u << 9)
#define RAH_AV (1u << 31)

/* Receive descriptor status (3.2.3.1). */
#define RXD_DD 0x01
#define RXD_EOP 0x02
#define RXD_IXSM 0x04
#define RXD_VP 0x08
#define RXD_TCPCS 0x20
#define RXD_IPCS 0x40

/* Transmit descriptor command bits (3.3.3, 3.3.7.1) and options (3.3.7.2). */
#define TXD_EOP 0x01
#define TXD_IC 0x04          /* legacy: insert checksum */
#define TXD_TSE 0x04         /* data: TCP segmentation */
#define TXD_RS 0x08
#define TXD_DEXT 0x20
#define TXD_VLE 0x40
#define TXD_IDE 0x80
#define TXD_DD 0x01
#define TUCMD_TCP 0x01
#define TUCMD_IP 0x02
#define POPTS_IXSM 0x01
#define POPTS_TXSM 0x02
#define DTYP_CONTEXT 0
#define DTYP_DATA 1

/* PHY registers (IEEE 802.3 clause 22 and the M88E1011's own, 13.4.8). */
#define PHY_REGS 32
#define MII_BMCR 0x00
#define MII_BMSR 0x01
#define MII_PHYID1 0x02
#define MII_PHYID2 0x03
#define MII_ANAR 0x04
#define MII_ANLPAR 0x05
#define MII_ANER 0x06
#define MII_CTRL1000 0x09
#define MII_STAT1000 0x0a
#define M88_SPEC_CTRL 0x10
#define M88_SPEC_STATUS 0x11
#define M88_EXT_SPEC_CTRL 0x14
#define M88_RX_ERR_CNTR 0x15
#define BMCR_RESTART_AN 0x0200
#define BMCR_RESET 0x8000
#define BMSR_LINK 0x0004
#define BMSR_AN_DONE 0x0020
#define ANLPAR_ACK 0x4000
#define M88_STATUS_LINK 0x0400

#define EEPROM_WORDS 64
#define EEPROM_CHECKSUM_WORD 0x3f
#define EEPROM_SUM 0xbaba
#define EEPROM_READ_OPCODE 0x6   /* microwire READ: 1, 1, 0 */
#define EEPROM_ADDR_BITS 6

#define DESC_SIZE 16
#define ETH_HDR 14
#define ETH_ALEN 6
#define ETH_MIN_FRAME 60         /* without the FCS */
#define ETH_FCS 4
#define VLAN_TAG 4
#define MAX_FRAME 1522           /* with a VLAN tag, without the FCS */
#define MAX_LONG_FRAME 16384     /* RCTL.LPE: the 82540EM's largest */
#define TX_MAX_IOV 256
#define TX_MAX_TSO (256u * 1024)
#define TX_COPY_MAX (MAX_LONG_FRAME + VLAN_TAG)
#define RX_MAX_DESCS (MAX_LONG_FRAME / 256 + 2)
#define MAX_HDR 256
#define INTERVAL_NS 1024         /* RDTR, RADV, TIDV, TADV count 1.024 us (13.4.32) */
#define ITR_NS 256               /* ITR counts 256 ns (13.4.18) */
#define ETHERTYPE_IPV4 0x0800

#define PCI_CLASS_ETHERNET 0x020000
#define PCI_SUBSYS_VENDOR 0x1af4  /* as QEMU's e1000 */
#define PCI_SUBSYS_ID 0x1100

/* Offsets of a TCP/IPv4 or IPv6 packet's fields, from its headers' starts. */
#define IPV4_TOT_LEN 2
#define IPV4_ID 4
#define IPV4_CSUM 10
#define IPV6_PAYLOAD_LEN 4
#define TCP_SEQ 4
#define TCP_FLAGS 13
#define TCP_FIN_PSH 0x09
#define UDP_LEN 4

/* What a context descriptor set up (3.3.6): where the checksums go, and TSO. */
struct tx_context {
	uint8_t ipcss, ipcso, tucss, tucso, hdr_len;
	uint16_t ipcse, tucse, mss;
	uint32_t paylen;
	bool tcp, ipv4;
};

/* The frame being gathered from descriptors until one has EOP. */
struct tx_packet {
	struct iovec iov[TX_MAX_IOV];
	unsigned n;
	size_t len;
	bool tso, bad;
	uint8_t popts;           /* from its first data descriptor */
	bool legacy_csum;
	uint8_t css, cso;        /* legacy checksum start and offset */
	bool vlan;
	uint16_t vlan_tci;
};

/* The EEPROM's microwire interface as EECD shows it (5.5). */
struct eeprom_wire {
	uint32_t pins;           /* SK, CS, DI, FWE, REQ as written */
	uint32_t in;             /* opcode and address bits clocked in */
	unsigned in_bits;
	bool reading;
	unsigned out_pos;        /* bit of the EEPROM's contents on DO */
};

struct e1000 {
	struct pci_function pci;
	const struct guest_mem *mem;
	struct irq_controller *irq;
	struct ioevents *ioevents;
	struct event_loop *loop;
	struct net_backend be;
	pthread_mutex_t lock;
	uint32_t regs[E1000_MMIO_SIZE / 4];
	uint16_t phy[PHY_REGS];
	uint16_t eeprom[EEPROM_WORDS];
	struct eeprom_wire ee;
	uint32_t ioaddr;
	uint8_t mac[ETH_ALEN];
	bool link_up;
	bool receiving;          /* the backend is told to deliver */
	uint64_t mmio_at;        /* where BAR0 is mapped (its coalesced ranges), or 0 */

	/* Interrupts: INTA# by irqfd, or by set_gsi without one. */
	int irq_fd, resample_fd;
	bool asserted;
	uint64_t last_irq_ns;
	uint64_t rx_delay_at, rx_abs_at, tx_delay_at, tx_abs_at;  /* 0: not armed */
	int timer_fd;
	uint64_t timer_at;
	int tx_fd;               /* TDT writes wake the transmit path on the loop */

	struct tx_context ctx, tso_ctx;
	struct tx_packet pkt;
	uint8_t *tx_copy;        /* frames whose checksums are computed here */
	uint8_t tx_hdr[MAX_HDR + VLAN_TAG];
	struct e1000_stats stats;
};

static const uint16_t phy_reset_values[PHY_REGS] = {
	[MII_BMCR] = 0x1140,          /* 1000 Mb/s, full duplex, autonegotiation on */
	[MII_BMSR] = 0x794d,          /* abilities; link and autonegotiation bits set by link_update */
	[MII_PHYID1] = 0x0141,        /* Marvell: M88E1011, as Linux's e1000 expects (ID 0x01410C20) */
	[MII_PHYID2] = 0x0c20,
	[MII_ANAR] = 0x0de1,
	[MII_ANLPAR] = 0x01e0,
	[MII_CTRL1000] = 0x0e00,
	[MII_STAT1000] = 0x3c00,
	[M88_SPEC_CTRL] = 0x0360,
	[M88_SPEC_STATUS] = 0xa800,   /* 1000 Mb/s, full duplex, resolved; link bit by link_update */
	[M88_EXT_SPEC_CTRL] = 0x0d60,
};

static const bool phy_read_only[PHY_REGS] = {
	[MII_BMSR] = true, [MII_PHYID1] = true, [MII_PHYID2] = true, [MII_ANLPAR] = true,
	[MII_ANER] = true, [MII_STAT1000] = true, [M88_SPEC_STATUS] = true, [M88_RX_ERR_CNTR] = true,
};

/* EEPROM words 3-0x3E (Table 5-2): compatibility, PBA number, init control words, PXE. */
static const uint16_t eeprom_image[EEPROM_WORDS] = {
	[4] = 0xffff, [8] = 0x3000, [9] = 0x1000, [10] = 0x6403, [11] = E1000_DEVICE_ID,
	[12] = E1000_VENDOR_ID, [13] = E1000_DEVICE_ID, [14] = E1000_VENDOR_ID, [15] = 0x3040,
	[16] = 0x0008, [17] = 0x2000, [18] = 0x7e14, [19] = 0x0048, [20] = 0x1000, [21] = 0x00d8,
	[23] = 0x2700, [24] = 0x6cc9, [25] = 0x3150, [26] = 0x0722, [27] = 0x040b, [28] = 0x0984,
	[30] = 0xc000, [31] = 0x0706, [32] = 0x1008, [34] = 0x0f04, [35] = 0x7fff, [36] = 0x4d01,
	[37] = 0xffff, [38] = 0xffff, [39] = 0xffff, [40] = 0xffff, [41] = 0xffff, [42] = 0xffff,
	[43] = 0xffff, [44] = 0xffff, [45] = 0xffff, [46] = 0xffff, [47] = 0xffff, [48] = 0x0100,
	[49] = 0x4000, [50] = 0x121c, [51] = 0xffff, [52] = 0xffff, [53] = 0xffff, [54] = 0xffff,
	[55] = 0xffff, [56] = 0xffff, [57] = 0xffff, [58] = 0xffff, [59] = 0xffff, [60] = 0xffff,
	[61] = 0xffff, [62] = 0xffff,
};

static uint32_t *reg(struct e1000 *e, uint32_t off)
{
	return &e->regs[off / 4];
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Statistics registers saturate rather than wrap (13.7). */
static void stat_add(struct e1000 *e, uint32_t off, uint32_t n)
{
	uint32_t *r = reg(e, off);
	*r = *r > UINT32_MAX - n ? UINT32_MAX : *r + n;
}

/* The 64-bit octet counters: low register, then high. */
static void stat_add64(struct e1000 *e, uint32_t off, uint32_t n)
{
	uint32_t *lo = reg(e, off), *hi = reg(e, off + 4);
	uint64_t v = ((uint64_t)*hi << 32 | *lo) + n;
	*lo = (uint32_t)v;
	*hi = (uint32_t)(v >> 32);
}

/* ---- Interrupts (3.4, 13.4.17-21) ---- */

static void arm_timer(struct e1000 *e, uint64_t at)
{
	if (!at || e->timer_fd < 0 || (e->timer_at && e->timer_at <= at))
		return;
	struct itimerspec its = { .it_value = { (time_t)(at / 1000000000u), (long)(at % 1000000000u) } };
	if (timerfd_settime(e->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		e->timer_at = at;
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

static void assert_intx(struct e1000 *e, uint64_t now)
{
	e->asserted = true;
	e->last_irq_ns = now;
	e->stats.interrupts++;
	if (e->irq_fd >= 0) {
		uint64_t one = 1;
		if (write(e->irq_fd, &one, sizeof(one)) < 0)
			e->asserted = false;
	} else {
		pci_set_intx(&e->pci, true);
	}
}

/*
 * INTA# follows ICR & IMS, but a new assertion waits until ITR intervals
 * have passed since the last one. With an irqfd the line drops at the
 * guest's EOI (resample); without one the device lowers it here.
 */
static void update_irq(struct e1000 *e)
{
	bool pending = *reg(e, REG_ICR) & *reg(e, REG_IMS);

	if (pending && !e->asserted) {
		uint64_t now = now_ns(), gap = (uint64_t)(*reg(e, REG_ITR) & 0xffff) * ITR_NS;
		bool disabled = pci_cfg16(&e->pci, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE;
		if (disabled)
			return;
		if (gap && e->timer_fd >= 0 && e->last_irq_ns && now < e->last_irq_ns + gap)
			arm_timer(e, e->last_irq_ns + gap);
		else
			assert_intx(e, now);
	} else if (!pending && e->asserted && e->irq_fd < 0) {
		e->asserted = false;
		pci_set_intx(&e->pci, false);
	}
}

static void raise_cause(struct e1000 *e, uint32_t causes)
{
	*reg(e, REG_ICR) |= causes;
	update_irq(e);
}

/* Delay timers: a cause waits for the relative timer (restarted by each
 * event) or the absolute one (from the first event), whichever ends first. */
static void delay_cause(struct e1000 *e, uint32_t cause, uint32_t rel, uint32_t abs, uint64_t *rel_at,
			uint64_t *abs_at)
{
	uint64_t now = now_ns();

	if (!rel || e->timer_fd < 0) {
		raise_cause(e, cause);
		return;
	}
	*rel_at = now + (uint64_t)rel * INTERVAL_NS;
	if (abs && !*abs_at)
		*abs_at = now + (uint64_t)abs * INTERVAL_NS;
	arm_timer(e, earliest(*rel_at, *abs_at));
}

static bool delay_expired(uint64_t *rel_at, uint64_t *abs_at, uint64_t now)
{
	if (!(*rel_at && *rel_at <= now) && !(*abs_at && *abs_at <= now))
		return false;
	*rel_at = *abs_at = 0;
	return true;
}

static void timer_fired(void *arg)
{
	struct e1000 *e = arg;
	uint64_t expirations;

	if (read(e->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&e->lock);
	uint64_t now = now_ns();
	e->timer_at = 0;
	if (delay_expired(&e->rx_delay_at, &e->rx_abs_at, now))
		*reg(e, REG_ICR) |= ICR_RXT0;
	if (delay_expired(&e->tx_delay_at, &e->tx_abs_at, now))
		*reg(e, REG_ICR) |= ICR_TXDW;
	update_irq(e);
	arm_timer(e, earliest(earliest(e->rx_delay_at, e->rx_abs_at), earliest(e->tx_delay_at, e->tx_abs_at)));
	pthread_mutex_unlock(&e->lock);
}

/* The guest's EOI lowered INTA#: assert it again if causes are still pending. */
static void resampled(void *arg)
{
	struct e1000 *e = arg;
	uint64_t n;

	if (read(e->resample_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&e->lock);
	e->asserted = false;
	update_irq(e);
	pthread_mutex_unlock(&e->lock);
}

/* ---- PHY and link (8.4, 13.4.8) ---- */

static void link_update(struct e1000 *e)
{
	uint16_t up = e->link_up ? BMSR_LINK | BMSR_AN_DONE : 0;

	e->phy[MII_BMSR] = (uint16_t)((e->phy[MII_BMSR] & ~(BMSR_LINK | BMSR_AN_DONE)) | up);
	e->phy[MII_ANLPAR] = (uint16_t)((e->phy[MII_ANLPAR] & ~ANLPAR_ACK) | (e->link_up ? ANLPAR_ACK : 0));
	e->phy[MII_ANER] = e->link_up ? 1 : 0;
	e->phy[M88_SPEC_STATUS] = (uint16_t)((e->phy[M88_SPEC_STATUS] & ~M88_STATUS_LINK) |
					     (e->link_up ? M88_STATUS_LINK : 0));
}

static void phy_write(struct e1000 *e, unsigned r, uint16_t v)
{
	if (phy_read_only[r])
		return;
	if (r != MII_BMCR) {
		e->phy[r] = v;
		return;
	}
	if (v & BMCR_RESET)
		memcpy(e->phy, phy_reset_values, sizeof(e->phy));
	e->phy[MII_BMCR] = v & ~(BMCR_RESET | BMCR_RESTART_AN);
	link_update(e);
	/* Autonegotiation with a partner that takes anything completes at once. */
	if ((v & BMCR_RESTART_AN) && e->link_up)
		raise_cause(e, ICR_LSC);
}

static uint32_t mdic_write(struct e1000 *e, uint32_t v)
{
	unsigned phy = (v >> MDIC_PHY_SHIFT) & 0x1f, r = (v >> MDIC_REG_SHIFT) & 0x1f;

	if (phy != PHY_ADDRESS)
		v |= MDIC_ERROR;
	else if (v & MDIC_OP_READ)
		v = (v & ~MDIC_DATA) | e->phy[r];
	else if (v & MDIC_OP_WRITE)
		phy_write(e, r, (uint16_t)(v & MDIC_DATA));
	if (v & MDIC_IE)
		raise_cause(e, ICR_MDAC);
	return v | MDIC_READY;
}

/* ---- EEPROM (5.5, 13.4.3-4) ---- */

static void eeprom_wire_write(struct e1000 *e, uint32_t v)
{
	struct eeprom_wire *w = &e->ee;
	uint32_t old = w->pins;

	w->pins = v & (EECD_SK | EECD_CS | EECD_DI | EECD_FWE | EECD_REQ);
	if (!(v & EECD_CS))
		return;
	if (!(old & EECD_CS)) {               /* chip select: a new command */
		w->in = w->in_bits = 0;
		w->reading = false;
	}
	if (!((v ^ old) & EECD_SK))
		return;
	if (!(v & EECD_SK)) {                 /* falling clock: next data bit on DO */
		w->out_pos++;
		return;
	}
	if (w->reading)
		return;
	w->in = w->in << 1 | ((v & EECD_DI) ? 1 : 0);
	if (++w->in_bits == 3 + EEPROM_ADDR_BITS) {
		w->reading = (w->in >> EEPROM_ADDR_BITS) == EEPROM_READ_OPCODE;
		/* After the last address bit a dummy 0, then the word, MSB first. */
		w->out_pos = (w->in & (EEPROM_WORDS - 1)) * 16 - 1;
	}
}

static uint32_t eeprom_wire_read(const struct e1000 *e)
{
	const struct eeprom_wire *w = &e->ee;
	uint32_t v = w->pins | EECD_PRES | EECD_GNT;
	unsigned word = (w->out_pos / 16) % EEPROM_WORDS, bit = 15 - w->out_pos % 16;

	if (!w->reading || (e->eeprom[word] >> bit) & 1)
		v |= EECD_DO;
	return v;
}

static uint32_t eerd_write(const struct e1000 *e, uint32_t v)
{
	unsigned addr = (v >> 8) & 0xff;

	if (!(v & EERD_START))
		return v;
	uint16_t data = addr < EEPROM_WORDS ? e->eeprom[addr] : 0;
	return (uint32_t)data << 16 | addr << 8 | EERD_DONE;
}

static void eeprom_init(struct e1000 *e)
{
	uint16_t sum = 0;

	memcpy(e->eeprom, eeprom_image, sizeof(e->eeprom));
	for (int i = 0; i < 3; i++)
		e->eeprom[i] = (uint16_t)(e->mac[2 * i] | e->mac[2 * i + 1] << 8);
	for (int i = 0; i < EEPROM_CHECKSUM_WORD; i++)
		sum = (uint16_t)(sum + e->eeprom[i]);
	e->eeprom[EEPROM_CHECKSUM_WORD] = (uint16_t)(EEPROM_SUM - sum);
}

/* ---- Reset ---- */

static void set_receiving(struct e1000 *e, bool on)
{
	if (e->receiving != on) {
		e->receiving = on;
		e->be.ops->set_receiving(e->be.ctx, on);
	}
}

/* The state after power-up or CTRL.RST (13.4.1): registers, PHY, MAC in RAL0/RAH0. */
static void reset(struct e1000 *e)
{
	memset(e->regs, 0, sizeof(e->regs));
	memcpy(e->phy, phy_reset_values, sizeof(e->phy));
	link_update(e);
	*reg(e, REG_CTRL) = CTRL_SWDPIN2 | CTRL_SWDPIN0 | CTRL_SPD_1000 | CTRL_SLU;
	*reg(e, REG_LEDCTL) = 0x0602;
	*reg(e, REG_PBA) = 0x00100030;
	*reg(e, REG_VET) = 0x8100;
	*reg(e, REG_RA) = get32(e->mac);
	*reg(e, REG_RA + 4) = get16(e->mac + 4) | RAH_AV;
	memset(&e->ee, 0, sizeof(e->ee));
	memset(&e->ctx, 0, sizeof(e->ctx));
	memset(&e->tso_ctx, 0, sizeof(e->tso_ctx));
	memset(&e->pkt, 0, sizeof(e->pkt));
	e->rx_delay_at = e->rx_abs_at = e->tx_delay_at = e->tx_abs_at = 0;
	update_irq(e);
	set_receiving(e, false);
}

/* ---- Receive (3.2) ---- */

static uint32_t rx_buffer_size(const struct e1000 *e)
{
	uint32_t rctl = e->regs[REG_RCTL / 4], bsize = (rctl >> RCTL_BSIZE_SHIFT) & 3;

	if (rctl & RCTL_BSEX)
		return bsize ? 32768u >> bsize : 2048;   /* 16384, 8192, 4096; 00 is reserved */
	return 2048u >> bsize;                       /* 2048, 1024, 512, 256 */
}

static unsigned ring_size(const struct e1000 *e, uint32_t len_reg)
{
	return (e->regs[len_reg / 4] & 0xfff80) / DESC_SIZE;
}

static uint64_t ring_base(const struct e1000 *e, uint32_t bal)
{
	return (uint64_t)e->regs[bal / 4 + 1] << 32 | (e->regs[bal / 4] & ~0xfu);
}

static uint8_t *desc_at(struct e1000 *e, uint32_t bal, unsigned index)
{
	return guest_mem_ptr(e->mem, ring_base(e, bal) + (uint64_t)index * DESC_SIZE, DESC_SIZE);
}

static bool bus_master(const struct e1000 *e)
{
	return pci_cfg16(&e->pci, PCI_COMMAND) & PCI_COMMAND_MASTER;
}

/* Descriptors the driver has handed over: from RDH up to (not including) RDT; -1 if the ring is bad. */
static int rx_available(const struct e1000 *e)
{
	unsigned size = ring_size(e, REG_RDLEN), head = e->regs[REG_RDH / 4], tail = e->regs[REG_RDT / 4];

	if (!size || head >= size || tail >= size)
		return -1;
	return (int)((tail + size - head) % size);
}

static size_t rx_frame_max(const struct e1000 *e)
{
	return (e->regs[REG_RCTL / 4] & RCTL_LPE) ? MAX_LONG_FRAME : MAX_FRAME;
}

static unsigned rx_descs_needed(const struct e1000 *e, size_t bytes)
{
	uint32_t b = rx_buffer_size(e);
	return (unsigned)((bytes + b - 1) / b);
}

/* The multicast table's hash: 12 bits of the address, which ones by RCTL.MO (13.4.22). */
static bool multicast_listed(const struct e1000 *e, const uint8_t *dst)
{
	static const unsigned shift[4] = { 4, 3, 2, 0 };
	unsigned mo = (e->regs[REG_RCTL / 4] >> RCTL_MO_SHIFT) & 3;
	unsigned hash = ((dst[4] >> shift[mo]) | (unsigned)dst[5] << (8 - shift[mo])) & 0xfff;

	return e->regs[REG_MTA / 4 + hash / 32] >> (hash % 32) & 1;
}

static bool address_listed(const struct e1000 *e, const uint8_t *dst)
{
	for (unsigned i = 0; i < 16; i++) {
		uint32_t lo = e->regs[REG_RA / 4 + 2 * i], hi = e->regs[REG_RA / 4 + 2 * i + 1];
		if ((hi & RAH_AV) && get32(dst) == lo && get16(dst + 4) == (hi & 0xffff))
			return true;
	}
	return false;
}

/* RCTL's address filters (3.2.1) and the VLAN filter table (3.11.2). */
static bool rx_accept(const struct e1000 *e, const uint8_t *frame)
{
	uint32_t rctl = e->regs[REG_RCTL / 4];
	uint16_t vet = (uint16_t)e->regs[REG_VET / 4];

	if ((rctl & RCTL_VFE) && get_be16(frame + 12) == vet) {
		unsigned vid = get_be16(frame + 14) & 0xfff;
		if (!(e->regs[REG_VFTA / 4 + vid / 32] >> (vid % 32) & 1))
			return false;
	}
	if (!(frame[0] & 1))
		return (rctl & RCTL_UPE) || address_listed(e, frame);
	if (!memcmp(frame, "\xff\xff\xff\xff\xff\xff", ETH_ALEN))
		return (rctl & RCTL_BAM) || (rctl & RCTL_MPE);
	return (rctl & RCTL_MPE) || multicast_listed(e, frame) || address_listed(e, frame);
}

/* A partial checksum the backend left (virtio's NEEDS_CSUM) finished in the guest's buffers. */
static void rx_finish_checksum(const struct net_frame_header *h, const struct iovec *iov, unsigned n,
			       size_t len)
{
	size_t at = (size_t)h->csum_start + h->csum_offset;
	uint8_t sum[2];

	if (h->csum_start >= len || at + 2 > len)
		return;
	put_be16(sum, (uint16_t)~csum_fold(csum_iov(iov, n, h->csum_start, len - h->csum_start)));
	iov_from_buf(iov, n, at, sum, 2);
}

/* Takes the 802.1Q tag out of a frame in the guest's buffers (3.11.1); returns its TCI. */
static uint16_t rx_strip_tag(uint8_t *scratch, const struct iovec *iov, unsigned n, size_t *len)
{
	uint8_t tag[VLAN_TAG];

	iov_to_buf(iov, n, 2 * ETH_ALEN, tag, VLAN_TAG);
	iov_to_buf(iov, n, 2 * ETH_ALEN + VLAN_TAG, scratch, *len - 2 * ETH_ALEN - VLAN_TAG);
	iov_from_buf(iov, n, 2 * ETH_ALEN, scratch, *len - 2 * ETH_ALEN - VLAN_TAG);
	*len -= VLAN_TAG;
	return get_be16(tag + 2);
}

static void rx_count(struct e1000 *e, const uint8_t *dst, size_t len)
{
	static const size_t bounds[] = { 64, 127, 255, 511, 1023 };
	unsigned bucket = 0;

	while (bucket < 5 && len > bounds[bucket])
		bucket++;
	stat_add(e, REG_PRC64 + 4 * bucket, 1);
	stat_add(e, REG_GPRC, 1);
	stat_add(e, REG_TPR, 1);
	stat_add64(e, REG_GORCL, (uint32_t)len);
	stat_add64(e, REG_TORL, (uint32_t)len);
	if (!memcmp(dst, "\xff\xff\xff\xff\xff\xff", ETH_ALEN))
		stat_add(e, REG_BPRC, 1);
	else if (dst[0] & 1)
		stat_add(e, REG_MPRC, 1);
	e->stats.rx_frames++;
}

/* Writes back the descriptors a frame of total bytes took, status last. */
static void rx_write_back(struct e1000 *e, uint8_t **descs, unsigned used, size_t total, uint8_t status,
			  uint16_t tci)
{
	uint32_t b = rx_buffer_size(e);
	unsigned size = ring_size(e, REG_RDLEN);

	for (unsigned i = 0; i < used; i++) {
		uint8_t *d = descs[i];
		size_t len = total - (size_t)i * b < b ? total - (size_t)i * b : b;
		d[8] = (uint8_t)len;
		d[9] = (uint8_t)(len >> 8);
		d[10] = d[11] = 0;       /* packet checksum: not computed */
		d[13] = 0;               /* errors */
		d[14] = (uint8_t)tci;
		d[15] = (uint8_t)(tci >> 8);
		atomic_thread_fence(memory_order_release);
		d[12] = (uint8_t)(status | RXD_DD | (i + 1 == used ? RXD_EOP : 0));
	}
	e->regs[REG_RDH / 4] = (e->regs[REG_RDH / 4] + used) % size;
}

/* RXDMT0 when the descriptors left fall to RCTL.RDMTS's fraction of the ring (13.4.22). */
static uint32_t rx_threshold_cause(const struct e1000 *e, int left)
{
	unsigned size = ring_size(e, REG_RDLEN), rdmts = (e->regs[REG_RCTL / 4] >> RCTL_RDMTS_SHIFT) & 3;

	return rdmts < 3 && (unsigned)left <= size >> (rdmts + 1) ? ICR_RXDMT0 : 0;
}

/* RX_NEXT: a frame went to the ring; RX_DROPPED: one was refused (filtered, oversized), nothing to signal. */
enum rx_result { RX_DONE, RX_NEXT, RX_DROPPED, RX_WAIT };

/* Maps the buffers of the next descriptors; false if one lies outside guest RAM. */
static bool rx_map(struct e1000 *e, unsigned want, uint8_t **descs, struct iovec *iov)
{
	unsigned size = ring_size(e, REG_RDLEN), head = e->regs[REG_RDH / 4];
	uint32_t b = rx_buffer_size(e);

	for (unsigned i = 0; i < want; i++) {
		descs[i] = desc_at(e, REG_RDBAL, (head + i) % size);
		void *buf = descs[i] ? guest_mem_ptr(e->mem, get32(descs[i]) | (uint64_t)get32(descs[i] + 4) << 32, b)
				     : NULL;
		if (!buf)
			return false;
		iov[i + 1] = (struct iovec){ buf, b };
	}
	return true;
}

/* One frame from the backend into the ring. */
static enum rx_result rx_one(struct e1000 *e, uint8_t *scratch)
{
	struct net_frame_header h;
	struct iovec iov[RX_MAX_DESCS + 1] = { { &h, sizeof(h) } };
	uint8_t *descs[RX_MAX_DESCS];
	size_t max = rx_frame_max(e);
	unsigned want = rx_descs_needed(e, max + ETH_FCS);
	int avail = rx_available(e);

	if (avail < 0 || (unsigned)avail < want) {
		e->stats.rx_waits++;
		stat_add(e, REG_RNBC, 1);
		return RX_WAIT;
	}
	if (!rx_map(e, want, descs, iov)) {
		e->stats.rx_errors++;
		return RX_WAIT;
	}
	ssize_t got = e->be.ops->receive(e->be.ctx, iov, want + 1);
	if (got <= (ssize_t)sizeof(h))
		return RX_DONE;
	size_t len = (size_t)got - sizeof(h);
	const struct iovec *frame = iov + 1;
	if (len > max || len < ETH_HDR || h.gso_type != NET_HDR_GSO_NONE) {
		e->stats.rx_oversized++;
		stat_add(e, REG_ROC, 1);
		return RX_DROPPED;
	}
	if (len < ETH_MIN_FRAME) {
		memset((uint8_t *)frame[0].iov_base + len, 0, ETH_MIN_FRAME - len);
		len = ETH_MIN_FRAME;
	}
	const uint8_t *dst = frame[0].iov_base;
	if (!rx_accept(e, dst)) {
		e->stats.rx_filtered++;
		return RX_DROPPED;
	}
	if (h.flags & NET_HDR_F_NEEDS_CSUM)
		rx_finish_checksum(&h, frame, want, len);
	uint8_t status = RXD_IXSM;
	if ((h.flags & (NET_HDR_F_DATA_VALID | NET_HDR_F_NEEDS_CSUM)) && (e->regs[REG_RXCSUM / 4] & RXCSUM_TUOFLD))
		status = RXD_TCPCS | ((e->regs[REG_RXCSUM / 4] & RXCSUM_IPOFLD) ? RXD_IPCS : 0);
	uint16_t tci = 0;
	if ((e->regs[REG_CTRL / 4] & CTRL_VME) && get_be16(dst + 12) == (uint16_t)e->regs[REG_VET / 4]) {
		tci = rx_strip_tag(scratch, frame, want, &len);
		status |= RXD_VP;
	}
	rx_count(e, dst, len + ETH_FCS);
	size_t total = len + ((e->regs[REG_RCTL / 4] & RCTL_SECRC) ? 0 : ETH_FCS);
	if (total > len)
		iov_from_buf(frame, want, len, "\0\0\0\0", ETH_FCS);   /* the FCS: not computed */
	unsigned used = rx_descs_needed(e, total);
	rx_write_back(e, descs, used, total, status, tci);
	return RX_NEXT;
}

static bool rx_enabled(const struct e1000 *e)
{
	return (e->regs[REG_RCTL / 4] & RCTL_EN) && e->link_up && bus_master(e);
}

/* Frames wait on the backend: take them while the ring has room, then signal once. */
static void rx_run(struct e1000 *e)
{
	uint8_t scratch[MAX_LONG_FRAME];
	bool any = false;

	while (rx_enabled(e)) {
		enum rx_result r = rx_one(e, scratch);
		if (r == RX_DONE)
			break;
		if (r == RX_WAIT) {
			set_receiving(e, false);
			break;
		}
		any = any || r == RX_NEXT;
	}
	if (!any)
		return;
	raise_cause(e, rx_threshold_cause(e, rx_available(e)));
	delay_cause(e, ICR_RXT0, e->regs[REG_RDTR / 4] & 0xffff, e->regs[REG_RADV / 4] & 0xffff, &e->rx_delay_at,
		    &e->rx_abs_at);
}

void e1000_receive(void *arg)
{
	struct e1000 *e = arg;

	pthread_mutex_lock(&e->lock);
	rx_run(e);
	pthread_mutex_unlock(&e->lock);
}

/* RCTL, RDT, the link or bus mastering changed: receive if the device may. */
static void rx_update(struct e1000 *e)
{
	int avail = rx_available(e);
	bool room = avail >= 0 && (unsigned)avail >= rx_descs_needed(e, rx_frame_max(e) + ETH_FCS);

	set_receiving(e, rx_enabled(e) && room);
}

/* ---- Transmit (3.3, 3.5) ---- */

static void tx_read_context(struct tx_context *c, const uint8_t *d)
{
	uint32_t cmd_len = get32(d + 8);
	uint8_t tucmd = (uint8_t)(cmd_len >> 24);

	*c = (struct tx_context){
		.ipcss = d[0], .ipcso = d[1], .ipcse = get16(d + 2), .tucss = d[4], .tucso = d[5],
		.tucse = get16(d + 6), .paylen = cmd_len & 0xfffff, .hdr_len = d[13], .mss = get16(d + 14),
		.tcp = tucmd & TUCMD_TCP, .ipv4 = tucmd & TUCMD_IP,
	};
}

static void tx_count(struct e1000 *e, const struct iovec *frame, unsigned n, size_t len)
{
	uint8_t dst[ETH_ALEN] = { 0 };
	static const size_t bounds[] = { 64, 127, 255, 511, 1023 };
	unsigned bucket = 0;

	while (bucket < 5 && len + ETH_FCS > bounds[bucket])
		bucket++;
	iov_to_buf(frame, n, 0, dst, ETH_ALEN);
	stat_add(e, REG_PTC64 + 4 * bucket, 1);
	stat_add(e, REG_GPTC, 1);
	stat_add(e, REG_TPT, 1);
	stat_add64(e, REG_GOTCL, (uint32_t)(len + ETH_FCS));
	stat_add64(e, REG_TOTL, (uint32_t)(len + ETH_FCS));
	if (!memcmp(dst, "\xff\xff\xff\xff\xff\xff", ETH_ALEN))
		stat_add(e, REG_BPTC, 1);
	else if (dst[0] & 1)
		stat_add(e, REG_MPTC, 1);
	e->stats.tx_frames++;
}

/*
 * Sends one frame: the header, and the frame with an 802.1Q tag put in
 * after the addresses if the descriptor asked for one (3.11.3).
 */
static void tx_send(struct e1000 *e, struct net_frame_header *h, const struct iovec *frame, unsigned n)
{
	struct iovec iov[TX_MAX_IOV + 4] = { { h, sizeof(*h) } };
	uint8_t tag[VLAN_TAG];
	size_t len = iov_length(frame, n);
	unsigned at = 1;

	if (e->pkt.vlan && len >= 2 * ETH_ALEN) {
		put_be16(tag, (uint16_t)e->regs[REG_VET / 4]);
		put_be16(tag + 2, e->pkt.vlan_tci);
		at += iov_slice(frame, n, 0, 2 * ETH_ALEN, iov + at, TX_MAX_IOV);
		iov[at++] = (struct iovec){ tag, VLAN_TAG };
		at += iov_slice(frame, n, 2 * ETH_ALEN, len - 2 * ETH_ALEN, iov + at, TX_MAX_IOV + 4 - at);
		if (h->flags & NET_HDR_F_NEEDS_CSUM)
			h->csum_start = (uint16_t)(h->csum_start + VLAN_TAG);
		if (h->gso_type != NET_HDR_GSO_NONE)
			h->hdr_len = (uint16_t)(h->hdr_len + VLAN_TAG);
		len += VLAN_TAG;
	} else {
		for (unsigned i = 0; i < n; i++)
			iov[at++] = frame[i];
	}
	if (e->be.ops->send(e->be.ctx, iov, at) < 0)
		e->stats.tx_errors++;
	else
		tx_count(e, frame, n, len);
}

/* Stores a checksum computed over [start, end] of a copied frame at `at` (3.3.6). */
static void put_checksum(uint8_t *f, size_t len, unsigned start, unsigned at, unsigned end)
{
	size_t stop = end && end < len ? (size_t)end + 1 : len;

	if (start >= stop || (size_t)at + 2 > len)
		return;
	put_be16(f + at, (uint16_t)~csum_fold(csum_add(0, f + start, stop - start, 0)));
}

/* A frame without TSO: its checksums to the backend if it takes them, else done here on a copy. */
static void tx_plain(struct e1000 *e)
{
	struct tx_packet *p = &e->pkt;
	struct net_frame_header h = { .gso_type = NET_HDR_GSO_NONE };
	const struct tx_context *c = &e->ctx;
	bool tu = p->popts & POPTS_TXSM, ip = p->popts & POPTS_IXSM;
	unsigned start = p->legacy_csum ? p->css : c->tucss, at = p->legacy_csum ? p->cso : c->tucso;
	unsigned end = p->legacy_csum ? 0 : c->tucse;

	tu = tu || p->legacy_csum;
	if (!tu && !ip) {
		tx_send(e, &h, p->iov, p->n);
		return;
	}
	if (tu && !ip && !end && (e->be.tx_offloads & NET_OFFLOAD_CSUM) && at > start) {
		h = (struct net_frame_header){ .flags = NET_HDR_F_NEEDS_CSUM, .csum_start = (uint16_t)start,
					       .csum_offset = (uint16_t)(at - start) };
		tx_send(e, &h, p->iov, p->n);
		return;
	}
	if (p->len > TX_COPY_MAX) {
		e->stats.tx_errors++;
		return;
	}
	iov_to_buf(p->iov, p->n, 0, e->tx_copy, p->len);
	if (ip)
		put_checksum(e->tx_copy, p->len, c->ipcss, c->ipcso, c->ipcse);
	if (tu)
		put_checksum(e->tx_copy, p->len, start, at, end);
	struct iovec one = { e->tx_copy, p->len };
	tx_send(e, &h, &one, 1);
}

/*
 * A TSO segment's headers (3.5.1): lengths, IPv4 identification, TCP
 * sequence number and flags, and the pseudo-header checksum with the
 * segment's length added (the driver leaves it without one). first is the
 * payload offset of the segment, seg its payload bytes, last whether it is
 * the final one.
 */
static void tso_headers(const struct tx_context *c, uint8_t *hdr, uint32_t first, uint32_t seg, bool last,
			unsigned index)
{
	uint32_t l4_len = c->hdr_len - c->tucss + seg;
	uint8_t *ip = hdr + c->ipcss, *l4 = hdr + c->tucss;

	if (c->ipv4) {
		put_be16(ip + IPV4_TOT_LEN, (uint16_t)(c->hdr_len - c->ipcss + seg));
		put_be16(ip + IPV4_ID, (uint16_t)(get_be16(ip + IPV4_ID) + index));
		put_be16(ip + IPV4_CSUM, 0);
		put_be16(ip + IPV4_CSUM, (uint16_t)~csum_fold(csum_add(0, ip, (size_t)(c->tucss - c->ipcss), 0)));
	} else {
		put_be16(ip + IPV6_PAYLOAD_LEN, (uint16_t)(c->hdr_len - c->ipcss - 40 + seg));
	}
	if (c->tcp) {
		uint32_t seq = ((uint32_t)l4[TCP_SEQ] << 24 | (uint32_t)l4[TCP_SEQ + 1] << 16 |
				(uint32_t)l4[TCP_SEQ + 2] << 8 | l4[TCP_SEQ + 3]) + first;
		for (int i = 0; i < 4; i++)
			l4[TCP_SEQ + i] = (uint8_t)(seq >> (24 - 8 * i));
		if (!last)
			l4[TCP_FLAGS] &= (uint8_t)~TCP_FIN_PSH;
	} else {
		put_be16(l4 + UDP_LEN, (uint16_t)l4_len);
	}
	uint8_t *sum = hdr + c->tucso;
	put_be16(sum, csum_fold((uint32_t)get_be16(sum) + (l4_len & 0xffff) + (l4_len >> 16)));
}

static bool tso_context_valid(const struct tx_context *c, size_t len)
{
	return c->mss && c->hdr_len && c->hdr_len < len && c->ipcss + 20u <= c->tucss &&
	       c->tucss + (c->tcp ? 20u : 8u) <= c->hdr_len && c->tucso + 2u <= c->hdr_len &&
	       c->ipcso + 2u <= c->tucss;
}

/* The whole TSO frame as one GSO frame, for a backend that segments (tap). */
static bool tso_offload(struct e1000 *e, const struct iovec *payload, unsigned n, uint32_t paylen)
{
	const struct tx_context *c = &e->tso_ctx;
	unsigned need = c->ipv4 ? NET_OFFLOAD_TSO4 : NET_OFFLOAD_TSO6;
	struct iovec frame[TX_MAX_IOV + 1] = { { e->tx_hdr, c->hdr_len } };

	if (!c->tcp || (e->be.tx_offloads & (need | NET_OFFLOAD_CSUM)) != (need | NET_OFFLOAD_CSUM) ||
	    n > TX_MAX_IOV || paylen > (uint32_t)(UINT16_MAX - c->hdr_len))
		return false;
	tso_headers(c, e->tx_hdr, 0, paylen, true, 0);
	struct net_frame_header h = {
		.flags = NET_HDR_F_NEEDS_CSUM, .gso_type = c->ipv4 ? NET_HDR_GSO_TCPV4 : NET_HDR_GSO_TCPV6,
		.hdr_len = c->hdr_len, .gso_size = c->mss, .csum_start = c->tucss,
		.csum_offset = (uint16_t)(c->tucso - c->tucss),
	};
	memcpy(frame + 1, payload, n * sizeof(*payload));
	tx_send(e, &h, frame, n + 1);
	return true;
}

/* Segments here: each segment its own headers, checksum by the backend or computed. */
static void tso_segment(struct e1000 *e, const struct iovec *payload, unsigned n, uint32_t paylen)
{
	const struct tx_context *c = &e->tso_ctx;
	uint8_t hdr[MAX_HDR];
	struct iovec seg[TX_MAX_IOV + 1] = { { hdr, c->hdr_len } };
	bool csum_offload = e->be.tx_offloads & NET_OFFLOAD_CSUM;

	for (uint32_t off = 0, i = 0; off < paylen; off += c->mss, i++) {
		uint32_t len = paylen - off < c->mss ? paylen - off : c->mss;
		memcpy(hdr, e->tx_hdr, c->hdr_len);
		tso_headers(c, hdr, off, len, off + len == paylen, i);
		unsigned k = 1 + iov_slice(payload, n, off, len, seg + 1, TX_MAX_IOV);
		struct net_frame_header h = { .gso_type = NET_HDR_GSO_NONE };
		if (csum_offload) {
			h.flags = NET_HDR_F_NEEDS_CSUM;
			h.csum_start = c->tucss;
			h.csum_offset = (uint16_t)(c->tucso - c->tucss);
		} else {
			uint16_t head = csum_fold(csum_add(0, hdr + c->tucss, (size_t)(c->hdr_len - c->tucss), 0));
			uint16_t body = csum_fold(csum_iov(seg + 1, k - 1, 0, len));
			/* The payload starts at an odd offset of the L4 segment when the headers' length is odd. */
			if ((c->hdr_len - c->tucss) & 1)
				body = (uint16_t)(body << 8 | body >> 8);
			put_be16(hdr + c->tucso, (uint16_t)~csum_fold((uint32_t)head + body));
		}
		tx_send(e, &h, seg, k);
	}
}

static void tx_tso(struct e1000 *e)
{
	struct tx_packet *p = &e->pkt;
	const struct tx_context *c = &e->tso_ctx;
	struct iovec payload[TX_MAX_IOV];

	if (!tso_context_valid(c, p->len) || p->len - c->hdr_len > TX_MAX_TSO) {
		e->stats.tx_errors++;
		return;
	}
	iov_to_buf(p->iov, p->n, 0, e->tx_hdr, c->hdr_len);
	uint32_t paylen = (uint32_t)(p->len - c->hdr_len);
	unsigned n = iov_slice(p->iov, p->n, c->hdr_len, paylen, payload, TX_MAX_IOV);
	if (!tso_offload(e, payload, n, paylen))
		tso_segment(e, payload, n, paylen);
	stat_add(e, REG_TSCTC, 1);
}

static void tx_packet_done(struct e1000 *e)
{
	struct tx_packet *p = &e->pkt;

	if (p->bad || !p->len)
		e->stats.tx_errors++;
	else if (p->tso)
		tx_tso(e);
	else
		tx_plain(e);
	memset(p, 0, sizeof(*p));
}

/* A data or legacy descriptor's buffer joins the packet. */
static void tx_add_buffer(struct e1000 *e, uint64_t addr, uint32_t len)
{
	struct tx_packet *p = &e->pkt;
	void *buf = len ? guest_mem_ptr(e->mem, addr, len) : NULL;

	if (!len)
		return;
	if (!buf || p->n == TX_MAX_IOV || p->len + len > TX_MAX_TSO + MAX_HDR) {
		p->bad = true;
		return;
	}
	p->iov[p->n++] = (struct iovec){ buf, len };
	p->len += len;
}

/* One descriptor (3.3.3, 3.3.7); *ide collects whether any asked for a delayed interrupt. */
static void tx_descriptor(struct e1000 *e, uint8_t *d, bool *ide)
{
	uint32_t cmd_len = get32(d + 8);
	uint8_t cmd = (uint8_t)(cmd_len >> 24), dtyp = (uint8_t)((cmd_len >> 20) & 0xf);
	struct tx_packet *p = &e->pkt;
	bool ext = cmd & TXD_DEXT, first = !p->n && !p->bad;

	*ide = *ide || (cmd & TXD_IDE);
	if (ext && dtyp == DTYP_CONTEXT) {
		tx_read_context((cmd & TXD_TSE) ? &e->tso_ctx : &e->ctx, d);
		return;
	}
	if (ext && dtyp != DTYP_DATA) {
		p->bad = true;
	} else if (ext) {
		if (first)
			p->popts = d[13];
		p->tso = cmd & TXD_TSE;
		tx_add_buffer(e, get32(d) | (uint64_t)get32(d + 4) << 32, cmd_len & 0xfffff);
	} else {
		if (first && (cmd & TXD_IC)) {
			p->legacy_csum = true;
			p->cso = d[10];
			p->css = d[13];
		}
		tx_add_buffer(e, get32(d) | (uint64_t)get32(d + 4) << 32, cmd_len & 0xffff);
	}
	if (cmd & TXD_VLE && (e->regs[REG_CTRL / 4] & CTRL_VME)) {
		p->vlan = true;
		p->vlan_tci = get16(d + 14);
	}
	if (cmd & TXD_EOP)
		tx_packet_done(e);
}

/* Descriptors from TDH to TDT, each written back with DD if it asks (RS). */
static void tx_run(struct e1000 *e)
{
	unsigned size = ring_size(e, REG_TDLEN), done = 0;
	bool ide = false;

	if (!(e->regs[REG_TCTL / 4] & TCTL_EN) || !bus_master(e) || !size || e->regs[REG_TDT / 4] >= size ||
	    e->regs[REG_TDH / 4] >= size)
		return;
	while (e->regs[REG_TDH / 4] != e->regs[REG_TDT / 4]) {
		uint8_t *d = desc_at(e, REG_TDBAL, e->regs[REG_TDH / 4]);
		if (!d) {
			e->stats.tx_errors++;
			break;
		}
		tx_descriptor(e, d, &ide);
		if (d[11] & TXD_RS) {
			atomic_thread_fence(memory_order_release);
			d[12] |= TXD_DD;
		}
		e->regs[REG_TDH / 4] = (e->regs[REG_TDH / 4] + 1) % size;
		done++;
	}
	if (!done)
		return;
	raise_cause(e, ICR_TXQE);
	if (ide)
		delay_cause(e, ICR_TXDW, e->regs[REG_TIDV / 4] & 0xffff, e->regs[REG_TADV / 4] & 0xffff,
			    &e->tx_delay_at, &e->tx_abs_at);
	else
		raise_cause(e, ICR_TXDW);
}

static void tx_kicked(void *arg)
{
	struct e1000 *e = arg;
	uint64_t n;

	if (read(e->tx_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&e->lock);
	tx_run(e);
	pthread_mutex_unlock(&e->lock);
}

/* Transmission runs on the loop's thread, as virtio-net's does; without a loop, here. */
static void tx_kick(struct e1000 *e)
{
	uint64_t one = 1;

	if (e->tx_fd < 0 || write(e->tx_fd, &one, sizeof(one)) < 0)
		tx_run(e);
}

/* ---- Register access (13.4) ---- */

static bool is_stat(uint32_t off)
{
	return off >= REG_STATS_FIRST && off <= REG_STATS_LAST;
}

static uint32_t reg_read(struct e1000 *e, uint32_t off)
{
	uint32_t *r = reg(e, off), v = *r;

	switch (off) {
	case REG_STATUS:
		return (e->link_up ? STATUS_LU : 0) | STATUS_FD | STATUS_SPEED_1000 | STATUS_ASDV_1000 | STATUS_MTXCKOK;
	case REG_EECD:
		return eeprom_wire_read(e);
	case REG_ICR:
		*r = 0;            /* read to clear (13.4.17) */
		update_irq(e);
		return v;
	case REG_ICS:
		return e->regs[REG_ICR / 4];
	case REG_IMC:
		return 0;
	}
	if (is_stat(off))
		*r = 0;                /* statistics clear on read (13.7) */
	return v;
}

static void reg_write(struct e1000 *e, uint32_t off, uint32_t v)
{
	uint32_t *r = reg(e, off);

	switch (off) {
	case REG_CTRL:
		if (v & CTRL_RST)
			reset(e);
		else
			*r = v;
		rx_update(e);
		return;
	case REG_STATUS:
		return;
	case REG_EECD:
		eeprom_wire_write(e, v);
		return;
	case REG_EERD:
		*r = eerd_write(e, v);
		return;
	case REG_MDIC:
		*r = mdic_write(e, v);
		return;
	case REG_ICR:
		*r &= ~v;
		update_irq(e);
		return;
	case REG_ICS:
		raise_cause(e, v);
		return;
	case REG_IMS:
		*r |= v;
		update_irq(e);
		return;
	case REG_IMC:
		*reg(e, REG_IMS) &= ~v;
		update_irq(e);
		return;
	case REG_RCTL:
		*r = v;
		rx_update(e);
		return;
	case REG_RDLEN:
	case REG_TDLEN:
		*r = v & 0xfff80;
		return;
	case REG_RDH:
	case REG_RDT:
		*r = v & 0xffff;
		rx_update(e);
		return;
	case REG_RDTR:
		*r = v & 0xffff;
		/* Flush Partial Descriptor: the pending receive interrupt now (13.4.30). */
		if ((v & RDTR_FPD) && (e->rx_delay_at || e->rx_abs_at)) {
			e->rx_delay_at = e->rx_abs_at = 0;
			raise_cause(e, ICR_RXT0);
		}
		return;
	case REG_TDH:
		*r = v & 0xffff;
		return;
	case REG_TCTL:
	case REG_TDT:
		*r = off == REG_TDT ? v & 0xffff : v;
		tx_kick(e);
		return;
	}
	if (!is_stat(off))
		*r = v;
}

/* Registers are 32 bits wide (13.3); narrower or unaligned accesses touch no register. */
static void mmio_read(struct e1000 *e, uint64_t off, uint8_t *data, unsigned size)
{
	uint32_t v = 0xffffffffu;

	if (size == 4 && !(off & 3) && off < E1000_MMIO_SIZE) {
		pthread_mutex_lock(&e->lock);
		v = reg_read(e, (uint32_t)off);
		pthread_mutex_unlock(&e->lock);
	}
	memcpy(data, &v, size < 4 ? size : 4);
	if (size > 4)
		memset(data + 4, 0xff, size - 4);
}

static void mmio_write(struct e1000 *e, uint64_t off, const uint8_t *data, unsigned size)
{
	if (size != 4 || (off & 3) || off >= E1000_MMIO_SIZE)
		return;
	pthread_mutex_lock(&e->lock);
	reg_write(e, (uint32_t)off, get32(data));
	pthread_mutex_unlock(&e->lock);
}

/* BAR1: IOADDR at 0 selects a register, IODATA at 4 reads or writes it (13.2.1). */
static void io_read(struct e1000 *e, uint64_t off, uint8_t *data, unsigned size)
{
	uint32_t v = 0xffffffffu;

	if (off == 0 && size == 4)
		v = e->ioaddr;
	else if (off == 4 && size == 4 && e->ioaddr < E1000_MMIO_SIZE) {
		mmio_read(e, e->ioaddr & ~3u, data, 4);
		return;
	}
	memcpy(data, &v, size < 4 ? size : 4);
}

static void io_write(struct e1000 *e, uint64_t off, const uint8_t *data, unsigned size)
{
	if (size != 4)
		return;
	if (off == 0)
		e->ioaddr = get32(data) & 0x1fffc;
	else if (off == 4)
		mmio_write(e, e->ioaddr, data, 4);
}

static void bar_read(struct pci_function *f, int bar, uint64_t off, uint8_t *data, unsigned size)
{
	struct e1000 *e = f->opaque;

	if (bar == 0)
		mmio_read(e, off, data, size);
	else
		io_read(e, off, data, size);
}

static void bar_write(struct pci_function *f, int bar, uint64_t off, const uint8_t *data, unsigned size)
{
	struct e1000 *e = f->opaque;

	if (bar == 0)
		mmio_write(e, off, data, size);
	else
		io_write(e, off, data, size);
}

/*
 * Writes that start work at once exit to vmm: a reset, EEPROM and PHY
 * accesses the driver polls, interrupt causes and IMC (masking must hold
 * before the guest's EOI lets the line be asserted again), enabling the
 * rings, and TDT (a frame to send). The rest KVM buffers (coalesced MMIO)
 * and vmm replays in order at the next exit, as PCI posts writes until a
 * read: ring bases, filters, timers, and also IMS and RDT, which a driver
 * follows with a read of STATUS (Linux's E1000_WRITE_FLUSH) or of ICR, so
 * unmasking and new receive buffers cost no exit of their own.
 * A driver that does not read back still has them within milliseconds
 * (platform/ioevent.h).
 */
static const uint32_t exiting_writes[] = {   /* in address order */
	REG_CTRL, REG_EECD, REG_EERD, REG_MDIC, REG_ICR, REG_ICS, REG_IMC,
	REG_RCTL, REG_TCTL, REG_RDH, REG_RDTR, REG_TDH, REG_TDT,
};

static void coalesce_bar(struct e1000 *e, uint64_t base, bool on)
{
	struct ioevents *io = e->ioevents;
	size_t n = sizeof(exiting_writes) / sizeof(exiting_writes[0]);
	uint64_t from = 0;

	if (!io || !io->ops->coalesce)
		return;
	for (size_t i = 0; i <= n; i++) {
		uint64_t to = i < n ? exiting_writes[i] : E1000_MMIO_SIZE;
		if (to > from)
			io->ops->coalesce(io->ctx, IOEVENT_MMIO, base + from, to - from, on);
		from = to + 4;
	}
}

static void bar_mapped(struct pci_function *f, int bar, uint64_t addr)
{
	struct e1000 *e = f->opaque;

	if (bar != 0)
		return;
	if (e->mmio_at)
		coalesce_bar(e, e->mmio_at, false);
	e->mmio_at = addr;
	if (addr)
		coalesce_bar(e, addr, true);
}

static void config_written(struct pci_function *f, unsigned offset, unsigned size)
{
	struct e1000 *e = f->opaque;

	if (offset > PCI_COMMAND + 1 || offset + size <= PCI_COMMAND)
		return;
	pthread_mutex_lock(&e->lock);
	rx_update(e);
	update_irq(e);
	pthread_mutex_unlock(&e->lock);
}

static const struct pci_function_ops e1000_pci_ops = {
	.bar_read = bar_read,
	.bar_write = bar_write,
	.config_written = config_written,
	.bar_mapped = bar_mapped,
};

/* ---- Set-up ---- */

static int watch(struct e1000 *e, int fd, event_fn *fn)
{
	struct event_watch *w = event_watch(e->loop, fd, fn, e);
	return w ? event_watch_enable(e->loop, w, true) : -1;
}

/* Timers, the transmit doorbell and INTA# on eventfds, where there is a loop to serve them. */
static int open_events(struct e1000 *e)
{
	e->irq_fd = e->resample_fd = e->timer_fd = e->tx_fd = -1;
	if (!e->loop)
		return 0;
	e->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	e->tx_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e->timer_fd < 0 || e->tx_fd < 0 || watch(e, e->timer_fd, timer_fired) < 0 ||
	    watch(e, e->tx_fd, tx_kicked) < 0)
		return -1;
	if (!e->irq->ops->intx_irqfd)
		return 0;
	e->irq_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	e->resample_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e->irq_fd < 0 || e->resample_fd < 0 || watch(e, e->resample_fd, resampled) < 0)
		return -1;
	return 0;
}

static void close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

struct e1000 *e1000_create(const struct platform *p, const struct net_backend *be, const uint8_t mac[6])
{
	struct e1000 *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->mem = p->mem;
	e->irq = p->irq;
	e->ioevents = p->ioevents;
	e->loop = p->loop;
	e->be = *be;
	e->link_up = true;
	memcpy(e->mac, mac, ETH_ALEN);
	pthread_mutex_init(&e->lock, NULL);
	e->tx_copy = malloc(TX_COPY_MAX);
	if (!e->tx_copy || open_events(e) < 0) {
		e1000_destroy(e);
		return NULL;
	}
	pci_function_init(&e->pci, "e1000", E1000_VENDOR_ID, E1000_DEVICE_ID, PCI_CLASS_ETHERNET, 3);
	pci_set_cfg16(&e->pci, PCI_SUBSYSTEM_VENDOR_ID, PCI_SUBSYS_VENDOR);
	pci_set_cfg16(&e->pci, PCI_SUBSYSTEM_ID, PCI_SUBSYS_ID);
	pci_add_bar(&e->pci, 0, E1000_MMIO_SIZE, 0);
	pci_add_bar(&e->pci, 1, E1000_IO_SIZE, PCI_BAR_IO);
	e->pci.ops = &e1000_pci_ops;
	e->pci.opaque = e;
	eeprom_init(e);
	if (e->be.ops->set_guest_offloads)
		e->be.ops->set_guest_offloads(e->be.ctx, 0);   /* the guest takes only whole frames */
	reset(e);
	return e;
}

int e1000_attach(struct e1000 *e, struct pci_host *h)
{
	if (pci_host_add(h, &e->pci) < 0)
		return -1;
	if (e->irq_fd >= 0 && e->irq->ops->intx_irqfd(e->irq->ctx, e->pci.intx.gsi, e->irq_fd, e->resample_fd, true) < 0) {
		close_fd(e->irq_fd);
		e->irq_fd = -1;
	}
	return 0;
}

void e1000_destroy(struct e1000 *e)
{
	if (!e)
		return;
	if (e->irq_fd >= 0 && e->pci.host)
		e->irq->ops->intx_irqfd(e->irq->ctx, e->pci.intx.gsi, e->irq_fd, e->resample_fd, false);
	close_fd(e->irq_fd);
	close_fd(e->resample_fd);
	close_fd(e->timer_fd);
	close_fd(e->tx_fd);
	pthread_mutex_destroy(&e->lock);
	free(e->tx_copy);
	free(e);
}

struct pci_function *e1000_pci_function(struct e1000 *e)
{
	return &e->pci;
}

void e1000_set_link(struct e1000 *e, bool up)
{
	pthread_mutex_lock(&e->lock);
	if (e->link_up != up) {
		e->link_up = up;
		link_update(e);
		raise_cause(e, ICR_LSC);
		rx_update(e);
	}
	pthread_mutex_unlock(&e->lock);
}

struct e1000_stats e1000_stats(struct e1000 *e)
{
	pthread_mutex_lock(&e->lock);
	struct e1000_stats s = e->stats;
	pthread_mutex_unlock(&e->lock);
	return s;
}
