/* /dev/kvm: capabilities, limits, and reading a vCPU's code at RIP. */
#include "kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define KVM_DEVICE "/dev/kvm"

struct kvm_cap_desc {
	int cap;
	const char *name;
	const char *why;
};

static const struct kvm_cap_desc required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", "guest RAM" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP", "in-kernel IOAPIC, PIC and local APICs" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2", "in-kernel PIT" },
	{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING", "GSI and MSI routing" },
	{ KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI", "MSI delivery" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD", "device notifications without exits" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD", "device interrupts without exits" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID", "CPUID set-up" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR", "real-mode support on Intel" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT", "stopping vCPUs without races" },
	{ KVM_CAP_NR_VCPUS, "KVM_CAP_NR_VCPUS", "vCPU limits" },
};

#define NR_CAPS (sizeof(required_caps) / sizeof(required_caps[0]))

bool kvm_host_is_pvm(void)
{
	return access("/sys/module/kvm_pvm", F_OK) == 0;
}

static int open_device(struct vmm_error *err)
{
	int fd = open(KVM_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot open %s: %s%s", KVM_DEVICE, strerror(errno),
				errno == EACCES ? " (run as root or join the kvm group)" :
				errno == ENOENT ? " (is the kvm module loaded?)" : "");
	return fd;
}

static int max_vcpus(int fd)
{
	int n = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	return n > 0 ? n : ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
}

int kvm_host_open(struct kvm_host *h, struct vmm_error *err)
{
	memset(h, 0, sizeof(*h));
	h->fd = open_device(err);
	if (h->fd < 0)
		return -1;
	h->api_version = ioctl(h->fd, KVM_GET_API_VERSION, 0);
	if (h->api_version != KVM_API_VERSION) {
		vmm_fail(err, VMM_EXIT_RUNTIME, "%s speaks KVM API %d; vmm needs %d", KVM_DEVICE,
			 h->api_version, KVM_API_VERSION);
		goto fail;
	}
	for (size_t i = 0; i < NR_CAPS; i++) {
		if (ioctl(h->fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			vmm_fail(err, VMM_EXIT_RUNTIME, "host KVM lacks %s (needed for %s)",
				 required_caps[i].name, required_caps[i].why);
			goto fail;
		}
	}
	h->max_vcpus = max_vcpus(h->fd);
	h->run_size = ioctl(h->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (h->run_size <= 0) {
		vmm_fail(err, VMM_EXIT_RUNTIME, "KVM_GET_VCPU_MMAP_SIZE failed: %s", strerror(errno));
		goto fail;
	}
	h->pvm = kvm_host_is_pvm();
	h->coalesced_mmio_page = ioctl(h->fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
	if (h->coalesced_mmio_page < 0)
		h->coalesced_mmio_page = 0;
	return 0;
fail:
	close(h->fd);
	h->fd = -1;
	return -1;
}

void kvm_host_close(struct kvm_host *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}

int kvm_host_describe(FILE *out, struct vmm_error *err)
{
	int fd = open_device(err);
	if (fd < 0)
		return -1;
	fprintf(out, "device:             %s\n", KVM_DEVICE);
	fprintf(out, "api version:        %d\n", ioctl(fd, KVM_GET_API_VERSION, 0));
	fprintf(out, "max vcpus:          %d\n", max_vcpus(fd));
	fprintf(out, "recommended vcpus:  %d\n", ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS));
	fprintf(out, "pvm host:           %s\n", kvm_host_is_pvm() ?
		"yes (kvm_pvm: guest ring 0 is emulated, see docs/architecture.md)" : "no");
	fprintf(out, "capabilities:\n");
	for (size_t i = 0; i < NR_CAPS; i++) {
		int v = ioctl(fd, KVM_CHECK_EXTENSION, required_caps[i].cap);
		fprintf(out, "  %-24s %-8s %s\n", required_caps[i].name, v > 0 ? "yes" : "MISSING",
			required_caps[i].why);
	}
	close(fd);
	return 0;
}

size_t kvm_vcpu_code_bytes(int vcpu_fd, const struct guest_mem *mem, uint8_t *buf, size_t max,
			   struct kvm_regs *regs, struct kvm_sregs *sregs)
{
	if (ioctl(vcpu_fd, KVM_GET_REGS, regs) < 0 || ioctl(vcpu_fd, KVM_GET_SREGS, sregs) < 0)
		return 0;
	struct kvm_translation t = { .linear_address = sregs->cs.base + regs->rip };
	if (ioctl(vcpu_fd, KVM_TRANSLATE, &t) < 0 || !t.valid)
		return 0;
	size_t n = max;
	uint64_t to_page_end = 4096 - (t.physical_address & 4095);
	if (n > to_page_end)
		n = (size_t)to_page_end;
	return guest_mem_read(mem, t.physical_address, buf, n) < 0 ? 0 : n;
}
