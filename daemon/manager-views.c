/* SPDX-License-Identifier: MIT */
/*
 * Read-only views of the manager for the control layer, and the operator's
 * steering (pause, resume, collapse now).
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
	m->state_dirty = true;
	manager_emit(m, &(struct manager_event){.type = MANAGER_EVENT_PAUSE, .reason = "operator"},
		     t);
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
			manager_submit_scan(m, t);
		}
		log_notice("target %d (%s) resumed by operator", (int)t->pid, t->comm);
	} else {
		m->operator_paused = false;
		log_notice("collapsing resumed by operator");
	}
	m->state_dirty = true;
	manager_emit(m, &(struct manager_event){.type = MANAGER_EVENT_RESUME, .reason = "operator"},
		     t);
	manager_schedule_kick(m, now_usec());
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
		manager_submit_scan(m, t);
	} else {
		manager_schedule_kick(m, now);
	}
	return n;
}

bool manager_user_may_collapse(struct manager *m, uid_t uid, uint64_t *retry_usec)
{
	return user_limits_take(m->collapse_limits, uid, now_usec(), retry_usec);
}
