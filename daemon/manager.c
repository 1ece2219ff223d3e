/* SPDX-License-Identifier: MIT */
#include "manager.h"
#include "manager-internal.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "buddyinfo.h"
#include "collapse.h"
#include "discover.h"
#include "errno-policy.h"
#include "pagemap.h"
#include "log.h"
#include "plan.h"
#include "policy.h"
#include "pressure.h"
#include "scan.h"
#include "thpmode.h"
#include "units.h"
#include "util.h"
#include "workq.h"

/* MESSAGE_IDs of the key journal events (stable; see man/thpd.8). */
#define MID_TARGET_ADDED   "0d7c1b8a2f4e4b0f9c3a6e5d1b2a7f01"
#define MID_TARGET_REMOVED "0d7c1b8a2f4e4b0f9c3a6e5d1b2a7f02"
#define MID_COLLAPSE_ERR   "0d7c1b8a2f4e4b0f9c3a6e5d1b2a7f03"
#define MID_PAUSE	   "0d7c1b8a2f4e4b0f9c3a6e5d1b2a7f04"
#define MID_DENIED	   "0d7c1b8a2f4e4b0f9c3a6e5d1b2a7f05"
#define MID_RELOAD	   "0d7c1b8a2f4e4b0f9c3a6e5d1b2a7f06"

/* Idle targets (nothing to do) get their smaps re-read this much less often. */
#define IDLE_REFRESH_FACTOR 8ULL

/* Free order-9 blocks needed to end an ENOMEM pause early. */
#define ENOMEM_RESUME_MIN_BLOCKS 4

static void plan_and_submit(struct manager *m, struct target *t);
static void submit_scan(struct manager *m, struct target *t);

const char *manager_event_type_name(enum manager_event_type t)
{
	static const char *const names[] = {
	    [MANAGER_EVENT_TARGET_ADDED] = "target-added",
	    [MANAGER_EVENT_TARGET_REMOVED] = "target-removed",
	    [MANAGER_EVENT_COLLAPSE_DONE] = "collapse-done",
	    [MANAGER_EVENT_COLLAPSE_ERROR] = "collapse-error",
	    [MANAGER_EVENT_PAUSE] = "pause",
	    [MANAGER_EVENT_RESUME] = "resume",
	    [MANAGER_EVENT_RELOAD] = "reload",
	};
	return t < ARRAY_SIZE(names) ? names[t] : "unknown";
}

void manager_set_event_sink(struct manager *m, manager_event_fn fn, void *userdata)
{
	m->event_fn = fn;
	m->event_userdata = userdata;
}

static void emit(struct manager *m, struct manager_event *ev, const struct target *t)
{
	if (!m->event_fn)
		return;
	if (t) {
		ev->has_target = true;
		ev->pid = t->pid;
		ev->uid = t->uid;
		ev->has_owner = t->has_owner;
		ev->comm = t->comm;
		ev->policy = t->policy ? t->policy->name : NULL;
	}
	m->event_fn(ev, m->event_userdata);
}
static void schedule_kick(struct manager *m, uint64_t when);

const char *target_state_name(enum target_state s)
{
	static const char *const names[] = {
	    [TARGET_ACTIVE] = "active",
	    [TARGET_PAUSED] = "paused",
	    [TARGET_DENIED] = "denied",
	    [TARGET_THP_DISABLED] = "thp-disabled",
	};
	return s < ARRAY_SIZE(names) ? names[s] : "unknown";
}

static uint32_t next_rand(struct manager *m)
{
	/* xorshift32: jitter only, not security. */
	uint32_t x = m->rng;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return m->rng = x;
}

static struct timeval usec_to_tv(uint64_t usec)
{
	return (struct timeval){.tv_sec = (time_t)(usec / USEC_PER_SEC),
				.tv_usec = (suseconds_t)(usec % USEC_PER_SEC)};
}

static bool policy_is_refs(const struct policy *p)
{
	return p && p->hotness == HOTNESS_REFS;
}

/* ---- budgets ---------------------------------------------------------- */

/*
 * Pacing: the buckets hold PACE_WINDOW_USEC worth of the rate (at least one
 * chunk), so a rate is spent evenly, a few chunks every window, and never
 * as one burst of a whole scan interval. Each collapse stalls the target's
 * threads that touch that 2 MiB or its memory map for a few hundred
 * microseconds; spread out, those stalls stay out of a service's tail
 * latency (bench/collapse-impact.sh measures it).
 */
#define PACE_WINDOW_USEC (100 * 1000ULL)

static uint64_t burst_for(uint64_t rate)
{
	if (rate == 0)
		return 0;
	if (rate > UINT64_MAX / PACE_WINDOW_USEC)
		return UINT64_MAX;
	return MAX(rate * PACE_WINDOW_USEC / USEC_PER_SEC, (uint64_t)PMD_SIZE_2M);
}

static int budgets_rebuild(struct manager *m, const struct thpd_config *old_cfg,
			   struct token_bucket *old_tb, const struct thpd_config *cfg)
{
	uint64_t now = now_usec();
	struct token_bucket *tb = calloc(cfg->n_policies ? cfg->n_policies : 1, sizeof(*tb));

