/* SPDX-License-Identifier: MIT */
/*
 * pmd_fold on hand-made region lists, and pagemap_pmd_stats on this very
 * process: PAGEMAP_SCAN and the pread fallback against known residency.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "kernel-groups.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pagemap.h"
#include "util.h"

#define M2   PMD_SIZE_2M
#define PG   PAGE_SIZE_4K
#define BASE (0x7f0000000000ULL)
#define P    PM_CAT_PRESENT
#define H    PM_CAT_HUGE
#define Z    PM_CAT_PFNZERO
#define F    PM_CAT_FILE
#define NPMD 4

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

static void fold(const struct pm_region *r, size_t n, struct pmd_stat *out)
{
	/* Garbage first: pmd_fold must zero out[]. */
	memset(out, 0xa5, NPMD * sizeof(*out));
	pmd_fold(r, n, BASE, BASE + NPMD * M2, out);
}

static void test_fold_empty(void **state)
{
	struct pmd_stat out[NPMD];

	fold(NULL, 0, out);
	for (int i = 0; i < NPMD; i++) {
		assert_int_equal(out[i].present, 0);
		assert_false(out[i].huge);
	}
}

static void test_fold_unaligned(void **state)
{
	const struct pm_region r[] = {
	    {BASE + PG, BASE + 3 * PG, P},			   /* PMD0: 2 pages */
	    {BASE + 10 * PG, BASE + 11 * PG, P | F},		   /* PMD0: file page counts */
	    {BASE + M2 + 511 * PG, BASE + 2 * M2, P},		   /* PMD1: last page */
	    {BASE + 3 * M2 + 7 * PG, BASE + 3 * M2 + 107 * PG, P}, /* PMD3: 100 pages */
	};
	struct pmd_stat out[NPMD];

	fold(r, ARRAY_SIZE(r), out);
	assert_int_equal(out[0].present, 3);
	assert_int_equal(out[1].present, 1);
	assert_int_equal(out[2].present, 0);
	assert_int_equal(out[3].present, 100);
	for (int i = 0; i < NPMD; i++)
		assert_false(out[i].huge);
}

static void test_fold_multi_pmd(void **state)
{
	/* One region from the last page of PMD0 to the first page of PMD3. */
	const struct pm_region r[] = {{BASE + M2 - PG, BASE + 3 * M2 + PG, P}};
	struct pmd_stat out[NPMD];

	fold(r, ARRAY_SIZE(r), out);
	assert_int_equal(out[0].present, 1);
	assert_int_equal(out[1].present, 512);
	assert_int_equal(out[2].present, 512);
	assert_int_equal(out[3].present, 1);
	/* Fully present but not HUGE: not huge. */
	assert_false(out[1].huge);
	assert_false(out[2].huge);
}

static void test_fold_outside_range(void **state)
{
	const struct pm_region r[] = {
	    {BASE - 4 * M2, BASE - M2, P | H},	    /* before */
	    {BASE - PG, BASE + 2 * PG, P},	    /* straddles start */
	    {BASE + 4 * M2 - PG, BASE + 5 * M2, P}, /* straddles end */
	    {BASE + 8 * M2, BASE + 10 * M2, P | H}, /* after */
	};
	struct pmd_stat out[NPMD];

	fold(r, ARRAY_SIZE(r), out);
	assert_int_equal(out[0].present, 2);
	assert_int_equal(out[1].present, 0);
	assert_int_equal(out[2].present, 0);
	assert_int_equal(out[3].present, 1);
}

static void test_fold_pfnzero(void **state)
{
	const struct pm_region r[] = {
	    {BASE, BASE + 100 * PG, P | Z},	   /* PTE zero pages */
	    {BASE + 100 * PG, BASE + 104 * PG, P}, /* 4 real pages */
	    {BASE + M2, BASE + 2 * M2, P | H | Z}, /* huge zero page */
	    {BASE + 2 * M2, BASE + 3 * M2, Z},	   /* not even present */
	    {BASE + 3 * M2, BASE + 4 * M2, H},	   /* huge but not present */
	};
	struct pmd_stat out[NPMD];

	fold(r, ARRAY_SIZE(r), out);
	assert_int_equal(out[0].present, 4);
	assert_int_equal(out[1].present, 0);
	assert_false(out[1].huge);
	assert_int_equal(out[2].present, 0);
	assert_int_equal(out[3].present, 0);
	assert_false(out[3].huge);
}

