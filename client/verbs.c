/* SPDX-License-Identifier: MIT */
/*
 * The verbs that talk to the daemon: one call each, printed through a view.
 * Here: what they share (verbs.h), status, counters and policy; targets and
 * show in verbs-targets.c, the steering verbs in verbs-steer.c, monitor in
 * verbs-monitor.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "protocol.h"
#include "thpctl.h"
#include "units.h"
#include "util.h"
#include "verbs.h"
#include "xalloc.h"

/* Known keys of the daemon's count maps, in display order. */
const char *const verbs_chunk_states[VERBS_N_CHUNK_STATES] = {
    THPD_CHUNK_CANDIDATE, THPD_CHUNK_BACKOFF, THPD_CHUNK_PARKED, THPD_CHUNK_QUARANTINED,
    THPD_CHUNK_HUGE};
const char *const verbs_results[VERBS_N_RESULTS] = {
    "ok", "eagain", "enomem", "unmapped", "ebusy", "einval", "gone", "denied", "other"};

bool verbs_in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (streq(s, list[i]))
			return true;
	return false;
}

/*
 * "127 huge, 1 backoff" from a {name: count} object: the known names in
 * order, then any others; zero counts left out; "none" if nothing is left.
 */
char *verbs_counts_summary(const json_t *counts, const char *const *order, size_t n_order)
{
	char *out = xstrdup("");
	const char *key;
	json_t *val;

	for (size_t i = 0; i <= n_order; i++) {
		json_object_foreach((json_t *)counts, key, val)
		{
			json_int_t n = json_is_integer(val) ? json_integer_value(val) : 0;
			bool known = verbs_in_list(key, order, n_order);
			char *next;

			if (n == 0 || (i < n_order ? !streq(key, order[i]) : known))
				continue;
			next = xasprintf("%s%s%lld %s", out, *out ? ", " : "", (long long)n, key);
			free(out);
			out = next;
		}
	}
	if (!*out) {
		free(out);
		out = xstrdup("none");
	}
	return out;
}

enum color verbs_target_state_color(const char *s)
{
	if (streq(s, THPD_TARGET_ACTIVE))
		return COLOR_GREEN;
	if (streq(s, THPD_TARGET_PAUSED))
		return COLOR_YELLOW;
	if (streq(s, THPD_TARGET_DENIED))
		return COLOR_RED;
	if (streq(s, THPD_TARGET_THP_DISABLED))
		return COLOR_DIM;
	return COLOR_NONE;
}

enum color verbs_chunk_state_color(const char *s)
{
	if (streq(s, THPD_CHUNK_HUGE))
		return COLOR_GREEN;
	if (streq(s, THPD_CHUNK_BACKOFF))
		return COLOR_YELLOW;
	if (streq(s, THPD_CHUNK_QUARANTINED))
		return COLOR_RED;
	if (streq(s, THPD_CHUNK_PARKED))
		return COLOR_DIM;
	return COLOR_NONE;
}

/* Run the call and print; parameters become the view's raw JSON. */
int verbs_call_and_print(struct ctx *c, const char *method, json_t *params,
			 void (*build)(struct view *v, const json_t *reply))
{
	struct varlink_reply reply;
	int r = ctx_call(c, method, params, &reply);

	if (r)
		return r;
	r = verbs_print(c, reply.parameters, build);
	varlink_reply_clear(&reply);
	return r;
}

int verbs_print(struct ctx *c, json_t *params, void (*build)(struct view *v, const json_t *reply))
{
	struct view *v = view_new(&c->out);
	int r;

	view_set_json(v, params);
	if (!c->out.json)
		build(v, params);
	r = ctx_print(c, v);
	view_free(v);
	return r;
}

/* ---- status ---- */

/*
 * One kernel feature: "yes", or the state with what the daemon got and what
 * it does instead ("no (ENOTTY; reads /proc/PID/pagemap instead)").
 */
