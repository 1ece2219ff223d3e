/* SPDX-License-Identifier: MIT */
#include "histogram.h"

#include <string.h>

/* A 2 MiB collapse takes ~0.5 ms (one already huge: microseconds); a scan of
 * a large process tens of milliseconds. */
const uint64_t histogram_bounds_usec[HISTOGRAM_BOUNDS] = {
    10,	   25,	  50,	 100,	 250,	 500,	 1000,	  2500,	   5000,
    10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 10000000,
};

void histogram_add(struct histogram *h, uint64_t usec)
{
	size_t i = 0;

	while (i < HISTOGRAM_BOUNDS && usec > histogram_bounds_usec[i])
		i++;
	h->bucket[i]++;
	h->sum_usec += usec;
}

void histogram_merge(struct histogram *into, const struct histogram *h)
{
	for (size_t i = 0; i <= HISTOGRAM_BOUNDS; i++)
		into->bucket[i] += h->bucket[i];
	into->sum_usec += h->sum_usec;
}

uint64_t histogram_count(const struct histogram *h)
{
	uint64_t n = 0;

	for (size_t i = 0; i <= HISTOGRAM_BOUNDS; i++)
		n += h->bucket[i];
	return n;
}

json_t *histogram_json(const struct histogram *h)
{
	json_t *buckets = json_array();
	uint64_t cum = 0;

	for (size_t i = 0; buckets && i < HISTOGRAM_BOUNDS; i++) {
		cum += h->bucket[i];
		json_array_append_new(buckets, json_pack("{s:f, s:I}", "le_sec",
							 (double)histogram_bounds_usec[i] / 1e6,
							 "count", (json_int_t)cum));
	}
	return json_pack("{s:o, s:I, s:f}", "buckets", buckets, "count",
			 (json_int_t)histogram_count(h), "sum_sec", (double)h->sum_usec / 1e6);
}

json_t *histogram_to_state(const struct histogram *h)
{
	json_t *le = json_array(), *bucket = json_array();

	for (size_t i = 0; le && i < HISTOGRAM_BOUNDS; i++)
		json_array_append_new(le, json_integer((json_int_t)histogram_bounds_usec[i]));
	for (size_t i = 0; bucket && i <= HISTOGRAM_BOUNDS; i++)
		json_array_append_new(bucket, json_integer((json_int_t)h->bucket[i]));
	return json_pack("{s:o, s:o, s:I}", "le_usec", le, "bucket", bucket, "sum_usec",
			 (json_int_t)h->sum_usec);
}

static bool u64_of(const json_t *v, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

/* An array of n non-negative integers into out[]. */
static bool u64_array(const json_t *a, uint64_t *out, size_t n)
{
	if (!json_is_array(a) || json_array_size(a) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!u64_of(json_array_get(a, i), &out[i]))
			return false;
	return true;
}

bool histogram_from_state(const json_t *j, struct histogram *h)
{
	const json_t *le = json_object_get(j, "le_usec");
	uint64_t bounds[HISTOGRAM_BOUNDS];
	struct histogram x;

	memset(h, 0, sizeof(*h));
	if (!json_is_object(j) || !json_is_array(le))
		return false;
	/* Other bounds: not comparable, start again (not an error). */
	if (!u64_array(le, bounds, HISTOGRAM_BOUNDS) ||
	    memcmp(bounds, histogram_bounds_usec, sizeof(bounds)) != 0) {
		for (size_t i = 0; i < json_array_size(le); i++)
			if (!json_is_integer(json_array_get(le, i)))
				return false;
		return true;
	}
	if (!u64_array(json_object_get(j, "bucket"), x.bucket, HISTOGRAM_BOUNDS + 1) ||
	    !u64_of(json_object_get(j, "sum_usec"), &x.sum_usec))
		return false;
	*h = x;
	return true;
}
