/* SPDX-License-Identifier: MIT */
/*
 * Pauses (ENOMEM, EBUSY per memory cgroup, memory pressure), planning of
 * collapse jobs under the budgets, and applying their results.
 */
#include "manager-internal.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "buddyinfo.h"
#include "collapse.h"
#include "errno-policy.h"
#include "plan.h"
#include "pressure.h"
#include "workq.h"

/* Free order-9 blocks needed to end an ENOMEM pause early. */
#define ENOMEM_RESUME_MIN_BLOCKS 4

/* ---- pauses ----------------------------------------------------------- */

bool manager_memcg_paused(const struct manager *m, const char *memcg, uint64_t now)
{
	struct memcg_pause *mp;

	if (!memcg)
		return false;
	HASH_FIND_STR(m->memcg_pauses, memcg, mp);
	return mp && pause_active(&mp->pause, now);
}

static void pause_memcg(struct manager *m, struct target *t, uint64_t now)
{
	struct memcg_pause *mp;
	struct log_ctx ctx;
	uint64_t dur = m->cfg->cfg->retry.ebusy_pause_usec;
	char d[32];

	if (!t->memcg)
		return;
	HASH_FIND_STR(m->memcg_pauses, t->memcg, mp);
	if (!mp) {
		mp = calloc(1, sizeof(*mp));
		if (!mp || !(mp->path = strdup(t->memcg))) {
			free(mp);
			return;
		}
		HASH_ADD_KEYPTR(hh, m->memcg_pauses, mp->path, strlen(mp->path), mp);
	}
	m->counters.ebusy_pauses++;
	m->state_dirty = true;
	pause_set(&mp->pause, now, dur, EBUSY);
	manager_emit(m,
		     &(struct manager_event){.type = MANAGER_EVENT_PAUSE,
					     .reason = "ebusy",
					     .cgroup = t->memcg,
					     .err = EBUSY,
					     .duration_usec = dur},
		     t);
	target_log_ctx(t, &ctx, MID_PAUSE);
	ctx.err = EBUSY;
	log_ctx_msg(LOG_NOTICE, &ctx,
		    "memory cgroup %s is full (EBUSY from pid %d): pausing its "
		    "targets for %s",
		    t->memcg, (int)t->pid, format_duration(dur, d, sizeof(d)));
	manager_schedule_kick(m, mp->pause.until_usec);
}

static void pause_global_enomem(struct manager *m, struct target *t, uint64_t now)
{
	struct log_ctx ctx;
	uint64_t dur = m->cfg->cfg->retry.enomem_pause_usec;
	char d[32];

	m->counters.enomem_pauses++;
	m->state_dirty = true;
	pause_set(&m->enomem_pause, now, dur, ENOMEM);
	manager_emit(m,
		     &(struct manager_event){.type = MANAGER_EVENT_PAUSE,
					     .reason = "enomem",
					     .err = ENOMEM,
					     .duration_usec = dur},
		     t);
	target_log_ctx(t, &ctx, MID_PAUSE);
	ctx.err = ENOMEM;
	log_ctx_msg(LOG_NOTICE, &ctx,
		    "no huge page available (ENOMEM collapsing pid %d): pausing "
		    "all collapses for %s or until free huge blocks return",
		    (int)t->pid, format_duration(dur, d, sizeof(d)));
	manager_schedule_kick(m, m->enomem_pause.until_usec);
}

/* /proc/buddyinfo read on the scan worker: the loop never reads /proc. */
struct buddyinfo_job {
	struct work work;
	uint64_t blocks; /* free order-9 blocks; 0 if unreadable */
};

static void buddyinfo_run(struct work *w, const atomic_bool *stop)
{
	struct buddyinfo_job *job = (struct buddyinfo_job *)w;
	char *buf;
	size_t len;

	if (read_file_at(AT_FDCWD, "/proc/buddyinfo", &buf, &len) < 0)
		return;
	job->blocks = buddyinfo_free_blocks(buf, len, 9);
	free(buf);
}

static void on_buddyinfo_done(struct work *w, bool cancelled, void *userdata)
{
	struct manager *m = userdata;
	struct buddyinfo_job *job = (struct buddyinfo_job *)w;

	m->buddyinfo_in_flight = false;
	if (!cancelled && !m->stopping && pause_active(&m->enomem_pause, now_usec()) &&
	    job->blocks >= ENOMEM_RESUME_MIN_BLOCKS) {
		log_info("%" PRIu64 " free order-9 blocks: ending the ENOMEM pause early",
			 job->blocks);
		m->enomem_pause.until_usec = 0;
		manager_schedule_kick(m, now_usec());
	}
	free(job);
}

