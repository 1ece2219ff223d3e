/* SPDX-License-Identifier: MIT */
/*
 * The config schema (pure): the tree of one file walked against the sections
 * (daemon, retry, policies), collecting every diagnostic instead of stopping
 * at the first one; config_parse, config_validate, config_init, config_free.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "config-internal.h"
#include "units.h"
#include "util.h"

#define MAX_POLICIES 4096 /* per file */
#define COMM_MAX_LEN 15	  /* TASK_COMM_LEN - 1 */

/* ---- sections ------------------------------------------------------------------ */

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static void match_list_free(struct match_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].pattern);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void policy_free(struct policy *p)
{
	free(p->name);
	free(p->file);
	match_list_free(&p->match.comm);
	match_list_free(&p->match.exe);
	match_list_free(&p->match.user);
	match_list_free(&p->match.unit);
	match_list_free(&p->match.cgroup);
	free(p->match.uids);
	memset(p, 0, sizeof(*p));
}

enum list_kind { LIST_COMM, LIST_EXE, LIST_USER, LIST_UNIT, LIST_CGROUP };

static bool check_pattern(struct pctx *c, const struct ynode *n, const char *path,
			  enum list_kind lk)
{
	char eb[ESC_BUF];

	if (!*n->str) {
		perr(c, n, "%s: empty pattern", path);
		return false;
	}
	if (lk == LIST_COMM && !has_glob(n->str) && strlen(n->str) > COMM_MAX_LEN) {
		perr(c, n, "%s: \"%s\" can never match: the kernel truncates comm to %d characters",
		     path, config_esc(n->str, eb, sizeof(eb)), COMM_MAX_LEN);
		return false;
	}
	return true;
}

/* A scalar is a one-item list. */
static void parse_list(struct pctx *c, const struct ynode *n, const char *path, enum list_kind lk,
		       struct match_list *l)
{
	const char *what =
	    lk == LIST_USER ? "a user or a list of users" : "a pattern or a list of patterns";
	const struct ynode *const *items;
	size_t count;
	unsigned nerr0 = c->nerr;
	bool bad = false;
	char ipath[128];

	if (n->type == YN_BAD)
		return;
	if (n->type == YN_MAP) {
		perr(c, n, "%s: expected %s, got a mapping", path, what);
		return;
	}
	if (n->type == YN_SCALAR) {
		if (ynode_is_null(n)) {
			perr(c, n, "%s: missing value (expected %s)", path, what);
			return;
		}
		items = (const struct ynode *const *)&n;
		count = 1;
	} else {
		items = (const struct ynode *const *)n->kids;
		count = n->n;
		if (!count) {
			perr(c, n, "%s: empty list: would never match", path);
			return;
		}
	}

	for (size_t i = 0; i < count; i++) {
		const struct ynode *it = items[i];

		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		if (it->type == YN_BAD) {
			bad = true; /* reported when the tree was built */
			continue;
		}
		if (it->type != YN_SCALAR || ynode_is_null(it)) {
			perr(c, it, "%s: expected a string, got a %s", ipath, ynode_kind(it));
			continue;
		}
		check_pattern(c, it, n->type == YN_SCALAR ? path : ipath, lk);
	}
	if (c->nerr != nerr0 || bad)
		return;

	l->v = calloc(count, sizeof(*l->v));
	if (!l->v) {
		c->oom = true;
		return;
	}
	for (size_t i = 0; i < count; i++) {
		l->v[i].pattern = strdup(items[i]->str);
		if (!l->v[i].pattern) {
			c->oom = true;
			return;
		}
		l->v[i].line = items[i]->line;
		l->v[i].col = items[i]->col;
		l->n++;
	}
}

enum { MK_COMM, MK_EXE, MK_USER, MK_UNIT, MK_CGROUP, MK_MIN_ANON, MK_MAX };
static const char *const match_keys[MK_MAX] = {"comm", "exe", "user", "unit", "cgroup", "min_anon"};

