/* SPDX-License-Identifier: MIT */
/*
 * Per-PMD residency via the PAGEMAP_SCAN ioctl (Linux 6.7+), with a fallback
 * to plain /proc/PID/pagemap entries.
 *
 * What PAGEMAP_SCAN reports (checked on 6.18, x86-64) with
 * category_anyof_mask = PRESENT and return_mask = PRESENT|HUGE|FILE|PFNZERO:
 *   - PTE-mapped anon pages:         PRESENT
 *   - PTE-mapped shared zero page:   PRESENT|PFNZERO
 *   - PMD-mapped THP:                PRESENT|HUGE (2 MiB aligned region)
 *   - PMD-mapped huge zero page:     PRESENT|HUGE|PFNZERO
 * Adjacent pages with equal categories are merged into one region. When the
 * vector is full the walk stops and walk_end is the start of the first
 * region that did not fit; an unaligned start fails with EINVAL; kernels
 * without the ioctl fail with ENOTTY.
 */
#include "build-config.h"
#if HAVE_VALGRIND_MEMCHECK_H
#include <valgrind/memcheck.h>
#endif
#include "pagemap.h"
#include "util.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/fs.h>
#include <linux/types.h>

/*
 * Debian 12's uapi headers predate PAGEMAP_SCAN: carry the ABI from the
 * kernel's include/uapi/linux/fs.h under our own names.
 */
#ifndef PAGEMAP_SCAN
struct thpd_page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

struct thpd_pm_scan_arg {
	__u64 size;
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;
	__u64 vec;
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};

#define THPD_PAGEMAP_SCAN    _IOWR('f', 16, struct thpd_pm_scan_arg)
#define THPD_PAGE_IS_PRESENT (1ULL << 3)
#define THPD_PAGE_IS_FILE    (1ULL << 2)
#define THPD_PAGE_IS_PFNZERO (1ULL << 5)
#define THPD_PAGE_IS_HUGE    (1ULL << 6)
#else
#define thpd_page_region     page_region
#define thpd_pm_scan_arg     pm_scan_arg
#define THPD_PAGEMAP_SCAN    PAGEMAP_SCAN
#define THPD_PAGE_IS_PRESENT PAGE_IS_PRESENT
#define THPD_PAGE_IS_FILE    PAGE_IS_FILE
#define THPD_PAGE_IS_PFNZERO PAGE_IS_PFNZERO
#define THPD_PAGE_IS_HUGE    PAGE_IS_HUGE
#endif

/* struct pm_region is passed to the kernel as its struct page_region. */
_Static_assert(sizeof(struct thpd_page_region) == sizeof(struct pm_region) &&
		   offsetof(struct thpd_page_region, start) == offsetof(struct pm_region, start) &&
		   offsetof(struct thpd_page_region, end) == offsetof(struct pm_region, end) &&
		   offsetof(struct thpd_page_region, categories) ==
		       offsetof(struct pm_region, categories),
	       "page_region layout");
_Static_assert(sizeof(struct thpd_pm_scan_arg) == 96, "pm_scan_arg layout");
_Static_assert(THPD_PAGE_IS_PRESENT == PM_CAT_PRESENT && THPD_PAGE_IS_FILE == PM_CAT_FILE &&
		   THPD_PAGE_IS_PFNZERO == PM_CAT_PFNZERO && THPD_PAGE_IS_HUGE == PM_CAT_HUGE,
	       "PM_CAT_* match the kernel's PAGE_IS_*");

#define SCAN_VEC_LEN 512

/* Pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst). */
#define PME_PRESENT   (1ULL << 63)
#define PME_FILE      (1ULL << 61) /* file page or shared anon (incl. the zero pages) */
#define PME_EXCLUSIVE (1ULL << 56) /* mapped by this process only (Linux 4.2+) */

/* PAGEMAP_SCAN support seen so far: -1 not yet tried, 0 absent, 1 present. */
static atomic_int scan_support = -1;

int pagemap_scan_support(void)
{
	return atomic_load(&scan_support);
}

void pagemap_scan_disable(void)
{
	atomic_store(&scan_support, 0);
}