/* End an ENOMEM pause early when the buddy allocator has order-9 blocks. */
void manager_check_enomem_resume(struct manager *m, uint64_t now)
{
	struct buddyinfo_job *job;

	if (!pause_active(&m->enomem_pause, now) || m->buddyinfo_in_flight || !m->scanq)
		return;
	job = calloc(1, sizeof(*job));
	if (!job)
		return;
	job->work.run = buddyinfo_run;
	job->work.done = on_buddyinfo_done;
	m->buddyinfo_in_flight = true;
	workq_submit(m->scanq, &job->work);
}

/* ---- memory pressure -------------------------------------------------- */

/*
 * Collapsing allocates a huge page and copies 2 MiB into it: while tasks
 * stall on memory (PSI "some" or "full" above the policy's thresholds),
 * thpd waits. /proc/pressure/memory is computed by the kernel on read and
 * never waits for I/O, so it is read on the loop.
 */
void manager_check_pressure(struct manager *m, uint64_t now)
{
	const struct daemon_config *d = &m->cfg->cfg->daemon;
	struct psi_avg v = {0};
	char *buf, why[sizeof(m->pressure_why)];
	size_t len;
	bool high = false;

	if (d->pressure_some_bp || d->pressure_full_bp) {
		if (read_file_at(AT_FDCWD, "/proc/pressure/memory", &buf, &len) < 0)
			return; /* no PSI (psi=0): nothing to go by */
		int r = psi_parse(buf, len, &v);
		free(buf);
		if (r < 0)
			return;
		high = psi_high(&v, d->pressure_some_bp, d->pressure_full_bp, m->pressure_high, why,
				sizeof(why));
		snprintf(m->pressure_why, sizeof(m->pressure_why), "%s", why);
	}
	if (high == m->pressure_high)
		return;
	m->pressure_high = high;
	manager_emit(
	    m,
	    &(struct manager_event){.type = high ? MANAGER_EVENT_PAUSE : MANAGER_EVENT_RESUME,
				    .reason = "pressure"},
	    NULL);
	if (high) {
		log_notice("memory pressure (%s): pausing all collapses until it falls to half",
			   m->pressure_why);
	} else {
		log_notice("memory pressure fell (%s): collapsing again", m->pressure_why);
		manager_schedule_kick(m, now);
	}
}

void manager_on_pressure_timer(evutil_socket_t fd, short what, void *arg)
{
	manager_check_pressure(arg, now_usec());
}

const char *manager_pressure_detail(const struct manager *m)
{
	return m->pressure_high ? m->pressure_why : NULL;
}

/* ---- collapsing ------------------------------------------------------- */

static void on_collapse_done(struct work *w, bool cancelled, void *userdata);

static bool chunk_wanted(const struct target *t, const struct chunk *c, uint64_t now)
{
	if (c->in_flight || c->retry.state == CHUNK_HUGE)
		return false;
	if (manager_hotness_measures(t) && c->hot_bp < t->policy->min_hot_bp)
		return false;
	struct area_sig sig = chunk_area_sig(&t->table, c);
	return retry_due((struct chunk_retry *)&c->retry, now, &sig);
}

static uint64_t huge_room(const struct target *t)
{
	uint64_t cap = t->policy->max_huge;

	if (cap == 0)
		return UINT64_MAX;
	return cap > t->huge_bytes ? cap - t->huge_bytes : 0;
}

/* Earliest time a chunk in backoff becomes due (0 if none). */
static uint64_t next_backoff(const struct target *t)
{
	uint64_t next = 0;

	for (size_t i = 0; i < t->table.n_chunks; i++) {
		const struct chunk *c = &t->table.chunks[i];
		if (c->retry.state == CHUNK_BACKOFF && (!next || c->retry.next_usec < next))
			next = c->retry.next_usec;
	}
	return next;
}

static uint64_t stall_budget_wait(struct target *t, uint64_t now);

