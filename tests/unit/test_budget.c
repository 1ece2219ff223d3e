/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "budget.h"

#define S   1000000ULL
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define TiB (1ULL << 40)
#define DAY (86400ULL * S)

static void test_burst(void **state)
{
	struct token_bucket tb;
	uint64_t now = 1000 * S;
	(void)state;

	tb_init(&tb, 1 * MiB, 4 * MiB, now);
	assert_int_equal(tb_available(&tb, now), 4 * MiB);
	assert_true(tb_take(&tb, now, 2 * MiB));
	assert_true(tb_take(&tb, now, 2 * MiB));
	assert_false(tb_take(&tb, now, 1));
	assert_int_equal(tb_available(&tb, now), 0);
	assert_true(tb_take(&tb, now, 0));

	/* A failed take changes nothing. */
	now += S / 2;
	assert_false(tb_take(&tb, now, 1 * MiB));
	assert_int_equal(tb_available(&tb, now), MiB / 2);
}

static void test_refill(void **state)
{
	struct token_bucket tb;
	uint64_t now = 0;
	(void)state;

	tb_init(&tb, 1 * MiB, 4 * MiB, now);
	assert_true(tb_take(&tb, now, 4 * MiB));
	now += 1 * S;
	assert_int_equal(tb_available(&tb, now), 1 * MiB);
	now += 2 * S;
	assert_int_equal(tb_available(&tb, now), 3 * MiB);
	now += 100 * S; /* clamped to burst */
	assert_int_equal(tb_available(&tb, now), 4 * MiB);
	/* Time spent full is not banked. */
	assert_true(tb_take(&tb, now, 4 * MiB));
	now += S / 4;
	assert_int_equal(tb_available(&tb, now), MiB / 4);
}

/* A bucket of `rate` bytes/s emptied at `start`, then read once at `at`. */
static uint64_t avail_after(uint64_t rate, uint64_t start, uint64_t at)
{
	struct token_bucket tb;

	tb_init(&tb, rate, UINT64_MAX, start);
	assert_true(tb_take(&tb, start, UINT64_MAX));
	return tb_available(&tb, at);
}

static void test_partial_rounding(void **state)
{
	struct token_bucket tb;
	uint64_t now = 7;
	(void)state;

	/* 3 bytes/s: each byte is credited only once fully earned. */
	assert_int_equal(avail_after(3, now, now + 333333), 0);
	assert_int_equal(avail_after(3, now, now + 333334), 1);
	assert_int_equal(avail_after(3, now, now + 666666), 1);
	assert_int_equal(avail_after(3, now, now + 666667), 2);
	assert_int_equal(avail_after(3, now, now + S), 3);
	/* 1.5 MB/s: 1 usec is 1.5 bytes. */
	assert_int_equal(avail_after(1500000, now, now + 1), 1);
	assert_int_equal(avail_after(1500000, now, now + 3), 4);

	/* The fraction earned but not yet credited carries over. */
	tb_init(&tb, 3, 100, now);
	assert_true(tb_take(&tb, now, 100));
	assert_int_equal(tb_available(&tb, now + 200000), 0);
	assert_int_equal(tb_available(&tb, now + 333334), 1);
	/* Sub-microsecond rests are dropped, never credited early: at most
	 * one byte behind the exact figure. */
	assert_in_range(tb_available(&tb, now + 10 * S), 29, 30);
	assert_in_range(tb_available(&tb, now + 20 * S), 59, 60);
}

static void test_frequent_calls_lose_nothing(void **state)
{
	struct token_bucket tb;
	uint64_t start = 123, now;
	(void)state;

	/* 1000 bytes/s polled every usec for 2 s: exactly 2000 bytes. */
	tb_init(&tb, 1000, 1 * MiB, start);
	assert_true(tb_take(&tb, start, 1 * MiB));
	for (now = start; now <= start + 2 * S; now++)
		assert_int_equal(tb_available(&tb, now), (now - start) * 1000 / S);
	assert_int_equal(tb_available(&tb, start + 2 * S), 2000);

	/* 7 bytes/s polled every 13 usec for 3 s: never more than earned and
	 * at most one byte late (the sub-microsecond rest of each credited
	 * byte is not kept). */
	tb_init(&tb, 7, 1000, start);
	assert_true(tb_take(&tb, start, 1000));
	for (now = start; now <= start + 3 * S; now += 13) {
		uint64_t exact = (now - start) * 7 / S;
		uint64_t got = tb_available(&tb, now);

		assert_true(got <= exact);
		assert_true(got + 1 >= exact);
	}

	/* Taking along the way does not disturb the accounting. */
	tb_init(&tb, 1000, 1000, start);
	assert_true(tb_take(&tb, start, 1000));
	{
		uint64_t taken = 0;

		for (now = start; now <= start + 5 * S; now += 37)
			if (tb_take(&tb, now, 3))
				taken += 3;
		assert_int_equal(taken + tb_available(&tb, start + 5 * S), 5000);
	}
}

