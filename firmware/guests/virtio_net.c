/*
 * Test guest for virtio-net: finds the NIC on PCI (or, with transport=mmio,
 * at virtio_mmio.device=) and answers on the network as a tiny host with
 * address ip=A.B.C.D (or ip=dhcp: one from a DHCP server): ARP requests,
 * ICMP echo (ping), and UDP echo on port 7.
 * With peer=IP peer_port=N count=N size=N it first sends count UDP datagrams
 * of a known pattern to the peer. Datagrams to the discard port 9 are
 * counted (the host-to-guest benchmark). A UDP datagram "quit" to port 7
 * ends it.
 * The network loop runs in ring 3 (shared/notes: ring 0 is slow on PVM) and
 * does no port I/O there: on a PVM host a guest's IOPL does not survive
 * every return to user mode, so ring-3 code must not rely on it for long.
 */
#include "virtio_driver.h"

#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_MRG_RXBUF 15
#define HDR 12
#define NBUF FW_QUEUE_SIZE
#define BUF_SIZE 2048
#define ETH_HLEN 14
#define ETH_ARP 0x0806
#define ETH_IP 0x0800
#define IP_ICMP 1
#define IP_UDP 17
#define ECHO_PORT 7
#define DHCP_CLIENT_PORT 68
#define DHCP_SERVER_PORT 67
#define DHCP_DISCOVER 1
#define DHCP_OFFER 2
#define DHCP_REQUEST 3
#define DHCP_ACK 5
#define DHCP_XID 0x564d4d31
#define DISCARD_PORT 9
#define PATTERN_PORT 4000   /* where our pattern datagrams come from, and echoes return to */
#define LOOP_CYCLES 120000000000ull
/* Unanswered ARP and DHCP requests go again after about a second, as any IP
 * stack's do (Linux's ARP every second): the host may drop the first frames
 * of a link that has just come up, such as a tap just added to a bridge. */
#define RESEND_CYCLES (LOOP_CYCLES / 64)

static struct fw_vring rxq __attribute__((aligned(4096)));
static struct fw_vring txq __attribute__((aligned(4096)));
static uint8_t rxbuf[NBUF][BUF_SIZE] __attribute__((aligned(64)));
static uint8_t txbuf[NBUF][BUF_SIZE] __attribute__((aligned(64)));
static uint16_t tx_free[NBUF];
static unsigned nr_tx_free;
static struct vdev dev;
static uint8_t my_mac[6], peer_mac[6];
static uint32_t my_ip, peer_ip;
static bool peer_known, quit, dhcp_bound;
static unsigned arp_requests, dhcp_discovers;
static uint32_t dhcp_server;
static unsigned long rx_frames, tx_frames, echoed, pings, discarded, pattern_good, pattern_bad;

static const char *failure;

/* Ring 3 records what went wrong and returns; ring 0 reports it. */
static void fail_at(const char *what)
{
	if (!failure)
		failure = what;
	quit = true;
}

static __attribute__((noreturn)) void fail(const char *what)
{
	printf("virtio-net test FAILED: %s\n", what);
	debug_exit(FW_EXIT_FAILURE);
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

static uint32_t parse_ip(const char *s)
{
	uint32_t ip = 0;
	for (int i = 0; i < 4; i++) {
		ip = ip << 8 | (uint32_t)strtoul(s, &s, 10);
		if (*s == '.')
			s++;
	}
	return ip;
}

/* The Internet checksum (RFC 1071). */
static uint16_t checksum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (; n > 1; n -= 2, p += 2)
		sum += be16(p);
	if (n)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void reclaim_tx(void)
{
	while (__atomic_load_n(&txq.used.idx, __ATOMIC_ACQUIRE) != txq.last_used)
		tx_free[nr_tx_free++] = (uint16_t)txq.used.ring[txq.last_used++ % NBUF].id;
}

/* A frame buffer to fill; its Ethernet header starts at the returned pointer. */
static uint8_t *tx_begin(uint16_t *slot)
{
	uint64_t deadline = rdtsc() + LOOP_CYCLES;

	for (reclaim_tx(); !nr_tx_free; reclaim_tx()) {
		if (rdtsc() > deadline) {
			fail_at("transmit queue stuck");
			return NULL;
		}
	}
	*slot = tx_free[--nr_tx_free];
	memset(txbuf[*slot], 0, HDR);
	return txbuf[*slot] + HDR;
}

static void tx_send(uint16_t slot, size_t frame_len)
{
	txq.desc[slot] = (struct virtq_desc){ (uintptr_t)txbuf[slot], (uint32_t)(HDR + frame_len), 0, 0 };
	virtio_publish(&dev, 1, &txq, &slot, 1);
	tx_frames++;
}

static void eth_header(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, my_mac, 6);
	put16(f + 12, type);
}