static void feature_field(struct fields *f, const char *key, const json_t *features,
			  const char *name, const char *instead)
{
	const json_t *x = jget_obj(features, name);
	const char *st = jget_str_or(x, "state", "unknown"), *err = jget_str(x, "errno"),
		   *src = jget_str(x, "source");
	enum color c = streq(st, "yes")	      ? COLOR_NONE
		       : streq(st, "unknown") ? COLOR_DIM
					      : COLOR_YELLOW;
	bool yes = streq(st, "yes");
	const char *parts[3] = {err && !yes ? err : NULL, src, yes ? NULL : instead};
	char detail[256] = "";
	size_t len = 0;

	for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
		if (parts[i] && len < sizeof(detail))
			len += (size_t)snprintf(detail + len, sizeof(detail) - len, "%s%s",
						len ? "; " : "", parts[i]);
	if (*detail)
		fields_add(f, key, c, "%s (%s)", st, detail);
	else
		fields_add(f, key, c, "%s", st);
}

/* The kernel features section; absent from daemons older than it. */
static void build_kernel_features(struct view *v, const json_t *p)
{
	const json_t *k = json_object_get(p, "kernel_features");
	struct fields *f;

	if (!json_is_object(k))
		return;
	f = view_add_fields(v, "Kernel features (found at start)");
	feature_field(f, "MADV_COLLAPSE", k, "madv_collapse",
		      "process_madvise on other processes: collapses fail");
	feature_field(f, "PAGEMAP_SCAN", k, "pagemap_scan", "reads /proc/PID/pagemap instead");
	feature_field(f, "Proc connector", k, "proc_connector",
		      "new processes are found by the /proc walk of each scan");
	feature_field(f, "PSI", k, "psi", NULL);
	feature_field(f, "DAMON sysfs", k, "damon_sysfs", NULL);
	feature_field(f, "DAMON vaddr", k, "damon_vaddr", NULL);
	fields_add(f, "THP enabled", COLOR_NONE, "%s", jget_str_or(k, "thp_enabled", "-"));
	fields_add(f, "THP defrag", COLOR_NONE, "%s", jget_str_or(k, "thp_defrag", "-"));
}

/* Which hotness sources can be used now (what hotness auto chooses from). */
static void build_hotness_sources(struct view *v, const json_t *p)
{
	const json_t *h = json_object_get(p, "hotness");
	struct fields *f;

	if (!json_is_object(h))
		return;
	f = view_add_fields(v, "Hotness sources (auto takes the first usable)");
	static const char *const names[][2] = {{"damon", "DAMON regions"},
					       {"refs", "Referenced (refs)"}};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		const char *s = jget_str_or(h, names[i][0], "-");
		fields_add(f, names[i][1],
			   strncmp(s, "unavailable", 11) ? COLOR_NONE : COLOR_YELLOW, "%s", s);
	}
	fields_add(f, "none", COLOR_NONE, "always available");
}

static void build_status(struct view *v, const json_t *p)
{
	struct fields *f = view_add_fields(v, NULL);
	const json_t *budget = jget_obj(p, "budget");
	json_t *pauses = jget_array(p, "pauses"), *x;
	json_int_t rate = jget_int(budget, "rate");
	char a[FMT_BUF], b[FMT_BUF];
	size_t i;

	fields_add(f, "Version", COLOR_NONE, "%s", jget_str_or(p, "version", "-"));
	fields_add(f, "Uptime", COLOR_NONE, "%s",
		   fmt_seconds(jget_real(p, "uptime_sec"), a, sizeof(a)));
	fields_add(f, "Kernel", COLOR_NONE, "%s", jget_str_or(p, "kernel", "-"));
	fields_add(f, "THP mode", COLOR_NONE, "%s", jget_str_or(p, "thp_mode", "-"));
	fields_add(f, "Policies", COLOR_NONE, "%lld (config generation %lld)",
		   (long long)jget_int(p, "policies"), (long long)jget_int(p, "config_generation"));
	fields_add(f, "Targets", COLOR_NONE, "%lld", (long long)jget_int(p, "targets"));
	fields_add(f, "Collapsed", COLOR_NONE, "%s",
		   fmt_size(jget_int(p, "collapsed_bytes"), a, sizeof(a)));
	if (rate > 0)
		fields_add(f, "Budget", COLOR_NONE, "%s, %s available",
			   fmt_rate(rate, a, sizeof(a)),
			   fmt_size(jget_int(budget, "available"), b, sizeof(b)));
	else
		fields_add(f, "Budget", COLOR_NONE, "unlimited");
	if (json_array_size(pauses) == 0) {
		fields_add(f, "Pauses", COLOR_NONE, "none");
		build_kernel_features(v, p);
		build_hotness_sources(v, p);
		return;
	}
	fields_add(f, "Pauses", COLOR_YELLOW, "%zu active", json_array_size(pauses));

	struct table *t = view_add_table(v, "Pauses");
	static const struct column_def cols[] = {{"REASON", "reason", ALIGN_LEFT},
						 {"CGROUP", "cgroup", ALIGN_LEFT},
						 {"ENDS", "ends", ALIGN_LEFT},
						 {"WHY", "detail", ALIGN_LEFT}};
	table_add_columns(t, cols, ARRAY_SIZE(cols));
	json_array_foreach(pauses, i, x)
	{
		const char *reason = jget_str_or(x, "reason", "-");

		table_add_row(t);
		table_cell(t, COLOR_YELLOW, "%s", reason);
		table_cell(t, COLOR_NONE, "%s", jget_str_or(x, "cgroup", "-"));
		/* An operator pause lasts until 'thpctl resume', a pressure pause
		 * until memory pressure falls. */
		table_cell(t, COLOR_NONE, "%s",
			   json_is_number(json_object_get(x, "remaining_sec"))
			       ? fmt_relative(jget_real(x, "remaining_sec"), a, sizeof(a))
			   : streq(reason, "pressure") ? "when pressure falls"
						       : "on resume");
		table_cell(t, COLOR_NONE, "%s", jget_str_or(x, "detail", "-"));
	}
	build_kernel_features(v, p);
	build_hotness_sources(v, p);
}