static void test_large_values(void **state)
{
	struct token_bucket tb;
	uint64_t now = 10 * DAY;
	(void)state;

	/* 1 TiB/s with days between calls must not overflow. */
	tb_init(&tb, 1 * TiB, 1 * TiB, now);
	assert_true(tb_take(&tb, now, 1 * TiB));
	assert_int_equal(tb_available(&tb, now + S / 2), TiB / 2);
	assert_int_equal(tb_available(&tb, now + 3 * DAY), 1 * TiB);

	tb_init(&tb, 1 * TiB, UINT64_MAX, now);
	assert_true(tb_take(&tb, now, UINT64_MAX));
	now += 2 * DAY;
	assert_int_equal(tb_available(&tb, now), 2 * 86400ULL * TiB);
	now += 1;
	assert_int_equal(tb_available(&tb, now), 2 * 86400ULL * TiB + TiB / S);

	/* Absurd rate and elapsed: saturates to full. */
	tb_init(&tb, UINT64_MAX, UINT64_MAX, 0);
	assert_true(tb_take(&tb, 0, UINT64_MAX));
	assert_int_equal(tb_available(&tb, 1), UINT64_MAX / S);
	assert_int_equal(tb_available(&tb, 365 * DAY), UINT64_MAX);

	/* Slow rate over a long time. */
	tb_init(&tb, 1, UINT64_MAX, 0);
	assert_true(tb_take(&tb, 0, UINT64_MAX));
	assert_int_equal(tb_available(&tb, 1000 * DAY), 1000 * 86400ULL);
}

static void test_unlimited(void **state)
{
	struct token_bucket tb;
	(void)state;

	tb_init(&tb, 0, 0, 5);
	assert_int_equal(tb_available(&tb, 5), UINT64_MAX);
	assert_true(tb_take(&tb, 5, UINT64_MAX));
	assert_true(tb_take(&tb, 5, UINT64_MAX));
	assert_int_equal(tb_available(&tb, 6), UINT64_MAX);
	assert_int_equal(tb_wait_usec(&tb, 6, UINT64_MAX), 0);
	tb_refund(&tb, 100);
	assert_int_equal(tb_available(&tb, 6), UINT64_MAX);
}

static void test_refund(void **state)
{
	struct token_bucket tb;
	(void)state;

	tb_init(&tb, 1 * MiB, 4 * MiB, 0);
	assert_true(tb_take(&tb, 0, 3 * MiB));
	tb_refund(&tb, 1 * MiB);
	assert_int_equal(tb_available(&tb, 0), 2 * MiB);
	tb_refund(&tb, 10 * MiB);
	assert_int_equal(tb_available(&tb, 0), 4 * MiB);
	assert_true(tb_take(&tb, 0, 1));
	tb_refund(&tb, UINT64_MAX);
	assert_int_equal(tb_available(&tb, 0), 4 * MiB);
	tb_refund(&tb, 0);
	assert_int_equal(tb_available(&tb, 0), 4 * MiB);
}

