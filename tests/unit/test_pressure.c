/* SPDX-License-Identifier: MIT */
/* PSI parsing and the pause decision with its hysteresis. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "pressure.h"

static int parse(const char *s, struct psi_avg *v)
{
	return psi_parse(s, strlen(s), v);
}

static void test_parse(void **state)
{
	struct psi_avg v;

	(void)state;
	assert_int_equal(parse("some avg10=12.34 avg60=1.00 avg300=0.00 total=123\n"
			       "full avg10=0.50 avg60=0.00 avg300=0.00 total=7\n",
			       &v),
			 0);
	assert_int_equal(v.some_bp, 1234);
	assert_int_equal(v.full_bp, 50);
	/* cpu.pressure on old kernels has no full line */
	assert_int_equal(parse("some avg10=100.00 avg60=0 avg300=0 total=0", &v), 0);
	assert_int_equal(v.some_bp, 10000);
	assert_int_equal(v.full_bp, 0);
	assert_int_equal(parse("some avg10=3 avg60=0 avg300=0 total=0\n", &v), 0);
	assert_int_equal(v.some_bp, 300);
	assert_int_equal(parse("some avg10=0.005 avg60=0 avg300=0 total=0\n", &v), 0);
	assert_int_equal(v.some_bp, 0);
}

static void test_parse_bad(void **state)
{
	struct psi_avg v;

	(void)state;
	assert_int_equal(parse("", &v), -EINVAL);
	assert_int_equal(parse("full avg10=1.00 avg60=0 avg300=0 total=0\n", &v), -EINVAL);
	assert_int_equal(parse("some avg10=x avg60=0\n", &v), -EINVAL);
	assert_int_equal(parse("some avg10=101.00 avg60=0\n", &v), -EINVAL);
	assert_int_equal(parse("some avg10=1.00x avg60=0\n", &v), -EINVAL);
	assert_int_equal(parse("some avg10=99999999999999999999 avg60=0\n", &v), -EINVAL);
	assert_int_equal(parse("some avg10=1.00 avg60=0\nbogus\n", &v), -EINVAL);
	assert_int_equal(parse("some", &v), -EINVAL);
}

static void test_high(void **state)
{
	struct psi_avg v = {.some_bp = 1100, .full_bp = 0};
	char why[96];

	(void)state;
	/* enters above the threshold */
	assert_true(psi_high(&v, 1000, 200, false, why, sizeof(why)));
	assert_string_equal(why, "some avg10 11.00% > 10.00%");
	v.some_bp = 1000;
	assert_false(psi_high(&v, 1000, 200, false, why, sizeof(why)));
	/* stays high until both fell to half */
	v.some_bp = 600;
	assert_true(psi_high(&v, 1000, 200, true, why, sizeof(why)));
	assert_string_equal(why, "some avg10 6.00% still above half of 10.00%");
	v.some_bp = 500;
	assert_false(psi_high(&v, 1000, 200, true, why, sizeof(why)));
	/* full decides when it is the one above */
	v = (struct psi_avg){.some_bp = 300, .full_bp = 250};
	assert_true(psi_high(&v, 1000, 200, false, why, sizeof(why)));
	assert_string_equal(why, "full avg10 2.50% > 2.00%");
	/* 0 = not watched */
	v = (struct psi_avg){.some_bp = 9000, .full_bp = 9000};
	assert_false(psi_high(&v, 0, 0, false, why, sizeof(why)));
	assert_false(psi_high(&v, 0, 0, true, NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_high),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
