/*
 * The vCPU loop: KVM_RUN, then one switch over the exit reason. Port I/O
 * and MMIO go to the buses; everything that ends the VM goes to the stop
 * request of its vcpu_env with a message, so no exit can make a vCPU spin.
 */
#include "vcpu.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpuid.h"
#include "kvm.h"
#include "long_mode.h"
#include "memmap.h"
#include "pvm.h"
#include "sandbox.h"
#include "trace.h"
#include "x86.h"

/* The coalesced MMIO ring is one page (linux/kvm.h sizes it with PAGE_SIZE). */
#ifndef PAGE_SIZE
#define PAGE_SIZE 4096
#endif

static const char *const exit_names[VCPU_EXIT_REASONS] = {
	[KVM_EXIT_UNKNOWN] = "unknown",
	[KVM_EXIT_EXCEPTION] = "exception",
	[KVM_EXIT_IO] = "io",
	[KVM_EXIT_HYPERCALL] = "hypercall",
	[KVM_EXIT_DEBUG] = "debug",
	[KVM_EXIT_HLT] = "hlt",
	[KVM_EXIT_MMIO] = "mmio",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "irq-window-open",
	[KVM_EXIT_SHUTDOWN] = "shutdown",
	[KVM_EXIT_FAIL_ENTRY] = "fail-entry",
	[KVM_EXIT_INTR] = "intr",
	[KVM_EXIT_SET_TPR] = "set-tpr",
	[KVM_EXIT_TPR_ACCESS] = "tpr-access",
	[KVM_EXIT_NMI] = "nmi",
	[KVM_EXIT_INTERNAL_ERROR] = "internal-error",
	[KVM_EXIT_SYSTEM_EVENT] = "system-event",
	[KVM_EXIT_IOAPIC_EOI] = "ioapic-eoi",
	[KVM_EXIT_X86_RDMSR] = "rdmsr",
	[KVM_EXIT_X86_WRMSR] = "wrmsr",
};

const char *vcpu_exit_name(unsigned reason)
{
	if (reason < VCPU_EXIT_REASONS && exit_names[reason])
		return exit_names[reason];
	return "other";
}

/*
 * Power-on state (Intel SDM vol. 3A, 10.1 table 10-1) for what KVM does
 * not set itself: x87 control word 0x37F, MXCSR 0x1F80, zeroed syscall
 * and sysenter MSRs and TSC. The one thing firmware would have done on
 * top: MTRRs on with write-back as the default type, so that the guest
 * does not see all of RAM as uncacheable.
 */
static int set_reset_state(struct vcpu *v, struct vmm_error *err)
{
	static const uint32_t zeroed[] = {
		0x10,                               /* IA32_TSC */
		0x174, 0x175, 0x176,                /* IA32_SYSENTER_CS, _ESP, _EIP */
		0xc0000081, 0xc0000082, 0xc0000083, /* STAR, LSTAR, CSTAR */
		0xc0000084, 0xc0000102,             /* SFMASK, KERNEL_GS_BASE */
	};
	struct {
		struct kvm_msrs head;
		struct kvm_msr_entry e[sizeof(zeroed) / sizeof(zeroed[0]) + 2];
	} msrs = { .head.nmsrs = sizeof(msrs.e) / sizeof(msrs.e[0]) };
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	unsigned n = 0;

	for (; n < sizeof(zeroed) / sizeof(zeroed[0]); n++)
		msrs.e[n] = (struct kvm_msr_entry){ .index = zeroed[n] };
	msrs.e[n++] = (struct kvm_msr_entry){ .index = 0x1a0, .data = 1 };     /* MISC_ENABLE: fast strings */
	msrs.e[n++] = (struct kvm_msr_entry){ .index = 0x2ff, .data = 0x806 }; /* MTRRdefType: E, WB */
	if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "KVM_SET_FPU failed: %s", strerror(errno));
	int set = ioctl(v->fd, KVM_SET_MSRS, &msrs);
	if (set != (int)n)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "KVM_SET_MSRS set %d of %u MSRs (stopped at 0x%x)", set, n,
				set >= 0 && set < (int)n ? msrs.e[set].index : 0);
	return 0;
}

static void request_stop(const struct vcpu *v, int status, const char *reason)
{
	v->env->stop.request_stop(v->env->stop.ctx, status, reason);
}

