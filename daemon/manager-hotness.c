/* SPDX-License-Identifier: MIT */
/*
 * Hotness: which source measures a target (the policy's choice, "auto"
 * resolved to the best the kernel and thpd's privileges allow), the DAMON
 * slots the manager hands out, and every chunk's score after a scan.
 *
 * Sources, best first:
 *   damon  DAMON vaddr regions (per region, down to pages): a kdamond of
 *          thpd's own per target; nothing is reset in the target.
 *   refs   smaps Referenced/Rss per area over one scan window, after
 *          clear_refs; per area only, and it clears the young bits that
 *          reclaim ages memory by, so it is only taken when asked for or
 *          when nothing better is there.
 *   none   every eligible chunk counts as hot (densest first).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "chunks.h"
#include "damon.h"
#include "hotmap.h"
#include "log.h"
#include "manager.h"
#include "manager-internal.h"
#include "scan.h"

/* May the manager hand out DAMON slots? (the kernel may have it; no
 * scan has said it cannot be used) */
static bool damon_usable(const struct manager *m)
{
	return m->damon_err == 0 && m->damon_vaddr != FEATURE_NO &&
	       m->damon_vaddr != FEATURE_DENIED;
}

static bool refs_usable(const struct manager *m)
{
	return !m->refs_unavailable_logged;
}

void manager_hotness_release(struct manager *m, struct target *t)
{
	if (t->damon_slot >= 0) {
		m->damon_slot_target[t->damon_slot] = 0;
		m->damon_stop_mask |= 1ULL << t->damon_slot;
	}
	t->damon_slot = -1;
	free(t->hot_regions);
	free(t->prev_hot_regions);
	t->hot_regions = t->prev_hot_regions = NULL;
	t->n_hot_regions = t->n_prev_hot_regions = 0;
}

static bool take_damon_slot(struct manager *m, struct target *t)
{
	if (t->damon_slot >= 0)
		return true;
	for (int i = 0; i < DAMON_SLOTS; i++)
		if (m->damon_slot_target[i] == 0) {
			m->damon_slot_target[i] = t->id;
			m->damon_stop_mask &= ~(1ULL << i); /* watching anew stops it anyway */
			t->damon_slot = i;
			return true;
		}
	return false;
}

/* The source for t now (never auto), taking or giving back a DAMON slot. */
static enum hotness_source resolve(struct manager *m, struct target *t)
{
	enum hotness_source want = t->policy ? t->policy->hotness : HOTNESS_NONE;

	if ((want == HOTNESS_DAMON || want == HOTNESS_AUTO) && damon_usable(m) &&
	    take_damon_slot(m, t))
		return HOTNESS_DAMON;
	if (want != HOTNESS_NONE && refs_usable(m))
		return HOTNESS_REFS;
	return HOTNESS_NONE;
}

void manager_hotness_resolve(struct manager *m, struct target *t)
{
	enum hotness_source s = resolve(m, t);

	if (s != HOTNESS_DAMON && t->damon_slot >= 0)
		manager_hotness_release(m, t);
	if (s != t->hot_source) {
		if (t->scans > 0)
			log_info("target %d: hotness %s (policy %s: %s)", (int)t->pid,
				 hotness_source_name(s), t->policy ? t->policy->name : "-",
				 t->policy ? hotness_source_name(t->policy->hotness) : "-");
		t->hot_source = s;
		t->hot_valid = t->refs_window_open = false;
	}
}

/*
 * Does a hotness measurement decide anything for t now? Not once max_huge is
 * reached or no chunk is left that could be collapsed (all huge, parked or
 * quarantined): then refs stops clearing the target's young bits, which
 * reclaim ages its memory by, until a chunk could be collapsed again (a new
 * or grown area, a split). Before the first scan there is nothing to know.
 */
static bool hotness_decides(const struct target *t)
{
	if (t->scans == 0 || t->table.n_chunks == 0)
		return true;
	if (t->policy && t->policy->max_huge && t->huge_bytes >= t->policy->max_huge)
		return false;
	for (size_t i = 0; i < t->table.n_chunks; i++) {
		enum chunk_state s = t->table.chunks[i].retry.state;
		if (s == CHUNK_CANDIDATE || s == CHUNK_BACKOFF)
			return true;
	}
	return false;
}

void manager_hotness_params(struct manager *m, struct target *t, struct scan_params *p)
{
	manager_hotness_resolve(m, t);
	p->refs = t->hot_source == HOTNESS_REFS && hotness_decides(t);
	p->damon = t->hot_source == HOTNESS_DAMON;
	p->damon_slot = p->damon ? (unsigned)t->damon_slot : 0;
	p->damon_slots = DAMON_SLOTS;
	p->damon_stop_mask = m->damon_stop_mask;
	m->damon_stop_mask = 0; /* this job stops them */
}

/*
 * refs: Referenced counts accesses since the last clear_refs, first-touch
 * faults included. An area is hot only if it was hot over two consecutive
 * windows: memory touched once and then left idle never qualifies, and
 * neither does an area that is new or changed bounds (no earlier window).
 * A scan that did not measure (nothing to decide) keeps each area's last
 * figures. Runs before the scan's areas replace the table's.
 */