static void test_fold_huge(void **state)
{
	const struct pm_region r[] = {
	    {BASE, BASE + 2 * M2, P | H},			/* two THPs merged */
	    {BASE + 2 * M2, BASE + 2 * M2 + M2 / 2, P | H},	/* half a PMD only */
	    {BASE + 3 * M2, BASE + 3 * M2 + M2 / 2, P | H},	/* two pieces that */
	    {BASE + 3 * M2 + M2 / 2, BASE + 4 * M2, P | H | F}, /* cover PMD3 */
	};
	struct pmd_stat out[NPMD];

	fold(r, ARRAY_SIZE(r), out);
	assert_true(out[0].huge);
	assert_int_equal(out[0].present, 512);
	assert_true(out[1].huge);
	assert_int_equal(out[1].present, 512);
	assert_false(out[2].huge);
	assert_int_equal(out[2].present, 256);
	assert_true(out[3].huge);
	assert_int_equal(out[3].present, 512);
}

static void test_fold_huge_plus_small(void **state)
{
	/* Half huge, half small pages: present but not huge. */
	const struct pm_region r[] = {
	    {BASE, BASE + M2 / 2, P | H},
	    {BASE + M2 / 2, BASE + M2, P},
	};
	struct pmd_stat out[NPMD];

	fold(r, ARRAY_SIZE(r), out);
	assert_int_equal(out[0].present, 512);
	assert_false(out[0].huge);
}

static void test_fold_bogus(void **state)
{
	/* Overlapping / unsorted input must not overflow present. */
	const struct pm_region r[] = {
	    {BASE, BASE + M2, P},
	    {BASE, BASE + M2, P},
	    {BASE + 5 * M2, BASE + 3 * M2, P}, /* end < start */
	    {BASE + 100, BASE + 200, P},       /* sub-page: rounds to 1 page */
	};
	struct pmd_stat out[NPMD];

	fold(r, ARRAY_SIZE(r), out);
	assert_int_equal(out[0].present, 512);
	assert_int_equal(out[3].present, 0);

	/* Unaligned range: nothing written, no crash. */
	memset(out, 0x5a, sizeof(out));
	pmd_fold(r, ARRAY_SIZE(r), BASE + PG, BASE + 2 * M2, out);
	assert_int_equal(out[0].present, 0x5a5a);
}

/* ---- real memory -------------------------------------------------------- */

enum {
	R_FULL,	    /* all 512 pages written */
	R_EIGHT,    /* 8 pages written */
	R_NONE,	    /* untouched */
	R_COLLAPSE, /* written, then MADV_COLLAPSE */
	R_READ,	    /* 16 pages read: PTE zero page */
	R_HUGEZERO, /* MADV_HUGEPAGE, read: huge zero page */
	R_ALT0,	    /* every other page written (3 PMDs -> 768 regions, */
	R_ALT1,	    /*   more than one PAGEMAP_SCAN vector of 512) */
	R_ALT2,
	R_HOLE, /* unmapped */
	R_NPMD
};

struct real {
	char *p;
	int fd;
	bool collapsed;
	bool hugezero;
	bool zero_page; /* read faults map the shared zero page */
};

/*
 * Some kernels never map the zero page (a VM host's pvm_no_zero_page=1 on
 * this project's own build machines): a read fault then allocates a real,
 * exclusive page, which is resident memory like any other. smaps' Rss of
 * the read-only PMD tells: the zero page is not counted there.
 */
static bool read_maps_zero_page(const char *addr)
{
	char line[256];
	unsigned long start, end, rss_kb;
	bool in = false, zero = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			in = start <= (unsigned long)(uintptr_t)addr &&
			     (unsigned long)(uintptr_t)addr < end;
		else if (in && sscanf(line, "Rss: %lu kB", &rss_kb) == 1)
			zero = rss_kb == 0;
	}
	fclose(f);
	return zero;
}

static void nohuge(char *p, size_t len)
{
	/* So that "always" THP mode cannot turn the small-page PMDs huge. */
	assert_int_equal(madvise(p, len, MADV_NOHUGEPAGE), 0);
}

