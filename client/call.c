/* SPDX-License-Identifier: MIT */
/* Calling the daemon, and turning every way a call can fail into one message and an exit code. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "thpctl.h"
#include "util.h"
#include "xalloc.h"

void print_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("thpctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("thpctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'thpctl help'.\n", stderr);
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

static int transfer_error(const struct ctx *c, const char *method, int r)
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

	if (streq(error, "io.thpd.Manager.NoSuchTarget")) {
		print_error("no target with pid %lld", (long long)jget_int(params, "pid"));
	} else if (streq(error, "io.thpd.Manager.ReloadFailed")) {
		report_reload_failed(c, params);
	} else if (streq(error, "org.varlink.service.PermissionDenied")) {
		print_error("permission denied: %s needs root or group thpd", verb);
	} else if (streq(error, "org.varlink.service.MethodNotFound") ||
		   streq(error, "org.varlink.service.MethodNotImplemented")) {
		print_error("thpd does not support %s (is it older than thpctl?)",
			    jget_str_or(params, "method", method));
	} else if (streq(error, "org.varlink.service.InterfaceNotFound")) {
		print_error("thpd does not provide interface %s",
			    jget_str_or(params, "interface", "?"));
	} else if (streq(error, "org.varlink.service.InvalidParameter")) {
		print_error("thpd rejected parameter '%s' of %s",
			    jget_str_or(params, "parameter", "?"), method);
	} else {
		char *s = json_object_size(params) ? json_dumps(params, JSON_COMPACT) : NULL;

		print_error("%s failed: %s%s%s", method, error, s ? " " : "", s ? s : "");
		free(s);
	}
}

int ctx_call(struct ctx *c, const char *method, json_t *params, struct varlink_reply *ret)
{
	int r;

	*ret = (struct varlink_reply){0};
	/* The timeout covers connecting (first call) and the reply. */
	c->deadline = c->timeout_sec > 0 ? now_usec() + (uint64_t)(c->timeout_sec * 1e6) : 0;
	if (!c->link) {
		r = varlink_connect(c->socket_path, c->deadline, &c->link);
		if (r < 0)
			return connect_error(c, r);
	}
	r = varlink_call(c->link, method, params, c->deadline, ret);
	if (r < 0)
		return transfer_error(c, method, r);
	if (ret->error) {
		report_error(c, method, ret->error, ret->parameters);
		varlink_reply_clear(ret);
		return EXIT_CALL_FAILED;
	}
	return 0;
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
