/* Reads KVM's binary statistics (Documentation/virt/kvm/api.rst, KVM_GET_STATS_FD). */
#include "kvm_stats.h"

#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

const char *const kvm_counter_names[KVM_NR_COUNTERS] = {
	[KVM_COUNTER_EXITS] = "exits",
	[KVM_COUNTER_IO_EXITS] = "io_exits",
	[KVM_COUNTER_MMIO_EXITS] = "mmio_exits",
	[KVM_COUNTER_HALT_EXITS] = "halt_exits",
	[KVM_COUNTER_IRQ_INJECTIONS] = "irq_injections",
	[KVM_COUNTER_INSN_EMULATION] = "insn_emulation",
};

static void read_counters(int fd, const struct kvm_stats_header *h, struct kvm_counters *c)
{
	size_t desc_size = sizeof(struct kvm_stats_desc) + h->name_size;
	struct kvm_stats_desc *d = malloc(desc_size);

	for (uint32_t i = 0; d && i < h->num_desc; i++) {
		if (pread(fd, d, desc_size, h->desc_offset + (off_t)(i * desc_size)) != (ssize_t)desc_size)
			break;
		d->name[h->name_size - 1] = 0;
		for (int k = 0; k < KVM_NR_COUNTERS; k++) {
			uint64_t v;
			if (strcmp(d->name, kvm_counter_names[k]) || d->size != 1 ||
			    pread(fd, &v, sizeof(v), h->data_offset + d->offset) != sizeof(v))
				continue;
			c->value[k] = v;
			c->available = true;
		}
	}
	free(d);
}

struct kvm_counters kvm_vcpu_counters(int vcpu_fd)
{
	struct kvm_counters c = { 0 };
	struct kvm_stats_header h;
	int fd = ioctl(vcpu_fd, KVM_GET_STATS_FD, NULL);

	if (fd < 0)
		return c;
	if (pread(fd, &h, sizeof(h), 0) == sizeof(h) && h.name_size > 0 && h.name_size < 4096)
		read_counters(fd, &h, &c);
	close(fd);
	return c;
}
