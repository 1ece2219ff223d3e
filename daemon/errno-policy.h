/* SPDX-License-Identifier: MIT */
/*
 * What thpd does with each answer of process_madvise(MADV_COLLAPSE): one
 * table, read by the collapse worker (does the job go on?), the retry state
 * machine (what becomes of the chunk) and the manager (pauses, rescans,
 * dropping the target). README.md's errno table is this table rendered
 * (tests/unit/test_errno_policy.c checks it). Pure: no I/O.
 */
#ifndef THPD_ERRNO_POLICY_H
#define THPD_ERRNO_POLICY_H

#include <stdbool.h>

#include "retry.h"

/* What becomes of the chunk that got the answer. */
enum chunk_effect {
	EFFECT_HUGE,	   /* CHUNK_HUGE */
	EFFECT_BACKOFF,	   /* CHUNK_BACKOFF, PARKED after retry.eagain.attempts */
	EFFECT_CANDIDATE,  /* stays a candidate (the pause decides when) */
	EFFECT_RESET,	   /* candidate again, attempts forgotten */
	EFFECT_QUARANTINE, /* CHUNK_QUARANTINED until its area changes */
};

/* Whom the answer pauses. */
enum pause_scope {
	PAUSE_NONE,
	PAUSE_DAEMON, /* every target: retry.enomem.pause (buddyinfo may end it) */
	PAUSE_MEMCG,  /* the targets of the chunk's memory cgroup: retry.ebusy.pause */
};

struct errno_policy {
	enum collapse_class cls;
	/* the errnos of the class, 0-terminated (none: ok, unmapped, other) */
	int errnos[3];
	/* errno names as README.md lists them, e.g. "EPERM / EACCES"; NULL:
	 * not a README row of its own (ok; unmapped shares ENOMEM's row) */
	const char *readme_errnos;
	enum chunk_effect chunk;
	enum pause_scope pause;
	bool ends_job;	     /* the rest of the job would fail the same way */
	bool rescan;	     /* the layout changed: scan before trying more */
	bool drop_target;    /* the process is gone */
	bool report_denied;  /* say once which capability is missing */
	const char *meaning; /* README: what the kernel means by it */
	const char *action;  /* README: what thpd does */
};

/* The class of err (0 or a positive errno), read off the table's errnos:
 * ENOMEM maps to NOMEM (the caller uses UNMAPPED when it has checked the
 * mapping), an errno no row lists to OTHER. */
enum collapse_class collapse_classify(int err);

/* The policy of a class (any value; out of range gives COLLAPSE_OTHER's). */
const struct errno_policy *errno_policy(enum collapse_class cls);

/* The class of one chunk's result as the worker reports it: 0, a positive
 * errno, or COLLAPSE_ERR_UNMAPPED (ENOMEM for a range found unmapped). */
enum collapse_class collapse_result_class(int result);

/* Does this result end the job (see ends_job)? */
bool errno_policy_ends_job(int result);

#endif