void manager_plan_and_submit(struct manager *m, struct target *t)
{
	uint64_t now = now_usec();
	struct plan_item *items = NULL;
	size_t n = 0;

	if (m->stopping || t->collapsing || t->scanning || t->rescan_needed ||
	    t->state != TARGET_ACTIVE)
		return;
	if (m->operator_paused || m->pressure_high || pause_active(&m->enomem_pause, now) ||
	    manager_memcg_paused(m, t->memcg, now))
		return;
	if (!t->hot_valid)
		return;
	items = malloc((t->table.n_chunks ? t->table.n_chunks : 1) * sizeof(*items));
	if (!items)
		return;
	for (size_t i = 0; i < t->table.n_chunks; i++) {
		struct chunk *c = &t->table.chunks[i];
		if (chunk_wanted(t, c, now))
			items[n++] = (struct plan_item){c->addr, c->present, c->hot_bp};
	}
	t->idle = n == 0;
	if (n == 0)
		goto out;
	plan_rank(items, n);
	uint64_t stall_wait = stall_budget_wait(t, now);
	if (stall_wait > 0) {
		manager_schedule_kick(m, now + stall_wait);
		goto out;
	}
	struct token_bucket *ptb = policy_bucket(m, t->policy);
	uint64_t budget = MIN(tb_available(&m->global_tb, now), tb_available(ptb, now));
	size_t k = plan_fit(n, budget, huge_room(t));
	/* Under a stall budget one chunk a job: each call is charged as it ends. */
	if (t->stall.share_bp > 0)
		k = MIN(k, 1);
	if (k == 0) {
		if (huge_room(t) >= PMD_SIZE_2M) /* budget, not the cap: wait for tokens */
			manager_schedule_kick(
			    m, now + MAX(tb_wait_usec(&m->global_tb, now, PMD_SIZE_2M),
					 tb_wait_usec(ptb, now, PMD_SIZE_2M)));
		goto out;
	}
	struct collapse_job *job = collapse_job_new(t->id, t->pid, t->pidfd, k, on_collapse_done);
	if (!job)
		goto out;
	job->want_cpu = t->stall.share_bp > 0;
	tb_take(&m->global_tb, now, k * PMD_SIZE_2M);
	tb_take(ptb, now, k * PMD_SIZE_2M);
	for (size_t i = 0; i < k; i++) {
		struct chunk *c = chunk_table_find(&t->table, items[i].addr);
		job->addrs[i] = items[i].addr;
		if (c) {
			c->in_flight = true;
			job->maybe[i] = c->maybe_huge;
			job->verify |= c->maybe_huge;
		}
	}
	if (m->inject_left > 0) {
		job->inject_errno = m->inject_errno;
		m->inject_left--;
	}
	t->collapsing = true;
	workq_submit(m->collapseq, &job->work);
out:
	/* A kick serves every target and is then gone: whatever woke this one
	 * (a new process, a budget wait), its next backoff needs its own. */
	if (!t->collapsing) {
		uint64_t next = next_backoff(t);
		if (next)
			manager_schedule_kick(m, next);
	}
	free(items);
}

/* grew: a success made a new huge page (not one that was huge already). */
static void count_global(struct manager *m, enum collapse_class cls, bool grew)
{
	m->state_dirty = true;
	m->counters.attempts++;
	m->counters.by_class[cls]++;
	if (cls == COLLAPSE_OK && grew)
		m->counters.collapsed_bytes += PMD_SIZE_2M;
}

static void count_result(struct manager *m, struct target *t, enum collapse_class cls, int err,
			 bool grew)
{
	count_global(m, cls, grew);
	t->attempts++;
	t->by_class[cls]++;
	if (cls != COLLAPSE_OK)
		t->last_err = err;
	if (cls == COLLAPSE_OK && grew) {
		t->collapsed_bytes += PMD_SIZE_2M;
		t->huge_bytes += PMD_SIZE_2M;
	}
}

/* Pagemap fallback: of the successes on chunks that may have been huge
 * already, how many made new huge pages (collapse_job.verify). */
static uint32_t maybe_new_huge(const struct collapse_job *job)
{
	uint32_t certain_ok = 0, maybe_ok = 0;

	for (size_t i = 0; i < job->n; i++)
		if (job->errs[i] == 0) {
			maybe_ok += job->maybe[i];
			certain_ok += !job->maybe[i];
		}
	return collapse_new_huge(job, certain_ok, maybe_ok) - certain_ok;
}

