/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "histogram.h"

/* Bounds ascend; an observation lands in the first bucket whose bound it
 * does not exceed; above the last one in the +Inf bucket. */
static void test_buckets(void **state)
{
	struct histogram h = {0};
	(void)state;

	for (size_t i = 1; i < HISTOGRAM_BOUNDS; i++)
		assert_true(histogram_bounds_usec[i] > histogram_bounds_usec[i - 1]);
	histogram_add(&h, 0);
	histogram_add(&h, histogram_bounds_usec[0]);
	histogram_add(&h, histogram_bounds_usec[0] + 1);
	histogram_add(&h, histogram_bounds_usec[HISTOGRAM_BOUNDS - 1]);
	histogram_add(&h, histogram_bounds_usec[HISTOGRAM_BOUNDS - 1] + 1);
	assert_int_equal(h.bucket[0], 2);
	assert_int_equal(h.bucket[1], 1);
	assert_int_equal(h.bucket[HISTOGRAM_BOUNDS - 1], 1);
	assert_int_equal(h.bucket[HISTOGRAM_BOUNDS], 1);
	assert_int_equal(histogram_count(&h), 5);
	assert_int_equal(h.sum_usec,
			 0 + 10 + 11 + 2 * histogram_bounds_usec[HISTOGRAM_BOUNDS - 1] + 1);

	struct histogram sum = {0};
	histogram_merge(&sum, &h);
	histogram_merge(&sum, &h);
	assert_int_equal(histogram_count(&sum), 10);
	assert_int_equal(sum.sum_usec, 2 * h.sum_usec);
	assert_int_equal(sum.bucket[0], 4);
}

/* GetCounters' form is cumulative, in seconds, and ends with the total. */
static void test_json(void **state)
{
	struct histogram h = {0};
	json_t *j, *b;
	(void)state;

	histogram_add(&h, 5);	     /* <= 10 us */
	histogram_add(&h, 400);	     /* <= 500 us */
	histogram_add(&h, 20000000); /* +Inf */
	j = histogram_json(&h);
	assert_non_null(j);
	b = json_object_get(j, "buckets");
	assert_int_equal(json_array_size(b), HISTOGRAM_BOUNDS);
	assert_true(json_real_value(json_object_get(json_array_get(b, 0), "le_sec")) == 1e-5);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(b, 0), "count")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(b, 4), "count")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(b, 5), "count")), 2);
	assert_int_equal(
	    json_integer_value(json_object_get(json_array_get(b, HISTOGRAM_BOUNDS - 1), "count")),
	    2);
	assert_int_equal(json_integer_value(json_object_get(j, "count")), 3);
	assert_true(json_real_value(json_object_get(j, "sum_sec")) == 20.000405);
	json_decref(j);
}

static void test_state(void **state)
{
	struct histogram h = {0}, back;
	json_t *j, *bad;
	(void)state;

	for (uint64_t v = 1; v < 30000000; v = v * 3 + 1)
		histogram_add(&h, v);
	j = histogram_to_state(&h);
	assert_non_null(j);
	memset(&back, 0xff, sizeof(back));
	assert_true(histogram_from_state(j, &back));
	assert_memory_equal(&back, &h, sizeof(h));

	/* Saved with other bounds: starts empty, not an error. */
	bad = json_deep_copy(j);
	json_array_set_new(json_object_get(bad, "le_usec"), 0, json_integer(11));
	assert_true(histogram_from_state(bad, &back));
	assert_int_equal(histogram_count(&back), 0);
	json_array_append_new(json_object_get(bad, "le_usec"), json_integer(1));
	assert_true(histogram_from_state(bad, &back));
	json_decref(bad);

	/* Malformed: false. */
	bad = json_deep_copy(j);
	json_array_set_new(json_object_get(bad, "bucket"), 3, json_integer(-1));
	assert_false(histogram_from_state(bad, &back));
	json_decref(bad);
	bad = json_deep_copy(j);
	json_array_remove(json_object_get(bad, "bucket"), 0);
	assert_false(histogram_from_state(bad, &back));
	json_decref(bad);
	bad = json_deep_copy(j);
	json_object_del(bad, "sum_usec");
	assert_false(histogram_from_state(bad, &back));
	json_decref(bad);
	bad = json_deep_copy(j);
	json_array_set_new(json_object_get(bad, "le_usec"), 2, json_string("50"));
	assert_false(histogram_from_state(bad, &back));
	json_decref(bad);
	bad = json_integer(1);
	assert_false(histogram_from_state(bad, &back));
	json_decref(bad);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buckets),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
