/* SPDX-License-Identifier: MIT */
/*
 * thpctl top: a live full-screen view of the targets. Every interval it
 * takes a sample (GetStatus, ListTargets, GetCounters) into the model
 * (top-model.c), renders a frame (top-render.c) and draws it on the
 * terminal (top-term.c); keys sort, select, pause and resume in between.
 * --batch prints frames as plain lines instead, without a terminal.
 *
 * While the screen is ours, the messages that call.c prints on stderr
 * (every way a call fails) are caught and shown in the frame instead.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "format.h"
#include "protocol.h"
#include "thpctl.h"
#include "top-term.h"
#include "top.h"
#include "units.h"
#include "util.h"
#include "xalloc.h"

#define MIN_INTERVAL_SEC 0.1
#define MAX_INTERVAL_SEC 3600.0
#define MAX_ITERATIONS	 1000000L

/* on_input() and on_signal(): go on. */
#define TOP_CONTINUE (-1)

struct top {
	struct ctx *c;
	struct top_model model;
	struct top_view view;
	struct top_frame frame;
	uint64_t interval_usec;
	bool capture;	       /* call errors go into the frame, not on stderr */
	bool counters_refused; /* GetCounters said no on this connection */
	char *disconnected;    /* why the last sample failed; NULL if it worked */
};

/* ---- calls whose messages are caught ---- */

struct capture {
	FILE *saved, *mem;
	char *buf;
	size_t len;
};

static void capture_begin(struct capture *k)
{
	*k = (struct capture){.saved = stderr};
	k->mem = open_memstream(&k->buf, &k->len);
	if (!k->mem)
		oom();
	/* glibc's stderr is a variable: print_error() writes to it. */
	stderr = k->mem;
}

/* The message printed meanwhile, without "thpctl: " and with lines joined by "; " (malloc'd). */
static char *capture_end(struct capture *k)
{
	const char *p;
	char *out;
	size_t n, o = 0;

	stderr = k->saved;
	if (fclose(k->mem) != 0)
		oom();
	p = k->buf ? k->buf : "";
	if (strncmp(p, "thpctl: ", 8) == 0)
		p += 8;
	n = strlen(p);
	while (n > 0 && p[n - 1] == '\n')
		n--;
	out = xcalloc(2 * n + 1, 1);
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			out[o++] = ';';
			out[o++] = ' ';
		} else {
			out[o++] = p[i];
		}
	}
	free(k->buf);
	return out;
}

/* ctx_call(), its message in *msg (malloc'd) when capturing, else on stderr (*msg NULL). */
static int top_call(struct top *t, const char *method, json_t *params, struct varlink_reply *ret,
		    char **msg)
{
	struct capture k;
	int r;

	*msg = NULL;
	if (!t->capture)
		return ctx_call(t->c, method, params, ret);
	capture_begin(&k);
	r = ctx_call(t->c, method, params, ret);
	*msg = capture_end(&k);
	return r;
}

/*
 * GetCounters on the connection that GetStatus opened. An error reply
 * (PermissionDenied for a user neither root nor in group thpd) is not a
 * failure: the header says the counters are not shown, and they are not
 * asked for again on this connection. A failed transfer is.
 */
static int get_counters(struct top *t, struct varlink_reply *ret, char **msg)
{
	struct ctx *c = t->c;
	uint64_t deadline = c->timeout_sec > 0 ? now_usec() + (uint64_t)(c->timeout_sec * 1e6) : 0;
	struct capture k;
	int r;

	*ret = (struct varlink_reply){0};
	*msg = NULL;
	if (t->counters_refused || !c->link)
		return 0;
	r = varlink_call(c->link, THPD_METHOD_GET_COUNTERS, NULL, deadline, ret);
	if (r < 0 && !t->capture)
		return ctx_transfer_error(c, THPD_METHOD_GET_COUNTERS, r);
	if (r < 0) {
		capture_begin(&k);
		r = ctx_transfer_error(c, THPD_METHOD_GET_COUNTERS, r);
		*msg = capture_end(&k);
		return r;
	}
	if (ret->error) {
		t->counters_refused = true;
		varlink_reply_clear(ret);
	}
	return 0;
}

