/* Split virtqueues: ring walking, indirect tables, EVENT_IDX arithmetic and every malformed case. */
#include <string.h>

#include "fake_guest.h"
#include "suites.h"

static struct fake_guest g;
static struct virtqueue vq;
static struct virtq_chain chain;

static void setup_size(uint16_t size)
{
	fake_guest_free(&g);
	fake_guest_init(&g, size);
	memset(&vq, 0, sizeof(vq));
	fake_queue_layout(&g, &vq);
	ck_assert_int_eq(virtq_enable(&vq), 0);
}

static void setup(void)
{
	setup_size(16);
}

static void teardown(void)
{
	fake_guest_free(&g);
}

static struct virtq_desc *desc(uint16_t i)
{
	return &((struct virtq_desc *)fake_ptr(&g, FAKE_DESC_GPA))[i];
}

START_TEST(test_direct_chain)
{
	struct fake_buf bufs[] = { { 0x100000, 16, false }, { 0x101000, 100, false }, { 0x102000, 513, true } };

	fake_publish(&g, fake_add_chain(&g, 3, bufs, 3, false));
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_uint_eq(chain.head, 3);
	ck_assert_uint_eq(chain.nr_out, 2);
	ck_assert_uint_eq(chain.nr_in, 1);
	ck_assert_uint_eq(chain.out_len, 116);
	ck_assert_uint_eq(chain.in_len, 513);
	ck_assert_ptr_eq(chain.iov[0].iov_base, fake_ptr(&g, 0x100000));
	ck_assert_ptr_eq(chain.iov[2].iov_base, fake_ptr(&g, 0x102000));
	ck_assert_int_eq(virtq_pop(&vq, &chain), 0);
	virtq_push(&vq, 3, 513);
	ck_assert_uint_eq(fake_used_pending(&g), 1);
	struct virtq_used_elem e = fake_next_used(&g);
	ck_assert_uint_eq(e.id, 3);
	ck_assert_uint_eq(e.len, 513);
}
END_TEST

START_TEST(test_indirect_chain)
{
	struct fake_buf bufs[] = { { 0x100000, 16, false }, { 0x101000, 4096, true }, { 0x102000, 1, true } };

	fake_publish(&g, fake_add_chain(&g, 0, bufs, 3, true));
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_uint_eq(chain.nr_out, 1);
	ck_assert_uint_eq(chain.nr_in, 2);
	ck_assert_uint_eq(chain.in_len, 4097);
}
END_TEST

START_TEST(test_zero_length_buffers_skipped)
{
	struct fake_buf bufs[] = { { 0x100000, 0, false }, { 0x101000, 8, true } };

	fake_publish(&g, fake_add_chain(&g, 0, bufs, 2, false));
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_uint_eq(chain.nr_out, 0);
	ck_assert_uint_eq(chain.nr_in, 1);
}
END_TEST

START_TEST(test_wrap_around)
{
	struct fake_buf buf = { 0x100000, 8, true };

	/* More than 65536 round trips: ring positions and the 16-bit indices wrap. */
	for (unsigned i = 0; i < 70000; i++) {
		uint16_t head = (uint16_t)(i % 16);
		fake_publish(&g, fake_add_chain(&g, head, &buf, 1, false));
		ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
		ck_assert_uint_eq(chain.head, head);
		virtq_push(&vq, head, 8);
		ck_assert_uint_eq(fake_next_used(&g).id, head);
	}
	ck_assert_uint_eq(fake_used(&g)[1], (uint16_t)70000);
}
END_TEST

static void expect_bad(void)
{
	ck_assert_int_eq(virtq_pop(&vq, &chain), -1);
}

START_TEST(test_loop_is_caught)
{
	struct fake_buf bufs[] = { { 0x100000, 8, false }, { 0x101000, 8, false } };

	fake_add_chain(&g, 0, bufs, 2, false);
	desc(1)->flags |= VIRTQ_DESC_F_NEXT;
	desc(1)->next = 0;
	fake_publish(&g, 0);
	expect_bad();
}
END_TEST

START_TEST(test_buffers_outside_ram)
{
	struct fake_buf beyond = { FAKE_RAM_SIZE, 8, false };
	struct fake_buf across = { FAKE_RAM_SIZE - 4, 8, false };
	struct fake_buf wrap = { UINT64_MAX - 3, 8, false };

	fake_publish(&g, fake_add_chain(&g, 0, &beyond, 1, false));
	expect_bad();
	setup_size(16);
	fake_publish(&g, fake_add_chain(&g, 0, &across, 1, false));
	expect_bad();
	setup_size(16);
	fake_publish(&g, fake_add_chain(&g, 0, &wrap, 1, false));
	expect_bad();
}
END_TEST

