/* SPDX-License-Identifier: MIT */
/* thpctl metrics: the daemon's state in the Prometheus text format. */
#include <stdio.h>
#include <stdlib.h>

#include "metrics-format.h"
#include "protocol.h"
#include "thpctl.h"
#include "util.h"
#include "verbs.h"

/*
 * GetCounters needs root or group thpd: for anybody else the counters are
 * left out (said in a comment line), the rest is still worth having. Any
 * other failure is one.
 */
static int get_counters(struct ctx *c, struct varlink_reply *reply, bool *denied)
{
	int r = varlink_call(c->link, THPD_METHOD_GET_COUNTERS, NULL, c->deadline, reply);

	*denied = false;
	if (r < 0)
		return ctx_transfer_error(c, THPD_METHOD_GET_COUNTERS, r);
	if (!reply->error)
		return 0;
	if (streq(reply->error, VARLINK_ERR_PERMISSION)) {
		*denied = true;
		return 0;
	}
	print_error("%s failed: %s", THPD_METHOD_GET_COUNTERS, reply->error);
	return EXIT_CALL_FAILED;
}

static int print_metrics(struct ctx *c, const struct metrics_sources *s, bool denied)
{
	size_t len;
	char *text;

	if (c->out.json) {
		json_t *j = json_pack("{s:O?, s:O?, s:O?, s:O?}", "status", s->status, "counters",
				      s->counters, "targets", s->targets, "policy", s->policy);
		int r = j ? json_dumpf(j, stdout, JSON_INDENT(2)) : -1;

		json_decref(j);
		if (r < 0) {
			print_error("out of memory");
			return EXIT_CALL_FAILED;
		}
		fputc('\n', stdout);
		return flush_stdout();
	}
	text = metrics_render(s, &len);
	if (!text) {
		print_error("out of memory");
		return EXIT_CALL_FAILED;
	}
	if (denied)
		fputs("# thpctl: counters left out: GetCounters needs root or group thpd\n",
		      stdout);
	fwrite(text, 1, len, stdout);
	free(text);
	return flush_stdout();
}

int verb_metrics(struct ctx *c, int n_args, char **args)
{
	struct varlink_reply status = {0}, counters = {0}, targets = {0}, policy = {0};
	bool denied = false;
	int r;

	r = ctx_call(c, THPD_METHOD_GET_STATUS, NULL, &status);
	if (!r)
		r = get_counters(c, &counters, &denied);
	if (!r)
		r = ctx_call(c, THPD_METHOD_LIST_TARGETS, NULL, &targets);
	if (!r)
		r = ctx_call(c, THPD_METHOD_GET_POLICY, NULL, &policy);
	if (!r) {
		struct metrics_sources s = {
		    .status = status.parameters,
		    .counters = denied ? NULL : json_object_get(counters.parameters, "counters"),
		    .targets = json_object_get(targets.parameters, "targets"),
		    .policy = json_object_get(policy.parameters, "policy"),
		};
		r = print_metrics(c, &s, denied);
	}
	varlink_reply_clear(&status);
	varlink_reply_clear(&counters);
	varlink_reply_clear(&targets);
	varlink_reply_clear(&policy);
	return r;
}
