/*
 * 16550A UART (National Semiconductor PC16550D datasheet, "Register
 * Description" and table 4, "Interrupt Control Functions").
 *
 * Transmission is instantaneous: THR and the transmitter are always empty
 * again by the time the guest looks, so THRE and TEMT always read as set.
 * The receive FIFO is 16 bytes (1 with FIFOs off). The character-timeout
 * interrupt is reported as soon as data sits below the trigger level
 * instead of four character times later: the guest cannot tell the
 * difference from a slow line, and the emulation needs no timer.
 * As in QEMU, OUT2 does not gate the interrupt line.
 */
#include "serial.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

enum {
	REG_DATA = 0,  /* RBR / THR, DLL with DLAB */
	REG_IER = 1,   /* DLM with DLAB */
	REG_IIR = 2,   /* FCR on write */
	REG_LCR = 3,
	REG_MCR = 4,
	REG_LSR = 5,
	REG_MSR = 6,
	REG_SCR = 7,
};

#define IER_RDI 0x01   /* received data available */
#define IER_THRI 0x02  /* transmitter holding register empty */
#define IER_RLSI 0x04  /* receiver line status */
#define IER_MSI 0x08   /* modem status */

#define IIR_NONE 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_TIMEOUT 0x0c
#define IIR_FIFO_ON 0xc0

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_DELTAS 0x0f
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
/* A terminal that is plugged in: carrier, data set ready, clear to send. */
#define MSR_CONNECTED (MSR_DCD | MSR_DSR | MSR_CTS)

#define FIFO_SIZE 16

struct serial {
	pthread_mutex_t lock;
	struct irq_line irq;
	struct serial_backend backend;

	uint8_t ier, lcr, mcr, msr, scr, dll, dlm;
	bool fifo_enabled;
	uint8_t rx_trigger;
	bool overrun;
	bool thr_interrupt;     /* THRE interrupt pending until IIR read or THR write */
	bool backend_waiting;   /* backend has more input once the FIFO has room */

	uint8_t rx[FIFO_SIZE];
	unsigned rx_head, rx_count;
};

static unsigned rx_capacity(const struct serial *s)
{
	return s->fifo_enabled ? FIFO_SIZE : 1;
}

static uint8_t interrupt_id(const struct serial *s)
{
	if ((s->ier & IER_RLSI) && s->overrun)
		return IIR_RLSI;
	if ((s->ier & IER_RDI) && s->rx_count) {
		if (!s->fifo_enabled || s->rx_count >= s->rx_trigger)
			return IIR_RDI;
		return IIR_TIMEOUT;
	}
	if ((s->ier & IER_THRI) && s->thr_interrupt)
		return IIR_THRI;
	if ((s->ier & IER_MSI) && (s->msr & MSR_DELTAS))
		return IIR_MSI;
	return IIR_NONE;
}

static void update_irq(struct serial *s)
{
	irq_line_set(&s->irq, interrupt_id(s) != IIR_NONE);
}

static void rx_push(struct serial *s, uint8_t byte)
{
	if (s->rx_count == rx_capacity(s)) {
		s->overrun = true;
		return;
	}
	s->rx[(s->rx_head + s->rx_count) % FIFO_SIZE] = byte;
	s->rx_count++;
}

/* Called whenever the receiver may take bytes again. */
static void wake_backend(struct serial *s)
{
	if (s->backend_waiting && !(s->mcr & MCR_LOOP) && s->rx_count < rx_capacity(s)) {
		s->backend_waiting = false;
		if (s->backend.rx_ready)
			s->backend.rx_ready(s->backend.ctx);
	}
}

static uint8_t rx_pop(struct serial *s)
{
	if (!s->rx_count)
		return 0;
	uint8_t byte = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % FIFO_SIZE;
	s->rx_count--;
	wake_backend(s);
	return byte;
}

static void rx_clear(struct serial *s)
{
	s->rx_head = s->rx_count = 0;
	wake_backend(s);
}

/* Modem status lines: wired to our own outputs in loopback, else always connected. */
static uint8_t modem_lines(const struct serial *s)
{
	if (!(s->mcr & MCR_LOOP))
		return MSR_CONNECTED;
	return ((s->mcr & MCR_RTS) ? MSR_CTS : 0) | ((s->mcr & MCR_DTR) ? MSR_DSR : 0) |
	       ((s->mcr & MCR_OUT1) ? MSR_RI : 0) | ((s->mcr & MCR_OUT2) ? MSR_DCD : 0);
}

