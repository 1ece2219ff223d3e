/* SPDX-License-Identifier: MIT */
/*
 * The manager's core: events to the control layer, the token buckets, the
 * tick and kick timers, and its lifecycle (new, start, stop, free, reload).
 * The other pieces: manager-targets.c, manager-scan.c, manager-collapse.c,
 * manager-views.c, manager-state.c (manager-internal.h).
 */
#include "manager.h"
#include "manager-internal.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "damon.h"
#include "discover.h"
#include "pagemap.h"
#include "log.h"
#include "thpmode.h"
#include "util.h"
#include "workq.h"

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
	    [MANAGER_EVENT_RELOAD_FAILED] = "reload-failed",
	};
	return t < ARRAY_SIZE(names) ? names[t] : "unknown";
}

void manager_set_event_sink(struct manager *m, manager_event_fn fn, void *userdata)
{
	m->event_fn = fn;
	m->event_userdata = userdata;
}

void manager_emit(struct manager *m, struct manager_event *ev, const struct target *t)
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

uint32_t manager_next_rand(struct manager *m)
{
	/* xorshift32: jitter only, not security. */
	uint32_t x = m->rng;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return m->rng = x;
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

/* ---- timers ----------------------------------------------------------- */

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct manager *m = arg;

	m->kick_at = 0;
	for (struct target *t = m->targets, *tmp; t; t = tmp) {
		tmp = t->hh.next;
		if (t->scans == 0)
			manager_submit_scan(m, t);
		else
			manager_plan_and_submit(m, t);
	}
}

/* Arm the one-shot kick timer for `when` unless it fires earlier already. */
void manager_schedule_kick(struct manager *m, uint64_t when)
{
	uint64_t now = now_usec();

	if (m->stopping || (m->kick_at && m->kick_at <= when))
		return;
	m->kick_at = MAX(when, now);
	struct timeval tv = usec_to_tv(m->kick_at - now);
	event_add(m->kick_ev, &tv);
}

/*
 * Scan at this tick? A target with work pending or hotness refs/damon, yes; an
 * idle one only if the discovery walk saw it touch memory (mem_changed) or
 * its smaps refresh is due: steady state costs one /proc/PID/stat read.
 */
static bool scan_due(const struct manager *m, const struct target *t, uint64_t now)
{
	/* A hotness source measures every window (reads cause no page faults). */
	return !t->idle || t->mem_changed || manager_hotness_measures(t) ||
	       manager_full_scan_due(m, t, now);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct manager *m = arg;

	manager_arm_tick(m); /* the next one */
	uint64_t now = now_usec();
	char status[512];
	char mode[32];

	m->thp_always = streq(thp_mode_read(mode, sizeof(mode)), "always");
	manager_check_enomem_resume(m, now);
	state_save_async(m);
	manager_request_discovery(m);
	for (struct target *t = m->targets; t; t = t->hh.next)
		if (scan_due(m, t, now))
			manager_submit_scan(m, t);
	manager_status_line(m, status, sizeof(status));
	sd_notifyf(0, "STATUS=%s", status);
}

/*
 * The tick is a one-shot timer re-armed by each tick. After a reload the
 * next tick only ever moves earlier (to one new interval from now), so even
 * a storm of reloads cannot postpone the periodic work.
 */
int manager_arm_tick(struct manager *m)
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
	m->collapse_limits = user_limits_new(COLLAPSE_CALLS_PER_MIN, COLLAPSE_CALLS_BURST);
	if (!m->collapse_limits || budgets_rebuild(m, NULL, NULL, cfg) < 0) {
		manager_free(m);
		return -ENOMEM;
	}
	read_inject_seam(m);
	*ret = m;
	return 0;
}

/*
 * The collapse worker spends its time in the kernel copying pages into huge
 * pages, part of it under the target's mmap_lock. SCHED_BATCH at nice 10 (the
 * default) lets the services it works for run first when they want a CPU,
 * without waking up to preempt them, yet keeps it moving: under SCHED_IDLE
 * on a busy machine it could sit preempted while holding a target's
 * mmap_lock, and that target's page faults would wait for it.
 */
