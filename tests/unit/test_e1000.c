/*
 * The e1000 (82540EM) as its driver sees it: registers through the PCI
 * BARs on the buses, rings and buffers in fake guest RAM, INTA# on an
 * interrupt recorder, and a backend that records what it is sent and
 * replays frames to receive. Without an event loop everything runs on the
 * calling thread, so each test sees the device's work as soon as it asks.
 * Register and bit numbers are the 8254x SDM's, written out here rather
 * than taken from the device, so a wrong one in either place shows.
 */
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>

#include "e1000.h"
#include "fake_guest.h"
#include "suites.h"

/* Registers (13.4). */
#define CTRL 0x0000
#define STATUS 0x0008
#define EECD 0x0010
#define EERD 0x0014
#define MDIC 0x0020
#define ICR 0x00c0
#define ICS 0x00c8
#define IMS 0x00d0
#define IMC 0x00d8
#define RCTL 0x0100
#define TCTL 0x0400
#define RDBAL 0x2800
#define RDBAH 0x2804
#define RDLEN 0x2808
#define RDH 0x2810
#define RDT 0x2818
#define RDTR 0x2820
#define TDBAL 0x3800
#define TDBAH 0x3804
#define TDLEN 0x3808
#define TDH 0x3810
#define TDT 0x3818
#define MTA 0x5200
#define RAL0 0x5400
#define RAH0 0x5404

#define CTRL_RST (1u << 26)
#define CTRL_VME (1u << 30)
#define STATUS_LU (1u << 1)
#define EECD_SK (1u << 0)
#define EECD_CS (1u << 1)
#define EECD_DI (1u << 2)
#define EECD_DO (1u << 3)
#define EECD_REQ (1u << 6)
#define EECD_GNT (1u << 7)
#define EERD_START (1u << 0)
#define EERD_DONE (1u << 4)
#define MDIC_OP_WRITE (1u << 26)
#define MDIC_OP_READ (2u << 26)
#define MDIC_READY (1u << 28)
#define MDIC_ERROR (1u << 30)
#define ICR_TXDW (1u << 0)
#define ICR_TXQE (1u << 1)
#define ICR_LSC (1u << 2)
#define ICR_RXDMT0 (1u << 4)
#define ICR_RXT0 (1u << 7)
#define RCTL_EN (1u << 1)
#define RCTL_UPE (1u << 3)
#define RCTL_MPE (1u << 4)
#define RCTL_LPE (1u << 5)
#define RCTL_BAM (1u << 15)
#define RCTL_SZ_4096 (3u << 16)     /* with BSEX */
#define RCTL_BSEX (1u << 25)
#define TCTL_EN (1u << 1)
#define RAH_AV (1u << 31)

/* PHY registers and bits (M88E1011). */
#define PHY_ADDR 1
#define MII_BMCR 0
#define MII_BMSR 1
#define MII_PHYID1 2
#define MII_PHYID2 3
#define MII_ANAR 4
#define BMCR_ANENABLE 0x1000
#define BMCR_ANRESTART 0x0200
#define BMSR_LSTATUS 0x0004
#define BMSR_ANEGCOMPLETE 0x0020

/* Descriptors (3.2.3, 3.3.3, 3.3.7). */
#define RXD_DD 0x01
#define RXD_EOP 0x02
#define RXD_VP 0x08
#define TXD_EOP 0x01
#define TXD_TSE 0x04
#define TXD_RS 0x08
#define TXD_DEXT 0x20
#define TXD_VLE 0x40
#define TXD_DD 0x01
#define TUCMD_TCP 0x01
#define TUCMD_IP 0x02
#define DTYP_DATA (1u << 20)
#define POPTS_IXSM 0x01
#define POPTS_TXSM 0x02

#define RING 16
#define TX_RING_GPA 0x10000
#define RX_RING_GPA 0x11000
#define TX_BUF_GPA 0x20000
#define RX_BUF_GPA 0x100000
#define RX_BUF_STRIDE 0x4000         /* room past each buffer to see overruns in */
#define MAX_SENT 8
#define MAX_FRAMES 16
#define FRAME_BYTES (NET_FRAME_HEADER_BYTES + 8192)

/* Frames: Ethernet, IPv4, TCP or UDP. */
#define ETH_LEN 14
#define IP_LEN 20
#define TCP_LEN 20
#define UDP_LEN 8
#define L4_OFF (ETH_LEN + IP_LEN)
#define PROTO_TCP 6
#define PROTO_UDP 17
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define SEQ0 0xffffff9cu           /* high bit set, and wraps past 2^32 within a TSO send */
#define IP_ID0 0x1234

struct fake_backend {
	uint8_t sent[MAX_SENT][4096];
	size_t sent_len[MAX_SENT];
	unsigned nsent;
	uint8_t frames[MAX_FRAMES][FRAME_BYTES];
	size_t frame_len[MAX_FRAMES];
	unsigned nframes, next_frame;
	bool receiving;
};

static struct bus pio, mmio;
static struct pci_host host;
static struct irq_recorder irqs;
static struct doorbell_recorder doorbells;
static struct fake_guest g;
static struct fake_backend fb;
static struct e1000 *nic;
static struct pci_function *fn;
static uint64_t bar0, bar1;
static unsigned tx_tail;
static uint64_t tx_buf_next;
static const uint8_t our_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t peer_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* ---- The backend ---- */

static int fb_send(void *ctx, const struct iovec *iov, unsigned n)
{
	struct fake_backend *b = ctx;
	size_t at = 0;

	if (b->nsent == MAX_SENT)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		ck_assert_uint_le(at + iov[i].iov_len, sizeof(b->sent[0]));
		memcpy(b->sent[b->nsent] + at, iov[i].iov_base, iov[i].iov_len);
		at += iov[i].iov_len;
	}
	b->sent_len[b->nsent++] = at;
	return 0;
}

static ssize_t fb_receive(void *ctx, const struct iovec *iov, unsigned n)
{
	struct fake_backend *b = ctx;

	if (b->next_frame == b->nframes)
		return 0;
	const uint8_t *f = b->frames[b->next_frame];
	size_t len = b->frame_len[b->next_frame++], at = 0;
	for (unsigned i = 0; i < n && at < len; i++) {
		size_t k = iov[i].iov_len < len - at ? iov[i].iov_len : len - at;
		memcpy(iov[i].iov_base, f + at, k);
		at += k;
	}
	return (ssize_t)at;
}

static void fb_set_receiving(void *ctx, bool on)
{
	((struct fake_backend *)ctx)->receiving = on;
}

static int fb_set_guest_offloads(void *ctx, unsigned offloads)
{
	(void)ctx;
	(void)offloads;
	return 0;
}

static const struct net_backend_ops fb_ops = { fb_send, fb_receive, fb_set_receiving, fb_set_guest_offloads, NULL };

/* ---- The machine ---- */

static void wr(uint32_t off, uint32_t v)
{
	bus_write(&mmio, bar0 + off, (uint8_t *)&v, 4);
}

