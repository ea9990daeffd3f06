/*
 * The x86 architectural bits the boot loaders and the VMM both set or read:
 * control registers, EFER and page-table entries (Intel SDM vol. 3A, 2.5
 * "Control Registers", 4.5 "4-Level Paging"; EFER: 2.2.1).
 */
#ifndef VMM_X86_H
#define VMM_X86_H

#define X86_CR0_PE (1ull << 0)
#define X86_CR0_ET (1ull << 4)
#define X86_CR0_NE (1ull << 5)
#define X86_CR0_PG (1ull << 31)
#define X86_CR4_PAE (1ull << 5)
#define X86_CR4_LA57 (1ull << 12)
#define X86_EFER_LME (1ull << 8)
#define X86_EFER_LMA (1ull << 10)

#define X86_PTE_PRESENT (1ull << 0)
#define X86_PTE_WRITABLE (1ull << 1)
#define X86_PTE_LARGE (1ull << 7)
#define X86_PTE_ADDR 0x000ffffffffff000ull
#define X86_PAGE_SIZE 4096ull
#define X86_PTES_PER_TABLE 512

#endif
