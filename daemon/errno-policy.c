/* SPDX-License-Identifier: MIT */
/* The errno policy table (see errno-policy.h). Pure. */
#include "errno-policy.h"

#include <errno.h>

#include "collapse.h"

static const struct errno_policy policies[COLLAPSE_CLASS_MAX] = {
    [COLLAPSE_OK] = {.cls = COLLAPSE_OK, .chunk = EFFECT_HUGE},
    [COLLAPSE_RETRY] =
	{
	    .cls = COLLAPSE_RETRY,
	    .errnos = {EAGAIN},
	    .readme_errnos = "EAGAIN",
	    .chunk = EFFECT_BACKOFF,
	    .meaning = "a page was briefly locked or pinned",
	    .action = "retries that 2 MiB chunk with jittered exponential backoff "
		      "(`retry.eagain`), then parks it until its area changes",
	},
    [COLLAPSE_NOMEM] =
	{
	    .cls = COLLAPSE_NOMEM,
	    .errnos = {ENOMEM},
	    .readme_errnos = "ENOMEM",
	    .chunk = EFFECT_CANDIDATE,
	    .pause = PAUSE_DAEMON,
	    .ends_job = true,
	    .meaning = "no huge page to be had — or the range was unmapped",
	    .action = "re-reads the process's maps: unmapped is not memory pressure "
		      "(rescan); otherwise pauses all collapsing for `retry.enomem.pause`, "
		      "ending early when `/proc/buddyinfo` shows free order-9 blocks",
	},
    /* ENOMEM for a range the worker found unmapped: README's ENOMEM row. */
    [COLLAPSE_UNMAPPED] = {.cls = COLLAPSE_UNMAPPED, .chunk = EFFECT_RESET, .rescan = true},
    [COLLAPSE_CGROUP_FULL] =
	{
	    .cls = COLLAPSE_CGROUP_FULL,
	    .errnos = {EBUSY},
	    .readme_errnos = "EBUSY",
	    .chunk = EFFECT_CANDIDATE,
	    .pause = PAUSE_MEMCG,
	    .ends_job = true,
	    .meaning = "the target's memory cgroup is full",
	    .action = "pauses only the targets of that cgroup for `retry.ebusy.pause`",
	},
    [COLLAPSE_INELIGIBLE] =
	{
	    .cls = COLLAPSE_INELIGIBLE,
	    .errnos = {EINVAL},
	    .readme_errnos = "EINVAL",
	    .chunk = EFFECT_QUARANTINE,
	    .meaning = "not collapsible (MADV_NOHUGEPAGE, ...)",
	    .action = "quarantines the chunk until its area changes (bounds, flags, or "
		      "more resident memory)",
	},
    [COLLAPSE_GONE] =
	{
	    .cls = COLLAPSE_GONE,
	    .errnos = {ESRCH},
	    .readme_errnos = "ESRCH",
	    .chunk = EFFECT_CANDIDATE,
	    .ends_job = true,
	    .drop_target = true,
	    .meaning = "the process exited",
	    .action = "drops the target and everything queued for it",
	},
    [COLLAPSE_DENIED] =
	{
	    .cls = COLLAPSE_DENIED,
	    .errnos = {EPERM, EACCES},
	    .readme_errnos = "EPERM / EACCES",
	    .chunk = EFFECT_CANDIDATE,
	    .ends_job = true,
	    .report_denied = true,
	    .meaning = "thpd lacks CAP_SYS_NICE / CAP_SYS_PTRACE",
	    .action = "says once which capability is missing; stops trying that process",
	},
    [COLLAPSE_OTHER] =
	{
	    .cls = COLLAPSE_OTHER,
	    .readme_errnos = "any other",
	    .chunk = EFFECT_QUARANTINE,
	    .meaning = "not expected from the kernel (EFAULT, ...)",
	    .action = "treated like EINVAL: quarantines the chunk until its area changes",
	},
};

const struct errno_policy *errno_policy(enum collapse_class cls)
{
	if ((unsigned)cls >= COLLAPSE_CLASS_MAX)
		cls = COLLAPSE_OTHER;
	return &policies[cls];
}

enum collapse_class collapse_classify(int err)
{
	if (err == 0)
		return COLLAPSE_OK;
	for (int c = 0; c < COLLAPSE_CLASS_MAX; c++)
		for (const int *e = policies[c].errnos; *e; e++)
			if (*e == err)
				return (enum collapse_class)c;
	return COLLAPSE_OTHER;
}

enum collapse_class collapse_result_class(int result)
{
	return result == COLLAPSE_ERR_UNMAPPED ? COLLAPSE_UNMAPPED : collapse_classify(result);
}

bool errno_policy_ends_job(int result)
{
	return errno_policy(collapse_result_class(result))->ends_job;
}
