/* SPDX-License-Identifier: MIT */
/* Stall budget (stall.h). Pure. */
#include "stall.h"

#define BP_PER_100 10000ULL
/* The balance is capped at the share of one second: after a quiet spell at
 * most that much collapse time comes back to back (0.5%: 5 ms). */
#define STALL_WINDOW_USEC      1000000ULL
#define STALL_MAX_WAIT_WINDOWS 60

static int64_t cap_usec(const struct stall_budget *sb)
{
	return (int64_t)(STALL_WINDOW_USEC * sb->share_bp / BP_PER_100);
}

static void refill(struct stall_budget *sb, uint64_t now)
{
	if (now <= sb->last_usec)
		return; /* no time passed (or the clock stepped back): no credit */
	uint64_t elapsed = now - sb->last_usec;
	int64_t cap = cap_usec(sb);

	sb->last_usec = now;
	if (sb->balance_usec >= cap || elapsed >= 86400ULL * STALL_WINDOW_USEC) {
		sb->balance_usec = cap; /* (a day times 10000 still fits in 64 bits) */
		sb->frac = 0;
		return;
	}
	/* Earned in microseconds times BP_PER_100; the remainder is kept so
	 * that frequent calls lose nothing. */
	uint64_t acc = elapsed * sb->share_bp + sb->frac;
	uint64_t earned = acc / BP_PER_100;
	sb->frac = (uint32_t)(acc % BP_PER_100);
	if (earned >= (uint64_t)(cap - sb->balance_usec)) {
		sb->balance_usec = cap;
		sb->frac = 0;
	} else {
		sb->balance_usec += (int64_t)earned;
	}
}

void stall_init(struct stall_budget *sb, uint32_t share_bp, uint64_t now)
{
	sb->share_bp = share_bp > BP_PER_100 ? (uint32_t)BP_PER_100 : share_bp;
	sb->last_usec = now;
	sb->balance_usec = cap_usec(sb);
	sb->frac = 0;
}

void stall_reconfigure(struct stall_budget *sb, uint32_t share_bp, uint64_t now)
{
	refill(sb, now);
	sb->share_bp = share_bp > BP_PER_100 ? (uint32_t)BP_PER_100 : share_bp;
	if (sb->balance_usec > cap_usec(sb))
		sb->balance_usec = cap_usec(sb);
}

uint64_t stall_wait_usec(struct stall_budget *sb, uint64_t now)
{
	if (sb->share_bp == 0 || sb->share_bp >= BP_PER_100)
		return 0;
	refill(sb, now);
	if (sb->balance_usec >= 0)
		return 0;
	/* Round up: the balance is back at zero after this many microseconds. */
	uint64_t debt = (uint64_t)-sb->balance_usec;
	return (debt * BP_PER_100 + sb->share_bp - 1) / sb->share_bp;
}

void stall_charge(struct stall_budget *sb, uint64_t now, uint64_t used_usec)
{
	if (sb->share_bp == 0 || sb->share_bp >= BP_PER_100)
		return;
	refill(sb, now);
	/* The debt is bounded so that the wait after it is at most
	 * STALL_MAX_WAIT_WINDOWS windows: a call that hung (behind a core dump
	 * holding the lock, say) must not stop the target's collapses for hours. */
	int64_t floor = -cap_usec(sb) * STALL_MAX_WAIT_WINDOWS;
	int64_t room = sb->balance_usec - floor;
	if (room <= 0 || used_usec >= (uint64_t)room)
		sb->balance_usec = floor;
	else
		sb->balance_usec -= (int64_t)used_usec;
}

void stall_forgive(struct stall_budget *sb, uint64_t now)
{
	refill(sb, now);
	if (sb->balance_usec < 0) {
		sb->balance_usec = 0;
		sb->frac = 0;
	}
}
