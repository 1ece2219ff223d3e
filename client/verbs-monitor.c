/* SPDX-License-Identifier: MIT */
/* thpctl monitor: the daemon's events as they happen. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "format.h"
#include "protocol.h"
#include "thpctl.h"
#include "units.h"
#include "util.h"
#include "verbs.h"
#include "xalloc.h"

/* ---- monitor ---- */

/* A subscription that ends sooner than this is not renewed. */
#define MONITOR_MIN_LIFETIME_USEC USEC_PER_SEC

static enum color event_color(const char *type)
{
	if (streq(type, "collapse-done") || streq(type, "resume"))
		return COLOR_GREEN;
	if (streq(type, "collapse-error") || streq(type, "reload-failed"))
		return COLOR_RED;
	if (streq(type, "pause"))
		return COLOR_YELLOW;
	if (streq(type, "target-removed"))
		return COLOR_DIM;
	return COLOR_NONE;
}

/* The columns of the event lines: fixed minimum widths, as they come one by one. */
static struct table *event_table(struct view *v)
{
	struct table *t = view_add_table(v, NULL);

	table_add_column(t, "TIME", "time", ALIGN_LEFT);
	table_column_min_width(t, 12); /* 12:34:56.789 */
	table_add_column(t, "TYPE", "type", ALIGN_LEFT);
	table_column_min_width(t, 14); /* collapse-error */
	table_add_column(t, "PID", "pid", ALIGN_RIGHT);
	table_column_min_width(t, 7);
	table_add_column(t, "COMM", "comm", ALIGN_LEFT);
	table_column_min_width(t, 15); /* TASK_COMM_LEN - 1 */
	table_add_column(t, "DETAILS", "details", ALIGN_LEFT);
	return t;
}

/* Append ", WHAT" (printf-style) to *s. */
static void __attribute__((format(printf, 2, 3))) append(char **s, const char *fmt, ...)
{
	va_list ap;
	char *what, *next;

	va_start(ap, fmt);
	what = xvasprintf(fmt, ap);
	va_end(ap);
	next = xasprintf("%s%s%s", *s ? *s : "", *s ? ", " : "", what);
	free(what);
	free(*s);
	*s = next;
}

/* "policy db, 4.0 MiB, 2 chunks ok, 0 failed, in 1.2 ms" */
static char *event_details(const json_t *e)
{
	const char *type = jget_str_or(e, "type", "");
	const json_t *dur = json_object_get(e, "duration_sec");
	char *s = NULL, a[FMT_BUF];

	if (jget_str(e, "policy"))
		append(&s, "policy %s", jget_str(e, "policy"));
	if (jget_str(e, "reason"))
		append(&s, "reason %s", jget_str(e, "reason"));
	if (jget_str(e, "cgroup"))
		append(&s, "cgroup %s", jget_str(e, "cgroup"));
	if (jget_str(e, "errno"))
		append(&s, "%s", jget_str(e, "errno"));
	if (json_is_integer(json_object_get(e, "addr")))
		append(&s, "at %s", fmt_addr(jget_int(e, "addr"), a, sizeof(a)));
	if (json_is_integer(json_object_get(e, "bytes")))
		append(&s, "%s", fmt_size(jget_int(e, "bytes"), a, sizeof(a)));
	if (json_object_get(e, "chunks_ok") || json_object_get(e, "chunks_failed"))
		append(&s, "%lld chunk%s ok, %lld failed", (long long)jget_int(e, "chunks_ok"),
		       jget_int(e, "chunks_ok") == 1 ? "" : "s",
		       (long long)jget_int(e, "chunks_failed"));
	if (json_is_number(dur))
		append(&s, "%s %s", streq(type, "pause") ? "for" : "in",
		       fmt_seconds(json_number_value(dur), a, sizeof(a)));
	return s;
}

/* "12:34:56.789", local time: the event's (seconds since the epoch), or now
 * for a daemon that does not send it. */
static const char *event_time(const json_t *e, char *buf, size_t len)
{
	const json_t *t = json_object_get(e, "time");
	struct timespec ts;
	struct tm tm;
	char hms[16];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (json_is_number(t) && json_number_value(t) > 0) {
		double sec = json_number_value(t);
		ts.tv_sec = (time_t)sec;
		ts.tv_nsec = (long)((sec - (double)ts.tv_sec) * 1e9);
	}
	if (!localtime_r(&ts.tv_sec, &tm) || strftime(hms, sizeof(hms), "%H:%M:%S", &tm) == 0)
		snprintf(hms, sizeof(hms), "--:--:--");
	snprintf(buf, len, "%s.%03ld", hms, ts.tv_nsec / 1000000L);
	return buf;
}

