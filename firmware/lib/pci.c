/* PCI configuration mechanism #1 (ports 0xCF8/0xCFC), bus 0 only. */
#include "virtio_driver.h"

static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

uint32_t pci_read32(unsigned slot, unsigned off)
{
	outl(0xcf8, 0x80000000u | slot << 11 | (off & 0xfc));
	return inl(0xcfc);
}

void pci_write32(unsigned slot, unsigned off, uint32_t v)
{
	outl(0xcf8, 0x80000000u | slot << 11 | (off & 0xfc));
	outl(0xcfc, v);
}

int pci_find(uint16_t vendor, uint16_t device)
{
	for (unsigned slot = 0; slot < 32; slot++)
		if (pci_read32(slot, 0) == ((uint32_t)device << 16 | vendor))
			return (int)slot;
	return -1;
}
