/* The demo guest (firmware/guests/demo.c), linked into vmm as the default kernel. */
	.section .rodata.default_guest, "a"
	.p2align 4
	.globl default_guest, default_guest_size
default_guest:
	.incbin DEFAULT_GUEST_PATH
default_guest_end:
	.p2align 3
default_guest_size:
	.quad default_guest_end - default_guest
	.section .note.GNU-stack, "", @progbits
