/* SPDX-License-Identifier: MIT */
/* Does this process match a policy? Pure over the identity given. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

struct proc_identity {
	pid_t pid;
	uid_t uid;
	const char *comm;   /* may be NULL when unknown */
	const char *exe;    /* readlink of /proc/PID/exe, NULL if unreadable */
	const char *unit;   /* systemd unit, NULL if none */
	const char *cgroup; /* cgroup path ("/system.slice/x.service"), NULL if unknown */
	uint64_t anon_bytes;
};

/* All given conditions hold (lists are any-of; an unknown field never matches a
 * non-empty list). */
bool policy_matches(const struct policy *p, const struct proc_identity *id);

/*
 * Why p does not match id: the first condition that fails, in words
 * ("comm 'sleep' matches none of redis-server, memcached"), written to buf;
 * NULL if p matches. Pure.
 */
const char *policy_mismatch(const struct policy *p, const struct proc_identity *id, char *buf,
			    size_t len);

/* First policy that matches (may be an ignore policy), or NULL. */
const struct policy *policy_find(const struct thpd_config *cfg, const struct proc_identity *id);
