/* SPDX-License-Identifier: MIT */
/* The steering verbs: reload, collapse, pause, resume. */
#include <errno.h>
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
	return verbs_call_and_print(c, THPD_METHOD_RELOAD, NULL, build_reload);
}

/* ---- collapse PID [--range START-END] ---- */

/* An address: 0x-prefixed hex or decimal, 0 .. INT64_MAX. */
int verbs_parse_addr(const char *s, json_int_t *ret)
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
int verbs_parse_range(const char *s, json_int_t *start, json_int_t *end)
{
	const char *dash = strchr(s, '-');
	char *first;
	int r;

	if (!dash)
		return usage_error("invalid range '%s': expected START-END, e.g. "
				   "0x7f0000000000-0x7f0000400000",
				   s);
	first = xasprintf("%.*s", (int)(dash - s), s);
	r = verbs_parse_addr(first, start);
	free(first);
	if (r == 0)
		r = verbs_parse_addr(dash + 1, end);
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
	if (range && (r = verbs_parse_range(range, &start, &end)))
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
