/* SPDX-License-Identifier: MIT */
/* Rank candidate chunks hot-first and cut the list to a byte budget. Pure. */
#include <stdlib.h>

#include "plan.h"

#define CHUNK_BYTES (2ULL << 20)

static int cmp_item(const void *a, const void *b)
{
	const struct plan_item *x = a, *y = b;

	if (x->hot_bp != y->hot_bp)
		return x->hot_bp > y->hot_bp ? -1 : 1;
	if (x->present != y->present)
		return x->present > y->present ? -1 : 1;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return 0;
}

void plan_rank(struct plan_item *items, size_t n)
{
	if (n > 1)
		qsort(items, n, sizeof(*items), cmp_item);
}

size_t plan_fit(size_t n, uint64_t budget_bytes, uint64_t huge_room_bytes)
{
	uint64_t fit = budget_bytes / CHUNK_BYTES;

	if (huge_room_bytes / CHUNK_BYTES < fit)
		fit = huge_room_bytes / CHUNK_BYTES;
	return fit < (uint64_t)n ? (size_t)fit : n;
}