void manager_apply_collapse_sched(struct manager *m)
{
	static const int policies[] = {
	    [WORKER_SCHED_OTHER] = SCHED_OTHER,
	    [WORKER_SCHED_BATCH] = SCHED_BATCH,
	    [WORKER_SCHED_IDLE] = SCHED_IDLE,
	};
	const struct daemon_config *d = &m->cfg->cfg->daemon;

	workq_set_sched(m->collapseq, &(struct workq_sched){.policy = policies[d->collapse_sched],
							    .nice = (int)d->collapse_nice});
	m->collapse_sched_err_logged = 0;
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
	r = workq_new(m->base, "thpd-reload", m, &m->reloadq);
	if (r < 0)
		return r;
	manager_apply_collapse_sched(m);
	if (state_boot_id(m->boot_id, sizeof(m->boot_id)) < 0)
		snprintf(m->boot_id, sizeof(m->boot_id), "unknown");
	state_restore(m);
	m->discover_cache = discover_cache_new();
	if (!m->discover_cache)
		return -ENOMEM;
	m->kick_ev = event_new(m->base, -1, 0, on_kick, m);
	m->exec_batch_ev = event_new(m->base, -1, 0, manager_on_exec_batch, m);
	m->pressure_ev = event_new(m->base, -1, EV_PERSIST, manager_on_pressure_timer, m);
	if (!m->kick_ev || !m->exec_batch_ev || !m->pressure_ev)
		return -ENOMEM;
	struct timeval ptv = usec_to_tv(PRESSURE_CHECK_USEC);
	if (event_add(m->pressure_ev, &ptv) < 0)
		return -ENOMEM;
	manager_check_pressure(m, now_usec());
	r = manager_arm_tick(m);
	if (r < 0)
		return r;
	m->connector_fd = proc_connector_open();
	if (m->connector_fd >= 0) {
		m->connector_ev = event_new(m->base, m->connector_fd, EV_READ | EV_PERSIST,
					    manager_on_connector, m);
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
	manager_request_discovery(m);
	return 0;
}

/* Delete (stop) or free (free_them) the manager's own events. */
static void manager_events(struct manager *m, bool free_them)
{
	struct event **evs[] = {&m->tick_ev, &m->kick_ev, &m->connector_ev, &m->exec_batch_ev,
				&m->pressure_ev};

	for (size_t i = 0; i < ARRAY_SIZE(evs); i++) {
		if (!*evs[i])
			continue;
		if (free_them) {
			event_free(*evs[i]);
			*evs[i] = NULL;
		} else {
			event_del(*evs[i]);
		}
	}
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
	damon_pool_close();	/* the scan worker that owned it has stopped */
	workq_free(m->reloadq); /* a reload in flight comes back cancelled */
	m->reloadq = NULL;
	state_save_now(m);
	manager_events(m, false);
}

static void waiters_free(struct reload_waiter *w);

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
	manager_events(m, true);
	free(m->exec_pids);
	if (m->connector_fd >= 0)
		proc_connector_close(m->connector_fd);
	waiters_free(m->reload_next);
	state_free_pending(m);
	discover_cache_free(m->discover_cache); /* workers are gone */
	user_limits_free(m->collapse_limits);
	free(m->state_dir);
	config_ref_put(m->cfg);
	free(m->policy_tb);
	free(m->config_path);
	free(m);
}

/* Apply the result of config_load (r, cfg: taken, diags): swap the config in
 * or keep the old one and say why. Returns r or another negative errno. */