/*
 * Without PAGEMAP_SCAN the entry has no "zero page" bit, and the PFN that
 * would tell is hidden without CAP_SYS_ADMIN. The kernel's
 * pte_to_pagemap_entry() sets PM_MMAP_EXCLUSIVE only for a normal page
 * mapped once, and vm_normal_page() is NULL for the shared zero page, so a
 * zero-page PTE reads PRESENT without EXCLUSIVE. An anonymous page shared
 * with a fork()ed child reads the same; collapsing it would copy it and
 * break the sharing, so it is left out too. Shmem pages carry PM_FILE and
 * may be mapped elsewhere: for them PRESENT is what counts.
 */
static bool entry_counts(uint64_t e, bool anon)
{
	if (!(e & PME_PRESENT))
		return false;
	if (!anon)
		return true;
	return (e & PME_EXCLUSIVE) && !(e & PME_FILE);
}

/*
 * Folding state carried across batches: how many pages of PMD cur_pmd were
 * covered by huge regions so far (regions are sorted, so only the PMD that
 * straddles a batch boundary needs it).
 */
struct fold_state {
	size_t cur_pmd;
	uint32_t huge_pages;
};

static bool aligned_range(uint64_t start, uint64_t end)
{
	return start <= end && (start % PMD_SIZE_2M) == 0 && (end % PMD_SIZE_2M) == 0;
}

static void fold_add(const struct pm_region *regions, size_t n, uint64_t start, uint64_t end,
		     struct pmd_stat *out, struct fold_state *st)
{
	for (size_t i = 0; i < n; i++) {
		const struct pm_region *r = &regions[i];
		uint64_t a = MAX(r->start, start), b = MIN(r->end, end);
		bool present, huge;

		if (a >= b)
			continue;
		present = (r->categories & PM_CAT_PRESENT) && !(r->categories & PM_CAT_PFNZERO);
		huge = present && (r->categories & PM_CAT_HUGE);
		if (!present)
			continue;

		/* Page granularity: round a partial first/last page outwards. */
		a &= ~(PAGE_SIZE_4K - 1);
		while (a < b) {
			size_t idx = (size_t)((a - start) / PMD_SIZE_2M);
			uint64_t pmd_end = start + (uint64_t)(idx + 1) * PMD_SIZE_2M;
			uint64_t piece_end = MIN(b, pmd_end);
			uint64_t pages = (piece_end - a + PAGE_SIZE_4K - 1) / PAGE_SIZE_4K;
			uint32_t p = out[idx].present + (uint32_t)pages;

			/* Saturate: overlapping (bogus) input must not wrap. */
			out[idx].present = (uint16_t)MIN(p, PAGES_PER_PMD);
			if (huge) {
				if (st->cur_pmd != idx) {
					st->cur_pmd = idx;
					st->huge_pages = 0;
				}
				st->huge_pages += (uint32_t)pages;
				if (st->huge_pages >= PAGES_PER_PMD)
					out[idx].huge = true;
			}
			a = piece_end;
		}
	}
}

static void fold_init(uint64_t start, uint64_t end, struct pmd_stat *out, struct fold_state *st)
{
	size_t npmd = (size_t)((end - start) / PMD_SIZE_2M);

	if (npmd)
		memset(out, 0, npmd * sizeof(*out));
	st->cur_pmd = SIZE_MAX;
	st->huge_pages = 0;
}

void pmd_fold(const struct pm_region *regions, size_t n, uint64_t start, uint64_t end,
	      struct pmd_stat *out)
{
	struct fold_state st;

	if (!aligned_range(start, end))
		return;
	fold_init(start, end, out, &st);
	fold_add(regions, n, start, end, out, &st);
}

static int pread_full(int fd, void *buf, size_t len, uint64_t off, size_t *ret_got)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	*ret_got = got;
	return 0;
}

int pagemap_pmd_stats_pread(int pagemap_fd, uint64_t start, uint64_t end, bool anon,
			    struct pmd_stat *out)
{
	uint64_t ent[PAGES_PER_PMD];
	struct fold_state st;
	size_t idx = 0;

	if (!aligned_range(start, end))
		return -EINVAL;
	fold_init(start, end, out, &st);