static void send_arp(uint16_t op, const uint8_t *tha, uint32_t tpa)
{
	static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint16_t slot;
	uint8_t *f = tx_begin(&slot);

	if (!f)
		return;
	uint8_t *a = f + ETH_HLEN;
	eth_header(f, op == 1 ? broadcast : tha, ETH_ARP);
	put16(a, 1);            /* Ethernet */
	put16(a + 2, ETH_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, my_mac, 6);
	put32(a + 14, my_ip);
	memcpy(a + 18, tha, 6);
	put32(a + 24, tpa);
	tx_send(slot, ETH_HLEN + 28);
}

/* Builds an IPv4 header for payload_len bytes of protocol proto to dst. */
static uint8_t *ip_begin(uint16_t *slot, const uint8_t *dst_mac, uint32_t dst, uint8_t proto, size_t payload_len)
{
	static uint16_t ident;
	uint8_t *f = tx_begin(slot);

	if (!f)
		return NULL;
	uint8_t *ip = f + ETH_HLEN;
	eth_header(f, dst_mac, ETH_IP);
	memset(ip, 0, 20);   /* the buffer held an earlier frame */
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + payload_len));
	put16(ip + 4, ident++);
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, my_ip);
	put32(ip + 16, dst);
	put16(ip + 10, checksum(ip, 20, 0));
	return ip + 20;
}

static void send_udp(const uint8_t *dst_mac, uint32_t dst, uint16_t sport, uint16_t dport,
		     const uint8_t *data, size_t len)
{
	uint16_t slot;
	uint8_t *u = ip_begin(&slot, dst_mac, dst, IP_UDP, 8 + len);

	if (!u)
		return;
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + len));
	put16(u + 6, 0);
	memcpy(u + 8, data, len);
	/* The checksum over the pseudo-header, so the host keeps every datagram. */
	uint8_t pseudo[12];
	put32(pseudo, my_ip);
	put32(pseudo + 4, dst);
	pseudo[8] = 0;
	pseudo[9] = IP_UDP;
	put16(pseudo + 10, (uint16_t)(8 + len));
	uint16_t c = checksum(u, 8 + len, (uint16_t)~checksum(pseudo, 12, 0));
	put16(u + 6, c ? c : 0xffff);
	tx_send(slot, ETH_HLEN + 20 + 8 + len);
}

static void handle_arp(const uint8_t *a, size_t len)
{
	if (len < 28 || be16(a + 2) != ETH_IP || be32(a + 24) != my_ip)
		return;
	if (be32(a + 14) == peer_ip) {
		memcpy(peer_mac, a + 8, 6);
		peer_known = true;
	}
	if (be16(a + 6) == 1)
		send_arp(2, a + 8, be32(a + 14));
}

static void handle_icmp(const uint8_t *src_mac, const uint8_t *ip, const uint8_t *icmp, size_t len)
{
	uint16_t slot;

	if (len < 8 || icmp[0] != 8)
		return;
	uint8_t *r = ip_begin(&slot, src_mac, be32(ip + 12), IP_ICMP, len);
	if (!r)
		return;
	memcpy(r, icmp, len);
	r[0] = 0;   /* echo reply */
	put16(r + 2, 0);
	put16(r + 2, checksum(r, len, 0));
	tx_send(slot, ETH_HLEN + 20 + len);
	pings++;
}

static const uint8_t broadcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* DHCP (RFC 2131) over BOOTP: the 236-byte header, the magic cookie, options. */
static void send_dhcp(uint8_t type, uint32_t requested)
{
	static uint8_t m[300];
	size_t n = 240;

	memset(m, 0, sizeof(m));
	m[0] = 1;                 /* BOOTREQUEST */
	m[1] = 1;                 /* Ethernet */
	m[2] = 6;
	put32(m + 4, DHCP_XID);
	put16(m + 10, 0x8000);    /* answer by broadcast: we have no address yet */
	memcpy(m + 28, my_mac, 6);
	put32(m + 236, 0x63825363);
	m[n++] = 53, m[n++] = 1, m[n++] = type;
	if (type == DHCP_REQUEST) {
		m[n++] = 50, m[n++] = 4, put32(m + n, requested), n += 4;
		m[n++] = 54, m[n++] = 4, put32(m + n, dhcp_server), n += 4;
	}
	m[n++] = 255;
	send_udp(broadcast_mac, 0xffffffff, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, m, n);
}