static void log_chunk_result(struct target *t, uint64_t addr, enum collapse_class cls, int err,
			     const struct chunk *c)
{
	struct log_ctx ctx;

	if (cls == COLLAPSE_OK)
		return;
	target_log_ctx(t, &ctx, MID_COLLAPSE_ERR);
	ctx.err = err;
	ctx.addr = addr;
	log_ratelimited(LOG_DEBUG, &ctx, "target %d chunk 0x%" PRIx64 ": %s -> %s (attempt %u)",
			(int)t->pid, addr, collapse_class_name(cls),
			c ? chunk_state_name(c->retry.state) : "gone", c ? c->retry.attempts : 0);
}

/* A collapse made c huge: its area's figures as the next scan will see them
 * (an idle target is not rescanned soon, and show reads these). */
static void area_now_huge(struct target *t, struct chunk *c)
{
	struct scan_area *a = &t->table.areas[c->area];
	uint64_t filled = (uint64_t)(PAGES_PER_PMD - MIN(c->present, PAGES_PER_PMD)) * PAGE_SIZE_4K;

	a->huge += PMD_SIZE_2M;
	a->resident += filled;
	t->resident_bytes += filled;
	c->present = PAGES_PER_PMD;
}

/* Apply one job's results; returns false if the target was removed. */
static bool apply_results(struct manager *m, struct target *t, struct collapse_job *job)
{
	uint64_t now = now_usec();
	const struct retry_config *rc = &m->cfg->cfg->retry;
	bool gone = false;
	uint32_t ok = 0, failed = 0, grown = 0, maybe_new = maybe_new_huge(job);

	for (size_t i = 0; i < job->n; i++) {
		struct chunk *c = chunk_table_find(&t->table, job->addrs[i]);
		int e = job->errs[i];
		bool grew = e == 0 && (!job->maybe[i] || (maybe_new > 0 && maybe_new--));
		if (c) {
			c->in_flight = false;
			if (e == 0)
				c->maybe_huge = false;
			if (grew)
				area_now_huge(t, c);
		}
		if (e == COLLAPSE_NOT_TRIED) {
			tb_refund(&m->global_tb, PMD_SIZE_2M);
			tb_refund(policy_bucket(m, t->policy), PMD_SIZE_2M);
			continue;
		}
		enum collapse_class cls = collapse_result_class(e);
		const struct errno_policy *pol = errno_policy(cls);
		int err = e == COLLAPSE_ERR_UNMAPPED ? ENOMEM : e;
		count_result(m, t, cls, err, grew);
		grown += grew;
		if (c) {
			struct area_sig sig = chunk_area_sig(&t->table, c);
			retry_record(&c->retry, cls, err, now, rc, manager_next_rand(m), &sig);
		}
		log_chunk_result(t, job->addrs[i], cls, err, c);
		if (cls == COLLAPSE_OK) {
			ok++;
		} else {
			failed++;
			manager_emit(m,
				     &(struct manager_event){.type = MANAGER_EVENT_COLLAPSE_ERROR,
							     .reason = collapse_class_name(cls),
							     .err = err,
							     .addr = job->addrs[i]},
				     t);
		}
		/* What the answer means beyond its chunk: errno-policy.c. */
		if (pol->pause == PAUSE_DAEMON)
			pause_global_enomem(m, t, now);
		else if (pol->pause == PAUSE_MEMCG)
			pause_memcg(m, t, now);
		if (pol->report_denied)
			manager_log_denied_once(m, t, err, "process_madvise(MADV_COLLAPSE)");
		if (pol->drop_target)
			gone = true;
		if (pol->rescan)
			t->rescan_needed = true;
	}
	manager_emit(
	    m,
	    &(struct manager_event){.type = MANAGER_EVENT_COLLAPSE_DONE,
				    .bytes = (uint64_t)grown * PMD_SIZE_2M,
				    .chunks_ok = ok,
				    .chunks_failed = failed,
				    .duration_usec = job->finished_usec - job->started_usec},
	    t);
	if (gone) {
		target_remove(m, t, "exited during collapse");
		return false;
	}
	return true;
}

void manager_check_collapse_sched(struct manager *m)
{
	int r = workq_sched_error(m->collapseq);
	const struct daemon_config *d = &m->cfg->cfg->daemon;

	if (r == m->collapse_sched_err_logged)
		return;
	m->collapse_sched_err_logged = r;
	if (r < 0)
		log_warning("collapse worker: cannot run as %s at nice %u: %s; it keeps its "
			    "scheduling (lowering nice needs CAP_SYS_NICE)",
			    worker_sched_name(d->collapse_sched), d->collapse_nice, strerror(-r));
}

