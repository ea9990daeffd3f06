/*
 * A 64 KiB firmware image that tests what vmm gives UEFI firmware, the way
 * OVMF uses it, without OVMF (which the nested test machine cannot run:
 * docs/testing.md). vmm takes it for UEFI firmware because it starts with
 * a firmware volume header's signature, so the machine has OVMF's variable
 * store below the image (--firmware-vars, 16 KiB here: 0xFFFEC000) and the
 * FADT names OVMF's PM base.
 *
 * From the reset vector: protected mode, then
 *   - the PIIX4's PM registers moved to 0xB000 as OVMF's PlatformPei does
 *     (PMBA, PMREGMISC at 00:01.3), and the PM timer there must advance;
 *   - the store's first 16 bytes printed, as found;
 *   - OVMF's flash probe (QemuFlashDetected: clear status leaves the array
 *     readable, read status reads 0);
 *   - block 0 erased and "vmm-flash-kept" programmed byte by byte with
 *     0x10 and the byte, as QemuFlashWrite does, then read back;
 * and reset through 0xCF9 (vmm ends with status 0). A failed check ends
 * through the debug-exit port instead. The second run prints what the
 * first one wrote.
 */
#define COM1 0x3f8
#define DEBUG_EXIT 0x501
#define RESET_CONTROL 0xcf9
#define PCI_ADDRESS 0xcf8
#define PCI_DATA 0xcfc
#define PM_FUNCTION (0x80000000 | 1 << 11 | 3 << 8)    /* 00:01.3 */
#define PM_BASE 0xb000
#define PM_TIMER (PM_BASE + 8)
#define VARS 0xfffec000
#define ROM_BASE 0xffff0000
#define CHAR_BUF 0x7000              /* RAM: one character and its NUL */

	.section .text.rom, "ax"
	.code16
/* The firmware volume header's first 48 bytes: zero vector, file system GUID, length, "_FVH". */
fv_header:
	.fill 16, 1, 0
	.fill 16, 1, 0
	.quad 0x10000
	.ascii "_FVH"
	.long 0

	.code32
/* Prints the NUL-terminated string at ESI on COM1 (polling the line status register). */
puts:
	movb (%esi), %al
	testb %al, %al
	jz 2f
	movl %eax, %ebx
	movw $COM1 + 5, %dx
1:	inb %dx, %al
	testb $0x20, %al
	jz 1b
	movl %ebx, %eax
	movw $COM1, %dx
	outb %al, %dx
	incl %esi
	jmp puts
2:	ret

/* Prints the byte in AL as two hex digits. */
put_hex:
	pushl %eax
	shrb $4, %al
	call put_nibble
	popl %eax
put_nibble:
	andl $0xf, %eax
	movb hex_digits(%eax), %al
	movb %al, CHAR_BUF
	movb $0, CHAR_BUF + 1
	movl $CHAR_BUF, %esi
	jmp puts

/* Fails with code AL: debug-exit (vmm's status (AL << 1) | 1). */
fail:
	movw $DEBUG_EXIT, %dx
	outb %al, %dx
	hlt

/* Config dword EAX (register in the low byte) of the PM function, EBX written. */
pm_write:
	orl $PM_FUNCTION, %eax
	movw $PCI_ADDRESS, %dx
	outl %eax, %dx
	movl %ebx, %eax
	movw $PCI_DATA, %dx
	outl %eax, %dx
	ret

start32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $0x8000, %esp
	movl $msg_start, %esi
	call puts

	/* OVMF's PM base, then the timer must move. */
	movl $0x40, %eax
	movl $PM_BASE | 1, %ebx
	call pm_write
	movl $0x80, %eax
	movl $1, %ebx
	call pm_write
	movw $PM_TIMER, %dx
	inl %dx, %eax
	movl %eax, %edi
	movl $200000, %ecx
1:	inl %dx, %eax
	cmpl %eax, %edi
	jne 2f
	loop 1b
	movb $1, %al
	jmp fail
2:	movl $msg_timer, %esi
	call puts

	/* The store as found. */
	movl $msg_found, %esi
	call puts
	xorl %edi, %edi
3:	movb VARS(%edi), %al
	call put_hex
	incl %edi
	cmpl $16, %edi
	jne 3b
	movl $msg_newline, %esi
	call puts

	/* QemuFlashDetected(): writes must not stick as in RAM, and read status must read 0. */
	movb VARS + 0x100, %bl
	movb $0x50, VARS + 0x100
	movb VARS + 0x100, %al
	cmpb %bl, %al
	movb $2, %al
	jne fail
	movb $0x70, VARS + 0x100
	movb VARS + 0x100, %al
	testb %al, %al
	movb $3, %al
	jnz fail
	movb $0xff, VARS + 0x100
	movl $msg_flash, %esi
	call puts

	/* Erase block 0, program the marker, back to read array, and read it back. */
	movb $0x20, VARS
	movb $0xd0, VARS
	movb VARS, %al
	testb $0x80, %al
	movb $4, %al
	jz fail
	xorl %edi, %edi
4:	movb marker(%edi), %al
	movb $0x10, VARS(%edi)
	movb %al, VARS(%edi)
	incl %edi
	cmpl $16, %edi
	jne 4b
	movb $0xff, VARS
	xorl %edi, %edi
5:	movb VARS(%edi), %al
	cmpb marker(%edi), %al
	movb $5, %al
	jne fail
	incl %edi
	cmpl $16, %edi
	jne 5b
	movl $msg_programmed, %esi
	call puts

	movb $0x06, %al
	movw $RESET_CONTROL, %dx
	outb %al, %dx
	hlt

	.section .rodata.rom, "a"
hex_digits:	.ascii "0123456789abcdef"
marker:		.ascii "vmm-flash-kept\0\0"
msg_start:	.asciz "flash-test: started\r\n"
msg_timer:	.asciz "flash-test: PM timer at 0xb008 runs\r\n"
msg_found:	.asciz "flash-test: store begins "
msg_newline:	.asciz "\r\n"
msg_flash:	.asciz "flash-test: flash detected (status reads 0 after clear)\r\n"
msg_programmed:	.asciz "flash-test: programmed and read back\r\n"

	.p2align 3
gdt:
	.quad 0
	.quad 0x00cf9b000000ffff         /* 0x08: flat 32-bit code */
	.quad 0x00cf93000000ffff         /* 0x10: flat data */
gdt_pointer:
	.word gdt_pointer - gdt - 1
	.long gdt

	.section .text.reset, "ax"
	.code16
/* Real mode after reset: CS base 0xFFFF0000, IP 0xFFF0. */
start16:
	cli
	lgdtl %cs:(gdt_pointer - ROM_BASE)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x08, $start32

	.section .text.vector, "ax"
reset_vector:
	jmp start16
	.p2align 4, 0xf4