/* One sample into the model. On failure: disconnected, the model empty. Returns an exit code. */
static int take_sample(struct top *t)
{
	struct varlink_reply st = {0}, ls = {0}, co = {0};
	char *msg = NULL;
	int r = top_call(t, THPD_METHOD_GET_STATUS, NULL, &st, &msg);

	if (r == 0) {
		free(msg);
		r = top_call(t, THPD_METHOD_LIST_TARGETS, NULL, &ls, &msg);
	}
	if (r == 0) {
		free(msg);
		r = get_counters(t, &co, &msg);
	}
	free(t->disconnected);
	t->disconnected = NULL;
	if (r == 0) {
		top_model_update(&t->model, st.parameters, ls.parameters,
				 co.message ? co.parameters : NULL, now_usec());
	} else {
		/* A new connection next time: this one may have been cut mid-reply. */
		ctx_done(t->c);
		top_model_clear(&t->model);
		t->counters_refused = false;
		t->disconnected = msg && *msg ? msg : xstrdup("no answer from thpd");
		msg = NULL;
	}
	free(msg);
	varlink_reply_clear(&st);
	varlink_reply_clear(&ls);
	varlink_reply_clear(&co);
	t->view.disconnected = t->disconnected;
	return r;
}

/* ---- keys that steer ---- */

static void steer(struct top *t, enum top_action a)
{
	static const struct verb pause_all = {.name = "pause",
					      .privileged_what = "pausing the whole daemon"};
	static const struct verb resume_all = {.name = "resume",
					       .privileged_what = "resuming the whole daemon"};
	bool pause = a == TOP_ACT_PAUSE || a == TOP_ACT_PAUSE_ALL;
	bool all = a == TOP_ACT_PAUSE_ALL || a == TOP_ACT_RESUME_ALL;
	json_int_t pid = all ? 0 : t->view.selected_pid;
	const struct verb *verb = t->c->verb;
	struct top_view *v = &t->view;
	struct varlink_reply reply;
	json_t *params = NULL;
	char *msg;
	int r;

	if (!all && !(params = json_pack("{s:I}", "pid", pid)))
		oom();
	/* PermissionDenied names what needed the privilege. */
	if (all)
		t->c->verb = pause ? &pause_all : &resume_all;
	r = top_call(t, pause ? THPD_METHOD_PAUSE : THPD_METHOD_RESUME, params, &reply, &msg);
	t->c->verb = verb;
	json_decref(params);
	v->message_error = r != 0;
	if (r) {
		snprintf(v->message, sizeof(v->message), "%s", msg ? msg : "failed");
		ctx_done(t->c);
	} else if (all) {
		snprintf(v->message, sizeof(v->message), "%s",
			 pause ? "Paused all collapsing (scans go on); R resumes."
			       : "Resumed collapsing.");
	} else {
		snprintf(v->message, sizeof(v->message), "%s collapsing of pid %lld.",
			 pause ? "Paused" : "Resumed", (long long)pid);
	}
	if (r == 0)
		varlink_reply_clear(&reply);
	free(msg);
}

/* ---- full screen ---- */

static const char *clock_now(char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;

	if (!localtime_r(&now, &tm) || strftime(buf, len, "%H:%M:%S", &tm) == 0)
		snprintf(buf, len, "--:--:--");
	return buf;
}

static int draw(struct top *t)
{
	char clock[16];

	term_size(STDOUT_FILENO, &t->view.width, &t->view.height);
	t->view.clock = clock_now(clock, sizeof(clock));
	top_render(&t->model, &t->view, &t->frame);
	t->view.clock = NULL;
	return term_draw(t->frame.lines, t->frame.cols, t->frame.n, t->view.width);
}

