/* SPDX-License-Identifier: MIT */
/*
 * thpctl: query and steer thpd over its Varlink socket.
 *
 * Each verb is one entry of the verb table below: name, argument synopsis,
 * help text, argument count and handler. Handlers call the daemon through
 * ctx_call() and print through the output module (output.h).
 */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build-config.h"
#include "thpctl.h"
#include "units.h"
#include "util.h"
#include "xalloc.h"

/* Longest accepted --timeout: a year. */
#define MAX_TIMEOUT_SEC (365.0 * 86400)

static int verb_help(struct ctx *c, int n_args, char **args);

static const struct verb verbs[] = {
    {
	.name = "status",
	.args = "",
	.summary = "Show the daemon's status (the default verb)",
	.help = "Version, uptime, kernel, THP mode, number of policies and targets,\n"
		"bytes collapsed so far, the collapse budget and active pauses.",
	.min_args = 0,
	.max_args = 0,
	.run = verb_status,
    },
    {
	.name = "targets",
	.args = "",
	.summary = "List the processes thpd manages",
	.help = "One line per target: PID, command, policy, state, anonymous and huge\n"
		"memory, huge page coverage, bytes collapsed by thpd and the last error.\n"
		"Callers that are neither root nor in group thpd see their own processes only.",
	.min_args = 0,
	.max_args = 0,
	.run = verb_targets,
    },
    {
	.name = "show",
	.args = "PID",
	.summary = "Show one target in detail: areas and chunks",
	.help = "The target's identity, cgroups and totals, its memory areas, and every\n"
		"2 MiB chunk with its state, attempts, last error and next retry.",
	.min_args = 1,
	.max_args = 1,
	.run = verb_show,
    },
    {
	.name = "counters",
	.args = "",
	.summary = "Show daemon-wide counters (root or group thpd)",
	.help = "Collapse attempts by result, bytes collapsed, time spent collapsing and\n"
		"scanning, discoveries, pauses, splits and reloads since the daemon started.",
	.min_args = 0,
	.max_args = 0,
	.run = verb_counters,
    },
    {
	.name = "reload",
	.args = "",
	.summary = "Re-read the policy configuration (root or group thpd)",
	.help = "On failure the running policy stays in effect and each problem is\n"
		"printed as FILE:LINE:COLUMN: MESSAGE on standard error.",
	.min_args = 0,
	.max_args = 0,
	.run = verb_reload,
    },
    {
	.name = "help",
	.args = "[VERB]",
	.summary = "Show this help, or the help of one verb",
	.help = NULL,
	.min_args = 0,
	.max_args = 1,
	.run = verb_help,
    },
};

static const struct verb *find_verb(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		if (streq(verbs[i].name, name))
			return &verbs[i];
	return NULL;
}

static void print_usage(FILE *f)
{
	fprintf(f, "Usage: thpctl [OPTIONS] [VERB [ARGS]]\n"
		   "\n"
		   "Query and steer thpd, the transparent huge page daemon.\n"
		   "\n"
		   "Verbs:\n");
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
		char *head =
		    xasprintf("%s%s%s", verbs[i].name, *verbs[i].args ? " " : "", verbs[i].args);
		fprintf(f, "  %-14s %s\n", head, verbs[i].summary);
		free(head);
	}
	fprintf(f,
		"\n"
		"Options:\n"
		"  --socket PATH      Control socket (default %s)\n"
		"  --json             Print the reply parameters as JSON\n"
		"  --timeout SECONDS  Give up after this long (default %g; 0 waits forever)\n"
		"  --no-legend        Leave out table headers, titles and footers\n"
		"  -h, --help         Show this help\n"
		"  --version          Show the version\n"
		"\n"
		"Exit status: 0 success, 1 the call failed or thpd replied with an error,\n"
		"2 usage error, 3 thpd is not running.\n"
		"See thpctl(1) for details.\n",
		THPD_DEFAULT_SOCKET, DEFAULT_TIMEOUT_SEC);
}

static int verb_help(struct ctx *c, int n_args, char **args)
{
	const struct verb *v;

	if (n_args == 0) {
		print_usage(stdout);
		return flush_stdout();
	}
	v = find_verb(args[0]);
	if (!v)
		return usage_error("unknown verb '%s'", args[0]);
	printf("Usage: thpctl [OPTIONS] %s%s%s\n\n%s.\n", v->name, *v->args ? " " : "", v->args,
	       v->summary);
	if (v->help)
		printf("\n%s\n", v->help);
	return flush_stdout();
}

/* "10", "0.5" (seconds) or a duration such as "500ms", "2s", "1m". */
static int parse_timeout(const char *s, double *ret)
{
	char *end;
	double v;
	uint64_t usec;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno != 0) {
		if (parse_duration(s, &usec) < 0)
			return -EINVAL;
		v = (double)usec / 1e6;
	}
	if (!isfinite(v) || v < 0 || v > MAX_TIMEOUT_SEC)
		return -ERANGE;
	*ret = v;
	return 0;
}

static bool want_color(void)
{
	const char *term = getenv("TERM");

	return isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && !(term && streq(term, "dumb"));
}

enum {
	OPT_SOCKET = 0x100,
	OPT_JSON,
	OPT_TIMEOUT,
	OPT_NO_LEGEND,
	OPT_VERSION,
};

int main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"socket", required_argument, NULL, OPT_SOCKET},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"no-legend", no_argument, NULL, OPT_NO_LEGEND},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {0},
	};
	struct ctx c = {
	    .socket_path = THPD_DEFAULT_SOCKET,
	    .timeout_sec = DEFAULT_TIMEOUT_SEC,
	    .out = {.legend = true},
	};
	const struct verb *verb;
	int opt, n_args, r;

	/* Character widths for aligning names; numbers keep the C locale. */
	setlocale(LC_CTYPE, "");

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (opt) {
		case OPT_SOCKET:
			if (!*optarg)
				return usage_error("--socket needs a path");
			c.socket_path = optarg;
			break;
		case OPT_JSON:
			c.out.json = true;
			break;
		case OPT_TIMEOUT:
			if (parse_timeout(optarg, &c.timeout_sec) < 0)
				return usage_error("invalid timeout '%s': expected seconds, "
						   "e.g. 10 or 0.5 (0 waits forever)",
						   optarg);
			break;
		case OPT_NO_LEGEND:
			c.out.legend = false;
			break;
		case 'h':
			print_usage(stdout);
			return flush_stdout();
		case OPT_VERSION:
			printf("thpctl %s\n", THPD_VERSION);
			return flush_stdout();
		case ':':
			return usage_error("option '%s' needs an argument", argv[optind - 1]);
		case '?':
		default:
			if (optopt)
				return usage_error("unknown option '-%c'", optopt);
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	c.out.color = !c.out.json && want_color();

	verb = find_verb(optind < argc ? argv[optind] : "status");
	if (!verb)
		return usage_error("unknown verb '%s'", argv[optind]);
	if (optind < argc)
		optind++;
	n_args = argc - optind;
	if (n_args < verb->min_args)
		return usage_error("%s: missing argument %s", verb->name, verb->args);
	if (n_args > verb->max_args)
		return usage_error("too many arguments for %s: '%s'", verb->name,
				   argv[optind + verb->max_args]);
	c.verb = verb;
	r = verb->run(&c, n_args, argv + optind);
	ctx_done(&c);
	return r;
}
