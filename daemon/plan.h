/* SPDX-License-Identifier: MIT */
/* Rank candidate chunks hot-first and cut the list to a byte budget. Pure. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct plan_item {
	uint64_t addr;
	uint16_t present; /* pages of 512 */
	uint32_t hot_bp;  /* hotness in basis points (10000 when hotness is none) */
};

/* Sort in place: hot_bp descending, then present descending, then addr ascending. */
void plan_rank(struct plan_item *items, size_t n);

/*
 * How many of the first items of a ranked list fit: each costs 2 MiB; stop
 * when the next would exceed budget_bytes or huge_room_bytes (UINT64_MAX =
 * unlimited). Returns the count.
 */
size_t plan_fit(size_t n, uint64_t budget_bytes, uint64_t huge_room_bytes);