	for (uint64_t a = start; a < end; a += PMD_SIZE_2M, idx++) {
		size_t got = 0, nent;
		unsigned present = 0;
		int r;

		r = pread_full(pagemap_fd, ent, sizeof(ent), a / PAGE_SIZE_4K * sizeof(uint64_t),
			       &got);
		if (r < 0)
			return r;
		nent = got / sizeof(uint64_t);
		for (size_t i = 0; i < nent; i++)
			if (entry_counts(ent[i], anon))
				present++;
		out[idx].present = (uint16_t)present;
		if (nent < PAGES_PER_PMD)
			break; /* end of the address space: the rest stays 0 */
	}
	return 0;
}

int pagemap_pmd_stats(int pagemap_fd, uint64_t start, uint64_t end, bool anon, struct pmd_stat *out,
		      bool *ret_scan_supported)
{
	struct pm_region vec[SCAN_VEC_LEN];
	struct fold_state st;
	uint64_t cur = start;

	if (!aligned_range(start, end))
		return -EINVAL;
	if (ret_scan_supported)
		*ret_scan_supported = true;
	if (atomic_load(&scan_support) == 0) { /* known absent: no ioctl per area */
		if (ret_scan_supported)
			*ret_scan_supported = false;
		return pagemap_pmd_stats_pread(pagemap_fd, start, end, anon, out);
	}
	fold_init(start, end, out, &st);

	while (cur < end) {
		struct thpd_pm_scan_arg arg = {
		    .size = sizeof(arg),
		    .start = cur,
		    .end = end,
		    .vec = (uint64_t)(uintptr_t)vec,
		    .vec_len = SCAN_VEC_LEN,
		    .category_anyof_mask = THPD_PAGE_IS_PRESENT,
		    .return_mask = THPD_PAGE_IS_PRESENT | THPD_PAGE_IS_HUGE | THPD_PAGE_IS_FILE |
				   THPD_PAGE_IS_PFNZERO,
		};
		int n = ioctl(pagemap_fd, THPD_PAGEMAP_SCAN, &arg);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOTTY || errno == EINVAL) {
				if (ret_scan_supported)
					*ret_scan_supported = false;
				if (errno == ENOTTY)
					atomic_store(&scan_support, 0);
				return pagemap_pmd_stats_pread(pagemap_fd, start, end, anon, out);
			}
			return -errno;
		}
		if (n > SCAN_VEC_LEN)
			return -EIO;
		atomic_store(&scan_support, 1);
#if HAVE_VALGRIND_MEMCHECK_H
		/* valgrind does not know this ioctl fills vec. */
		VALGRIND_MAKE_MEM_DEFINED(vec, (size_t)n * sizeof(*vec));
		VALGRIND_MAKE_MEM_DEFINED(&arg, sizeof(arg));
#endif
		fold_add(vec, (size_t)n, start, end, out, &st);

		/* No progress would loop forever: the kernel must advance. */
		if (arg.walk_end <= cur)
			return -EIO;
		cur = arg.walk_end;
	}
	return 0;
}

void pmd_infer_huge(struct pmd_stat *stats, size_t n, uint64_t huge_bytes, const bool *believed,
		    struct huge_inference *ret)
{
	uint64_t h = huge_bytes / PMD_SIZE_2M, full = 0, known = 0;

	*ret = (struct huge_inference){0};
	for (size_t i = 0; i < n; i++) {
		bool is_full = stats[i].present >= PAGES_PER_PMD;

		stats[i].huge = stats[i].maybe_huge = false;
		full += is_full;
		known += is_full && believed && believed[i];
	}
	if (h == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		bool is_full = stats[i].present >= PAGES_PER_PMD;
		bool was = is_full && believed && believed[i];

		if (!is_full)
			continue;
		if (h >= full || (h == known && was) || (h > known && was))
			stats[i].huge = true;
		else if (h > known || (h < known && was))
			stats[i].maybe_huge = true;
		ret->huge += stats[i].huge;
		ret->maybe += stats[i].maybe_huge;
	}
	if (h < known && h < full)
		ret->splits = (uint32_t)(known - h);
}