static uint32_t rd(uint32_t off)
{
	uint32_t v;
	bus_read(&mmio, bar0 + off, (uint8_t *)&v, 4);
	return v;
}

static void io_wr(uint32_t off, uint32_t v)
{
	bus_write(&pio, bar1 + off, (uint8_t *)&v, 4);
}

static uint32_t io_rd(uint32_t off)
{
	uint32_t v;
	bus_read(&pio, bar1 + off, (uint8_t *)&v, 4);
	return v;
}

static void command(uint16_t v)
{
	pci_config_write(fn, PCI_COMMAND, (uint8_t *)&v, 2);
}

static uint64_t bar_address(int bar, uint32_t flag_bits)
{
	uint32_t v;
	pci_config_read(fn, PCI_BAR0 + 4 * (unsigned)bar, (uint8_t *)&v, 4);
	return v & ~flag_bits;
}

static bool inta(void)
{
	return irqs.level[fn->intx.gsi];
}

static void start(unsigned tx_offloads, struct event_loop *loop)
{
	memset(&fb, 0, sizeof(fb));
	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	irq_recorder_init(&irqs);
	doorbell_recorder_init(&doorbells);
	fake_guest_init(&g, RING);
	ck_assert_int_eq(pci_host_init(&host, PCI_HOST_Q35, &pio, &mmio, &irqs.ctl), 0);
	struct platform p = { &g.mem, &pio, &mmio, &irqs.ctl, NULL, loop };
	struct net_backend be = { &fb_ops, &fb, tx_offloads, 0 };
	nic = e1000_create(&p, &be, our_mac);
	ck_assert_ptr_nonnull(nic);
	ck_assert_int_eq(e1000_attach(nic, &host), 0);
	fn = e1000_pci_function(nic);
	command(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	bar0 = bar_address(0, 0xf);
	bar1 = bar_address(1, 0x3);
	tx_tail = 0;
	tx_buf_next = TX_BUF_GPA;
}

static void setup(void)
{
	start(0, NULL);
}

static void teardown(void)
{
	e1000_destroy(nic);
	bus_destroy(&pio);
	bus_destroy(&mmio);
	fake_guest_free(&g);
}

/* The same machine on a backend that takes other offloads (doorbells.loop: with the recorded loop). */
static void restart(unsigned tx_offloads, struct event_loop *loop)
{
	teardown();
	start(tx_offloads, loop);
}

/* ---- Byte order helpers ---- */

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)be16(p) << 16 | be16(p + 2);
}

/* ---- Checksums, computed independently of devices/net_checksum.c ---- */

static uint32_t ref_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i < len; i++)
		sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return sum;
}

static uint16_t ref_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The IPv4 pseudo-header (RFC 793, 768) of the packet at ip for an L4 length. */
static uint32_t pseudo_sum(const uint8_t *ip, uint32_t l4_len)
{
	return ref_sum(ip + 12, 8, 0) + ip[9] + l4_len;
}

/* A correct checksum makes the sum over everything it covers all ones. */
static bool ip_checksum_ok(const uint8_t *ip)
{
	return ref_fold(ref_sum(ip, IP_LEN, 0)) == 0xffff;
}

static bool l4_checksum_ok(const uint8_t *ip, size_t l4_len)
{
	return ref_fold(pseudo_sum(ip, (uint32_t)l4_len) + ref_sum(ip + IP_LEN, l4_len, 0)) == 0xffff;
}

/* Ethernet to peer_mac, IPv4, then a TCP or UDP header and payload bytes; returns the frame's length. */
static size_t build_ipv4(uint8_t *f, uint8_t proto, size_t payload)
{
	size_t l4 = proto == PROTO_TCP ? TCP_LEN : UDP_LEN;
	uint8_t *ip = f + ETH_LEN, *th = ip + IP_LEN;

	memset(f, 0, L4_OFF + l4);
	memcpy(f, peer_mac, 6);
	memcpy(f + 6, our_mac, 6);
	put_be16(f + 12, 0x0800);
	ip[0] = 0x45;
	put_be16(ip + 2, (uint16_t)(IP_LEN + l4 + payload));
	put_be16(ip + 4, IP_ID0);
	put_be16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, (const uint8_t[]){ 10, 0, 2, 15, 10, 0, 2, 2 }, 8);
	put_be16(th, 40000);
	put_be16(th + 2, 80);
	if (proto == PROTO_TCP) {
		for (int i = 0; i < 4; i++)
			th[4 + i] = (uint8_t)(SEQ0 >> (24 - 8 * i));
		th[12] = 5 << 4;
		th[13] = TCP_FIN | TCP_PSH | TCP_ACK;
		put_be16(th + 14, 0xffff);
	} else {
		put_be16(th + 4, (uint16_t)(l4 + payload));
	}
	for (size_t i = 0; i < payload; i++)
		th[l4 + i] = (uint8_t)(i * 7 + 1);
	return L4_OFF + l4 + payload;
}

/* ---- Transmit ring ---- */

static uint8_t *tx_desc(unsigned i)
{
	return fake_ptr(&g, TX_RING_GPA + 16u * i);
}

static void tx_ring_up(void)
{
	memset(tx_desc(0), 0, 16 * RING);
	wr(TDBAL, TX_RING_GPA);
	wr(TDBAH, 0);
	wr(TDLEN, 16 * RING);
	wr(TDH, 0);
	wr(TDT, 0);
	wr(TCTL, TCTL_EN);
}

/* Copies data to a fresh transmit buffer, with a gap after it; returns its address. */
static uint64_t tx_buffer(const void *data, size_t len)
{
	uint64_t gpa = tx_buf_next;
	memcpy(fake_ptr(&g, gpa), data, len);
	tx_buf_next += (len + 0x1ff) & ~0xffu;
	return gpa;
}

/* The next descriptor: buffer address or context fields, the word at 8, then bytes 13 and 14-15. */
static uint8_t *tx_put(uint64_t addr, uint32_t word2, uint8_t byte13, uint16_t special)
{
	uint8_t *d = tx_desc(tx_tail);

	put_le32(d, (uint32_t)addr);
	put_le32(d + 4, (uint32_t)(addr >> 32));
	put_le32(d + 8, word2);
	d[12] = 0;
	d[13] = byte13;
	put_le16(d + 14, special);
	tx_tail = (tx_tail + 1) % RING;
	return d;
}

static uint8_t *tx_legacy(uint64_t addr, uint16_t len, uint8_t cmd, uint16_t special)
{
	return tx_put(addr, len | (uint32_t)cmd << 24, 0, special);
}

static uint8_t *tx_data(uint64_t addr, uint32_t len, uint8_t dcmd, uint8_t popts)
{
	return tx_put(addr, len | DTYP_DATA | (uint32_t)(dcmd | TXD_DEXT) << 24, popts, 0);
}