int vcpu_init(struct vcpu *v, const struct vcpu_env *env, unsigned id, const struct kvm_cpuid2 *cpuid,
	      struct vmm_error *err)
{
	memset(v, 0, sizeof(*v));
	v->env = env;
	v->id = id;
	v->fd = ioctl(env->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "KVM_CREATE_VCPU %u failed: %s", id, strerror(errno));
	v->run = mmap(NULL, env->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot map vCPU %u run area: %s", id, strerror(errno));
	}
	struct kvm_cpuid2 *mine = cpuid_for_vcpu(cpuid, id, env->nr_vcpus);
	if (!mine)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "out of memory");
	int ret = ioctl(v->fd, KVM_SET_CPUID2, mine);
	free(mine);
	if (ret < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "KVM_SET_CPUID2 failed: %s", strerror(errno));
	return set_reset_state(v, err);
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, v->env->run_size);
	if (v->fd > 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}

static struct kvm_segment flat_segment(uint16_t selector, uint8_t type)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = selector, .type = type,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
}

int vcpu_set_pvh_entry(struct vcpu *v, uint32_t entry, uint32_t start_info, struct vmm_error *err)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = entry, .rbx = start_info, .rflags = 0x2 };

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "KVM_GET_SREGS failed: %s", strerror(errno));
	/* The PVH spec's state: flat 32-bit segments, CR0.PE only, a 32-bit TSS in TR. */
	sregs.cs = flat_segment(0x10, 0xb);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = flat_segment(0x18, 0x3);
	sregs.tr = (struct kvm_segment){ .limit = 0x67, .selector = 0x20, .type = 0xb, .present = 1 };
	sregs.cr0 = X86_CR0_PE | X86_CR0_ET;
	sregs.cr3 = 0;
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "KVM_SET_SREGS failed: %s", strerror(errno));
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "KVM_SET_REGS failed: %s", strerror(errno));
	return 0;
}

int vcpu_set_long_mode_entry(struct vcpu *v, uint64_t entry, uint64_t boot_params, struct vmm_error *err)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = entry, .rsi = boot_params, .rflags = 0x2 };

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "KVM_GET_SREGS failed: %s", strerror(errno));
	sregs.cs = flat_segment(BOOT_CS_SELECTOR, 0xb);
	sregs.cs.l = 1;
	sregs.cs.db = 0;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = flat_segment(BOOT_DS_SELECTOR, 0x3);
	sregs.gdt = (struct kvm_dtable){ .base = BOOT_GDT_ADDR, .limit = BOOT_GDT_ENTRIES * 8 - 1 };
	sregs.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_PG;
	sregs.cr3 = BOOT_PAGE_TABLES_ADDR;
	sregs.cr4 = X86_CR4_PAE;
	sregs.efer = X86_EFER_LME | X86_EFER_LMA;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "KVM_SET_SREGS failed: %s", strerror(errno));
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "KVM_SET_REGS failed: %s", strerror(errno));
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	/* immediate_exit covers a kick that lands just before KVM_RUN. */
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(v->thread, SIGUSR1);
}

static void handle_io(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	const struct vcpu_env *env = v->env;
	uint8_t *data = (uint8_t *)r + r->io.data_offset;
	bool out = r->io.direction == KVM_EXIT_IO_OUT;

	/* count > 1 is a string instruction (rep outsb and friends). */
	for (uint32_t i = 0; i < r->io.count; i++, data += r->io.size) {
		const char *dev = out ? bus_write(env->pio, r->io.port, data, r->io.size)
				      : bus_read(env->pio, r->io.port, data, r->io.size);
		if (env->trace)
			trace_access(v->id, out ? "pio-out" : "pio-in", r->io.port, data, r->io.size, dev);
	}
}

static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	const struct vcpu_env *env = v->env;
	unsigned len = r->mmio.len <= sizeof(r->mmio.data) ? r->mmio.len : sizeof(r->mmio.data);
	const char *dev = r->mmio.is_write ? bus_write(env->mmio, r->mmio.phys_addr, r->mmio.data, len)
					   : bus_read(env->mmio, r->mmio.phys_addr, r->mmio.data, len);

	if (env->trace)
		trace_access(v->id, r->mmio.is_write ? "mmio-write" : "mmio-read", r->mmio.phys_addr,
			     r->mmio.data, len, dev);
}

static const char *internal_suberror_name(uint32_t suberror)
{
	switch (suberror) {
	case KVM_INTERNAL_ERROR_EMULATION: return "instruction emulation failed";
	case KVM_INTERNAL_ERROR_SIMUL_EX: return "exception while delivering an exception";
	case KVM_INTERNAL_ERROR_DELIVERY_EV: return "event delivery failed";
	case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON: return "unexpected exit reason";
	default: return "unknown suberror";
	}
}

