/* CPUID as each vCPU sees it: APIC IDs and one consistent topology. */
#include <stdlib.h>

#include "cpuid.h"
#include "suites.h"

/* A small "supported" table, like KVM_GET_SUPPORTED_CPUID's. */
static struct kvm_cpuid2 *base_table(bool with_0x1f)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 8 * sizeof(c->entries[0]));
	ck_assert_ptr_nonnull(c);
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 0x1f };
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){ .function = 1, .eax = 0x806f2, .ebx = 0xff0800,
							    .ecx = 0x2000, .edx = 0x0f8bfbff };
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){ .function = 4, .index = 0, .flags = 1, .eax = 0x121 };
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){ .function = 4, .index = 3, .flags = 1, .eax = 0x163 };
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){ .function = 0xb, .flags = 1, .edx = 7 };
	if (with_0x1f)
		c->entries[c->nent++] = (struct kvm_cpuid_entry2){ .function = 0x1f, .flags = 1, .edx = 7 };
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){ .function = 0x40000000, .ebx = 0x4b4d564b };
	return c;
}

static const struct kvm_cpuid_entry2 *find(const struct kvm_cpuid2 *c, uint32_t fn, uint32_t index)
{
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == index)
			return &c->entries[i];
	return NULL;
}

static void check_vcpu(const struct kvm_cpuid2 *base, unsigned id, unsigned n, bool with_0x1f)
{
	struct kvm_cpuid2 *c = cpuid_for_vcpu(base, id, n);
	unsigned bits = cpuid_core_id_bits(n);

	ck_assert_ptr_nonnull(c);
	const struct kvm_cpuid_entry2 *l1 = find(c, 1, 0);
	ck_assert_uint_eq(l1->ebx >> 24, id);
	ck_assert_uint_eq((l1->ebx >> 16) & 0xff, bits < 8 ? 1u << bits : 0xff);   /* 8-bit field */
	ck_assert_uint_eq(l1->ebx & 0xffff, 0x0800);
	ck_assert_uint_eq(l1->ecx, 0x2000 | (1u << 31));
	ck_assert_uint_eq(l1->edx & (1u << 28), 1u << 28);
	ck_assert_uint_eq(find(c, 4, 0)->eax >> 26, bits < 6 ? (1u << bits) - 1 : 0x3f);   /* 6-bit field */
	ck_assert_uint_eq((find(c, 4, 0)->eax >> 14) & 0xfff, 0);                 /* L1: one core */
	ck_assert_uint_eq((find(c, 4, 3)->eax >> 14) & 0xfff, (1u << bits) - 1);  /* L3: the package */
	for (uint32_t fn = 0xb; fn <= 0x1f; fn += 0x14) {
		if (fn == 0x1f && !with_0x1f) {
			ck_assert_ptr_null(find(c, fn, 0));
			continue;
		}
		const struct kvm_cpuid_entry2 *smt = find(c, fn, 0), *core = find(c, fn, 1), *end = find(c, fn, 2);
		ck_assert_uint_eq(smt->ebx, 1);
		ck_assert_uint_eq(smt->ecx, 0x100);
		ck_assert_uint_eq(core->eax, bits);
		ck_assert_uint_eq(core->ebx, n);
		ck_assert_uint_eq(core->ecx, 0x201);
		ck_assert_uint_eq(end->ecx, 2);
		ck_assert_uint_eq(smt->edx, id);
		ck_assert_uint_eq(core->edx, id);
		ck_assert_uint_eq(smt->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
		ck_assert_ptr_null(find(c, fn, 3));
	}
	ck_assert_ptr_nonnull(find(c, 0x40000000, 0));
	free(c);
}

START_TEST(test_topology)
{
	for (int with_0x1f = 0; with_0x1f < 2; with_0x1f++) {
		struct kvm_cpuid2 *base = base_table(with_0x1f);
		check_vcpu(base, 0, 1, with_0x1f);
		check_vcpu(base, 1, 2, with_0x1f);
		check_vcpu(base, 2, 3, with_0x1f);
		check_vcpu(base, 7, 8, with_0x1f);
		check_vcpu(base, 200, 254, with_0x1f);
		free(base);
	}
}
END_TEST

/* AMD: the core count in 0x80000008 ECX, each core's ID in 0x8000001E; Intel's table is left alone. */
START_TEST(test_amd_topology)
{
	struct kvm_cpuid2 *base = calloc(1, sizeof(*base) + 4 * sizeof(base->entries[0]));
	ck_assert_ptr_nonnull(base);
	base->entries[base->nent++] = (struct kvm_cpuid_entry2){ .function = 0, .ebx = 0x68747541 };
	base->entries[base->nent++] = (struct kvm_cpuid_entry2){ .function = 0x80000008, .eax = 0x3030, .ecx = 0xf0ff };
	base->entries[base->nent++] = (struct kvm_cpuid_entry2){ .function = 0x8000001e, .ebx = 0x100, .ecx = 0x7ff };
	struct kvm_cpuid2 *c = cpuid_for_vcpu(base, 2, 3);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(find(c, 0x80000008, 0)->eax, 0x3030);
	ck_assert_uint_eq(find(c, 0x80000008, 0)->ecx, (2u << 12) | 2);   /* 2 APIC ID bits, 3 cores */
	ck_assert_uint_eq(find(c, 0x8000001e, 0)->eax, 2);
	ck_assert_uint_eq(find(c, 0x8000001e, 0)->ebx, 2);                /* core 2, one thread */
	ck_assert_uint_eq(find(c, 0x8000001e, 0)->ecx, 0);
	free(c);
	base->entries[0].ebx = 0x756e6547;   /* GenuineIntel */
	c = cpuid_for_vcpu(base, 2, 3);
	ck_assert_uint_eq(find(c, 0x80000008, 0)->ecx, 0xf0ff);
	free(c);
	free(base);
}
END_TEST

START_TEST(test_core_id_bits)
{
	ck_assert_uint_eq(cpuid_core_id_bits(1), 0);
	ck_assert_uint_eq(cpuid_core_id_bits(2), 1);
	ck_assert_uint_eq(cpuid_core_id_bits(3), 2);
	ck_assert_uint_eq(cpuid_core_id_bits(4), 2);
	ck_assert_uint_eq(cpuid_core_id_bits(254), 8);
}
END_TEST

Suite *cpuid_suite(void)
{
	Suite *s = suite_create("cpuid");
	TCase *tc = tcase_create("cpuid");

	tcase_add_test(tc, test_topology);
	tcase_add_test(tc, test_amd_topology);
	tcase_add_test(tc, test_core_id_bits);
	suite_add_tcase(s, tc);
	return s;
}
