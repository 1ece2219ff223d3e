/* SPDX-License-Identifier: MIT */
/* The verbs that talk to the daemon: one call each, printed through a view. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "thpctl.h"
#include "util.h"
#include "xalloc.h"

#define METHOD(name) "io.thpd.Manager." name

/* Known keys of the daemon's count maps, in display order. */
static const char *const chunk_states[] = {"candidate", "backoff", "parked", "quarantined", "huge"};
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
	if (streq(s, "active"))
		return COLOR_GREEN;
	if (streq(s, "paused"))
		return COLOR_YELLOW;
	if (streq(s, "denied"))
		return COLOR_RED;
	if (streq(s, "thp-disabled"))
		return COLOR_DIM;
	return COLOR_NONE;
}

static enum color chunk_state_color(const char *s)
{
	if (streq(s, "huge"))
		return COLOR_GREEN;
	if (streq(s, "backoff"))
		return COLOR_YELLOW;
	if (streq(s, "quarantined"))
		return COLOR_RED;
	if (streq(s, "parked"))
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
		return;
	}
	fields_add(f, "Pauses", COLOR_YELLOW, "%zu active", json_array_size(pauses));

	struct table *t = view_add_table(v, "Pauses");
	table_add_column(t, "REASON", "reason", ALIGN_LEFT);
	table_add_column(t, "CGROUP", "cgroup", ALIGN_LEFT);
	table_add_column(t, "ENDS", "ends", ALIGN_LEFT);
	json_array_foreach(pauses, i, x)
	{
		table_add_row(t);
		table_cell(t, COLOR_YELLOW, "%s", jget_str_or(x, "reason", "-"));
		table_cell(t, COLOR_NONE, "%s", jget_str_or(x, "cgroup", "-"));
		table_cell(t, COLOR_NONE, "%s",
			   fmt_relative(jget_real(x, "remaining_sec"), a, sizeof(a)));
	}
}

int verb_status(struct ctx *c, int n_args, char **args)
{
	return call_and_print(c, METHOD("GetStatus"), NULL, build_status);
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
	return call_and_print(c, METHOD("ListTargets"), NULL, build_targets);
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
	r = call_and_print(c, METHOD("GetTarget"), params, build_target);
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
	return call_and_print(c, METHOD("GetCounters"), NULL, build_counters);
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
	return call_and_print(c, METHOD("Reload"), NULL, build_reload);
}
