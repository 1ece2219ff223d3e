/* SPDX-License-Identifier: MIT */
/*
 * The pure helpers behind the scan and the collapse worker. Input layout:
 *   byte 0, bit 0 = 0: pmd_fold. Bytes 1..8: start (little-endian, rounded
 *     down to 2 MiB; byte 0 bit 1 makes it unaligned, which must leave out[]
 *     alone), byte 9: number of PMDs (% 65); the rest: struct pm_region
 *     records (24 bytes each, raw: unsorted, overlapping, reversed...).
 *   byte 0, bit 0 = 1: maps_covers. Bytes 1..8: start, 9..16: end; the rest:
 *     /proc/PID/maps text (not NUL-terminated).
 *
 * pmd_fold is checked twice: on the raw records (robustness: present never
 * above 512, huge only on a full PMD), and on the records made canonical the
 * way the kernel reports them (page-aligned, sorted, non-overlapping) against
 * a page-by-page model.
 */
#include <string.h>

#include "collapse.h"
#include "fuzz.h"
#include "pagemap.h"
#include "util.h"

#define MAX_PMDS 64

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static int cmp_region(const void *a, const void *b)
{
	const struct pm_region *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

/* Page-aligned (outwards), inside [start, end), sorted, non-overlapping. */
static size_t canonicalize(struct pm_region *r, size_t n, uint64_t start, uint64_t end)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t a = MAX(r[i].start, start), b = MIN(r[i].end, end);

		if (a >= b)
			continue;
		a &= ~(PAGE_SIZE_4K - 1);
		b = (b + PAGE_SIZE_4K - 1) &
		    ~(PAGE_SIZE_4K - 1); /* end is 2 MiB aligned: no wrap */
		r[k++] = (struct pm_region){a, b, r[i].categories};
	}
	qsort(r, k, sizeof(*r), cmp_region);
	for (size_t i = 1; i < k; i++) {
		if (r[i].start < r[i - 1].end)
			r[i].start = r[i - 1].end;
		if (r[i].end < r[i].start)
			r[i].end = r[i].start;
	}
	return k;
}

static void check_model(const struct pm_region *r, size_t n, uint64_t start, size_t npmd,
			const struct pmd_stat *out)
{
	uint16_t present[MAX_PMDS] = {0}, huge[MAX_PMDS] = {0};

	for (size_t i = 0; i < n; i++) {
		bool p = (r[i].categories & PM_CAT_PRESENT) && !(r[i].categories & PM_CAT_PFNZERO);
		bool h = p && (r[i].categories & PM_CAT_HUGE);

		for (uint64_t a = r[i].start; p && a < r[i].end; a += PAGE_SIZE_4K) {
			size_t idx = (size_t)((a - start) / PMD_SIZE_2M);

			present[idx]++;
			huge[idx] += h;
		}
	}
	for (size_t i = 0; i < npmd; i++) {
		fuzz_check(out[i].present == present[i]);
		fuzz_check(out[i].huge == (huge[i] == PAGES_PER_PMD));
	}
}

static void fuzz_fold(const uint8_t *data, size_t size)
{
	uint64_t start, end;
	size_t npmd, n;
	struct pm_region *regions;
	struct pmd_stat *out;
	bool unaligned;

	if (size < 10)
		return;
	unaligned = data[0] & 2;
	start = le64(data + 1) & ~(PMD_SIZE_2M - 1);
	npmd = data[9] % (MAX_PMDS + 1);
	/* The last PMD of the address space ends at 2^64: not representable. */
	if (npmd > (UINT64_MAX - start) / PMD_SIZE_2M)
		npmd = (size_t)((UINT64_MAX - start) / PMD_SIZE_2M);
	end = start + npmd * PMD_SIZE_2M;
	data += 10;
	size -= 10;
	n = size / sizeof(struct pm_region);
	regions = malloc(n ? n * sizeof(*regions) : 1);
	out = malloc(npmd ? npmd * sizeof(*out) : 1);
	fuzz_check(regions && out);
	memcpy(regions, data, n * sizeof(*regions));

	if (unaligned) {
		memset(out, 0xa5, npmd * sizeof(*out));
		pmd_fold(regions, n, start + PAGE_SIZE_4K, end, out);
		for (size_t i = 0; i < npmd * sizeof(*out); i++)
			fuzz_check(((const uint8_t *)out)[i] == 0xa5);
		goto done;
	}

	pmd_fold(regions, n, start, end, out);
	for (size_t i = 0; i < npmd; i++)
		fuzz_check(out[i].present <= PAGES_PER_PMD &&
			   (!out[i].huge || out[i].present == PAGES_PER_PMD));

	n = canonicalize(regions, n, start, end);
	pmd_fold(regions, n, start, end, out);
	check_model(regions, n, start, npmd, out);
done:
	free(out);
	free(regions);
}

static void fuzz_covers(const uint8_t *data, size_t size)
{
	uint64_t start, end;

	if (size < 17)
		return;
	start = le64(data + 1);
	end = le64(data + 9);
	(void)maps_covers((const char *)data + 17, size - 17, start, end);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_covers(data, size);
	else
		fuzz_fold(data, size);
	return 0;
}
