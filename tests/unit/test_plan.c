/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "plan.h"

#define MiB (1ULL << 20)

static void test_rank_order(void **state)
{
	struct plan_item it[] = {
	    {.addr = 0x600000, .present = 512, .hot_bp = 5000},
	    {.addr = 0x200000, .present = 300, .hot_bp = 9000},
	    {.addr = 0xa00000, .present = 512, .hot_bp = 9000},
	    {.addr = 0x400000, .present = 512, .hot_bp = 9000},
	    {.addr = 0x800000, .present = 460, .hot_bp = 10000},
	    {.addr = 0x000000, .present = 512, .hot_bp = 0},
	    {.addr = 0xc00000, .present = 300, .hot_bp = 9000},
	};
	static const uint64_t want[] = {0x800000, 0x400000, 0xa00000, 0x200000,
					0xc00000, 0x600000, 0x000000};
	(void)state;

	plan_rank(it, sizeof(it) / sizeof(it[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(it[i].addr, want[i]);
}

static void test_rank_hotness_none(void **state)
{
	/* hotness none: all 10000, densest first, then by address. */
	struct plan_item it[] = {
	    {.addr = 0x3, .present = 500, .hot_bp = 10000},
	    {.addr = 0x1, .present = 512, .hot_bp = 10000},
	    {.addr = 0x2, .present = 500, .hot_bp = 10000},
	    {.addr = 0x0, .present = 511, .hot_bp = 10000},
	};
	(void)state;

	plan_rank(it, 4);
	assert_int_equal(it[0].addr, 0x1);
	assert_int_equal(it[1].addr, 0x0);
	assert_int_equal(it[2].addr, 0x2);
	assert_int_equal(it[3].addr, 0x3);
}

static void test_rank_extremes(void **state)
{
	struct plan_item it[] = {
	    {.addr = 0, .present = 0, .hot_bp = 0},
	    {.addr = UINT64_MAX, .present = UINT16_MAX, .hot_bp = UINT32_MAX},
	    {.addr = 1, .present = UINT16_MAX, .hot_bp = UINT32_MAX},
	};
	struct plan_item one = {.addr = 42, .present = 1, .hot_bp = 1};
	(void)state;

	plan_rank(it, 3);
	assert_int_equal(it[0].addr, 1);
	assert_int_equal(it[1].addr, UINT64_MAX);
	assert_int_equal(it[2].addr, 0);

	plan_rank(NULL, 0);
	plan_rank(&one, 1);
	assert_int_equal(one.addr, 42);
}

static void test_rank_is_deterministic(void **state)
{
	struct plan_item a[64], b[64];
	uint32_t x = 12345;
	(void)state;

	for (size_t i = 0; i < 64; i++) {
		x = x * 1103515245u + 12345u;
		a[i].addr = (uint64_t)(x % 16) << 21;
		a[i].present = (uint16_t)(x >> 8) % 4 + 509;
		a[i].hot_bp = (x >> 16) % 3 * 5000;
		b[63 - i] = a[i];
	}
	plan_rank(a, 64);
	plan_rank(b, 64);
	for (size_t i = 0; i < 64; i++) {
		assert_int_equal(a[i].addr, b[i].addr);
		assert_int_equal(a[i].present, b[i].present);
		assert_int_equal(a[i].hot_bp, b[i].hot_bp);
		if (i > 0) {
			assert_true(a[i - 1].hot_bp >= a[i].hot_bp);
			if (a[i - 1].hot_bp == a[i].hot_bp) {
				assert_true(a[i - 1].present >= a[i].present);
				if (a[i - 1].present == a[i].present)
					assert_true(a[i - 1].addr <= a[i].addr);
			}
		}
	}
}

static void test_fit(void **state)
{
	(void)state;
	assert_int_equal(plan_fit(10, 0, UINT64_MAX), 0);
	assert_int_equal(plan_fit(10, 2 * MiB - 1, UINT64_MAX), 0);
	assert_int_equal(plan_fit(10, 2 * MiB, UINT64_MAX), 1);
	assert_int_equal(plan_fit(10, 7 * MiB, UINT64_MAX), 3);
	assert_int_equal(plan_fit(10, 20 * MiB, UINT64_MAX), 10);
	assert_int_equal(plan_fit(10, UINT64_MAX, UINT64_MAX), 10);
	assert_int_equal(plan_fit(0, UINT64_MAX, UINT64_MAX), 0);
	/* huge room limits too; the smaller limit wins. */
	assert_int_equal(plan_fit(10, UINT64_MAX, 4 * MiB), 2);
	assert_int_equal(plan_fit(10, 8 * MiB, 5 * MiB), 2);
	assert_int_equal(plan_fit(10, 5 * MiB, 8 * MiB), 2);
	assert_int_equal(plan_fit(10, 8 * MiB, 0), 0);
	assert_int_equal(plan_fit(10, 8 * MiB, 2 * MiB - 1), 0);
	assert_int_equal(plan_fit(SIZE_MAX, UINT64_MAX, UINT64_MAX),
			 (size_t)(UINT64_MAX / (2 * MiB)) < SIZE_MAX
			     ? (size_t)(UINT64_MAX / (2 * MiB))
			     : SIZE_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rank_order),	  cmocka_unit_test(test_rank_hotness_none),
	    cmocka_unit_test(test_rank_extremes), cmocka_unit_test(test_rank_is_deterministic),
	    cmocka_unit_test(test_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
