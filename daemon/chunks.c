/* SPDX-License-Identifier: MIT */
#include "chunks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct area_sig chunk_area_sig(const struct chunk_table *t, const struct chunk *c)
{
	const struct scan_area *a = &t->areas[c->area];

	return (struct area_sig){
	    .start = a->start, .end = a->end, .flags = a->flags, .resident = a->resident};
}

struct chunk *chunk_table_find(struct chunk_table *t, uint64_t addr)
{
	size_t lo = 0, hi = t->n_chunks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->chunks[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo < t->n_chunks && t->chunks[lo].addr == addr) ? &t->chunks[lo] : NULL;
}

/*
 * Retry state belongs to the memory, not the address: when the chunk's area
 * (VMA) has other bounds now, it was unmapped and mapped again, split by
 * mprotect or moved by mremap, and the chunk starts afresh.
 */
static bool same_area(const struct scan_area *old, const struct scan_area *now)
{
	return old->start == now->start && old->end == now->end;
}

uint64_t split_backoff_usec(uint16_t splits)
{
	unsigned extra = splits > CHUNK_MAX_SPLITS ? splits - CHUNK_MAX_SPLITS : 0;

	return SPLIT_BACKOFF_USEC << MIN(extra, 5u);
}

static void carry_over(struct chunk *nc, const struct chunk *old, const struct scan_chunk *sc,
		       const struct area_sig *sig, uint64_t now, struct merge_stats *ms)
{
	nc->retry = old->retry;
	nc->splits = old->splits;
	nc->in_flight = old->in_flight;
	if (old->retry.state != CHUNK_HUGE)
		return;
	if (sc->huge) {
		ms->confirmed++;
		return;
	}
	if (sc->maybe_huge) {
		/* Huge or split, the scan cannot tell (its area counts the
		 * splits): collapse it again to find out. */
		nc->retry.state = CHUNK_CANDIDATE;
		nc->retry.attempts = 0;
		return;
	}
	/* Success is a snapshot: the kernel or the allocator split it again. */
	ms->split++;
	nc->splits++;
	nc->retry.state = CHUNK_CANDIDATE;
	nc->retry.attempts = 0;
	/* It keeps being split (or replaced): wait longer each time rather
	 * than collapsing it forever, and rather than never again. */
	if (nc->splits >= CHUNK_MAX_SPLITS) {
		nc->retry.state = CHUNK_BACKOFF;
		nc->retry.next_usec = now + split_backoff_usec(nc->splits);
		nc->retry.sig = *sig;
	}
}

int chunk_table_merge(struct chunk_table *t, uint64_t now, const struct scan_area *areas,
		      size_t n_areas, const struct scan_chunk *chunks, size_t n_chunks,
		      struct merge_stats *ms)
{
	struct scan_area *na = NULL;
	struct chunk *nc = NULL;
	size_t j = 0;

	memset(ms, 0, sizeof(*ms));
	if (n_areas && !(na = malloc(n_areas * sizeof(*na))))
		return -ENOMEM;
	if (n_chunks && !(nc = calloc(n_chunks, sizeof(*nc)))) {
		free(na);
		return -ENOMEM;
	}
	if (n_areas)
		memcpy(na, areas, n_areas * sizeof(*na));

	for (size_t i = 0; i < n_chunks; i++) {
		const struct scan_chunk *sc = &chunks[i];
		struct chunk *c = &nc[i];
		*c = (struct chunk){.addr = sc->addr,
				    .area = sc->area,
				    .present = sc->present,
				    .maybe_huge = sc->maybe_huge};
		c->retry.state = sc->huge ? CHUNK_HUGE : CHUNK_CANDIDATE;

		while (j < t->n_chunks && t->chunks[j].addr < sc->addr) {
			ms->dropped++;
			j++;
		}
		if (j < t->n_chunks && t->chunks[j].addr == sc->addr &&
		    same_area(&t->areas[t->chunks[j].area], &na[sc->area])) {
			const struct scan_area *a = &na[sc->area];
			struct area_sig sig = {a->start, a->end, a->flags, a->resident};
			carry_over(c, &t->chunks[j], sc, &sig, now, ms);
			if (sc->huge)
				c->retry.state = CHUNK_HUGE;
			j++;
		}
	}
	ms->dropped += t->n_chunks - j;
	for (size_t i = 0; i < n_areas; i++)
		ms->split += areas[i].inferred_splits;
	free(t->areas);
	free(t->chunks);
	t->areas = na;
	t->n_areas = n_areas;
	t->chunks = nc;
	t->n_chunks = n_chunks;
	return 0;
}

int chunk_table_huge_addrs(const struct chunk_table *t, uint64_t **ret, size_t *n)
{
	size_t k = 0;

	*ret = NULL;
	*n = 0;
	for (size_t i = 0; i < t->n_chunks; i++)
		k += t->chunks[i].retry.state == CHUNK_HUGE;
	if (k == 0)
		return 0;
	if (!(*ret = malloc(k * sizeof(**ret))))
		return -ENOMEM;
	for (size_t i = 0; i < t->n_chunks; i++)
		if (t->chunks[i].retry.state == CHUNK_HUGE)
			(*ret)[(*n)++] = t->chunks[i].addr;
	return 0;
}

void chunk_table_set_notes(struct chunk_table *t, struct scan_skipped *skipped, size_t n_skipped,
			   struct scan_sparse *sparse, size_t n_sparse)
{
	free(t->skipped);
	free(t->sparse);
	t->skipped = skipped;
	t->n_skipped = n_skipped;
	t->sparse = sparse;
	t->n_sparse = n_sparse;
}

const struct scan_sparse *chunk_table_find_sparse(const struct chunk_table *t, uint64_t addr)
{
	size_t lo = 0, hi = t->n_sparse;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->sparse[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo < t->n_sparse && t->sparse[lo].addr == addr) ? &t->sparse[lo] : NULL;
}

const struct scan_skipped *chunk_table_find_skipped(const struct chunk_table *t, uint64_t addr)
{
	for (size_t i = 0; i < t->n_skipped; i++)
		if (t->skipped[i].start <= addr && addr < t->skipped[i].end)
			return &t->skipped[i];
	return NULL;
}

const struct scan_area *chunk_table_find_area(const struct chunk_table *t, uint64_t addr)
{
	for (size_t i = 0; i < t->n_areas; i++)
		if (t->areas[i].start <= addr && addr < t->areas[i].end)
			return &t->areas[i];
	return NULL;
}

void chunk_table_free(struct chunk_table *t)
{
	free(t->areas);
	free(t->chunks);
	free(t->skipped);
	free(t->sparse);
	memset(t, 0, sizeof(*t));
}
