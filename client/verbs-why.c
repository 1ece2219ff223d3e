/* SPDX-License-Identifier: MIT */
/* thpctl why PID [ADDRESS]: the daemon's reasons, the decisive one first. */
#include <errno.h>
#include <stdio.h>

#include "format.h"
#include "protocol.h"
#include "thpctl.h"
#include "util.h"
#include "verbs.h"
#include "xalloc.h"

static void build_why(struct view *v, const json_t *p)
{
	json_t *reasons = jget_array(p, "reasons"), *x;
	const char *comm = jget_str(p, "comm"), *policy = jget_str(p, "policy");
	size_t i;

	if (jget_bool(p, "target"))
		view_add_text(v, COLOR_NONE, "%lld (%s): a target of policy '%s'",
			      (long long)jget_int(p, "pid"), comm ? comm : "?",
			      policy ? policy : "?");
	else if (comm)
		view_add_text(v, COLOR_NONE, "%lld (%s): not a target",
			      (long long)jget_int(p, "pid"), comm);
	struct table *tb = view_add_table(v, NULL);
	static const struct column_def cols[] = {{"REASON", "code", ALIGN_LEFT},
						 {"DETAIL", "text", ALIGN_LEFT}};
	table_add_columns(tb, cols, ARRAY_SIZE(cols));
	json_array_foreach(reasons, i, x)
	{
		const char *code = jget_str_or(x, "code", "?");
		enum color c = COLOR_NONE;

		if (i == 0)
			c = streq(code, "huge") || streq(code, "coverage") ? COLOR_GREEN
									   : COLOR_YELLOW;
		table_add_row(tb);
		table_cell(tb, c, "%s", code);
		table_cell(tb, COLOR_NONE, "%s", jget_str_or(x, "text", ""));
	}
}

int verb_why(struct ctx *c, int n_args, char **args)
{
	json_int_t pid, addr;
	json_t *params;
	int r = parse_pid_arg(args[0], &pid);

	if (r)
		return r;
	if (n_args > 1) {
		r = verbs_parse_addr(args[1], &addr);
		if (r == -ERANGE)
			return usage_error("invalid address '%s': too large", args[1]);
		if (r < 0)
			return usage_error("invalid address '%s': hex (0x...) or decimal", args[1]);
		params = json_pack("{s:I, s:I}", "pid", pid, "addr", addr);
	} else {
		params = json_pack("{s:I}", "pid", pid);
	}
	if (!params)
		oom();
	r = verbs_call_and_print(c, THPD_METHOD_WHY, params, build_why);
	json_decref(params);
	return r;
}
