/* 16550A UART model; see serial.c. */
#ifndef DEVICES_SERIAL_H
#define DEVICES_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "irq.h"

#define SERIAL_COM1_BASE 0x3f8
#define SERIAL_COM1_GSI 4
#define SERIAL_REGS 8

/* The host side of the UART: where transmitted bytes go and who feeds it. */
struct serial_backend {
	void (*transmit)(void *ctx, uint8_t byte);
	/* The receive FIFO has room again after serial_receive() took less than offered. */
	void (*rx_ready)(void *ctx);
	void *ctx;
};

struct serial;

struct serial *serial_create(struct irq_line irq, struct serial_backend backend);
void serial_destroy(struct serial *s);
/* Offers bytes from the backend; returns how many the receive FIFO took. */
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len);

extern const struct bus_device_ops serial_ops;

#endif
