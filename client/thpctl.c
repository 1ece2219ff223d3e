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

/* Codes of the global options (getopt_long) and of verb-specific ones. */
enum {
	OPT_SOCKET = 0x100,
	OPT_JSON,
	OPT_TIMEOUT,
	OPT_NO_LEGEND,
	OPT_VERSION,
	OPT_RANGE = 0x200,
	OPT_CHUNKS,
	OPT_STATE,
	OPT_AREAS,
	OPT_INTERVAL = 0x300,
	OPT_SORT,
	OPT_ITERATIONS,
	OPT_BATCH,
};

static const struct option collapse_options[] = {
    {"range", required_argument, NULL, OPT_RANGE},
    {0},
};

static const struct option show_options[] = {
    {"chunks", no_argument, NULL, OPT_CHUNKS},
    {"state", required_argument, NULL, OPT_STATE},
    {"range", required_argument, NULL, OPT_RANGE},
    {"areas", no_argument, NULL, OPT_AREAS},
    {0},
};

static const struct option top_options[] = {
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"sort", required_argument, NULL, OPT_SORT},
    {"batch", no_argument, NULL, OPT_BATCH},
    {"iterations", required_argument, NULL, OPT_ITERATIONS},
    {0},
};

static const struct verb verbs[] = {
    {.name = "status",
     .summary = "Show the daemon's status (the default verb)",
     .help = "Version, uptime, kernel, THP mode, number of policies and targets,\n"
	     "bytes collapsed so far, the collapse budget and active pauses.",
     .run = verb_status},
    {.name = "targets",
     .summary = "List the processes thpd manages",
     .help = "One line per target: PID, command, policy, state, anonymous and huge\n"
	     "memory, huge page coverage, bytes collapsed by thpd and the last error.\n"
	     "Callers that are neither root nor in group thpd see their own processes only.",
     .run = verb_targets},
    {.name = "show",
     .args = "PID",
     .opts_synopsis = "[--chunks [--state STATE] [--range START-END]] [--areas]",
     .options = show_options,
     .summary = "Show one target: totals, areas, and chunks on request",
     .help = "The target's identity, cgroups and totals, its chunks counted by state, and\n"
	     "its largest memory areas (huge and resident now, coverage, hotness).\n"
	     "\n"
	     "  --chunks             Also list the 2 MiB chunks: state, attempts, last error,\n"
	     "                       next retry\n"
	     "  --state STATE        Only chunks in STATE (candidate, backoff, parked,\n"
	     "                       quarantined, huge)\n"
	     "  --range START-END    Only chunks overlapping [START, END) (hex or decimal)\n"
	     "  --areas              List every area, not only the largest ones\n"
	     "\n"
	     "'thpctl why PID [ADDRESS]' says why memory is or is not huge.",
     .run = verb_show},
    {.name = "why",
     .args = "PID [ADDRESS]",
     .summary = "Say why a process, or the chunk at an address, is or is not huge",
     .help = "For a target: the policy, what holds it back (THP disabled by prctl, paused,\n"
	     "max_huge reached, memory cgroup full) and its chunks by reason. With ADDRESS\n"
	     "(hex or decimal), the 2 MiB chunk holding it: huge, sparse (with the counts),\n"
	     "backing off or quarantined with the last errno and what it means, next\n"
	     "retry, cold, waiting for budget, or why its mapping is no candidate. For a\n"
	     "process that is no target: which policy would take it, or why none matches.\n"
	     "Users other than root and group thpd may ask about their own processes only.",
     .run = verb_why},
    {.name = "counters",
     .summary = "Show daemon-wide counters (root or group thpd)",
     .help = "Collapse attempts by result, bytes collapsed, time spent collapsing and\n"
	     "scanning, discoveries, pauses, splits and reloads since the daemon started.",
     .run = verb_counters},
    {.name = "metrics",
     .summary = "Print metrics in the Prometheus text format",
     .help = "Counters and gauges for Prometheus (text exposition format 0.0.4): collapses\n"
	     "by result, bytes collapsed, chunks waiting by errno, pauses, per-policy\n"
	     "coverage, collapse and scan latency histograms, scan cost, and per-process\n"
	     "series for the 20 targets with the most resident memory (the others summed\n"
	     "as pid=\"other\"). The counters need root or group thpd; for other users\n"
	     "they are left out, said in a comment line. thpd can write the same text to\n"
	     "a node_exporter textfile itself: daemon.metrics_textfile in thpd.yaml(5).",
     .run = verb_metrics},
    {.name = "reload",
     .summary = "Re-read the policy configuration (root or group thpd)",
     .help = "On failure the running policy stays in effect and each problem is\n"
	     "printed as FILE:LINE:COLUMN: MESSAGE on standard error.",
     .run = verb_reload},
    {.name = "policy",
     .summary = "Show the effective policy configuration",
     .help = "The daemon settings, the retry settings and every policy in match order,\n"
	     "as the daemon uses them: main file and drop-ins merged, defaults filled in.",
     .run = verb_policy},
    {.name = "collapse",
     .args = "PID",
     .opts_synopsis = "[--range START-END]",
     .options = collapse_options,
     .summary = "Collapse a target's memory now",
     .help = "Make the target's chunks due now, even if backing off, parked or\n"
	     "quarantined, and rescan it; prints how many chunks were made due. The\n"
	     "collapses themselves still obey the collapse budgets.\n"
	     "\n"
	     "  --range START-END  Only the chunks overlapping [START, END): addresses in hex\n"
	     "                     (0x...) or decimal, START below END\n"
	     "\n"
	     "Fails if the target or the daemon is paused, or the target is denied or\n"
	     "THP-disabled. Users other than root and group thpd may name only their own\n"
	     "processes.",
     .run = verb_collapse},
    {.name = "pause",
     .args = "[PID]",
     .summary = "Pause collapsing, of one target or the whole daemon",
     .help = "With PID, that target is not collapsed until 'thpctl resume PID'. Without,\n"
	     "the daemon collapses nothing until 'thpctl resume' (root or group thpd).\n"
	     "Scans go on, so the state shown stays current.",
     .run = verb_pause,
     .privileged_what = "pausing the whole daemon"},
    {.name = "resume",
     .args = "[PID]",
     .summary = "Undo pause, of one target or the whole daemon",
     .help = "With PID, resume that target; without, resume the daemon (root or group\n"
	     "thpd).",
     .run = verb_resume,
     .privileged_what = "resuming the whole daemon"},
    {.name = "monitor",
     .summary = "Print the daemon's events as they happen",
     .help = "One line per event: time, type, PID, command and details. Types:\n"
	     "target-added, target-removed, collapse-done, collapse-error, pause,\n"
	     "resume, reload, reload-failed (root and group thpd only). With --json, one\n"
	     "compact JSON object per line (JSON Lines), the first one\n"
	     "{\"type\":\"subscribed\"}, each event with its \"time\" (seconds since the\n"
	     "epoch). Runs until interrupted (exit 0) or until thpd stops (exit 3).\n"
	     "Started before thpd, it waits for it up to --timeout (0: for ever);\n"
	     "--timeout covers that and the subscription, not the wait for events.\n"
	     "Callers other than root and group thpd see only the events of their own\n"
	     "processes and global ones.",
     .run = verb_monitor},
    {.name = "top",
     .opts_synopsis = "[--interval SECONDS] [--sort ORDER] [--batch] [--iterations N]",
     .options = top_options,
     .summary = "Watch the targets live, full screen",
     .help = "Targets by activity with coverage bars, collapse rates and last errors;\n"
	     "totals, rates and attempts by errno on top. Keys: q quit, j/k or arrows\n"
	     "select, s/S sort order, p/r pause/resume the selected target, P/R the\n"
	     "daemon, ? help. Needs a terminal; a lost daemon shows as disconnected\n"
	     "and is asked again every interval.\n"
	     "\n"
	     "  --interval SECONDS  Refresh every SECONDS (default 1; 0.1 to 3600, or 500ms)\n"
	     "  --sort ORDER        Start sorted by activity (default), coverage, size or pid\n"
	     "  --batch             Print frames as plain lines instead, no terminal needed\n"
	     "  --iterations N      With --batch: N frames, one interval apart (default 1;\n"
	     "                      rates need 2)",
     .run = verb_top},
    {.name = "help",
     .args = "[VERB]",
     .summary = "Show this help, or the help of one verb",
     .help = NULL,
     .run = verb_help},
};