int verb_status(struct ctx *c, int n_args, char **args)
{
	return verbs_call_and_print(c, THPD_METHOD_GET_STATUS, NULL, build_status);
}

/* ---- counters ---- */

/* "p50 <= 1.0 ms, p99 <= 5.0 ms" of a GetCounters histogram (the bucket
 * bound each quantile is under); NULL without observations. */
static const char *latency_text(const json_t *h, char *buf, size_t len)
{
	const json_t *buckets = jget_array(h, "buckets"), *b;
	json_int_t n = jget_int(h, "count");
	static const double q[] = {0.5, 0.99};
	char part[2][FMT_BUF + 8];
	size_t i;

	if (n <= 0)
		return NULL;
	for (size_t k = 0; k < ARRAY_SIZE(q); k++) {
		char t[FMT_BUF];

		/* Beyond every bound: "> the last one". */
		b = json_array_get(buckets, json_array_size(buckets) - 1);
		snprintf(part[k], sizeof(part[k]), "> %s",
			 fmt_seconds(jget_real(b, "le_sec"), t, sizeof(t)));
		json_array_foreach((json_t *)buckets, i, b)
		{
			if ((double)jget_int(b, "count") >= q[k] * (double)n) {
				snprintf(part[k], sizeof(part[k]), "<= %s",
					 fmt_seconds(jget_real(b, "le_sec"), t, sizeof(t)));
				break;
			}
		}
	}
	snprintf(buf, len, "p50 %s, p99 %s (%lld)", part[0], part[1], (long long)n);
	return buf;
}

