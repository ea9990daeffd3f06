/* A small printf: %d %i %u %x %X %p %s %c %%, with width, '0', '-' and l/ll/z. */
#include "fw.h"

struct out {
	char *buf;
	size_t size, len;
};

static void emit(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void emit_padded(struct out *o, const char *s, size_t n, int width, bool left, char pad)
{
	int fill = width > (int)n ? width - (int)n : 0;

	if (!left)
		while (fill-- > 0)
			emit(o, pad);
	while (n--)
		emit(o, *s++);
	if (left)
		while (fill-- > 0)
			emit(o, ' ');
}

static size_t format_number(char *tmp, uint64_t v, unsigned base, bool upper, bool negative)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char rev[24];
	size_t n = 0, i = 0;

	do {
		rev[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (negative)
		tmp[i++] = '-';
	while (n)
		tmp[i++] = rev[--n];
	return i;
}

static uint64_t fetch_unsigned(va_list *ap, int longs)
{
	return longs ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned int);
}

static int64_t fetch_signed(va_list *ap, int longs)
{
	return longs ? va_arg(*ap, long) : va_arg(*ap, int);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list args)
{
	struct out o = { buf, size, 0 };
	va_list ap;

	va_copy(ap, args);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			emit(&o, *fmt);
			continue;
		}
		bool left = false;
		char pad = ' ';
		int width = 0, longs = 0;
		char tmp[24];
		size_t n;

		for (fmt++; *fmt == '-' || *fmt == '0'; fmt++) {
			if (*fmt == '-')
				left = true;
			else
				pad = '0';
		}
		for (; *fmt >= '0' && *fmt <= '9'; fmt++)
			width = width * 10 + (*fmt - '0');
		for (; *fmt == 'l' || *fmt == 'z'; fmt++)
			longs++;
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = fetch_signed(&ap, longs);
			n = format_number(tmp, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, false, v < 0);
			emit_padded(&o, tmp, n, width, left, pad);
			break;
		}
		case 'u':
			n = format_number(tmp, fetch_unsigned(&ap, longs), 10, false, false);
			emit_padded(&o, tmp, n, width, left, pad);
			break;
		case 'x':
		case 'X':
			n = format_number(tmp, fetch_unsigned(&ap, longs), 16, *fmt == 'X', false);
			emit_padded(&o, tmp, n, width, left, pad);
			break;
		case 'p':
			emit(&o, '0');
			emit(&o, 'x');
			n = format_number(tmp, (uintptr_t)va_arg(ap, void *), 16, false, false);
			emit_padded(&o, tmp, n, width, left, pad);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			emit_padded(&o, s, strlen(s), width, left, ' ');
			break;
		}
		case 'c':
			tmp[0] = (char)va_arg(ap, int);
			emit_padded(&o, tmp, 1, width, left, ' ');
			break;
		case '%':
			emit(&o, '%');
			break;
		default:
			emit(&o, '%');
			if (!*fmt)
				goto done;
			emit(&o, *fmt);
		}
	}
done:
	va_end(ap);
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void puts(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

int printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	puts(buf);
	return n;
}

static volatile int print_spin;

void print_lock(void)
{
	while (__atomic_exchange_n(&print_spin, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
}

void print_unlock(void)
{
	__atomic_store_n(&print_spin, 0, __ATOMIC_RELEASE);
}