static void report_internal_error(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	uint8_t insn[16];
	struct kvm_regs regs = { 0 };
	struct kvm_sregs sregs;
	size_t n = kvm_vcpu_code_bytes(v->fd, v->env->mem, insn, sizeof(insn), &regs, &sregs);
	char line[256];
	int at = 0;

	fprintf(stderr, "vmm: vcpu%u: KVM internal error: suberror %u (%s) at rip 0x%" PRIx64 "\n",
		v->id, r->internal.suberror, internal_suberror_name(r->internal.suberror), (uint64_t)regs.rip);
	for (uint32_t i = 0; i < r->internal.ndata && i < 16; i++)
		at += snprintf(line + at, sizeof(line) - (size_t)at, " 0x%llx", (unsigned long long)r->internal.data[i]);
	if (at)
		fprintf(stderr, "vmm: vcpu%u: internal data:%s\n", v->id, line);
	at = 0;
	for (size_t i = 0; i < n; i++)
		at += snprintf(line + at, sizeof(line) - (size_t)at, " %02x", insn[i]);
	fprintf(stderr, "vmm: vcpu%u: instruction bytes at rip:%s\n", v->id, n ? line : " (unreadable)");
}

static void handle_system_event(struct vcpu *v)
{
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		request_stop(v, VMM_EXIT_OK, "guest powered off");
		break;
	case KVM_SYSTEM_EVENT_RESET:
		request_stop(v, VMM_EXIT_OK, "guest reset");
		break;
	case KVM_SYSTEM_EVENT_CRASH:
		request_stop(v, VMM_EXIT_GUEST_CRASH, "guest reported a crash");
		break;
	default:
		request_stop(v, VMM_EXIT_RUNTIME, "unknown system event");
	}
}

static void handle_exit(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	char msg[160];

	switch (r->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(v);
		break;
	case KVM_EXIT_MMIO:
		handle_mmio(v);
		break;
	case KVM_EXIT_INTR:
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		break;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel local APIC; nothing could wake this vCPU. */
		request_stop(v, VMM_EXIT_OK, "guest halted");
		break;
	case KVM_EXIT_SHUTDOWN:
		snprintf(msg, sizeof(msg), "vcpu%u: guest triple fault (KVM_EXIT_SHUTDOWN)", v->id);
		request_stop(v, VMM_EXIT_GUEST_CRASH, msg);
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		handle_system_event(v);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(msg, sizeof(msg), "VM entry failed, hardware reason 0x%llx",
			 (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
		request_stop(v, VMM_EXIT_GUEST_CRASH, msg);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		if (v->env->pvm && r->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
		    pvm_recover_emulation_failure(v->fd, v->run, v->env->mem)) {
			v->pvm_recoveries++;
			break;
		}
		report_internal_error(v);
		request_stop(v, VMM_EXIT_GUEST_CRASH, "KVM internal error");
		break;
	default:
		snprintf(msg, sizeof(msg), "unhandled exit reason %u (%s)", r->exit_reason,
			 vcpu_exit_name(r->exit_reason));
		request_stop(v, VMM_EXIT_RUNTIME, msg);
	}
}

/*
 * MMIO and port writes KVM buffered for devices that take them lazily
 * (coalesced MMIO and PIO): they reach their device before anything this
 * exit does, in the order the guest made them.
 */
void vcpu_flush_coalesced(const struct vcpu_env *env)
{
	struct kvm_coalesced_mmio_ring *ring = env->coalesced;

	if (!ring || __atomic_load_n(&ring->first, __ATOMIC_ACQUIRE) == __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(env->coalesced_lock);
	for (uint32_t first; (first = ring->first) != __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE);) {
		struct kvm_coalesced_mmio *e = &ring->coalesced_mmio[first % KVM_COALESCED_MMIO_MAX];
		bus_write(e->pio ? env->pio : env->mmio, e->phys_addr, e->data,
			  e->len <= sizeof(e->data) ? e->len : sizeof(e->data));
		__atomic_store_n(&ring->first, (first + 1) % KVM_COALESCED_MMIO_MAX, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(env->coalesced_lock);
}

void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	const struct vcpu_env *env = v->env;
	char msg[160];

	sandbox_enter(SANDBOX_VCPU);
	while (!atomic_load(env->stopping)) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
				continue;
			}
			snprintf(msg, sizeof(msg), "vcpu%u: KVM_RUN failed: %s", v->id, strerror(errno));
			request_stop(v, VMM_EXIT_RUNTIME, msg);
			break;
		}
		unsigned reason = v->run->exit_reason;
		v->exits[reason < VCPU_EXIT_REASONS ? reason : 0]++;
		if (env->trace && reason != KVM_EXIT_IO && reason != KVM_EXIT_MMIO)
			trace_exit(v->id, vcpu_exit_name(reason));
		vcpu_flush_coalesced(env);
		handle_exit(v);
	}
	return NULL;
}
