/* SPDX-License-Identifier: MIT */
/*
 * What to do after a collapse attempt, keyed on the errno the kernel gave.
 * Pure: time and randomness are passed in, so tests drive a fake clock.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

enum collapse_class {
	COLLAPSE_OK,	      /* 0 */
	COLLAPSE_RETRY,	      /* EAGAIN: transient, retry with backoff */
	COLLAPSE_NOMEM,	      /* ENOMEM with the range still mapped: no huge page */
	COLLAPSE_UNMAPPED,    /* ENOMEM because the range is gone (worker checks maps) */
	COLLAPSE_CGROUP_FULL, /* EBUSY: memory cgroup charge failed */
	COLLAPSE_INELIGIBLE,  /* EINVAL: not collapsible until the area changes */
	COLLAPSE_GONE,	      /* ESRCH: process exited */
	COLLAPSE_DENIED,      /* EPERM / EACCES: missing capability */
	COLLAPSE_OTHER,	      /* anything else (EFAULT, ...) treated like INELIGIBLE */
	COLLAPSE_CLASS_MAX,
};

const char *collapse_class_name(enum collapse_class c); /* "ok", "eagain", ... */

/* What identifies an area: when any of this changes, parked and quarantined
 * chunks get another chance. */
struct area_sig {
	uint64_t start, end;
	uint32_t flags;	   /* enum vma_flag bits that matter for eligibility */
	uint64_t resident; /* bytes present in the area */
};

/* Bounds or flags differ, or resident grew. */
bool area_changed(const struct area_sig *old, const struct area_sig *now);

enum chunk_state {
	CHUNK_CANDIDATE,   /* may be collapsed when budget allows */
	CHUNK_BACKOFF,	   /* EAGAIN: retry at next_usec */
	CHUNK_PARKED,	   /* EAGAIN attempts exhausted: wait for the area to change */
	CHUNK_QUARANTINED, /* EINVAL: wait for the area to change */
	CHUNK_HUGE,	   /* collapsed (as last seen by the kernel) */
	CHUNK_STATE_MAX,
};

const char *chunk_state_name(enum chunk_state s);

struct chunk_retry {
	enum chunk_state state;
	uint32_t attempts;   /* consecutive EAGAINs */
	uint64_t next_usec;  /* BACKOFF: earliest retry */
	int last_err;	     /* last errno (0 = none) */
	struct area_sig sig; /* area as it was when parked/quarantined */
};

/*
 * Jittered exponential backoff for the n-th consecutive EAGAIN (n >= 1):
 * base = min(max, initial * 2^(n-1)); result uniformly in [base/2, base]
 * using rand32.
 */
uint64_t eagain_backoff_usec(uint32_t n, uint64_t initial, uint64_t max, uint32_t rand32);

/*
 * Record the outcome of one attempt on a chunk. cls is the classified result;
 * sig is the area as scanned. NOMEM/CGROUP_FULL/GONE/DENIED leave the chunk a
 * CANDIDATE (the pause is target- or daemon-wide, see pause_*); UNMAPPED
 * resets it to CANDIDATE with attempts 0.
 */
void retry_record(struct chunk_retry *c, enum collapse_class cls, int err, uint64_t now,
		  const struct retry_config *cfg, uint32_t rand32, const struct area_sig *sig);

/*
 * Refresh a chunk against the latest scan: a PARKED or QUARANTINED chunk whose
 * area changed becomes CANDIDATE again (attempts reset). Returns true if the
 * chunk may be attempted now (CANDIDATE, or BACKOFF with next_usec <= now).
 */
bool retry_due(struct chunk_retry *c, uint64_t now, const struct area_sig *cur);

/* A pause until some time; expired pauses read as inactive. */
struct pause {
	uint64_t until_usec; /* 0 = not paused */
	int err;	     /* what caused it */
};

static inline bool pause_active(const struct pause *p, uint64_t now)
{
	return p->until_usec > now;
}

void pause_set(struct pause *p, uint64_t now, uint64_t duration_usec, int err);
