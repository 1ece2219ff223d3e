/* SPDX-License-Identifier: MIT */
/* The verbs that talk to the daemon: one call each, printed through a view. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "format.h"
#include "protocol.h"
#include "thpctl.h"
#include "units.h"
#include "util.h"
#include "xalloc.h"

/* Known keys of the daemon's count maps, in display order. */
static const char *const chunk_states[] = {THPD_CHUNK_CANDIDATE, THPD_CHUNK_BACKOFF,
					   THPD_CHUNK_PARKED, THPD_CHUNK_QUARANTINED,
					   THPD_CHUNK_HUGE};
static const char *const results[] = {"ok",	"eagain", "enomem", "unmapped", "ebusy",
				      "einval", "gone",	  "denied", "other"};

static bool in_list(const char *s, const char *const *list, size_t n)
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
static char *counts_summary(const json_t *counts, const char *const *order, size_t n_order)
{
	char *out = xstrdup("");
	const char *key;
	json_t *val;

	for (size_t i = 0; i <= n_order; i++) {
		json_object_foreach((json_t *)counts, key, val)
		{
			json_int_t n = json_is_integer(val) ? json_integer_value(val) : 0;
			bool known = in_list(key, order, n_order);
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

static enum color target_state_color(const char *s)
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

static enum color chunk_state_color(const char *s)
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
static int call_and_print(struct ctx *c, const char *method, json_t *params,
			  void (*build)(struct view *v, const json_t *reply))
{
	struct varlink_reply reply;
	struct view *v;
	int r = ctx_call(c, method, params, &reply);

	if (r)
		return r;
	v = view_new(&c->out);
	view_set_json(v, reply.parameters);
	if (!c->out.json)
		build(v, reply.parameters);
	r = ctx_print(c, v);
	view_free(v);
	varlink_reply_clear(&reply);
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
		return;
	}
	fields_add(f, "Pauses", COLOR_YELLOW, "%zu active", json_array_size(pauses));

	struct table *t = view_add_table(v, "Pauses");
	table_add_column(t, "REASON", "reason", ALIGN_LEFT);
	table_add_column(t, "CGROUP", "cgroup", ALIGN_LEFT);
	table_add_column(t, "ENDS", "ends", ALIGN_LEFT);
	table_add_column(t, "WHY", "detail", ALIGN_LEFT);
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
}

int verb_status(struct ctx *c, int n_args, char **args)
{
	return call_and_print(c, THPD_METHOD_GET_STATUS, NULL, build_status);
}

/* ---- targets ---- */

static int cmp_pid(const void *a, const void *b)
{
	json_int_t x = jget_int(*(json_t *const *)a, "pid"),
		   y = jget_int(*(json_t *const *)b, "pid");

	return (x > y) - (x < y);
}

static void build_targets(struct view *v, const json_t *p)
{
	json_t *list = jget_array(p, "targets");
	size_t n = json_array_size(list);
	json_t **sorted = xcalloc(n, sizeof(*sorted));
	json_int_t anon = 0, huge = 0, collapsed = 0;
	char a[FMT_BUF], b[FMT_BUF], s[FMT_BUF], d[FMT_BUF];
	struct table *t = view_add_table(v, NULL);

	for (size_t i = 0; i < n; i++)
		sorted[i] = json_array_get(list, i);
	qsort(sorted, n, sizeof(*sorted), cmp_pid);

	table_add_column(t, "PID", "pid", ALIGN_RIGHT);
	table_add_column(t, "COMM", "comm", ALIGN_LEFT);
	table_add_column(t, "POLICY", "policy", ALIGN_LEFT);
	table_add_column(t, "STATE", "state", ALIGN_LEFT);
	table_add_column(t, "ANON", "anon", ALIGN_RIGHT);
	table_add_column(t, "HUGE", "huge", ALIGN_RIGHT);
	table_add_column(t, "COVERAGE", "coverage", ALIGN_RIGHT);
	table_add_column(t, "COLLAPSED", "collapsed", ALIGN_RIGHT);
	table_add_column(t, "LAST-ERRNO", "last_errno", ALIGN_LEFT);
	for (size_t i = 0; i < n; i++) {
		const json_t *x = sorted[i];
		const char *state = jget_str_or(x, "state", "-");
		const char *err = jget_str(x, "last_errno");
		json_int_t xa = jget_int(x, "anon_bytes"), xh = jget_int(x, "huge_bytes");

		anon += xa;
		huge += xh;
		collapsed += jget_int(x, "collapsed_bytes");
		table_add_row(t);
		table_cell(t, COLOR_NONE, "%lld", (long long)jget_int(x, "pid"));
		table_cell(t, COLOR_NONE, "%s", jget_str_or(x, "comm", "-"));
		table_cell(t, COLOR_NONE, "%s", jget_str_or(x, "policy", "-"));
		table_cell(t, target_state_color(state), "%s", state);
		table_cell(t, COLOR_NONE, "%s", fmt_size(xa, a, sizeof(a)));
		table_cell(t, COLOR_NONE, "%s", fmt_size(xh, a, sizeof(a)));
		table_cell(t, COLOR_NONE, "%s", fmt_share(xh, xa, a, sizeof(a)));
		table_cell(t, COLOR_NONE, "%s",
			   fmt_size(jget_int(x, "collapsed_bytes"), a, sizeof(a)));
		table_cell(t, err ? COLOR_RED : COLOR_NONE, "%s", err ? err : "-");
	}
	if (n == 0)
		table_set_footer(t, "0 targets listed.");
	else
		table_set_footer(
		    t, "%zu target%s listed: %s anonymous, %s huge (%s), %s collapsed by thpd.", n,
		    n == 1 ? "" : "s", fmt_size(anon, a, sizeof(a)), fmt_size(huge, b, sizeof(b)),
		    fmt_share(huge, anon, s, sizeof(s)), fmt_size(collapsed, d, sizeof(d)));
	free(sorted);
}

int verb_targets(struct ctx *c, int n_args, char **args)
{
	return call_and_print(c, THPD_METHOD_LIST_TARGETS, NULL, build_targets);
}

/* ---- show PID ---- */

static void build_target_fields(struct view *v, const json_t *t)
{
	const json_t *s = jget_obj(t, "summary");
	const char *state = jget_str_or(s, "state", "-"), *err = jget_str(s, "last_errno");
	json_int_t anon = jget_int(s, "anon_bytes"), huge = jget_int(s, "huge_bytes");
	struct fields *f = view_add_fields(v, NULL);
	char a[FMT_BUF], b[FMT_BUF];
	char *x;

	fields_add(f, "PID", COLOR_NONE, "%lld", (long long)jget_int(s, "pid"));
	fields_add(f, "Command", COLOR_NONE, "%s", jget_str_or(s, "comm", "-"));
	fields_add(f, "Executable", COLOR_NONE, "%s", jget_str_or(t, "exe", "-"));
	fields_add(f, "UID", COLOR_NONE, "%lld", (long long)jget_int(s, "uid"));
	fields_add(f, "Policy", COLOR_NONE, "%s", jget_str_or(s, "policy", "-"));
	fields_add(f, "State", target_state_color(state), "%s", state);
	fields_add(f, "Unit", COLOR_NONE, "%s", jget_str_or(t, "unit", "-"));
	fields_add(f, "Cgroup", COLOR_NONE, "%s", jget_str_or(t, "cgroup", "-"));
	fields_add(f, "Memory cgroup", COLOR_NONE, "%s", jget_str_or(t, "memory_cgroup", "-"));
	fields_add(f, "Anonymous", COLOR_NONE, "%s", fmt_size(anon, a, sizeof(a)));
	fields_add(f, "Resident", COLOR_NONE, "%s",
		   fmt_size(jget_int(s, "resident_bytes"), a, sizeof(a)));
	fields_add(f, "Huge", COLOR_NONE, "%s (%s of anonymous)", fmt_size(huge, a, sizeof(a)),
		   fmt_share(huge, anon, b, sizeof(b)));
	fields_add(f, "Collapsed", COLOR_NONE, "%s by thpd",
		   fmt_size(jget_int(s, "collapsed_bytes"), a, sizeof(a)));
	fields_add(f, "Scans", COLOR_NONE, "%lld", (long long)jget_int(t, "scans"));
	x = counts_summary(jget_obj(t, "by_result"), results, ARRAY_SIZE(results));
	fields_add(f, "Attempts", COLOR_NONE, "%lld (%s)", (long long)jget_int(t, "attempts"), x);
	free(x);
	x = counts_summary(jget_obj(s, "chunks"), chunk_states, ARRAY_SIZE(chunk_states));
	fields_add(f, "Chunks", COLOR_NONE, "%zu (%s)", json_array_size(jget_array(t, "chunks")),
		   x);
	free(x);
	fields_add(f, "Last errno", err ? COLOR_RED : COLOR_NONE, "%s", err ? err : "-");
}

static void build_areas(struct view *v, const json_t *t)
{
	json_t *areas = jget_array(t, "areas"), *x;
	struct table *tb = view_add_table(v, "Areas");
	char a[FMT_BUF];
	size_t i;

	table_add_column(tb, "START", "start", ALIGN_LEFT);
	table_add_column(tb, "END", "end", ALIGN_LEFT);
	table_add_column(tb, "SIZE", "size", ALIGN_RIGHT);
	table_add_column(tb, "RESIDENT", "resident", ALIGN_RIGHT);
	table_add_column(tb, "HUGE", "huge", ALIGN_RIGHT);
	table_add_column(tb, "COVERAGE", "coverage", ALIGN_RIGHT);
	table_add_column(tb, "HOT", "hot", ALIGN_RIGHT);
	json_array_foreach(areas, i, x)
	{
		json_int_t start = jget_int(x, "start"), end = jget_int(x, "end");
		json_int_t res = jget_int(x, "resident_bytes"), huge = jget_int(x, "huge_bytes");

		table_add_row(tb);
		table_cell(tb, COLOR_NONE, "%s", fmt_addr(start, a, sizeof(a)));
		table_cell(tb, COLOR_NONE, "%s", fmt_addr(end, a, sizeof(a)));
		table_cell(tb, COLOR_NONE, "%s", fmt_size(end - start, a, sizeof(a)));
		table_cell(tb, COLOR_NONE, "%s", fmt_size(res, a, sizeof(a)));
		table_cell(tb, COLOR_NONE, "%s", fmt_size(huge, a, sizeof(a)));
		table_cell(tb, COLOR_NONE, "%s", fmt_share(huge, res, a, sizeof(a)));
		table_cell(tb, COLOR_NONE, "%s",
			   fmt_percent(jget_real(x, "hot_percent"), a, sizeof(a)));
	}
	table_set_footer(tb, "%zu area%s.", json_array_size(areas),
			 json_array_size(areas) == 1 ? "" : "s");
}

static void build_chunks(struct view *v, const json_t *t)
{
	json_t *chunks = jget_array(t, "chunks"), *x;
	struct table *tb = view_add_table(v, "Chunks");
	char a[FMT_BUF];
	size_t i;

	table_add_column(tb, "ADDR", "addr", ALIGN_LEFT);
	table_add_column(tb, "PRESENT", "present", ALIGN_RIGHT);
	table_add_column(tb, "STATE", "state", ALIGN_LEFT);
	table_add_column(tb, "ATTEMPTS", "attempts", ALIGN_RIGHT);
	table_add_column(tb, "LAST-ERRNO", "last_errno", ALIGN_LEFT);
	table_add_column(tb, "RETRY-IN", "retry_in", ALIGN_LEFT);
	table_add_column(tb, "SPLITS", "splits", ALIGN_RIGHT);
	json_array_foreach(chunks, i, x)
	{
		const char *state = jget_str_or(x, "state", "-"), *err = jget_str(x, "last_errno");
		const json_t *retry = json_object_get(x, "retry_in_sec");

		table_add_row(tb);
		table_cell(tb, COLOR_NONE, "%s", fmt_addr(jget_int(x, "addr"), a, sizeof(a)));
		table_cell(tb, COLOR_NONE, "%lld/%u", (long long)jget_int(x, "present"),
			   PAGES_PER_PMD);
		table_cell(tb, chunk_state_color(state), "%s", state);
		table_cell(tb, COLOR_NONE, "%lld", (long long)jget_int(x, "attempts"));
		table_cell(tb, err ? COLOR_RED : COLOR_NONE, "%s", err ? err : "-");
		table_cell(tb, COLOR_NONE, "%s",
			   json_is_number(retry)
			       ? fmt_relative(json_number_value(retry), a, sizeof(a))
			       : "-");
		table_cell(tb, COLOR_NONE, "%lld", (long long)jget_int(x, "splits"));
	}
	table_set_footer(tb, "%zu chunk%s.", json_array_size(chunks),
			 json_array_size(chunks) == 1 ? "" : "s");
}

static void build_target(struct view *v, const json_t *p)
{
	const json_t *t = jget_obj(p, "target");

	build_target_fields(v, t);
	build_areas(v, t);
	build_chunks(v, t);
}

int verb_show(struct ctx *c, int n_args, char **args)
{
	json_int_t pid;
	json_t *params;
	int r = parse_pid_arg(args[0], &pid);

	if (r)
		return r;
	params = json_pack("{s:I}", "pid", pid);
	if (!params)
		oom();
	r = call_and_print(c, THPD_METHOD_GET_TARGET, params, build_target);
	json_decref(params);
	return r;
}

/* ---- counters ---- */

static void build_counters(struct view *v, const json_t *p)
{
	const json_t *k = jget_obj(p, "counters"), *by = jget_obj(k, "by_result");
	struct fields *f = view_add_fields(v, NULL);
	json_int_t attempts = jget_int(k, "attempts");
	struct table *t;
	const char *key;
	json_t *val;
	char a[FMT_BUF];

	fields_add(f, "Attempts", COLOR_NONE, "%lld", (long long)attempts);
	fields_add(f, "Collapsed", COLOR_NONE, "%s",
		   fmt_size(jget_int(k, "collapsed_bytes"), a, sizeof(a)));
	fields_add(f, "Collapse time", COLOR_NONE, "%s",
		   fmt_seconds(jget_real(k, "collapse_sec"), a, sizeof(a)));
	fields_add(f, "Scans", COLOR_NONE, "%lld", (long long)jget_int(k, "scans"));
	fields_add(f, "Scan time", COLOR_NONE, "%s",
		   fmt_seconds(jget_real(k, "scan_sec"), a, sizeof(a)));
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
	table_add_column(t, "RESULT", "result", ALIGN_LEFT);
	table_add_column(t, "COUNT", "count", ALIGN_RIGHT);
	table_add_column(t, "SHARE", "share", ALIGN_RIGHT);
	/* Known results in order, then any the daemon added since. */
	for (size_t i = 0; i <= ARRAY_SIZE(results); i++) {
		json_object_foreach((json_t *)by, key, val)
		{
			bool known = in_list(key, results, ARRAY_SIZE(results));
			json_int_t n = json_is_integer(val) ? json_integer_value(val) : 0;

			if (i < ARRAY_SIZE(results) ? !streq(key, results[i]) : known)
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
	return call_and_print(c, THPD_METHOD_GET_COUNTERS, NULL, build_counters);
}

/* ---- reload ---- */

static void build_reload(struct view *v, const json_t *p)
{
	json_int_t n = jget_int(p, "policies");

	view_add_text(v, COLOR_NONE, "Reloaded: %lld polic%s, config generation %lld.",
		      (long long)n, n == 1 ? "y" : "ies",
		      (long long)jget_int(p, "config_generation"));
}

int verb_reload(struct ctx *c, int n_args, char **args)
{
	return call_and_print(c, THPD_METHOD_RELOAD, NULL, build_reload);
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
	return call_and_print(c, THPD_METHOD_GET_POLICY, NULL, build_policy);
}

/* ---- collapse PID [--range START-END] ---- */

/* An address: 0x-prefixed hex or decimal, 0 .. INT64_MAX. */
static int parse_addr(const char *s, json_int_t *ret)
{
	int base = 10;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -EINVAL;
		if (v > ((uint64_t)INT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -ERANGE;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	*ret = (json_int_t)v;
	return 0;
}

/* "START-END", both addresses, START < END. */
static int parse_range(const char *s, json_int_t *start, json_int_t *end)
{
	const char *dash = strchr(s, '-');
	char *first;
	int r;

	if (!dash)
		return usage_error("invalid range '%s': expected START-END, e.g. "
				   "0x7f0000000000-0x7f0000400000",
				   s);
	first = xasprintf("%.*s", (int)(dash - s), s);
	r = parse_addr(first, start);
	free(first);
	if (r == 0)
		r = parse_addr(dash + 1, end);
	if (r == -ERANGE)
		return usage_error("invalid range '%s': address too large", s);
	if (r < 0)
		return usage_error("invalid range '%s': addresses are hex (0x...) or decimal", s);
	if (*start >= *end)
		return usage_error("invalid range '%s': START must be below END", s);
	return 0;
}

int verb_collapse(struct ctx *c, int n_args, char **args)
{
	struct varlink_reply reply;
	json_int_t pid, start = 0, end = 0, n;
	const char *range = c->verb_opts.range;
	char a[FMT_BUF], b[FMT_BUF];
	json_t *params;
	struct view *v;
	int r = parse_pid_arg(args[0], &pid);

	if (r)
		return r;
	if (range && (r = parse_range(range, &start, &end)))
		return r;
	params = range ? json_pack("{s:I, s:I, s:I}", "pid", pid, "start", start, "end", end)
		       : json_pack("{s:I}", "pid", pid);
	if (!params)
		oom();
	r = ctx_call(c, THPD_METHOD_COLLAPSE, params, &reply);
	json_decref(params);
	if (r)
		return r;
	v = view_new(&c->out);
	view_set_json(v, reply.parameters);
	n = jget_int(reply.parameters, "chunks");
	if (range)
		view_add_text(v, COLOR_NONE,
			      "%lld chunk%s of pid %lld in %s-%s made due for collapse.",
			      (long long)n, n == 1 ? "" : "s", (long long)pid,
			      fmt_addr(start, a, sizeof(a)), fmt_addr(end, b, sizeof(b)));
	else
		view_add_text(v, COLOR_NONE, "%lld chunk%s of pid %lld made due for collapse.",
			      (long long)n, n == 1 ? "" : "s", (long long)pid);
	r = ctx_print(c, v);
	view_free(v);
	varlink_reply_clear(&reply);
	return r;
}

/* ---- pause [PID], resume [PID] ---- */

static int pause_or_resume(struct ctx *c, int n_args, char **args, bool pause)
{
	struct varlink_reply reply;
	json_int_t pid = 0;
	json_t *params = NULL;
	struct view *v;
	int r;

	if (n_args > 0) {
		r = parse_pid_arg(args[0], &pid);
		if (r)
			return r;
		params = json_pack("{s:I}", "pid", pid);
		if (!params)
			oom();
	}
	r = ctx_call(c, pause ? THPD_METHOD_PAUSE : THPD_METHOD_RESUME, params, &reply);
	json_decref(params);
	if (r)
		return r;
	v = view_new(&c->out);
	view_set_json(v, reply.parameters);
	if (pid && pause)
		view_add_text(v, COLOR_NONE, "Paused collapsing of pid %lld.", (long long)pid);
	else if (pid)
		view_add_text(v, COLOR_NONE, "Resumed collapsing of pid %lld.", (long long)pid);
	else if (pause)
		view_add_text(v, COLOR_NONE,
			      "Paused all collapsing (scans go on) until 'thpctl resume'.");
	else
		view_add_text(v, COLOR_NONE, "Resumed collapsing.");
	r = ctx_print(c, v);
	view_free(v);
	varlink_reply_clear(&reply);
	return r;
}

int verb_pause(struct ctx *c, int n_args, char **args)
{
	return pause_or_resume(c, n_args, args, true);
}

int verb_resume(struct ctx *c, int n_args, char **args)
{
	return pause_or_resume(c, n_args, args, false);
}

/* ---- monitor ---- */

/* A subscription that ends sooner than this is not renewed. */
#define MONITOR_MIN_LIFETIME_USEC USEC_PER_SEC

static enum color event_color(const char *type)
{
	if (streq(type, "collapse-done") || streq(type, "resume"))
		return COLOR_GREEN;
	if (streq(type, "collapse-error"))
		return COLOR_RED;
	if (streq(type, "pause"))
		return COLOR_YELLOW;
	if (streq(type, "target-removed"))
		return COLOR_DIM;
	return COLOR_NONE;
}

/* The columns of the event lines: fixed minimum widths, as they come one by one. */
static struct table *event_table(struct view *v)
{
	struct table *t = view_add_table(v, NULL);

	table_add_column(t, "TIME", "time", ALIGN_LEFT);
	table_column_min_width(t, 12); /* 12:34:56.789 */
	table_add_column(t, "TYPE", "type", ALIGN_LEFT);
	table_column_min_width(t, 14); /* collapse-error */
	table_add_column(t, "PID", "pid", ALIGN_RIGHT);
	table_column_min_width(t, 7);
	table_add_column(t, "COMM", "comm", ALIGN_LEFT);
	table_column_min_width(t, 15); /* TASK_COMM_LEN - 1 */
	table_add_column(t, "DETAILS", "details", ALIGN_LEFT);
	return t;
}

/* Append ", WHAT" (printf-style) to *s. */
static void __attribute__((format(printf, 2, 3))) append(char **s, const char *fmt, ...)
{
	va_list ap;
	char *what, *next;

	va_start(ap, fmt);
	what = xvasprintf(fmt, ap);
	va_end(ap);
	next = xasprintf("%s%s%s", *s ? *s : "", *s ? ", " : "", what);
	free(what);
	free(*s);
	*s = next;
}

/* "policy db, 4.0 MiB, 2 chunks ok, 0 failed, in 1.2 ms" */
static char *event_details(const json_t *e)
{
	const char *type = jget_str_or(e, "type", "");
	const json_t *dur = json_object_get(e, "duration_sec");
	char *s = NULL, a[FMT_BUF];

	if (jget_str(e, "policy"))
		append(&s, "policy %s", jget_str(e, "policy"));
	if (jget_str(e, "reason"))
		append(&s, "reason %s", jget_str(e, "reason"));
	if (jget_str(e, "cgroup"))
		append(&s, "cgroup %s", jget_str(e, "cgroup"));
	if (jget_str(e, "errno"))
		append(&s, "%s", jget_str(e, "errno"));
	if (json_is_integer(json_object_get(e, "addr")))
		append(&s, "at %s", fmt_addr(jget_int(e, "addr"), a, sizeof(a)));
	if (json_is_integer(json_object_get(e, "bytes")))
		append(&s, "%s", fmt_size(jget_int(e, "bytes"), a, sizeof(a)));
	if (json_object_get(e, "chunks_ok") || json_object_get(e, "chunks_failed"))
		append(&s, "%lld chunk%s ok, %lld failed", (long long)jget_int(e, "chunks_ok"),
		       jget_int(e, "chunks_ok") == 1 ? "" : "s",
		       (long long)jget_int(e, "chunks_failed"));
	if (json_is_number(dur))
		append(&s, "%s %s", streq(type, "pause") ? "for" : "in",
		       fmt_seconds(json_number_value(dur), a, sizeof(a)));
	return s;
}

/* "12:34:56.789", local time now. */
static const char *time_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char hms[16];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (!localtime_r(&ts.tv_sec, &tm) || strftime(hms, sizeof(hms), "%H:%M:%S", &tm) == 0)
		snprintf(hms, sizeof(hms), "--:--:--");
	snprintf(buf, len, "%s.%03ld", hms, ts.tv_nsec / 1000000L);
	return buf;
}

/* One reply of the stream: the raw parameters (JSON Lines) or one aligned line. */
static int print_event(struct ctx *c, const json_t *e)
{
	struct output_opts o = c->out;
	const char *type = jget_str_or(e, "type", "?");
	const json_t *pid = json_object_get(e, "pid");
	struct view *v;
	struct table *t;
	char a[FMT_BUF], *details;
	int r;

	o.legend = false;
	v = view_new(&o);
	view_set_json(v, (json_t *)e);
	if (!o.json) {
		t = event_table(v);
		details = event_details(e);
		table_add_row(t);
		table_cell(t, COLOR_NONE, "%s", time_now(a, sizeof(a)));
		table_cell(t, event_color(type), "%s", type);
		if (json_is_integer(pid))
			table_cell(t, COLOR_NONE, "%lld", (long long)json_integer_value(pid));
		else
			table_cell(t, COLOR_NONE, "-");
		table_cell(t, COLOR_NONE, "%s", jget_str_or(e, "comm", "-"));
		table_cell(t, COLOR_NONE, "%s", details ? details : "-");
		free(details);
	}
	r = ctx_print(c, v);
	view_free(v);
	return r;
}

/* The column headers, once, when the first subscription is confirmed. */
static int print_event_header(struct ctx *c)
{
	struct view *v;
	int r;

	if (c->out.json || !c->out.legend)
		return EXIT_OK;
	v = view_new(&c->out);
	event_table(v);
	r = ctx_print(c, v);
	view_free(v);
	return r;
}

/* True if nothing answers on the socket any more: the daemon has stopped. */
static bool daemon_gone(const struct ctx *c)
{
	struct varlink *probe = NULL;
	int r = varlink_connect(c->socket_path, now_usec() + USEC_PER_SEC, &probe);

	varlink_close(probe);
	return r == -ENOENT || r == -ENOTDIR || r == -ECONNREFUSED;
}

static int monitor_run(struct ctx *c, int sig_fd)
{
	const char *method = THPD_METHOD_MONITOR;
	struct varlink_reply reply;
	uint64_t since = 0;
	int r;

	for (;;) {
		bool more;

		if (since) {
			/* The daemon closed the stream. */
			ctx_done(c);
			if (daemon_gone(c)) {
				print_error("thpd stopped");
				return EXIT_NOT_RUNNING;
			}
			if (now_usec() - since < MONITOR_MIN_LIFETIME_USEC) {
				print_error("thpd closed the monitor connection");
				return EXIT_CALL_FAILED;
			}
			print_error("thpd closed the monitor connection but is still running; "
				    "subscribing again (events in between may be missing)");
		}
		/* --timeout covers connecting and the first reply ("subscribed"). */
		r = ctx_call_more(c, method, NULL);
		if (r)
			return r;
		r = ctx_recv_more(c, method, sig_fd, &reply);
		if (r == -EINTR)
			return EXIT_OK;
		if (r == -ECONNRESET && since && daemon_gone(c)) {
			print_error("thpd stopped");
			return EXIT_NOT_RUNNING;
		}
		if (r == -ECONNRESET)
			return ctx_transfer_error(c, method, r);
		if (r)
			return r;
		r = since ? EXIT_OK : print_event_header(c);
		if (r == EXIT_OK && c->out.json)
			r = print_event(c, reply.parameters);
		more = reply.continues;
		varlink_reply_clear(&reply);
		if (r)
			return r;
		since = now_usec();
		/* Events come when they come: no deadline from here on. */
		c->deadline = 0;
		while (more) {
			r = ctx_recv_more(c, method, sig_fd, &reply);
			if (r == -EINTR)
				return EXIT_OK;
			if (r == -ECONNRESET)
				break;
			if (r)
				return r;
			r = print_event(c, reply.parameters);
			more = reply.continues;
			varlink_reply_clear(&reply);
			if (r)
				return r;
		}
	}
}

int verb_monitor(struct ctx *c, int n_args, char **args)
{
	sigset_t mask;
	int sig_fd, r;

	/* SIGINT and SIGTERM end the stream normally (exit 0): taken through a
	 * signalfd polled together with the connection. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    (sig_fd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		print_error("cannot set up signal handling: %s", strerror(errno));
		return EXIT_CALL_FAILED;
	}
	c->out.json_lines = true;
	r = monitor_run(c, sig_fd);
	close(sig_fd);
	return r;
}
