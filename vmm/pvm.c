/* kvm_pvm workarounds; see pvm.h. */
#include "pvm.h"

#include <string.h>
#include <sys/ioctl.h>

#include "kvm.h"

#define CPUID_1_ECX_CX16 (1u << 13)
#define KVM_CPUID_FEATURES 0x40000001u
/*
 * Paravirtual features that make the guest issue VMCALL: PV_UNHALT
 * (spinlock kicks), PV_SEND_IPI and PV_SCHED_YIELD. KVM here rewrites a
 * guest's VMCALL in place, which faults once the kernel text is read-only.
 */
#define KVM_HYPERCALL_FEATURES ((1u << 7) | (1u << 11) | (1u << 13))
#define INT3_OPCODE 0xcc
#define BP_VECTOR 3
#define GP_VECTOR 13
#define MF_VECTOR 16
#define FXSAVE_MXCSR 6            /* 32-bit words into the FXSAVE area */
#define FXSAVE_MXCSR_MASK 7
#define MXCSR_DEFAULT_MASK 0xffbfu  /* SDM vol. 1, 11.6.6, when MXCSR_MASK reads 0 */
#define XSTATE_BV 128               /* the XSAVE header's component bitmap, low word */
#define XFEATURE_SSE 2u
#define FSW_ES (1u << 7)
#define RFLAGS_ARITH (0x8d5u)   /* CF PF AF ZF SF OF */
#define RFLAGS_ZF (1u << 6)
#define RFLAGS_AC (1u << 18)

void pvm_adjust_cpuid(struct kvm_cpuid2 *cpuid)
{
	for (unsigned i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
		if (e->function == 1)
			e->ecx &= ~CPUID_1_ECX_CX16;
		else if (e->function == KVM_CPUID_FEATURES)
			e->eax &= ~KVM_HYPERCALL_FEATURES;
	}
}

/* The failing instruction: its first bytes and the vCPU's registers. */
struct insn {
	int fd;                      /* the vCPU */
	const struct kvm_run *run;
	const struct guest_mem *mem;
	uint8_t code[15];
	size_t n;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
};

/* Injects an exception; #GP here always carries error code 0. */
static bool inject_exception(const struct insn *in, uint8_t vector)
{
	struct kvm_vcpu_events ev;

	if (ioctl(in->fd, KVM_GET_VCPU_EVENTS, &ev) < 0 || ev.exception.injected)
		return false;
	ev.exception.injected = 1;
	ev.exception.nr = vector;
	ev.exception.has_error_code = vector == GP_VECTOR;
	ev.exception.error_code = 0;
	ev.flags = 0;
	return ioctl(in->fd, KVM_SET_VCPU_EVENTS, &ev) == 0;
}

/* Retires an instruction that vmm has carried out on regs. */
static bool retire(struct insn *in, size_t len)
{
	in->regs.rip += len;
	return ioctl(in->fd, KVM_SET_REGS, &in->regs) == 0;
}

/* int3 (CC): #BP is a trap, so the saved RIP is that of the next instruction. */
static bool emulate_int3(struct insn *in)
{
	/* RIP first: KVM_SET_REGS drops a pending exception. */
	return in->code[0] == INT3_OPCODE && retire(in, 1) && inject_exception(in, BP_VECTOR);
}

/* General-purpose register by its encoding number (rax, rcx, rdx, rbx, ...). */
static __u64 *gpr(struct kvm_regs *r, unsigned n)
{
	__u64 *const by_number[16] = {
		&r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi, &r->rdi,
		&r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15,
	};
	return by_number[n & 15];
}

/* The legacy and REX prefixes of a 64-bit instruction (SDM vol. 2A, 2.1-2.2). */
struct prefixes {
	size_t len;
	bool opsize16, rep;
	uint8_t rex;
	uint64_t segment_base;   /* fs or gs override; 0 otherwise */
};

static struct prefixes read_prefixes(const struct insn *in)
{
	const uint8_t *code = in->code;
	const struct kvm_sregs *sregs = &in->sregs;
	struct prefixes p = { 0 };