static int setup_real(void **state)
{
	struct real *r = calloc(1, sizeof(*r));
	size_t len = R_NPMD * M2;
	char *raw, *p;
	volatile char sink = 0;
	uintptr_t a;
	int fd;

	assert_non_null(r);
	raw = mmap(NULL, len + M2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(raw != MAP_FAILED);
	a = ((uintptr_t)raw + M2 - 1) & ~(uintptr_t)(M2 - 1);
	p = (char *)a;
	if (p > raw)
		munmap(raw, (size_t)(p - raw));
	munmap(p + len, (size_t)((raw + len + M2) - (p + len)));

	nohuge(p + R_FULL * M2, 3 * M2);
	nohuge(p + R_READ * M2, M2);
	nohuge(p + R_ALT0 * M2, 3 * M2);
	assert_int_equal(madvise(p + R_HUGEZERO * M2, M2, MADV_HUGEPAGE), 0);
	assert_int_equal(munmap(p + R_HOLE * M2, M2), 0);

	for (size_t i = 0; i < PAGES_PER_PMD; i++)
		p[R_FULL * M2 + i * PG] = 1;
	for (size_t i = 0; i < 8; i++)
		p[R_EIGHT * M2 + i * PG] = 1;
	for (size_t i = 0; i < PAGES_PER_PMD; i++)
		p[R_COLLAPSE * M2 + i * PG] = 1;
	for (size_t i = 0; i < 16; i++)
		sink += p[R_READ * M2 + i * PG];
	sink += p[R_HUGEZERO * M2];
	for (size_t i = 0; i < 3 * PAGES_PER_PMD; i += 2)
		p[R_ALT0 * M2 + i * PG] = 1;
	(void)sink;

	r->zero_page = read_maps_zero_page(p + R_READ * M2);
	if (!r->zero_page)
		print_message("read faults map real pages here (no zero page): "
			      "checking them as present\n");
	r->collapsed = madvise(p + R_COLLAPSE * M2, M2, MADV_COLLAPSE) == 0;
	if (!r->collapsed)
		print_message("MADV_COLLAPSE failed (%s): skipping the huge assertion\n",
			      strerror(errno));

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	r->p = p;
	r->fd = fd;
	*state = r;
	return 0;
}

static int teardown_real(void **state)
{
	struct real *r = *state;

	close(r->fd);
	munmap(r->p, R_NPMD * M2);
	free(r);
	return 0;
}

static bool huge_zero_page_enabled(void)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/use_zero_page", "r");
	int v = 0;

	if (!f)
		return false;
	if (fscanf(f, "%d", &v) != 1)
		v = 0;
	fclose(f);
	return v == 1;
}

static void test_real_scan(void **state)
{
	struct real *r = *state;
	struct pmd_stat out[R_NPMD];
	uint64_t start = (uint64_t)(uintptr_t)r->p;
	bool scan = false;

	memset(out, 0xff, sizeof(out));
	assert_int_equal(pagemap_pmd_stats(r->fd, start, start + R_NPMD * M2, true, out, &scan), 0);
	if (!scan)
		SKIP(); /* pre-6.7 kernel: covered by the fallback test */

	assert_int_equal(out[R_FULL].present, 512);
	assert_false(out[R_FULL].huge);
	assert_int_equal(out[R_EIGHT].present, 8);
	assert_false(out[R_EIGHT].huge);
	assert_int_equal(out[R_NONE].present, 0);
	assert_false(out[R_NONE].huge);
	assert_int_equal(out[R_COLLAPSE].present, 512);
	if (r->collapsed)
		assert_true(out[R_COLLAPSE].huge);
	/* Zero-page mappings are not present, huge or not. */
	assert_int_equal(out[R_READ].present, r->zero_page ? 0 : 16);
	assert_false(out[R_READ].huge);
	if (huge_zero_page_enabled() && r->zero_page) {
		assert_int_equal(out[R_HUGEZERO].present, 0);
		assert_false(out[R_HUGEZERO].huge);
	}
	assert_int_equal(out[R_ALT0].present, 256);
	assert_int_equal(out[R_ALT1].present, 256);
	assert_int_equal(out[R_ALT2].present, 256);
	assert_int_equal(out[R_HOLE].present, 0);
	assert_false(out[R_HOLE].huge);

	/* A sub-range starting at the collapsed PMD. */
	memset(out, 0xff, sizeof(out));
	assert_int_equal(pagemap_pmd_stats(r->fd, start + R_COLLAPSE * M2,
					   start + (R_COLLAPSE + 1) * M2, true, out, &scan),
			 0);
	assert_int_equal(out[0].present, 512);
	if (r->collapsed)
		assert_true(out[0].huge);
	assert_int_equal(out[1].present, 0xffff); /* beyond the range: untouched */

	/* Empty range, unaligned ranges. */
	assert_int_equal(pagemap_pmd_stats(r->fd, start, start, true, out, &scan), 0);
	assert_int_equal(pagemap_pmd_stats(r->fd, start + PG, start + M2, true, out, &scan),
			 -EINVAL);
	assert_int_equal(pagemap_pmd_stats(r->fd, start, start + PG, true, out, &scan), -EINVAL);
	assert_int_equal(pagemap_pmd_stats(r->fd, start + M2, start, true, out, &scan), -EINVAL);
	assert_int_equal(pagemap_pmd_stats(-1, start, start + M2, true, out, &scan), -EBADF);
}

