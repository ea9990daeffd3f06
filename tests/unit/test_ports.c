/* The small platform ports: debug-exit, i8042 reset, ACPI sleep and port 0x80. */
#include "acpi_sleep.h"
#include "debug_exit.h"
#include "i8042.h"
#include "post_code.h"
#include "suites.h"

struct stop_record {
	int calls;
	int status;
};

static void record_stop(void *ctx, int status, const char *reason)
{
	struct stop_record *r = ctx;
	(void)reason;
	r->calls++;
	r->status = status;
}

START_TEST(test_debug_exit_status)
{
	struct stop_record r = { 0 };
	struct power_control power = { record_stop, &r };
	const unsigned values[] = { 0, 1, 2, 42, 0x7f };
	const int statuses[] = { 1, 3, 5, 85, 255 };

	for (int i = 0; i < 5; i++) {
		uint8_t v = (uint8_t)values[i];
		debug_exit_ops.write(&power, 0, &v, 1);
		ck_assert_int_eq(r.status, statuses[i]);
	}
	ck_assert_int_eq(r.calls, 5);
	ck_assert_int_eq(debug_exit_status(0x80), 1);   /* QEMU's exit status keeps 8 bits */
}
END_TEST

START_TEST(test_i8042_reset_only_on_0xfe)
{
	struct stop_record r = { 0 };
	struct power_control power = { record_stop, &r };
	uint8_t v = 0xd1, status = 0xff;

	i8042_ops.write(&power, 0, &v, 1);
	ck_assert_int_eq(r.calls, 0);
	i8042_ops.read(&power, 0, &status, 1);
	ck_assert_uint_eq(status, 0);   /* nothing to read, room to write */
	v = 0xfe;
	i8042_ops.write(&power, 0, &v, 1);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.status, 0);
}
END_TEST

START_TEST(test_acpi_sleep_powers_off_on_s5_only)
{
	struct stop_record r = { 0 };
	struct power_control power = { record_stop, &r };
	uint8_t status = 0xff;
	const uint8_t ignored[] = {
		5 << 2,              /* S5 without SLP_EN */
		(3 << 2) | 0x20,     /* S3 with SLP_EN: not offered */
		0x20,                /* S0 */
	};

	for (size_t i = 0; i < sizeof(ignored); i++)
		acpi_sleep_ops.write(&power, 0, &ignored[i], 1);
	uint8_t s5 = (ACPI_SLEEP_TYPE_S5 << 2) | 0x20;
	acpi_sleep_ops.write(&power, 1, &s5, 1);   /* the status register */
	ck_assert_int_eq(r.calls, 0);
	acpi_sleep_ops.read(&power, 1, &status, 1);
	ck_assert_uint_eq(status, 0);
	acpi_sleep_ops.write(&power, 0, &s5, 1);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.status, 0);
}
END_TEST

START_TEST(test_post_code_swallows_writes)
{
	uint8_t v = 0x42;

	post_code_ops.write(NULL, 0, &v, 1);
	post_code_ops.read(NULL, 0, &v, 1);
	ck_assert_uint_eq(v, 0xff);
}
END_TEST

Suite *ports_suite(void)
{
	Suite *s = suite_create("ports");
	TCase *tc = tcase_create("ports");

	tcase_add_test(tc, test_debug_exit_status);
	tcase_add_test(tc, test_i8042_reset_only_on_0xfe);
	tcase_add_test(tc, test_acpi_sleep_powers_off_on_s5_only);
	tcase_add_test(tc, test_post_code_swallows_writes);
	suite_add_tcase(s, tc);
	return s;
}
