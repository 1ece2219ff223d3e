/* SPDX-License-Identifier: MIT */
/* Calling the daemon, and turning every way a call can fail into one message and an exit code. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "protocol.h"
#include "thpctl.h"
#include "util.h"
#include "xalloc.h"

/* "thpctl: MESSAGE" and then tail on stderr, after what stdout holds. */
static void __attribute__((format(printf, 2, 0), nonnull(2)))
vprint_error(const char *tail, const char *fmt, va_list ap)
{
	fflush(stdout);
	fputs("thpctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs(tail, stderr);
}

void print_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_error("\n", fmt, ap);
	va_end(ap);
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_error("\nTry 'thpctl help'.\n", fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

int parse_pid_arg(const char *s, json_int_t *ret)
{
	json_int_t v = 0;

	if (!*s)
		return usage_error("invalid PID '': expected a positive number");
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || v > (INT32_MAX - (*p - '0')) / 10)
			return usage_error("invalid PID '%s': expected a number from 1 to %d", s,
					   INT32_MAX);
		v = v * 10 + (*p - '0');
	}
	if (v == 0)
		return usage_error("invalid PID '%s': expected a number from 1 to %d", s,
				   INT32_MAX);
	*ret = v;
	return 0;
}

static const char *timeout_text(const struct ctx *c, char *buf, size_t len)
{
	snprintf(buf, len, "%g s", c->timeout_sec);
	return buf;
}

static int connect_error(const struct ctx *c, int r)
{
	char t[FMT_BUF];

	switch (-r) {
	case ENOENT:
	case ENOTDIR:
		print_error("thpd is not running (no socket at %s)", c->socket_path);
		return EXIT_NOT_RUNNING;
	case ECONNREFUSED:
		print_error("thpd is not running (nothing listening on %s)", c->socket_path);
		return EXIT_NOT_RUNNING;
	case ETIMEDOUT:
		print_error("timed out after %s connecting to thpd at %s",
			    timeout_text(c, t, sizeof(t)), c->socket_path);
		return EXIT_CALL_FAILED;
	case EACCES:
	case EPERM:
		print_error("permission denied: cannot connect to %s", c->socket_path);
		return EXIT_CALL_FAILED;
	case ENAMETOOLONG:
		print_error("socket path too long: %s", c->socket_path);
		return EXIT_CALL_FAILED;
	case ENOTSOCK:
		print_error("%s is not a socket", c->socket_path);
		return EXIT_CALL_FAILED;
	default:
		print_error("cannot connect to %s: %s", c->socket_path, strerror(-r));
		return EXIT_CALL_FAILED;
	}
}

int ctx_transfer_error(const struct ctx *c, const char *method, int r)
{
	char t[FMT_BUF];
	const char *detail = c->link ? varlink_detail(c->link) : "";

	switch (-r) {
	case ETIMEDOUT:
		print_error("timed out after %s waiting for thpd to answer %s",
			    timeout_text(c, t, sizeof(t)), method);
		break;
	case EBADMSG:
		print_error("invalid reply from thpd to %s: %s", method, detail);
		break;
	case EMSGSIZE:
		print_error("reply from thpd to %s is larger than %u MiB", method,
			    VARLINK_MAX_MESSAGE >> 20);
		break;
	case ECONNRESET:
	case EPIPE:
		print_error("thpd closed the connection during %s: %s", method,
			    *detail ? detail : "connection reset");
		break;
	default:
		print_error("call of %s failed: %s", method, strerror(-r));
		break;
	}
	return EXIT_CALL_FAILED;
}

/* ---- errors replied by the daemon ---- */

static void report_reload_failed(const struct ctx *c, json_t *params)
{
	json_t *problems = jget_array(params, "problems"), *p;
	size_t i, n = json_array_size(problems);

	print_error("reload failed, the running policy is unchanged (%zu problem%s):", n,
		    n == 1 ? "" : "s");
	json_array_foreach(problems, i, p)
	{
		const char *file = jget_str_or(p, "file", "");
		const char *msg = jget_str_or(p, "message", "(no message)");
		json_int_t line = jget_int(p, "line"), col = jget_int(p, "column");

		if (!*file)
			fprintf(stderr, "%s\n", msg);
		else if (line <= 0)
			fprintf(stderr, "%s: %s\n", file, msg);
		else
			fprintf(stderr, "%s:%lld:%lld: %s\n", file, (long long)line, (long long)col,
				msg);
	}
}

