/* The console behind COM1: the terminal in raw mode with Ctrl-] to stop, a pipe, a file or nothing. */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static int enter_raw_mode(struct console *c, struct vmm_error *err)
{
	struct termios raw;

	if (tcgetattr(STDIN_FILENO, &c->saved) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot read terminal settings: %s", strerror(errno));
	raw = c->saved;
	cfmakeraw(&raw);
	/* Keep output post-processing so that guest "\n" still starts a line. */
	raw.c_oflag |= OPOST;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot set the terminal to raw mode: %s", strerror(errno));
	c->raw_tty = true;
	return 0;
}

int console_open(struct console *c, enum console_mode mode, const char *path, struct vmm_error *err)
{
	memset(c, 0, sizeof(*c));
	c->in_fd = c->out_fd = -1;
	switch (mode) {
	case CONSOLE_NONE:
		return 0;
	case CONSOLE_FILE:
		/* Not through a symlink (a planted one could aim vmm's writes anywhere), and a
		 * FIFO nobody reads is refused at once rather than blocking. */
		c->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
		if (c->out_fd < 0)
			return vmm_fail(err, VMM_EXIT_USAGE, "--console file=%s: %s", path,
					errno == ELOOP ? "is a symbolic link" : strerror(errno));
		fcntl(c->out_fd, F_SETFL, fcntl(c->out_fd, F_GETFL) & ~O_NONBLOCK);
		return 0;
	case CONSOLE_STDIO:
		c->out_fd = STDOUT_FILENO;
		c->in_fd = STDIN_FILENO;
		return 0;
	}
	return 0;
}

int console_start(struct console *c, struct vmm_error *err)
{
	if (c->in_fd == STDIN_FILENO && isatty(STDIN_FILENO))
		return enter_raw_mode(c, err);
	return 0;
}

void console_close(struct console *c)
{
	if (c->raw_tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &c->saved);
	c->raw_tty = false;
	if (c->out_fd > STDERR_FILENO)
		close(c->out_fd);
	c->out_fd = -1;
}

void console_transmit(struct console *c, uint8_t byte)
{
	if (c->out_fd < 0)
		return;
	while (write(c->out_fd, &byte, 1) < 0 && errno == EINTR)
		;
}

enum console_input console_read(struct console *c, uint8_t *buf, size_t *len)
{
	ssize_t n;

	do
		n = read(c->in_fd, buf, *len);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN) {
		*len = 0;
		return CONSOLE_INPUT_DATA;
	}
	if (n <= 0) {
		*len = 0;
		return CONSOLE_INPUT_EOF;
	}
	*len = (size_t)n;
	if (c->raw_tty) {
		uint8_t *esc = memchr(buf, CONSOLE_ESCAPE, *len);
		if (esc) {
			*len = (size_t)(esc - buf);
			return CONSOLE_INPUT_ESCAPE;
		}
	}
	return CONSOLE_INPUT_DATA;
}