#define STALL_IDLE_USEC (1000 * 1000ULL)
static bool target_still(struct target *t, uint64_t now);

/*
 * How long until the stall budget lets the target's next job start: the
 * first job's second look (stall_chargeable) first; then, while it is in
 * debt, a look at its CPU time (a small /proc read) at most once a
 * STALL_IDLE_USEC: a target that has not run since drops its debt.
 */
static uint64_t stall_budget_wait(struct target *t, uint64_t now)
{
	if (t->stall.share_bp == 0)
		return 0;
	if (now < t->cpu_probe_until_usec)
		return t->cpu_probe_until_usec - now;
	uint64_t wait = stall_wait_usec(&t->stall, now);
	if (wait == 0 || t->cpu_ticks < 0)
		return wait;
	if (target_still(t, now)) {
		stall_forgive(&t->stall, now);
		return 0;
	}
	t->cpu_probe_until_usec = now + MIN(wait, STALL_IDLE_USEC);
	return t->cpu_probe_until_usec - now;
}

/*
 * Should this job's calls be charged to the target's stall budget? Not if
 * the target did not run at all for STALL_IDLE_USEC up to the job's end:
 * then none of its threads waited on the collapse, and an idle process (a
 * demo, a cache between bursts) is collapsed at the rate budgets' pace. A
 * thread that wakes mid-call waits for that one call; the next job finds
 * the CPU time moved and charges again. A process that runs even 1% of the
 * time moves its clock ticks (1/100 s) within a second. The first job of a
 * target is not charged (one chunk): the next waits STALL_IDLE_USEC, for a
 * second look at its CPU time.
 */
static bool stall_chargeable(struct target *t, const struct collapse_job *job)
{
	uint64_t now = job->finished_usec;

	if (!job->want_cpu || job->cpu_ticks < 0) {
		t->cpu_ticks = -1;
		return true;
	}
	if (t->cpu_ticks < 0) {
		t->cpu_ticks = job->cpu_ticks;
		t->cpu_still_since_usec = now;
		t->cpu_probe_until_usec = now + STALL_IDLE_USEC;
		return false;
	}
	if (job->cpu_ticks != t->cpu_ticks) {
		t->cpu_ticks = job->cpu_ticks;
		t->cpu_still_since_usec = now;
		return true;
	}
	return now < t->cpu_still_since_usec + STALL_IDLE_USEC;
}

/* Has the target not run for STALL_IDLE_USEC, by a fresh look? */
static bool target_still(struct target *t, uint64_t now)
{
	int64_t ticks = process_cpu_ticks(t->pid);

	if (ticks < 0)
		return false;
	if (ticks != t->cpu_ticks) {
		t->cpu_ticks = ticks;
		t->cpu_still_since_usec = now;
		return false;
	}
	return now >= t->cpu_still_since_usec + STALL_IDLE_USEC;
}

static void on_collapse_done(struct work *w, bool cancelled, void *userdata)
{
	struct manager *m = userdata;
	struct collapse_job *job = (struct collapse_job *)w;
	struct target *t = manager_find_by_id(m, job->pid, job->target_id);

	manager_check_collapse_sched(m);

	if (t)
		t->collapsing = false;
	if (cancelled || m->stopping)
		goto out;
	m->counters.collapse_usec += job->finished_usec - job->started_usec;
	histogram_merge(&m->counters.collapse_latency, &job->latency);
	if (t) {
		/* The calls only: the job's other work (verifying with smaps) does
		 * not lock the target's memory map for writing. */
		t->collapse_usec += job->calls_usec;
		if (stall_chargeable(t, job))
			stall_charge(&t->stall, now_usec(), job->calls_usec);
	}
	if (!t) {
		/* The target went away meanwhile: the work was still done. */
		for (size_t i = 0; i < job->n; i++)
			if (job->errs[i] != COLLAPSE_NOT_TRIED)
				count_global(m, collapse_result_class(job->errs[i]),
					     !job->maybe[i]);
		goto out;
	}
	if (!apply_results(m, t, job))
		goto out;
	if (t->rescan_needed) {
		t->maps_hash = 0; /* force a full read */
		manager_submit_scan(m, t);
		goto out;
	}
	uint64_t next = next_backoff(t);
	if (next)
		manager_schedule_kick(m, next);
	/* Keep going while budget and candidates remain. */
	manager_plan_and_submit(m, t);
out:
	collapse_job_free(job);
}
