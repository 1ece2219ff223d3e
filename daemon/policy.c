/* SPDX-License-Identifier: MIT */
/* Does this process match a policy? Pure over the identity given. */
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>

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

/* "a, b, c" of a list's patterns into buf (cut short with "..."). */
static void list_words(const struct match_list *l, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < l->n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
					l->v[i].pattern ? l->v[i].pattern : "?");
	if (off >= len && len > 4)
		snprintf(buf + len - 4, 4, "...");
}

static bool list_mismatch(const char *what, const struct match_list *l, const char *value,
			  char *buf, size_t len)
{
	char words[160];

	if (list_matches(l, value))
		return false;
	list_words(l, words, sizeof(words));
	if (value)
		snprintf(buf, len, "%s '%s' matches none of %s", what, value, words);
	else
		snprintf(buf, len, "%s unknown (the policy asks for %s)", what, words);
	return true;
}

const char *policy_mismatch(const struct policy *p, const struct proc_identity *id, char *buf,
			    size_t len)
{
	const struct policy_match *m = &p->match;
	char words[160];

	if (list_mismatch("comm", &m->comm, id->comm, buf, len) ||
	    list_mismatch("exe", &m->exe, id->exe, buf, len))
		return buf;
	if (!uid_matches(m, id->uid)) {
		list_words(&m->user, words, sizeof(words));
		snprintf(buf, len, "uid %u is not user %s", (unsigned)id->uid, words);
		return buf;
	}
	if (list_mismatch("unit", &m->unit, id->unit, buf, len) ||
	    list_mismatch("cgroup", &m->cgroup, id->cgroup, buf, len))
		return buf;
	if (id->anon_bytes < m->min_anon) {
		snprintf(buf, len, "%" PRIu64 " MiB anonymous, below min_anon %" PRIu64 " MiB",
			 id->anon_bytes >> 20, m->min_anon >> 20);
		return buf;
	}
	return NULL;
}
