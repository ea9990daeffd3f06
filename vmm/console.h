/*
 * The console backend behind the serial port: the terminal (raw mode, with
 * Ctrl-] to stop the VM), a pipe, a file, or nothing.
 */
#ifndef VMM_CONSOLE_H
#define VMM_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <termios.h>

#include "config.h"
#include "error.h"

#define CONSOLE_ESCAPE 0x1d   /* Ctrl-], as in virsh console and telnet */

struct console {
	int in_fd;          /* -1: no input */
	int out_fd;         /* -1: output discarded */
	bool raw_tty;       /* stdin is a terminal we put in raw mode */
	struct termios saved;
};

/* Opens the output; vmm does this with the other input checks, before /dev/kvm. */
int console_open(struct console *c, enum console_mode mode, const char *path, struct vmm_error *err);
/* Puts a terminal on stdin in raw mode: the last step before the VM runs. */
int console_start(struct console *c, struct vmm_error *err);
/* Restores the terminal; safe to call more than once. */
void console_close(struct console *c);
/* Guest output; errors are ignored so that a closed pipe cannot stop the guest. */
void console_transmit(struct console *c, uint8_t byte);

enum console_input {
	CONSOLE_INPUT_DATA,
	CONSOLE_INPUT_EOF,
	CONSOLE_INPUT_ESCAPE,
};

/* Reads what is waiting on the input; *len is in/out. Bytes before an escape are kept. */
enum console_input console_read(struct console *c, uint8_t *buf, size_t *len);

#endif
