/* SPDX-License-Identifier: MIT */
/*
 * A target's chunk table: the 2 MiB chunks the last scan found, each with
 * its retry state. Merging a new scan keeps the state of chunks that are
 * still there and notices collapses that the kernel split again. Pure.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "retry.h"
#include "scan.h"

/* A chunk split back this many times after a collapse backs off for
 * SPLIT_BACKOFF_USEC, doubling with each further split up to 32x (allocators
 * such as jemalloc split huge pages when they free parts of them). */
#define CHUNK_MAX_SPLITS   3
#define SPLIT_BACKOFF_USEC (60 * 1000000ULL)

/* The wait after the n-th split (n >= CHUNK_MAX_SPLITS). Pure. */
uint64_t split_backoff_usec(uint16_t splits);

struct chunk {
	uint64_t addr;
	uint32_t area; /* index into the table's areas */
	uint16_t present;
	uint16_t splits;
	uint32_t hot_bp; /* hotness of this chunk (manager-hotness.c), basis points */
	bool in_flight;
	bool maybe_huge; /* pagemap fallback: may be huge already (pmd_infer_huge) */
	struct chunk_retry retry;
};

struct chunk_table {
	struct scan_area *areas;
	size_t n_areas;
	struct chunk *chunks; /* sorted by addr */
	size_t n_chunks;
	/* What the last scan left out, for thpctl why (sorted by address) */
	struct scan_skipped *skipped; /* mappings without a candidate area */
	size_t n_skipped;
	struct scan_sparse *sparse; /* chunks below min_present */
	size_t n_sparse;
};

struct merge_stats {
	size_t confirmed; /* collapsed earlier, huge now */
	size_t split;	  /* collapsed earlier, no longer huge */
	size_t dropped;	  /* no longer a candidate (unmapped, sparse, ineligible) */
};

/* Signature of the area a chunk lies in, as used by retry_due(). */
struct area_sig chunk_area_sig(const struct chunk_table *t, const struct chunk *c);

/*
 * Replace t's areas and chunks by the scan's (areas/chunks are copied),
 * carrying retry state by address when the chunk's area kept its bounds (a
 * chunk in a remapped, split or moved area starts afresh). Returns 0 or
 * -ENOMEM (t unchanged).
 */
int chunk_table_merge(struct chunk_table *t, uint64_t now, const struct scan_area *areas,
		      size_t n_areas, const struct scan_chunk *chunks, size_t n_chunks,
		      struct merge_stats *ms);

/* The addresses of the chunks in state huge, sorted (*ret NULL if none; the
 * caller frees it). Returns 0 or -ENOMEM. */
int chunk_table_huge_addrs(const struct chunk_table *t, uint64_t **ret, size_t *n);

/* Replace the notes of what the last scan left out; takes ownership of the
 * arrays (freed by the next call or chunk_table_free). */
void chunk_table_set_notes(struct chunk_table *t, struct scan_skipped *skipped, size_t n_skipped,
			   struct scan_sparse *sparse, size_t n_sparse);

/* The sparse chunk at addr, or NULL. */
const struct scan_sparse *chunk_table_find_sparse(const struct chunk_table *t, uint64_t addr);

/* The skipped mapping holding addr, or NULL. */
const struct scan_skipped *chunk_table_find_skipped(const struct chunk_table *t, uint64_t addr);

/* The candidate area holding addr, or NULL. */
const struct scan_area *chunk_table_find_area(const struct chunk_table *t, uint64_t addr);

/* Binary search by address; NULL if absent. */
struct chunk *chunk_table_find(struct chunk_table *t, uint64_t addr);

void chunk_table_free(struct chunk_table *t);
