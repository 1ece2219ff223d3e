/* SPDX-License-Identifier: MIT */
/*
 * thpd's metrics in the Prometheus text exposition format (version 0.0.4),
 * rendered from the daemon's own Varlink replies as jansson objects: one
 * renderer for `thpctl metrics` and for the node_exporter textfile the
 * daemon writes (daemon.metrics_textfile). Names are thpd_..., in base
 * units (_bytes, _seconds, _ratio), counters end in _total; every family has
 * HELP and TYPE lines; no timestamps (node_exporter's textfile collector
 * refuses them). The metrics are listed in thpctl(1).
 * Pure: no I/O, no logging.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>

/*
 * Per-process series are bounded: the METRICS_TOP_TARGETS targets with the
 * most resident memory in candidate areas (ties: lower pid first) get
 * thpd_target_* series of their own; the others are summed into one series
 * labelled pid="other".
 */
#define METRICS_TOP_TARGETS 20

/* The replies' parameters, borrowed; a NULL one leaves its metrics out. */
struct metrics_sources {
	const json_t *status;	/* GetStatus */
	const json_t *counters; /* GetCounters' "counters" (root or group thpd only) */
	const json_t *targets;	/* ListTargets' "targets" array */
	const json_t *policy;	/* GetPolicy's "policy": every policy gets its series */
};

/*
 * The text, malloc'd and NUL-terminated (*len: its length, may be NULL), or
 * NULL when out of memory. Fields missing from the sources (an older
 * daemon) are left out, never invented.
 */
char *metrics_render(const struct metrics_sources *s, size_t *len);