	if (!tb)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_policies; i++) {
		const struct policy *p = &cfg->policies[i];
		uint64_t burst = burst_for(p->max_rate);
		tb_init(&tb[i], p->max_rate, burst, now);
		/* Keep the fill of a policy that survives the reload by name. */
		for (size_t j = 0; old_cfg && j < old_cfg->n_policies; j++)
			if (streq(old_cfg->policies[j].name, p->name)) {
				tb[i] = old_tb[j];
				tb_reconfigure(&tb[i], p->max_rate, burst, now);
			}
	}
	free(m->policy_tb);
	m->policy_tb = tb;
	uint64_t grate = cfg->daemon.max_collapse_rate;
	uint64_t gburst = burst_for(grate);
	if (old_cfg)
		tb_reconfigure(&m->global_tb, grate, gburst, now);
	else
		tb_init(&m->global_tb, grate, gburst, now);
	return 0;
}

static struct token_bucket *policy_bucket(struct manager *m, const struct policy *p)
{
	return &m->policy_tb[p - m->cfg->cfg->policies];
}

/* ---- targets ---------------------------------------------------------- */

static void target_log_ctx(const struct target *t, struct log_ctx *ctx, const char *mid)
{
	*ctx = (struct log_ctx){
	    .message_id = mid, .pid = t->pid, .policy = t->policy ? t->policy->name : NULL};
}

static void target_remove(struct manager *m, struct target *t, const char *why)
{
	struct log_ctx ctx;

	target_log_ctx(t, &ctx, MID_TARGET_REMOVED);
	log_ctx_msg(LOG_INFO, &ctx, "target %d (%s) removed: %s; collapsed %" PRIu64 " MiB",
		    (int)t->pid, t->comm ? t->comm : "?", why, t->collapsed_bytes >> 20);
	emit(m, &(struct manager_event){.type = MANAGER_EVENT_TARGET_REMOVED, .reason = why}, t);
	HASH_DEL(m->targets, t);
	m->counters.targets_removed++;
	m->state_dirty = true;
	if (t->exit_ev)
		event_free(t->exit_ev);
	if (t->pidfd >= 0)
		close(t->pidfd);
	chunk_table_free(&t->table);
	free(t->comm);
	free(t->exe);
	free(t->unit);
	free(t->cgroup);
	free(t->memcg);
	free(t);
}

static void on_target_exit(evutil_socket_t fd, short what, void *arg)
{
	struct target *t = arg;

	/* pidfd readable: the process exited; everything queued for it goes. */
	target_remove(t->owner, t, "exited");
}

static void set_identity(struct target *t, struct discovered *d)
{
	/* Take ownership of the strings. */
	free(t->comm);
	free(t->exe);
	free(t->unit);
	free(t->cgroup);
	free(t->memcg);
	t->comm = d->comm;
	t->exe = d->exe;
	t->unit = d->unit;
	t->cgroup = d->cgroup;
	t->memcg = d->memcg;
	d->comm = d->exe = d->unit = d->cgroup = d->memcg = NULL;
	t->uid = d->uid;
	t->has_owner = d->has_owner;
	t->anon_bytes = d->anon_bytes;
}

static struct proc_identity target_identity(const struct target *t)
{
	return (struct proc_identity){
	    .pid = t->pid,
	    .uid = t->uid,
	    .comm = t->comm,
	    .exe = t->exe,
	    .unit = t->unit,
	    .cgroup = t->cgroup,
	    .anon_bytes = t->anon_bytes,
	};
}

static void target_add(struct manager *m, struct discovered *d, const struct policy *p)
{
	struct target *t = calloc(1, sizeof(*t));
	struct log_ctx ctx;

	if (!t)
		return;
	t->owner = m;
	t->id = ++m->next_target_id;
	t->pid = d->pid;
	t->pidfd = d->pidfd;
	d->pidfd = -1;
	t->starttime = d->starttime;
	t->fp = d->fp;
	t->policy = p;
	t->added_usec = now_usec();
	set_identity(t, d);
	t->exit_ev = event_new(m->base, t->pidfd, EV_READ, on_target_exit, t);
	if (!t->exit_ev || event_add(t->exit_ev, NULL) < 0) {
		if (t->exit_ev)
			event_free(t->exit_ev);
		close(t->pidfd);
		free(t);
		return;
	}
	HASH_ADD(hh, m->targets, pid, sizeof(t->pid), t);
	m->counters.targets_added++;
	m->state_dirty = true;
	emit(m, &(struct manager_event){.type = MANAGER_EVENT_TARGET_ADDED}, t);
	target_log_ctx(t, &ctx, MID_TARGET_ADDED);
	log_ctx_msg(LOG_INFO, &ctx, "target %d (%s) added: policy %s, anon %" PRIu64 " MiB",
		    (int)t->pid, t->comm, p->name, t->anon_bytes >> 20);
}

/* Re-match a target (identity or policy changed). Returns false if removed. */
static bool target_rematch(struct manager *m, struct target *t)
{
	struct proc_identity id = target_identity(t);
	const struct policy *p = policy_find(m->cfg->cfg, &id);

	/* min_anon selects processes to adopt; a target that shrinks below it
	 * keeps its policy (no flapping, no lost chunk state). */
	if (!p && t->policy) {
		id.anon_bytes = MAX(id.anon_bytes, t->policy->match.min_anon);
		if (policy_matches(t->policy, &id))
			p = t->policy;
	}
	if (!p || p->ignore) {
		target_remove(m, t, p ? "now matches an ignore policy" : "no longer matches");
		return false;
	}
	if (t->policy != p && (!t->policy || !streq(t->policy->name, p->name)))
		t->hot_valid = t->refs_window_open = false;
	t->policy = p;
	/* The policy may differ (min_present, shmem, ...): look afresh. */
	t->idle = false;
	return true;
}

