/*
 * The firmware runtime: what a guest program in firmware/guests/ can use.
 * A guest defines guest_main(); returning from it powers the machine off
 * with success (an i8042 reset, which ends both vmm and QEMU -no-reboot
 * with status 0).
 */
#ifndef FW_H
#define FW_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "layout.h"

/* Status words for debug_exit(): the VMM exits with (code << 1) | 1. */
enum fw_exit_code {
	FW_EXIT_FAILURE = 1,   /* status 3 */
	FW_EXIT_EXCEPTION = 2, /* status 5 */
};

void guest_main(void);
/* Runs on every application processor once it is in long mode. */
void guest_ap_main(unsigned cpu);

/* io.c */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void cpu_relax(void) { __asm__ volatile("pause"); }
static inline uint64_t rdtsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((uint64_t)hi << 32) | lo; }
static inline unsigned current_cpl(void) { uint16_t cs; __asm__ volatile("mov %%cs, %0" : "=r"(cs)); return cs & 3; }

/* serial.c: COM1, polled */
void serial_init(void);
void serial_putc(char c);
int serial_getc(void);

/* printf.c */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void puts(const char *s);

/* string.c */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
unsigned long strtoul(const char *s, const char **end, int base);

/* exit.c */
__attribute__((noreturn)) void debug_exit(uint8_t code);
__attribute__((noreturn)) void system_reset(void);

/* boot_info.c: what the loader told us, copied at start-up */
struct fw_mem_range {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};
#define FW_MAX_MEM_RANGES 32
#define FW_CMDLINE_MAX 1024
struct fw_boot_info {
	char cmdline[FW_CMDLINE_MAX];
	struct fw_mem_range mem[FW_MAX_MEM_RANGES];
	unsigned nr_mem;
	unsigned nr_modules;
	uint64_t module_addr, module_size;  /* the first module (the initrd) */
	uint64_t rsdp;
};
extern struct fw_boot_info boot_info;
/* Value of "key=value" on the command line, or NULL; "key" alone gives "". */
const char *cmdline_get(const char *key);
unsigned long cmdline_get_ulong(const char *key, unsigned long dflt);

/* acpi.c: the local APIC IDs of the enabled processors from the MADT */
int acpi_cpu_apic_ids(uint8_t *ids, int max);

/* smp.c */
unsigned smp_cpu_count(void);
/* Starts every processor the MADT lists and waits until each has run
 * guest_ap_main(); returns how many did, the bootstrap processor included. */
unsigned smp_start_aps(void);
uint32_t lapic_id(void);
/* Software-enables this CPU's local APIC, which then accepts interrupts. */
void lapic_enable(void);
void lapic_eoi(void);
/* A periodic local APIC timer on vector, so that a CPU waiting in hlt wakes up. */
void lapic_timer_start(uint8_t vector, uint32_t count);
void lapic_timer_stop(void);

/* trap.c */
void trap_init_cpu(unsigned cpu);
/* Runs fn for interrupt vector (32-255), then signals end of interrupt to the local APIC. */
void irq_set_handler(uint8_t vector, void (*fn)(void));
static inline void irq_wait(void) { __asm__ volatile("sti; hlt; cli" ::: "memory"); }
/* Runs fn(arg) in ring 3 with IOPL=3 and returns what it returned. */
uint64_t run_in_ring3(uint64_t (*fn)(void *), void *arg);

/* A spin lock for printing from several CPUs. */
void print_lock(void);
void print_unlock(void);

#endif