	for (; p.len < in->n; p.len++) {
		uint8_t b = code[p.len];
		if (b == 0x66)
			p.opsize16 = true;
		else if (b == 0xf3)
			p.rep = true;
		else if (b == 0x64)
			p.segment_base = sregs->fs.base;
		else if (b == 0x65)
			p.segment_base = sregs->gs.base;
		else if (b != 0x2e && b != 0x3e && b != 0x26 && b != 0x36)
			break;
	}
	if (p.len < in->n && (code[p.len] & 0xf0) == 0x40)
		p.rex = code[p.len++];
	return p;
}

/*
 * The linear address of a ModRM memory operand at code[*i] (SDM vol. 2A,
 * 2.1.5 and 2.2.1.6: SIB, displacements, RIP-relative); *i moves past it.
 * The instruction must end right after it (no immediate), which is true of
 * everything emulated here.
 */
static bool memory_operand(struct insn *in, size_t *i, const struct prefixes *p, uint64_t *linear)
{
	const uint8_t *code = in->code;
	size_t n = in->n;
	struct kvm_regs *regs = &in->regs;
	uint8_t modrm = code[*i], mod = modrm >> 6, rm = modrm & 7;
	uint64_t addr = 0;
	int32_t disp = 0;
	bool rip_relative = false;

	(*i)++;
	if (mod == 3)
		return false;
	if (rm == 4) {
		if (*i >= n)
			return false;
		uint8_t sib = code[(*i)++], base = sib & 7, index = ((p->rex & 2u) << 2) | ((sib >> 3) & 7);
		if (index != 4)
			addr += *gpr(regs, index) << (sib >> 6);
		if (base == 5 && mod == 0)
			mod = 2;   /* disp32, no base */
		else
			addr += *gpr(regs, ((p->rex & 1u) << 3) | base);
	} else if (rm == 5 && mod == 0) {
		rip_relative = true;
		mod = 2;
	} else {
		addr = *gpr(regs, ((p->rex & 1u) << 3) | rm);
	}
	size_t disp_len = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	if (*i + disp_len > n)
		return false;
	if (disp_len == 1)
		disp = (int8_t)code[*i];
	else if (disp_len == 4)
		memcpy(&disp, code + *i, 4);
	*i += disp_len;
	if (rip_relative)
		addr = regs->rip + *i;
	*linear = p->segment_base + addr + (uint64_t)(int64_t)disp;
	return true;
}

/* Reads or writes guest memory at a linear address, page by page. */
static bool access_linear(const struct insn *in, uint64_t linear, void *buf, size_t len, bool write)
{
	uint8_t *b = buf;

	while (len) {
		struct kvm_translation t = { .linear_address = linear };
		size_t chunk = 4096 - (linear & 4095);
		if (chunk > len)
			chunk = len;
		if (ioctl(in->fd, KVM_TRANSLATE, &t) < 0 || !t.valid || (write && !t.writeable))
			return false;
		int r = write ? guest_mem_write(in->mem, t.physical_address, b, chunk)
			      : guest_mem_read(in->mem, t.physical_address, b, chunk);
		if (r < 0)
			return false;
		linear += chunk;
		b += chunk;
		len -= chunk;
	}
	return true;
}

/*
 * popcnt with a register source (F3 [REX] 0F B8 /r, mod 11), the form
 * Linux's hweight alternatives use. A kernel that ignores clearcpuid=
 * still gets there: the guest's CPUID reports POPCNT whatever
 * KVM_SET_CPUID2 says.
 */
static bool emulate_popcnt(struct insn *in)
{
	const uint8_t *code = in->code;
	struct kvm_regs *regs = &in->regs;
	struct prefixes p = read_prefixes(in);
	size_t i = p.len;

	if (!p.rep || i + 3 > in->n || code[i] != 0x0f || code[i + 1] != 0xb8 || (code[i + 2] >> 6) != 3)
		return false;
	uint8_t modrm = code[i + 2];
	unsigned dst = ((p.rex & 4u) << 1) | ((modrm >> 3) & 7), src = ((p.rex & 1u) << 3) | (modrm & 7);
	unsigned bits = p.rex & 8 ? 64 : p.opsize16 ? 16 : 32;
	uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
	uint64_t count = (uint64_t)__builtin_popcountll(*gpr(regs, src) & mask);

	*gpr(regs, dst) = bits == 16 ? (*gpr(regs, dst) & ~mask) | count : count;
	regs->rflags = (regs->rflags & ~(__u64)RFLAGS_ARITH) | (count ? 0 : RFLAGS_ZF);
	return retire(in, i + 3);
}