static int reload_apply(struct manager *m, int r, struct thpd_config *cfg,
			const struct config_diags *diags)
{
	struct log_ctx ctx = {.message_id = MID_RELOAD};

	/* The state file keeps the counters: "when something changes". */
	m->state_dirty = true;
	if (r < 0) {
		m->counters.reload_failures++;
		if (diags->n)
			snprintf(m->reload_error, sizeof(m->reload_error), "%s:%u:%u: %s",
				 diags->v[0].file, diags->v[0].line, diags->v[0].col,
				 diags->v[0].msg);
		else
			snprintf(m->reload_error, sizeof(m->reload_error), "%s", strerror(-r));
		log_ctx_msg(LOG_ERR, &ctx,
			    "reload of %s failed (%zu problem%s); keeping the old "
			    "policy",
			    m->config_path, diags->n, diags->n == 1 ? "" : "s");
		for (size_t i = 0; i < diags->n; i++)
			log_error("%s:%u:%u: %s", diags->v[i].file, diags->v[i].line,
				  diags->v[i].col, diags->v[i].msg);
		manager_emit(m,
			     &(struct manager_event){.type = MANAGER_EVENT_RELOAD_FAILED,
						     .reason = m->reload_error},
			     NULL);
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
	if (m->collapseq)
		manager_apply_collapse_sched(m);
	/* A shorter interval applies at once; a longer one from the next tick. */
	if (!m->stopping && interval_changed)
		manager_arm_tick(m);
	log_ctx_msg(LOG_NOTICE, &ctx, "reloaded %s: %zu %s", m->config_path, cfg->n_policies,
		    cfg->n_policies == 1 ? "policy" : "policies");
	manager_emit(m, &(struct manager_event){.type = MANAGER_EVENT_RELOAD}, NULL);
	manager_request_discovery(m);
	return 0;
}

int manager_reload(struct manager *m, struct config_diags *diags)
{
	struct thpd_config *cfg = NULL;
	int r = config_load(m->config_path, &cfg, diags);

	return reload_apply(m, r, cfg, diags);
}

/* ---- asynchronous reload ---------------------------------------------- */

struct reload_waiter {
	manager_reload_fn fn; /* NULL: forgotten */
	void *userdata;
	struct reload_waiter *next;
};

/* config_load on the reload worker: the job owns its copy of the path. */
struct reload_job {
	struct work work;
	char *config_path;
	struct thpd_config *cfg; /* on success */
	struct config_diags diags;
	int r;
};

static void reload_run(struct work *w, const atomic_bool *stop)
{
	struct reload_job *job = (struct reload_job *)w;

	job->r = config_load(job->config_path, &job->cfg, &job->diags);
}

static void waiters_free(struct reload_waiter *w)
{
	while (w) {
		struct reload_waiter *next = w->next;
		free(w);
		w = next;
	}
}

static void on_reload_done(struct work *w, bool cancelled, void *userdata);

/* Start a reload for the callers in m->reload_next. */
static int reload_submit(struct manager *m)
{
	struct reload_job *job = calloc(1, sizeof(*job));

	if (!job || !(job->config_path = strdup(m->config_path))) {
		free(job);
		return -ENOMEM;
	}
	job->work.run = reload_run;
	job->work.done = on_reload_done;
	m->reload_waiters = m->reload_next;
	m->reload_next = NULL;
	m->reload_in_flight = true;
	workq_submit(m->reloadq, &job->work);
	return 0;
}

static void on_reload_done(struct work *w, bool cancelled, void *userdata)
{
	struct manager *m = userdata;
	struct reload_job *job = (struct reload_job *)w;
	struct reload_waiter *waiters = m->reload_waiters;

	/* Answered from reload_calling: a client freed meanwhile (a Monitor
	 * overflowed by the events of this reload) is forgotten there. */
	m->reload_calling = waiters;
	m->reload_waiters = NULL;
	m->reload_in_flight = false;
	if (cancelled || m->stopping) {
		if (job->cfg) {
			config_free(job->cfg);
			free(job->cfg);
		}
		goto out;
	}
	int r = reload_apply(m, job->r, job->cfg, &job->diags);
	for (struct reload_waiter *x = waiters; x; x = x->next)
		if (x->fn)
			x->fn(r, &job->diags, x->userdata);
	/* Requests that came while this one ran: one more reload for them all. */
	if (m->reload_next && reload_submit(m) < 0) {
		struct config_diags none = {0};
		struct reload_waiter *next = m->reload_next;
		m->reload_next = NULL;
		for (struct reload_waiter *x = next; x; x = x->next)
			if (x->fn)
				x->fn(-ENOMEM, &none, x->userdata);
		waiters_free(next);
	}
out:
	m->reload_calling = NULL;
	waiters_free(waiters);
	config_diags_free(&job->diags);
	free(job->config_path);
	free(job);
}

int manager_reload_async(struct manager *m, manager_reload_fn fn, void *userdata)
{
	struct reload_waiter *w, **tail;

	if (!m->reloadq || m->stopping)
		return -ECANCELED;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	*w = (struct reload_waiter){.fn = fn, .userdata = userdata};
	for (tail = &m->reload_next; *tail; tail = &(*tail)->next)
		;
	*tail = w;
	if (m->reload_in_flight)
		return 0; /* on_reload_done starts the next one */
	int r = reload_submit(m);
	if (r < 0) {
		waiters_free(m->reload_next);
		m->reload_next = NULL;
	}
	return r;
}

void manager_reload_forget(struct manager *m, void *userdata)
{
	struct reload_waiter *lists[] = {m->reload_calling, m->reload_waiters, m->reload_next};

	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		for (struct reload_waiter *w = lists[i]; w; w = w->next)
			if (w->userdata == userdata)
				w->fn = NULL;
}