static void test_wait(void **state)
{
	struct token_bucket tb, copy;
	uint64_t now = 50 * S, w;
	(void)state;

	tb_init(&tb, 1 * MiB, 4 * MiB, now);
	assert_int_equal(tb_wait_usec(&tb, now, 4 * MiB), 0);
	assert_true(tb_take(&tb, now, 4 * MiB));
	assert_int_equal(tb_wait_usec(&tb, now, 2 * MiB), 2 * S);
	assert_int_equal(tb_wait_usec(&tb, now + S, 2 * MiB), 1 * S);
	assert_int_equal(tb_wait_usec(&tb, now + 2 * S, 2 * MiB), 0);
	/* More than the bucket holds: never. */
	assert_int_equal(tb_wait_usec(&tb, now, 4 * MiB + 1), UINT64_MAX);

	/* Rounds up, and is exact against tb_take. */
	tb_init(&tb, 3, 10, now);
	assert_true(tb_take(&tb, now, 10));
	assert_int_equal(tb_wait_usec(&tb, now, 1), 333334);
	assert_int_equal(tb_wait_usec(&tb, now, 2), 666667);
	assert_int_equal(tb_wait_usec(&tb, now + 100000, 1), 233334);
	w = tb_wait_usec(&tb, now + 100000, 5);
	assert_int_equal(w, 1666667 - 100000);
	copy = tb;
	assert_false(tb_take(&copy, now + 100000 + w - 1, 5));
	copy = tb;
	assert_true(tb_take(&copy, now + 100000 + w, 5));

	/* After a partial refill, the part of a byte already earned counts. */
	tb_init(&tb, 3, 10, now);
	assert_true(tb_take(&tb, now, 10));
	assert_int_equal(tb_available(&tb, now + 400000), 1);
	w = tb_wait_usec(&tb, now + 400000, 2);
	assert_true(w >= 666667 - 400000 && w <= 666667 - 400000 + 1);
	copy = tb;
	assert_false(tb_take(&copy, now + 400000 + w - 1, 2));
	copy = tb;
	assert_true(tb_take(&copy, now + 400000 + w, 2));

	/* Huge rate: sub-microsecond waits round up to 1. */
	tb_init(&tb, 1 * TiB, 1 * TiB, now);
	assert_true(tb_take(&tb, now, 1 * TiB));
	assert_int_equal(tb_wait_usec(&tb, now, 1), 1);
	assert_int_equal(tb_wait_usec(&tb, now, 1 * TiB), S);
}

static void test_reconfigure(void **state)
{
	struct token_bucket tb;
	uint64_t now = 0;
	(void)state;

	/* Shrinking the burst clamps the fill. */
	tb_init(&tb, 1 * MiB, 4 * MiB, now);
	tb_reconfigure(&tb, 1 * MiB, 1 * MiB, now);
	assert_int_equal(tb.burst, 1 * MiB);
	assert_int_equal(tb_available(&tb, now), 1 * MiB);
	assert_int_equal(tb_available(&tb, now + 10 * S), 1 * MiB);

	/* Growing keeps the fill; the new rate applies from then on. */
	tb_init(&tb, 1 * MiB, 4 * MiB, now);
	assert_true(tb_take(&tb, now, 4 * MiB));
	now += 1 * S; /* 1 MiB earned at the old rate */
	tb_reconfigure(&tb, 2 * MiB, 16 * MiB, now);
	assert_int_equal(tb_available(&tb, now), 1 * MiB);
	now += 1 * S;
	assert_int_equal(tb_available(&tb, now), 3 * MiB);
	now += 100 * S;
	assert_int_equal(tb_available(&tb, now), 16 * MiB);

	/* Unlimited -> limited starts full. */
	tb_init(&tb, 0, 0, now);
	assert_true(tb_take(&tb, now, 123));
	tb_reconfigure(&tb, 1 * MiB, 2 * MiB, now);
	assert_int_equal(tb_available(&tb, now), 2 * MiB);

	/* Limited -> unlimited. */
	assert_true(tb_take(&tb, now, 2 * MiB));
	tb_reconfigure(&tb, 0, 2 * MiB, now);
	assert_int_equal(tb_available(&tb, now), UINT64_MAX);
	assert_true(tb_take(&tb, now, 1 * GiB));
	assert_int_equal(tb_wait_usec(&tb, now, 1 * GiB), 0);
}

static void test_clock_backwards(void **state)
{
	struct token_bucket tb;
	(void)state;

	tb_init(&tb, 1 * MiB, 4 * MiB, 10 * S);
	assert_true(tb_take(&tb, 10 * S, 4 * MiB));
	assert_int_equal(tb_available(&tb, 5 * S), 0);
	assert_int_equal(tb_wait_usec(&tb, 9 * S, 1 * MiB), 2 * S);
	assert_int_equal(tb_available(&tb, 11 * S), 1 * MiB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst),
	    cmocka_unit_test(test_refill),
	    cmocka_unit_test(test_partial_rounding),
	    cmocka_unit_test(test_frequent_calls_lose_nothing),
	    cmocka_unit_test(test_large_values),
	    cmocka_unit_test(test_unlimited),
	    cmocka_unit_test(test_refund),
	    cmocka_unit_test(test_wait),
	    cmocka_unit_test(test_reconfigure),
	    cmocka_unit_test(test_clock_backwards),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
