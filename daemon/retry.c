/* SPDX-License-Identifier: MIT */
/* Retry state machine for collapse attempts. Pure: no I/O, no clock. */
#include <errno.h>
#include <string.h>

#include "retry.h"

#include "errno-policy.h"

static const char *const collapse_class_names[COLLAPSE_CLASS_MAX] = {
    [COLLAPSE_OK] = "ok",
    [COLLAPSE_RETRY] = "eagain",
    [COLLAPSE_NOMEM] = "enomem",
    [COLLAPSE_UNMAPPED] = "unmapped",
    [COLLAPSE_CGROUP_FULL] = "ebusy",
    [COLLAPSE_INELIGIBLE] = "einval",
    [COLLAPSE_GONE] = "gone",
    [COLLAPSE_DENIED] = "denied",
    [COLLAPSE_OTHER] = "other",
};

const char *collapse_class_name(enum collapse_class c)
{
	if ((unsigned)c >= COLLAPSE_CLASS_MAX)
		return "unknown";
	return collapse_class_names[c];
}

static const char *const chunk_state_names[CHUNK_STATE_MAX] = {
    [CHUNK_CANDIDATE] = "candidate",	 [CHUNK_BACKOFF] = "backoff", [CHUNK_PARKED] = "parked",
    [CHUNK_QUARANTINED] = "quarantined", [CHUNK_HUGE] = "huge",
};

const char *chunk_state_name(enum chunk_state s)
{
	if ((unsigned)s >= CHUNK_STATE_MAX)
		return "unknown";
	return chunk_state_names[s];
}

bool area_changed(const struct area_sig *old, const struct area_sig *now)
{
	return old->start != now->start || old->end != now->end || old->flags != now->flags ||
	       now->resident > old->resident;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* floor(a * r / (2^32 - 1)) without overflow: a < 2^64, r < 2^32, result <= a. */
static uint64_t scale_rand32(uint64_t a, uint32_t r)
{
	const uint64_t d = UINT32_MAX;

	return (a / d) * r + ((a % d) * r) / d;
}

uint64_t eagain_backoff_usec(uint32_t n, uint64_t initial, uint64_t max, uint32_t rand32)
{
	uint32_t shift = n > 0 ? n - 1 : 0;
	uint64_t base, lo, r;

	if (initial == 0)
		return 0;
	if (shift >= 64 || initial > (UINT64_MAX >> shift))
		base = max; /* initial * 2^shift overflows: certainly above max */
	else
		base = initial << shift;
	if (base > max)
		base = max; /* also covers initial > max */

	/* Uniform in [base/2, base]: rand32 = 0 gives base/2, UINT32_MAX base. */
	lo = base / 2;
	r = lo + scale_rand32(base - lo, rand32);
	return r > 0 ? r : 1;
}

static void save_sig(struct chunk_retry *c, const struct area_sig *sig)
{
	if (sig)
		c->sig = *sig;
	else
		memset(&c->sig, 0, sizeof(c->sig));
}

void retry_record(struct chunk_retry *c, enum collapse_class cls, int err, uint64_t now,
		  const struct retry_config *cfg, uint32_t rand32, const struct area_sig *sig)
{
	c->last_err = err;

	switch (errno_policy(cls)->chunk) {
	case EFFECT_HUGE:
		c->state = CHUNK_HUGE;
		c->attempts = 0;
		c->next_usec = 0;
		c->last_err = 0;
		break;
	case EFFECT_BACKOFF:
		if (c->attempts < UINT32_MAX)
			c->attempts++;
		if (c->attempts >= cfg->eagain_attempts) {
			c->state = CHUNK_PARKED;
			c->next_usec = 0;
			save_sig(c, sig);
		} else {
			c->state = CHUNK_BACKOFF;
			c->next_usec =
			    add_sat(now, eagain_backoff_usec(c->attempts, cfg->eagain_initial_usec,
							     cfg->eagain_max_usec, rand32));
		}
		break;
	case EFFECT_RESET:
		c->state = CHUNK_CANDIDATE;
		c->attempts = 0;
		c->next_usec = 0;
		break;
	case EFFECT_CANDIDATE:
		/* The pause is target- or daemon-wide; the chunk stays eligible. */
		c->state = CHUNK_CANDIDATE;
		c->next_usec = 0;
		break;
	case EFFECT_QUARANTINE:
	default:
		c->state = CHUNK_QUARANTINED;
		c->next_usec = 0;
		save_sig(c, sig);
		break;
	}
}

bool retry_due(struct chunk_retry *c, uint64_t now, const struct area_sig *cur)
{
	switch (c->state) {
	case CHUNK_CANDIDATE:
		return true;
	case CHUNK_BACKOFF:
		return now >= c->next_usec;
	case CHUNK_PARKED:
	case CHUNK_QUARANTINED:
		if (!cur || !area_changed(&c->sig, cur))
			return false;
		c->state = CHUNK_CANDIDATE;
		c->attempts = 0;
		c->next_usec = 0;
		return true;
	case CHUNK_HUGE:
	default:
		return false;
	}
}

void pause_set(struct pause *p, uint64_t now, uint64_t duration_usec, int err)
{
	uint64_t until = add_sat(now, duration_usec);

	if (until > p->until_usec)
		p->until_usec = until;
	p->err = err;
}