static void report_error(const struct ctx *c, const char *method, const char *error, json_t *params)
{
	const char *verb = c->verb ? c->verb->name : method;

	if (streq(error, THPD_ERR_NO_SUCH_TARGET)) {
		print_error("no target with pid %lld", (long long)jget_int(params, "pid"));
	} else if (streq(error, THPD_ERR_RELOAD_FAILED)) {
		report_reload_failed(c, params);
	} else if (streq(error, THPD_ERR_TARGET_NOT_ACTIVE)) {
		print_error("target %lld is not active (%s)", (long long)jget_int(params, "pid"),
			    jget_str_or(params, "state", "?"));
	} else if (streq(error, THPD_ERR_TOO_MANY_CALLS)) {
		print_error(
		    "too many %s calls from uid %lld (at most %lld back to back, then %lld a "
		    "minute): try again in %.1f s",
		    verb, (long long)jget_int(params, "uid"), (long long)jget_int(params, "burst"),
		    (long long)jget_int(params, "per_minute"), jget_real(params, "retry_in_sec"));
	} else if (streq(error, VARLINK_ERR_PERMISSION) && jget_str_or(params, "reason", NULL)) {
		print_error("permission denied: target %lld: %s",
			    (long long)jget_int(params, "pid"), jget_str_or(params, "reason", "?"));
	} else if (streq(error, VARLINK_ERR_PERMISSION)) {
		print_error("permission denied: %s needs root or group thpd",
			    c->verb && c->verb->privileged_what ? c->verb->privileged_what : verb);
	} else if (streq(error, VARLINK_ERR_METHOD_NOT_FOUND) ||
		   streq(error, VARLINK_ERR_METHOD_NOT_IMPLEMENTED)) {
		print_error("thpd does not support %s (is it older than thpctl?)",
			    jget_str_or(params, "method", method));
	} else if (streq(error, VARLINK_ERR_INTERFACE_NOT_FOUND)) {
		print_error("thpd does not provide interface %s",
			    jget_str_or(params, "interface", "?"));
	} else if (streq(error, VARLINK_ERR_INVALID_PARAM)) {
		print_error("thpd rejected parameter '%s' of %s",
			    jget_str_or(params, "parameter", "?"), method);
	} else {
		char *s = json_object_size(params) ? json_dumps(params, JSON_COMPACT) : NULL;

		print_error("%s failed: %s%s%s", method, error, s ? " " : "", s ? s : "");
		free(s);
	}
}

/* Set the deadline from --timeout and connect on first use. */
static int ctx_connect(struct ctx *c)
{
	int r;

	/* The timeout covers connecting (first call) and the reply. */
	c->deadline = c->timeout_sec > 0 ? now_usec() + (uint64_t)(c->timeout_sec * 1e6) : 0;
	if (c->link)
		return 0;
	r = varlink_connect(c->socket_path, c->deadline, &c->link);
	return r < 0 ? connect_error(c, r) : 0;
}

/* An error reply: one message, EXIT_CALL_FAILED. A success: 0. */
static int check_reply(struct ctx *c, const char *method, struct varlink_reply *ret)
{
	if (!ret->error)
		return 0;
	report_error(c, method, ret->error, ret->parameters);
	varlink_reply_clear(ret);
	return EXIT_CALL_FAILED;
}

int ctx_call(struct ctx *c, const char *method, json_t *params, struct varlink_reply *ret)
{
	int r;

	*ret = (struct varlink_reply){0};
	r = ctx_connect(c);
	if (r)
		return r;
	r = varlink_call(c->link, method, params, c->deadline, ret);
	if (r < 0)
		return ctx_transfer_error(c, method, r);
	return check_reply(c, method, ret);
}

int ctx_call_more(struct ctx *c, const char *method, json_t *params)
{
	int r = ctx_connect(c);

	if (r)
		return r;
	r = varlink_send(c->link, method, params, VARLINK_CALL_MORE, c->deadline);
	return r < 0 ? ctx_transfer_error(c, method, r) : 0;
}

int ctx_recv_more(struct ctx *c, const char *method, int sig_fd, struct varlink_reply *ret)
{
	*ret = (struct varlink_reply){0};
	for (;;) {
		struct pollfd p[2] = {
		    {.fd = varlink_fd(c->link), .events = POLLIN},
		    {.fd = sig_fd, .events = POLLIN},
		};
		int r = varlink_recv(c->link, VARLINK_NO_WAIT, ret), ms;

		if (r == 0)
			return check_reply(c, method, ret);
		if (r == -ECONNRESET)
			return r;
		if (r != -ETIMEDOUT)
			return ctx_transfer_error(c, method, r);
		/* Nothing complete yet: wait for more bytes, a signal or the deadline. */
		ms = varlink_poll_timeout(c->deadline);
		if (ms == 0)
			return ctx_transfer_error(c, method, -ETIMEDOUT);
		r = poll(p, sig_fd >= 0 ? 2 : 1, ms);
		if (r < 0 && errno != EINTR)
			return ctx_transfer_error(c, method, -errno);
		if (r > 0 && sig_fd >= 0 && p[1].revents)
			return -EINTR;
	}
}

static int write_error(void)
{
	print_error("cannot write output: %s", strerror(errno ? errno : EIO));
	return EXIT_CALL_FAILED;
}

int flush_stdout(void)
{
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout))
		return write_error();
	return EXIT_OK;
}

int ctx_print(struct ctx *c, const struct view *v)
{
	errno = 0;
	if (view_print(v, stdout) < 0)
		return write_error();
	return EXIT_OK;
}

void ctx_done(struct ctx *c)
{
	varlink_close(c->link);
	c->link = NULL;
}
