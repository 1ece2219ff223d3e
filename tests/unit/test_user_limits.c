/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "user-limits.h"

#define S 1000000ULL

/* A burst, then the rate; users are counted apart. */
static void test_burst_then_rate(void **state)
{
	struct user_limits *ul = user_limits_new(60, 3); /* 3, then 1 a second */
	uint64_t now = 100 * S, retry;
	(void)state;

	assert_non_null(ul);
	for (int i = 0; i < 3; i++)
		assert_true(user_limits_take(ul, 1000, now, &retry));
	assert_false(user_limits_take(ul, 1000, now, &retry));
	assert_int_equal(retry, 1 * S);
	/* Another user has a bucket of its own. */
	assert_true(user_limits_take(ul, 1001, now, &retry));
	assert_int_equal(retry, 0);
	/* Half a second later: still half a call short. */
	assert_false(user_limits_take(ul, 1000, now + S / 2, &retry));
	assert_int_equal(retry, S / 2);
	assert_true(user_limits_take(ul, 1000, now + S, &retry));
	assert_false(user_limits_take(ul, 1000, now + S, &retry));
	/* Over the next minute: 60 calls, not more. */
	int ok = 0;
	for (uint64_t t = now + S; t <= now + 61 * S; t += S / 10)
		ok += user_limits_take(ul, 1000, t, &retry);
	assert_int_equal(ok, 60);
	user_limits_free(ul);
}

/* Users whose buckets are full again are dropped when room is needed, so
 * the table stays bounded. */
static void test_bounded(void **state)
{
	struct user_limits *ul = user_limits_new(60, 2);
	uint64_t retry;
	(void)state;

	for (uid_t u = 0; u < 1024; u++)
		assert_true(user_limits_take(ul, u, 0, &retry));
	assert_int_equal(user_limits_count(ul), 1024);
	/* All 1024 are in use: a new user must wait. */
	assert_false(user_limits_take(ul, 5000, 0, &retry));
	assert_true(retry > 0);
	/* A second on, every bucket is full again: they make room. */
	assert_true(user_limits_take(ul, 5000, 1 * S, &retry));
	assert_int_equal(user_limits_count(ul), 1);
	user_limits_free(ul);
	user_limits_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst_then_rate),
	    cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