START_TEST(test_bad_indices)
{
	struct fake_buf bufs[] = { { 0x100000, 8, false }, { 0x101000, 8, false } };

	fake_publish(&g, 16);   /* head out of range */
	expect_bad();
	setup_size(16);
	fake_add_chain(&g, 0, bufs, 2, false);
	desc(0)->next = 16;
	fake_publish(&g, 0);
	expect_bad();
	setup_size(16);
	fake_avail(&g)[1] = 17;   /* more available than the ring holds */
	expect_bad();
}
END_TEST

START_TEST(test_writable_before_readable)
{
	struct fake_buf bufs[] = { { 0x100000, 8, true }, { 0x101000, 8, false } };

	fake_publish(&g, fake_add_chain(&g, 0, bufs, 2, false));
	expect_bad();
}
END_TEST

static struct virtq_desc *indirect_table(void)
{
	return fake_ptr(&g, FAKE_INDIRECT_GPA);
}

START_TEST(test_bad_indirect_tables)
{
	struct fake_buf bufs[] = { { 0x100000, 8, false }, { 0x101000, 8, true } };

	fake_publish(&g, fake_add_chain(&g, 0, bufs, 2, true));
	indirect_table()[1].flags |= VIRTQ_DESC_F_INDIRECT;   /* nested */
	expect_bad();
	setup_size(16);
	fake_publish(&g, fake_add_chain(&g, 0, bufs, 2, true));
	desc(0)->flags |= VIRTQ_DESC_F_NEXT;   /* indirect and next */
	expect_bad();
	setup_size(16);
	fake_publish(&g, fake_add_chain(&g, 0, bufs, 2, true));
	desc(0)->len = 20;   /* not whole descriptors */
	expect_bad();
	setup_size(16);
	fake_publish(&g, fake_add_chain(&g, 0, bufs, 2, true));
	indirect_table()[0].next = 5;   /* beyond the table */
	expect_bad();
	setup_size(16);
	fake_publish(&g, fake_add_chain(&g, 0, bufs, 2, true));
	desc(0)->addr = FAKE_RAM_SIZE - 16;
	desc(0)->len = 32;
	expect_bad();
}
END_TEST

START_TEST(test_chain_too_long)
{
	static struct fake_buf bufs[VIRTQ_MAX_CHAIN + 1];

	for (unsigned i = 0; i <= VIRTQ_MAX_CHAIN; i++)
		bufs[i] = (struct fake_buf){ 0x100000 + i * 16, 16, false };
	fake_publish(&g, fake_add_chain(&g, 0, bufs, VIRTQ_MAX_CHAIN + 1, true));
	expect_bad();
	setup_size(16);
	fake_publish(&g, fake_add_chain(&g, 0, bufs, VIRTQ_MAX_CHAIN, true));
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_uint_eq(chain.nr_out, VIRTQ_MAX_CHAIN);
}
END_TEST

START_TEST(test_enable_checks)
{
	struct virtqueue bad;

	memset(&bad, 0, sizeof(bad));
	fake_queue_layout(&g, &bad);
	bad.size = 12;
	ck_assert_int_eq(virtq_enable(&bad), -1);
	bad.size = 16;
	bad.desc_gpa = FAKE_DESC_GPA + 8;
	ck_assert_int_eq(virtq_enable(&bad), -1);
	bad.desc_gpa = FAKE_RAM_SIZE - 64;
	ck_assert_int_eq(virtq_enable(&bad), -1);
	bad.desc_gpa = FAKE_DESC_GPA;
	bad.used_gpa = FAKE_RAM_SIZE - 8;
	ck_assert_int_eq(virtq_enable(&bad), -1);
	bad.used_gpa = FAKE_USED_GPA;
	ck_assert_int_eq(virtq_enable(&bad), 0);
}
END_TEST