/* ---- discovery -------------------------------------------------------- */

static int cmp_known(const void *a, const void *b)
{
	const struct known_pid *x = a, *y = b;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void on_discover_done(struct work *w, bool cancelled, void *userdata)
{
	struct manager *m = userdata;
	struct discover_job *job = (struct discover_job *)w;

	m->discovery_in_flight = false;
	if (cancelled || m->stopping)
		goto out;
	m->counters.discoveries++;
	log_debug("discovery: %zu processes in %" PRIu64 " us%s", job->n_processes,
		  job->duration_usec, job->only ? " (exec events)" : "");
	bool first_walk = !m->first_discovery_done && !job->only;
	for (size_t i = 0; i < job->n_found; i++) {
		struct discovered *d = &job->found[i];
		struct target *t;
		HASH_FIND(hh, m->targets, &d->pid, sizeof(d->pid), t);
		if (t && t->starttime != d->starttime) {
			/* Same pid, other process: the old one's exit is not
			 * processed yet. Let the pidfd event handle it. */
			continue;
		}
		if (t) {

			t->fp = d->fp;
			t->mem_changed = true;
			if (d->identity) {
				set_identity(t, d);
				if (!target_rematch(m, t))
					continue; /* removed */
			}
			submit_scan(m, t);
			continue;
		}
		if (d->pidfd < 0)
			continue; /* was known, but already removed */
		/* Match again with the current config: a reload may have
		 * happened while the walk ran. */
		struct proc_identity id = {
		    .pid = d->pid,
		    .uid = d->uid,
		    .comm = d->comm,
		    .exe = d->exe,
		    .unit = d->unit,
		    .cgroup = d->cgroup,
		    .anon_bytes = d->anon_bytes,
		};
		const struct policy *p = policy_find(m->cfg->cfg, &id);
		if (p && !p->ignore)
			target_add(m, d, p);
	}
	if (first_walk) {
		m->first_discovery_done = true;
		state_prune_pending(m);
	}
	/* Scan new targets now rather than at the next tick. */
	for (struct target *t = m->targets; t; t = t->hh.next)
		if (t->scans == 0 && !t->scanning)
			schedule_kick(m, now_usec());
out:
	discover_job_free(job);
}

/* Start a /proc walk (only == NULL) or a look at the given pids (owned). */
static void submit_discovery(struct manager *m, pid_t *only, size_t n_only)
{
	size_t n = HASH_COUNT(m->targets), i = 0;
	struct known_pid *known;

	if (m->discovery_in_flight || m->stopping) {
		free(only);
		return;
	}
	if (only)
		n = n_only; /* exec events: only these pids can be known ones */
	known = calloc(n ? n : 1, sizeof(*known));
	if (!known) {
		free(only);
		return;
	}
	if (only) {
		for (size_t k = 0; k < n_only; k++) {
			struct target *t = manager_find_target(m, only[k]);
			if (t)
				known[i++] = (struct known_pid){t->pid, t->starttime, t->fp};
		}
	} else {
		for (struct target *t = m->targets; t; t = t->hh.next)
			known[i++] = (struct known_pid){t->pid, t->starttime, t->fp};
	}
	n = i;
	qsort(known, n, sizeof(*known), cmp_known);
	struct discover_job *job = discover_job_new(m->cfg, known, n, on_discover_done);
	if (job)
		job->cache = m->discover_cache;
	free(known);
	if (!job) {
		free(only);
		return;
	}
	job->only = only;
	job->n_only = n_only;
	m->discovery_in_flight = true;
	workq_submit(m->scanq, &job->work);
}

static void request_discovery(struct manager *m)
{
	submit_discovery(m, NULL, 0);
}

/* Exec events are batched for this long, then their pids are looked at. */
#define EXEC_BATCH_USEC (100 * 1000ULL)
/* More pending exec events than this: a full /proc walk is cheaper. */
#define EXEC_BATCH_MAX 512

static void on_exec_batch(evutil_socket_t fd, short what, void *arg)
{
	struct manager *m = arg;

	if (m->discovery_in_flight) { /* one walk at a time: try again shortly */
		struct timeval tv = usec_to_tv(EXEC_BATCH_USEC);
		event_add(m->exec_batch_ev, &tv);
		return;
	}
	if (m->exec_overrun) {
		m->exec_overrun = false;
		m->n_exec_pids = 0;
		request_discovery(m);
		return;
	}
	if (m->n_exec_pids == 0)
		return;
	pid_t *only = malloc(m->n_exec_pids * sizeof(*only));
	if (!only)
		return;
	memcpy(only, m->exec_pids, m->n_exec_pids * sizeof(*only));
	size_t n = m->n_exec_pids;
	m->n_exec_pids = 0;
	submit_discovery(m, only, n);
}

static void on_connector(evutil_socket_t fd, short what, void *arg)
{
	struct manager *m = arg;
	int r = proc_connector_drain(fd, &m->exec_pids, &m->n_exec_pids, &m->cap_exec_pids,
				     EXEC_BATCH_MAX, &m->exec_overrun);

	if (r < 0) {
		log_warning("proc connector failed (%s); relying on /proc rescans", strerror(-r));
		event_del(m->connector_ev);
		return;
	}
	if ((m->n_exec_pids || m->exec_overrun) &&
	    !event_pending(m->exec_batch_ev, EV_TIMEOUT, NULL)) {
		struct timeval tv = usec_to_tv(EXEC_BATCH_USEC);
		event_add(m->exec_batch_ev, &tv);
	}
}

/* ---- scanning --------------------------------------------------------- */

static struct target *find_by_id(struct manager *m, pid_t pid, uint64_t id)
{
	struct target *t;

	HASH_FIND(hh, m->targets, &pid, sizeof(pid), t);
	return (t && t->id == id) ? t : NULL;
}

static void log_denied_once(struct manager *m, struct target *t, int err, const char *what)
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
	for (size_t i = 0; i < t->table.n_areas; i++)
		resident += t->table.areas[i].resident;
	t->resident_bytes = resident;
	t->anon_bytes = job->anon_bytes;
	t->huge_bytes = job->huge_bytes;
	t->maps_hash = job->maps_hash;
	m->counters.splits += ms.split;
	if (ms.split)
		log_debug("target %d: %zu collapsed chunks were split again", (int)t->pid,
			  ms.split);
}

