/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hotmap.h"

#define MiB (1ULL << 20)

static void test_chunk_inside_one_region(void **state)
{
	struct hot_region r[] = {{0, 8 * MiB, 10000}, {8 * MiB, 16 * MiB, 0}};
	(void)state;

	assert_int_equal(hotmap_chunk_bp(r, 2, 2 * MiB), 10000);
	assert_int_equal(hotmap_chunk_bp(r, 2, 10 * MiB), 0);
}

static void test_chunk_weighted_by_overlap(void **state)
{
	/* A region boundary 0.5 MiB into the chunk: a quarter hot (8000), the
	 * rest at 2000: 0.25 * 8000 + 0.75 * 2000 = 3500. */
	struct hot_region r[] = {{0, 4 * MiB + MiB / 2, 8000}, {4 * MiB + MiB / 2, 8 * MiB, 2000}};
	(void)state;

	assert_int_equal(hotmap_chunk_bp(r, 2, 4 * MiB), 3500);
}

static void test_uncovered_bytes_count_as_cold(void **state)
{
	/* Only the first MiB of the chunk at 6 MiB is covered, at full score. */
	struct hot_region r[] = {{0, 1 * MiB, 10000}, {6 * MiB, 7 * MiB, 10000}};
	(void)state;

	assert_int_equal(hotmap_chunk_bp(r, 2, 6 * MiB), 5000);
	assert_int_equal(hotmap_chunk_bp(r, 2, 2 * MiB), 0);
	assert_int_equal(hotmap_chunk_bp(r, 0, 0), 0);
	assert_int_equal(hotmap_chunk_bp(r, 2, 64 * MiB), 0);
}

static void test_many_regions_binary_search(void **state)
{
	/* 4 KiB regions alternating hot and cold: every chunk is half hot. */
	enum { N = 2048 };
	static struct hot_region r[N];
	(void)state;

	for (size_t i = 0; i < N; i++)
		r[i] = (struct hot_region){i * 4096, (i + 1) * 4096, i % 2 ? 10000 : 0};
	for (uint64_t a = 0; a < N * 4096ULL; a += 2 * MiB)
		assert_int_equal(hotmap_chunk_bp(r, N, a), 5000);
}

static void test_score_capped(void **state)
{
	struct hot_region r[] = {{0, 2 * MiB, 60000}};
	(void)state;

	assert_int_equal(hotmap_chunk_bp(r, 1, 0), 10000);
}

static void test_damon_scale(void **state)
{
	(void)state;
	assert_int_equal(hotmap_damon_bp(0, 20), 0);
	assert_int_equal(hotmap_damon_bp(5, 20), 2500);
	assert_int_equal(hotmap_damon_bp(20, 20), 10000);
	assert_int_equal(hotmap_damon_bp(25, 20), 10000); /* a region merged mid-window */
	assert_int_equal(hotmap_damon_bp(3, 0), 0);
}

static void test_signal_and_sort(void **state)
{
	struct hot_region r[] = {{8 * MiB, 10 * MiB, 0}, {0, 2 * MiB, 0}, {4 * MiB, 6 * MiB, 0}};
	(void)state;

	assert_false(hotmap_has_signal(r, 3));
	r[2].score_bp = 1;
	assert_true(hotmap_has_signal(r, 3));
	hotmap_sort(r, 3);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[1].start, 4 * MiB);
	assert_int_equal(r[2].start, 8 * MiB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_chunk_inside_one_region),
	    cmocka_unit_test(test_chunk_weighted_by_overlap),
	    cmocka_unit_test(test_uncovered_bytes_count_as_cold),
	    cmocka_unit_test(test_many_regions_binary_search),
	    cmocka_unit_test(test_score_capped),
	    cmocka_unit_test(test_damon_scale),
	    cmocka_unit_test(test_signal_and_sort),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
