/* SPDX-License-Identifier: MIT */
/* thpctl targets and thpctl show PID. */
#include <math.h>
#include <stdlib.h>

#include "format.h"
#include "protocol.h"
#include "thpctl.h"
#include "units.h"
#include "util.h"
#include "verbs.h"
#include "xalloc.h"

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

	static const struct column_def cols[] = {{"PID", "pid", ALIGN_RIGHT},
						 {"COMM", "comm", ALIGN_LEFT},
						 {"POLICY", "policy", ALIGN_LEFT},
						 {"STATE", "state", ALIGN_LEFT},
						 {"ANON", "anon", ALIGN_RIGHT},
						 {"HUGE", "huge", ALIGN_RIGHT},
						 {"COVERAGE", "coverage", ALIGN_RIGHT},
						 {"COLLAPSED", "collapsed", ALIGN_RIGHT},
						 {"LAST-ERRNO", "last_errno", ALIGN_LEFT}};
	table_add_columns(t, cols, ARRAY_SIZE(cols));
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
		table_cell(t, verbs_target_state_color(state), "%s", state);
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
	return verbs_call_and_print(c, THPD_METHOD_LIST_TARGETS, NULL, build_targets);
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
	fields_add(f, "State", verbs_target_state_color(state), "%s", state);
	fields_add(f, "Hotness", COLOR_NONE, "%s", jget_str_or(s, "hotness", "-"));
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
	double collapse_sec = jget_real(t, "collapse_sec"), target_sec = jget_real(t, "target_sec");
	if (!isnan(collapse_sec))
		fields_add(f, "Collapse time", COLOR_NONE, "%.3f s (%.2f%% of %.0f s as a target)",
			   collapse_sec, target_sec > 0 ? 100.0 * collapse_sec / target_sec : 0.0,
			   target_sec);
	fields_add(f, "Scans", COLOR_NONE, "%lld", (long long)jget_int(t, "scans"));
	x = verbs_counts_summary(jget_obj(t, "by_result"), verbs_results, VERBS_N_RESULTS);
	fields_add(f, "Attempts", COLOR_NONE, "%lld (%s)", (long long)jget_int(t, "attempts"), x);
	free(x);
	x = verbs_counts_summary(jget_obj(s, "chunks"), verbs_chunk_states, VERBS_N_CHUNK_STATES);
	if (jget_int(t, "sparse_chunks"))
		fields_add(f, "Chunks", COLOR_NONE, "%lld (%s); %lld sparse (below min_present)",
			   (long long)jget_int(t, "chunks_total"), x,
			   (long long)jget_int(t, "sparse_chunks"));
	else
		fields_add(f, "Chunks", COLOR_NONE, "%lld (%s)",
			   (long long)jget_int(t, "chunks_total"), x);
	free(x);
	fields_add(f, "Last errno", err ? COLOR_RED : COLOR_NONE, "%s", err ? err : "-");
}

/* Areas shown by default: the largest by resident memory. */
#define SHOW_AREAS 10

static int cmp_resident_desc(const void *a, const void *b)
{
	json_int_t x = jget_int(*(json_t *const *)a, "resident_bytes"),
		   y = jget_int(*(json_t *const *)b, "resident_bytes");
	return (x < y) - (x > y);
}

static int cmp_start(const void *a, const void *b)
{
	json_int_t x = jget_int(*(json_t *const *)a, "start"),
		   y = jget_int(*(json_t *const *)b, "start");
	return (x > y) - (x < y);
}

/* The areas to list: all, or the SHOW_AREAS largest, in address order. */
static size_t areas_to_show(const json_t *areas, bool all, json_t ***ret)
{
	size_t n = json_array_size(areas), k;
	json_t **v = xcalloc(n ? n : 1, sizeof(*v));

	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(areas, i);
	k = all ? n : MIN(n, (size_t)SHOW_AREAS);
	if (k < n)
		qsort(v, n, sizeof(*v), cmp_resident_desc);
	qsort(v, k, sizeof(*v), cmp_start);
	*ret = v;
	return k;
}