struct tx_ctx {
	uint8_t ipcss, ipcso;
	uint16_t ipcse;
	uint8_t tucss, tucso;
	uint16_t tucse;
	uint32_t paylen;
	uint8_t tucmd, hdr_len;
	uint16_t mss;
};

static void tx_context(const struct tx_ctx *c)
{
	uint64_t lower = c->ipcss | (uint32_t)c->ipcso << 8 | (uint32_t)c->ipcse << 16 |
			 (uint64_t)(c->tucss | (uint32_t)c->tucso << 8 | (uint32_t)c->tucse << 16) << 32;
	tx_put(lower, c->paylen | (uint32_t)(c->tucmd | TXD_DEXT) << 24, c->hdr_len, c->mss);
}

static void tx_kick(void)
{
	wr(TDT, tx_tail);
}

/* One frame in one legacy descriptor, with RS. */
static void tx_frame(const void *f, size_t len)
{
	tx_legacy(tx_buffer(f, len), (uint16_t)len, TXD_EOP | TXD_RS, 0);
	tx_kick();
}

static const struct net_frame_header *sent_header(unsigned i)
{
	return (const struct net_frame_header *)fb.sent[i];
}

static const uint8_t *sent_frame(unsigned i)
{
	return fb.sent[i] + NET_FRAME_HEADER_BYTES;
}

static size_t sent_frame_len(unsigned i)
{
	return fb.sent_len[i] - NET_FRAME_HEADER_BYTES;
}

/* ---- Receive ring ---- */

static uint8_t *rx_desc(unsigned i)
{
	return fake_ptr(&g, RX_RING_GPA + 16u * i);
}

static uint8_t *rx_buf(unsigned i)
{
	return fake_ptr(&g, RX_BUF_GPA + (uint64_t)i * RX_BUF_STRIDE);
}

static uint16_t rx_len(unsigned i)
{
	return le16(rx_desc(i) + 8);
}

static uint8_t rx_status(unsigned i)
{
	return rx_desc(i)[12];
}

/* The ring with posted descriptors handed to the device, then RCTL as given plus EN. */
static void rx_ring_up(unsigned posted, uint32_t rctl)
{
	for (unsigned i = 0; i < RING; i++) {
		uint8_t *d = rx_desc(i);
		memset(d, 0, 16);
		put_le32(d, (uint32_t)(RX_BUF_GPA + (uint64_t)i * RX_BUF_STRIDE));
	}
	wr(RDBAL, RX_RING_GPA);
	wr(RDBAH, 0);
	wr(RDLEN, 16 * RING);
	wr(RDH, 0);
	wr(RDT, posted);
	wr(RCTL, rctl | RCTL_EN);
}

/* A frame for the backend to deliver (after a zero header): dst, peer_mac, IPv4, pattern bytes. */
static uint8_t *queue_frame(const uint8_t dst[6], size_t len)
{
	uint8_t *f = fb.frames[fb.nframes] + NET_FRAME_HEADER_BYTES;

	ck_assert_uint_lt(fb.nframes, MAX_FRAMES);
	memset(fb.frames[fb.nframes], 0, NET_FRAME_HEADER_BYTES);
	memcpy(f, dst, 6);
	memcpy(f + 6, peer_mac, 6);
	put_be16(f + 12, 0x0800);
	for (size_t i = ETH_LEN; i < len; i++)
		f[i] = (uint8_t)(i * 3 + fb.nframes);
	fb.frame_len[fb.nframes++] = NET_FRAME_HEADER_BYTES + len;
	return f;
}

/* Whether a 100-byte frame to dst reaches the ring. */
static bool delivered(const uint8_t dst[6])
{
	uint32_t head = rd(RDH);
	queue_frame(dst, 100);
	e1000_receive(nic);
	return rd(RDH) != head && (rx_status(head) & RXD_DD);
}

/* ---- EEPROM (5.5, 13.4.3-4) ---- */

static uint16_t eerd_read(unsigned addr)
{
	wr(EERD, addr << 8 | EERD_START);
	uint32_t v = rd(EERD);
	ck_assert(v & EERD_DONE);
	return (uint16_t)(v >> 16);
}

/* Linux's e1000 on a microwire EEPROM (e1000_hw.c): it keeps the EECD value it last wrote. */
static uint32_t eecd;

static void ee_write(uint32_t v)
{
	eecd = v;
	wr(EECD, v);
}

static void ee_shift_out(uint16_t data, unsigned bits)
{
	for (uint16_t mask = (uint16_t)(1u << (bits - 1)); mask; mask >>= 1) {
		ee_write((eecd & ~EECD_DI) | ((data & mask) ? EECD_DI : 0));
		ee_write(eecd | EECD_SK);
		ee_write(eecd & ~EECD_SK);
	}
	ee_write(eecd & ~EECD_DI);
}

static uint16_t ee_shift_in(void)
{
	uint16_t data = 0;

	for (int i = 0; i < 16; i++) {
		ee_write(eecd | EECD_SK);
		data = (uint16_t)(data << 1 | ((rd(EECD) & EECD_DO) ? 1 : 0));
		ee_write(eecd & ~EECD_SK);
	}
	return data;
}

/* e1000_standby_eeprom: deselect, clock high, select, clock low, between words. */
static void ee_standby(void)
{
	ee_write(eecd & ~(EECD_CS | EECD_SK));
	ee_write(eecd | EECD_SK);
	ee_write(eecd | EECD_CS);
	ee_write(eecd & ~EECD_SK);
}

/* Acquire (REQ, wait for GNT), select, READ (110b) and 6 address bits per word, release. */
static void ee_read_words(uint16_t *words, unsigned n)
{
	ee_write(EECD_REQ);
	ck_assert(rd(EECD) & EECD_GNT);
	ee_write(eecd & ~(EECD_DI | EECD_SK));
	ee_write(eecd | EECD_CS);
	for (unsigned i = 0; i < n; i++) {
		ee_shift_out(0x6, 3);
		ee_shift_out((uint16_t)i, 6);
		words[i] = ee_shift_in();
		ee_standby();
	}
	ee_write(eecd & ~(EECD_CS | EECD_SK));
	ee_write(eecd & ~EECD_REQ);
}

static uint16_t sum_words(const uint16_t *w, unsigned n)
{
	uint16_t sum = 0;
	for (unsigned i = 0; i < n; i++)
		sum = (uint16_t)(sum + w[i]);
	return sum;
}

START_TEST(test_eerd_reads_mac_and_checksummed_words)
{
	uint16_t words[64];

	for (unsigned i = 0; i < 64; i++)
		words[i] = eerd_read(i);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_uint_eq(words[i], our_mac[2 * i] | our_mac[2 * i + 1] << 8);
	ck_assert_uint_eq(sum_words(words, 64), 0xbaba);
}
END_TEST

START_TEST(test_eecd_microwire_reads_as_linux_does)
{
	uint16_t words[64];

	ee_read_words(words, 64);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_uint_eq(words[i], our_mac[2 * i] | our_mac[2 * i + 1] << 8);
	ck_assert_uint_eq(sum_words(words, 64), 0xbaba);
	for (unsigned i = 0; i < 64; i++)
		ck_assert_msg(words[i] == eerd_read(i), "word %u: EECD %#x, EERD %#x", i, words[i], eerd_read(i));
}
END_TEST

