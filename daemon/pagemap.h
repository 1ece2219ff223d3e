/* SPDX-License-Identifier: MIT */
/*
 * Per-PMD residency of a process's memory: which 2 MiB chunks are populated
 * and which are already huge. Uses the PAGEMAP_SCAN ioctl (Linux 6.7+) and
 * falls back to reading /proc/PID/pagemap entries. Not pure as a module:
 * pagemap_pmd_stats() and pagemap_pmd_stats_pread() read an open pagemap
 * fd; pmd_fold() and pmd_infer_huge() are pure (no I/O, no logging) and
 * unit-tested on their own.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pmd_stat {
	uint16_t present; /* pages present (0..512), zero-page mappings excluded */
	bool huge;	  /* mapped by a PMD-sized THP */
	bool maybe_huge;  /* fallback only: may be mapped huge, which the counts cannot tell */
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
 * (then .huge is never set: the fallback cannot see THP mappings; see
 * pmd_infer_huge). anon: the range is private anonymous memory (only pages
 * mapped exclusively count as present in the fallback: that leaves out the
 * zero page). Returns 0 or a negative errno.
 */
int pagemap_pmd_stats(int pagemap_fd, uint64_t start, uint64_t end, bool anon, struct pmd_stat *out,
		      bool *ret_scan_supported);

/*
 * The fallback of pagemap_pmd_stats on its own (exported for tests): reads
 * 64-bit /proc/PID/pagemap entries one PMD at a time. .huge is never set.
 * Returns 0 or a negative errno.
 */
int pagemap_pmd_stats_pread(int pagemap_fd, uint64_t start, uint64_t end, bool anon,
			    struct pmd_stat *out);

/* PAGEMAP_SCAN as seen by this process so far: -1 not tried, 0 absent, 1 present. */
int pagemap_scan_support(void);
/* Use the fallback from now on, as on a kernel without PAGEMAP_SCAN (for
 * tests of the 6.1 path on newer kernels: THPD_TEST_NO_PAGEMAP_SCAN=1). */
void pagemap_scan_disable(void);

struct huge_inference {
	uint32_t huge;	 /* chunks marked huge */
	uint32_t maybe;	 /* chunks marked maybe_huge */
	uint32_t splits; /* believed-huge chunks still full of which this many split */
};

/*
 * Pure: which chunks of one area are PMD-mapped, on kernels without
 * PAGEMAP_SCAN. Inputs: the pagemap fallback's stats[n] (present counts),
 * huge_bytes the area's AnonHugePages (or ShmemPmdMapped) from smaps, and
 * believed[n] (NULL: none) the chunks thpd saw become huge earlier. Sets
 * stats[i].huge and .maybe_huge. A PMD-mapped chunk always reads 512 pages
 * present, so only full chunks can be huge; with H = huge_bytes / 2 MiB,
 * F the full chunks and K the believed ones among them:
 *   H == 0        none is huge
 *   H >= |F|      every full chunk is huge
 *   H == |K|      exactly K (nothing split, nothing else collapsed)
 *   H >  |K|      K, and H - |K| of the rest, unknown which: the rest maybe
 *   H <  |K|      |K| - H of K split, unknown which: all of K maybe
 * A "maybe" chunk is collapsed again (costs microseconds if it is still
 * huge) and the collapse job tells new huge pages from old ones by the
 * process's AnonHugePages before and after (collapse_job.verify).
 */
void pmd_infer_huge(struct pmd_stat *stats, size_t n, uint64_t huge_bytes, const bool *believed,
		    struct huge_inference *ret);
