/* SPDX-License-Identifier: MIT */
/* What the method handlers of methods.c and methods-why.c share. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "manager.h"
#include "methods.h"

/* One call being dispatched. */
struct call {
	struct manager *m;
	const struct kernel_features *features; /* never NULL here */
	const struct peer *peer;
	json_t *params; /* never NULL here */
	const struct call_flags *flags;
	struct method_reply *reply;
};

/* Reply with a Varlink error (params owned, may be NULL). */
void methods_reply_error(struct call *c, const char *error, json_t *params);
/* InvalidParameter naming what. */
void methods_reply_invalid(struct call *c, const char *what);
/*
 * Strict parameters failed to unpack: name the first field that is not one
 * of the known ones (NULL-terminated), else the first known one of the wrong
 * type (types: one per known field; JSON_TRUE for a boolean), else the first
 * known one (required and missing).
 */
void methods_reply_bad_params(struct call *c, const char *const *known, const json_type *types);
/* May this peer see (and steer) this target? */
bool methods_can_see(const struct peer *p, const struct target *t);
/* A JSON string of s, bytes that are not UTF-8 escaped (new reference). */
json_t *methods_text_json(const char *s);
/* "EAGAIN" for EAGAIN, null for 0 (new reference). */
json_t *methods_errno_name(int err);

/* io.thpd.Manager.Why (methods-why.c). */
void methods_why(struct call *c);