static void parse_match(struct pctx *c, const struct ynode *n, const char *ppath,
			struct policy_match *m)
{
	static const enum list_kind lists[] = {LIST_COMM, LIST_EXE, LIST_USER, LIST_UNIT,
					       LIST_CGROUP};
	struct match_list *dst[] = {&m->comm, &m->exe, &m->user, &m->unit, &m->cgroup};
	struct field f[MK_MAX];
	bool cond = false;
	char path[64], sub[96];

	snprintf(path, sizeof(path), "%s.match", ppath);
	if (ynode_is_null(n) || (n->type == YN_MAP && n->n == 0)) {
		perr(c, n, "%s: empty: would select every process; use min_anon to select by size",
		     path);
		return;
	}
	if (!config_map_fields(c, n, path, false, match_keys, MK_MAX, f))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
		if (!f[i].val)
			continue;
		snprintf(sub, sizeof(sub), "%s.%s", path, match_keys[i]);
		parse_list(c, f[i].val, sub, lists[i], dst[i]);
	}
	/* A condition that failed to parse was reported already: not "empty". */
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		if (f[i].val)
			cond = true;
	if (f[MK_MIN_ANON].val) {
		snprintf(sub, sizeof(sub), "%s.min_anon", path);
		if (!config_get_size(c, f[MK_MIN_ANON].val, sub, false, &m->min_anon) ||
		    m->min_anon)
			cond = true;
	}
	if (!cond)
		perr(c, n, "%s: empty: would select every process; use min_anon to select by size",
		     path);
}

static bool valid_policy_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

/* Add p to cfg (replacing a policy of the same name in place); takes p. */
static void merge_policy(struct pctx *c, struct thpd_config *cfg, struct policy *p)
{
	struct policy *v;

	for (size_t i = 0; i < cfg->n_policies; i++) {
		if (streq(cfg->policies[i].name, p->name)) {
			policy_free(&cfg->policies[i]);
			cfg->policies[i] = *p;
			memset(p, 0, sizeof(*p));
			return;
		}
	}
	v = reallocarray(cfg->policies, cfg->n_policies + 1, sizeof(*v));
	if (!v) {
		c->oom = true;
		policy_free(p);
		return;
	}
	cfg->policies = v;
	cfg->policies[cfg->n_policies++] = *p;
	memset(p, 0, sizeof(*p));
}

enum {
	PK_NAME,
	PK_MATCH,
	PK_IGNORE,
	PK_HOTNESS,
	PK_MIN_HOT,
	PK_MAX_RATE,
	PK_MAX_STALL,
	PK_MAX_HUGE,
	PK_MIN_PRESENT,
	PK_SHMEM,
	PK_MAX
};
static const char *const policy_keys[PK_MAX] = {
    "name",	"match",     "ignore",	 "hotness",	"min_hot",
    "max_rate", "max_stall", "max_huge", "min_present", "shmem",
};

