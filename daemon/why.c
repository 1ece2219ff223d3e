/* SPDX-License-Identifier: MIT */
#include "why.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "chunks.h"
#include "errno-policy.h"
#include "policy.h"
#include "units.h"
#include "util.h"

#define SZ 32 /* format_size() buffers */

static void add(json_t *a, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add(json_t *a, const char *code, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_array_append_new(a, json_pack("{s:s, s:s}", "code", code, "text", text));
}

/* "EAGAIN (the kernel's meaning)" for a chunk's last errno. */
static void errno_words(int err, char *buf, size_t len)
{
	const struct errno_policy *p = errno_policy(collapse_classify(err));

	snprintf(buf, len, "%s (%s)", err && strerrorname_np(err) ? strerrorname_np(err) : "none",
		 p->meaning);
}

static const char *scan_skip_name(enum scan_skip s)
{
	static const char *const names[] = {[SKIP_SPECIAL] = "special",
					    [SKIP_NOHUGEPAGE] = "nohugepage",
					    [SKIP_FILE] = "file",
					    [SKIP_SHARED] = "shared",
					    [SKIP_NOT_ELIGIBLE] = "not-eligible",
					    [SKIP_TOO_SMALL] = "too-small"};

	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "unknown";
}

static const char *skip_text(enum scan_skip s)
{
	switch (s) {
	case SKIP_SPECIAL:
		return "a special mapping ([vdso], [vvar], I/O or PFN memory): never collapsible";
	case SKIP_NOHUGEPAGE:
		return "the mapping is MADV_NOHUGEPAGE (VmFlags nh): the process asked for no "
		       "huge pages here";
	case SKIP_FILE:
		return "file-backed (page cache): thpd collapses anonymous memory only";
	case SKIP_SHARED:
		return "shared memory, and the policy has shmem: false";
	case SKIP_NOT_ELIGIBLE:
		return "the kernel says THPeligible: 0 for this mapping (smaps)";
	case SKIP_TOO_SMALL:
		return "the mapping holds no whole 2 MiB-aligned chunk";
	}
	return "not a candidate";
}

/* Target-wide reasons nothing is collapsed now; true if one applies. */
static bool target_blockers(json_t *a, const struct why_facts *f)
{
	const struct target *t = f->t;
	const struct policy *p = t->policy;
	char s1[SZ], s2[SZ];
	size_t n = json_array_size(a);

	if (t->state == TARGET_THP_DISABLED)
		add(a, "thp-disabled",
		    "THP is disabled for this process (prctl PR_SET_THP_DISABLE: THP_enabled: 0 in "
		    "/proc/%d/status): thpd never tries it",
		    (int)t->pid);
	else if (t->state == TARGET_DENIED)
		add(a, "denied",
		    "thpd may not collapse this process (a missing capability: see thpd's log)");
	else if (t->state == TARGET_PAUSED)
		add(a, "paused", "paused by %s (thpctl pause); thpctl resume %d undoes it",
		    t->paused_by_privileged ? "an operator" : "its owner", (int)t->pid);
	if (f->daemon_pause) {
		if (f->daemon_pause_until > f->now)
			add(a, "daemon-paused", "thpd is paused (%s) for %s more", f->daemon_pause,
			    format_duration(f->daemon_pause_until - f->now, s1, sizeof(s1)));
		else
			add(a, "daemon-paused", "thpd is paused (%s); see thpctl status",
			    f->daemon_pause);
	}
	if (f->memcg_paused)
		add(a, "memcg-paused",
		    "its memory cgroup %s is full (EBUSY): collapses there wait for the pause to "
		    "end",
		    t->memcg ? t->memcg : "?");
	if (p && p->max_huge && t->huge_bytes >= p->max_huge)
		add(a, "max-huge", "the policy's max_huge %s is reached (%s huge)",
		    format_size(p->max_huge, s1, sizeof(s1)),
		    format_size(t->huge_bytes, s2, sizeof(s2)));
	if (t->scans == 0)
		add(a, "not-scanned",
		    "not scanned yet: the first scan comes within a scan interval");
	return json_array_size(a) > n;
}

/* Why a candidate chunk is not collapsed yet (blockers already listed). */
static void candidate_reason(json_t *a, const struct why_facts *f, const struct chunk *c,
			     bool blocked)
{
	const struct policy *p = f->t->policy;
	char s1[SZ];

	if (c->in_flight) {
		add(a, "collapsing", "being collapsed now");
		return;
	}
	if (f->hot_measured && !f->t->hot_valid) {
		add(a, "hotness-pending",
		    "a candidate, waiting for the first hotness window (hotness %s)",
		    f->hotness ? f->hotness : "?");
		return;
	}
	if (f->hot_measured && p && c->hot_bp < p->min_hot_bp) {
		add(a, "cold", "cold: hotness %.1f%% is below the policy's min_hot %.1f%%",
		    c->hot_bp / 100.0, p->min_hot_bp / 100.0);
		return;
	}
	if (blocked)
		return;
	if (f->rate_available < PMD_SIZE_2M) {
		add(a, "rate", "a candidate, waiting for the rate budget (%s available now)",
		    format_size(f->rate_available, s1, sizeof(s1)));
		return;
	}
	if (f->stall_wait_usec > 0) {
		add(a, "stall",
		    "a candidate, waiting %s for the stall budget (collapses may take at most "
		    "%.2g%% of the time: the policy's max_stall)",
		    format_duration(f->stall_wait_usec, s1, sizeof(s1)),
		    p ? p->max_stall_bp / 100.0 : 0.0);
		return;
	}
	add(a, "candidate",
	    "a candidate (%u of %u pages present): collapsed at the next pass, hottest and "
	    "densest first",
	    (unsigned)c->present, PAGES_PER_PMD);
}

static void chunk_reason(json_t *a, const struct why_facts *f, const struct chunk *c, bool blocked)
{
	const struct chunk_retry *r = &c->retry;
	char e[256], s1[SZ];

	errno_words(r->last_err, e, sizeof(e));
	switch (r->state) {
	case CHUNK_HUGE:
		add(a, "huge", "huge: mapped by one 2 MiB page");
		return;
	case CHUNK_BACKOFF:
		if (r->last_err)
			add(a, "backoff", "backing off after %s: attempt %u, next retry in %s", e,
			    (unsigned)r->attempts,
			    format_duration(r->next_usec > f->now ? r->next_usec - f->now : 0, s1,
					    sizeof(s1)));
		else
			add(a, "backoff", "split again %u times after collapsing: next try in %s",
			    (unsigned)c->splits,
			    format_duration(r->next_usec > f->now ? r->next_usec - f->now : 0, s1,
					    sizeof(s1)));
		return;
	case CHUNK_PARKED:
		add(a, "parked",
		    "parked after %u attempts ending in %s: tried again when its mapping changes",
		    (unsigned)r->attempts, e);
		return;
	case CHUNK_QUARANTINED:
		add(a, "quarantined",
		    "quarantined after %s: not tried again until its mapping changes (bounds, "
		    "flags "
		    "or resident pages)",
		    e);
		return;
	case CHUNK_CANDIDATE:
	case CHUNK_STATE_MAX:
		break;
	}
	candidate_reason(a, f, c, blocked);
}

/* The 2 MiB chunk at f->addr. */
static void addr_reasons(json_t *a, const struct why_facts *f, bool blocked)
{
	const struct chunk_table *tb = &f->t->table;
	uint64_t base = ALIGN_DOWN_2M(f->addr);
	const struct chunk *c = chunk_table_find((struct chunk_table *)tb, base);
	const struct scan_area *area = chunk_table_find_area(tb, f->addr);
	const struct scan_sparse *sp = chunk_table_find_sparse(tb, base);
	const struct scan_skipped *sk = chunk_table_find_skipped(tb, f->addr);
	const struct policy *p = f->t->policy;

	if (c) {
		chunk_reason(a, f, c, blocked);
	} else if (sp) {
		uint32_t need =
		    p ? (uint32_t)(((uint64_t)p->min_present_bp * PAGES_PER_PMD + BP_PER_100 - 1) /
				   BP_PER_100)
		      : 0;
		add(a, "sparse",
		    "sparse: %u of %u pages present; the policy's min_present %.1f%% needs %u "
		    "(a collapse would fill the rest with zeros)",
		    (unsigned)sp->present, PAGES_PER_PMD, p ? p->min_present_bp / 100.0 : 0.0,
		    need);
	} else if (area) {
		if (base < ALIGN_UP_2M(area->start) || base + PMD_SIZE_2M > area->end)
			add(a, "too-small",
			    "the 2 MiB-aligned chunk at 0x%" PRIx64
			    " does not fit inside its mapping 0x%" PRIx64 "-0x%" PRIx64,
			    base, area->start, area->end);
		else
			add(a, "not-resident", "not resident: no page of this chunk is present");
	} else if (sk) {
		add(a, scan_skip_name((enum scan_skip)sk->why),
		    "mapping 0x%" PRIx64 "-0x%" PRIx64 ": %s", sk->start, sk->end,
		    skip_text((enum scan_skip)sk->why));
	} else {
		add(a, "not-mapped", "no mapping of the process holds 0x%" PRIx64 " (last scan)",
		    f->addr);
	}
}

/* A target as a whole: coverage, then what holds each kind of chunk back. */
static void target_reasons(json_t *a, const struct why_facts *f)
{
	const struct target *t = f->t;
	const struct chunk_table *tb = &t->table;
	size_t by[CHUNK_STATE_MAX] = {0}, cold = 0;
	uint64_t skipped[SKIP_TOO_SMALL + 1] = {0};
	int last_err[CHUNK_STATE_MAX] = {0};
	char s1[SZ], s2[SZ], e[256];

	for (size_t i = 0; i < tb->n_chunks; i++) {
		const struct chunk *c = &tb->chunks[i];
		by[c->retry.state]++;
		if (c->retry.last_err)
			last_err[c->retry.state] = c->retry.last_err;
		if (c->retry.state == CHUNK_CANDIDATE && f->hot_measured && t->policy &&
		    c->hot_bp < t->policy->min_hot_bp)
			cold++;
	}
	add(a, "coverage", "%s huge of %s anonymous; %zu chunks huge, %zu candidates",
	    format_size(t->huge_bytes, s1, sizeof(s1)), format_size(t->anon_bytes, s2, sizeof(s2)),
	    by[CHUNK_HUGE], by[CHUNK_CANDIDATE]);
	if (cold)
		add(a, "cold", "%zu candidates are colder than the policy's min_hot %.1f%%", cold,
		    t->policy->min_hot_bp / 100.0);
	if (by[CHUNK_CANDIDATE] > cold && f->stall_wait_usec > 0 && t->policy)
		add(a, "stall",
		    "%zu candidates wait %s for the stall budget (collapses may take at most "
		    "%.2g%% of the time: the policy's max_stall)",
		    by[CHUNK_CANDIDATE] - cold, format_duration(f->stall_wait_usec, s1, sizeof(s1)),
		    t->policy->max_stall_bp / 100.0);
	if (by[CHUNK_BACKOFF]) {
		errno_words(last_err[CHUNK_BACKOFF], e, sizeof(e));
		add(a, "backoff", "%zu chunks back off (last: %s)", by[CHUNK_BACKOFF], e);
	}
	if (by[CHUNK_PARKED])
		add(a, "parked", "%zu chunks are parked until their mapping changes",
		    by[CHUNK_PARKED]);
	if (by[CHUNK_QUARANTINED]) {
		errno_words(last_err[CHUNK_QUARANTINED], e, sizeof(e));
		add(a, "quarantined", "%zu chunks are quarantined (last: %s)",
		    by[CHUNK_QUARANTINED], e);
	}
	if (tb->n_sparse && t->policy)
		add(a, "sparse", "%zu chunks have pages present but fewer than min_present %.1f%%",
		    tb->n_sparse, t->policy->min_present_bp / 100.0);
	for (size_t i = 0; i < tb->n_skipped; i++)
		skipped[MIN(tb->skipped[i].why, SKIP_TOO_SMALL)] +=
		    tb->skipped[i].end - tb->skipped[i].start;
	for (int s = 0; s <= SKIP_TOO_SMALL; s++)
		if (skipped[s] && s != SKIP_SPECIAL)
			add(a, scan_skip_name((enum scan_skip)s), "%s of mappings: %s",
			    format_size(skipped[s], s1, sizeof(s1)), skip_text((enum scan_skip)s));
}

json_t *why_target(const struct why_facts *f)
{
	json_t *a = json_array();

	if (!a)
		return NULL;
	bool blocked = target_blockers(a, f);
	if (f->has_addr)
		addr_reasons(a, f, blocked);
	else
		target_reasons(a, f);
	return a;
}

json_t *why_process(pid_t pid, int r, const struct proc_look *l, const struct thpd_config *cfg)
{
	json_t *a = json_array();
	char buf[256];

	if (!a)
		return NULL;
	if (r < 0 || l->state == 'Z' || l->state == 'X') {
		add(a, "no-process", "no process %d (that you may see)", (int)pid);
		return a;
	}
	if (l->kthread) {
		add(a, "kernel-thread", "a kernel thread (or exiting): no user memory to collapse");
		return a;
	}
	if (l->thp_enabled == 0)
		add(a, "thp-disabled",
		    "THP is disabled for this process (prctl PR_SET_THP_DISABLE: THP_enabled: 0 in "
		    "/proc/%d/status)",
		    (int)pid);
	struct proc_identity id = {.pid = pid,
				   .uid = l->uid,
				   .comm = l->comm,
				   .exe = l->exe,
				   .unit = l->unit,
				   .cgroup = l->cgroup,
				   .anon_bytes = l->anon_bytes};
	const struct policy *p = policy_find(cfg, &id);
	if (p && p->ignore) {
		add(a, "ignored", "policy '%s' (%s:%u) matches it and says ignore: true", p->name,
		    p->file ? p->file : "?", p->line);
	} else if (p) {
		add(a, "not-yet", "policy '%s' matches it: thpd adopts it at its next discovery",
		    p->name);
	} else {
		add(a, "no-policy", "no policy matches it (%zu polic%s)", cfg ? cfg->n_policies : 0,
		    cfg && cfg->n_policies == 1 ? "y" : "ies");
		for (size_t i = 0; cfg && i < cfg->n_policies; i++)
			if (policy_mismatch(&cfg->policies[i], &id, buf, sizeof(buf)))
				add(a, "policy-mismatch", "policy '%s': %s", cfg->policies[i].name,
				    buf);
	}
	return a;
}
