/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "stall.h"

#define S  1000000ULL
#define MS 1000ULL

/* 0.5%: 5 ms of collapse time a second, and 5 ms to start with. */
static void test_burst_then_paced(void **state)
{
	struct stall_budget sb;
	uint64_t now = 1000 * S;
	(void)state;

	stall_init(&sb, 50, now);
	assert_int_equal(stall_wait_usec(&sb, now), 0);
	stall_charge(&sb, now, 2 * MS);
	assert_int_equal(stall_wait_usec(&sb, now), 0);
	stall_charge(&sb, now, 2 * MS);
	assert_int_equal(stall_wait_usec(&sb, now), 0); /* 1 ms left */
	stall_charge(&sb, now, 2 * MS);
	/* 1 ms of debt: 200 ms at 0.5%. */
	assert_int_equal(stall_wait_usec(&sb, now), 200 * MS);
	assert_int_equal(stall_wait_usec(&sb, now + 100 * MS), 100 * MS);
	assert_int_equal(stall_wait_usec(&sb, now + 200 * MS), 0);
}

/* Over a long run the collapse time is the share of the wall time, plus the
 * first burst, whatever the calls take. */
static void test_share_over_time(void **state)
{
	struct stall_budget sb;
	uint64_t now = 5 * S, t0 = now, spent = 0, calls = 0;
	(void)state;

	stall_init(&sb, 100, now); /* 1% */
	while (now < t0 + 100 * S) {
		uint64_t w = stall_wait_usec(&sb, now);
		if (w) {
			now += w;
			continue;
		}
		uint64_t took = 700 + (calls * 37) % 900; /* 0.7-1.6 ms */
		now += took;
		stall_charge(&sb, now, took);
		spent += took;
		calls++;
	}
	/* 1% of 100 s is 1 s, plus the 10 ms burst, plus at most one call. */
	assert_true(spent <= 1 * S + 10 * MS + 1600);
	assert_true(spent >= 1 * S - 2 * MS);
}

/* Frequent calls lose no credit to rounding. */
static void test_frequent_calls_lose_nothing(void **state)
{
	struct stall_budget sb;
	uint64_t now = 0;
	(void)state;

	stall_init(&sb, 50, now);
	stall_charge(&sb, now, 5 * MS + 1 * MS); /* 1 ms of debt: 200 ms */
	for (int i = 0; i < 2000; i++) {	 /* 2000 x 100 us */
		now += 100;
		(void)stall_wait_usec(&sb, now);
	}
	assert_int_equal(stall_wait_usec(&sb, now), 0);
	assert_int_equal(stall_wait_usec(&sb, 199 * MS), 0);
}

static void test_no_budget(void **state)
{
	struct stall_budget sb;
	(void)state;

	stall_init(&sb, 0, 0);
	stall_charge(&sb, 0, 10 * S);
	assert_int_equal(stall_wait_usec(&sb, 0), 0);
	stall_init(&sb, 10000, 0); /* 100% is no budget either */
	stall_charge(&sb, 0, 10 * S);
	assert_int_equal(stall_wait_usec(&sb, 0), 0);
}

/* A call that hung does not stop the target's collapses for hours. */
static void test_debt_bounded(void **state)
{
	struct stall_budget sb;
	(void)state;

	stall_init(&sb, 50, 0);
	stall_charge(&sb, 0, 3600 * S);
	assert_int_equal(stall_wait_usec(&sb, 0), 60 * S);
	stall_charge(&sb, 0, UINT64_MAX);
	assert_int_equal(stall_wait_usec(&sb, 0), 60 * S);
}

static void test_reconfigure_and_clock(void **state)
{
	struct stall_budget sb;
	uint64_t now = 10 * S;
	(void)state;

	stall_init(&sb, 100, now);	 /* 10 ms */
	stall_reconfigure(&sb, 50, now); /* clamped to 5 ms */
	stall_charge(&sb, now, 6 * MS);
	assert_int_equal(stall_wait_usec(&sb, now), 200 * MS);
	/* The clock stepping back earns nothing and costs nothing. */
	assert_int_equal(stall_wait_usec(&sb, now - S), 200 * MS);
	assert_int_equal(stall_wait_usec(&sb, now + 200 * MS), 0);
	/* Reconfigured to a larger share while in debt: the debt stays. */
	stall_charge(&sb, now + 200 * MS, 2 * MS);
	stall_reconfigure(&sb, 100, now + 200 * MS);
	assert_int_equal(stall_wait_usec(&sb, now + 200 * MS), 200 * MS);
	/* ... and to a smaller one with a debt beyond its floor: bounded. */
	stall_charge(&sb, now + 200 * MS, 590 * MS); /* 592 ms of debt at 1% */
	stall_reconfigure(&sb, 1, now + 200 * MS);   /* floor: 0.1 ms x 60 */
	stall_charge(&sb, now + 200 * MS, 1);
	assert_int_equal(stall_wait_usec(&sb, now + 200 * MS), 60 * S);
}

/* A debt is dropped when nobody waited; a surplus stays. */
static void test_forgive(void **state)
{
	struct stall_budget sb;
	(void)state;

	stall_init(&sb, 50, 0);
	stall_charge(&sb, 0, 60 * MS);
	assert_true(stall_wait_usec(&sb, 0) > 10 * S);
	stall_forgive(&sb, 0);
	assert_int_equal(stall_wait_usec(&sb, 0), 0);
	stall_forgive(&sb, 0);
	stall_charge(&sb, 0, 1 * MS); /* 1 ms of debt: 200 ms */
	assert_int_equal(stall_wait_usec(&sb, 0), 200 * MS);
	stall_init(&sb, 50, 0); /* full: forgiving changes nothing */
	stall_forgive(&sb, 0);
	stall_charge(&sb, 0, 5 * MS);
	assert_int_equal(stall_wait_usec(&sb, 0), 0);
	stall_charge(&sb, 0, 1);
	assert_true(stall_wait_usec(&sb, 0) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst_then_paced),
	    cmocka_unit_test(test_share_over_time),
	    cmocka_unit_test(test_frequent_calls_lose_nothing),
	    cmocka_unit_test(test_no_budget),
	    cmocka_unit_test(test_debt_bounded),
	    cmocka_unit_test(test_reconfigure_and_clock),
	    cmocka_unit_test(test_forgive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
