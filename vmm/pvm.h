/*
 * Workarounds for kvm_pvm hosts (shared/notes/kvm-on-these-machines.md):
 * KVM there interprets guest ring 0 and cannot emulate cmpxchg16b, the
 * XSAVE family or int3. None of this is active on VT-x/AMD-V hosts.
 */
#ifndef VMM_PVM_H
#define VMM_PVM_H

#include <linux/kvm.h>
#include <stdbool.h>

#include "guest_mem.h"

/*
 * What a Linux guest needs on its command line here. The guest's CPUID
 * shows the host's features in leaves 1 and 7 whatever KVM_SET_CPUID2
 * says, so instructions the emulator lacks are switched off in Linux
 * itself: XSAVE (and with it AVX), FSGSBASE, PKU, INVPCID, and by feature
 * number (word * 32 + bit, fixed by the CPUID register layout) the ones
 * built-in kernel code would use: PCLMULQDQ 129, SSSE3 137, SSE4.1 147,
 * SSE4.2 148, POPCNT 151, AES 153, SMAP 308 (clac/stac) and SHA 317.
 */
#define PVM_LINUX_CMDLINE "noxsave nofsgsbase nopku noinvpcid clearcpuid=129,137,147,148,151,153,308,317"

/*
 * Hides what the emulator cannot run but CPUID can switch off: CX16, and
 * the KVM paravirtual features that use hypercalls.
 */
void pvm_adjust_cpuid(struct kvm_cpuid2 *cpuid);

/*
 * Called on KVM_INTERNAL_ERROR_EMULATION at CPL0. An int3 becomes the #BP
 * the CPU would have raised: RIP moves past it (a trap reports the next
 * instruction) and vector 3 is injected. A register-form popcnt, clac,
 * stac and fwait are carried out here; an instruction that another vCPU
 * rewrote since the emulator fetched it is run again. Returns false for
 * anything else.
 */
bool pvm_recover_emulation_failure(int vcpu_fd, const struct kvm_run *run, const struct guest_mem *mem);

#endif