/* ---- PHY through MDIC (13.4.8) ---- */

static uint32_t mdic(uint32_t op, unsigned phy, unsigned reg, uint16_t data)
{
	wr(MDIC, op | phy << 21 | reg << 16 | data);
	return rd(MDIC);
}

static uint16_t phy_read(unsigned reg)
{
	uint32_t v = mdic(MDIC_OP_READ, PHY_ADDR, reg, 0);
	ck_assert(v & MDIC_READY);
	ck_assert(!(v & MDIC_ERROR));
	return (uint16_t)v;
}

static void phy_write(unsigned reg, uint16_t data)
{
	uint32_t v = mdic(MDIC_OP_WRITE, PHY_ADDR, reg, data);
	ck_assert(v & MDIC_READY);
	ck_assert(!(v & MDIC_ERROR));
}

START_TEST(test_phy_id_is_m88e1011)
{
	ck_assert_uint_eq(phy_read(MII_PHYID1), 0x0141);
	ck_assert_uint_eq(phy_read(MII_PHYID2), 0x0c20);
}
END_TEST

START_TEST(test_phy_reports_link_and_autoneg_done)
{
	uint16_t bmsr = phy_read(MII_BMSR);
	ck_assert(bmsr & BMSR_LSTATUS);
	ck_assert(bmsr & BMSR_ANEGCOMPLETE);
}
END_TEST

START_TEST(test_phy_autoneg_restart_raises_lsc)
{
	rd(ICR);
	phy_write(MII_BMCR, BMCR_ANENABLE | BMCR_ANRESTART);
	ck_assert(rd(ICR) & ICR_LSC);
	ck_assert(!(phy_read(MII_BMCR) & BMCR_ANRESTART));   /* self-clearing */
}
END_TEST

START_TEST(test_phy_wrong_address_sets_error)
{
	uint32_t v = mdic(MDIC_OP_READ, 2, MII_PHYID1, 0);
	ck_assert(v & MDIC_ERROR);
	ck_assert(v & MDIC_READY);
	v = mdic(MDIC_OP_WRITE, 0, MII_ANAR, 0);
	ck_assert(v & MDIC_ERROR);
	ck_assert(v & MDIC_READY);
}
END_TEST

START_TEST(test_phy_read_only_registers_keep_their_value)
{
	phy_write(MII_PHYID1, 0xffff);
	phy_write(MII_BMSR, 0);
	ck_assert_uint_eq(phy_read(MII_PHYID1), 0x0141);
	ck_assert(phy_read(MII_BMSR) & BMSR_LSTATUS);
	phy_write(MII_ANAR, 0x01e1);                 /* while a writable one takes the write */
	ck_assert_uint_eq(phy_read(MII_ANAR), 0x01e1);
}
END_TEST

/* ---- Interrupts (13.4.17-21) ---- */

START_TEST(test_ics_sets_causes_and_icr_read_clears)
{
	wr(ICS, ICR_LSC | ICR_RXT0);
	ck_assert_uint_eq(rd(ICR), ICR_LSC | ICR_RXT0);
	ck_assert_uint_eq(rd(ICR), 0);
}
END_TEST

START_TEST(test_icr_write_clears_written_bits_only)
{
	wr(ICS, ICR_LSC | ICR_RXT0 | ICR_TXDW);
	wr(ICR, ICR_RXT0);
	ck_assert_uint_eq(rd(ICR), ICR_LSC | ICR_TXDW);
}
END_TEST

START_TEST(test_ims_sets_and_imc_clears_the_mask)
{
	wr(IMS, ICR_LSC | ICR_RXT0);
	wr(IMS, ICR_TXDW);
	ck_assert_uint_eq(rd(IMS), ICR_LSC | ICR_RXT0 | ICR_TXDW);
	wr(IMC, ICR_RXT0);
	ck_assert_uint_eq(rd(IMS), ICR_LSC | ICR_TXDW);
}
END_TEST

START_TEST(test_inta_follows_icr_and_ims)
{
	wr(ICS, ICR_RXT0);
	ck_assert(!inta());                   /* masked */
	wr(IMS, ICR_RXT0);
	ck_assert(inta());
	wr(IMC, ICR_RXT0);
	ck_assert(!inta());
	wr(IMS, ICR_RXT0);
	ck_assert(inta());
	rd(ICR);
	ck_assert(!inta());                   /* the read cleared the cause */
	wr(ICS, ICR_LSC);
	ck_assert(!inta());                   /* a cause not in IMS */
	ck_assert_uint_eq(e1000_stats(nic).interrupts, 2);
}
END_TEST

START_TEST(test_intx_disable_keeps_inta_low)
{
	command(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_IO | PCI_COMMAND_INTX_DISABLE);
	wr(IMS, ICR_LSC);
	wr(ICS, ICR_LSC);
	ck_assert(!inta());
	command(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_IO);
	ck_assert(inta());                    /* the cause was kept */
}
END_TEST

/* ---- Reset (13.4.1) ---- */

START_TEST(test_ctrl_rst_restores_defaults)
{
	rx_ring_up(4, RCTL_BAM);
	ck_assert(fb.receiving);
	wr(IMS, 0xff);
	wr(RAL0, 0x11111111);
	wr(RAH0, 0);
	wr(CTRL, rd(CTRL) | CTRL_RST);
	ck_assert_uint_eq(rd(RAL0), (uint32_t)(our_mac[0] | our_mac[1] << 8 | our_mac[2] << 16) |
					(uint32_t)our_mac[3] << 24);
	ck_assert_uint_eq(rd(RAH0), (our_mac[4] | our_mac[5] << 8) | RAH_AV);
	ck_assert_uint_eq(rd(IMS), 0);
	ck_assert_uint_eq(rd(RCTL), 0);
	ck_assert(!(rd(CTRL) & CTRL_RST));    /* self-clearing */
	ck_assert(!fb.receiving);
}
END_TEST

/* ---- Link ---- */

START_TEST(test_link_down_clears_lu_and_raises_lsc)
{
	rx_ring_up(4, 0);
	ck_assert(rd(STATUS) & STATUS_LU);
	rd(ICR);
	e1000_set_link(nic, false);
	ck_assert(!(rd(STATUS) & STATUS_LU));
	ck_assert(!(phy_read(MII_BMSR) & BMSR_LSTATUS));
	ck_assert(rd(ICR) & ICR_LSC);
	ck_assert(!fb.receiving);             /* no frames onto a dead link */
	e1000_set_link(nic, true);
	ck_assert(rd(STATUS) & STATUS_LU);
	ck_assert(fb.receiving);
}
END_TEST

/* ---- Transmit (3.3, 3.5) ---- */

