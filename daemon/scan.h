/* SPDX-License-Identifier: MIT */
/*
 * The scan job (runs on the scan worker): reads one process's status, maps
 * (smaps when the layout changed, every N scans, or for refs hotness) and
 * per-PMD residency, and produces its candidate areas and chunks.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "hotmap.h"
#include "workq.h"

/* A VMA as the manager remembers it between scans. */
struct scan_area {
	uint64_t start, end;
	uint32_t flags;	     /* enum vma_flag */
	uint64_t resident;   /* bytes present (pagemap) */
	uint64_t huge;	     /* bytes mapped huge (pagemap) */
	uint32_t hot_bp;     /* hotness used for ranking: 10000 unless hotness is refs */
	uint32_t hot_raw_bp; /* refs: Referenced/Rss measured over the last window */
	/* Without PAGEMAP_SCAN only: smaps' huge bytes of the area, and how many
	 * chunks seen huge before split since (pmd_infer_huge). */
	uint64_t smaps_huge;
	uint32_t inferred_splits;
};

/* One 2 MiB chunk that is resident, not huge, and dense enough. */
struct scan_chunk {
	uint64_t addr;
	uint32_t area; /* index into areas */
	uint16_t present;
	bool huge;
	bool maybe_huge; /* without PAGEMAP_SCAN: may be huge already (pmd_infer_huge) */
};

/* Why a mapping gave no candidate area (thpctl why). */
enum scan_skip {
	SKIP_SPECIAL,	   /* [vdso], [vvar], io or pfn mappings */
	SKIP_NOHUGEPAGE,   /* VmFlags nh: MADV_NOHUGEPAGE */
	SKIP_FILE,	   /* file-backed (page cache): MADV_COLLAPSE of files is not thpd's */
	SKIP_SHARED,	   /* shared memory while the policy has shmem: false */
	SKIP_NOT_ELIGIBLE, /* smaps THPeligible: 0 */
	SKIP_TOO_SMALL,	   /* holds no whole 2 MiB-aligned chunk */
};

/* A mapping without a candidate area, and why. */
struct scan_skipped {
	uint64_t start, end;
	uint8_t why; /* enum scan_skip */
};

/* A chunk of a candidate area with pages present, yet too few (min_present). */
struct scan_sparse {
	uint64_t addr;
	uint16_t present;
};

struct scan_params {
	bool shmem;
	bool thp_always; /* sysfs mode "always": THPeligible is meaningful for all areas */
	uint32_t min_present_bp;
	bool full;  /* read smaps even if the layout is unchanged */
	bool refs;  /* hotness refs: read smaps, then clear_refs */
	bool damon; /* hotness damon: read this pid's kdamond, damon_slot */
	unsigned damon_slot;
	unsigned damon_slots;	  /* slots of the pool, to create it on first use */
	uint64_t damon_stop_mask; /* slots whose targets went away: stop them */
	uint64_t prev_maps_hash;  /* 0 = unknown */

	const struct scan_area *prev_areas; /* flags from the last smaps read */
	size_t n_prev_areas;
	const uint64_t *prev_huge; /* sorted addresses of chunks seen huge (fallback input) */
	size_t n_prev_huge;
};

enum scan_status {
	SCAN_OK,
	SCAN_GONE,	   /* process exited */
	SCAN_DENIED,	   /* EACCES/EPERM reading its /proc files */
	SCAN_THP_DISABLED, /* PR_SET_THP_DISABLE */
	SCAN_ERROR,
};

struct scan_job {
	struct work work;
	/* input */
	uint64_t target_id;
	pid_t pid;
	int pidfd; /* owned (dup) */
	struct scan_params params;
	struct scan_area *prev_areas_owned;
	uint64_t *prev_huge_owned;
	/* output */
	enum scan_status status;
	int err;
	bool did_smaps;

	bool refs_valid;   /* hot_bp values come from a completed refs window */
	bool refs_denied;  /* clear_refs could not be written */
	bool pagemap_scan; /* PAGEMAP_SCAN was available */
	/* hotness damon: the regions of the slot's last aggregation */
	bool damon_valid;     /* hot_regions is a snapshot */
	int damon_err;	      /* the DAMON pool cannot be used (positive errno) */
	int damon_target_err; /* this target's kdamond failed (positive errno) */
	char damon_why[200];  /* either, in one line */
	struct hot_region *hot_regions;
	size_t n_hot_regions;
	uint64_t maps_hash;
	uint64_t anon_bytes; /* RssAnon */
	uint64_t huge_bytes; /* huge PMDs in scanned areas */
	uint64_t duration_usec;
	uint64_t cpu_usec; /* the worker thread's CPU time in the scan */
	struct scan_area *areas;
	size_t n_areas;
	struct scan_chunk *chunks; /* sorted by addr */
	size_t n_chunks;
	/* for thpctl why, sorted by address: */
	struct scan_skipped *skipped; /* at most SCAN_MAX_SKIPPED */
	size_t n_skipped;
	struct scan_sparse *sparse;
	size_t n_sparse;
};

/* Mappings without a candidate area remembered per scan (a process may have
 * 65530): the rest are not named by thpctl why. */
#define SCAN_MAX_SKIPPED 4096

struct scan_job *scan_job_new(uint64_t target_id, pid_t pid, int pidfd, const struct scan_params *p,
			      void (*done)(struct work *, bool, void *));
void scan_job_free(struct scan_job *job);

/* Is this VMA a candidate area for the given params? (pure) */
bool scan_area_eligible(uint32_t vma_flags, bool have_smaps, bool shmem, bool thp_always);
/* Why not (an enum scan_skip), or -1 if it is one. Pure; the size is not
 * looked at (SKIP_TOO_SMALL is the caller's). */
int scan_area_skip(uint32_t vma_flags, bool have_smaps, bool shmem, bool thp_always);

/* FNV-1a over a buffer (maps layout fingerprint). */
uint64_t scan_hash(const char *buf, size_t len);
