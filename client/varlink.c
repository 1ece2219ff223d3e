/* SPDX-License-Identifier: MIT */
#include "varlink.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "units.h"
#include "util.h"

/* First size of the receive buffer; doubled as needed up to the cap. */
#define RECV_BUF_INITIAL 4096U
/* Interval between connect() attempts while the listen backlog is full. */
#define CONNECT_RETRY_MSEC 10

struct varlink {
	int fd;
	char *buf;
	size_t cap;
	size_t len;	/* bytes in buf */
	size_t scanned; /* bytes of buf known to hold no NUL */
	bool eof;
	char detail[256];
};

int varlink_poll_timeout(uint64_t deadline)
{
	uint64_t now, left;

	if (deadline == 0)
		return -1;
	now = now_usec();
	if (now >= deadline)
		return 0;
	left = (deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* Wait until fd is ready for events (or has an error or hang-up to report). */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int ms = varlink_poll_timeout(deadline), r;

		if (ms == 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, ms);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			continue; /* the deadline is checked on the next round */
		if (p.revents & POLLNVAL)
			return -EBADF;
		return 0;
	}
}

/* Sleep (with poll) for at most ms milliseconds, not beyond deadline. */
static int wait_retry(uint64_t deadline, int ms)
{
	int left = varlink_poll_timeout(deadline);

	if (left == 0)
		return -ETIMEDOUT;
	if (left > 0 && left < ms)
		ms = left;
	if (poll(NULL, 0, ms) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

static int connect_fd(int fd, const struct sockaddr_un *sa, socklen_t salen, uint64_t deadline)
{
	for (;;) {
		int r, err = 0;
		socklen_t errlen = sizeof(err);

		if (connect(fd, (const struct sockaddr *)sa, salen) == 0)
			return 0;
		switch (errno) {
		case EISCONN:
			return 0;
		case EINTR:
			continue;
		case EAGAIN:
			/* Unix sockets: the listen backlog is full. Try again. */
			r = wait_retry(deadline, CONNECT_RETRY_MSEC);
			if (r < 0)
				return r;
			continue;
		case EINPROGRESS:
		case EALREADY:
			r = wait_fd(fd, POLLOUT, deadline);
			if (r < 0)
				return r;
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0)
				return -errno;
			return -err;
		default:
			return -errno;
		}
	}
}

int varlink_connect(const char *path, uint64_t deadline, struct varlink **ret)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = strlen(path);
	struct varlink *v;
	int r;

	if (n == 0)
		return -ENOENT;
	if (n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, n + 1);

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (v->fd < 0) {
		r = -errno;
		free(v);
		return r;
	}
	r = connect_fd(v->fd, &sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1),
		       deadline);
	if (r < 0) {
		varlink_close(v);
		return r;
	}
	*ret = v;
	return 0;
}

