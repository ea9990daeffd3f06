/*
 * The counters are always on: a vCPU bumps its own array (no sharing), and
 * devices count with relaxed atomics on the bus. Printing happens once all
 * vCPU threads have been joined.
 */
#include "stats.h"

#include <inttypes.h>
#include <sys/ioctl.h>

#include "e1000.h"
#include "kvm_stats.h"
#include "nvme.h"
#include "virtio_net.h"
#include "x86.h"

/* Reads LEN bytes at guest virtual address GVA through the vCPU's page tables (KVM_TRANSLATE). */
static int read_guest_virtual(const struct vcpu *v, uint64_t gva, void *buf, size_t len)
{
	struct kvm_translation tr = { .linear_address = gva };

	if ((gva & 0xfff) + len > 0x1000 || ioctl(v->fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid)
		return -1;
	return guest_mem_read(v->env->mem, tr.physical_address, buf, len);
}

/* The 16 bytes at rip and the 8 words at rsp: what the vCPU runs, and the return addresses to look up. */
static void print_code_and_stack(FILE *out, const struct vcpu *v, const struct kvm_regs *regs)
{
	uint8_t code[16];
	uint64_t stack[8];
	size_t code_len = 0x1000 - (regs->rip & 0xfff) < sizeof(code) ? 0x1000 - (regs->rip & 0xfff) : sizeof(code);

	if (read_guest_virtual(v, regs->rip, code, code_len) == 0) {
		fprintf(out, "  vcpu%u code:", v->id);
		for (size_t i = 0; i < code_len; i++)
			fprintf(out, " %02x", code[i]);
		fputc('\n', out);
	}
	if ((regs->rsp & 7) == 0 && (regs->rsp & 0xfff) <= 0x1000 - sizeof(stack) &&
	    read_guest_virtual(v, regs->rsp, stack, sizeof(stack)) == 0) {
		fprintf(out, "  vcpu%u stack:", v->id);
		for (size_t i = 0; i < 8; i++)
			fprintf(out, " %" PRIx64, stack[i]);
		fputc('\n', out);
	}
}

/*
 * The guest's own 4-level page walk for GVA, one entry per level as it is in
 * guest RAM: a hang in KVM's fault handling (a guest page-table access that
 * faults again and again) shows here whether the entry or the host is wrong.
 */
static void print_page_walk(FILE *out, const struct vcpu *v, const struct kvm_sregs *sregs, const char *what,
			    uint64_t gva)
{
	static const char *const level_name[] = { "pml4", "pdpt", "pd", "pt" };
	uint64_t table = sregs->cr3 & X86_PTE_ADDR;

	if (!(sregs->efer & X86_EFER_LMA) || (sregs->cr4 & X86_CR4_LA57))
		return;
	fprintf(out, "  vcpu%u %s 0x%" PRIx64 ":", v->id, what, gva);
	for (unsigned level = 0; level < 4; level++) {
		unsigned index = (gva >> (39 - 9 * level)) & 511;
		uint64_t entry;
		if (guest_mem_read(v->env->mem, table + 8 * index, &entry, sizeof(entry)) < 0) {
			fprintf(out, " %s@0x%" PRIx64 " outside RAM", level_name[level], table);
			break;
		}
		fprintf(out, " %s[%u]=0x%" PRIx64, level_name[level], index, entry);
		if (!(entry & X86_PTE_PRESENT) || (level > 0 && level < 3 && (entry & X86_PTE_LARGE)))
			break;
		table = entry & X86_PTE_ADDR;
	}
	fputc('\n', out);
}

/* Where each vCPU was when the VM stopped: the first thing to look at when a guest hangs. */
static void print_stop_points(FILE *out, const struct vcpu *vcpus, unsigned nr_vcpus)
{
	for (unsigned i = 0; i < nr_vcpus; i++) {
		struct kvm_regs regs;
		struct kvm_sregs sregs;
		if (ioctl(vcpus[i].fd, KVM_GET_REGS, &regs) < 0 || ioctl(vcpus[i].fd, KVM_GET_SREGS, &sregs) < 0)
			continue;
		fprintf(out, "  vcpu%u stopped at rip 0x%llx, cpl %u, rflags 0x%llx, rsp 0x%llx\n", i,
			(unsigned long long)regs.rip, sregs.cs.dpl, (unsigned long long)regs.rflags,
			(unsigned long long)regs.rsp);
		fprintf(out, "  vcpu%u cr2 0x%llx, cr3 0x%llx, idt 0x%llx\n", i, (unsigned long long)sregs.cr2,
			(unsigned long long)sregs.cr3, (unsigned long long)sregs.idt.base);
		print_code_and_stack(out, &vcpus[i], &regs);
		print_page_walk(out, &vcpus[i], &sregs, "rip", regs.rip);
		print_page_walk(out, &vcpus[i], &sregs, "rsp", regs.rsp);
		print_page_walk(out, &vcpus[i], &sregs, "cr2", sregs.cr2);
		print_page_walk(out, &vcpus[i], &sregs, "idt", sregs.idt.base);
	}
}

static void print_exits(FILE *out, const struct vcpu *vcpus, unsigned nr_vcpus)
{
	fprintf(out, "exits by vCPU and reason:\n");
	for (unsigned i = 0; i < nr_vcpus; i++) {
		const struct vcpu *v = &vcpus[i];
		uint64_t total = 0;
		for (unsigned r = 0; r < VCPU_EXIT_REASONS; r++)
			total += v->exits[r];
		fprintf(out, "  vcpu%u %12" PRIu64 " total\n", i, total);
		for (unsigned r = 0; r < VCPU_EXIT_REASONS; r++)
			if (v->exits[r])
				fprintf(out, "  vcpu%u %12" PRIu64 " %s\n", i, v->exits[r], vcpu_exit_name(r));
		if (v->pvm_recoveries)
			fprintf(out, "  vcpu%u %12" PRIu64 " of them emulation failures vmm carried out (kvm_pvm)\n", i,
				v->pvm_recoveries);
	}
}

struct print_ctx {
	FILE *out;
	const char *bus;
};

static void print_range(const struct bus_range *r, void *ctx)
{
	const struct print_ctx *p = ctx;

	fprintf(p->out, "  %-4s 0x%08" PRIx64 " %-12s %12" PRIu64 " reads %12" PRIu64 " writes\n", p->bus,
		r->base, r->name, (uint64_t)atomic_load(&r->reads), (uint64_t)atomic_load(&r->writes));
}

static void print_bus(FILE *out, const struct bus *bus)
{
	struct print_ctx ctx = { out, bus->name };

	bus_for_each(bus, print_range, &ctx);
	fprintf(out, "  %-4s %-23s %12" PRIu64 " reads %12" PRIu64 " writes\n", bus->name, "(unclaimed)",
		(uint64_t)atomic_load(&bus->unclaimed_reads), (uint64_t)atomic_load(&bus->unclaimed_writes));
}

static void print_e1000(FILE *out, unsigned i, struct e1000 *e)
{
	struct e1000_stats s = e1000_stats(e);

	fprintf(out, "  nic%u e1000  %12" PRIu64 " rx %12" PRIu64 " tx %12" PRIu64 " filtered %12" PRIu64
		" tx errors %12" PRIu64 " interrupts %12" PRIu64 " waits for descriptors %12" PRIu64
		" oversized %12" PRIu64 " rx errors",
		i, s.rx_frames, s.tx_frames, s.rx_filtered, s.tx_errors, s.interrupts, s.rx_waits, s.rx_oversized,
		s.rx_errors);
}

static void print_nics(FILE *out, struct machine *m)
{
	for (unsigned i = 0; i < m->nr_nics; i++) {
		if (m->nics[i].e1000) {
			print_e1000(out, i, m->nics[i].e1000);
		} else {
			struct virtio_net_stats s = virtio_net_stats(m->nics[i].net);
			fprintf(out, "  nic%u virtio %12" PRIu64 " rx %12" PRIu64 " tx %12" PRIu64 " filtered %12" PRIu64
				" tx errors", i, s.rx_frames, s.tx_frames, s.rx_filtered, s.tx_errors);
		}
		if (m->nics[i].cfg->backend == NIC_USER)
			fprintf(out, " %12" PRIu64 " dropped by the NAT", net_user_dropped(&m->nics[i].user));
		fputc('\n', out);
	}
}

/* Only NVMe controllers count for themselves (virtio-blk shows in the bus counters alone). */
static void print_disks(FILE *out, struct machine *m)
{
	bool heading = false;

	for (unsigned i = 0; i < m->nr_disks; i++) {
		if (!m->disks[i].nvme)
			continue;
		struct nvme_stats s = nvme_stats(m->disks[i].nvme);
		if (!heading)
			fprintf(out, "NVMe commands:\n");
		heading = true;
		fprintf(out, "  disk%u nvme   %12" PRIu64 " commands %12" PRIu64 " admin commands %12" PRIu64
			" errors %12" PRIu64 " interrupts %12" PRIu64 " doorbell writes %12" PRIu64 " shadow polls\n",
			i, s.commands, s.admin_commands, s.errors, s.interrupts, s.doorbell_writes, s.shadow_polls);
	}
}

/* The flash commands that changed UEFI's variable store (its reads cost no exit while it reads as an array). */
static void print_vars_flash(FILE *out, struct machine *m)
{
	struct pflash_stats s;

	if (!m->vars_flash)
		return;
	pflash_get_stats(m->vars_flash, &s);
	fprintf(out, "UEFI variable store (flash): %12" PRIu64 " byte programs %12" PRIu64 " block erases %12" PRIu64
		" refused\n", s.programs, s.erases, s.refused);
}

/* KVM's counters include the exits the kernel handled by itself. */
static void print_kvm_counters(FILE *out, const struct vcpu *vcpus, unsigned nr_vcpus)
{
	for (unsigned i = 0; i < nr_vcpus; i++) {
		struct kvm_counters c = kvm_vcpu_counters(vcpus[i].fd);
		if (!c.available)
			continue;
		if (i == 0)
			fprintf(out, "all VM exits by vCPU (KVM's counters, in-kernel ones included):\n");
		fprintf(out, "  vcpu%u", i);
		for (int k = 0; k < KVM_NR_COUNTERS; k++)
			fprintf(out, " %s %" PRIu64, kvm_counter_names[k], c.value[k]);
		fputc('\n', out);
	}
}

void stats_print(FILE *out, const struct vcpu *vcpus, unsigned nr_vcpus, struct machine *m)
{
	print_exits(out, vcpus, nr_vcpus);
	print_stop_points(out, vcpus, nr_vcpus);
	print_kvm_counters(out, vcpus, nr_vcpus);
	fprintf(out, "device accesses:\n");
	print_bus(out, &m->pio);
	print_bus(out, &m->mmio);
	if (m->nr_nics)
		fprintf(out, "network frames:\n");
	print_nics(out, m);
	print_disks(out, m);
	print_vars_flash(out, m);
}
