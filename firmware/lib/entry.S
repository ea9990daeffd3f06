/*
 * Firmware entry: the PVH boot ABI (xen docs/misc/pvh.pandoc) enters
 * pvh_entry32 in 32-bit protected mode, paging off, with EBX pointing at
 * hvm_start_info. We load our own GDT, turn on long mode with the static
 * identity map below and call fw_start() in C.
 *
 * Application processors wake in real mode at AP_TRAMPOLINE (after the
 * bootstrap processor copies ap_trampoline there and sends INIT-SIPI-SIPI);
 * they join the same 32-bit path and end in fw_ap_start().
 */
#include "layout.h"

#define CR0_PE  0x00000001
#define CR0_MP  0x00000002
#define CR0_EM  0x00000004
#define CR0_WP  0x00010000
#define CR0_PG  0x80000000
#define CR4_PAE 0x00000020
#define CR4_OSFXSR 0x00000200
#define CR4_OSXMMEXCPT 0x00000400
#define MSR_EFER 0xC0000080
#define EFER_LME 0x00000100

/* The note QEMU and vmm look for: XEN_ELFNOTE_PHYS32_ENTRY (18). */
	.section .note.pvh, "a"
	.p2align 2
	.long 4, 4, 18
	.asciz "Xen"
	.long pvh_entry32

	.section .text.entry, "ax"
	.code32
	.globl pvh_entry32
pvh_entry32:
	cli
	cld
	movl %ebx, boot_start_info
	movl $bsp_stack_top, %esp
	xorl %ebp, %ebp              /* EBP = 0 marks the bootstrap processor */
	jmp enter_long_mode

/*
 * Shared by the BSP and the APs: EBP is 0 on the BSP, 1 on an AP.
 */
enter_long_mode:
	lgdt gdt_pointer
	ljmp $GDT_CODE32, $1f
1:	movw $GDT_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movl $pml4, %eax
	movl %eax, %cr3
	/* SSE instructions (ldmxcsr in the emulation guest) #UD without OSFXSR. */
	movl %cr4, %eax
	orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	movl %eax, %cr4
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	andl $~CR0_EM, %eax
	orl $(CR0_PG | CR0_WP | CR0_MP | CR0_PE), %eax
	movl %eax, %cr0
	ljmp $GDT_CODE64, $long_mode

	.code64
long_mode:
	testl %ebp, %ebp
	jnz ap_long_mode
	movq $bsp_stack_top, %rsp
	call fw_start
	jmp park

ap_long_mode:
	/* Each AP takes the next stack; the index is also its CPU number. */
	movl $1, %eax
	lock xaddl %eax, ap_next_index
	movl %eax, %edi
	movq %rax, %rbx
	shlq $AP_STACK_SHIFT, %rbx
	leaq ap_stacks(%rbx), %rsp
	addq $AP_STACK_SIZE, %rsp
	call fw_ap_start
park:
	cli
	hlt
	jmp park

/*
 * Real-mode AP trampoline. It runs from a copy at AP_TRAMPOLINE, so every
 * address it uses is computed relative to that copy.
 */
#define TRAMP(x) ((x) - ap_trampoline + AP_TRAMPOLINE)
	.code16
	.globl ap_trampoline, ap_trampoline_end
ap_trampoline:
	cli
	cld
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl TRAMP(tramp_gdt_pointer)
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $GDT_CODE32, $ap_entry32
	.p2align 2
tramp_gdt_pointer:
	.word gdt_end - gdt - 1
	.long gdt
ap_trampoline_end:

	.code32
ap_entry32:
	/* DS still has its real-mode limit of 64 KiB: reload it before lgdt. */
	movw $GDT_DATA, %ax
	movw %ax, %ds
	movl $1, %ebp
	jmp enter_long_mode

	.code64