START_TEST(test_tx_legacy_frame_reaches_backend)
{
	uint8_t frame[60];
	static const uint8_t zero_header[NET_FRAME_HEADER_BYTES];

	for (unsigned i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 5 + 3);
	tx_ring_up();
	rd(ICR);
	tx_legacy(tx_buffer(frame, 20), 20, 0, 0);            /* two buffers, apart in RAM */
	tx_legacy(tx_buffer(frame + 20, 40), 40, TXD_EOP | TXD_RS, 0);
	tx_kick();
	ck_assert_uint_eq(fb.nsent, 1);
	ck_assert_uint_eq(fb.sent_len[0], NET_FRAME_HEADER_BYTES + sizeof(frame));
	ck_assert_mem_eq(fb.sent[0], zero_header, NET_FRAME_HEADER_BYTES);
	ck_assert_mem_eq(sent_frame(0), frame, sizeof(frame));
	ck_assert_uint_eq(rd(TDH), 2);
	ck_assert_uint_eq(rd(ICR) & (ICR_TXDW | ICR_TXQE), ICR_TXDW | ICR_TXQE);
	ck_assert_uint_eq(e1000_stats(nic).tx_frames, 1);
}
END_TEST

START_TEST(test_tx_dd_written_back_only_with_rs)
{
	uint8_t frame[60] = { 0 };

	tx_ring_up();
	uint8_t *with_rs = tx_legacy(tx_buffer(frame, 60), 60, TXD_EOP | TXD_RS, 0);
	uint8_t *without = tx_legacy(tx_buffer(frame, 60), 60, TXD_EOP, 0);
	tx_kick();
	ck_assert_uint_eq(fb.nsent, 2);
	ck_assert(with_rs[12] & TXD_DD);
	ck_assert(!(without[12] & TXD_DD));
	ck_assert_uint_eq(rd(TDH), rd(TDT));
}
END_TEST

/* A checksum context as Linux's e1000_tx_csum writes it for CHECKSUM_PARTIAL, and one data descriptor. */
static void tx_checksummed(const uint8_t *frame, size_t len, uint8_t proto, uint8_t tucso)
{
	struct tx_ctx c = { .tucss = L4_OFF, .tucso = tucso, .tucmd = proto == PROTO_TCP ? TUCMD_TCP : 0 };

	tx_context(&c);
	tx_data(tx_buffer(frame, len), (uint32_t)len, TXD_EOP | TXD_RS, POPTS_TXSM);
	tx_kick();
}

/* The checksum field as the stack leaves it for the NIC: the pseudo-header's sum, not inverted. */
static size_t build_partial(uint8_t *f, uint8_t proto, size_t payload, unsigned csum_at)
{
	size_t len = build_ipv4(f, proto, payload);
	put_be16(f + csum_at, ref_fold(pseudo_sum(f + ETH_LEN, (uint32_t)(len - L4_OFF))));
	put_be16(f + ETH_LEN + 10, (uint16_t)~ref_fold(ref_sum(f + ETH_LEN, IP_LEN, 0)));
	return len;
}

START_TEST(test_tx_checksum_left_to_a_backend_that_offloads)
{
	uint8_t frame[200];
	size_t len = build_partial(frame, PROTO_TCP, 100, L4_OFF + 16);

	restart(NET_OFFLOAD_CSUM, NULL);
	tx_ring_up();
	tx_checksummed(frame, len, PROTO_TCP, L4_OFF + 16);
	ck_assert_uint_eq(fb.nsent, 1);
	const struct net_frame_header *h = sent_header(0);
	ck_assert_uint_eq(h->flags, NET_HDR_F_NEEDS_CSUM);
	ck_assert_uint_eq(h->gso_type, NET_HDR_GSO_NONE);
	ck_assert_uint_eq(h->csum_start, L4_OFF);
	ck_assert_uint_eq(h->csum_offset, 16);
	ck_assert_uint_eq(sent_frame_len(0), len);
	ck_assert_mem_eq(sent_frame(0), frame, len);      /* untouched: the backend finishes it */
}
END_TEST

/* Without a backend that offloads, the checksum at csum_at is computed; every other byte is as sent. */
static void check_computed_checksum(uint8_t proto, unsigned csum_at)
{
	uint8_t frame[200];
	size_t len = build_partial(frame, proto, 101, csum_at);   /* odd: the last byte pads */

	tx_ring_up();
	tx_checksummed(frame, len, proto, (uint8_t)csum_at);
	ck_assert_uint_eq(fb.nsent, 1);
	ck_assert_uint_eq(sent_header(0)->flags, 0);
	ck_assert_uint_eq(sent_frame_len(0), len);
	ck_assert(l4_checksum_ok(sent_frame(0) + ETH_LEN, len - L4_OFF));
	ck_assert_mem_eq(sent_frame(0), frame, csum_at);
	ck_assert_mem_eq(sent_frame(0) + csum_at + 2, frame + csum_at + 2, len - csum_at - 2);
}

START_TEST(test_tx_tcp_checksum_computed_without_offload)
{
	check_computed_checksum(PROTO_TCP, L4_OFF + 16);
}
END_TEST

START_TEST(test_tx_udp_checksum_computed_without_offload)
{
	check_computed_checksum(PROTO_UDP, L4_OFF + 6);
}
END_TEST

#define MSS 100
#define TSO_PAYLOAD (3 * MSS)
#define TSO_HDR (L4_OFF + TCP_LEN)

static uint8_t tso_frame[TSO_HDR + TSO_PAYLOAD];

/*
 * A TCP/IPv4 send as Linux's e1000_tso sets it up: total length and
 * header checksum zero, the TCP checksum the pseudo-header's sum without
 * a length; a TSE context; the headers in one buffer and the payload in
 * two, whose boundary falls inside the second segment.
 */
static void tx_tso(void)
{
	struct tx_ctx c = { .ipcss = ETH_LEN, .ipcso = ETH_LEN + 10, .ipcse = L4_OFF - 1, .tucss = L4_OFF,
			    .tucso = L4_OFF + 16, .paylen = TSO_PAYLOAD, .tucmd = TUCMD_TCP | TUCMD_IP | TXD_TSE,
			    .hdr_len = TSO_HDR, .mss = MSS };
	uint8_t *ip = tso_frame + ETH_LEN;

	build_ipv4(tso_frame, PROTO_TCP, TSO_PAYLOAD);
	put_be16(ip + 2, 0);
	put_be16(tso_frame + L4_OFF + 16, ref_fold(pseudo_sum(ip, 0)));
	tx_ring_up();
	tx_context(&c);
	tx_data(tx_buffer(tso_frame, TSO_HDR), TSO_HDR, TXD_TSE, POPTS_TXSM | POPTS_IXSM);
	tx_data(tx_buffer(tso_frame + TSO_HDR, 130), 130, TXD_TSE, POPTS_TXSM | POPTS_IXSM);
	tx_data(tx_buffer(tso_frame + TSO_HDR + 130, 170), 170, TXD_TSE | TXD_EOP | TXD_RS, POPTS_TXSM | POPTS_IXSM);
	tx_kick();
}

static void check_segment(unsigned i)
{
	const uint8_t *f = sent_frame(i), *ip = f + ETH_LEN, *th = f + L4_OFF;
	uint8_t flags = i == 2 ? TCP_FIN | TCP_PSH | TCP_ACK : TCP_ACK;

	ck_assert_uint_eq(sent_header(i)->gso_type, NET_HDR_GSO_NONE);
	ck_assert_uint_eq(sent_frame_len(i), TSO_HDR + MSS);
	ck_assert_mem_eq(f, tso_frame, ETH_LEN);
	ck_assert_uint_eq(be16(ip + 2), IP_LEN + TCP_LEN + MSS);
	ck_assert_uint_eq(be16(ip + 4), IP_ID0 + i);
	ck_assert(ip_checksum_ok(ip));
	ck_assert_uint_eq(be32(th + 4), SEQ0 + MSS * i);
	ck_assert_uint_eq(th[13], flags);
	ck_assert(l4_checksum_ok(ip, TCP_LEN + MSS));
	ck_assert_mem_eq(f + TSO_HDR, tso_frame + TSO_HDR + MSS * i, MSS);
}

START_TEST(test_tso_segmented_for_a_backend_without_tso)
{
	tx_tso();
	ck_assert_uint_eq(fb.nsent, 3);
	for (unsigned i = 0; i < 3; i++)
		check_segment(i);
	ck_assert_uint_eq(rd(TDH), 4);
	ck_assert_uint_eq(e1000_stats(nic).tx_frames, 3);
}
END_TEST

START_TEST(test_tso_handed_whole_to_a_backend_with_tso)
{
	restart(NET_OFFLOAD_TSO4 | NET_OFFLOAD_CSUM, NULL);
	tx_tso();
	ck_assert_uint_eq(fb.nsent, 1);
	const struct net_frame_header *h = sent_header(0);
	ck_assert_uint_eq(h->gso_type, NET_HDR_GSO_TCPV4);
	ck_assert_uint_eq(h->gso_size, MSS);
	ck_assert_uint_eq(h->hdr_len, TSO_HDR);
	ck_assert_uint_eq(h->flags, NET_HDR_F_NEEDS_CSUM);
	ck_assert_uint_eq(h->csum_start, L4_OFF);
	ck_assert_uint_eq(h->csum_offset, 16);
	ck_assert_uint_eq(sent_frame_len(0), sizeof(tso_frame));
	ck_assert_mem_eq(sent_frame(0) + TSO_HDR, tso_frame + TSO_HDR, TSO_PAYLOAD);
}
END_TEST

START_TEST(test_tx_vlan_tag_inserted_after_addresses)
{
	uint8_t frame[60];

	for (unsigned i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)i;
	wr(CTRL, rd(CTRL) | CTRL_VME);
	tx_ring_up();
	tx_legacy(tx_buffer(frame, sizeof(frame)), sizeof(frame), TXD_EOP | TXD_RS | TXD_VLE, 0x2123);
	tx_kick();
	ck_assert_uint_eq(fb.nsent, 1);
	ck_assert_uint_eq(sent_frame_len(0), sizeof(frame) + 4);
	ck_assert_mem_eq(sent_frame(0), frame, 12);
	ck_assert_mem_eq(sent_frame(0) + 12, ((const uint8_t[]){ 0x81, 0x00, 0x21, 0x23 }), 4);
	ck_assert_mem_eq(sent_frame(0) + 16, frame + 12, sizeof(frame) - 12);
}
END_TEST

START_TEST(test_tx_buffer_outside_ram_is_dropped)
{
	uint8_t frame[60] = { 0 };

	tx_ring_up();
	tx_legacy(FAKE_RAM_SIZE - 30, 60, TXD_EOP | TXD_RS, 0);   /* runs off the end of RAM */
	tx_kick();
	ck_assert_uint_eq(fb.nsent, 0);
	ck_assert_uint_eq(e1000_stats(nic).tx_errors, 1);
	ck_assert_uint_eq(rd(TDH), 1);
	tx_frame(frame, sizeof(frame));                           /* the ring goes on */
	ck_assert_uint_eq(fb.nsent, 1);
}
END_TEST

START_TEST(test_tx_ring_outside_ram_stops)
{
	tx_ring_up();
	wr(TDBAL, FAKE_RAM_SIZE);
	wr(TDT, 3);
	ck_assert_uint_eq(fb.nsent, 0);
	ck_assert_uint_eq(rd(TDH), 0);
	ck_assert_uint_ge(e1000_stats(nic).tx_errors, 1);
}
END_TEST

START_TEST(test_tx_tail_beyond_ring_is_ignored)
{
	uint8_t frame[60] = { 0 };

	tx_ring_up();
	tx_legacy(tx_buffer(frame, 60), 60, TXD_EOP | TXD_RS, 0);
	wr(TDT, RING + 1);
	ck_assert_uint_eq(fb.nsent, 0);
	ck_assert_uint_eq(rd(TDH), 0);
	tx_kick();
	ck_assert_uint_eq(fb.nsent, 1);
}
END_TEST

START_TEST(test_tx_without_ring_length_sends_nothing)
{
	uint8_t frame[60] = { 0 };

	tx_ring_up();
	wr(TDLEN, 0);
	tx_frame(frame, sizeof(frame));
	ck_assert_uint_eq(fb.nsent, 0);
	ck_assert_uint_eq(rd(TDH), 0);
}
END_TEST

/* ---- Receive (3.2) ---- */

START_TEST(test_rx_frame_written_with_fcs_and_status)
{
	rx_ring_up(RING - 1, 0);
	ck_assert(fb.receiving);
	rd(ICR);
	const uint8_t *f = queue_frame(our_mac, 100);
	e1000_receive(nic);
	ck_assert_uint_eq(rx_len(0), 104);
	ck_assert_uint_eq(rx_status(0) & (RXD_DD | RXD_EOP), RXD_DD | RXD_EOP);
	ck_assert_mem_eq(rx_buf(0), f, 100);
	ck_assert_uint_eq(rd(RDH), 1);
	ck_assert(rd(ICR) & ICR_RXT0);
	ck_assert_uint_eq(e1000_stats(nic).rx_frames, 1);
}
END_TEST

START_TEST(test_rx_short_frame_padded_to_minimum)
{
	static const uint8_t zeros[18];

	rx_ring_up(RING - 1, 0);
	memset(rx_buf(0), 0xee, 64);
	const uint8_t *f = queue_frame(our_mac, 42);
	e1000_receive(nic);
	ck_assert_uint_eq(rx_len(0), 60 + 4);
	ck_assert_mem_eq(rx_buf(0), f, 42);
	ck_assert_mem_eq(rx_buf(0) + 42, zeros, 18);
}
END_TEST

