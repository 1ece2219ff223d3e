/* SPDX-License-Identifier: MIT */
/*
 * The manager owns all daemon state: the config, the targets and their
 * chunk tables, budgets, pauses and counters. It is the only place where
 * state changes; the control layer reads it and calls manager_* functions.
 * Everything here runs on the event loop thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uthash.h>

#include "budget.h"
#include "stall.h"
#include "chunks.h"
#include "config_ref.h"
#include "discover.h"
#include "histogram.h"
#include "kfeatures.h"
#include "retry.h"

struct event_base;
struct manager;

enum target_state {
	TARGET_ACTIVE,
	TARGET_PAUSED,	     /* paused by an operator */
	TARGET_DENIED,	     /* missing capability: not tried again */
	TARGET_THP_DISABLED, /* the process set PR_SET_THP_DISABLE */
};

const char *target_state_name(enum target_state s);

struct target {
	UT_hash_handle hh; /* keyed by pid */
	uint64_t id;	   /* unique for the daemon's lifetime (pids are reused) */
	pid_t pid;
	int pidfd;
	uint64_t starttime;
	uid_t uid;
	bool has_owner;		   /* uid may see and steer it (struct discovered) */
	bool paused_by_privileged; /* TARGET_PAUSED by root or group thpd */
	uint64_t forced_scan_usec; /* last full scan a Collapse call asked for */
	char *comm, *exe, *unit, *cgroup, *memcg;
	const struct policy *policy; /* in the manager's current config */
	struct event *exit_ev;
	struct manager *owner;
	enum target_state state;
	uint64_t added_usec;

	bool scanning, collapsing;
	bool rescan_needed;	      /* a chunk was unmapped: no collapses until rescanned */
	bool idle;		      /* nothing was due at the last plan */
	bool mem_changed;	      /* /proc/PID/stat says it touched memory */
	struct mem_fingerprint fp;    /* as of the last discovery walk */
	uint64_t last_full_scan_usec; /* last smaps read */
	unsigned scans;
	unsigned full_scans; /* of scans, those that read smaps */
	uint64_t last_scan_usec;
	uint64_t maps_hash;
	bool refs_window_open;		/* clear_refs written: the next scan measures */
	bool hot_valid;			/* chunks' hot_bp come from a full window */
	enum hotness_source hot_source; /* in effect (auto resolved): manager-hotness.c */
	int damon_slot;			/* the DAMON slot it holds, -1 none */
	struct hot_region *hot_regions; /* damon: the last snapshot, sorted */
	size_t n_hot_regions;
	struct hot_region *prev_hot_regions; /* damon: the one before */
	size_t n_prev_hot_regions;

	struct chunk_table table;
	uint64_t anon_bytes;
	uint64_t huge_bytes;
	uint64_t resident_bytes; /* in candidate areas */

	struct stall_budget stall; /* the policy's max_stall: stall.h */
	/* Its CPU time (clock ticks) as the last job found it, -1 unknown, and
	 * since when it has not changed: a target that did not run for
	 * STALL_IDLE_USEC is not charged (manager-collapse.c). After the first
	 * job no other before cpu_probe_until_usec: a second look. */
	int64_t cpu_ticks;
	uint64_t cpu_still_since_usec;
	uint64_t cpu_probe_until_usec;
	uint64_t collapse_usec; /* time spent in its collapse calls */
	uint64_t collapsed_bytes;
	uint64_t attempts;
	uint64_t by_class[COLLAPSE_CLASS_MAX];
	int last_err;
};

/* Daemon-wide. counters.c lists those GetCounters reports and the state file keeps. */
struct counters {
	uint64_t attempts;
	uint64_t collapsed_bytes;
	uint64_t by_class[COLLAPSE_CLASS_MAX];
	uint64_t collapse_usec;
	uint64_t scans;
	uint64_t scan_usec;
	uint64_t discoveries;
	uint64_t targets_added;
	uint64_t targets_removed;
	uint64_t enomem_pauses;
	uint64_t ebusy_pauses;
	uint64_t splits;
	uint64_t reloads;
	uint64_t reload_failures;
	uint64_t full_scans;		   /* of scans, those that read smaps */
	uint64_t scan_cpu_usec;		   /* CPU time of the scan worker in scans */
	struct histogram collapse_latency; /* per 2 MiB chunk tried */
	struct histogram scan_latency;	   /* per scan */
};

struct memcg_pause {
	UT_hash_handle hh; /* keyed by path */
	char *path;
	struct pause pause;
};

struct manager;

/* Takes ownership of cfg. config_path is used by manager_reload(). */
int manager_new(struct event_base *base, const char *config_path, struct thpd_config *cfg,
		struct manager **ret);
/*
 * Keep state (counters, backoffs, quarantines, pauses) in DIR/state.json
 * across restarts; NULL (the default) keeps none. Call before manager_start.
 */
int manager_set_state_dir(struct manager *m, const char *dir);
/* Start workers, timers and the proc connector; run the first discovery. */
int manager_start(struct manager *m);
/* Stop collapsing promptly (in-flight jobs end after their current chunk). */
void manager_stop(struct manager *m);
void manager_free(struct manager *m);

/*
 * Re-read the config. On success the new policy applies at once (targets
 * are re-matched); on failure diags say why and the old policy stays.
 * Blocks (file reads, NSS): for a manager that is not started (the fuzz
 * harness); the daemon uses manager_reload_async().
 */
int manager_reload(struct manager *m, struct config_diags *diags);

