/* SPDX-License-Identifier: MIT */
/*
 * DAMON virtual-address monitoring through sysfs (/sys/kernel/mm/damon/admin)
 * as a hotness source: thpd's own kdamonds, one per monitored target, each
 * with one vaddr context and one "stat" scheme whose tried regions are read
 * as the target's hot_regions.
 *
 * thpd only ever uses DAMON that nobody else does: it creates its kdamonds
 * only when none exist (nr_kdamonds is 0), and removes them when it stops.
 * The host may run a DAMON context of its own; it is never touched.
 *
 * Owner: the scan worker thread. Every function but damon_pool_close (called
 * after that thread stopped) runs there, so the pool's state needs no lock.
 * update_schemes_tried_regions blocks for one or two aggregation intervals:
 * never call these on the event loop.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "hotmap.h"

/* Monitoring attributes: DAMON's defaults (5 ms / 100 ms) cost 20-40% of a
 * CPU in an emulated guest; these cost ~3% with ~20 regions there and still
 * settle within a second (measured in a 6.12 TCG guest, 512 MiB). */
#define DAMON_SAMPLE_US	    20000
#define DAMON_AGGR_US	    400000
#define DAMON_UPDATE_US	    1000000
#define DAMON_MIN_REGIONS   10
#define DAMON_MAX_REGIONS   1000
#define DAMON_MAX_ACCESSES  (DAMON_AGGR_US / DAMON_SAMPLE_US)
#define DAMON_ADMIN_DEFAULT "/sys/kernel/mm/damon/admin"

/*
 * Create `slots` kdamonds, each ready for one target (vaddr, the attributes
 * above, one stat scheme). 0, or a negative errno with a one-line reason in
 * why: -ENOENT no DAMON sysfs, -EBUSY someone else's kdamonds exist,
 * -EOPNOTSUPP no vaddr operations or no tried regions (before 6.2),
 * -EACCES/-EPERM/-EROFS not allowed. Idempotent once it succeeded.
 * admin: the sysfs directory (DAMON_ADMIN_DEFAULT; tests pass another).
 */
int damon_pool_open(const char *admin, unsigned slots, char *why, size_t why_len);

/* Slots of the open pool (0 when not open). */
unsigned damon_pool_slots(void);

/* Monitor pid in slot (stopping whatever the slot watched). 0 or -errno. */
int damon_slot_watch(unsigned slot, pid_t pid);

/*
 * The slot's current regions, scored (sorted by start; *ret is the caller's
 * to free). -ESRCH when the slot does not watch pid or its kdamond stopped
 * (the target exited, or its pid was reused): watch again.
 */
int damon_slot_snapshot(unsigned slot, pid_t pid, struct hot_region **ret, size_t *n);

/* Stop the slot's kdamond (its target went away). */
void damon_slot_stop(unsigned slot);

/* Stop thpd's kdamonds and remove them (nr_kdamonds 0). */
void damon_pool_close(void);

/*
 * Parse one tried_regions directory (…/schemes/0/tried_regions) into scored
 * regions. Exposed for the unit test, which reads a copy of one.
 */
int damon_read_tried_regions(int dirfd, struct hot_region **ret, size_t *n);