static void test_real_pread(void **state)
{
	struct real *r = *state;
	struct pmd_stat out[R_NPMD];
	uint64_t start = (uint64_t)(uintptr_t)r->p;

	memset(out, 0xff, sizeof(out));
	assert_int_equal(pagemap_pmd_stats_pread(r->fd, start, start + R_NPMD * M2, true, out), 0);
	for (int i = 0; i < R_NPMD; i++)
		assert_false(out[i].huge);
	assert_int_equal(out[R_FULL].present, 512);
	assert_int_equal(out[R_EIGHT].present, 8);
	assert_int_equal(out[R_NONE].present, 0);
	assert_int_equal(out[R_COLLAPSE].present, 512);
	/* Zero-page entries lack PM_MMAP_EXCLUSIVE: not present. */
	assert_int_equal(out[R_READ].present, r->zero_page ? 0 : 16);
	if (r->zero_page)
		assert_int_equal(out[R_HUGEZERO].present, 0);
	assert_int_equal(out[R_ALT0].present, 256);
	assert_int_equal(out[R_ALT1].present, 256);
	assert_int_equal(out[R_ALT2].present, 256);
	assert_int_equal(out[R_HOLE].present, 0);

	assert_int_equal(pagemap_pmd_stats_pread(r->fd, start + PG, start + M2, true, out),
			 -EINVAL);
}

/*
 * The fallback through pagemap_pmd_stats itself: a memfd holding fake
 * pagemap entries. PAGEMAP_SCAN on it fails with ENOTTY, so the fallback
 * must kick in and read the entries.
 */
static void test_fallback_fake_pagemap(void **state)
{
	/* Addresses 0..4 MiB: entries 0..1023; the file ends inside PMD1. */
	uint64_t ent[PAGES_PER_PMD + 100];
	struct pmd_stat out[3];
	bool scan = true;
	int fd;

	memset(ent, 0, sizeof(ent));
	for (int i = 0; i < 10; i++) /* present, exclusive */
		ent[i] = (1ULL << 63) | (1ULL << 56) | (uint64_t)(1000 + i);
	ent[20] = 1ULL << 62;		       /* swapped: not present */
	ent[30] = (1ULL << 61) | (1ULL << 55); /* file/shared, soft-dirty */
	ent[40] = 1ULL << 63;		       /* present, not exclusive: zero page */
	ent[41] = (1ULL << 63) | (1ULL << 61) | (1ULL << 56); /* a file page */
	for (int i = 0; i < 100; i++)
		ent[PAGES_PER_PMD + i] = (1ULL << 63) | (1ULL << 56);

	fd = memfd_create("fake-pagemap", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, ent, sizeof(ent)), (ssize_t)sizeof(ent));

	memset(out, 0xff, sizeof(out));
	assert_int_equal(pagemap_pmd_stats(fd, 0, 3 * M2, true, out, &scan), 0);
	assert_false(scan);
	assert_int_equal(out[0].present, 10);
	assert_int_equal(out[1].present, 100);
	assert_int_equal(out[2].present, 0); /* past EOF */
	for (int i = 0; i < 3; i++)
		assert_false(out[i].huge);

	/* Same through the exported fallback, from an offset. */
	memset(out, 0xff, sizeof(out));
	assert_int_equal(pagemap_pmd_stats_pread(fd, M2, 2 * M2, true, out), 0);
	assert_int_equal(out[0].present, 100);
	assert_int_equal(out[1].present, 0xffff);

	/* Shmem (not anon): every present entry counts. */
	assert_int_equal(pagemap_pmd_stats_pread(fd, 0, M2, false, out), 0);
	assert_int_equal(out[0].present, 12);
	close(fd);
}