START_TEST(test_no_interrupt_flag)
{
	virtq_push(&vq, 0, 0);
	ck_assert(virtq_should_interrupt(&vq));
	fake_avail(&g)[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
	virtq_push(&vq, 0, 0);
	ck_assert(!virtq_should_interrupt(&vq));
}
END_TEST

START_TEST(test_event_idx_interrupts)
{
	uint16_t *used_event = &fake_avail(&g)[2 + 16];

	vq.event_idx = true;
	virtq_push(&vq, 0, 0);
	ck_assert(virtq_should_interrupt(&vq));          /* the first is always sent */
	*used_event = 3;                                  /* "interrupt me after entry 3" */
	virtq_push(&vq, 0, 0);                            /* used idx 2 */
	ck_assert(!virtq_should_interrupt(&vq));
	virtq_push(&vq, 0, 0);                            /* 3 */
	ck_assert(!virtq_should_interrupt(&vq));
	virtq_push(&vq, 0, 0);                            /* 4: passed 3 */
	ck_assert(virtq_should_interrupt(&vq));
	virtq_push(&vq, 0, 0);                            /* 5: not passed again */
	ck_assert(!virtq_should_interrupt(&vq));
}
END_TEST

START_TEST(test_event_idx_wraps)
{
	uint16_t *used_event = &fake_avail(&g)[2 + 16];

	vq.event_idx = true;
	vq.used_idx = 65530;
	vq.signalled_used = 65530;
	vq.signalled_valid = true;
	*used_event = 65533;
	for (int i = 0; i < 3; i++)
		virtq_push(&vq, 0, 0);   /* 65533: event not yet passed */
	ck_assert(!virtq_should_interrupt(&vq));
	for (int i = 0; i < 5; i++)
		virtq_push(&vq, 0, 0);   /* 2, after the wrap */
	ck_assert(virtq_should_interrupt(&vq));
	*used_event = 1;
	virtq_push(&vq, 0, 0);   /* 3: 1 lies behind the last signal at 2 */
	ck_assert(!virtq_should_interrupt(&vq));
}
END_TEST

START_TEST(test_event_idx_kick_suppression)
{
	struct fake_buf buf = { 0x100000, 8, true };
	uint16_t *avail_event = (uint16_t *)((uint8_t *)fake_used(&g) + 4 + 8 * 16);

	vq.event_idx = true;
	fake_publish(&g, fake_add_chain(&g, 0, &buf, 1, false));
	fake_publish(&g, fake_add_chain(&g, 1, &buf, 1, false));
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	/* The device leaves entry 1 in the ring: the next kick is still for entry 2. */
	ck_assert(!virtq_arm_kick(&vq));
	ck_assert_uint_eq(*avail_event, 2);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 0);   /* empty: armed */
	ck_assert_uint_eq(*avail_event, 2);            /* kick me when entry 2 is added */
	/* The driver adding entry 2 passes avail_event, so it kicks (vring_need_event). */
	uint16_t old = fake_avail(&g)[1];
	fake_publish(&g, fake_add_chain(&g, 2, &buf, 1, false));
	uint16_t new = fake_avail(&g)[1];
	ck_assert((uint16_t)(new - *avail_event - 1) < (uint16_t)(new - old));
}
END_TEST

/* vring_need_event() as the driver runs it when it publishes old..new. */
static bool driver_kicks(uint16_t event, uint16_t old, uint16_t new)
{
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

START_TEST(test_held_kicks_stay_held)
{
	struct fake_buf buf = { 0x100000, 8, true };
	uint16_t *avail_event = (uint16_t *)((uint8_t *)fake_used(&g) + 4 + 8 * 16);

	vq.event_idx = true;
	for (uint16_t round = 0; round < 40; round++) {
		uint16_t old = fake_avail(&g)[1];
		/* The driver publishes a batch, and the device takes all of it before the driver looks. */
		for (uint16_t i = 0; i < 3; i++)
			fake_publish(&g, fake_add_chain(&g, (uint16_t)((round * 3 + i) % 16), &buf, 1, false));
		while (virtq_pop(&vq, &chain) == 1)
			;
		virtq_hold_kicks(&vq);
		ck_assert_msg(!driver_kicks(*avail_event, old, fake_avail(&g)[1]),
			      "round %u: the driver kicks for buffers the device already took", round);
		/* A later batch while held gets no kick either. */
		ck_assert(!driver_kicks(*avail_event, fake_avail(&g)[1], (uint16_t)(fake_avail(&g)[1] + 5)));
		for (uint16_t i = 0; i < 3; i++)
			virtq_push(&vq, 0, 0);
	}
}
END_TEST

Suite *virtqueue_suite(void)
{
	Suite *s = suite_create("virtqueue");
	TCase *tc = tcase_create("split");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_direct_chain);
	tcase_add_test(tc, test_indirect_chain);
	tcase_add_test(tc, test_zero_length_buffers_skipped);
	tcase_add_test(tc, test_wrap_around);
	tcase_add_test(tc, test_loop_is_caught);
	tcase_add_test(tc, test_buffers_outside_ram);
	tcase_add_test(tc, test_bad_indices);
	tcase_add_test(tc, test_writable_before_readable);
	tcase_add_test(tc, test_bad_indirect_tables);
	tcase_add_test(tc, test_chain_too_long);
	tcase_add_test(tc, test_enable_checks);
	tcase_add_test(tc, test_no_interrupt_flag);
	tcase_add_test(tc, test_event_idx_interrupts);
	tcase_add_test(tc, test_event_idx_wraps);
	tcase_add_test(tc, test_event_idx_kick_suppression);
	tcase_add_test(tc, test_held_kicks_stay_held);
	suite_add_tcase(s, tc);
	return s;
}