/*
 * Exception and interrupt stubs: every vector pushes a uniform frame
 * (vector, error code or 0) and enters trap_common, which calls
 * fw_trap(struct trap_frame *). Vectors 8, 10-14, 17, 21, 29 and 30 have an
 * error code pushed by the CPU.
 */
	.globl trap_stubs
	.p2align 4
trap_stubs:
	.set vec, 0
	.rept 256
	.p2align 4
	.if (vec == 8) || (vec >= 10 && vec <= 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	pushq $vec
	.else
	pushq $0
	pushq $vec
	.endif
	jmp trap_common
	.set vec, vec + 1
	.endr

trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	movq %rsp, %rbx
	andq $-16, %rsp
	call fw_trap
	movq %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

/*
 * uint64_t user_call(uint64_t (*fn)(void *), void *arg, void *stack_top,
 *                    uint64_t *saved_rsp)
 * Runs fn(arg) at CPL3 with IOPL=3 on stack_top and returns its result.
 * The way back is int3 through a DPL-3 gate to user_return: on a PVM host
 * (shared/notes) only INT 3, INT 4 and INT 0x80 are allowed in user mode,
 * and SYSCALL does not leave CPL3 while the guest runs without the PVM ABI.
 * R12 carries saved_rsp through the user code, which preserves it as the
 * ABI says.
 */
	.globl user_call
user_call:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rcx)
	movq %rcx, %r12
	pushq $(GDT_USER_DATA | 3)
	pushq %rdx
	pushq $0x3002                 /* IOPL=3, IF=0 */
	pushq $(GDT_USER_CODE64 | 3)
	leaq user_entry(%rip), %rax
	pushq %rax
	iretq

user_entry:
	movq %rdi, %rax
	movq %rsi, %rdi
	call *%rax
	int3
user_return_point:

/* Vector 3 gate: an int3 anywhere else is an ordinary breakpoint exception. */
	.globl user_return
user_return:
	cmpq $user_return_point, (%rsp)
	jne trap_stubs + 3 * 16
	movq (%r12), %rsp
	movw $GDT_DATA, %cx
	movw %cx, %ss
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	.data
	.globl boot_start_info
boot_start_info:
	.long 0
	.globl ap_next_index
ap_next_index:
	.long 1

/* The GDT; tss descriptors are filled in by C for each CPU. */
	.p2align 4
	.globl gdt, gdt_end
gdt:
	.quad 0
	.quad 0x00cf9b000000ffff      /* GDT_CODE32 */
	.quad 0x00cf93000000ffff      /* GDT_DATA */
	.quad 0x00af9b000000ffff      /* GDT_CODE64 */
	.quad 0x00cff3000000ffff      /* GDT_USER_DATA, DPL 3 */
	.quad 0x00affb000000ffff      /* GDT_USER_CODE64, DPL 3 */
	.fill 2 * FW_MAX_CPUS, 8, 0   /* GDT_TSS0 onwards, 16 bytes each */
gdt_end:
gdt_pointer:
	.word gdt_end - gdt - 1
	.quad gdt

/*
 * Identity map of the first 4 GiB with 2 MiB pages, user-accessible so
 * that ring-3 code can reach everything (this is a test firmware).
 */
#define PTE_P_RW_US 0x7
#define PTE_LARGE 0x80
	.p2align 12
pml4:
	.quad pdpt + PTE_P_RW_US
	.fill 511, 8, 0
pdpt:
	.quad pd + PTE_P_RW_US
	.quad pd + 0x1000 + PTE_P_RW_US
	.quad pd + 0x2000 + PTE_P_RW_US
	.quad pd + 0x3000 + PTE_P_RW_US
	.fill 508, 8, 0
pd:
	.set page, 0
	.rept 2048
	.quad (page << 21) + PTE_LARGE + PTE_P_RW_US
	.set page, page + 1
	.endr

	.bss
	.p2align 12
	.globl ap_stacks
ap_stacks:
	.skip AP_STACK_SIZE * FW_MAX_CPUS
	.skip 16384
bsp_stack_top:
