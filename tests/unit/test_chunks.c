/* SPDX-License-Identifier: MIT */
/*
 * chunk_table_merge: retry state carried over by address across scans,
 * dropped / confirmed / split counting, parking after CHUNK_MAX_SPLITS
 * splits; chunk_table_find and chunk_area_sig.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chunks.h"
#include "procfs.h"

#define M2   (2ULL << 20)
#define BASE 0x7f0000000000ULL

/* Two areas: A0 = [BASE, BASE + 8 MiB), A1 = [BASE + 16 MiB, BASE + 20 MiB). */
#define TEST_NOW 1000000000ULL

static const struct scan_area areas2[] = {
    {.start = BASE,
     .end = BASE + 4 * M2,
     .flags = VMA_ANON | VMA_READ | VMA_WRITE,
     .resident = 3 * M2,
     .hot_bp = 10000},
    {.start = BASE + 8 * M2,
     .end = BASE + 10 * M2,
     .flags = VMA_ANON | VMA_HG,
     .resident = M2,
     .hot_bp = 10000},
};

static struct scan_chunk sc(uint64_t addr, uint32_t area, uint16_t present, bool huge)
{
	return (struct scan_chunk){.addr = addr, .area = area, .present = present, .huge = huge};
}

static void merge_ok(struct chunk_table *t, const struct scan_area *a, size_t na,
		     const struct scan_chunk *c, size_t nc, struct merge_stats *ms)
{
	/* Garbage first: merge must reset the stats. */
	memset(ms, 0x5a, sizeof(*ms));
	assert_int_equal(chunk_table_merge(t, TEST_NOW, a, na, c, nc, ms), 0);
	assert_int_equal(t->n_areas, na);
	assert_int_equal(t->n_chunks, nc);
}

static struct chunk *find(struct chunk_table *t, uint64_t addr)
{
	struct chunk *c = chunk_table_find(t, addr);

	assert_non_null(c);
	assert_int_equal(c->addr, addr);
	return c;
}

static void test_first_scan(void **state)
{
	struct chunk_table t = {0};
	struct merge_stats ms;
	const struct scan_chunk c[] = {
	    sc(BASE, 0, 512, false),
	    sc(BASE + M2, 0, 500, false),
	    sc(BASE + 3 * M2, 0, 512, true),
	    sc(BASE + 8 * M2, 1, 480, false),
	};

	merge_ok(&t, areas2, 2, c, 4, &ms);
	assert_int_equal(ms.confirmed, 0);
	assert_int_equal(ms.split, 0);
	assert_int_equal(ms.dropped, 0);

	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(t.chunks[i].addr, c[i].addr);
		assert_int_equal(t.chunks[i].area, c[i].area);
		assert_int_equal(t.chunks[i].present, c[i].present);
		assert_int_equal(t.chunks[i].splits, 0);
		assert_false(t.chunks[i].in_flight);
		assert_int_equal(t.chunks[i].retry.attempts, 0);
		assert_int_equal(t.chunks[i].retry.next_usec, 0);
		assert_int_equal(t.chunks[i].retry.last_err, 0);
	}
	assert_int_equal(t.chunks[0].retry.state, CHUNK_CANDIDATE);
	assert_int_equal(t.chunks[1].retry.state, CHUNK_CANDIDATE);
	/* A chunk the scan reports huge starts as HUGE (not "confirmed"). */
	assert_int_equal(t.chunks[2].retry.state, CHUNK_HUGE);
	assert_int_equal(t.chunks[3].retry.state, CHUNK_CANDIDATE);
	chunk_table_free(&t);
	assert_null(t.chunks);
	assert_null(t.areas);
	assert_int_equal(t.n_chunks, 0);
	assert_int_equal(t.n_areas, 0);
}

static void test_carry_over_by_address(void **state)
{
	struct chunk_table t = {0};
	struct merge_stats ms;
	const struct scan_chunk c1[] = {
	    sc(BASE, 0, 512, false),
	    sc(BASE + M2, 0, 512, false),
	    sc(BASE + 2 * M2, 0, 512, false),
	};
	struct chunk *c;

	merge_ok(&t, areas2, 1, c1, 3, &ms);
	c = find(&t, BASE + M2);
	c->retry.state = CHUNK_BACKOFF;
	c->retry.attempts = 2;
	c->retry.next_usec = 123456;
	c->retry.last_err = EAGAIN;
	c = find(&t, BASE + 2 * M2);
	c->retry.state = CHUNK_QUARANTINED;
	c->retry.last_err = EINVAL;
	c->retry.sig = (struct area_sig){BASE, BASE + 4 * M2, 7, 42};
	c->in_flight = true;

	/* The first chunk disappears, so the others move to other indices,
	 * and a new one appears in front; area indices change too. */
	struct scan_area a2[] = {areas2[1], areas2[0]};
	const struct scan_chunk c2[] = {
	    sc(BASE - M2, 1, 300, false),
	    sc(BASE + M2, 1, 511, false),
	    sc(BASE + 2 * M2, 1, 400, false),
	};
	merge_ok(&t, a2, 2, c2, 3, &ms);
	assert_int_equal(ms.dropped, 1);
	assert_int_equal(ms.confirmed, 0);
	assert_int_equal(ms.split, 0);
	assert_null(chunk_table_find(&t, BASE));

	c = find(&t, BASE - M2);
	assert_int_equal(c->retry.state, CHUNK_CANDIDATE);
	assert_int_equal(c->retry.attempts, 0);
	assert_false(c->in_flight);

	c = find(&t, BASE + M2);
	assert_int_equal(c->retry.state, CHUNK_BACKOFF);
	assert_int_equal(c->retry.attempts, 2);
	assert_int_equal(c->retry.next_usec, 123456);
	assert_int_equal(c->retry.last_err, EAGAIN);
	assert_false(c->in_flight);
	/* Position data comes from the new scan. */
	assert_int_equal(c->present, 511);
	assert_int_equal(c->area, 1);

	c = find(&t, BASE + 2 * M2);
	assert_int_equal(c->retry.state, CHUNK_QUARANTINED);
	assert_int_equal(c->retry.last_err, EINVAL);
	assert_int_equal(c->retry.sig.start, BASE);
	assert_int_equal(c->retry.sig.end, BASE + 4 * M2);
	assert_int_equal(c->retry.sig.flags, 7);
	assert_int_equal(c->retry.sig.resident, 42);
	assert_true(c->in_flight);
	assert_int_equal(c->present, 400);
	chunk_table_free(&t);
}

static void test_dropped(void **state)
{
	struct chunk_table t = {0};
	struct merge_stats ms;
	const struct scan_chunk c1[] = {
	    sc(BASE, 0, 512, false),	      sc(BASE + M2, 0, 512, true),
	    sc(BASE + 2 * M2, 0, 512, false), sc(BASE + 3 * M2, 0, 512, false),
	    sc(BASE + 8 * M2, 1, 512, false),
	};
	/* Keep only 1 and 3, add one in between and one at the end. */
	const struct scan_chunk c2[] = {
	    sc(BASE + M2, 0, 512, true),
	    sc(BASE + 2 * M2 + M2 / 2, 0, 512, false), /* not a real PMD, just a new key */
	    sc(BASE + 3 * M2, 0, 512, false),
	    sc(BASE + 9 * M2, 1, 512, false),
	};

	merge_ok(&t, areas2, 2, c1, 5, &ms);
	merge_ok(&t, areas2, 2, c2, 4, &ms);
	assert_int_equal(ms.dropped, 3); /* BASE, BASE + 2M, BASE + 8M */
	assert_int_equal(ms.confirmed, 1);
	assert_int_equal(ms.split, 0);
	assert_null(chunk_table_find(&t, BASE));
	assert_null(chunk_table_find(&t, BASE + 2 * M2));
	assert_null(chunk_table_find(&t, BASE + 8 * M2));
	assert_non_null(chunk_table_find(&t, BASE + 9 * M2));

	/* Everything gone. */
	merge_ok(&t, areas2, 2, NULL, 0, &ms);
	assert_int_equal(ms.dropped, 4);
	assert_int_equal(ms.confirmed, 0);
	assert_int_equal(ms.split, 0);
	assert_null(chunk_table_find(&t, BASE + M2));

	/* Trailing chunks dropped only. */
	merge_ok(&t, areas2, 2, c1, 5, &ms);
	merge_ok(&t, areas2, 2, c1, 2, &ms);
	assert_int_equal(ms.dropped, 3);
	assert_int_equal(ms.confirmed, 1);
	chunk_table_free(&t);
}

static void test_confirmed(void **state)
{
	struct chunk_table t = {0};
	struct merge_stats ms;
	const struct scan_chunk c_small[] = {sc(BASE, 0, 512, false), sc(BASE + M2, 0, 512, false)};
	const struct scan_chunk c_huge[] = {sc(BASE, 0, 512, true), sc(BASE + M2, 0, 512, true)};
	struct chunk *c;

	merge_ok(&t, areas2, 1, c_small, 2, &ms);
	/* We collapsed chunk 0; chunk 1 became huge on its own (khugepaged). */
	c = find(&t, BASE);
	c->retry.state = CHUNK_HUGE;
	c->splits = 1;

	merge_ok(&t, areas2, 1, c_huge, 2, &ms);
	assert_int_equal(ms.confirmed, 1);
	assert_int_equal(ms.split, 0);
	assert_int_equal(ms.dropped, 0);
	c = find(&t, BASE);
	assert_int_equal(c->retry.state, CHUNK_HUGE);
	assert_int_equal(c->splits, 1);
	c = find(&t, BASE + M2);
	assert_int_equal(c->retry.state, CHUNK_HUGE);
	assert_int_equal(c->splits, 0);

	/* Both now HUGE and still huge: both confirmed. */
	merge_ok(&t, areas2, 1, c_huge, 2, &ms);
	assert_int_equal(ms.confirmed, 2);
	assert_int_equal(ms.split, 0);
	chunk_table_free(&t);
}

static void test_huge_overrides_old_state(void **state)
{
	struct chunk_table t = {0};
	struct merge_stats ms;
	const struct scan_chunk c_small[] = {sc(BASE, 0, 512, false), sc(BASE + M2, 0, 512, false)};
	const struct scan_chunk c_huge[] = {sc(BASE, 0, 512, true), sc(BASE + M2, 0, 512, true)};
	struct chunk *c;

	merge_ok(&t, areas2, 1, c_small, 2, &ms);
	c = find(&t, BASE);
	c->retry.state = CHUNK_PARKED;
	c->retry.attempts = 6;
	c = find(&t, BASE + M2);
	c->retry.state = CHUNK_BACKOFF;
	c->retry.attempts = 1;
	c->in_flight = true;

	merge_ok(&t, areas2, 1, c_huge, 2, &ms);
	assert_int_equal(ms.confirmed, 0); /* not collapsed by us */
	assert_int_equal(ms.split, 0);
	c = find(&t, BASE);
	assert_int_equal(c->retry.state, CHUNK_HUGE);
	c = find(&t, BASE + M2);
	assert_int_equal(c->retry.state, CHUNK_HUGE);
	assert_true(c->in_flight);
	chunk_table_free(&t);
}

static void test_split_then_parked(void **state)
{
	struct chunk_table t = {0};
	struct merge_stats ms;
	const struct scan_chunk c_small[] = {sc(BASE, 0, 512, false),
					     sc(BASE + 8 * M2, 1, 300, false)};
	const struct scan_chunk c_huge[] = {sc(BASE, 0, 512, true),
					    sc(BASE + 8 * M2, 1, 300, false)};
	struct chunk *c;

	merge_ok(&t, areas2, 2, c_small, 2, &ms);
	for (unsigned round = 1; round <= CHUNK_MAX_SPLITS; round++) {
		/* We collapse it (and EAGAIN'd a couple of times before). */
		c = find(&t, BASE);
		assert_int_equal(c->retry.state, CHUNK_CANDIDATE);
		c->retry.state = CHUNK_HUGE;
		c->retry.attempts = 3;
		c->retry.last_err = EAGAIN;

		/* Confirmed while still huge: splits unchanged. */
		merge_ok(&t, areas2, 2, c_huge, 2, &ms);
		assert_int_equal(ms.confirmed, 1);
		assert_int_equal(ms.split, 0);
		c = find(&t, BASE);
		assert_int_equal(c->retry.state, CHUNK_HUGE);
		assert_int_equal(c->splits, round - 1);

		/* The allocator split it again. */
		merge_ok(&t, areas2, 2, c_small, 2, &ms);
		assert_int_equal(ms.split, 1);
		assert_int_equal(ms.confirmed, 0);
		assert_int_equal(ms.dropped, 0);
		c = find(&t, BASE);
		assert_int_equal(c->splits, round);
		assert_int_equal(c->retry.attempts, 0);
		if (round < CHUNK_MAX_SPLITS) {
			assert_int_equal(c->retry.state, CHUNK_CANDIDATE);
		} else {
			assert_int_equal(c->retry.state, CHUNK_BACKOFF);
			assert_int_equal(c->retry.next_usec, TEST_NOW + SPLIT_BACKOFF_USEC);
			assert_int_equal(c->retry.sig.start, areas2[0].start);
			assert_int_equal(c->retry.sig.end, areas2[0].end);
			assert_int_equal(c->retry.sig.flags, areas2[0].flags);
			assert_int_equal(c->retry.sig.resident, areas2[0].resident);
		}
		/* The other chunk is never touched. */
		c = find(&t, BASE + 8 * M2);
		assert_int_equal(c->retry.state, CHUNK_CANDIDATE);
		assert_int_equal(c->splits, 0);
	}

	/* The backoff stays (with its sig) while it is not huge. */
	merge_ok(&t, areas2, 2, c_small, 2, &ms);
	assert_int_equal(ms.split, 0);
	c = find(&t, BASE);
	assert_int_equal(c->retry.state, CHUNK_BACKOFF);
	assert_int_equal(c->splits, CHUNK_MAX_SPLITS);
	assert_int_equal(c->retry.sig.start, areas2[0].start);
	chunk_table_free(&t);
}

static void test_split_sig_uses_new_area(void **state)
{
	struct chunk_table t = {0};
	struct merge_stats ms;
	const struct scan_chunk c1[] = {sc(BASE + 8 * M2, 1, 512, true)};
	/* Same bounds, now at index 0 of the new scan, more resident. */
	const struct scan_area a2[] = {{.start = BASE + 8 * M2,
					.end = BASE + 10 * M2,
					.flags = VMA_ANON | VMA_HG,
					.resident = 2 * M2}};
	const struct scan_chunk c2[] = {sc(BASE + 8 * M2, 0, 512, false)};
	struct chunk *c;

	merge_ok(&t, areas2, 2, c1, 1, &ms);
	c = find(&t, BASE + 8 * M2);
	c->splits = CHUNK_MAX_SPLITS - 1;

	merge_ok(&t, a2, 1, c2, 1, &ms);
	assert_int_equal(ms.split, 1);
	c = find(&t, BASE + 8 * M2);
	assert_int_equal(c->retry.state, CHUNK_BACKOFF);
	assert_int_equal(c->splits, CHUNK_MAX_SPLITS);
	assert_int_equal(c->area, 0);
	assert_int_equal(c->retry.sig.start, BASE + 8 * M2);
	assert_int_equal(c->retry.sig.end, BASE + 10 * M2);
	assert_int_equal(c->retry.sig.flags, VMA_ANON | VMA_HG);
	assert_int_equal(c->retry.sig.resident, 2 * M2);

	struct area_sig s = chunk_area_sig(&t, c);
	assert_int_equal(s.start, c->retry.sig.start);
	assert_int_equal(s.end, c->retry.sig.end);
	assert_int_equal(s.flags, c->retry.sig.flags);
	assert_int_equal(s.resident, c->retry.sig.resident);
	chunk_table_free(&t);
}

static void test_split_backoff_grows(void **state)
{
	assert_int_equal(split_backoff_usec(CHUNK_MAX_SPLITS), SPLIT_BACKOFF_USEC);
	assert_int_equal(split_backoff_usec(CHUNK_MAX_SPLITS + 1), 2 * SPLIT_BACKOFF_USEC);
	assert_int_equal(split_backoff_usec(CHUNK_MAX_SPLITS + 5), 32 * SPLIT_BACKOFF_USEC);
	assert_int_equal(split_backoff_usec(UINT16_MAX), 32 * SPLIT_BACKOFF_USEC);
}

static void test_new_bounds_start_afresh(void **state)
{
	struct chunk_table t = {0};
	struct merge_stats ms;
	const struct scan_chunk c1[] = {sc(BASE + 8 * M2, 1, 512, false)};
	/* The area was unmapped and mapped again (or grew): other bounds. */
	const struct scan_area a2[] = {{.start = BASE + 6 * M2,
					.end = BASE + 12 * M2,
					.flags = VMA_ANON | VMA_HG,
					.resident = 5 * M2}};
	const struct scan_chunk c2[] = {sc(BASE + 8 * M2, 0, 512, false)};
	struct chunk *c;

	merge_ok(&t, areas2, 2, c1, 1, &ms);
	c = find(&t, BASE + 8 * M2);
	c->retry.state = CHUNK_QUARANTINED;
	c->retry.last_err = 22;
	c->splits = 2;

	merge_ok(&t, a2, 1, c2, 1, &ms);
	c = find(&t, BASE + 8 * M2);
	assert_int_equal(c->retry.state, CHUNK_CANDIDATE);
	assert_int_equal(c->retry.last_err, 0);
	assert_int_equal(c->splits, 0);
	assert_int_equal(ms.split, 0);
	chunk_table_free(&t);
}

static void test_in_flight_carried(void **state)
{
	struct chunk_table t = {0};
	struct merge_stats ms;
	const struct scan_chunk c1[] = {sc(BASE, 0, 512, false), sc(BASE + M2, 0, 512, false)};
	const struct scan_chunk c_split[] = {sc(BASE, 0, 512, false), sc(BASE + M2, 0, 512, true)};

	merge_ok(&t, areas2, 1, c1, 2, &ms);
	find(&t, BASE)->in_flight = true;
	merge_ok(&t, areas2, 1, c1, 2, &ms);
	assert_true(find(&t, BASE)->in_flight);
	assert_false(find(&t, BASE + M2)->in_flight);

	/* Also through a split. */
	find(&t, BASE)->retry.state = CHUNK_HUGE;
	merge_ok(&t, areas2, 1, c_split, 2, &ms);
	assert_int_equal(ms.split, 1);
	assert_true(find(&t, BASE)->in_flight);
	assert_int_equal(find(&t, BASE)->retry.state, CHUNK_CANDIDATE);

	/* Gone and back: a new chunk, not in flight. */
	merge_ok(&t, areas2, 1, &c1[1], 1, &ms);
	merge_ok(&t, areas2, 1, c1, 2, &ms);
	assert_false(find(&t, BASE)->in_flight);
	assert_int_equal(find(&t, BASE)->splits, 0);
	chunk_table_free(&t);
}

static void test_areas_copied(void **state)
{
	struct chunk_table t = {0};
	struct merge_stats ms;
	struct scan_area *a = malloc(2 * sizeof(*a));
	struct scan_chunk *c = malloc(2 * sizeof(*c));

	assert_non_null(a);
	assert_non_null(c);
	memcpy(a, areas2, sizeof(areas2));
	c[0] = sc(BASE, 0, 512, false);
	c[1] = sc(BASE + 8 * M2, 1, 17, true);
	merge_ok(&t, a, 2, c, 2, &ms);
	assert_ptr_not_equal(t.areas, a);
	memset(a, 0xee, 2 * sizeof(*a));
	memset(c, 0xee, 2 * sizeof(*c));
	free(a);
	free(c);

	assert_memory_equal(t.areas, areas2, sizeof(areas2));
	assert_int_equal(t.chunks[1].addr, BASE + 8 * M2);
	assert_int_equal(t.chunks[1].present, 17);
	assert_int_equal(t.chunks[1].area, 1);

	struct area_sig s = chunk_area_sig(&t, &t.chunks[1]);
	assert_int_equal(s.start, areas2[1].start);
	assert_int_equal(s.end, areas2[1].end);
	assert_int_equal(s.flags, areas2[1].flags);
	assert_int_equal(s.resident, areas2[1].resident);
	s = chunk_area_sig(&t, &t.chunks[0]);
	assert_int_equal(s.start, areas2[0].start);
	assert_int_equal(s.end, areas2[0].end);
	assert_int_equal(s.flags, areas2[0].flags);
	assert_int_equal(s.resident, areas2[0].resident);
	chunk_table_free(&t);
}

static void test_empty(void **state)
{
	struct chunk_table t = {0};
	struct merge_stats ms;
	const struct scan_chunk c[] = {sc(BASE, 0, 512, false)};

	assert_null(chunk_table_find(&t, BASE));
	assert_null(chunk_table_find(&t, 0));

	merge_ok(&t, NULL, 0, NULL, 0, &ms);
	assert_int_equal(ms.confirmed, 0);
	assert_int_equal(ms.split, 0);
	assert_int_equal(ms.dropped, 0);
	assert_null(chunk_table_find(&t, BASE));

	/* Areas but no chunks. */
	merge_ok(&t, areas2, 2, NULL, 0, &ms);
	assert_memory_equal(t.areas, areas2, sizeof(areas2));
	assert_int_equal(ms.dropped, 0);

	merge_ok(&t, areas2, 1, c, 1, &ms);
	merge_ok(&t, NULL, 0, NULL, 0, &ms);
	assert_int_equal(ms.dropped, 1);
	assert_null(chunk_table_find(&t, BASE));
	chunk_table_free(&t);
	/* Free twice is harmless (the table is zeroed). */
	chunk_table_free(&t);
}

static void test_find(void **state)
{
	struct chunk_table t = {0};
	struct merge_stats ms;
	struct scan_chunk c[9];
	const struct scan_area big = {.start = BASE, .end = BASE + 64 * M2, .flags = VMA_ANON};

	/* Odd and even table sizes; keys BASE + 2k * 2 MiB. */
	for (size_t n = 1; n <= 9; n++) {
		for (size_t i = 0; i < n; i++)
			c[i] = sc(BASE + 2 * i * M2, 0, (uint16_t)(100 + i), false);
		merge_ok(&t, &big, 1, c, n, &ms);
		for (size_t i = 0; i < n; i++) {
			struct chunk *h = chunk_table_find(&t, BASE + 2 * i * M2);
			assert_ptr_equal(h, &t.chunks[i]);
			assert_int_equal(h->present, 100 + i);
			/* Between keys. */
			assert_null(chunk_table_find(&t, BASE + (2 * i + 1) * M2));
			assert_null(chunk_table_find(&t, BASE + 2 * i * M2 + 1));
		}
		assert_null(chunk_table_find(&t, BASE - M2));
		assert_null(chunk_table_find(&t, 0));
		assert_null(chunk_table_find(&t, BASE + 2 * n * M2));
		assert_null(chunk_table_find(&t, UINT64_MAX));
	}
	chunk_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_scan),
	    cmocka_unit_test(test_carry_over_by_address),
	    cmocka_unit_test(test_dropped),
	    cmocka_unit_test(test_confirmed),
	    cmocka_unit_test(test_huge_overrides_old_state),
	    cmocka_unit_test(test_split_then_parked),
	    cmocka_unit_test(test_split_sig_uses_new_area),
	    cmocka_unit_test(test_new_bounds_start_afresh),
	    cmocka_unit_test(test_split_backoff_grows),
	    cmocka_unit_test(test_in_flight_carried),
	    cmocka_unit_test(test_areas_copied),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