static void build_areas(struct view *v, const json_t *t, bool all)
{
	json_t *areas = jget_array(t, "areas"), **shown;
	struct table *tb = view_add_table(v, "Areas");
	char a[FMT_BUF];
	size_t n = areas_to_show(areas, all, &shown);
	json_int_t total = jget_int(t, "areas_total");

	static const struct column_def cols[] = {
	    {"START", "start", ALIGN_LEFT}, {"END", "end", ALIGN_LEFT},
	    {"SIZE", "size", ALIGN_RIGHT},  {"RESIDENT", "resident", ALIGN_RIGHT},
	    {"HUGE", "huge", ALIGN_RIGHT},  {"COVERAGE", "coverage", ALIGN_RIGHT},
	    {"HOT", "hot", ALIGN_RIGHT}};
	table_add_columns(tb, cols, ARRAY_SIZE(cols));
	for (size_t i = 0; i < n; i++) {
		const json_t *x = shown[i];
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
	free(shown);
	if ((json_int_t)n < total)
		table_set_footer(tb, "%lld areas, the %zu largest shown (--areas lists all).",
				 (long long)total, n);
	else
		table_set_footer(tb, "%zu area%s.", n, n == 1 ? "" : "s");
}

/* The chunk filters of show: --state, --range. */
static const struct verb_opts *show_opts;
static json_int_t show_lo, show_hi;

static bool chunk_shown(const json_t *x)
{
	json_int_t addr = jget_int(x, "addr");

	if (show_opts->state && !streq(jget_str_or(x, "state", ""), show_opts->state))
		return false;
	return !show_opts->range || (addr + (json_int_t)PMD_SIZE_2M > show_lo && addr < show_hi);
}

static void build_chunks(struct view *v, const json_t *t)
{
	json_t *chunks = jget_array(t, "chunks"), *x;
	struct table *tb = view_add_table(v, "Chunks");
	char a[FMT_BUF];
	size_t i, n = 0;

	static const struct column_def cols[] = {{"ADDR", "addr", ALIGN_LEFT},
						 {"PRESENT", "present", ALIGN_RIGHT},
						 {"STATE", "state", ALIGN_LEFT},
						 {"ATTEMPTS", "attempts", ALIGN_RIGHT},
						 {"LAST-ERRNO", "last_errno", ALIGN_LEFT},
						 {"RETRY-IN", "retry_in", ALIGN_LEFT},
						 {"SPLITS", "splits", ALIGN_RIGHT}};
	table_add_columns(tb, cols, ARRAY_SIZE(cols));
	json_array_foreach(chunks, i, x)
	{
		const char *state = jget_str_or(x, "state", "-"), *err = jget_str(x, "last_errno");
		const json_t *retry = json_object_get(x, "retry_in_sec");

		if (!chunk_shown(x))
			continue;
		n++;
		table_add_row(tb);
		table_cell(tb, COLOR_NONE, "%s", fmt_addr(jget_int(x, "addr"), a, sizeof(a)));
		table_cell(tb, COLOR_NONE, "%lld/%u", (long long)jget_int(x, "present"),
			   PAGES_PER_PMD);
		table_cell(tb, verbs_chunk_state_color(state), "%s", state);
		table_cell(tb, COLOR_NONE, "%lld", (long long)jget_int(x, "attempts"));
		table_cell(tb, err ? COLOR_RED : COLOR_NONE, "%s", err ? err : "-");
		table_cell(tb, COLOR_NONE, "%s",
			   json_is_number(retry)
			       ? fmt_relative(json_number_value(retry), a, sizeof(a))
			       : "-");
		table_cell(tb, COLOR_NONE, "%lld", (long long)jget_int(x, "splits"));
	}
	if (show_opts->state || show_opts->range)
		table_set_footer(tb, "%zu of %lld chunks.", n,
				 (long long)jget_int(t, "chunks_total"));
	else
		table_set_footer(tb, "%zu chunk%s.", n, n == 1 ? "" : "s");
}

static void build_target(struct view *v, const json_t *p)
{
	const json_t *t = jget_obj(p, "target");

	build_target_fields(v, t);
	build_areas(v, t, show_opts->all_areas);
	if (show_opts->chunks)
		build_chunks(v, t);
}

/* Append the items of page's array key to all's (creating it). */
static void append_page(json_t *all, const json_t *page, const char *key)
{
	json_t *dst = json_object_get(all, key), *src = json_object_get(page, key);

	if (!json_is_array(dst)) {
		dst = json_array();
		if (!dst || json_object_set_new(all, key, dst) < 0)
			oom();
	}
	if (json_is_array(src) && json_array_extend(dst, src) < 0)
		oom();
}

/*
 * GetTarget with every page of chunks: the first reply, its target's areas
 * and chunks extended by the later pages'. Returns an exit code; *ret (a new
 * reference) on EXIT_OK.
 */
static int get_target_all(struct ctx *c, json_int_t pid, json_t **ret)
{
	json_t *all = NULL;
	json_int_t off = 0;

	for (;;) {
		struct varlink_reply reply;
		json_t *params =
		    json_pack("{s:I, s:b, s:I}", "pid", pid, "chunks", 1, "chunk_offset", off);
		if (!params)
			oom();
		int r = ctx_call(c, THPD_METHOD_GET_TARGET, params, &reply);
		json_decref(params);
		if (r) {
			json_decref(all);
			return r;
		}
		const json_t *next = json_object_get(reply.parameters, "next_chunk_offset");
		json_t *target = json_object_get(reply.parameters, "target");
		if (!all) {
			all = json_incref(reply.parameters);
		} else {
			append_page(json_object_get(all, "target"), target, "areas");
			append_page(json_object_get(all, "target"), target, "chunks");
		}
		/* A page that does not move on ends it (a daemon bug, not a loop). */
		bool more = json_is_integer(next) && json_integer_value(next) > off;
		if (more)
			off = json_integer_value(next);
		varlink_reply_clear(&reply);
		if (!more)
			break;
	}
	json_object_set_new(all, "next_chunk_offset", json_null());
	*ret = all;
	return EXIT_OK;
}

/* GetTarget with its areas, and no chunks. */
static int get_target_summary(struct ctx *c, json_int_t pid, json_t **ret)
{
	struct varlink_reply reply;
	json_t *params = json_pack("{s:I, s:b}", "pid", pid, "areas", 1);
	int r;

	if (!params)
		oom();
	r = ctx_call(c, THPD_METHOD_GET_TARGET, params, &reply);
	json_decref(params);
	if (r)
		return r;
	*ret = json_incref(reply.parameters);
	varlink_reply_clear(&reply);
	return EXIT_OK;
}

int verb_show(struct ctx *c, int n_args, char **args)
{
	static const char *const states[] = {THPD_CHUNK_CANDIDATE, THPD_CHUNK_BACKOFF,
					     THPD_CHUNK_PARKED, THPD_CHUNK_QUARANTINED,
					     THPD_CHUNK_HUGE};
	const struct verb_opts *o = &c->verb_opts;
	json_int_t pid;
	json_t *all;
	int r = parse_pid_arg(args[0], &pid);

	if (r)
		return r;
	if ((o->state || o->range) && !o->chunks)
		return usage_error("--state and --range filter the chunks: add --chunks");
	if (o->state && !verbs_in_list(o->state, states, ARRAY_SIZE(states)))
		return usage_error("unknown chunk state '%s': candidate, backoff, parked, "
				   "quarantined or huge",
				   o->state);
	if (o->range && (r = verbs_parse_range(o->range, &show_lo, &show_hi)))
		return r;
	show_opts = o;
	r = o->chunks ? get_target_all(c, pid, &all) : get_target_summary(c, pid, &all);
	if (r)
		return r;
	/* --json: the reply as the daemon sent it, filtered like the table. */
	if (o->chunks && (o->state || o->range)) {
		json_t *chunks = json_object_get(json_object_get(all, "target"), "chunks"), *x;
		size_t i;
		json_array_foreach(chunks, i, x)
		{
			if (!chunk_shown(x))
				json_array_remove(chunks, i--);
		}
	}
	r = verbs_print(c, all, build_target);
	json_decref(all);
	return r;
}