static int write_all(struct varlink *v, const char *p, size_t n, uint64_t deadline)
{
	while (n > 0) {
		ssize_t w = send(v->fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				int r = wait_fd(v->fd, POLLOUT, deadline);
				if (r < 0)
					return r;
				continue;
			}
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int varlink_send(struct varlink *v, const char *method, json_t *params, unsigned flags,
		 uint64_t deadline)
{
	json_t *call;
	char *s;
	int r;

	/* "o" steals the reference, also when json_pack fails. */
	call = json_pack("{s:s, s:o}", "method", method, "parameters",
			 params ? json_incref(params) : json_object());
	if (!call)
		return -ENOMEM;
	if ((flags & VARLINK_CALL_MORE) && json_object_set_new(call, "more", json_true()) < 0) {
		json_decref(call);
		return -ENOMEM;
	}
	s = json_dumps(call, JSON_COMPACT);
	json_decref(call);
	if (!s)
		return -ENOMEM;
	/* The NUL byte terminates a Varlink message. */
	r = write_all(v, s, strlen(s) + 1, deadline);
	free(s);
	return r;
}

static int parse_reply(struct varlink *v, const char *buf, size_t len, struct varlink_reply *ret)
{
	json_error_t jerr;
	json_t *msg = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr), *x;

	*ret = (struct varlink_reply){0};
	if (!msg) {
		snprintf(v->detail, sizeof(v->detail), "not JSON: %s at byte %zu", jerr.text,
			 (size_t)jerr.position);
		return -EBADMSG;
	}
	if (!json_is_object(msg)) {
		snprintf(v->detail, sizeof(v->detail), "not a JSON object");
		goto bad;
	}
	x = json_object_get(msg, "error");
	if (x && !json_is_string(x)) {
		snprintf(v->detail, sizeof(v->detail), "\"error\" is not a string");
		goto bad;
	}
	ret->error = json_string_value(x);
	x = json_object_get(msg, "continues");
	if (x && !json_is_boolean(x)) {
		snprintf(v->detail, sizeof(v->detail), "\"continues\" is not a boolean");
		goto bad;
	}
	ret->continues = json_is_true(x);
	x = json_object_get(msg, "parameters");
	if (!x || json_is_null(x)) {
		x = json_object();
		if (!x || json_object_set_new(msg, "parameters", x) < 0) {
			json_decref(msg);
			return -ENOMEM;
		}
	} else if (!json_is_object(x)) {
		snprintf(v->detail, sizeof(v->detail), "\"parameters\" is not an object");
		goto bad;
	}
	ret->parameters = x;
	ret->message = msg;
	return 0;
bad:
	json_decref(msg);
	*ret = (struct varlink_reply){0};
	return -EBADMSG;
}

int varlink_recv(struct varlink *v, uint64_t deadline, struct varlink_reply *ret)
{
	v->detail[0] = '\0';
	for (;;) {
		char *nul = v->len > v->scanned
				? memchr(v->buf + v->scanned, '\0', v->len - v->scanned)
				: NULL;
		if (nul) {
			size_t mlen = (size_t)(nul - v->buf);
			int r = parse_reply(v, v->buf, mlen, ret);

			/* Keep whatever follows for the next reply. */
			v->len -= mlen + 1;
			memmove(v->buf, nul + 1, v->len);
			v->scanned = 0;
			return r;
		}
		v->scanned = v->len;
		if (v->len >= VARLINK_MAX_MESSAGE) {
			snprintf(v->detail, sizeof(v->detail), "reply larger than %u MiB",
				 VARLINK_MAX_MESSAGE >> 20);
			return -EMSGSIZE;
		}
		if (v->eof) {
			snprintf(v->detail, sizeof(v->detail), "%s",
				 v->len ? "connection closed in the middle of a reply"
					: "connection closed without a reply");
			return -ECONNRESET;
		}
		if (v->len == v->cap) {
			size_t ncap = v->cap ? v->cap * 2 : RECV_BUF_INITIAL;
			char *nb;

			if (ncap > VARLINK_MAX_MESSAGE)
				ncap = VARLINK_MAX_MESSAGE;
			nb = realloc(v->buf, ncap);
			if (!nb)
				return -ENOMEM;
			v->buf = nb;
			v->cap = ncap;
		}

		ssize_t n = recv(v->fd, v->buf + v->len, v->cap - v->len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				int r = wait_fd(v->fd, POLLIN, deadline);
				if (r < 0)
					return r;
				continue;
			}
			if (errno == ECONNRESET) {
				snprintf(v->detail, sizeof(v->detail), "connection reset");
				return -ECONNRESET;
			}
			return -errno;
		}
		if (n == 0)
			v->eof = true;
		v->len += (size_t)n;
	}
}

int varlink_call(struct varlink *v, const char *method, json_t *params, uint64_t deadline,
		 struct varlink_reply *ret)
{
	int r = varlink_send(v, method, params, 0, deadline);

	if (r < 0)
		return r;
	return varlink_recv(v, deadline, ret);
}

int varlink_fd(const struct varlink *v)
{
	return v->fd;
}

const char *varlink_detail(const struct varlink *v)
{
	return v->detail;
}

void varlink_reply_clear(struct varlink_reply *r)
{
	json_decref(r->message);
	*r = (struct varlink_reply){0};
}

void varlink_close(struct varlink *v)
{
	if (!v)
		return;
	if (v->fd >= 0)
		close(v->fd);
	free(v->buf);
	free(v);
}
