/* SPDX-License-Identifier: MIT */
/* Token bucket in integer bytes and microseconds. Pure. */
#include "budget.h"

#define USEC_PER_SEC 1000000ULL

/*
 * floor(a * b / d) and the remainder, exact for any 64-bit operands (d > 0),
 * by binary long multiplication over the bits of b. Saturates at UINT64_MAX;
 * *rem is only meaningful when the result did not saturate.
 */
static uint64_t muldiv(uint64_t a, uint64_t b, uint64_t d, uint64_t *rem)
{
	uint64_t qa = a / d, ra = a % d;
	uint64_t q = 0, r = 0;

	for (int i = 63; i >= 0; i--) {
		/* (q, r) *= 2 */
		if (q > UINT64_MAX / 2)
			goto saturated;
		q *= 2;
		if (r >= d - r) {
			r -= d - r;
			q++;
		} else {
			r *= 2;
		}
		if (!((b >> i) & 1))
			continue;
		/* (q, r) += (qa, ra) */
		if (q > UINT64_MAX - qa)
			goto saturated;
		q += qa;
		if (r >= d - ra) {
			r -= d - ra;
			if (q == UINT64_MAX)
				goto saturated;
			q++;
		} else {
			r += ra;
		}
	}
	if (rem)
		*rem = r;
	return q;

saturated:
	if (rem)
		*rem = 0;
	return UINT64_MAX;
}

static void refill(struct token_bucket *tb, uint64_t now)
{
	uint64_t need, add, rem;

	if (tb->rate == 0)
		return;
	if (now <= tb->last_usec)
		return; /* no time passed (or the clock stepped back): no credit */
	if (tb->tokens >= tb->burst) {
		tb->tokens = tb->burst;
		tb->last_usec = now;
		return;
	}

	need = tb->burst - tb->tokens;
	add = muldiv(now - tb->last_usec, tb->rate, USEC_PER_SEC, &rem);
	if (add >= need) {
		tb->tokens = tb->burst;
		tb->last_usec = now;
		return;
	}
	tb->tokens += add;
	/* Keep the time that earned the fractional byte (rem / 1e6 bytes) for
	 * the next refill, so frequent calls do not lose tokens to rounding. */
	tb->last_usec = now - rem / tb->rate;
}

void tb_init(struct token_bucket *tb, uint64_t rate, uint64_t burst, uint64_t now)
{
	tb->rate = rate;
	tb->burst = burst;
	tb->tokens = burst;
	tb->last_usec = now;
}

void tb_reconfigure(struct token_bucket *tb, uint64_t rate, uint64_t burst, uint64_t now)
{
	if (tb->rate == 0) {
		/* Unlimited never drains: it was full. */
		tb->tokens = burst;
	} else {
		refill(tb, now);
		if (tb->tokens > burst)
			tb->tokens = burst;
	}
	tb->rate = rate;
	tb->burst = burst;
	tb->last_usec = now;
}

uint64_t tb_available(struct token_bucket *tb, uint64_t now)
{
	if (tb->rate == 0)
		return UINT64_MAX;
	refill(tb, now);
	return tb->tokens;
}

bool tb_take(struct token_bucket *tb, uint64_t now, uint64_t bytes)
{
	if (tb->rate == 0)
		return true;
	refill(tb, now);
	if (tb->tokens < bytes)
		return false;
	tb->tokens -= bytes;
	return true;
}

void tb_refund(struct token_bucket *tb, uint64_t bytes)
{
	if (tb->tokens >= tb->burst || bytes >= tb->burst - tb->tokens)
		tb->tokens = tb->burst;
	else
		tb->tokens += bytes;
}

uint64_t tb_wait_usec(struct token_bucket *tb, uint64_t now, uint64_t bytes)
{
	uint64_t need, rem, t, earned;

	if (tb->rate == 0)
		return 0;
	refill(tb, now);
	if (tb->tokens >= bytes)
		return 0;
	if (bytes > tb->burst)
		return UINT64_MAX; /* can never be taken at once */

	/* The refill at now + t credits floor((now + t - last) * rate / 1e6)
	 * bytes; the smallest t for which that reaches need is
	 * ceil(need * 1e6 / rate) - (now - last). */
	need = bytes - tb->tokens;
	t = muldiv(need, USEC_PER_SEC, tb->rate, &rem);
	if (t == UINT64_MAX)
		return UINT64_MAX;
	if (rem)
		t++;
	if (now >= tb->last_usec) {
		earned = now - tb->last_usec;
		return t > earned ? t - earned : 0;
	}
	earned = tb->last_usec - now; /* clock behind the bucket: wait that too */
	return t > UINT64_MAX - earned ? UINT64_MAX : t + earned;
}
