/* SPDX-License-Identifier: MIT */
/*
 * Latency histograms with fixed bucket bounds (10 us to 10 s), as Prometheus
 * histograms count them: collapse latency per 2 MiB chunk (collapse.c fills
 * one per job, the manager adds it to its counters) and the time of each
 * scan. Pure: no I/O, no logging.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Finite upper bounds; observations above the last go to the +Inf bucket. */
#define HISTOGRAM_BOUNDS 18
extern const uint64_t histogram_bounds_usec[HISTOGRAM_BOUNDS];

/* Only uint64_t fields: struct counters walks them as an array (counters.h). */
struct histogram {
	/* Per bucket, not cumulative: [i] counts observations in
	 * (bounds[i-1], bounds[i]], [HISTOGRAM_BOUNDS] those above the last. */
	uint64_t bucket[HISTOGRAM_BOUNDS + 1];
	uint64_t sum_usec;
};

void histogram_add(struct histogram *h, uint64_t usec);
void histogram_merge(struct histogram *into, const struct histogram *h);
uint64_t histogram_count(const struct histogram *h);

/*
 * GetCounters' Histogram (io.thpd.Manager.varlink): {"buckets": [{"le_sec",
 * "count"}...] cumulative, "count", "sum_sec"}. New reference, NULL on ENOMEM.
 */
json_t *histogram_json(const struct histogram *h);

/*
 * The state file's form: {"le_usec": [bounds], "bucket": [per bucket,
 * HISTOGRAM_BOUNDS + 1], "sum_usec"}. histogram_from_state() fills h from it
 * and returns true; false if it is malformed. A histogram saved with other
 * bounds (a file from another version) loads as empty: true, h zeroed.
 */
json_t *histogram_to_state(const struct histogram *h);
bool histogram_from_state(const json_t *j, struct histogram *h);