/* Keys typed. Returns TOP_CONTINUE, or an exit code (q, end of input). */
static int on_input(struct top *t, bool *dirty, uint64_t *next_sample)
{
	char buf[64];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return TOP_CONTINUE;
	if (n < 0) {
		print_error("cannot read the terminal: %s", strerror(errno));
		return EXIT_CALL_FAILED;
	}
	if (n == 0)
		return EXIT_OK; /* the terminal went away */
	for (size_t i = 0; i < (size_t)n;) {
		size_t used;
		int key = top_key_decode(buf + i, (size_t)n - i, &used);
		enum top_action a = top_key_handle(&t->view, &t->model, key);

		i += used;
		switch (a) {
		case TOP_ACT_QUIT:
			return EXIT_OK;
		case TOP_ACT_NONE:
			break;
		case TOP_ACT_REDRAW:
			*dirty = true;
			break;
		case TOP_ACT_PAUSE:
		case TOP_ACT_RESUME:
		case TOP_ACT_PAUSE_ALL:
		case TOP_ACT_RESUME_ALL:
			steer(t, a);
			*dirty = true;
			*next_sample = 0; /* show the new state now */
			break;
		}
	}
	return TOP_CONTINUE;
}

/* A signal. Returns TOP_CONTINUE, or an exit code. */
static int on_signal(int sig_fd, bool *dirty)
{
	struct signalfd_siginfo si;
	int r = 0;

	if (read(sig_fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return TOP_CONTINUE;
	switch (si.ssi_signo) {
	case SIGWINCH:
		break;
	case SIGTSTP:
		r = term_suspend();
		break;
	case SIGCONT:
		r = term_enter(); /* stopped by someone else: the shell may have reset the modes */
		break;
	default: /* SIGINT, SIGTERM, SIGHUP, SIGQUIT */
		return EXIT_OK;
	}
	if (r < 0) {
		term_leave();
		print_error("cannot set up the terminal again: %s", strerror(-r));
		return EXIT_CALL_FAILED;
	}
	*dirty = true;
	return TOP_CONTINUE;
}

static int run_loop(struct top *t, int sig_fd)
{
	uint64_t next_sample = 0;
	bool dirty = true;

	for (;;) {
		struct pollfd p[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
				      {.fd = sig_fd, .events = POLLIN}};
		uint64_t now = now_usec();
		int r;

		if (now >= next_sample) {
			take_sample(t);
			/* From the end of the sample: a slow daemon is not asked faster. */
			next_sample = now_usec() + t->interval_usec;
			dirty = true;
		}
		if (dirty) {
			r = draw(t);
			if (r < 0) {
				term_leave();
				print_error("cannot write to the terminal: %s", strerror(-r));
				return EXIT_CALL_FAILED;
			}
			dirty = false;
		}
		now = now_usec();
		r = poll(p, 2, now < next_sample ? (int)((next_sample - now) / 1000) + 1 : 0);
		if (r < 0 && errno != EINTR) {
			term_leave();
			print_error("poll: %s", strerror(errno));
			return EXIT_CALL_FAILED;
		}
		if (r <= 0)
			continue;
		if (p[1].revents & POLLIN && (r = on_signal(sig_fd, &dirty)) != TOP_CONTINUE)
			return r;
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR) &&
		    (r = on_input(t, &dirty, &next_sample)) != TOP_CONTINUE)
			return r;
	}
}

static const int top_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGTSTP, SIGCONT};

