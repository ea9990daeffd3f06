/* The 16550A, register by register: DLAB, FIFOs, interrupts, loopback, back-pressure. */
#include <string.h>

#include "serial.h"
#include "suites.h"

enum { DATA, IER, IIR, LCR, MCR, LSR, MSR, SCR };
#define FCR IIR

struct fake_irq {
	bool level;
	int raises;
};

static void fake_set_gsi(void *ctx, uint32_t gsi, bool level)
{
	struct fake_irq *f = ctx;
	ck_assert_uint_eq(gsi, 4);
	f->level = level;
	if (level)
		f->raises++;
}

static const struct irq_controller_ops fake_ops = { .set_gsi = fake_set_gsi };

struct fake_console {
	uint8_t out[64];
	size_t n;
	int rx_ready_calls;
};

static void fake_transmit(void *ctx, uint8_t byte)
{
	struct fake_console *c = ctx;
	if (c->n < sizeof(c->out))
		c->out[c->n++] = byte;
}

static void fake_rx_ready(void *ctx)
{
	struct fake_console *c = ctx;
	c->rx_ready_calls++;
}

static struct fake_irq irq;
static struct irq_controller ctl = { &fake_ops, &irq };
static struct fake_console con;
static struct serial *uart;

static void setup(void)
{
	memset(&irq, 0, sizeof(irq));
	memset(&con, 0, sizeof(con));
	uart = serial_create((struct irq_line){ &ctl, 4, false },
			     (struct serial_backend){ fake_transmit, fake_rx_ready, &con });
	ck_assert_ptr_nonnull(uart);
}

static void teardown(void)
{
	serial_destroy(uart);
}

static void wr(unsigned reg, uint8_t v)
{
	serial_ops.write(uart, reg, &v, 1);
}

static uint8_t rd(unsigned reg)
{
	uint8_t v;
	serial_ops.read(uart, reg, &v, 1);
	return v;
}

static void receive(const char *s)
{
	ck_assert_uint_eq(serial_receive(uart, (const uint8_t *)s, strlen(s)), strlen(s));
}

START_TEST(test_reset_state)
{
	ck_assert_uint_eq(rd(IER), 0);
	ck_assert_uint_eq(rd(IIR), 0x01);
	ck_assert_uint_eq(rd(LSR), 0x60);   /* THRE | TEMT */
	ck_assert_uint_eq(rd(MSR) & 0xf0, 0xb0);   /* DCD, DSR, CTS */
	ck_assert(!irq.level);
}
END_TEST

START_TEST(test_transmit)
{
	wr(DATA, 'h');
	wr(DATA, 'i');
	ck_assert_uint_eq(con.n, 2);
	ck_assert_mem_eq(con.out, "hi", 2);
	ck_assert_uint_eq(rd(LSR) & 0x60, 0x60);
}
END_TEST

START_TEST(test_divisor_latch)
{
	wr(LCR, 0x83);
	wr(DATA, 0x0c);
	wr(IER, 0x01);
	ck_assert_uint_eq(rd(DATA), 0x0c);
	ck_assert_uint_eq(rd(IER), 0x01);
	ck_assert_uint_eq(con.n, 0);   /* DLL writes do not transmit */
	wr(LCR, 0x03);
	ck_assert_uint_eq(rd(LCR), 0x03);
	ck_assert_uint_eq(rd(IER), 0x00);   /* IER untouched by the DLM write */
	wr(DATA, 'x');
	ck_assert_uint_eq(con.n, 1);
	wr(LCR, 0x83);
	ck_assert_uint_eq(rd(DATA), 0x0c);
}
END_TEST

START_TEST(test_scratch)
{
	wr(SCR, 0xa5);
	ck_assert_uint_eq(rd(SCR), 0xa5);
}
END_TEST

START_TEST(test_thre_interrupt)
{
	wr(IER, 0x02);
	ck_assert(irq.level);
	ck_assert_uint_eq(rd(IIR), 0x02);
	/* reading IIR while it shows THRE clears it */
	ck_assert(!irq.level);
	ck_assert_uint_eq(rd(IIR), 0x01);
	wr(DATA, 'a');
	ck_assert(irq.level);
	ck_assert_uint_eq(rd(IIR), 0x02);
	wr(DATA, 'b');
	wr(IER, 0x00);
	ck_assert(!irq.level);
}
END_TEST

START_TEST(test_receive_interrupt_16450_mode)
{
	wr(IER, 0x01);
	ck_assert(!irq.level);
	ck_assert_uint_eq(serial_receive(uart, (const uint8_t *)"ab", 2), 1);   /* FIFO off: one byte */
	ck_assert(irq.level);
	ck_assert_uint_eq(rd(IIR), 0x04);
	ck_assert_uint_eq(rd(LSR) & 0x01, 0x01);
	ck_assert_uint_eq(rd(DATA), 'a');
	ck_assert(!irq.level);
	ck_assert_uint_eq(con.rx_ready_calls, 1);
	ck_assert_uint_eq(rd(LSR) & 0x01, 0);
}
END_TEST