/* seen: name nodes of the policies before this one in the same file. */
static void parse_policy(struct pctx *c, const struct ynode *n, size_t idx,
			 const struct ynode **seen, size_t *n_seen, struct thpd_config *cfg)
{
	struct policy p = {
	    .hotness = HOTNESS_NONE,
	    .min_hot_bp = DEFAULT_MIN_HOT_BP,
	    .min_present_bp = DEFAULT_MIN_PRESENT_BP,
	    .line = n->line,
	};
	struct field f[PK_MAX];
	unsigned nerr0 = c->nerr, nerr_hot;
	bool hotness_ok;
	const char *name = NULL, *s;
	char path[48], sub[80], eb[ESC_BUF];

	snprintf(path, sizeof(path), "policies[%zu]", idx);
	if (!config_map_fields(c, n, path, false, policy_keys, PK_MAX, f))
		return;

#define SUB(k) (snprintf(sub, sizeof(sub), "%s.%s", path, policy_keys[k]), sub)
	if (!f[PK_NAME].val) {
		perr(c, n, "%s: missing required key \"name\"", path);
	} else if (config_get_string(c, f[PK_NAME].val, SUB(PK_NAME), &s)) {
		if (!valid_policy_name(s)) {
			perr(c, f[PK_NAME].val,
			     "%s: bad policy name \"%s\": use only letters, digits, '_', '.' and "
			     "'-'",
			     sub, config_esc(s, eb, sizeof(eb)));
		} else {
			name = s;
			for (size_t i = 0; i < *n_seen; i++) {
				if (streq(seen[i]->str, s)) {
					perr(c, f[PK_NAME].val,
					     "%s: duplicate policy name \"%s\" (first at %u:%u)",
					     sub, config_esc(s, eb, sizeof(eb)), seen[i]->line,
					     seen[i]->col);
					name = NULL;
					break;
				}
			}
			if (name)
				seen[(*n_seen)++] = f[PK_NAME].val;
		}
	}
	if (!f[PK_MATCH].val)
		perr(c, n, "%s: missing required key \"match\"", path);
	else
		parse_match(c, f[PK_MATCH].val, path, &p.match);
	if (f[PK_IGNORE].val)
		config_get_bool(c, f[PK_IGNORE].val, SUB(PK_IGNORE), &p.ignore);
	nerr_hot = c->nerr;
	if (f[PK_HOTNESS].val &&
	    (s = config_scalar(c, f[PK_HOTNESS].val, SUB(PK_HOTNESS),
			       "a hotness source (none, refs, damon or auto)"))) {
		if (streq(s, "none"))
			p.hotness = HOTNESS_NONE;
		else if (streq(s, "refs"))
			p.hotness = HOTNESS_REFS;
		else if (streq(s, "damon"))
			p.hotness = HOTNESS_DAMON;
		else if (streq(s, "auto"))
			p.hotness = HOTNESS_AUTO;
		else
			perr(c, f[PK_HOTNESS].val,
			     "%s: bad hotness \"%s\": expected none, refs, damon or auto", sub,
			     config_esc(s, eb, sizeof(eb)));
	}
	hotness_ok = c->nerr == nerr_hot;
	if (f[PK_MIN_HOT].val &&
	    config_get_percent(c, f[PK_MIN_HOT].val, SUB(PK_MIN_HOT), &p.min_hot_bp) &&
	    p.hotness == HOTNESS_NONE && hotness_ok)
		perr(c, f[PK_MIN_HOT].key,
		     "%s: only used with a hotness source (refs, damon, auto)", sub);
	if (f[PK_MAX_RATE].val)
		config_get_size(c, f[PK_MAX_RATE].val, SUB(PK_MAX_RATE), true, &p.max_rate);
	if (f[PK_MAX_STALL].val)
		config_get_percent(c, f[PK_MAX_STALL].val, SUB(PK_MAX_STALL), &p.max_stall_bp);
	if (f[PK_MAX_HUGE].val)
		config_get_size(c, f[PK_MAX_HUGE].val, SUB(PK_MAX_HUGE), false, &p.max_huge);
	if (f[PK_MIN_PRESENT].val)
		config_get_percent(c, f[PK_MIN_PRESENT].val, SUB(PK_MIN_PRESENT),
				   &p.min_present_bp);
	if (f[PK_SHMEM].val)
		config_get_bool(c, f[PK_SHMEM].val, SUB(PK_SHMEM), &p.shmem);
#undef SUB

	if (c->nerr != nerr0 || c->oom || !name)
		goto fail;
	p.name = strdup(name);
	p.file = strdup(c->file);
	if (!p.name || !p.file) {
		c->oom = true;
		goto fail;
	}
	merge_policy(c, cfg, &p);
	return;
fail:
	policy_free(&p);
}

static void parse_policies(struct pctx *c, const struct ynode *n, struct thpd_config *cfg)
{
	const struct ynode **seen;
	size_t n_seen = 0;

	if (n->type == YN_BAD)
		return;
	if (ynode_is_null(n) || (n->type == YN_SEQ && n->n == 0)) {
		perr(c, n, "policies: empty: at least one policy is required");
		return;
	}
	if (n->type != YN_SEQ) {
		perr(c, n, "policies: expected a sequence of policies, got a %s", ynode_kind(n));
		return;
	}
	if (n->n > MAX_POLICIES) {
		perr(c, n, "policies: too many policies (%zu, at most %d)", n->n, MAX_POLICIES);
		return;
	}
	seen = calloc(n->n, sizeof(*seen));
	if (!seen) {
		c->oom = true;
		return;
	}
	for (size_t i = 0; i < n->n && !c->oom; i++)
		parse_policy(c, n->kids[i], i, seen, &n_seen, cfg);
	free(seen);
}

