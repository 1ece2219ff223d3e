/* SPDX-License-Identifier: MIT */
/* Shared state of thpctl: options, the connection, the verb table entry type. */
#pragma once

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

struct ctx {
	const char *socket_path;
	double timeout_sec; /* 0 = wait forever */
	struct output_opts out;
	const struct verb *verb;
	struct varlink *link; /* connected by the first ctx_call() */
	uint64_t deadline;    /* CLOCK_MONOTONIC usec; 0 = none */
};

struct verb {
	const char *name;
	const char *args;    /* argument synopsis, e.g. "PID"; "" for none */
	const char *summary; /* one line, for the verb list */
	const char *help;    /* more lines for 'thpctl help VERB'; may be NULL */
	int min_args, max_args;
	/* Returns an exit code. args are the words after the verb. */
	int (*run)(struct ctx *c, int n_args, char **args);
};

/*
 * Call method with params (borrowed, may be NULL). On a successful reply
 * returns 0 and fills *ret. Otherwise prints one clear message on stderr and
 * returns the exit code: EXIT_NOT_RUNNING or EXIT_CALL_FAILED.
 */
int ctx_call(struct ctx *c, const char *method, json_t *params, struct varlink_reply *ret);

/* Print v to stdout. Returns EXIT_OK or EXIT_CALL_FAILED (write error). */
int ctx_print(struct ctx *c, const struct view *v);

void ctx_done(struct ctx *c);

/* Flush stdout. Returns EXIT_OK, or EXIT_CALL_FAILED after a message. */
int flush_stdout(void);

/* "thpctl: MESSAGE" on stderr. */
void print_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* print_error() plus the hint to 'thpctl help'; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A PID argument: decimal, 1 .. INT32_MAX. Returns 0 or EXIT_USAGE (message printed). */
int parse_pid_arg(const char *s, json_int_t *ret);

/* Verb handlers (verbs.c). */
int verb_status(struct ctx *c, int n_args, char **args);
int verb_targets(struct ctx *c, int n_args, char **args);
int verb_show(struct ctx *c, int n_args, char **args);
int verb_counters(struct ctx *c, int n_args, char **args);
int verb_reload(struct ctx *c, int n_args, char **args);