static void build_counters(struct view *v, const json_t *p)
{
	const json_t *k = jget_obj(p, "counters"), *by = jget_obj(k, "by_result");
	struct fields *f = view_add_fields(v, NULL);
	json_int_t attempts = jget_int(k, "attempts");
	struct table *t;
	const char *key;
	json_t *val;
	char a[FMT_BUF], lat[3 * FMT_BUF];

	fields_add(f, "Attempts", COLOR_NONE, "%lld", (long long)attempts);
	fields_add(f, "Collapsed", COLOR_NONE, "%s",
		   fmt_size(jget_int(k, "collapsed_bytes"), a, sizeof(a)));
	fields_add(f, "Collapse time", COLOR_NONE, "%s",
		   fmt_seconds(jget_real(k, "collapse_sec"), a, sizeof(a)));
	fields_add(f, "Scans", COLOR_NONE, "%lld", (long long)jget_int(k, "scans"));
	fields_add(f, "Scan time", COLOR_NONE, "%s",
		   fmt_seconds(jget_real(k, "scan_sec"), a, sizeof(a)));
	if (json_object_get(k, "full_scans")) {
		fields_add(f, "Full scans", COLOR_NONE, "%lld",
			   (long long)jget_int(k, "full_scans"));
		fields_add(f, "Scan CPU time", COLOR_NONE, "%s",
			   fmt_seconds(jget_real(k, "scan_cpu_sec"), a, sizeof(a)));
	}
	if (latency_text(jget_obj(k, "collapse_latency"), lat, sizeof(lat)))
		fields_add(f, "Collapse latency", COLOR_NONE, "%s", lat);
	if (latency_text(jget_obj(k, "scan_latency"), lat, sizeof(lat)))
		fields_add(f, "Scan latency", COLOR_NONE, "%s", lat);
	fields_add(f, "Discoveries", COLOR_NONE, "%lld", (long long)jget_int(k, "discoveries"));
	fields_add(f, "Targets added", COLOR_NONE, "%lld", (long long)jget_int(k, "targets_added"));
	fields_add(f, "Targets removed", COLOR_NONE, "%lld",
		   (long long)jget_int(k, "targets_removed"));
	fields_add(f, "ENOMEM pauses", COLOR_NONE, "%lld", (long long)jget_int(k, "enomem_pauses"));
	fields_add(f, "EBUSY pauses", COLOR_NONE, "%lld", (long long)jget_int(k, "ebusy_pauses"));
	fields_add(f, "Splits", COLOR_NONE, "%lld", (long long)jget_int(k, "splits"));
	fields_add(f, "Reloads", COLOR_NONE, "%lld", (long long)jget_int(k, "reloads"));
	fields_add(f, "Reload failures", jget_int(k, "reload_failures") ? COLOR_YELLOW : COLOR_NONE,
		   "%lld", (long long)jget_int(k, "reload_failures"));

	t = view_add_table(v, "Attempts by result");
	static const struct column_def cols[] = {{"RESULT", "result", ALIGN_LEFT},
						 {"COUNT", "count", ALIGN_RIGHT},
						 {"SHARE", "share", ALIGN_RIGHT}};
	table_add_columns(t, cols, ARRAY_SIZE(cols));
	/* Known verbs_results in order, then any the daemon added since. */
	for (size_t i = 0; i <= VERBS_N_RESULTS; i++) {
		json_object_foreach((json_t *)by, key, val)
		{
			bool known = verbs_in_list(key, verbs_results, VERBS_N_RESULTS);
			json_int_t n = json_is_integer(val) ? json_integer_value(val) : 0;

			if (i < VERBS_N_RESULTS ? !streq(key, verbs_results[i]) : known)
				continue;
			table_add_row(t);
			table_cell(t, n && !streq(key, "ok") ? COLOR_YELLOW : COLOR_NONE, "%s",
				   key);
			table_cell(t, COLOR_NONE, "%lld", (long long)n);
			table_cell(t, COLOR_NONE, "%s", fmt_share(n, attempts, a, sizeof(a)));
		}
	}
}

int verb_counters(struct ctx *c, int n_args, char **args)
{
	return verbs_call_and_print(c, THPD_METHOD_GET_COUNTERS, NULL, build_counters);
}

/* ---- policy ---- */