static void set_modem_lines(struct serial *s, uint8_t lines)
{
	uint8_t old = s->msr, changed = (old ^ lines) & 0xf0;

	s->msr = (old & MSR_DELTAS) | lines;
	if (changed & MSR_CTS)
		s->msr |= MSR_DCTS;
	if (changed & MSR_DSR)
		s->msr |= MSR_DDSR;
	if (changed & MSR_DCD)
		s->msr |= MSR_DDCD;
	if ((old & MSR_RI) && !(lines & MSR_RI))
		s->msr |= MSR_TERI;
}

static void transmit(struct serial *s, uint8_t byte)
{
	if (s->mcr & MCR_LOOP)
		rx_push(s, byte);
	else if (s->backend.transmit)
		s->backend.transmit(s->backend.ctx, byte);
	s->thr_interrupt = true;
}

static void write_fcr(struct serial *s, uint8_t v)
{
	static const uint8_t trigger_levels[4] = { 1, 4, 8, 14 };
	bool enable = v & FCR_ENABLE;

	if (enable != s->fifo_enabled || (v & FCR_CLEAR_RX))
		rx_clear(s);
	s->fifo_enabled = enable;
	s->rx_trigger = trigger_levels[v >> 6];
}

static void write_ier(struct serial *s, uint8_t v)
{
	uint8_t enabled = v & ~s->ier;

	s->ier = v & 0x0f;
	/* A 16550 raises THRE at once when its interrupt is enabled and THR is empty. */
	if (enabled & IER_THRI)
		s->thr_interrupt = true;
	if (!(s->ier & IER_THRI))
		s->thr_interrupt = false;
}

static void reg_write(struct serial *s, unsigned reg, uint8_t v)
{
	bool dlab = s->lcr & LCR_DLAB;

	switch (reg) {
	case REG_DATA:
		if (dlab)
			s->dll = v;
		else
			transmit(s, v);
		break;
	case REG_IER:
		if (dlab)
			s->dlm = v;
		else
			write_ier(s, v);
		break;
	case REG_IIR:
		write_fcr(s, v);
		break;
	case REG_LCR:
		s->lcr = v;
		break;
	case REG_MCR:
		s->mcr = v & MCR_MASK;
		set_modem_lines(s, modem_lines(s));
		wake_backend(s);
		break;
	case REG_SCR:
		s->scr = v;
		break;
	default:   /* LSR and MSR are read-only */
		break;
	}
}

static uint8_t read_iir(struct serial *s)
{
	uint8_t id = interrupt_id(s);

	if (id == IIR_THRI)
		s->thr_interrupt = false;
	return id | (s->fifo_enabled ? IIR_FIFO_ON : 0);
}

static uint8_t read_lsr(struct serial *s)
{
	uint8_t v = LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0) | (s->overrun ? LSR_OE : 0);

	s->overrun = false;
	return v;
}

static uint8_t reg_read(struct serial *s, unsigned reg)
{
	bool dlab = s->lcr & LCR_DLAB;
	uint8_t v;

	switch (reg) {
	case REG_DATA:
		return dlab ? s->dll : rx_pop(s);
	case REG_IER:
		return dlab ? s->dlm : s->ier;
	case REG_IIR:
		return read_iir(s);
	case REG_LCR:
		return s->lcr;
	case REG_MCR:
		return s->mcr;
	case REG_LSR:
		return read_lsr(s);
	case REG_MSR:
		v = s->msr;
		s->msr &= ~MSR_DELTAS;
		return v;
	default:
		return s->scr;
	}
}

static void serial_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	data[0] = reg_read(s, offset % SERIAL_REGS);
	for (unsigned i = 1; i < size; i++)
		data[i] = 0xff;
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static void serial_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct serial *s = opaque;

	(void)size;
	pthread_mutex_lock(&s->lock);
	reg_write(s, offset % SERIAL_REGS, data[0]);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

const struct bus_device_ops serial_ops = {
	.read = serial_read,
	.write = serial_write,
};

size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t taken = 0;

	pthread_mutex_lock(&s->lock);
	/* In loopback the receiver hears only the transmitter. */
	if (!(s->mcr & MCR_LOOP))
		for (; taken < len && s->rx_count < rx_capacity(s); taken++)
			rx_push(s, buf[taken]);
	if (taken < len)
		s->backend_waiting = true;
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return taken;
}

struct serial *serial_create(struct irq_line irq, struct serial_backend backend)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	s->irq = irq;
	s->backend = backend;
	s->rx_trigger = 1;
	s->msr = MSR_CONNECTED;
	return s;
}

void serial_destroy(struct serial *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}