/*
 * ldmxcsr m32 / stmxcsr m32 (0F AE /2, /3), which Linux's
 * kernel_fpu_begin() runs. MXCSR goes through KVM_GET/SET_XSAVE: KVM_GET_FPU
 * here reports it as 0. Bits outside MXCSR_MASK raise #GP(0).
 */
static bool emulate_mxcsr(struct insn *in)
{
	const uint8_t *code = in->code;
	struct prefixes p = read_prefixes(in);
	size_t i = p.len + 2;
	struct kvm_xsave xsave;
	uint64_t linear;
	uint32_t value;

	if (i >= in->n || code[p.len] != 0x0f || code[p.len + 1] != 0xae)
		return false;
	unsigned op = (code[i] >> 3) & 7;
	if ((op != 2 && op != 3) || !memory_operand(in, &i, &p, &linear) ||
	    ioctl(in->fd, KVM_GET_XSAVE, &xsave) < 0)
		return false;
	if (op == 3)
		return access_linear(in, linear, &xsave.region[FXSAVE_MXCSR], 4, true) && retire(in, i);
	uint32_t mask = xsave.region[FXSAVE_MXCSR_MASK] ? xsave.region[FXSAVE_MXCSR_MASK] : MXCSR_DEFAULT_MASK;
	if (!access_linear(in, linear, &value, 4, false))
		return false;
	if (value & ~mask)
		return inject_exception(in, GP_VECTOR);
	xsave.region[FXSAVE_MXCSR] = value;
	xsave.region[XSTATE_BV] |= XFEATURE_SSE;   /* KVM takes MXCSR only with the SSE component */
	return ioctl(in->fd, KVM_SET_XSAVE, &xsave) == 0 && retire(in, i);
}

/* clac / stac (0F 01 CA / CB): SMAP's switch for user-memory access. */
static bool emulate_clac_stac(struct insn *in)
{
	const uint8_t *code = in->code;

	if (in->n < 3 || code[0] != 0x0f || code[1] != 0x01 || (code[2] != 0xca && code[2] != 0xcb))
		return false;
	if (code[2] == 0xca)
		in->regs.rflags &= ~(__u64)RFLAGS_AC;
	else
		in->regs.rflags |= RFLAGS_AC;
	return retire(in, 3);
}

/* fwait (9B): #MF if an unmasked x87 exception is pending (FSW.ES), else nothing. */
static bool emulate_fwait(struct insn *in)
{
	struct kvm_fpu fpu;

	if (in->code[0] != 0x9b || ioctl(in->fd, KVM_GET_FPU, &fpu) < 0)
		return false;
	return fpu.fsw & FSW_ES ? inject_exception(in, MF_VECTOR) : retire(in, 1);
}

/*
 * The bytes KVM's emulator failed on, when it says what they were, differ
 * from those at RIP now: another vCPU rewrote the instruction meanwhile
 * (Linux patches live kernel text through an int3, text_poke_bp()). Running
 * it again is what the CPU would do on its next fetch.
 */
static bool instruction_changed(struct insn *in)
{
	const struct kvm_run *run = in->run;
	size_t n = run->emulation_failure.insn_size;

	if (!(run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) || n == 0)
		return false;
	if (n > in->n)
		n = in->n;
	return memcmp(run->emulation_failure.insn_bytes, in->code, n) != 0;
}

typedef bool (*emulate_fn)(struct insn *in);

bool pvm_recover_emulation_failure(int vcpu_fd, const struct kvm_run *run, const struct guest_mem *mem)
{
	static const emulate_fn emulators[] = {
		instruction_changed, emulate_int3, emulate_popcnt, emulate_clac_stac, emulate_fwait, emulate_mxcsr,
	};
	struct insn in = { .fd = vcpu_fd, .run = run, .mem = mem };

	in.n = kvm_vcpu_code_bytes(vcpu_fd, mem, in.code, sizeof(in.code), &in.regs, &in.sregs);
	if (in.n == 0 || in.sregs.cs.dpl != 0)
		return false;
	for (size_t i = 0; i < sizeof(emulators) / sizeof(emulators[0]); i++) {
		if (emulators[i](&in))
			return true;
	}
	return false;
}