START_TEST(test_fifo_trigger_and_timeout)
{
	wr(FCR, 0x41);   /* FIFO on, trigger at 4 */
	ck_assert_uint_eq(rd(IIR) & 0xc0, 0xc0);
	wr(IER, 0x01);
	receive("ab");
	ck_assert(irq.level);
	ck_assert_uint_eq(rd(IIR), 0xcc);   /* below the trigger: character timeout */
	receive("cd");
	ck_assert_uint_eq(rd(IIR), 0xc4);   /* at the trigger: data available */
	ck_assert_uint_eq(rd(DATA), 'a');
	ck_assert_uint_eq(rd(IIR), 0xcc);
	ck_assert_uint_eq(rd(DATA), 'b');
	ck_assert_uint_eq(rd(DATA), 'c');
	ck_assert_uint_eq(rd(DATA), 'd');
	ck_assert_uint_eq(rd(IIR), 0xc1);
	ck_assert(!irq.level);
}
END_TEST

START_TEST(test_fifo_capacity_and_backpressure)
{
	uint8_t buf[20];

	memset(buf, 'z', sizeof(buf));
	wr(FCR, 0x01);
	ck_assert_uint_eq(serial_receive(uart, buf, sizeof(buf)), 16);
	ck_assert_uint_eq(con.rx_ready_calls, 0);
	ck_assert_uint_eq(rd(LSR) & 0x02, 0);   /* the backend kept the rest: no overrun */
	rd(DATA);
	ck_assert_uint_eq(con.rx_ready_calls, 1);
	ck_assert_uint_eq(serial_receive(uart, buf, 4), 1);
	/* FCR bit 1 clears the receive FIFO and makes room */
	wr(FCR, 0x03);
	ck_assert_uint_eq(rd(LSR) & 0x01, 0);
	ck_assert_uint_eq(con.rx_ready_calls, 2);
}
END_TEST

START_TEST(test_fifo_mode_change_clears)
{
	wr(FCR, 0x01);
	receive("abc");
	wr(FCR, 0x00);
	ck_assert_uint_eq(rd(LSR) & 0x01, 0);
	ck_assert_uint_eq(rd(IIR) & 0xc0, 0);
}
END_TEST

START_TEST(test_loopback)
{
	wr(MCR, 0x10);   /* loopback, all outputs off */
	rd(MSR);
	wr(DATA, 'L');
	ck_assert_uint_eq(con.n, 0);   /* nothing reaches the line */
	ck_assert_uint_eq(rd(LSR) & 0x01, 0x01);
	ck_assert_uint_eq(rd(DATA), 'L');
	/* the backend cannot inject while in loopback */
	ck_assert_uint_eq(serial_receive(uart, (const uint8_t *)"x", 1), 0);
	/* outputs wired to inputs: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD */
	wr(MCR, 0x1f);
	ck_assert_uint_eq(rd(MSR), 0xf0 | 0x0b);   /* all lines up, deltas for CTS, DSR, DCD */
	ck_assert_uint_eq(rd(MSR), 0xf0);          /* deltas clear on read */
	wr(MCR, 0x1b);   /* OUT1 off: RI trailing edge */
	ck_assert_uint_eq(rd(MSR), 0xb0 | 0x04);
	/* leaving loopback lets the waiting backend in again */
	wr(MCR, 0x03);
	ck_assert_uint_eq(con.rx_ready_calls, 1);
}
END_TEST

START_TEST(test_overrun_and_priorities)
{
	wr(MCR, 0x10);
	wr(IER, 0x0f);
	/* THRE is pending from enabling IER; then fill the 1-byte receiver twice */
	wr(DATA, '1');
	wr(DATA, '2');
	wr(MCR, 0x12);   /* RTS on: a modem status change */
	ck_assert(irq.level);
	ck_assert_uint_eq(rd(IIR), 0x06);   /* line status first */
	ck_assert_uint_eq(rd(LSR) & 0x03, 0x03);
	ck_assert_uint_eq(rd(LSR) & 0x02, 0);   /* OE clears on read */
	ck_assert_uint_eq(rd(IIR), 0x04);   /* then received data */
	ck_assert_uint_eq(rd(DATA), '1');
	ck_assert_uint_eq(rd(IIR), 0x02);   /* then THRE (cleared by this read) */
	ck_assert_uint_eq(rd(IIR), 0x00);   /* then modem status */
	rd(MSR);
	ck_assert_uint_eq(rd(IIR), 0x01);
	ck_assert(!irq.level);
}
END_TEST

START_TEST(test_wide_access)
{
	uint8_t v[2] = { 0, 0 };

	serial_ops.read(uart, LSR, v, 2);
	ck_assert_uint_eq(v[0], 0x60);
	ck_assert_uint_eq(v[1], 0xff);
}
END_TEST

Suite *serial_suite(void)
{
	Suite *s = suite_create("serial");
	TCase *tc = tcase_create("16550a");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_reset_state);
	tcase_add_test(tc, test_transmit);
	tcase_add_test(tc, test_divisor_latch);
	tcase_add_test(tc, test_scratch);
	tcase_add_test(tc, test_thre_interrupt);
	tcase_add_test(tc, test_receive_interrupt_16450_mode);
	tcase_add_test(tc, test_fifo_trigger_and_timeout);
	tcase_add_test(tc, test_fifo_capacity_and_backpressure);
	tcase_add_test(tc, test_fifo_mode_change_clears);
	tcase_add_test(tc, test_loopback);
	tcase_add_test(tc, test_overrun_and_priorities);
	tcase_add_test(tc, test_wide_access);
	suite_add_tcase(s, tc);
	return s;
}