void manager_hotness_refs_before_merge(const struct target *t, struct scan_job *job)
{
	size_t j = 0;
	bool measured = job->params.refs;

	if (t->hot_source != HOTNESS_REFS || job->refs_denied)
		return;
	for (size_t i = 0; i < job->n_areas; i++) {
		struct scan_area *a = &job->areas[i];
		if (measured && !t->refs_window_open) { /* no window yet: since process start */
			a->hot_raw_bp = a->hot_bp = 0;
			continue;
		}
		while (j < t->table.n_areas && t->table.areas[j].start < a->start)
			j++;
		const struct scan_area *old = j < t->table.n_areas &&
						      t->table.areas[j].start == a->start &&
						      t->table.areas[j].end == a->end
						  ? &t->table.areas[j]
						  : NULL;
		if (!measured) {
			a->hot_raw_bp = old ? old->hot_raw_bp : 0;
			a->hot_bp = old ? old->hot_bp : 0;
		} else {
			a->hot_bp = old ? MIN(a->hot_raw_bp, old->hot_raw_bp) : 0;
		}
	}
}

static void refs_after_merge(struct manager *m, struct target *t, const struct scan_job *job)
{
	if (!job->params.refs) { /* not measured (nothing to decide): a new window later */
		t->refs_window_open = false;
		return;
	}
	if (job->refs_denied) {
		if (!m->refs_unavailable_logged)
			log_warning("hotness refs needs CAP_DAC_OVERRIDE to write "
				    "/proc/PID/clear_refs; falling back to hotness none");
		m->refs_unavailable_logged = true;
		manager_hotness_resolve(m, t); /* none now */
		return;
	}
	/* Referenced is meaningful only after a clear_refs one window ago. */
	t->hot_valid = t->refs_window_open;
	t->refs_window_open = true;
}

static void damon_after_scan(struct manager *m, struct target *t, struct scan_job *job)
{
	if (job->damon_err) { /* the pool could not be opened: DAMON is out for all */
		m->damon_err = job->damon_err;
		snprintf(m->damon_why, sizeof(m->damon_why), "%s", job->damon_why);
		log_warning("hotness damon unavailable: %s; falling back to %s", job->damon_why,
			    refs_usable(m) ? "refs" : "none");
		for (struct target *o = m->targets; o; o = o->hh.next)
			if (o->damon_slot >= 0)
				manager_hotness_release(m, o);
		manager_hotness_resolve(m, t);
		return;
	}
	if (job->damon_target_err)
		log_ratelimited(LOG_WARNING, NULL, "target %d: DAMON: %s (trying again)",
				(int)t->pid, job->damon_why);
	if (!job->damon_valid) { /* the kdamond was (re)started: measure afresh */
		free(t->hot_regions);
		free(t->prev_hot_regions);
		t->hot_regions = t->prev_hot_regions = NULL;
		t->n_hot_regions = t->n_prev_hot_regions = 0;
		t->hot_valid = false;
		return;
	}
	/* No region accessed at all is no signal (a fresh kdamond, or an
	 * emulated CPU that has not set accessed bits again), not "all cold":
	 * such a snapshot is dropped. */
	if (!hotmap_has_signal(job->hot_regions, job->n_hot_regions))
		return;
	free(t->prev_hot_regions);
	t->prev_hot_regions = t->hot_regions;
	t->n_prev_hot_regions = t->n_hot_regions;
	t->hot_regions = job->hot_regions;
	t->n_hot_regions = job->n_hot_regions;
	job->hot_regions = NULL;
	job->n_hot_regions = 0;
	/* Two snapshots with a signal: a chunk counts as hot as the lower of
	 * its two scores (as refs asks two windows), so memory touched once,
	 * and DAMON's first coarse regions, do not spend the budget. */
	t->hot_valid = t->prev_hot_regions != NULL;
}

void manager_hotness_after_merge(struct manager *m, struct target *t, struct scan_job *job)
{
	switch (t->hot_source) {
	case HOTNESS_REFS:
		refs_after_merge(m, t, job);
		break;
	case HOTNESS_DAMON:
		damon_after_scan(m, t, job);
		break;
	case HOTNESS_NONE:
	case HOTNESS_AUTO:
		break;
	}
	if (t->hot_source == HOTNESS_NONE) /* also after a fallback just now */
		t->hot_valid = true;
	for (size_t i = 0; i < t->table.n_chunks; i++) {
		struct chunk *c = &t->table.chunks[i];
		switch (t->hot_source) {
		case HOTNESS_DAMON:
			c->hot_bp = MIN(
			    hotmap_chunk_bp(t->hot_regions, t->n_hot_regions, c->addr),
			    hotmap_chunk_bp(t->prev_hot_regions, t->n_prev_hot_regions, c->addr));
			break;
		case HOTNESS_REFS:
			c->hot_bp = t->table.areas[c->area].hot_bp;
			break;
		case HOTNESS_NONE:
		case HOTNESS_AUTO:
			c->hot_bp = BP_PER_100;
			break;
		}
	}
}

bool manager_hotness_measures(const struct target *t)
{
	return t->hot_source == HOTNESS_REFS || t->hot_source == HOTNESS_DAMON;
}

const char *manager_damon_status(const struct manager *m)
{
	if (m->damon_vaddr == FEATURE_NO)
		return "unavailable: the kernel has no DAMON vaddr";
	if (m->damon_err)
		return m->damon_why;
	for (int i = 0; i < DAMON_SLOTS; i++)
		if (m->damon_slot_target[i])
			return "in use";
	return "available";
}

const char *manager_refs_status(const struct manager *m)
{
	if (m->refs_unavailable_logged)
		return "unavailable: writing /proc/PID/clear_refs needs CAP_DAC_OVERRIDE";
	for (const struct target *t = m->targets; t; t = t->hh.next)
		if (t->hot_source == HOTNESS_REFS)
			return "in use";
	return "available";
}

void manager_set_damon_vaddr(struct manager *m, enum feature_state s)
{
	m->damon_vaddr = s;
}