/* ---- pmd_infer_huge: the fallback's huge/split reckoning ---------------- */

#define INF_N 6

static void infer(const uint16_t present[INF_N], uint64_t huge_chunks, const bool *believed,
		  struct pmd_stat out[INF_N], struct huge_inference *inf)
{
	for (int i = 0; i < INF_N; i++)
		out[i] = (struct pmd_stat){.present = present[i], .huge = true, .maybe_huge = true};
	pmd_infer_huge(out, INF_N, huge_chunks * M2, believed, inf);
}

static void test_infer_huge(void **state)
{
	/* chunks 0-3 full, 4 sparse, 5 empty */
	const uint16_t present[INF_N] = {512, 512, 512, 512, 100, 0};
	const bool k01[INF_N] = {true, true, false, false, false, false};
	const bool k0134[INF_N] = {true, true, false, true, true, false};
	struct pmd_stat out[INF_N];
	struct huge_inference inf;

	(void)state;
	/* Nothing huge: nothing marked, believed ones all split (merge counts). */
	infer(present, 0, k01, out, &inf);
	for (int i = 0; i < INF_N; i++)
		assert_false(out[i].huge || out[i].maybe_huge);
	assert_int_equal(inf.huge + inf.maybe + inf.splits, 0);

	/* As many huge as full chunks: all full ones, whatever was believed. */
	infer(present, 4, NULL, out, &inf);
	for (int i = 0; i < 4; i++)
		assert_true(out[i].huge && !out[i].maybe_huge);
	assert_false(out[4].huge || out[5].huge);
	assert_int_equal(inf.huge, 4);

	/* Exactly the believed ones: steady state. */
	infer(present, 2, k01, out, &inf);
	assert_true(out[0].huge && out[1].huge);
	assert_false(out[2].huge || out[2].maybe_huge || out[3].huge || out[3].maybe_huge);
	assert_int_equal(inf.huge, 2);
	assert_int_equal(inf.maybe, 0);
	assert_int_equal(inf.splits, 0);

	/* One more than believed: believed are huge, the other full ones maybe. */
	infer(present, 3, k01, out, &inf);
	assert_true(out[0].huge && out[1].huge);
	assert_true(out[2].maybe_huge && out[3].maybe_huge);
	assert_int_equal(inf.maybe, 2);
	assert_int_equal(inf.splits, 0);

	/* One fewer than believed (4 is believed but sparse: not counted in K,
	 * the merge sees it split): one of 0, 1, 3 split, unknown which. */
	infer(present, 2, k0134, out, &inf);
	assert_true(out[0].maybe_huge && out[1].maybe_huge && out[3].maybe_huge);
	assert_false(out[0].huge || out[2].maybe_huge || out[4].maybe_huge || out[4].huge);
	assert_int_equal(inf.splits, 1);
	assert_int_equal(inf.maybe, 3);
}

/*
 * No argument: all tests. "pure" or "kernel": that group only; the kernel
 * group needs the PAGEMAP_SCAN ioctl (Linux 6.7+). 77 (a skip, for meson)
 * when a test skipped and none failed.
 */
int main(int argc, char **argv)
{
	const struct CMUnitTest pure[] = {
	    cmocka_unit_test(test_fold_empty),
	    cmocka_unit_test(test_fold_unaligned),
	    cmocka_unit_test(test_fold_multi_pmd),
	    cmocka_unit_test(test_fold_outside_range),
	    cmocka_unit_test(test_fold_pfnzero),
	    cmocka_unit_test(test_fold_huge),
	    cmocka_unit_test(test_fold_huge_plus_small),
	    cmocka_unit_test(test_fold_bogus),
	    cmocka_unit_test_setup_teardown(test_real_pread, setup_real, teardown_real),
	    cmocka_unit_test(test_fallback_fake_pagemap),
	    cmocka_unit_test(test_infer_huge),
	};
	const struct CMUnitTest kernel[] = {
	    cmocka_unit_test_setup_teardown(test_real_scan, setup_real, teardown_real),
	};
	return KERNEL_GROUPS_RUN(argc, argv, pure, kernel);
}
