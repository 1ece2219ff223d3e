/* SPDX-License-Identifier: MIT */
/*
 * The daemon-wide counters (struct counters, manager.h) described once:
 * their names, where they sit in the struct and how they are shown.
 * GetCounters (methods.c) and the state file (state.c) walk this table, so
 * adding a counter is a field in struct counters and one line in counters.c.
 * Pure: no I/O, no logging.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "manager.h"

/* How a counter (uint64_t fields) is saved and reported. */
enum counter_kind {
	COUNTER_NUMBER, /* a count or bytes: an integer in both */
	/* microseconds: an integer in the state file, float seconds in GetCounters */
	COUNTER_USEC,
	/* uint64_t[COLLAPSE_CLASS_MAX] by enum collapse_class: an array in the state
	 * file, {result name: count} in GetCounters */
	COUNTER_BY_CLASS,
	/* struct histogram (histogram.h): an object in both (histogram_to_state,
	 * histogram_json) */
	COUNTER_HISTOGRAM,
};

struct counter_desc {
	const char *state_name; /* key in the state file's "counters" object */
	const char *api_name;	/* key in GetCounters' Counters (io.thpd.Manager.varlink) */
	size_t offset;		/* of the field in struct counters */
	enum counter_kind kind;
};

/*
 * Every reported and saved counter, in the order GetCounters and the state
 * file list them. Fields of struct counters not listed are neither.
 */
extern const struct counter_desc counters_table[];
extern const size_t counters_table_len;

/* How many uint64_t the counter takes in struct counters. */
static inline size_t counters_words(const struct counter_desc *d)
{
	switch (d->kind) {
	case COUNTER_BY_CLASS:
		return COLLAPSE_CLASS_MAX;
	case COUNTER_HISTOGRAM:
		return sizeof(struct histogram) / sizeof(uint64_t);
	default:
		return 1;
	}
}

/* The counter's first uint64_t in c (counters_words() of them). */
static inline uint64_t *counters_field(struct counters *c, const struct counter_desc *d)
{
	return (uint64_t *)((char *)c + d->offset);
}

static inline const uint64_t *counters_value(const struct counters *c, const struct counter_desc *d)
{
	return (const uint64_t *)((const char *)c + d->offset);
}
