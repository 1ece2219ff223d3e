/* SPDX-License-Identifier: MIT */
/* Shared state of thpctl: options, the connection, the verb table entry type. */
#pragma once

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "output.h"
#include "varlink.h"

/* Exit codes: a contract with scripts, documented in thpctl(1). */
enum {
	EXIT_OK = 0,
	EXIT_CALL_FAILED = 1, /* the daemon replied with an error, or the call failed */
	EXIT_USAGE = 2,	      /* unknown verb or option, bad or missing argument */
	EXIT_NOT_RUNNING = 3, /* no socket, or nobody listening on it */
};

#define DEFAULT_TIMEOUT_SEC 10.0

/* Values of verb-specific options (struct verb.options). */
struct verb_opts {
	const char *range; /* collapse and show --range START-END, unparsed */
	bool chunks;	   /* show --chunks */
	const char *state; /* show --state STATE */
	bool all_areas;	   /* show --areas */
	/* top --interval, --sort, --iterations (unparsed), --batch */
	const char *top_interval, *top_sort, *top_iterations;
	bool top_batch;
};

struct ctx {
	const char *socket_path;
	double timeout_sec; /* 0 = wait forever */
	struct output_opts out;
	const struct verb *verb;
	struct verb_opts verb_opts;
	struct varlink *link; /* connected by the first ctx_call() */
	uint64_t deadline;    /* CLOCK_MONOTONIC usec; 0 = none */
};

struct verb {
	const char *name;
	/* Argument synopsis: NULL (none) or words, each required ("PID") or
	 * optional ("[ADDRESS]"); the argument count is checked against it. */
	const char *args;
	const char *summary; /* one line, for the verb list */
	const char *help;    /* more lines for 'thpctl help VERB'; may be NULL */
	/* Options of this verb only, accepted after it: synopsis for the help
	 * ("[--range START-END]"; NULL if none) and getopt_long() entries
	 * (zero-terminated; NULL if none). Values go to ctx.verb_opts. */
	const char *opts_synopsis;
	const struct option *options;
	/* What needs root or group thpd, for PermissionDenied ("reload");
	 * NULL = the verb's name. */
	const char *privileged_what;
	/* Returns an exit code. args are the words after the verb. */
	int (*run)(struct ctx *c, int n_args, char **args);
};

/*
 * Call method with params (borrowed, may be NULL). On a successful reply
 * returns 0 and fills *ret. Otherwise prints one clear message on stderr and
 * returns the exit code: EXIT_NOT_RUNNING or EXIT_CALL_FAILED.
 */
int ctx_call(struct ctx *c, const char *method, json_t *params, struct varlink_reply *ret);

/*
 * Start a call that answers with a stream of replies ("more": true): connect
 * and send. Returns 0, or an exit code after a message. The timeout covers
 * this and the first ctx_recv_more() (ctx.deadline; set it to 0 after the
 * first reply to wait forever for the next ones).
 */
int ctx_call_more(struct ctx *c, const char *method, json_t *params);

/*
 * The next reply of a ctx_call_more() stream, waiting until ctx.deadline.
 * Returns 0 (*ret filled: a successful reply), an exit code after a message
 * (error reply, timeout, bad reply), -EINTR when sig_fd (a signalfd, or -1)
 * became readable first, or -ECONNRESET when the daemon closed the
 * connection (no message printed; see ctx_transfer_error()).
 */
int ctx_recv_more(struct ctx *c, const char *method, int sig_fd, struct varlink_reply *ret);

/* Message for a failed transfer of method (negative errno r); returns EXIT_CALL_FAILED. */
int ctx_transfer_error(const struct ctx *c, const char *method, int r);

/* Print v to stdout. Returns EXIT_OK or EXIT_CALL_FAILED (write error). */
int ctx_print(struct ctx *c, const struct view *v);

void ctx_done(struct ctx *c);

/* Flush stdout. Returns EXIT_OK, or EXIT_CALL_FAILED after a message. */
int flush_stdout(void);

/* "thpctl: MESSAGE" on stderr. */
void print_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* print_error() plus the hint to 'thpctl help'; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Seconds: "10", "0.5", or a duration such as "500ms", "2s", "1m", within
 * [min, max]. Returns 0, -EINVAL (not a number) or -ERANGE (nothing printed). */
int parse_seconds(const char *s, double min, double max, double *ret);

/* A PID argument: decimal, 1 .. INT32_MAX. Returns 0 or EXIT_USAGE (message printed). */
int parse_pid_arg(const char *s, json_int_t *ret);

/* Verb handlers (verbs.c). */
int verb_status(struct ctx *c, int n_args, char **args);
int verb_targets(struct ctx *c, int n_args, char **args);
int verb_show(struct ctx *c, int n_args, char **args);
int verb_why(struct ctx *c, int n_args, char **args);
int verb_counters(struct ctx *c, int n_args, char **args);
int verb_metrics(struct ctx *c, int n_args, char **args); /* verbs-metrics.c */
int verb_reload(struct ctx *c, int n_args, char **args);
int verb_collapse(struct ctx *c, int n_args, char **args);
int verb_pause(struct ctx *c, int n_args, char **args);
int verb_resume(struct ctx *c, int n_args, char **args);
int verb_policy(struct ctx *c, int n_args, char **args);
int verb_monitor(struct ctx *c, int n_args, char **args);
int verb_top(struct ctx *c, int n_args, char **args); /* verbs-top.c */