static void handle_dhcp(const uint8_t *m, size_t len)
{
	uint8_t type = 0;
	uint32_t server = 0;

	if (dhcp_bound || len < 240 || m[0] != 2 || be32(m + 4) != DHCP_XID || be32(m + 236) != 0x63825363)
		return;
	for (size_t i = 240; i + 1 < len && m[i] != 255; i += m[i] ? 2u + m[i + 1] : 1) {
		if (m[i] == 53 && i + 2 < len)
			type = m[i + 2];
		if (m[i] == 54 && i + 5 < len)
			server = be32(m + i + 2);
	}
	if (type == DHCP_OFFER) {
		dhcp_server = server;
		send_dhcp(DHCP_REQUEST, be32(m + 16));
	} else if (type == DHCP_ACK) {
		my_ip = be32(m + 16);
		dhcp_bound = true;
	}
}

static uint8_t pattern_byte(uint32_t seq, unsigned i)
{
	return (uint8_t)(seq * 7 + i);
}

/* A peer that echoes our pattern datagrams: check every byte that comes back. */
static void check_pattern_echo(const uint8_t *d, size_t n)
{
	if (n < 4) {
		pattern_bad++;
		return;
	}
	uint32_t seq = be32(d);
	for (unsigned i = 4; i < n; i++) {
		if (d[i] != pattern_byte(seq, i)) {
			pattern_bad++;
			return;
		}
	}
	pattern_good++;
}

static void handle_udp(const uint8_t *src_mac, const uint8_t *ip, const uint8_t *u, size_t len)
{
	if (len >= 8 && be16(u + 2) == PATTERN_PORT && be16(u + 4) >= 8 && be16(u + 4) <= len) {
		check_pattern_echo(u + 8, be16(u + 4) - 8u);
		return;
	}
	if (len >= 8 && be16(u + 2) == DHCP_CLIENT_PORT && be16(u + 4) <= len) {
		handle_dhcp(u + 8, be16(u + 4) - 8u);
		return;
	}
	if (len >= 8 && be16(u + 2) == DISCARD_PORT) {
		discarded++;
		return;
	}
	if (len < 8 || be16(u + 2) != ECHO_PORT || be16(u + 4) > len)
		return;
	size_t n = be16(u + 4) - 8u;
	if (n == 4 && !memcmp(u + 8, "quit", 4)) {
		quit = true;
		return;
	}
	send_udp(src_mac, be32(ip + 12), ECHO_PORT, be16(u), u + 8, n);
	echoed++;
}

static void handle_frame(const uint8_t *f, size_t len)
{
	rx_frames++;
	if (len < ETH_HLEN)
		return;
	if (be16(f + 12) == ETH_ARP) {
		handle_arp(f + ETH_HLEN, len - ETH_HLEN);
		return;
	}
	const uint8_t *ip = f + ETH_HLEN;
	if (be16(f + 12) != ETH_IP || len < ETH_HLEN + 20 || (ip[0] >> 4) != 4)
		return;
	/* Before DHCP finishes we have no address: take what comes. */
	if (my_ip && be32(ip + 16) != my_ip && be32(ip + 16) != 0xffffffff)
		return;
	size_t ihl = (ip[0] & 15) * 4u, total = be16(ip + 2);
	if (ihl < 20 || total < ihl || total > len - ETH_HLEN)
		return;
	if (ip[9] == IP_ICMP)
		handle_icmp(f + 6, ip, ip + ihl, total - ihl);
	else if (ip[9] == IP_UDP)
		handle_udp(f + 6, ip, ip + ihl, total - ihl);
}

/* Handles every frame received so far and gives the buffers back. */
static void poll_rx(void)
{
	uint16_t heads[NBUF];
	unsigned n = 0;

	while (__atomic_load_n(&rxq.used.idx, __ATOMIC_ACQUIRE) != rxq.last_used && n < NBUF) {
		unsigned slot = rxq.last_used++ % NBUF;
		uint16_t id = (uint16_t)rxq.used.ring[slot].id;
		uint32_t len = rxq.used.ring[slot].len;
		if (id >= NBUF || len < HDR) {
			fail_at("bad used entry on the receive queue");
			return;
		}
		handle_frame(rxbuf[id] + HDR, len - HDR);
		heads[n++] = id;
	}
	if (n)
		virtio_publish(&dev, 0, &rxq, heads, n);
}

/* Whether an unanswered request goes (again): at once, then every RESEND_CYCLES. */
static bool resend_due(uint64_t *at)
{
	if (rdtsc() <= *at)
		return false;
	*at = rdtsc() + RESEND_CYCLES;
	return true;
}