/* One reply of the stream: the raw parameters (JSON Lines) or one aligned line. */
static int print_event(struct ctx *c, const json_t *e)
{
	struct output_opts o = c->out;
	const char *type = jget_str_or(e, "type", "?");
	const json_t *pid = json_object_get(e, "pid");
	struct view *v;
	struct table *t;
	char a[FMT_BUF], *details;
	int r;

	o.legend = false;
	v = view_new(&o);
	view_set_json(v, (json_t *)e);
	if (!o.json) {
		t = event_table(v);
		details = event_details(e);
		table_add_row(t);
		table_cell(t, COLOR_NONE, "%s", event_time(e, a, sizeof(a)));
		table_cell(t, event_color(type), "%s", type);
		if (json_is_integer(pid))
			table_cell(t, COLOR_NONE, "%lld", (long long)json_integer_value(pid));
		else
			table_cell(t, COLOR_NONE, "-");
		table_cell(t, COLOR_NONE, "%s", jget_str_or(e, "comm", "-"));
		table_cell(t, COLOR_NONE, "%s", details ? details : "-");
		free(details);
	}
	r = ctx_print(c, v);
	view_free(v);
	return r;
}

/* The column headers, once, when the first subscription is confirmed. */
static int print_event_header(struct ctx *c)
{
	struct view *v;
	int r;

	if (c->out.json || !c->out.legend)
		return EXIT_OK;
	v = view_new(&c->out);
	event_table(v);
	r = ctx_print(c, v);
	view_free(v);
	return r;
}

/* True if nothing answers on the socket any more: the daemon has stopped. */
static bool daemon_gone(const struct ctx *c)
{
	struct varlink *probe = NULL;
	int r = varlink_connect(c->socket_path, now_usec() + USEC_PER_SEC, &probe);

	varlink_close(probe);
	return r == -ENOENT || r == -ENOTDIR || r == -ECONNREFUSED;
}

/* Interval of the probes while waiting for thpd to come up. */
#define MONITOR_WAIT_STEP_USEC (200 * 1000ULL)

/*
 * Started before thpd (at boot, or together with it): wait until its socket
 * answers, up to --timeout (0: for ever). Returns EXIT_OK when it does, or
 * on SIGINT/SIGTERM (*interrupted set), else EXIT_NOT_RUNNING.
 */
static int wait_for_daemon(const struct ctx *c, int sig_fd, bool *interrupted)
{
	uint64_t until = c->timeout_sec > 0 ? now_usec() + (uint64_t)(c->timeout_sec * 1e6) : 0;
	bool said = false;

	while (daemon_gone(c)) {
		struct pollfd p = {.fd = sig_fd, .events = POLLIN};

		if (until && now_usec() >= until) {
			print_error("thpd is not running: nothing answered on %s within %g s",
				    c->socket_path, c->timeout_sec);
			return EXIT_NOT_RUNNING;
		}
		if (!said)
			fprintf(stderr, "thpctl: waiting for thpd on %s\n", c->socket_path);
		said = true;
		if (poll(&p, 1, (int)(MONITOR_WAIT_STEP_USEC / 1000)) > 0) {
			*interrupted = true;
			return EXIT_OK;
		}
	}
	return EXIT_OK;
}

static int monitor_run(struct ctx *c, int sig_fd)
{
	const char *method = THPD_METHOD_MONITOR;
	struct varlink_reply reply;
	uint64_t since = 0;
	bool interrupted = false;
	int r = wait_for_daemon(c, sig_fd, &interrupted);

	if (r || interrupted)
		return r;
	for (;;) {
		bool more;

		if (since) {
			/* The daemon closed the stream. */
			ctx_done(c);
			if (daemon_gone(c)) {
				print_error("thpd stopped");
				return EXIT_NOT_RUNNING;
			}
			if (now_usec() - since < MONITOR_MIN_LIFETIME_USEC) {
				print_error("thpd closed the monitor connection");
				return EXIT_CALL_FAILED;
			}
			print_error("thpd closed the monitor connection but is still running; "
				    "subscribing again (events in between may be missing)");
		}
		/* --timeout covers connecting and the first reply ("subscribed"). */
		r = ctx_call_more(c, method, NULL);
		if (r)
			return r;
		r = ctx_recv_more(c, method, sig_fd, &reply);
		if (r == -EINTR)
			return EXIT_OK;
		if (r == -ECONNRESET && since && daemon_gone(c)) {
			print_error("thpd stopped");
			return EXIT_NOT_RUNNING;
		}
		if (r == -ECONNRESET)
			return ctx_transfer_error(c, method, r);
		if (r)
			return r;
		r = since ? EXIT_OK : print_event_header(c);
		if (r == EXIT_OK && c->out.json)
			r = print_event(c, reply.parameters);
		more = reply.continues;
		varlink_reply_clear(&reply);
		if (r)
			return r;
		since = now_usec();
		/* Events come when they come: no deadline from here on. */
		c->deadline = 0;
		while (more) {
			r = ctx_recv_more(c, method, sig_fd, &reply);
			if (r == -EINTR)
				return EXIT_OK;
			if (r == -ECONNRESET)
				break;
			if (r)
				return r;
			r = print_event(c, reply.parameters);
			more = reply.continues;
			varlink_reply_clear(&reply);
			if (r)
				return r;
		}
	}
}

int verb_monitor(struct ctx *c, int n_args, char **args)
{
	sigset_t mask;
	int sig_fd, r;

	/* SIGINT and SIGTERM end the stream normally (exit 0): taken through a
	 * signalfd polled together with the connection. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    (sig_fd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		print_error("cannot set up signal handling: %s", strerror(errno));
		return EXIT_CALL_FAILED;
	}
	c->out.json_lines = true;
	r = monitor_run(c, sig_fd);
	close(sig_fd);
	return r;
}
