/* SPDX-License-Identifier: MIT */
/*
 * Scans of targets on the scan worker (scan.c) and what the loop does with
 * their results: the chunk table merge and hotness refs windows.
 */
#include "manager-internal.h"

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "pagemap.h"
#include "scan.h"
#include "workq.h"

/* Idle targets (nothing to do) get their smaps re-read this much less often. */
#define IDLE_REFRESH_FACTOR 8ULL

/* ---- scanning --------------------------------------------------------- */

struct target *manager_find_by_id(struct manager *m, pid_t pid, uint64_t id)
{
	struct target *t;

	HASH_FIND(hh, m->targets, &pid, sizeof(pid), t);
	return (t && t->id == id) ? t : NULL;
}

void manager_log_denied_once(struct manager *m, struct target *t, int err, const char *what)
{
	struct log_ctx ctx;
	const char *cap = err == EPERM ? "CAP_SYS_NICE" : "CAP_SYS_PTRACE";

	if (t->state == TARGET_DENIED)
		return;
	t->state = TARGET_DENIED;
	target_log_ctx(t, &ctx, MID_DENIED);
	ctx.err = err;
	log_ctx_msg(LOG_WARNING, &ctx,
		    "target %d (%s): %s denied (%s): thpd lacks %s; not trying this process again",
		    (int)t->pid, t->comm, what, strerror(err), cap);
}

static void apply_scan(struct manager *m, struct target *t, struct scan_job *job)
{
	struct merge_stats ms;
	uint64_t resident = 0;

	if (chunk_table_merge(&t->table, now_usec(), job->areas, job->n_areas, job->chunks,
			      job->n_chunks, &ms) < 0) {
		log_ratelimited(LOG_ERR, NULL, "out of memory merging scan of %d", (int)t->pid);
		return;
	}
	chunk_table_set_notes(&t->table, job->skipped, job->n_skipped, job->sparse, job->n_sparse);
	job->skipped = NULL;
	job->sparse = NULL;
	job->n_skipped = job->n_sparse = 0;
	for (size_t i = 0; i < t->table.n_areas; i++)
		resident += t->table.areas[i].resident;
	t->resident_bytes = resident;
	t->anon_bytes = job->anon_bytes;
	t->huge_bytes = job->huge_bytes;
	t->maps_hash = job->maps_hash;
	m->counters.splits += ms.split;
	m->state_dirty |= ms.split > 0;
	if (ms.split)
		log_debug("target %d: %zu collapsed chunks were split again", (int)t->pid,
			  ms.split);
}

static void on_scan_done(struct work *w, bool cancelled, void *userdata)
{
	struct manager *m = userdata;
	struct scan_job *job = (struct scan_job *)w;
	struct target *t = manager_find_by_id(m, job->pid, job->target_id);

	if (t)
		t->scanning = false;
	if (cancelled || m->stopping || !t)
		goto out;
	t->scans++;
	t->last_scan_usec = now_usec();
	m->counters.scans++;
	m->counters.scan_usec += job->duration_usec;
	m->counters.scan_cpu_usec += job->cpu_usec;
	m->counters.full_scans += job->did_smaps;
	histogram_add(&m->counters.scan_latency, job->duration_usec);
	switch (job->status) {
	case SCAN_GONE:
		target_remove(m, t, "exited during scan");
		goto out;
	case SCAN_DENIED:
		manager_log_denied_once(m, t, -job->err, "reading /proc");
		goto out;
	case SCAN_THP_DISABLED:
		if (t->state == TARGET_ACTIVE) /* an operator pause stays */
			t->state = TARGET_THP_DISABLED;
		goto out;
	case SCAN_ERROR:
		log_ratelimited(LOG_WARNING, NULL, "scan of %d failed: %s", (int)t->pid,
				strerror(-job->err));
		goto out;
	case SCAN_OK:
		break;
	}
	if (t->state == TARGET_THP_DISABLED)
		t->state = TARGET_ACTIVE;
	log_debug("target %d: scan %u%s in %" PRIu64 " us", (int)t->pid, t->scans,
		  job->did_smaps ? " (smaps)" : "", job->duration_usec);
	if (job->did_smaps) {
		t->last_full_scan_usec = t->last_scan_usec;
		t->full_scans++;
	}
	manager_hotness_refs_before_merge(t, job);
	apply_scan(m, t, job);
	if (t->scans == 1 && m->n_pending)
		state_restore_target(m, t);
	t->rescan_needed = false;
	manager_hotness_after_merge(m, t, job);
	manager_plan_and_submit(m, t);
out:
	scan_job_free(job);
}

/*
 * smaps (VmFlags, THPeligible, Referenced) is the expensive read: it is due
 * every smaps_refresh scan intervals, and IDLE_REFRESH_FACTOR times less
 * often for a target with nothing to do. A layout change forces it anyway
 * (the scan job compares the maps).
 */
bool manager_full_scan_due(const struct manager *m, const struct target *t, uint64_t now)
{
	const struct daemon_config *d = &m->cfg->cfg->daemon;
	uint64_t every =
	    d->smaps_refresh * d->scan_interval_usec * (t->idle ? IDLE_REFRESH_FACTOR : 1);

	/* Half an interval of slack: ticks are not exactly one interval apart. */
	return t->last_full_scan_usec == 0 ||
	       now + d->scan_interval_usec / 2 >= t->last_full_scan_usec + every;
}

void manager_submit_scan(struct manager *m, struct target *t)
{
	const struct policy *p = t->policy;
	struct scan_params params = {
	    .shmem = p->shmem,
	    .thp_always = m->thp_always,
	    .min_present_bp = p->min_present_bp,
	    .full = manager_full_scan_due(m, t, now_usec()),
	    .prev_maps_hash = t->maps_hash,
	    .prev_areas = t->table.areas,
	    .n_prev_areas = t->table.n_areas,
	};
	uint64_t *huge_addrs = NULL;

	if (t->scanning || t->collapsing || t->state == TARGET_DENIED || m->stopping)
		return;
	/* Only the pagemap fallback needs to know what was huge before. */
	if (pagemap_scan_support() != 1 &&
	    chunk_table_huge_addrs(&t->table, &huge_addrs, &params.n_prev_huge) < 0)
		return;
	params.prev_huge = huge_addrs;
	manager_hotness_params(m, t, &params);
	struct scan_job *job = scan_job_new(t->id, t->pid, t->pidfd, &params, on_scan_done);
	free(huge_addrs);
	if (!job)
		return;

	t->scanning = true;
	t->mem_changed = false;
	workq_submit(m->scanq, &job->work);
}
