/* SPDX-License-Identifier: MIT */
/*
 * What survives a restart: counters, and per target (pid + start time, same
 * boot) the chunks that are backing off, parked or quarantined, plus active
 * pauses. Serialising and validating are pure (JSON <-> structs, no
 * logging); state_boot_id() is the one function here that reads a file
 * (/proc/sys/kernel/random/boot_id). persist.c reads and writes the state
 * file; the manager (manager-state.c) decides when to save and what to
 * restore.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "manager.h"
#include "retry.h"

#define STATE_FORMAT  "thpd-state"
#define STATE_VERSION 1
#define STATE_FILE    "state.json"

struct saved_chunk {
	uint64_t addr;
	struct chunk_retry retry; /* next_usec on CLOCK_MONOTONIC (same boot) */
	uint16_t splits;
};

struct saved_target {
	pid_t pid;
	uint64_t starttime;
	struct saved_chunk *chunks;
	size_t n_chunks;
};

struct saved_pause {
	char *memcg; /* NULL: the global ENOMEM pause */
	struct pause pause;
};

struct saved_state {
	char boot_id[40];
	struct counters counters;
	struct saved_target *targets;
	size_t n_targets;
	struct saved_pause *pauses;
	size_t n_pauses;
};

void saved_state_free(struct saved_state *s);

/* New reference; chunks in CANDIDATE or HUGE state carry nothing worth saving. */
json_t *state_to_json(const struct saved_state *s);

/*
 * Validate and convert. Returns 0, or -EINVAL with *why set to a static
 * description (not a thpd state file, unknown version, malformed field ...).
 * Nothing is trusted blindly: states, addresses, counts are range-checked.
 */
int state_from_json(const json_t *j, struct saved_state *out, const char **why);

/* Read /proc/sys/kernel/random/boot_id into buf (37 bytes). 0 or -errno. */
int state_boot_id(char *buf, size_t len);
