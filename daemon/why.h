/* SPDX-License-Identifier: MIT */
/*
 * thpctl why: the reasons a process, or the 2 MiB chunk at an address, is or
 * is not huge, from what the daemon knows (the target's chunk table, the
 * notes of its last scan, pauses, budgets) or, for a process that is no
 * target, from a fresh look at it and the policy. Pure: the caller gathers
 * the facts; the answer is a list of {code, text}, the decisive one first.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "discover.h"
#include "manager.h"

struct why_facts {
	const struct target *t;
	uint64_t now;
	bool has_addr;
	uint64_t addr;
	const char *daemon_pause; /* manager_pause_reason(): NULL if none */
	uint64_t daemon_pause_until;
	bool memcg_paused;	  /* the target's memory cgroup is paused (EBUSY) */
	bool hot_measured;	  /* hotness refs/damon decides (min_hot applies) */
	const char *hotness;	  /* the source in effect, by name */
	uint64_t rate_available;  /* bytes the rate budgets allow now */
	uint64_t stall_wait_usec; /* until the target's stall budget allows one */
};

/* Reasons for a target, or its chunk at f->addr (new reference, NULL if
 * out of memory). Codes: see why.c's table and man thpctl(1). */
json_t *why_target(const struct why_facts *f);

/* Reasons for a process that is no target: l as proc_look() read it (r its
 * return), matched against cfg's policies. */
json_t *why_process(pid_t pid, int r, const struct proc_look *l, const struct thpd_config *cfg);