enum {
	DK_SCAN_INTERVAL,
	DK_MAX_COLLAPSE_RATE,
	DK_SOCKET,
	DK_SMAPS_REFRESH,
	DK_PRESSURE,
	DK_COLLAPSE_SCHED,
	DK_COLLAPSE_NICE,
	DK_METRICS_TEXTFILE,
	DK_METRICS_INTERVAL,
	DK_MAX
};
static const char *const daemon_keys[DK_MAX] = {
    "scan_interval",	  "max_collapse_rate", "socket",	   "smaps_refresh",   "pressure",
    "collapse_scheduler", "collapse_nice",     "metrics_textfile", "metrics_interval"};

const char *worker_sched_name(enum worker_sched s)
{
	static const char *const names[] = {"other", "batch", "idle"};

	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "?";
}

static void parse_collapse_sched(struct pctx *c, const struct ynode *v, struct daemon_config *d)
{
	const char *s = config_scalar(c, v, "daemon.collapse_scheduler",
				      "a scheduling policy (other, batch or idle)");
	char eb[ESC_BUF];

	if (!s)
		return;
	for (int i = WORKER_SCHED_OTHER; i <= WORKER_SCHED_IDLE; i++) {
		if (streq(s, worker_sched_name(i))) {
			d->collapse_sched = i;
			return;
		}
	}
	perr(c, v, "daemon.collapse_scheduler: bad policy \"%s\": expected other, batch or idle",
	     config_esc(s, eb, sizeof(eb)));
}
/* daemon.metrics_textfile: node_exporter's textfile collector reads *.prom
 * files only; "" turns it off (a drop-in undoing the main file). */
static void parse_metrics_textfile(struct pctx *c, const struct ynode *v, struct daemon_config *d)
{
	const char *s = config_scalar(c, v, "daemon.metrics_textfile", "a file path");
	size_t len = s ? strlen(s) : 0;
	char eb[ESC_BUF], *copy = NULL;

	if (!s)
		return;
	if (len && s[0] != '/') {
		perr(c, v, "daemon.metrics_textfile: \"%s\" is not an absolute path",
		     config_esc(s, eb, sizeof(eb)));
		return;
	}
	const char *base = len ? strrchr(s, '/') + 1 : s;
	size_t base_len = strlen(base);

	if (len && (base_len < 6 || !streq(base + base_len - 5, ".prom"))) {
		perr(c, v,
		     "daemon.metrics_textfile: \"%s\" does not end in .prom (node_exporter's "
		     "textfile collector reads only *.prom files)",
		     config_esc(s, eb, sizeof(eb)));
		return;
	}
	if (len >= PATH_MAX - 16) {
		perr(c, v, "daemon.metrics_textfile: path is too long (at most %d bytes)",
		     PATH_MAX - 17);
		return;
	}
	if (len && !(copy = strdup(s))) {
		c->oom = true;
		return;
	}
	free(d->metrics_textfile);
	d->metrics_textfile = copy;
}

enum { PRK_SOME, PRK_FULL, PRK_MAX };
static const char *const pressure_keys[PRK_MAX] = {"some", "full"};

static void parse_daemon(struct pctx *c, const struct ynode *n, struct daemon_config *d)
{
	struct field f[DK_MAX];
	const struct ynode *v;
	const char *s;
	char eb[ESC_BUF];

	if (!config_map_fields(c, n, "daemon", true, daemon_keys, DK_MAX, f))
		return;
	if ((v = f[DK_SCAN_INTERVAL].val))
		config_get_duration(c, v, "daemon.scan_interval", MIN_SCAN_INTERVAL_USEC,
				    &d->scan_interval_usec);
	if ((v = f[DK_MAX_COLLAPSE_RATE].val))
		config_get_size(c, v, "daemon.max_collapse_rate", true, &d->max_collapse_rate);
	if ((v = f[DK_SOCKET].val) && config_get_string(c, v, "daemon.socket", &s)) {
		if (s[0] != '/') {
			perr(c, v, "daemon.socket: \"%s\" is not an absolute path",
			     config_esc(s, eb, sizeof(eb)));
		} else if (strlen(s) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
			perr(c, v, "daemon.socket: path is too long (at most %zu bytes)",
			     sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1);
		} else {
			char *copy = strdup(s);

			if (!copy) {
				c->oom = true;
			} else {
				free(d->socket_path);
				d->socket_path = copy;
			}
		}
	}
	if ((v = f[DK_SMAPS_REFRESH].val))
		config_get_uint32(c, v, "daemon.smaps_refresh", 1, &d->smaps_refresh);
	if ((v = f[DK_METRICS_TEXTFILE].val))
		parse_metrics_textfile(c, v, d);
	if ((v = f[DK_METRICS_INTERVAL].val))
		config_get_duration(c, v, "daemon.metrics_interval", MIN_METRICS_INTERVAL_USEC,
				    &d->metrics_interval_usec);
	if ((v = f[DK_COLLAPSE_SCHED].val))
		parse_collapse_sched(c, v, d);
	uint32_t nice;
	if ((v = f[DK_COLLAPSE_NICE].val) &&
	    config_get_uint32(c, v, "daemon.collapse_nice", 0, &nice)) {
		if (nice > MAX_NICE)
			perr(c, v, "daemon.collapse_nice: %u is out of range 0..%d", nice,
			     MAX_NICE);
		else
			d->collapse_nice = nice;
	}
	struct field pr[PRK_MAX];
	if ((v = f[DK_PRESSURE].val) &&
	    config_map_fields(c, v, "daemon.pressure", true, pressure_keys, PRK_MAX, pr)) {
		if (pr[PRK_SOME].val)
			config_get_percent(c, pr[PRK_SOME].val, "daemon.pressure.some",
					   &d->pressure_some_bp);
		if (pr[PRK_FULL].val)
			config_get_percent(c, pr[PRK_FULL].val, "daemon.pressure.full",
					   &d->pressure_full_bp);
	}
}

enum { RK_EAGAIN, RK_ENOMEM, RK_EBUSY, RK_MAX };
static const char *const retry_keys[RK_MAX] = {"eagain", "enomem", "ebusy"};
enum { EK_INITIAL, EK_MAX_, EK_ATTEMPTS, EK_MAX };
static const char *const eagain_keys[EK_MAX] = {"initial", "max", "attempts"};
static const char *const pause_keys[] = {"pause"};

static void parse_retry(struct pctx *c, const struct ynode *n, struct retry_config *r)
{
	struct field f[RK_MAX], e[EK_MAX], p[1];
	uint64_t initial = 0, max = 0;
	bool have_initial = false, have_max = false;

	if (!config_map_fields(c, n, "retry", true, retry_keys, RK_MAX, f))
		return;
	if (f[RK_EAGAIN].val &&
	    config_map_fields(c, f[RK_EAGAIN].val, "retry.eagain", true, eagain_keys, EK_MAX, e)) {
		if (e[EK_INITIAL].val)
			have_initial = config_get_duration(c, e[EK_INITIAL].val,
							   "retry.eagain.initial", 1, &initial);
		if (e[EK_MAX_].val)
			have_max =
			    config_get_duration(c, e[EK_MAX_].val, "retry.eagain.max", 1, &max);
		if (have_initial && have_max && initial > max) {
			perr(c, e[EK_INITIAL].val,
			     "retry.eagain.initial: must not be greater than retry.eagain.max");
		} else {
			if (have_initial)
				r->eagain_initial_usec = initial;
			if (have_max)
				r->eagain_max_usec = max;
		}
		if (e[EK_ATTEMPTS].val)
			config_get_uint32(c, e[EK_ATTEMPTS].val, "retry.eagain.attempts", 1,
					  &r->eagain_attempts);
	}
	if (f[RK_ENOMEM].val &&
	    config_map_fields(c, f[RK_ENOMEM].val, "retry.enomem", true, pause_keys, 1, p) &&
	    p[0].val)
		config_get_duration(c, p[0].val, "retry.enomem.pause", 1, &r->enomem_pause_usec);
	if (f[RK_EBUSY].val &&
	    config_map_fields(c, f[RK_EBUSY].val, "retry.ebusy", true, pause_keys, 1, p) &&
	    p[0].val)
		config_get_duration(c, p[0].val, "retry.ebusy.pause", 1, &r->ebusy_pause_usec);
}

enum { TK_DAEMON, TK_RETRY, TK_POLICIES, TK_MAX };
static const char *const top_keys[TK_MAX] = {"daemon", "retry", "policies"};

static void parse_root(struct pctx *c, const struct ynode *root, struct thpd_config *cfg)
{
	struct field f[TK_MAX];

	if (!root || ynode_is_null(root)) {
		config_perr_at(c, root ? root->line : 1, root ? root->col : 1, "empty document");
		return;
	}
	if (root->type == YN_MAP && root->n == 0) {
		perr(c, root, "empty document");
		return;
	}
	if (root->type != YN_MAP && root->type != YN_BAD) {
		perr(c, root, "expected a mapping at the top level, got a %s", ynode_kind(root));
		return;
	}
	if (!config_map_fields(c, root, "", false, top_keys, TK_MAX, f))
		return;
	if (f[TK_DAEMON].val)
		parse_daemon(c, f[TK_DAEMON].val, &cfg->daemon);
	if (f[TK_RETRY].val)
		parse_retry(c, f[TK_RETRY].val, &cfg->retry);
	if (f[TK_POLICIES].val)
		parse_policies(c, f[TK_POLICIES].val, cfg);
}

/* ---- public API ----------------------------------------------------------------- */

void config_init(struct thpd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->daemon.scan_interval_usec = DEFAULT_SCAN_INTERVAL_USEC;
	cfg->daemon.max_collapse_rate = DEFAULT_MAX_COLLAPSE_RATE;
	cfg->daemon.smaps_refresh = DEFAULT_SMAPS_REFRESH;
	cfg->daemon.pressure_some_bp = DEFAULT_PRESSURE_SOME_BP;
	cfg->daemon.pressure_full_bp = DEFAULT_PRESSURE_FULL_BP;
	cfg->daemon.collapse_sched = DEFAULT_COLLAPSE_SCHED;
	cfg->daemon.collapse_nice = DEFAULT_COLLAPSE_NICE;
	cfg->daemon.metrics_interval_usec = DEFAULT_METRICS_INTERVAL_USEC;
	cfg->retry.eagain_initial_usec = DEFAULT_EAGAIN_INITIAL_USEC;
	cfg->retry.eagain_max_usec = DEFAULT_EAGAIN_MAX_USEC;
	cfg->retry.eagain_attempts = DEFAULT_EAGAIN_ATTEMPTS;
	cfg->retry.enomem_pause_usec = DEFAULT_ENOMEM_PAUSE_USEC;
	cfg->retry.ebusy_pause_usec = DEFAULT_EBUSY_PAUSE_USEC;
}

void config_free(struct thpd_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_policies; i++)
		policy_free(&cfg->policies[i]);
	free(cfg->policies);
	free(cfg->daemon.socket_path);
	free(cfg->daemon.metrics_textfile);
	cfg->policies = NULL;
	cfg->n_policies = 0;
	cfg->daemon.socket_path = NULL;
	cfg->daemon.metrics_textfile = NULL;
}

struct diag_pos {
	struct config_diag d;
	size_t idx;
};

