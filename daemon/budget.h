/* SPDX-License-Identifier: MIT */
/* Token bucket for collapse budgets (bytes per second). Pure. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct token_bucket {
	uint64_t rate;	/* bytes per second; 0 = unlimited */
	uint64_t burst; /* capacity in bytes */
	uint64_t tokens;
	uint64_t last_usec;
};

/* Starts full. */
void tb_init(struct token_bucket *tb, uint64_t rate, uint64_t burst, uint64_t now);
/* Change rate/burst (reload) keeping the current fill, clamped to burst. */
void tb_reconfigure(struct token_bucket *tb, uint64_t rate, uint64_t burst, uint64_t now);
/* Refill for elapsed time and return bytes available (UINT64_MAX if unlimited). */
uint64_t tb_available(struct token_bucket *tb, uint64_t now);
/* Take bytes if available; false (and no change) if not. */
bool tb_take(struct token_bucket *tb, uint64_t now, uint64_t bytes);
/* Return unused bytes (e.g. a planned chunk that was not attempted). */
void tb_refund(struct token_bucket *tb, uint64_t bytes);
/* Microseconds until `bytes` will be available (0 if now). */
uint64_t tb_wait_usec(struct token_bucket *tb, uint64_t now, uint64_t bytes);
