/* SPDX-License-Identifier: MIT */
/*
 * One Varlink call message (the JSON object between two NUL bytes) -> method,
 * parameters and flags. Pure: no I/O, no logging; control.c frames messages
 * and sends the replies, methods.c runs the call.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct varlink_call {
	json_t *message;    /* the parsed message: owns method and parameters */
	const char *method; /* never NULL after a successful parse */
	json_t *parameters; /* an object, or NULL when absent */
	bool oneway;	    /* no reply wanted */
	bool more;	    /* the caller accepts several replies (Monitor) */
	bool upgrade;	    /* parsed for strictness; not supported otherwise */
};

/*
 * Parse buf[0..len) (no NUL terminator needed). Returns:
 *   0        a call: *out is filled; release it with varlink_call_free().
 *   -EBADMSG not JSON, or JSON but not an object: close the connection.
 *            *error_param says why (for a debug log; free() it).
 *   -EINVAL  an object but not a valid call (unknown top-level key, missing
 *            or wrong-typed method/parameters/oneway/more/upgrade): reply
 *            with the Varlink error *error (static) and parameter
 *            *error_param (free() it; NULL if out of memory).
 * *error and *error_param are NULL on success.
 */
int varlink_parse_call(const char *buf, size_t len, struct varlink_call *out, const char **error,
		       char **error_param);

/* Drop the message reference; *call is zeroed. NULL-safe. */
void varlink_call_free(struct varlink_call *call);
