/* SPDX-License-Identifier: MIT */
/*
 * The manager's targets (one per matched process: added, re-matched,
 * removed when its pidfd says it exited) and discovery (the /proc walks on
 * the scan worker, exec events from the proc connector).
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
#include "discover.h"
#include "policy.h"
#include "workq.h"

/* ---- targets ---------------------------------------------------------- */

void target_log_ctx(const struct target *t, struct log_ctx *ctx, const char *mid)
{
	*ctx = (struct log_ctx){
	    .message_id = mid, .pid = t->pid, .policy = t->policy ? t->policy->name : NULL};
}

void target_remove(struct manager *m, struct target *t, const char *why)
{
	struct log_ctx ctx;

	target_log_ctx(t, &ctx, MID_TARGET_REMOVED);
	log_ctx_msg(LOG_INFO, &ctx, "target %d (%s) removed: %s; collapsed %" PRIu64 " MiB",
		    (int)t->pid, t->comm ? t->comm : "?", why, t->collapsed_bytes >> 20);
	manager_emit(
	    m, &(struct manager_event){.type = MANAGER_EVENT_TARGET_REMOVED, .reason = why}, t);
	HASH_DEL(m->targets, t);
	m->counters.targets_removed++;
	m->state_dirty = true;
	if (t->exit_ev)
		event_free(t->exit_ev);
	if (t->pidfd >= 0)
		close(t->pidfd);
	manager_hotness_release(m, t);
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
	t->damon_slot = -1;
	t->added_usec = now_usec();
	stall_init(&t->stall, p->max_stall_bp, t->added_usec);
	t->cpu_ticks = -1;
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
	manager_emit(m, &(struct manager_event){.type = MANAGER_EVENT_TARGET_ADDED}, t);
	target_log_ctx(t, &ctx, MID_TARGET_ADDED);
	log_ctx_msg(LOG_INFO, &ctx, "target %d (%s) added: policy %s, anon %" PRIu64 " MiB",
		    (int)t->pid, t->comm, p->name, t->anon_bytes >> 20);
}

/* Re-match a target (identity or policy changed). Returns false if removed. */
bool target_rematch(struct manager *m, struct target *t)
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
	stall_reconfigure(&t->stall, p->max_stall_bp, now_usec());
	manager_hotness_resolve(m, t);
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
			manager_submit_scan(m, t);
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
			manager_schedule_kick(m, now_usec());
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

void manager_request_discovery(struct manager *m)
{
	submit_discovery(m, NULL, 0);
}

/* Exec events are batched for this long, then their pids are looked at. */
#define EXEC_BATCH_USEC (100 * 1000ULL)
/* More pending exec events than this: a full /proc walk is cheaper. */
#define EXEC_BATCH_MAX 512

void manager_on_exec_batch(evutil_socket_t fd, short what, void *arg)
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
		manager_request_discovery(m);
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

void manager_on_connector(evutil_socket_t fd, short what, void *arg)
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
