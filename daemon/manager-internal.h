/* SPDX-License-Identifier: MIT */
/*
 * The manager's private state, shared by the files that make up the manager
 * (manager.c: targets, scans, collapses, timers; manager-state.c: what is
 * kept across restarts). Nothing outside those files includes this.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "budget.h"
#include "config_ref.h"
#include "manager.h"
#include "retry.h"
#include "state.h"

struct event;
struct event_base;
struct workq;

struct manager {
	struct event_base *base;
	char *config_path;
	struct config_ref *cfg;
	unsigned generation;
	/* Why the last reload failed ("" after a good one): in the status line
	 * until a reload succeeds, so that systemctl status still says so. */
	char reload_error[256];

	struct workq *scanq;	 /* discovery and scans */
	struct workq *collapseq; /* collapses: never on the loop */

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
