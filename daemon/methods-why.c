/* SPDX-License-Identifier: MIT */
/*
 * io.thpd.Manager.Why: what thpctl why prints. The facts come from the
 * manager (a target's chunk table and the notes of its last scan, pauses,
 * budgets) or, for a process that is no target, from a fresh look at it
 * (proc_look: a few small /proc reads, as the visibility check makes for
 * every unprivileged call); why.c turns them into reasons.
 */
#include <stdint.h>

#include "discover.h"
#include "manager-internal.h"
#include "methods-internal.h"
#include "util.h"
#include "why.h"

static json_t *target_reasons(struct manager *m, const struct target *t, bool has_addr,
			      uint64_t addr)
{
	uint64_t now = now_usec(), until = 0;
	struct token_bucket *ptb = policy_bucket(m, t->policy);
	struct why_facts f = {
	    .t = t,
	    .now = now,
	    .has_addr = has_addr,
	    .addr = addr,
	    .daemon_pause = manager_pause_reason(m, now, &until),
	    .memcg_paused = manager_memcg_paused(m, t->memcg, now),
	    .hot_measured = manager_hotness_measures(t),
	    .hotness = hotness_source_name(t->hot_source),
	    .rate_available = MIN(tb_available(&m->global_tb, now), tb_available(ptb, now)),
	};
	struct stall_budget stall = t->stall; /* a copy: asking changes nothing */

	f.stall_wait_usec = stall_wait_usec(&stall, now);
	f.daemon_pause_until = until;
	return why_target(&f);
}

void methods_why(struct call *c)
{
	json_error_t err;
	json_int_t pid, addr = -1;

	if (json_unpack_ex(c->params, &err, JSON_STRICT, "{s:I, s?I}", "pid", &pid, "addr", &addr) <
	    0)
		return methods_reply_bad_params(c, (const char *const[]){"pid", "addr", NULL},
						(const json_type[]){JSON_INTEGER, JSON_INTEGER});
	if (pid <= 0 || pid > INT32_MAX)
		return methods_reply_invalid(c, "pid");
	if (json_object_get(c->params, "addr") && addr < 0)
		return methods_reply_invalid(c, "addr");
	const struct target *t = manager_find_target(c->m, (pid_t)pid);
	json_t *reasons, *params;

	if (t && methods_can_see(c->peer, t)) {
		reasons = target_reasons(c->m, t, addr >= 0, (uint64_t)addr);
		params = json_pack("{s:I, s:b, s:o, s:s, s:o}", "pid", pid, "target", 1, "comm",
				   methods_text_json(t->comm ? t->comm : ""), "policy",
				   t->policy ? t->policy->name : "", "reasons", reasons);
	} else {
		struct proc_look l;
		int r = proc_look((pid_t)pid, &l);
		/* Another user's process reads as no process: no probing. */
		if (r == 0 && !c->peer->privileged && (l.uid != c->peer->uid || !l.has_owner))
			r = -ESRCH;
		if (t && r == 0)
			r = -ESRCH; /* a target the peer may not see */
		reasons = why_process((pid_t)pid, r, &l, manager_config(c->m));
		params = json_pack("{s:I, s:b, s:o, s:o, s:o}", "pid", pid, "target", 0, "comm",
				   r == 0 ? methods_text_json(l.comm) : json_null(), "policy",
				   json_null(), "reasons", reasons);
		proc_look_clear(&l);
	}
	c->reply->parameters = params;
}