START_TEST(test_rx_broadcast_needs_bam)
{
	rx_ring_up(RING - 1, 0);
	ck_assert(!delivered(bcast));
	wr(RCTL, RCTL_EN | RCTL_BAM);
	ck_assert(delivered(bcast));
}
END_TEST

/* The multicast table's bit for dst with RCTL.MO = 0: address bits 47:36. */
static void mta_set(const uint8_t *dst)
{
	unsigned hash = (dst[4] >> 4 | dst[5] << 4) & 0xfff;
	wr(MTA + 4 * (hash >> 5), 1u << (hash & 31));
}

START_TEST(test_rx_multicast_by_table_hash)
{
	const uint8_t listed[6] = { 0x01, 0x00, 0x5e, 0x00, 0x12, 0x34 }, other[6] = { 0x01, 0x00, 0x5e, 0x00, 0x34, 0x12 };

	rx_ring_up(RING - 1, 0);
	ck_assert(!delivered(listed));
	mta_set(listed);
	ck_assert(delivered(listed));
	ck_assert(!delivered(other));
	ck_assert_uint_eq(e1000_stats(nic).rx_filtered, 2);
}
END_TEST

START_TEST(test_rx_multicast_promiscuous)
{
	const uint8_t group[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };

	rx_ring_up(RING - 1, 0);
	ck_assert(!delivered(group));
	wr(RCTL, RCTL_EN | RCTL_MPE);
	ck_assert(delivered(group));
}
END_TEST

START_TEST(test_rx_unicast_promiscuous)
{
	rx_ring_up(RING - 1, 0);
	ck_assert(!delivered(peer_mac));
	wr(RCTL, RCTL_EN | RCTL_UPE);
	ck_assert(delivered(peer_mac));
}
END_TEST

START_TEST(test_rx_other_unicast_filtered_without_interrupt)
{
	rx_ring_up(RING - 1, RCTL_BAM);
	wr(IMS, ICR_RXT0);
	ck_assert(!delivered(peer_mac));
	ck_assert_uint_eq(e1000_stats(nic).rx_filtered, 1);
	ck_assert_uint_eq(rd(RDH), 0);
	ck_assert(!inta());                   /* nothing was written back to signal */
	ck_assert_uint_eq(rd(ICR), 0);
}
END_TEST

START_TEST(test_rx_full_ring_leaves_frames_in_backend)
{
	rx_ring_up(1, 0);
	ck_assert(fb.receiving);
	queue_frame(our_mac, 100);
	const uint8_t *second = queue_frame(our_mac, 200);
	e1000_receive(nic);
	ck_assert_uint_eq(rd(RDH), 1);
	ck_assert(!fb.receiving);             /* no descriptor for the second */
	ck_assert_uint_eq(fb.next_frame, 1);  /* which stays with the backend */
	wr(RDT, 2);
	ck_assert(fb.receiving);
	e1000_receive(nic);
	ck_assert_uint_eq(rx_len(1), 204);
	ck_assert_mem_eq(rx_buf(1), second, 200);
	ck_assert_uint_eq(rd(RDH), 2);
}
END_TEST

