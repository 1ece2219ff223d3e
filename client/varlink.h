/* SPDX-License-Identifier: MIT */
/*
 * A minimal blocking Varlink client: JSON objects terminated by a NUL byte
 * over a Unix stream socket. Every operation takes an absolute deadline on
 * CLOCK_MONOTONIC (now_usec(), microseconds; 0 = wait forever) and waits
 * with poll(), so one deadline covers connect, send and reply.
 *
 * Several replies may be read from one call ("more": true): each reply
 * with "continues": true is followed by another, and bytes that arrive
 * after one reply are kept for the next.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Largest message accepted from the daemon, including the NUL byte. */
#define VARLINK_MAX_MESSAGE (16U << 20)

/*
 * A deadline that has already passed: varlink_recv() returns what is
 * buffered or readable at once, else -ETIMEDOUT without waiting. For callers
 * that wait on varlink_fd() themselves (together with other descriptors).
 */
#define VARLINK_NO_WAIT ((uint64_t)1)

/* Flags of varlink_send(). */
#define VARLINK_CALL_MORE (1U << 0) /* ask for a stream of replies */

struct varlink;

struct varlink_reply {
	json_t *message;    /* the whole reply object (owned) */
	json_t *parameters; /* borrowed from message; an empty object if absent */
	const char *error;  /* borrowed; NULL on success */
	bool continues;	    /* more replies follow this one */
};

/*
 * Connect to the socket at path. Returns 0 or a negative errno:
 * -ENOENT/-ENOTDIR (no socket), -ECONNREFUSED (nobody listening),
 * -ETIMEDOUT, -ENAMETOOLONG, others from socket()/connect().
 */
/* Milliseconds left until deadline (CLOCK_MONOTONIC usec, 0 = none) for
 * poll(): -1 = forever, 0 = expired. */
int varlink_poll_timeout(uint64_t deadline);

int varlink_connect(const char *path, uint64_t deadline, struct varlink **ret);

/*
 * Send one call. params may be NULL (sent as {}); it is not consumed.
 * Returns 0, -ETIMEDOUT, -EPIPE/-ECONNRESET, or another negative errno.
 */
int varlink_send(struct varlink *v, const char *method, json_t *params, unsigned flags,
		 uint64_t deadline);

/*
 * Read the next reply. Returns 0 and fills *ret (clear with
 * varlink_reply_clear()), or a negative errno:
 *   -ETIMEDOUT   nothing complete before the deadline
 *   -ECONNRESET  the daemon closed the connection (see varlink_detail())
 *   -EMSGSIZE    a reply larger than VARLINK_MAX_MESSAGE
 *   -EBADMSG     not JSON, not an object, or malformed Varlink fields
 */
int varlink_recv(struct varlink *v, uint64_t deadline, struct varlink_reply *ret);

/* send + recv of a single reply. */
int varlink_call(struct varlink *v, const char *method, json_t *params, uint64_t deadline,
		 struct varlink_reply *ret);

/* The socket, to poll() for POLLIN before calling varlink_recv() again. */
int varlink_fd(const struct varlink *v);

/* Human detail of the last -EBADMSG/-ECONNRESET error ("" if none). */
const char *varlink_detail(const struct varlink *v);

void varlink_reply_clear(struct varlink_reply *r);
void varlink_close(struct varlink *v);
