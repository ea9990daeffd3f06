/* The demo guest (firmware/guests/demo.c), linked into vmm as the default kernel. */
	.section .rodata.default_guest, "a"
	.p2align 4
	.globl default_guest_start, default_guest_end
default_guest_start:
	.incbin DEFAULT_GUEST_PATH
default_guest_end:
	.section .note.GNU-stack, "", @progbits
