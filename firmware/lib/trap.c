/*
 * IDT, per-CPU TSS and the ring-3 runner. Every exception is fatal: it is
 * printed with its vector, error code and RIP and the guest exits with
 * FW_EXIT_EXCEPTION, so a test sees both the reason and a failure status.
 */
#include "fw.h"

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp0, rsp1, rsp2;
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

#define GATE_INTERRUPT_DPL0 0x8e
#define GATE_INTERRUPT_DPL3 0xee
#define VECTOR_BREAKPOINT 3
#define TRAP_STUB_SIZE 16
#define USER_STACK_SIZE 16384
#define TRAP_STACK_SIZE 8192

extern uint64_t gdt[];
extern const char trap_stubs[];
extern const char user_return[];
uint64_t user_call(uint64_t (*fn)(void *), void *arg, void *stack_top, uint64_t *saved_rsp);

static struct idt_gate idt[256] __attribute__((aligned(16)));
static void (*irq_handlers[256])(void);
static struct tss64 tss[FW_MAX_CPUS] __attribute__((aligned(16)));
static uint64_t user_saved_rsp[FW_MAX_CPUS];
static uint8_t user_stacks[FW_MAX_CPUS][USER_STACK_SIZE] __attribute__((aligned(16)));
static uint8_t trap_stacks[FW_MAX_CPUS][TRAP_STACK_SIZE] __attribute__((aligned(16)));

static const char *const exception_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP",
	"#SS", "#GP", "#PF", "res", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

static void set_gate(unsigned vector, const void *handler, uint8_t type_attr)
{
	uintptr_t a = (uintptr_t)handler;

	idt[vector] = (struct idt_gate){
		.offset_low = (uint16_t)a,
		.selector = GDT_CODE64,
		.type_attr = type_attr,
		.offset_mid = (uint16_t)(a >> 16),
		.offset_high = (uint32_t)(a >> 32),
	};
}

static void build_idt(void)
{
	for (unsigned v = 0; v < 256; v++)
		set_gate(v, trap_stubs + v * TRAP_STUB_SIZE, GATE_INTERRUPT_DPL0);
	set_gate(VECTOR_BREAKPOINT, user_return, GATE_INTERRUPT_DPL3);
}

/* Exceptions in ring 3 switch to the kernel stack kept in TSS.RSP0. */
static void install_tss(unsigned cpu)
{
	uintptr_t base = (uintptr_t)&tss[cpu];
	uint64_t limit = sizeof(struct tss64) - 1;
	unsigned slot = GDT_TSS0 / 8 + 2 * cpu;

	tss[cpu].iomap_base = sizeof(struct tss64);
	tss[cpu].rsp0 = (uintptr_t)(trap_stacks[cpu] + TRAP_STACK_SIZE);
	gdt[slot] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		    (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[slot + 1] = base >> 32;
	uint16_t sel = (uint16_t)(GDT_TSS0 + 16 * cpu);
	__asm__ volatile("ltr %0" : : "r"(sel));
}

void trap_init_cpu(unsigned cpu)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uintptr_t)idt };

	if (cpu == 0)
		build_idt();
	__asm__ volatile("lidt %0" : : "m"(idtr));
	install_tss(cpu);
}

static unsigned this_cpu(void)
{
	uint16_t tr;
	__asm__ volatile("str %0" : "=r"(tr));
	return (tr - GDT_TSS0) / 16;
}

uint64_t run_in_ring3(uint64_t (*fn)(void *), void *arg)
{
	unsigned cpu = this_cpu();
	uint8_t *stack = user_stacks[cpu] + USER_STACK_SIZE;

	return user_call(fn, arg, stack, &user_saved_rsp[cpu]);
}

void irq_set_handler(uint8_t vector, void (*fn)(void))
{
	irq_handlers[vector] = fn;
}

void fw_trap(struct trap_frame *f)
{
	uint64_t cr2 = 0;

	if (f->vector >= 32 && irq_handlers[f->vector]) {
		irq_handlers[f->vector]();
		lapic_eoi();
		return;
	}

	if (f->vector == 14)
		__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	printf("\nEXCEPTION: vector %lu (%s) error 0x%lx rip 0x%lx cs 0x%lx rflags 0x%lx cr2 0x%lx cpu %u\n",
	       f->vector, f->vector < 32 && exception_names[f->vector] ? exception_names[f->vector] : "irq",
	       f->error, f->rip, f->cs, f->rflags, cr2, this_cpu());
	debug_exit(FW_EXIT_EXCEPTION);
}
