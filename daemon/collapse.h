/* SPDX-License-Identifier: MIT */
/*
 * The collapse worker's job: one process_madvise(MADV_COLLAPSE) call per
 * 2 MiB chunk, so every failure is attributed to its own PMD and errno (the
 * kernel reports only the last failure of a multi-PMD call, and per-call cost
 * is negligible; ARCHITECTURE.md section 4).
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "histogram.h"
#include "workq.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

/* errs[i] value for a chunk that was not attempted (job stopped early). */
#define COLLAPSE_NOT_TRIED (-1)
/* errs[i] value for ENOMEM on a range that is no longer mapped. */
#define COLLAPSE_ERR_UNMAPPED (-2)

struct collapse_job {
	struct work work;
	uint64_t target_id;
	pid_t pid;
	int pidfd; /* owned by the job (a dup of the target's) */
	size_t n;
	uint64_t *addrs; /* chunk start addresses, 2 MiB aligned */
	int *errs;	 /* per chunk: 0, positive errno, or COLLAPSE_* */
	uint64_t started_usec, finished_usec;
	struct histogram latency; /* of each chunk tried (its process_madvise calls) */
	uint64_t calls_usec;	  /* those calls together */
	/* want_cpu: read the target's CPU time (utime + stime, clock ticks)
	 * when the job ends, into cpu_ticks (-1 if the read failed): a stall
	 * budget charges only a target that ran (manager-collapse.c). */
	bool want_cpu;
	int64_t cpu_ticks;
	/* Pagemap fallback: maybe[i] marks a chunk that may be huge already
	 * (pmd_infer_huge). Then the job reads the process's huge bytes
	 * (smaps_rollup) before and after, so new huge pages can be told from
	 * old ones; -1 if a read failed. */
	bool *maybe;
	bool verify;
	int64_t huge_before, huge_after;
	/* Test seam for errnos a 24 GiB machine cannot produce: when > 0,
	 * pretend the kernel returned this errno for every chunk. */
	int inject_errno;
};

/* utime + stime of pid in clock ticks (/proc/PID/stat), -1 if unreadable. */
int64_t process_cpu_ticks(pid_t pid);

/* Allocate a job for n chunks (addrs to be filled by the caller). */
struct collapse_job *collapse_job_new(uint64_t target_id, pid_t pid, int pidfd, size_t n,
				      void (*done)(struct work *, bool, void *));
void collapse_job_free(struct collapse_job *job);

/*
 * Collapse one 2 MiB chunk; returns 0 or a positive errno. When the kernel
 * says ENOMEM, checks /proc/PID/maps and returns COLLAPSE_ERR_UNMAPPED if
 * the chunk is no longer fully mapped (not memory pressure).
 */
int collapse_chunk(int pidfd, pid_t pid, uint64_t addr);

/*
 * Of a job's successes, how many made a new huge page: certain_ok successes
 * on chunks known not to be huge, maybe_ok on chunks that may have been
 * (pure; the rest of maybe_ok were huge already).
 */
uint32_t collapse_new_huge(const struct collapse_job *job, uint32_t certain_ok, uint32_t maybe_ok);

/* Is [start, end) fully covered by mappings in this maps text? (pure) */
bool maps_covers(const char *maps, size_t len, uint64_t start, uint64_t end);
