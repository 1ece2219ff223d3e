/* SPDX-License-Identifier: MIT */
/*
 * The manager's private state, shared by the files that make up the manager:
 * manager.c (events, budgets, timers, lifecycle and reload),
 * manager-targets.c (targets and discovery), manager-scan.c (scans),
 * manager-collapse.c (pauses, pressure, planning and collapse results),
 * manager-views.c (views and operator steering), manager-state.c (what is
 * kept across restarts). Nothing outside those files includes this.
 */
#pragma once

#include <stdbool.h>
#include <event2/util.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>

#include "budget.h"
#include "user-limits.h"
#include "config_ref.h"
#include "kfeatures.h"
#include "manager.h"
#include "policy.h"
#include "retry.h"
#include "state.h"
#include "units.h"
#include "util.h"

struct event;
struct reload_waiter;
struct log_ctx;
struct event_base;
struct workq;

/* MESSAGE_IDs of the key journal events (stable; see man/thpd.8). */
#define MID_TARGET_ADDED   "0d7c1b8a2f4e4b0f9c3a6e5d1b2a7f01"
#define MID_TARGET_REMOVED "0d7c1b8a2f4e4b0f9c3a6e5d1b2a7f02"
#define MID_COLLAPSE_ERR   "0d7c1b8a2f4e4b0f9c3a6e5d1b2a7f03"
#define MID_PAUSE	   "0d7c1b8a2f4e4b0f9c3a6e5d1b2a7f04"
#define MID_DENIED	   "0d7c1b8a2f4e4b0f9c3a6e5d1b2a7f05"
#define MID_RELOAD	   "0d7c1b8a2f4e4b0f9c3a6e5d1b2a7f06"

/* kdamonds thpd creates for hotness damon: targets beyond this many use the
 * next best source. Idle kdamond directories cost nothing; a running one is
 * a kernel thread at ~3% of a CPU (DAMON_* attributes in damon.h). */
#define DAMON_SLOTS 8

/* PSI's avg10 is recomputed every 2 s: read it as often. */
#define PRESSURE_CHECK_USEC (2 * USEC_PER_SEC)

/* manager.c: ask the collapse worker for daemon.collapse_scheduler/_nice. */
void manager_apply_collapse_sched(struct manager *m);
/* manager-collapse.c: log once when the worker could not apply it. */
void manager_check_collapse_sched(struct manager *m);

struct manager {
	struct event_base *base;
	/* Unprivileged Collapse calls per user (methods.c asks; user-limits.c). */
	struct user_limits *collapse_limits;
	char *config_path;
	struct config_ref *cfg;
	unsigned generation;
	/* Why the last reload failed ("" after a good one): in the status line
	 * until a reload succeeds, so that systemctl status still says so. */
	char reload_error[256];

	struct workq *scanq;	 /* discovery and scans */
	struct workq *collapseq; /* collapses: never on the loop */
	struct workq *reloadq;	 /* config loads (files, NSS) for reloads */
	/* What the collapse worker said about the scheduling it was asked for,
	 * as last logged (0 = applied). */
	int collapse_sched_err_logged;

	/* Asynchronous reloads (manager_reload_async): the callers of the one
	 * running, those that came since (for one more), and those being
	 * answered now. */
	struct reload_waiter *reload_waiters, *reload_next, *reload_calling;
	bool reload_in_flight;
	bool buddyinfo_in_flight; /* a /proc/buddyinfo read on the scan worker */

	struct target *targets; /* uthash by pid */
	uint64_t next_target_id;

	struct token_bucket global_tb;
	struct token_bucket *policy_tb; /* parallel to cfg->policies */

	struct pause enomem_pause;
	struct memcg_pause *memcg_pauses;
	/* Memory pressure (PSI): collapsing pauses while it is high. */
	struct event *pressure_ev;
	bool pressure_high;
	char pressure_why[96]; /* the figure that decided, last reading */

	struct event *tick_ev, *kick_ev, *connector_ev, *exec_batch_ev;
	int connector_fd;
	pid_t *exec_pids; /* exec events waiting for the batch timer */
	size_t n_exec_pids, cap_exec_pids;
	bool exec_overrun;
	uint64_t kick_at;	 /* 0 = not armed */
	uint64_t next_tick_usec; /* when the tick timer fires */