/*
 * Referenced counts accesses since the last clear_refs, first-touch faults
 * included. An area is hot only if it was hot over two consecutive windows:
 * memory touched once and then left idle never qualifies, and neither does
 * an area that is new or changed bounds (no earlier window to compare).
 */
static void refs_sustained_hotness(const struct target *t, struct scan_job *job)
{
	size_t j = 0;

	for (size_t i = 0; i < job->n_areas; i++) {
		struct scan_area *a = &job->areas[i];
		if (!t->refs_window_open) { /* no window yet: since process start */
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
		a->hot_bp = old ? MIN(a->hot_raw_bp, old->hot_raw_bp) : 0;
	}
}

static void refs_after_scan(struct manager *m, struct target *t, const struct scan_job *job)
{
	if (!policy_is_refs(t->policy))
		return;
	if (job->refs_denied) {
		if (!m->refs_unavailable_logged)
			log_warning("hotness refs needs CAP_DAC_OVERRIDE to write "
				    "/proc/PID/clear_refs; falling back to hotness none");
		m->refs_unavailable_logged = true;
		t->hot_valid = true; /* all areas count as hot: hotness none */
		for (size_t i = 0; i < t->table.n_areas; i++)
			t->table.areas[i].hot_bp = BP_PER_100;
		return;
	}
	/* Referenced is meaningful only after a clear_refs one window ago. */
	t->hot_valid = t->refs_window_open;
	t->refs_window_open = true;
}

static void on_scan_done(struct work *w, bool cancelled, void *userdata)
{
	struct manager *m = userdata;
	struct scan_job *job = (struct scan_job *)w;
	struct target *t = find_by_id(m, job->pid, job->target_id);

	if (t)
		t->scanning = false;
	if (cancelled || m->stopping || !t)
		goto out;
	t->scans++;
	t->last_scan_usec = now_usec();
	m->counters.scans++;
	m->counters.scan_usec += job->duration_usec;
	switch (job->status) {
	case SCAN_GONE:
		target_remove(m, t, "exited during scan");
		goto out;
	case SCAN_DENIED:
		log_denied_once(m, t, -job->err, "reading /proc");
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
	if (policy_is_refs(t->policy) && !job->refs_denied)
		refs_sustained_hotness(t, job);
	apply_scan(m, t, job);
	if (t->scans == 1 && m->n_pending)
		state_restore_target(m, t);
	t->rescan_needed = false;
	refs_after_scan(m, t, job);
	plan_and_submit(m, t);
out:
	scan_job_free(job);
}

/*
 * smaps (VmFlags, THPeligible, Referenced) is the expensive read: it is due
 * every smaps_refresh scan intervals, and IDLE_REFRESH_FACTOR times less
 * often for a target with nothing to do. A layout change forces it anyway
 * (the scan job compares the maps).
 */
static bool full_scan_due(const struct manager *m, const struct target *t, uint64_t now)
{
	const struct daemon_config *d = &m->cfg->cfg->daemon;
	uint64_t every =
	    d->smaps_refresh * d->scan_interval_usec * (t->idle ? IDLE_REFRESH_FACTOR : 1);

	/* Half an interval of slack: ticks are not exactly one interval apart. */
	return t->last_full_scan_usec == 0 ||
	       now + d->scan_interval_usec / 2 >= t->last_full_scan_usec + every;
}

static void submit_scan(struct manager *m, struct target *t)
{
	const struct policy *p = t->policy;
	struct scan_params params = {
	    .shmem = p->shmem,
	    .thp_always = m->thp_always,
	    .min_present_bp = p->min_present_bp,
	    .full = full_scan_due(m, t, now_usec()),
	    .refs = policy_is_refs(p) && !m->refs_unavailable_logged,
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
	struct scan_job *job = scan_job_new(t->id, t->pid, t->pidfd, &params, on_scan_done);
	free(huge_addrs);
	if (!job)
		return;

	t->scanning = true;
	t->mem_changed = false;
	workq_submit(m->scanq, &job->work);
}

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
	pause_set(&mp->pause, now, dur, EBUSY);
	emit(m,
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
	schedule_kick(m, mp->pause.until_usec);
}

static void pause_global_enomem(struct manager *m, struct target *t, uint64_t now)
{
	struct log_ctx ctx;
	uint64_t dur = m->cfg->cfg->retry.enomem_pause_usec;
	char d[32];

	m->counters.enomem_pauses++;
	pause_set(&m->enomem_pause, now, dur, ENOMEM);
	emit(m,
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
	schedule_kick(m, m->enomem_pause.until_usec);
}

/* End an ENOMEM pause early when the buddy allocator has order-9 blocks. */
static void check_enomem_resume(struct manager *m, uint64_t now)
{
	char *buf;
	size_t len;

	if (!pause_active(&m->enomem_pause, now))
		return;
	if (read_file_at(AT_FDCWD, "/proc/buddyinfo", &buf, &len) < 0)
		return;
	uint64_t blocks = buddyinfo_free_blocks(buf, len, 9);
	free(buf);
	if (blocks >= ENOMEM_RESUME_MIN_BLOCKS) {
		log_info("%" PRIu64 " free order-9 blocks: ending the ENOMEM pause early", blocks);
		m->enomem_pause.until_usec = 0;
	}
}

/* ---- memory pressure -------------------------------------------------- */

/* PSI's avg10 is recomputed every 2 s: read it as often. */
#define PRESSURE_CHECK_USEC (2 * USEC_PER_SEC)

/*
 * Collapsing allocates a huge page and copies 2 MiB into it: while tasks
 * stall on memory (PSI "some" or "full" above the policy's thresholds),
 * thpd waits. /proc/pressure/memory is computed by the kernel on read and
 * never waits for I/O, so it is read on the loop.
 */
static void check_pressure(struct manager *m, uint64_t now)
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
	emit(m,
	     &(struct manager_event){.type = high ? MANAGER_EVENT_PAUSE : MANAGER_EVENT_RESUME,
				     .reason = "pressure"},
	     NULL);
	if (high) {
		log_notice("memory pressure (%s): pausing all collapses until it falls to half",
			   m->pressure_why);
	} else {
		log_notice("memory pressure fell (%s): collapsing again", m->pressure_why);
		schedule_kick(m, now);
	}
}

static void on_pressure_timer(evutil_socket_t fd, short what, void *arg)
{
	check_pressure(arg, now_usec());
}

const char *manager_pressure_detail(const struct manager *m)
{
	return m->pressure_high ? m->pressure_why : NULL;
}

/* ---- collapsing ------------------------------------------------------- */

static void on_collapse_done(struct work *w, bool cancelled, void *userdata);

static bool chunk_wanted(const struct target *t, const struct chunk *c, uint64_t now)
{
	const struct scan_area *a = &t->table.areas[c->area];

	if (c->in_flight || c->retry.state == CHUNK_HUGE)
		return false;
	if (policy_is_refs(t->policy) && a->hot_bp < t->policy->min_hot_bp)
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

static void plan_and_submit(struct manager *m, struct target *t)
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
	if (policy_is_refs(t->policy) && !t->hot_valid)
		return;
	items = malloc((t->table.n_chunks ? t->table.n_chunks : 1) * sizeof(*items));
	if (!items)
		return;
	for (size_t i = 0; i < t->table.n_chunks; i++) {
		struct chunk *c = &t->table.chunks[i];
		if (chunk_wanted(t, c, now))
			items[n++] =
			    (struct plan_item){c->addr, c->present, t->table.areas[c->area].hot_bp};
	}
	t->idle = n == 0;
	if (n == 0)
		goto out;
	plan_rank(items, n);
	struct token_bucket *ptb = policy_bucket(m, t->policy);
	uint64_t budget = MIN(tb_available(&m->global_tb, now), tb_available(ptb, now));
	size_t k = plan_fit(n, budget, huge_room(t));
	if (k == 0) {
		if (huge_room(t) >= PMD_SIZE_2M) /* budget, not the cap: wait for tokens */
			schedule_kick(m, now + MAX(tb_wait_usec(&m->global_tb, now, PMD_SIZE_2M),
						   tb_wait_usec(ptb, now, PMD_SIZE_2M)));
		goto out;
	}
	struct collapse_job *job = collapse_job_new(t->id, t->pid, t->pidfd, k, on_collapse_done);
	if (!job)
		goto out;
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
			schedule_kick(m, next);
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
			retry_record(&c->retry, cls, err, now, rc, next_rand(m), &sig);
		}
		log_chunk_result(t, job->addrs[i], cls, err, c);
		if (cls == COLLAPSE_OK) {
			ok++;
		} else {
			failed++;
			emit(m,
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
			log_denied_once(m, t, err, "process_madvise(MADV_COLLAPSE)");
		if (pol->drop_target)
			gone = true;
		if (pol->rescan)
			t->rescan_needed = true;
	}
	emit(m,
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

static void on_collapse_done(struct work *w, bool cancelled, void *userdata)
{
	struct manager *m = userdata;
	struct collapse_job *job = (struct collapse_job *)w;
	struct target *t = find_by_id(m, job->pid, job->target_id);

	if (t)
		t->collapsing = false;
	if (cancelled || m->stopping)
		goto out;
	m->counters.collapse_usec += job->finished_usec - job->started_usec;
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
		submit_scan(m, t);
		goto out;
	}
	uint64_t next = next_backoff(t);
	if (next)
		schedule_kick(m, next);
	/* Keep going while budget and candidates remain. */
	plan_and_submit(m, t);
out:
	collapse_job_free(job);
}

/* ---- timers ----------------------------------------------------------- */

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct manager *m = arg;

	m->kick_at = 0;
	for (struct target *t = m->targets, *tmp; t; t = tmp) {
		tmp = t->hh.next;
		if (t->scans == 0)
			submit_scan(m, t);
		else
			plan_and_submit(m, t);
	}
}

/* Arm the one-shot kick timer for `when` unless it fires earlier already. */
static void schedule_kick(struct manager *m, uint64_t when)
{
	uint64_t now = now_usec();

	if (m->stopping || (m->kick_at && m->kick_at <= when))
		return;
	m->kick_at = MAX(when, now);
	struct timeval tv = usec_to_tv(m->kick_at - now);
	event_add(m->kick_ev, &tv);
}

/*
 * Scan at this tick? A target with work pending or hotness refs, yes; an
 * idle one only if the discovery walk saw it touch memory (mem_changed) or
 * its smaps refresh is due: steady state costs one /proc/PID/stat read.
 */
static bool scan_due(const struct manager *m, const struct target *t, uint64_t now)
{
	/* hotness refs measures every window: reads cause no page faults. */
	return !t->idle || t->mem_changed || policy_is_refs(t->policy) || full_scan_due(m, t, now);
}

static int arm_tick(struct manager *m);

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct manager *m = arg;

	arm_tick(m); /* the next one */
	uint64_t now = now_usec();
	char status[512];
	char mode[32];

	m->thp_always = streq(thp_mode_read(mode, sizeof(mode)), "always");
	check_enomem_resume(m, now);
	state_save_async(m);
	request_discovery(m);
	for (struct target *t = m->targets; t; t = t->hh.next)
		if (scan_due(m, t, now))
			submit_scan(m, t);
	manager_status_line(m, status, sizeof(status));
	sd_notifyf(0, "STATUS=%s", status);
}

/*
 * The tick is a one-shot timer re-armed by each tick. After a reload the
 * next tick only ever moves earlier (to one new interval from now), so even
 * a storm of reloads cannot postpone the periodic work.
 */
static int arm_tick(struct manager *m)
{
	uint64_t now = now_usec(), interval = m->cfg->cfg->daemon.scan_interval_usec;

	if (!m->tick_ev) {
		m->tick_ev = event_new(m->base, -1, 0, on_tick, m);
		if (!m->tick_ev)
			return -ENOMEM;
	} else if (event_pending(m->tick_ev, EV_TIMEOUT, NULL) &&
		   m->next_tick_usec <= now + interval) {
		return 0;
	}
	m->next_tick_usec = now + interval;
	struct timeval tv = usec_to_tv(interval);
	return event_add(m->tick_ev, &tv) < 0 ? -ENOMEM : 0;
}

/* ---- lifecycle -------------------------------------------------------- */

/* Test seam (ARCHITECTURE.md section 5: a real ENOMEM is hard to get on a big
 * machine): THPD_TEST_INJECT_ERRNO=ERRNO:JOBS makes the next JOBS collapse
 * jobs report ERRNO for every chunk instead of calling the kernel. */
static void read_inject_seam(struct manager *m)
{
	const char *s = getenv("THPD_TEST_INJECT_ERRNO");
	int e;
	unsigned n;

	if (s && sscanf(s, "%d:%u", &e, &n) == 2 && e > 0) {
		m->inject_errno = e;
		m->inject_left = n;
		log_warning("test seam active: the next %u collapse jobs fail with %s", n,
			    strerror(e));
	}
	/* THPD_TEST_NO_PAGEMAP_SCAN=1: behave as on a kernel without
	 * PAGEMAP_SCAN (6.1), to test that path on newer kernels. */
	s = getenv("THPD_TEST_NO_PAGEMAP_SCAN");
	if (s && strcmp(s, "1") == 0) {
		pagemap_scan_disable();
		log_warning("test seam active: PAGEMAP_SCAN not used (pagemap fallback)");
	}
}

int manager_new(struct event_base *base, const char *config_path, struct thpd_config *cfg,
		struct manager **ret)
{
	struct manager *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->base = base;
	m->connector_fd = -1;
	m->config_path = strdup(config_path);
	m->generation = 1;
	m->cfg = config_ref_new(cfg);
	if (!m->config_path || !m->cfg) {
		free(m->config_path);
		free(m);
		return -ENOMEM;
	}
	if (getrandom(&m->rng, sizeof(m->rng), GRND_NONBLOCK) != sizeof(m->rng) || !m->rng)
		m->rng = (uint32_t)now_usec() | 1;
	m->started_usec = now_usec();
	if (budgets_rebuild(m, NULL, NULL, cfg) < 0) {
		manager_free(m);
		return -ENOMEM;
	}
	read_inject_seam(m);
	*ret = m;
	return 0;
}

int manager_start(struct manager *m)
{
	int r;

	r = workq_new(m->base, "thpd-scan", m, &m->scanq);
	if (r < 0)
		return r;
	r = workq_new(m->base, "thpd-collapse", m, &m->collapseq);
	if (r < 0)
		return r;
	if (state_boot_id(m->boot_id, sizeof(m->boot_id)) < 0)
		snprintf(m->boot_id, sizeof(m->boot_id), "unknown");
	state_restore(m);
	m->discover_cache = discover_cache_new();
	if (!m->discover_cache)
		return -ENOMEM;
	m->kick_ev = event_new(m->base, -1, 0, on_kick, m);
	m->exec_batch_ev = event_new(m->base, -1, 0, on_exec_batch, m);
	m->pressure_ev = event_new(m->base, -1, EV_PERSIST, on_pressure_timer, m);
	if (!m->kick_ev || !m->exec_batch_ev || !m->pressure_ev)
		return -ENOMEM;
	struct timeval ptv = usec_to_tv(PRESSURE_CHECK_USEC);
	if (event_add(m->pressure_ev, &ptv) < 0)
		return -ENOMEM;
	check_pressure(m, now_usec());
	r = arm_tick(m);
	if (r < 0)
		return r;
	m->connector_fd = proc_connector_open();
	if (m->connector_fd >= 0) {
		m->connector_ev =
		    event_new(m->base, m->connector_fd, EV_READ | EV_PERSIST, on_connector, m);
		if (m->connector_ev)
			event_add(m->connector_ev, NULL);
		log_debug("proc connector: new processes are seen at exec");
	} else {
		log_info("proc connector unavailable (%s): new processes are found by /proc "
			 "rescans every scan interval",
			 strerror(-m->connector_fd));
	}
	char mode[32];
	m->thp_always = streq(thp_mode_read(mode, sizeof(mode)), "always");
	request_discovery(m);
	return 0;
}

void manager_stop(struct manager *m)
{
	if (m->stopping)
		return;
	/* Workers first: their done() callbacks see stopping and only free. */
	m->stopping = true;
	workq_free(m->collapseq);
	m->collapseq = NULL;
	workq_free(m->scanq);
	m->scanq = NULL;
	state_save_now(m);
	if (m->tick_ev)
		event_del(m->tick_ev);
	if (m->kick_ev)
		event_del(m->kick_ev);
	if (m->connector_ev)
		event_del(m->connector_ev);
	if (m->exec_batch_ev)
		event_del(m->exec_batch_ev);
	if (m->pressure_ev)
		event_del(m->pressure_ev);
}

void manager_free(struct manager *m)
{
	if (!m)
		return;
	manager_stop(m);
	while (m->targets)
		target_remove(m, m->targets, "daemon stopping");
	while (m->memcg_pauses) {
		struct memcg_pause *mp = m->memcg_pauses;
		HASH_DEL(m->memcg_pauses, mp);
		free(mp->path);
		free(mp);
	}
	if (m->tick_ev)
		event_free(m->tick_ev);
	if (m->kick_ev)
		event_free(m->kick_ev);
	if (m->connector_ev)
		event_free(m->connector_ev);
	if (m->exec_batch_ev)
		event_free(m->exec_batch_ev);
	if (m->pressure_ev)
		event_free(m->pressure_ev);
	free(m->exec_pids);
	if (m->connector_fd >= 0)
		proc_connector_close(m->connector_fd);
	state_free_pending(m);
	discover_cache_free(m->discover_cache); /* workers are gone */
	free(m->state_dir);
	config_ref_put(m->cfg);
	free(m->policy_tb);
	free(m->config_path);
	free(m);
}

int manager_reload(struct manager *m, struct config_diags *diags)
{
	struct thpd_config *cfg = NULL;
	struct log_ctx ctx = {.message_id = MID_RELOAD};
	int r = config_load(m->config_path, &cfg, diags);

	if (r < 0) {
		m->counters.reload_failures++;
		if (diags->n)
			snprintf(m->reload_error, sizeof(m->reload_error), "%s:%u:%u: %s",
				 diags->v[0].file, diags->v[0].line, diags->v[0].col,
				 diags->v[0].msg);
		else
			snprintf(m->reload_error, sizeof(m->reload_error), "%s", strerror(-r));
		log_ctx_msg(LOG_ERR, &ctx,
			    "reload of %s failed (%zu problems); keeping the old "
			    "policy",
			    m->config_path, diags->n);
		for (size_t i = 0; i < diags->n; i++)
			log_error("%s:%u:%u: %s", diags->v[i].file, diags->v[i].line,
				  diags->v[i].col, diags->v[i].msg);
		return r;
	}
	struct config_ref *ref = config_ref_new(cfg);
	if (!ref) {
		config_free(cfg);
		free(cfg);
		return -ENOMEM;
	}
	struct token_bucket *old_tb = m->policy_tb;
	m->policy_tb = NULL;
	r = budgets_rebuild(m, m->cfg->cfg, old_tb, cfg);
	if (r < 0) {
		m->policy_tb = old_tb;
		config_ref_put(ref);
		return r;
	}
	free(old_tb);
	struct config_ref *old = m->cfg;
	bool interval_changed =
	    old->cfg->daemon.scan_interval_usec != cfg->daemon.scan_interval_usec;
	m->cfg = ref;
	m->generation++;
	m->counters.reloads++;
	m->reload_error[0] = '\0';
	/* Policies are pointers into the config: re-match every target now. */
	for (struct target *t = m->targets, *tmp; t; t = tmp) {
		tmp = t->hh.next;
		t->policy = NULL;
		target_rematch(m, t);
	}
	config_ref_put(old);
	/* A shorter interval applies at once; a longer one from the next tick. */
	if (!m->stopping && interval_changed)
		arm_tick(m);
	log_ctx_msg(LOG_NOTICE, &ctx, "reloaded %s: %zu policies", m->config_path, cfg->n_policies);
	emit(m, &(struct manager_event){.type = MANAGER_EVENT_RELOAD}, NULL);
	request_discovery(m);
	return 0;
}

/* ---- views ------------------------------------------------------------ */

const struct thpd_config *manager_config(const struct manager *m)
{
	return m->cfg->cfg;
}

unsigned manager_config_generation(const struct manager *m)
{
	return m->generation;
}

struct target *manager_targets(const struct manager *m)
{
	return m->targets;
}

struct target *manager_find_target(const struct manager *m, pid_t pid)
{
	struct target *t;

	HASH_FIND(hh, m->targets, &pid, sizeof(pid), t);
	return t;
}

const struct counters *manager_counters(const struct manager *m)
{
	return &m->counters;
}

uint64_t manager_started_usec(const struct manager *m)
{
	return m->started_usec;
}

const struct memcg_pause *manager_memcg_pauses(const struct manager *m)
{
	return m->memcg_pauses;
}

const char *manager_pause_reason(const struct manager *m, uint64_t now, uint64_t *until)
{
	if (m->operator_paused) {
		*until = 0;
		return "operator";
	}
	if (pause_active(&m->enomem_pause, now)) {
		*until = m->enomem_pause.until_usec;
		return "enomem";
	}
	if (m->pressure_high) {
		*until = 0;
		return "pressure";
	}
	return NULL;
}

void manager_status_line(const struct manager *m, char *buf, size_t len)
{
	uint64_t until;
	char sz[32];
	const char *why = manager_pause_reason(m, now_usec(), &until);

	snprintf(buf, len, "%u targets, %s collapsed%s%s%s%s", HASH_COUNT(m->targets),
		 format_size(m->counters.collapsed_bytes, sz, sizeof(sz)), why ? ", paused: " : "",
		 why ? why : "", m->reload_error[0] ? "; reload failed, old policy kept: " : "",
		 m->reload_error);
}

uint64_t manager_budget_available(struct manager *m)
{
	return tb_available(&m->global_tb, now_usec());
}

/* ---- operator steering ------------------------------------------------ */

int manager_pause(struct manager *m, pid_t pid, bool by_privileged)
{
	struct target *t = NULL;

	if (pid) {
		t = manager_find_target(m, pid);
		if (!t)
			return -ESRCH;
		if (t->state == TARGET_ACTIVE || t->state == TARGET_THP_DISABLED)
			t->state = TARGET_PAUSED;
		if (t->state == TARGET_PAUSED)
			t->paused_by_privileged |= by_privileged;
		log_notice("target %d (%s) paused by operator", (int)t->pid, t->comm);
	} else {
		m->operator_paused = true;
		log_notice("all collapsing paused by operator");
	}
	emit(m, &(struct manager_event){.type = MANAGER_EVENT_PAUSE, .reason = "operator"}, t);
	return 0;
}

int manager_resume(struct manager *m, pid_t pid, bool by_privileged)
{
	struct target *t = NULL;

	if (pid) {
		t = manager_find_target(m, pid);
		if (!t)
			return -ESRCH;
		if (t->state == TARGET_PAUSED && t->paused_by_privileged && !by_privileged)
			return -EPERM;
		if (t->state == TARGET_PAUSED) {
			t->state = TARGET_ACTIVE;
			t->paused_by_privileged = false;
			/* It may have changed while paused (e.g. PR_SET_THP_DISABLE):
			 * scan before sending any chunk of the old table. */
			t->rescan_needed = true;
			submit_scan(m, t);
		}
		log_notice("target %d (%s) resumed by operator", (int)t->pid, t->comm);
	} else {
		m->operator_paused = false;
		log_notice("collapsing resumed by operator");
	}
	emit(m, &(struct manager_event){.type = MANAGER_EVENT_RESUME, .reason = "operator"}, t);
	schedule_kick(m, now_usec());
	return 0;
}

int manager_collapse_now(struct manager *m, pid_t pid, uint64_t start, uint64_t end,
			 bool by_privileged)
{
	struct target *t = manager_find_target(m, pid);
	int n = 0;

	if (!t)
		return -ESRCH;
	if (t->state != TARGET_ACTIVE || m->operator_paused)
		return -EBUSY;
	for (size_t i = 0; i < t->table.n_chunks; i++) {
		struct chunk *c = &t->table.chunks[i];
		if (c->addr + PMD_SIZE_2M <= start || (end && c->addr >= end))
			continue;
		if (c->in_flight || c->retry.state == CHUNK_HUGE)
			continue;
		c->retry.state = CHUNK_CANDIDATE;
		c->retry.attempts = 0;
		c->retry.next_usec = 0;
		n++;
	}
	/* A fresh full scan sees what changed since the last one; its result is
	 * planned at once. Unprivileged callers cannot make thpd read smaps
	 * more often than once per scan interval: the due chunks then go at
	 * the next plan. */
	uint64_t now = now_usec();
	if (by_privileged || !t->forced_scan_usec ||
	    now >= t->forced_scan_usec + m->cfg->cfg->daemon.scan_interval_usec) {
		t->forced_scan_usec = now;
		t->maps_hash = 0;
		submit_scan(m, t);
	} else {
		schedule_kick(m, now);
	}
	return n;
}
