/* SPDX-License-Identifier: MIT */
/*
 * Per-PMD residency of a process's memory: which 2 MiB chunks are populated
 * and which are already huge. Uses the PAGEMAP_SCAN ioctl (Linux 6.7+) and
 * falls back to reading /proc/PID/pagemap entries.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pmd_stat {
	uint16_t present; /* pages present (0..512), zero-page mappings excluded */
	bool huge;	  /* mapped by a PMD-sized THP */
};

/* One region as PAGEMAP_SCAN reports it: [start, end) with category bits. */
struct pm_region {
	uint64_t start, end;
	uint64_t categories; /* PM_CAT_* below */
};

#define PM_CAT_FILE    (1ULL << 2)
#define PM_CAT_PRESENT (1ULL << 3)
#define PM_CAT_SWAPPED (1ULL << 4)
#define PM_CAT_PFNZERO (1ULL << 5)
#define PM_CAT_HUGE    (1ULL << 6)

/*
 * Pure: fold regions (sorted, non-overlapping) into per-PMD stats for
 * [start, end), both 2 MiB aligned; out has (end-start)/2MiB entries and is
 * zeroed first. Regions outside the range are ignored.
 */
void pmd_fold(const struct pm_region *regions, size_t n, uint64_t start, uint64_t end,
	      struct pmd_stat *out);

/*
 * Fill out[] for [start, end) (2 MiB aligned) from an open /proc/PID/pagemap
 * fd. Tries PAGEMAP_SCAN; if the kernel lacks it (-ENOTTY/-EINVAL from the
 * ioctl) sets *ret_scan_supported = false and uses pread of 64-bit entries
 * (then .huge is never set: the fallback cannot see THP mappings).
 * Returns 0 or a negative errno.
 */
int pagemap_pmd_stats(int pagemap_fd, uint64_t start, uint64_t end, struct pmd_stat *out,
		      bool *ret_scan_supported);

/*
 * The fallback of pagemap_pmd_stats on its own (exported for tests): reads
 * 64-bit /proc/PID/pagemap entries one PMD at a time. .huge is never set and
 * zero-page mappings count as present. Returns 0 or a negative errno.
 */
int pagemap_pmd_stats_pread(int pagemap_fd, uint64_t start, uint64_t end, struct pmd_stat *out);