START_TEST(test_rx_needs_bus_master)
{
	rx_ring_up(RING - 1, 0);
	command(PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
	ck_assert(!fb.receiving);
	queue_frame(our_mac, 100);
	e1000_receive(nic);
	ck_assert_uint_eq(fb.next_frame, 0);
	ck_assert_uint_eq(rx_status(0), 0);
	command(PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER);
	ck_assert(fb.receiving);
}
END_TEST

START_TEST(test_rx_oversized_without_lpe_is_dropped)
{
	rx_ring_up(RING - 1, 0);
	queue_frame(our_mac, 2000);
	e1000_receive(nic);
	ck_assert_uint_eq(rd(RDH), 0);
	ck_assert_uint_eq(rx_status(0), 0);
	ck_assert_uint_eq(e1000_stats(nic).rx_oversized, 1);
	ck_assert(delivered(our_mac));        /* and the next frame is taken */
}
END_TEST

START_TEST(test_rx_long_frame_spans_descriptors_with_lpe)
{
	rx_ring_up(RING - 1, RCTL_LPE);
	const uint8_t *f = queue_frame(our_mac, 4000);
	e1000_receive(nic);
	ck_assert_uint_eq(rd(RDH), 2);
	ck_assert_uint_eq(rx_len(0), 2048);
	ck_assert_uint_eq(rx_status(0) & (RXD_DD | RXD_EOP), RXD_DD);
	ck_assert_uint_eq(rx_len(1), 4004 - 2048);
	ck_assert_uint_eq(rx_status(1) & (RXD_DD | RXD_EOP), RXD_DD | RXD_EOP);
	ck_assert_mem_eq(rx_buf(0), f, 2048);
	ck_assert_mem_eq(rx_buf(1), f + 2048, 4000 - 2048);
}
END_TEST

/* RCTL.BSEX multiplies BSIZE by 16: 11b is 4096 (Linux's jumbo buffers on x86, one page each). */
START_TEST(test_rx_extended_buffer_size_is_respected)
{
	uint8_t untouched[64];

	memset(untouched, 0xee, sizeof(untouched));
	rx_ring_up(RING - 1, RCTL_LPE | RCTL_BSEX | RCTL_SZ_4096);
	memset(rx_buf(0) + 4096, 0xee, 64);
	const uint8_t *f = queue_frame(our_mac, 6000);
	e1000_receive(nic);
	ck_assert_uint_eq(rx_len(0), 4096);
	ck_assert_uint_eq(rx_status(0) & RXD_EOP, 0);
	ck_assert_uint_eq(rx_len(1), 6004 - 4096);
	ck_assert_mem_eq(rx_buf(0) + 4096, untouched, sizeof(untouched));   /* nothing past the page */
	ck_assert_mem_eq(rx_buf(1), f + 4096, 6000 - 4096);
}
END_TEST

START_TEST(test_rx_vlan_tag_stripped_into_descriptor)
{
	rx_ring_up(RING - 1, 0);
	wr(CTRL, rd(CTRL) | CTRL_VME);
	uint8_t *f = queue_frame(our_mac, 100);
	uint8_t untagged[96];
	memcpy(untagged, f, 12);
	memcpy(untagged + 12, f + 16, sizeof(untagged) - 12);
	put_be16(f + 12, 0x8100);
	put_be16(f + 14, 0x6abc);
	e1000_receive(nic);
	ck_assert(rx_status(0) & RXD_VP);
	ck_assert_uint_eq(le16(rx_desc(0) + 14), 0x6abc);
	ck_assert_uint_eq(rx_len(0), 96 + 4);
	ck_assert_mem_eq(rx_buf(0), untagged, sizeof(untagged));
}
END_TEST

START_TEST(test_rx_rxdmt0_at_the_threshold)
{
	/* RDMTS 00b: half the ring, 8 of 16 descriptors left. */
	rx_ring_up(RING - 1, 0);
	for (int i = 0; i < 6; i++)
		queue_frame(our_mac, 100);
	e1000_receive(nic);
	ck_assert_uint_eq(rd(RDH), 6);        /* 9 left */
	ck_assert(!(rd(ICR) & ICR_RXDMT0));
	queue_frame(our_mac, 100);
	e1000_receive(nic);                   /* 8 left */
	ck_assert(rd(ICR) & ICR_RXDMT0);
}
END_TEST

START_TEST(test_rx_buffer_outside_ram_is_refused)
{
	rx_ring_up(RING - 1, 0);
	put_le32(rx_desc(0), FAKE_RAM_SIZE - 100);
	queue_frame(our_mac, 100);
	e1000_receive(nic);
	ck_assert_uint_eq(rd(RDH), 0);
	ck_assert_uint_eq(fb.next_frame, 0);
	ck_assert_uint_eq(e1000_stats(nic).rx_errors, 1);
	ck_assert(!fb.receiving);
}
END_TEST

/* ---- Receive interrupt delay (13.4.30), on the event loop's timerfd ---- */

static int timer_watch(void)
{
	for (unsigned i = 0; i < doorbells.watches; i++) {
		struct itimerspec its;
		if (timerfd_gettime(doorbells.fd[i], &its) == 0)
			return (int)i;
	}
	return -1;
}

static void run_watch(int i)
{
	doorbells.fn[i](doorbells.arg[i]);
}

START_TEST(test_rx_delay_timer_holds_rxt0_until_it_expires)
{
	restart(0, &doorbells.loop);
	int t = timer_watch();
	ck_assert_int_ge(t, 0);
	rx_ring_up(RING - 1, 0);
	wr(RDTR, 0xffff);                     /* 65535 x 1.024 us: 67 ms */
	wr(IMS, ICR_RXT0);
	queue_frame(our_mac, 100);
	e1000_receive(nic);
	ck_assert(rx_status(0) & RXD_DD);     /* the frame is there at once */
	struct itimerspec its;
	ck_assert_int_eq(timerfd_gettime(doorbells.fd[t], &its), 0);
	ck_assert(its.it_value.tv_sec || its.it_value.tv_nsec);   /* armed */
	run_watch(t);                         /* early: nothing yet */
	ck_assert(!inta());
	ck_assert_uint_eq(rd(ICR) & ICR_RXT0, 0);
	nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	run_watch(t);
	ck_assert(inta());
	ck_assert(rd(ICR) & ICR_RXT0);
}
END_TEST

/* ---- I/O window (13.2.1) ---- */

START_TEST(test_io_window_reads_registers)
{
	io_wr(0, STATUS);
	ck_assert_uint_eq(io_rd(0), STATUS);
	ck_assert_uint_eq(io_rd(4), rd(STATUS));
	ck_assert(io_rd(4) & STATUS_LU);
	io_wr(0, IMS);
	io_wr(4, ICR_LSC);
	ck_assert_uint_eq(rd(IMS), ICR_LSC);
}
END_TEST

START_TEST(test_io_window_resets)
{
	wr(IMS, ICR_LSC);
	wr(RAL0, 0);
	io_wr(0, CTRL);
	io_wr(4, io_rd(4) | CTRL_RST);
	ck_assert_uint_eq(rd(IMS), 0);
	ck_assert_uint_eq(rd(RAH0) & RAH_AV, RAH_AV);
	ck_assert_uint_ne(rd(RAL0), 0);
}
END_TEST

Suite *e1000_suite(void)
{
	Suite *s = suite_create("e1000");
	TCase *tc = tcase_create("e1000");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_eerd_reads_mac_and_checksummed_words);
	tcase_add_test(tc, test_eecd_microwire_reads_as_linux_does);
	tcase_add_test(tc, test_phy_id_is_m88e1011);
	tcase_add_test(tc, test_phy_reports_link_and_autoneg_done);
	tcase_add_test(tc, test_phy_autoneg_restart_raises_lsc);
	tcase_add_test(tc, test_phy_wrong_address_sets_error);
	tcase_add_test(tc, test_phy_read_only_registers_keep_their_value);
	tcase_add_test(tc, test_ics_sets_causes_and_icr_read_clears);
	tcase_add_test(tc, test_icr_write_clears_written_bits_only);
	tcase_add_test(tc, test_ims_sets_and_imc_clears_the_mask);
	tcase_add_test(tc, test_inta_follows_icr_and_ims);
	tcase_add_test(tc, test_intx_disable_keeps_inta_low);
	tcase_add_test(tc, test_ctrl_rst_restores_defaults);
	tcase_add_test(tc, test_link_down_clears_lu_and_raises_lsc);
	tcase_add_test(tc, test_tx_legacy_frame_reaches_backend);
	tcase_add_test(tc, test_tx_dd_written_back_only_with_rs);
	tcase_add_test(tc, test_tx_checksum_left_to_a_backend_that_offloads);
	tcase_add_test(tc, test_tx_tcp_checksum_computed_without_offload);
	tcase_add_test(tc, test_tx_udp_checksum_computed_without_offload);
	tcase_add_test(tc, test_tso_segmented_for_a_backend_without_tso);
	tcase_add_test(tc, test_tso_handed_whole_to_a_backend_with_tso);
	tcase_add_test(tc, test_tx_vlan_tag_inserted_after_addresses);
	tcase_add_test(tc, test_tx_buffer_outside_ram_is_dropped);
	tcase_add_test(tc, test_tx_ring_outside_ram_stops);
	tcase_add_test(tc, test_tx_tail_beyond_ring_is_ignored);
	tcase_add_test(tc, test_tx_without_ring_length_sends_nothing);
	tcase_add_test(tc, test_rx_frame_written_with_fcs_and_status);
	tcase_add_test(tc, test_rx_short_frame_padded_to_minimum);
	tcase_add_test(tc, test_rx_broadcast_needs_bam);
	tcase_add_test(tc, test_rx_multicast_by_table_hash);
	tcase_add_test(tc, test_rx_multicast_promiscuous);
	tcase_add_test(tc, test_rx_unicast_promiscuous);
	tcase_add_test(tc, test_rx_other_unicast_filtered_without_interrupt);
	tcase_add_test(tc, test_rx_full_ring_leaves_frames_in_backend);
	tcase_add_test(tc, test_rx_needs_bus_master);
	tcase_add_test(tc, test_rx_oversized_without_lpe_is_dropped);
	tcase_add_test(tc, test_rx_long_frame_spans_descriptors_with_lpe);
	tcase_add_test(tc, test_rx_extended_buffer_size_is_respected);
	tcase_add_test(tc, test_rx_vlan_tag_stripped_into_descriptor);
	tcase_add_test(tc, test_rx_rxdmt0_at_the_threshold);
	tcase_add_test(tc, test_rx_buffer_outside_ram_is_refused);
	tcase_add_test(tc, test_rx_delay_timer_holds_rxt0_until_it_expires);
	tcase_add_test(tc, test_io_window_reads_registers);
	tcase_add_test(tc, test_io_window_resets);
	suite_add_tcase(s, tc);
	return s;
}