static void send_pattern(unsigned count, unsigned size, uint16_t port)
{
	static uint8_t data[1472];
	uint64_t deadline = rdtsc() + LOOP_CYCLES, resend = 0;

	while (!peer_known && !quit) {
		if (rdtsc() > deadline)
			fail_at("no ARP reply from the peer");
		if (resend_due(&resend)) {
			send_arp(1, (const uint8_t[6]){ 0 }, peer_ip);
			arp_requests++;
		}
		poll_rx();
	}
	for (unsigned seq = 0; seq < count && !quit; seq++) {
		put32(data, seq);
		for (unsigned i = 4; i < size; i++)
			data[i] = pattern_byte(seq, i);
		send_udp(peer_mac, peer_ip, PATTERN_PORT, port, data, size);
		poll_rx();
	}
}

static void run_dhcp(void)
{
	uint64_t deadline = rdtsc() + LOOP_CYCLES, resend = 0;

	while (!dhcp_bound && !quit) {
		if (rdtsc() > deadline)
			fail_at("no DHCP lease");
		if (resend_due(&resend)) {
			send_dhcp(DHCP_DISCOVER, 0);
			dhcp_discovers++;
		}
		poll_rx();
		reclaim_tx();
	}
}

static uint64_t network_loop(void *arg)
{
	uint64_t deadline = rdtsc() + LOOP_CYCLES;
	(void)arg;

	if (!my_ip)
		run_dhcp();
	if (peer_ip)
		send_pattern((unsigned)cmdline_get_ulong("count", 100), (unsigned)cmdline_get_ulong("size", 512),
			     (uint16_t)cmdline_get_ulong("peer_port", 5555));
	while (!quit) {
		if (rdtsc() > deadline)
			fail_at("no quit datagram within the time limit");
		poll_rx();
		reclaim_tx();
	}
	return 0;
}

void guest_main(void)
{
	const char *ip = cmdline_get("ip");
	if (!ip)
		fail("no ip= on the command line");
	my_ip = strcmp(ip, "dhcp") ? parse_ip(ip) : 0;
	const char *peer = cmdline_get("peer");
	peer_ip = peer ? parse_ip(peer) : 0;

	virtio_open_from_cmdline(&dev, 0x1041, "virtio-net");
	uint64_t want = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_MRG_RXBUF) |
			(1ull << VIRTIO_F_EVENT_IDX);
	uint64_t features = virtio_negotiate(&dev, want);
	if (!(features & (1ull << VIRTIO_F_VERSION_1)) || !(features & (1ull << VIRTIO_NET_F_MAC)))
		fail("feature negotiation");
	/* Kicks only when the device asks for them (EVENT_IDX); completions are polled. */
	rxq.event_idx = txq.event_idx = features & (1ull << VIRTIO_F_EVENT_IDX);
	if (virtio_queue_setup(&dev, 0, &rxq) < 0 || virtio_queue_setup(&dev, 1, &txq) < 0)
		fail("queue set-up");
	virtio_config_read(&dev, 0, my_mac, 6);
	virtio_driver_ok(&dev);
	uint16_t heads[NBUF];
	for (uint16_t i = 0; i < NBUF; i++) {
		rxq.desc[i] = (struct virtq_desc){ (uintptr_t)rxbuf[i], BUF_SIZE, VIRTQ_DESC_F_WRITE, 0 };
		heads[i] = i;
		tx_free[nr_tx_free++] = i;
	}
	virtio_publish(&dev, 0, &rxq, heads, NBUF);
	printf("mac %02x:%02x:%02x:%02x:%02x:%02x ip %u.%u.%u.%u\n", my_mac[0], my_mac[1], my_mac[2], my_mac[3],
	       my_mac[4], my_mac[5], my_ip >> 24, (my_ip >> 16) & 0xff, (my_ip >> 8) & 0xff, my_ip & 0xff);
	run_in_ring3(network_loop, NULL);
	if (arp_requests > 1 || dhcp_discovers > 1)
		printf("%u ARP requests, %u DHCP discovers sent\n", arp_requests, dhcp_discovers);
	if (failure)
		fail(failure);
	if (dhcp_bound)
		printf("dhcp lease %u.%u.%u.%u from %u.%u.%u.%u\n", my_ip >> 24, (my_ip >> 16) & 0xff,
		       (my_ip >> 8) & 0xff, my_ip & 0xff, dhcp_server >> 24, (dhcp_server >> 16) & 0xff,
		       (dhcp_server >> 8) & 0xff, dhcp_server & 0xff);
	if (pattern_good || pattern_bad)
		printf("pattern echoes: %lu good, %lu bad\n", pattern_good, pattern_bad);
	if (pattern_bad)
		fail("an echoed pattern datagram came back changed");
	printf("virtio-net test passed: %lu frames in, %lu out, %lu pings, %lu datagrams echoed, %lu discarded\n",
	       rx_frames, tx_frames, pings, echoed, discarded);
}
