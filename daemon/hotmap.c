/* SPDX-License-Identifier: MIT */
/* Hotness below the mapping: chunk scores from scored address ranges. Pure. */
#include <stdlib.h>

#include "hotmap.h"

#define CHUNK_BYTES (2ULL << 20)
#define BP_MAX	    10000U

/* Index of the first region whose end lies above addr (binary search). */
static size_t first_ending_after(const struct hot_region *r, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint32_t hotmap_chunk_bp(const struct hot_region *regions, size_t n, uint64_t addr)
{
	uint64_t end = addr + CHUNK_BYTES, weighted = 0;

	for (size_t i = first_ending_after(regions, n, addr); i < n && regions[i].start < end;
	     i++) {
		uint64_t lo = regions[i].start > addr ? regions[i].start : addr;
		uint64_t hi = regions[i].end < end ? regions[i].end : end;
		if (hi > lo)
			weighted += (hi - lo) *
				    (regions[i].score_bp > BP_MAX ? BP_MAX : regions[i].score_bp);
	}
	return (uint32_t)(weighted / CHUNK_BYTES);
}

uint32_t hotmap_damon_bp(uint32_t nr_accesses, uint32_t max_accesses)
{
	if (max_accesses == 0)
		return 0;
	if (nr_accesses >= max_accesses)
		return BP_MAX;
	return (uint32_t)((uint64_t)nr_accesses * BP_MAX / max_accesses);
}

bool hotmap_has_signal(const struct hot_region *regions, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (regions[i].score_bp > 0)
			return true;
	return false;
}

static int cmp_start(const void *a, const void *b)
{
	const struct hot_region *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

void hotmap_sort(struct hot_region *regions, size_t n)
{
	if (n > 1)
		qsort(regions, n, sizeof(*regions), cmp_start);
}
