/* Polled driver for the 16550A at COM1. */
#include "fw.h"

#define COM1 0x3f8
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20

void serial_init(void)
{
	outb(COM1 + 1, 0x00);   /* no interrupts */
	outb(COM1 + 3, 0x80);   /* DLAB on */
	outb(COM1 + 0, 0x01);   /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);   /* 8N1, DLAB off */
	outb(COM1 + 2, 0x07);   /* FIFOs on and cleared */
	outb(COM1 + 4, 0x03);   /* DTR, RTS */
}

void serial_putc(char c)
{
	if (c == '\n')
		serial_putc('\r');
	while (!(inb(COM1 + 5) & LSR_THR_EMPTY))
		cpu_relax();
	outb(COM1, (uint8_t)c);
}

int serial_getc(void)
{
	while (!(inb(COM1 + 5) & LSR_DATA_READY))
		cpu_relax();
	return inb(COM1);
}