static const struct verb *find_verb(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		if (streq(verbs[i].name, name))
			return &verbs[i];
	return NULL;
}

/* Width of the verb column of the usage summary. */
#define VERB_COLUMN 14

/* "collapse PID [--range START-END]" */
static char *verb_synopsis(const struct verb *v)
{
	return xasprintf("%s%s%s%s%s", v->name, v->args ? " " : "", v->args ? v->args : "",
			 v->opts_synopsis ? " " : "", v->opts_synopsis ? v->opts_synopsis : "");
}

static void print_usage(FILE *f)
{
	fprintf(f, "Usage: thpctl [OPTIONS] [VERB [ARGS]]\n"
		   "\n"
		   "Query and steer thpd, the transparent huge page daemon.\n"
		   "\n"
		   "Verbs:\n");
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
		char *head = verb_synopsis(&verbs[i]);

		/* A synopsis too long for the column gets a line of its own. */
		if (strlen(head) > VERB_COLUMN)
			fprintf(f, "  %s\n  %-*s %s\n", head, VERB_COLUMN, "", verbs[i].summary);
		else
			fprintf(f, "  %-*s %s\n", VERB_COLUMN, head, verbs[i].summary);
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

static int print_verb_help(const struct verb *v)
{
	char *head = verb_synopsis(v);

	printf("Usage: thpctl [OPTIONS] %s\n\n%s.\n", head, v->summary);
	if (v->help)
		printf("\n%s\n", v->help);
	free(head);
	return flush_stdout();
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
	return print_verb_help(v);
}

/* "10", "0.5" (seconds) or a duration such as "500ms", "2s", "1m". */
int parse_seconds(const char *s, double min, double max, double *ret)
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
	if (!isfinite(v) || v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

static bool want_color(void)
{
	const char *term = getenv("TERM");

	return isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && !(term && streq(term, "dumb"));
}

static const struct option global_options[] = {
    {"socket", required_argument, NULL, OPT_SOCKET},
    {"json", no_argument, NULL, OPT_JSON},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"no-legend", no_argument, NULL, OPT_NO_LEGEND},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
};

/* The verb that has the option word ("--range" or "--range=X"), or NULL. */
/* The verbs that take option word ("--range" -> "show or collapse"), as a
 * malloc'd string; NULL if none does. */
static char *verbs_of_option(const char *word)
{
	char *out = NULL, *next;
	size_t len;

	if (strncmp(word, "--", 2) != 0)
		return NULL;
	word += 2;
	len = strcspn(word, "=");
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		for (const struct option *o = verbs[i].options; o && o->name; o++)
			if (strlen(o->name) == len && strncmp(o->name, word, len) == 0) {
				next = out ? xasprintf("%s or %s", out, verbs[i].name)
					   : xstrdup(verbs[i].name);
				free(out);
				out = next;
			}
	return out;
}

/* Sentinel for parse_options(): go on with the verb. */
#define PARSE_CONTINUE (-1)

/*
 * Parse options in argv[1..argc). Without a verb: the global options before
 * the verb, stopping at the first word that is not an option (optind then
 * points at it). With a verb (argv[0] is the verb): the global options and
 * the verb's own, anywhere among its arguments; optind then points at the
 * first argument. Returns PARSE_CONTINUE, or an exit code (after --help,
 * --version or a usage error).
 */
static int parse_options(struct ctx *c, int argc, char **argv, const struct verb *verb)
{
	char *owner;
	size_t n_verb = 0, n = ARRAY_SIZE(global_options);
	struct option *options;
	int opt, r = PARSE_CONTINUE;

	while (verb && verb->options && verb->options[n_verb].name)
		n_verb++;
	options = xcalloc(n + n_verb + 1, sizeof(*options));
	memcpy(options, global_options, sizeof(global_options));
	if (n_verb)
		memcpy(options + n, verb->options, n_verb * sizeof(*options));

	opterr = 0;
	optind = 0; /* full re-initialisation of getopt for the second pass */
	while (r == PARSE_CONTINUE &&
	       (opt = getopt_long(argc, argv, verb ? ":h" : "+:h", options, NULL)) != -1) {
		switch (opt) {
		case OPT_SOCKET:
			if (!*optarg)
				r = usage_error("--socket needs a path");
			c->socket_path = optarg;
			break;
		case OPT_JSON:
			c->out.json = true;
			break;
		case OPT_TIMEOUT:
			if (parse_seconds(optarg, 0, MAX_TIMEOUT_SEC, &c->timeout_sec) < 0)
				r = usage_error("invalid timeout '%s': expected seconds, "
						"e.g. 10 or 0.5 (0 waits forever)",
						optarg);
			break;
		case OPT_NO_LEGEND:
			c->out.legend = false;
			break;
		case OPT_RANGE:
			c->verb_opts.range = optarg;
			break;
		case OPT_CHUNKS:
			c->verb_opts.chunks = true;
			break;
		case OPT_STATE:
			c->verb_opts.state = optarg;
			break;
		case OPT_AREAS:
			c->verb_opts.all_areas = true;
			break;
		case OPT_INTERVAL:
			c->verb_opts.top_interval = optarg;
			break;
		case OPT_SORT:
			c->verb_opts.top_sort = optarg;
			break;
		case OPT_ITERATIONS:
			c->verb_opts.top_iterations = optarg;
			break;
		case OPT_BATCH:
			c->verb_opts.top_batch = true;
			break;
		case 'h':
			if (verb) {
				r = print_verb_help(verb);
			} else {
				print_usage(stdout);
				r = flush_stdout();
			}
			break;
		case OPT_VERSION:
			printf("thpctl %s\n", THPD_VERSION);
			r = flush_stdout();
			break;
		case ':':
			r = usage_error("option '%s' needs an argument", argv[optind - 1]);
			break;
		case '?':
		default:
			if (optopt)
				r = usage_error("unknown option '-%c'", optopt);
			else if (verb)
				r = usage_error("unknown option '%s' for %s", argv[optind - 1],
						verb->name);
			else if ((owner = verbs_of_option(argv[optind - 1]))) {
				r = usage_error("option '%s' goes after the verb %s",
						argv[optind - 1], owner);
				free(owner);
			} else
				r = usage_error("unknown option '%s'", argv[optind - 1]);
			break;
		}
	}
	free(options);
	return r;
}

int main(int argc, char **argv)
{
	struct ctx c = {
	    .socket_path = THPD_DEFAULT_SOCKET,
	    .timeout_sec = DEFAULT_TIMEOUT_SEC,
	    .out = {.legend = true},
	};
	const struct verb *verb;
	char **args = argv + argc;
	int n_args = 0, r;

	/* Character widths for aligning names; numbers keep the C locale. */
	setlocale(LC_CTYPE, "");

	/* Global options up to the verb, then the verb's words: global and
	 * verb options anywhere among them. */
	r = parse_options(&c, argc, argv, NULL);
	if (r != PARSE_CONTINUE)
		return r;
	verb = find_verb(optind < argc ? argv[optind] : "status");
	if (!verb)
		return usage_error("unknown verb '%s'", argv[optind]);
	if (optind < argc) {
		char **vargv = argv + optind;
		int vargc = argc - optind;

		r = parse_options(&c, vargc, vargv, verb);
		if (r != PARSE_CONTINUE)
			return r;
		args = vargv + optind;
		n_args = vargc - optind;
	}
	c.out.color = !c.out.json && want_color();

	/* The synopsis says it: each word one argument, "[...]" ones optional. */
	int max_args = 0, min_args = 0;
	for (const char *w = verb->args; w && *w; w += strcspn(w, " "), w += strspn(w, " ")) {
		max_args++;
		min_args += *w != '[';
	}

	if (n_args < min_args)
		return usage_error("%s: missing argument %s", verb->name, verb->args);
	if (n_args > max_args)
		return usage_error("too many arguments for %s: '%s'", verb->name, args[max_args]);
	c.verb = verb;
	r = verb->run(&c, n_args, args);
	ctx_done(&c);
	return r;
}
