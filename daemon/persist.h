/* SPDX-License-Identifier: MIT */
/*
 * The state file on disk: load with validation, save atomically (temp file,
 * fsync, rename, fsync of the directory) on a worker thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "state.h"
#include "workq.h"

/*
 * Load DIR/state.json. Returns 0 (state filled), -ENOENT (no file yet),
 * -EINVAL (corrupt or foreign: *why says why; the file is ignored), or
 * another negative errno (unreadable).
 */
int persist_load(const char *dir, struct saved_state *state, const char **why);

struct persist_job {
	struct work work;
	char *dir;
	char *data; /* serialized state, owned */
	int err;    /* result: 0 or negative errno */
};

/* A job writing data (taken over) to DIR/state.json; NULL on ENOMEM. */
struct persist_job *persist_job_new(const char *dir, char *data,
				    void (*done)(struct work *, bool, void *));
void persist_job_free(struct persist_job *job);

/* The same write, synchronously (at shutdown). */
int persist_write(const char *dir, const char *data);

/*
 * Replace the file at path (absolute) with data, atomically: a temp file
 * ".NAME.tmp" in the same directory, given mode whatever the umask, fsync,
 * rename, fsync of the directory. Returns 0 or a negative errno (the temp
 * file is removed). Blocks: for workers and shutdown.
 */
int persist_write_atomic(const char *path, const char *data, size_t len, mode_t mode);