/*
 * The end of an asynchronous reload, on the loop: r and diags as
 * manager_reload() would give them (diags are the manager's, valid during
 * the call only).
 */
typedef void (*manager_reload_fn)(int r, const struct config_diags *diags, void *userdata);
/*
 * Reload without blocking the loop: config_load() runs on a worker, the new
 * config is applied on the loop, then fn(userdata) is called. A request
 * while a reload runs is queued, and all requests queued meanwhile share one
 * more reload (it reads the files after they came). Returns 0 (fn will be
 * called once, unless the manager stops first or manager_reload_forget()) or
 * a negative errno (fn is never called).
 */
int manager_reload_async(struct manager *m, manager_reload_fn fn, void *userdata);
/* fn is not to be called for userdata any more (its client went away). */
void manager_reload_forget(struct manager *m, void *userdata);

/* Events for monitors (the control layer streams them to clients). */
enum manager_event_type {
	MANAGER_EVENT_TARGET_ADDED,
	MANAGER_EVENT_TARGET_REMOVED,
	MANAGER_EVENT_COLLAPSE_DONE,  /* one per collapse job */
	MANAGER_EVENT_COLLAPSE_ERROR, /* one per failed chunk */
	MANAGER_EVENT_PAUSE,
	MANAGER_EVENT_RESUME,
	MANAGER_EVENT_RELOAD,
	MANAGER_EVENT_RELOAD_FAILED, /* reason: the first problem (privileged callers only) */
};

const char *manager_event_type_name(enum manager_event_type t);

struct manager_event {
	enum manager_event_type type;
	bool has_target; /* pid/uid/comm/policy are set */
	pid_t pid;
	uid_t uid;
	bool has_owner; /* the target's uid may see it (struct target) */
	const char *comm;
	const char *policy;
	const char *reason; /* removal reason, pause reason ("enomem", "ebusy", "operator") */
	const char *cgroup; /* ebusy pauses */
	int err;	    /* positive errno (errors, pauses) */
	uint64_t addr;	    /* failed chunk */
	uint64_t bytes;	    /* collapsed by the job */
	uint32_t chunks_ok, chunks_failed;
	uint64_t duration_usec;
};

typedef void (*manager_event_fn)(const struct manager_event *ev, void *userdata);
/* One sink (the control layer); NULL to remove. */
void manager_set_event_sink(struct manager *m, manager_event_fn fn, void *userdata);

/* Operator steering. pid 0 = the whole daemon. -ESRCH: no such target. */
/* pid 0: the whole daemon. by_privileged: asked by root or group thpd; a
 * target paused so is resumed only so (-EPERM otherwise). */
int manager_pause(struct manager *m, pid_t pid, bool by_privileged);
int manager_resume(struct manager *m, pid_t pid, bool by_privileged);
/*
 * Make the chunks of a target in [start, end) (end 0 = all) due now, even if
 * backing off, parked or quarantined, and rescan it; the collapse itself
 * goes through the budgets as usual. Returns the number of chunks made due,
 * -ESRCH (no such target) or -EBUSY (paused or denied).
 */
/* Chunks of pid in [start, end) (end 0: all) due now, and a fresh full scan;
 * for a caller without privilege at most one forced scan per scan interval
 * and target (the chunks are due all the same). */
int manager_collapse_now(struct manager *m, pid_t pid, uint64_t start, uint64_t end,
			 bool by_privileged);
/* Collapse calls of one unprivileged user: COLLAPSE_CALLS_BURST back to back,
 * then COLLAPSE_CALLS_PER_MIN a minute (root and group thpd: no limit). */
#define COLLAPSE_CALLS_PER_MIN 60
#define COLLAPSE_CALLS_BURST   20
/* May unprivileged uid make one more Collapse call now? Counts it if so;
 * else *retry_usec says when (the per-user limit, manager-internal.h). */
bool manager_user_may_collapse(struct manager *m, uid_t uid, uint64_t *retry_usec);

/* Read-only views for the control layer. */
const struct thpd_config *manager_config(const struct manager *m);
struct target *manager_targets(const struct manager *m); /* uthash head */
struct target *manager_find_target(const struct manager *m, pid_t pid);
const struct counters *manager_counters(const struct manager *m);
uint64_t manager_started_usec(const struct manager *m);
/* Global pause in force ("operator", "enomem" or "pressure"), NULL if none;
 * *until is 0 when it has no set end (operator: until resumed; pressure:
 * until it falls). */
const char *manager_pause_reason(const struct manager *m, uint64_t now, uint64_t *until);
const struct memcg_pause *manager_memcg_pauses(const struct manager *m);
/* While memory pressure pauses collapsing: the PSI figure that decided
 * ("some avg10 12.30% > 10.00%"); NULL otherwise. */
const char *manager_pressure_detail(const struct manager *m);
/* Hotness sources (manager-hotness.c): "available", "in use", or
 * "unavailable: why". */
const char *manager_damon_status(const struct manager *m);
const char *manager_refs_status(const struct manager *m);
/* What the kernel probe said of DAMON vaddr (main.c, before manager_start). */
void manager_set_damon_vaddr(struct manager *m, enum feature_state s);
bool manager_memcg_paused(const struct manager *m, const char *memcg, uint64_t now);
unsigned manager_config_generation(const struct manager *m);
/* One-line summary for sd_notify STATUS=. */
void manager_status_line(const struct manager *m, char *buf, size_t len);
/* Bytes the global budget allows now (UINT64_MAX if unlimited). */
uint64_t manager_budget_available(struct manager *m);