static int diag_pos_cmp(const void *a, const void *b)
{
	const struct diag_pos *x = a, *y = b;

	if (x->d.line != y->d.line)
		return x->d.line < y->d.line ? -1 : 1;
	if (x->d.col != y->d.col)
		return x->d.col < y->d.col ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Stable sort of d->v[from..] by position, so a file's diagnostics read in order. */
static void diags_sort(struct config_diags *d, size_t from)
{
	struct diag_pos *t;
	size_t n;

	if (!d || d->n - from < 2)
		return;
	n = d->n - from;
	t = calloc(n, sizeof(*t));
	if (!t)
		return; /* unsorted is still correct */
	for (size_t i = 0; i < n; i++) {
		t[i].d = d->v[from + i];
		t[i].idx = i;
	}
	qsort(t, n, sizeof(*t), diag_pos_cmp);
	for (size_t i = 0; i < n; i++)
		d->v[from + i] = t[i].d;
	free(t);
}

int config_parse(const char *filename, const char *buf, size_t len, struct thpd_config *cfg,
		 struct config_diags *diags)
{
	struct pctx c = {.file = filename ? filename : "<input>", .diags = diags};
	struct ynode *root = NULL;
	size_t n0 = diags ? diags->n : 0;
	int r;

	r = ynode_build_tree(&c, buf, len, &root);
	if (r == 0)
		parse_root(&c, root, cfg);
	ynode_free(root);
	diags_sort(diags, n0);
	if (c.oom) {
		config_diag_add(diags, c.file, 0, 0, "out of memory");
		return -ENOMEM;
	}
	return c.nerr ? -EINVAL : 0;
}

int config_validate(const struct thpd_config *cfg, struct config_diags *diags)
{
	struct config_diags *d = diags;
	char b1[32], b2[32];
	unsigned nerr = 0;

#define VERR(file, line, ...)                                                                      \
	do {                                                                                       \
		nerr++;                                                                            \
		config_diag_add(d, file, line, 0, __VA_ARGS__);                                    \
	} while (0)

	if (cfg->n_policies == 0)
		VERR(NULL, 0, "policies: empty: at least one policy is required");
	if (cfg->daemon.scan_interval_usec < MIN_SCAN_INTERVAL_USEC)
		VERR(NULL, 0, "daemon.scan_interval: must be at least 100ms");
	if (cfg->daemon.smaps_refresh < 1)
		VERR(NULL, 0, "daemon.smaps_refresh: must be at least 1");
	if (cfg->retry.eagain_initial_usec == 0 ||
	    cfg->retry.eagain_initial_usec > cfg->retry.eagain_max_usec)
		VERR(NULL, 0,
		     "retry.eagain: initial (%s) must be greater than 0 and not greater than max "
		     "(%s)",
		     format_duration(cfg->retry.eagain_initial_usec, b1, sizeof(b1)),
		     format_duration(cfg->retry.eagain_max_usec, b2, sizeof(b2)));
	if (cfg->retry.eagain_attempts < 1)
		VERR(NULL, 0, "retry.eagain.attempts: must be at least 1");
	for (size_t i = 0; i < cfg->n_policies; i++) {
		const struct policy *p = &cfg->policies[i];
		const struct policy_match *m = &p->match;

		if (!p->name || !*p->name)
			VERR(p->file, p->line, "policies[%zu]: missing name", i);
		if (!m->comm.n && !m->exe.n && !m->user.n && !m->unit.n && !m->cgroup.n &&
		    !m->min_anon)
			VERR(p->file, p->line,
			     "policy \"%s\": match: empty: would select every process; use "
			     "min_anon to select by size",
			     p->name ? p->name : "");
		if (p->min_hot_bp > BP_PER_100 || p->min_present_bp > BP_PER_100)
			VERR(p->file, p->line, "policy \"%s\": percentage above 100%%",
			     p->name ? p->name : "");
	}
#undef VERR
	return nerr ? -EINVAL : 0;
}

const char *hotness_source_name(enum hotness_source s)
{
	switch (s) {
	case HOTNESS_NONE:
		return "none";
	case HOTNESS_REFS:
		return "refs";
	case HOTNESS_DAMON:
		return "damon";
	case HOTNESS_AUTO:
		return "auto";
	}
	return "?";
}
