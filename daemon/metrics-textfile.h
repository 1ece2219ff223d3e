/* SPDX-License-Identifier: MIT */
/*
 * The node_exporter textfile (daemon.metrics_textfile, every
 * daemon.metrics_interval): the text `thpctl metrics` prints, from the same
 * replies (GetStatus, GetCounters, ListTargets, GetPolicy as root sees
 * them; common/metrics-format.c renders them), written atomically (persist.c)
 * by a worker thread of its own, "thpd-metrics", started with the first
 * write. The loop only builds the replies. A failed write is logged (rate
 * limited) and tried again at the next interval; thpd goes on. A reload that
 * sets, changes or drops the path or the interval takes effect within
 * METRICS_CHECK_USEC. The file is left in place at stop (node_exporter's
 * node_textfile_mtime_seconds tells how old it is).
 */
#pragma once

#include <stdint.h>

#include "units.h"

/* How often the policy is looked at for a new path or interval. */
#define METRICS_CHECK_USEC (5 * USEC_PER_SEC)

struct event_base;
struct manager;
struct kernel_features;
struct metrics_textfile;

/* Borrows m and kf (both outlive it). The first write, if the policy asks
 * for one, is at once. Returns 0 or -ENOMEM. */
int metrics_textfile_new(struct event_base *base, struct manager *m,
			 const struct kernel_features *kf, struct metrics_textfile **ret);
/* Waits for a write in progress. NULL is fine. */
void metrics_textfile_free(struct metrics_textfile *mt);
