/* SPDX-License-Identifier: MIT */
/* Does this process match a policy? Pure over the identity given. */
#include <fnmatch.h>

#include "policy.h"

/* Any-of: an empty list is no condition; an unknown value matches nothing. */
static bool list_matches(const struct match_list *l, const char *value)
{
	if (l->n == 0)
		return true;
	if (!value)
		return false;
	for (size_t i = 0; i < l->n; i++) {
		const char *pat = l->v[i].pattern;

		if (pat && fnmatch(pat, value, 0) == 0)
			return true;
	}
	return false;
}

static bool uid_matches(const struct policy_match *m, uid_t uid)
{
	if (m->user.n == 0 && m->n_uids == 0)
		return true;
	for (size_t i = 0; i < m->n_uids; i++)
		if (m->uids[i] == uid)
			return true;
	return false;
}

bool policy_matches(const struct policy *p, const struct proc_identity *id)
{
	const struct policy_match *m = &p->match;

	return list_matches(&m->comm, id->comm) && list_matches(&m->exe, id->exe) &&
	       uid_matches(m, id->uid) && list_matches(&m->unit, id->unit) &&
	       list_matches(&m->cgroup, id->cgroup) && id->anon_bytes >= m->min_anon;
}

const struct policy *policy_find(const struct thpd_config *cfg, const struct proc_identity *id)
{
	if (!cfg)
		return NULL;
	for (size_t i = 0; i < cfg->n_policies; i++)
		if (policy_matches(&cfg->policies[i], id))
			return &cfg->policies[i];
	return NULL;
}