static int run_interactive(struct top *t)
{
	sigset_t mask, old;
	int sig_fd, r;

	/* Signals come through a signalfd polled with the keys: quitting on
	 * them restores the terminal like q does. */
	sigemptyset(&mask);
	for (size_t i = 0; i < ARRAY_SIZE(top_signals); i++)
		sigaddset(&mask, top_signals[i]);
	if (sigprocmask(SIG_BLOCK, &mask, &old) < 0 ||
	    (sig_fd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		print_error("cannot set up signal handling: %s", strerror(errno));
		return EXIT_CALL_FAILED;
	}
	r = term_enter();
	if (r < 0) {
		print_error("cannot set up the terminal: %s", strerror(-r));
		r = EXIT_CALL_FAILED;
	} else {
		t->capture = true;
		r = run_loop(t, sig_fd);
		t->capture = false;
		term_leave();
	}
	close(sig_fd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

/* ---- --batch ---- */

/* The width of batch frames: the terminal's, else $COLUMNS, else no limit (0). */
static int batch_width(void)
{
	const char *s = getenv("COLUMNS");
	int cols, rows;
	char *end;
	long v;

	if (isatty(STDOUT_FILENO)) {
		term_size(STDOUT_FILENO, &cols, &rows);
		return cols;
	}
	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	return *end || errno || v < 1 || v > 100000 ? 0 : (int)v;
}

static void nap(double sec)
{
	struct timespec ts = {.tv_sec = (time_t)sec, .tv_nsec = (long)((sec - floor(sec)) * 1e9)};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int run_batch(struct top *t, long iterations)
{
	char clock[16];
	int r;

	t->view.width = batch_width();
	t->view.height = 0;
	for (long i = 0; i < iterations; i++) {
		if (i > 0)
			nap(t->view.interval_sec);
		r = take_sample(t);
		if (r)
			return r;
		t->view.clock = clock_now(clock, sizeof(clock));
		top_render(&t->model, &t->view, &t->frame);
		t->view.clock = NULL;
		if (i > 0)
			putchar('\n');
		for (size_t k = 0; k < t->frame.n; k++)
			printf("%s\n", t->frame.lines[k]);
		r = flush_stdout();
		if (r)
			return r;
	}
	return EXIT_OK;
}

/* ---- the verb ---- */

static int parse_iterations(const char *s, long *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < 1 || v > MAX_ITERATIONS)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int check_options(struct ctx *c, struct top *t, long *iterations)
{
	const struct verb_opts *o = &c->verb_opts;
	const char *term = getenv("TERM");

	if (c->out.json)
		return usage_error("top has no JSON output; 'thpctl --json targets' and "
				   "'thpctl --json counters' give its figures");
	if (o->top_interval && parse_seconds(o->top_interval, MIN_INTERVAL_SEC, MAX_INTERVAL_SEC,
					     &t->view.interval_sec) < 0)
		return usage_error("invalid interval '%s': expected seconds from %g to %g, "
				   "e.g. 2 or 0.5, or a duration such as 500ms",
				   o->top_interval, MIN_INTERVAL_SEC, MAX_INTERVAL_SEC);
	if (o->top_sort && top_sort_parse(o->top_sort, &t->view.sort) < 0)
		return usage_error("invalid sort order '%s': expected activity, coverage, size "
				   "or pid",
				   o->top_sort);
	if (o->top_iterations && !o->top_batch)
		return usage_error("--iterations goes with --batch");
	if (o->top_iterations && parse_iterations(o->top_iterations, iterations) < 0)
		return usage_error("invalid number of iterations '%s': expected 1 to %ld",
				   o->top_iterations, MAX_ITERATIONS);
	if (o->top_batch)
		return EXIT_OK;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return usage_error("top needs a terminal on standard input and output; "
				   "--batch prints frames without one");
	if (!term || !*term || streq(term, "dumb"))
		return usage_error("top needs a terminal that understands escape sequences "
				   "(TERM is %s); --batch prints frames without them",
				   term && *term ? term : "not set");
	return EXIT_OK;
}

int verb_top(struct ctx *c, int n_args, char **args)
{
	struct top t = {
	    .c = c,
	    .view = {.interval_sec = 1.0, .socket_path = c->socket_path, .color = c->out.color}};
	long iterations = 1;
	int r = check_options(c, &t, &iterations);

	if (r)
		return r;
	t.interval_usec = (uint64_t)llround(t.view.interval_sec * 1e6);
	if (c->verb_opts.top_batch) {
		r = run_batch(&t, iterations);
	} else {
		t.view.interactive = true;
		r = run_interactive(&t);
	}
	top_model_clear(&t.model);
	top_frame_clear(&t.frame);
	free(t.disconnected);
	return r;
}
