/* Addresses and selectors shared by the firmware's assembly and C code. */
#ifndef FW_LAYOUT_H
#define FW_LAYOUT_H

#define FW_MAX_CPUS 16

#define GDT_CODE32      0x08
#define GDT_DATA        0x10
#define GDT_CODE64      0x18
#define GDT_USER_DATA   0x20
#define GDT_USER_CODE64 0x28
#define GDT_TSS0        0x30

/* Where the real-mode AP start-up code is copied: page 8, SIPI vector 8. */
#define AP_TRAMPOLINE   0x8000

#define AP_STACK_SHIFT  14
#define AP_STACK_SIZE   (1 << AP_STACK_SHIFT)

#endif
