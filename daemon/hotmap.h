/* SPDX-License-Identifier: MIT */
/*
 * Hotness below the mapping: a target's memory as address ranges, each with
 * an access score, as a hotness source measured it (DAMON's regions, or one
 * range per area for refs), and the score of one 2 MiB chunk read off them.
 * Pure.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hot_region {
	uint64_t start, end; /* [start, end) */
	uint32_t score_bp;   /* access frequency in basis points of the source's maximum */
};

/*
 * The score of the 2 MiB chunk at addr: the average of the scores of the
 * regions over the chunk's bytes, weighted by overlap (bytes no region
 * covers count as 0). regions must be sorted by start and not overlap.
 */
uint32_t hotmap_chunk_bp(const struct hot_region *regions, size_t n, uint64_t addr);

/*
 * DAMON's nr_accesses (0..max_accesses, the samples of one aggregation
 * interval that found the region accessed) as a score in basis points.
 */
uint32_t hotmap_damon_bp(uint32_t nr_accesses, uint32_t max_accesses);

/* Does any region have a non-zero score? A snapshot where none has is no
 * signal (a monitor that has not seen a full window yet), not "all cold". */
bool hotmap_has_signal(const struct hot_region *regions, size_t n);

/* Sort regions by start (in place). */
void hotmap_sort(struct hot_region *regions, size_t n);
