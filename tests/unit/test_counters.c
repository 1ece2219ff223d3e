/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "counters.h"
#include "state.h"
#include "util.h"

/* A distinct value in every counter of the table. */
static void fill(struct counters *c)
{
	uint64_t n = 1;

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < counters_table_len; i++) {
		const struct counter_desc *d = &counters_table[i];
		uint64_t *v = counters_field(c, d);

		for (size_t k = 0; k < counters_words(d); k++)
			v[k] = 1000 * n++ + 7;
	}
}

static json_t *saved_counters(const struct counters *c)
{
	struct saved_state s = {.boot_id = "b", .counters = *c};
	json_t *j = state_to_json(&s), *k;

	assert_non_null(j);
	k = json_incref(json_object_get(j, "counters"));
	json_decref(j);
	return k;
}

static int load_counters(json_t *counters, struct counters *out, const char **why)
{
	struct saved_state s;
	json_t *j =
	    json_pack("{s:s, s:i, s:s, s:O, s:[], s:[]}", "format", STATE_FORMAT, "version",
		      STATE_VERSION, "boot_id", "b", "counters", counters, "targets", "pauses");
	int r;

	assert_non_null(j);
	*why = NULL;
	r = state_from_json(j, &s, why);
	json_decref(j);
	if (r == 0) {
		*out = s.counters;
		saved_state_free(&s);
	}
	return r;
}

/* Offsets inside the struct and apart; names unique; usec names as documented. */
static void test_table(void **state)
{
	(void)state;

	assert_true(counters_table_len > 0);
	for (size_t i = 0; i < counters_table_len; i++) {
		const struct counter_desc *d = &counters_table[i];
		size_t size = counters_words(d) * sizeof(uint64_t);

		assert_true(d->offset % sizeof(uint64_t) == 0);
		assert_true(d->offset + size <= sizeof(struct counters));
		if (d->kind == COUNTER_USEC) {
			assert_non_null(strstr(d->state_name, "_usec"));
			assert_non_null(strstr(d->api_name, "_sec"));
		}
		for (size_t k = 0; k < i; k++) {
			const struct counter_desc *e = &counters_table[k];
			size_t esize = counters_words(e) * sizeof(uint64_t);

			assert_true(d->offset >= e->offset + esize ||
				    e->offset >= d->offset + size);
			assert_false(streq(d->state_name, e->state_name));
			assert_false(streq(d->api_name, e->api_name));
		}
	}
}

/* State file version 1: these keys, in this order (existing files have them;
 * those after reload_failures came later and load as 0 when absent). */
static void test_state_format(void **state)
{
	static const char *const v1[] = {
	    "attempts",
	    "collapsed_bytes",
	    "by_class",
	    "collapse_usec",
	    "scans",
	    "scan_usec",
	    "discoveries",
	    "targets_added",
	    "targets_removed",
	    "enomem_pauses",
	    "ebusy_pauses",
	    "splits",
	    "reloads",
	    "reload_failures",
	    "full_scans",
	    "scan_cpu_usec",
	    "collapse_latency",
	    "scan_latency",
	};
	struct counters c;
	json_t *j, *v;
	const char *key;
	size_t i = 0;
	(void)state;

	fill(&c);
	j = saved_counters(&c);
	assert_int_equal(json_object_size(j), ARRAY_SIZE(v1));
	json_object_foreach(j, key, v)
	{
		assert_string_equal(key, v1[i++]);
		if (streq(key, "by_class")) {
			assert_true(json_is_array(v));
			assert_int_equal(json_array_size(v), COLLAPSE_CLASS_MAX);
			assert_int_equal(json_integer_value(json_array_get(v, 0)), c.by_class[0]);
		} else if (strstr(key, "_latency")) {
			const struct histogram *h =
			    streq(key, "scan_latency") ? &c.scan_latency : &c.collapse_latency;
			json_t *b = json_object_get(v, "bucket");
			assert_int_equal(json_array_size(b), HISTOGRAM_BOUNDS + 1);
			assert_int_equal(json_integer_value(json_array_get(b, 2)), h->bucket[2]);
			assert_int_equal(json_integer_value(json_object_get(v, "sum_usec")),
					 h->sum_usec);
		} else {
			assert_true(json_is_integer(v));
		}
	}
	assert_int_equal(json_integer_value(json_object_get(j, "attempts")), c.attempts);
	assert_int_equal(json_integer_value(json_object_get(j, "collapse_usec")), c.collapse_usec);
	assert_int_equal(json_integer_value(json_object_get(j, "reload_failures")),
			 c.reload_failures);
	json_decref(j);
}

static void test_round_trip(void **state)
{
	struct counters c, back;
	const char *why;
	json_t *j;
	(void)state;

	fill(&c);
	j = saved_counters(&c);
	memset(&back, 0, sizeof(back));
	assert_int_equal(load_counters(j, &back, &why), 0);
	for (size_t i = 0; i < counters_table_len; i++) {
		const struct counter_desc *d = &counters_table[i];

		assert_memory_equal(counters_value(&back, d), counters_value(&c, d),
				    counters_words(d) * sizeof(uint64_t));
	}
	json_decref(j);
}

/* A counter is a non-negative integer; by_class has one per class. An absent
 * counter (a file from before it was added) loads as 0. */
static void test_malformed(void **state)
{
	struct counters c, back;
	const char *why;
	json_t *j, *bad;
	(void)state;

	fill(&c);
	j = saved_counters(&c);
	for (size_t i = 0; i < counters_table_len; i++) {
		const char *key = counters_table[i].state_name;

		bad = json_deep_copy(j);
		json_object_del(bad, key);
		assert_int_equal(load_counters(bad, &back, &why), 0);
		const struct counter_desc *d = &counters_table[i];
		for (size_t k = 0; k < counters_words(d); k++)
			assert_int_equal(counters_value(&back, d)[k], 0);
		json_object_set_new(bad, key, json_integer(-1));
		assert_int_equal(load_counters(bad, &back, &why), -EINVAL);
		assert_string_equal(why, "malformed counters");
		json_object_set_new(bad, key, json_string("1"));
		assert_int_equal(load_counters(bad, &back, &why), -EINVAL);
		json_decref(bad);
	}
	bad = json_deep_copy(j);
	json_array_append_new(json_object_get(bad, "by_class"), json_integer(0));
	assert_int_equal(load_counters(bad, &back, &why), -EINVAL);
	json_decref(bad);
	bad = json_array();
	assert_int_equal(load_counters(bad, &back, &why), -EINVAL);
	json_decref(bad);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_state_format),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