	bool discovery_in_flight;
	struct discover_cache *discover_cache; /* used by the scan worker only */
	bool refs_unavailable_logged;
	/* Hotness damon (manager-hotness.c): what the kernel said at start, why
	 * the pool cannot be used (0 = no reason so far), who holds which
	 * slot (target ids, 0 free), and the slots the next scan job stops. */
	enum feature_state damon_vaddr;
	int damon_err;
	char damon_why[200];
	uint64_t damon_slot_target[DAMON_SLOTS];
	uint64_t damon_stop_mask;
	bool stopping;
	uint32_t rng;
	bool thp_always;  /* sysfs THP mode, re-read every tick */
	int inject_errno; /* THPD_TEST_INJECT_ERRNO (test seam) */
	unsigned inject_left;

	bool operator_paused;

	/* Persistence (state.h): NULL state_dir = none. */
	char *state_dir;
	char boot_id[40];
	struct saved_target *pending; /* restored chunk states waiting for their target */
	size_t n_pending;
	bool first_discovery_done;
	bool state_dirty;
	bool save_in_flight;

	manager_event_fn event_fn;
	void *event_userdata;

	struct counters counters;
	uint64_t started_usec;
};

/* manager-state.c */
void state_restore(struct manager *m);				/* at start */
void state_save_async(struct manager *m);			/* every tick, if changed */
void state_save_now(struct manager *m);				/* at stop */
void state_restore_target(struct manager *m, struct target *t); /* first scan */
void state_prune_pending(struct manager *m);			/* after the first walk */
void state_free_pending(struct manager *m);

static inline struct timeval usec_to_tv(uint64_t usec)
{
	return (struct timeval){.tv_sec = (time_t)(usec / USEC_PER_SEC),
				.tv_usec = (suseconds_t)(usec % USEC_PER_SEC)};
}

static inline struct token_bucket *policy_bucket(struct manager *m, const struct policy *p)
{
	return &m->policy_tb[p - m->cfg->cfg->policies];
}

/* manager.c */
void manager_emit(struct manager *m, struct manager_event *ev, const struct target *t);
/* Arm the one-shot kick timer for `when` unless it fires earlier already. */
void manager_schedule_kick(struct manager *m, uint64_t when);
uint32_t manager_next_rand(struct manager *m); /* jitter only */
int manager_arm_tick(struct manager *m);

/* manager-targets.c */
void target_log_ctx(const struct target *t, struct log_ctx *ctx, const char *mid);
void target_remove(struct manager *m, struct target *t, const char *why);
/* Re-match a target (identity or policy changed). Returns false if removed. */
bool target_rematch(struct manager *m, struct target *t);
void manager_request_discovery(struct manager *m);
void manager_on_exec_batch(evutil_socket_t fd, short what, void *arg);
void manager_on_connector(evutil_socket_t fd, short what, void *arg);

/* manager-scan.c */
struct target *manager_find_by_id(struct manager *m, pid_t pid, uint64_t id);
void manager_log_denied_once(struct manager *m, struct target *t, int err, const char *what);
bool manager_full_scan_due(const struct manager *m, const struct target *t, uint64_t now);
void manager_submit_scan(struct manager *m, struct target *t);

/* manager-hotness.c */
struct scan_job;
struct scan_params;
/* Resolve t's source (the policy's, auto resolved), taking or giving back a
 * DAMON slot; fill the scan's hotness params. */
void manager_hotness_resolve(struct manager *m, struct target *t);
void manager_hotness_params(struct manager *m, struct target *t, struct scan_params *p);
/* After a scan: refs areas' sustained hotness (before the chunk table takes
 * the scan's areas), then the source's window and every chunk's hot_bp. */
void manager_hotness_refs_before_merge(const struct target *t, struct scan_job *job);
void manager_hotness_after_merge(struct manager *m, struct target *t, struct scan_job *job);
/* Give back t's DAMON slot and regions (target gone or source changed). */
void manager_hotness_release(struct manager *m, struct target *t);
/* Does t's source measure (so t is scanned every tick)? */
bool manager_hotness_measures(const struct target *t);

/* manager-collapse.c */
void manager_check_enomem_resume(struct manager *m, uint64_t now);
void manager_check_pressure(struct manager *m, uint64_t now);
void manager_on_pressure_timer(evutil_socket_t fd, short what, void *arg);
void manager_plan_and_submit(struct manager *m, struct target *t);