/* "a, b, c" from an array of strings; NULL if it is empty. */
static char *join_strings(const json_t *list)
{
	char *out = NULL;
	json_t *x;
	size_t i;

	json_array_foreach((json_t *)list, i, x)
	{
		const char *s = json_string_value(x);
		char *next;

		if (!s)
			continue;
		next = xasprintf("%s%s%s", out ? out : "", out ? ", " : "", s);
		free(out);
		out = next;
	}
	return out;
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

static void build_policy_daemon(struct view *v, const json_t *p)
{
	const json_t *cfg = jget_obj(p, "policy"), *d = jget_obj(cfg, "daemon");
	const json_t *retry = jget_obj(cfg, "retry"), *eagain = jget_obj(retry, "eagain");
	struct fields *f = view_add_fields(v, "Daemon");
	json_int_t refresh = jget_int(d, "smaps_refresh");
	char a[FMT_BUF], b[FMT_BUF];

	fields_add(f, "Config generation", COLOR_NONE, "%lld",
		   (long long)jget_int(p, "config_generation"));
	fields_add(f, "Scan interval", COLOR_NONE, "%s",
		   fmt_seconds(jget_real(d, "scan_interval_sec"), a, sizeof(a)));
	fields_add(f, "Max collapse rate", COLOR_NONE, "%s",
		   fmt_rate(jget_int(d, "max_collapse_rate"), a, sizeof(a)));
	fields_add(f, "Socket", COLOR_NONE, "%s",
		   jget_str_or(d, "socket", "not set (thpd --socket or the built-in default)"));
	fields_add(f, "Smaps refresh", COLOR_NONE, "every %lld scan%s", (long long)refresh,
		   refresh == 1 ? "" : "s");

	f = view_add_fields(v, "Retry");
	fields_add(f, "EAGAIN backoff", COLOR_NONE, "%s to %s, at most %lld attempts",
		   fmt_seconds(jget_real(eagain, "initial_sec"), a, sizeof(a)),
		   fmt_seconds(jget_real(eagain, "max_sec"), b, sizeof(b)),
		   (long long)jget_int(eagain, "attempts"));
	fields_add(f, "ENOMEM pause", COLOR_NONE, "%s",
		   fmt_seconds(jget_real(jget_obj(retry, "enomem"), "pause_sec"), a, sizeof(a)));
	fields_add(f, "EBUSY pause", COLOR_NONE, "%s",
		   fmt_seconds(jget_real(jget_obj(retry, "ebusy"), "pause_sec"), a, sizeof(a)));
}

static void build_one_policy(struct view *v, const json_t *x)
{
	static const struct {
		const char *key, *label;
	} lists[] = {
	    {"comm", "Comm"}, {"exe", "Exe"},	    {"user", "User"},
	    {"unit", "Unit"}, {"cgroup", "Cgroup"},
	};
	const json_t *match = jget_obj(x, "match");
	const char *file = jget_str(x, "file");
	json_int_t min_anon = jget_int(match, "min_anon"), max_huge = jget_int(x, "max_huge");
	bool ignore = jget_bool(x, "ignore"), any = true;
	char *title = xasprintf("Policy %s", jget_str_or(x, "name", "?"));
	struct fields *f = view_add_fields(v, title);
	char a[FMT_BUF];

	free(title);
	if (file)
		fields_add(f, "Defined in", COLOR_NONE, "%s:%lld", file,
			   (long long)jget_int(x, "line"));
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
		char *s = join_strings(jget_array(match, lists[i].key));

		if (!s)
			continue;
		fields_add(f, lists[i].label, COLOR_NONE, "%s", s);
		free(s);
		any = false;
	}
	if (min_anon > 0) {
		fields_add(f, "Min anon", COLOR_NONE, "%s", fmt_size(min_anon, a, sizeof(a)));
		any = false;
	}
	if (any)
		fields_add(f, "Match", COLOR_NONE, "any process");
	fields_add(f, "Ignore", ignore ? COLOR_YELLOW : COLOR_NONE, "%s", yes_no(ignore));
	fields_add(f, "Hotness", COLOR_NONE, "%s", jget_str_or(x, "hotness", "-"));
	fields_add(f, "Min hot", COLOR_NONE, "%s",
		   fmt_percent(jget_real(x, "min_hot_percent"), a, sizeof(a)));
	fields_add(f, "Max rate", COLOR_NONE, "%s",
		   fmt_rate(jget_int(x, "max_rate"), a, sizeof(a)));
	double max_stall = jget_real(x, "max_stall_percent");
	if (max_stall > 0)
		fields_add(f, "Max stall", COLOR_NONE, "%g%% of the time", max_stall);
	else
		fields_add(f, "Max stall", COLOR_NONE, "%s", isnan(max_stall) ? "-" : "unlimited");
	fields_add(f, "Max huge", COLOR_NONE, "%s",
		   max_huge > 0 ? fmt_size(max_huge, a, sizeof(a)) : "unlimited");
	fields_add(f, "Min present", COLOR_NONE, "%s",
		   fmt_percent(jget_real(x, "min_present_percent"), a, sizeof(a)));
	fields_add(f, "Shmem", COLOR_NONE, "%s", yes_no(jget_bool(x, "shmem")));
}

static void build_policy(struct view *v, const json_t *p)
{
	json_t *policies = jget_array(jget_obj(p, "policy"), "policies"), *x;
	size_t i;

	build_policy_daemon(v, p);
	json_array_foreach(policies, i, x) build_one_policy(v, x);
}

int verb_policy(struct ctx *c, int n_args, char **args)
{
	return verbs_call_and_print(c, THPD_METHOD_GET_POLICY, NULL, build_policy);
}
