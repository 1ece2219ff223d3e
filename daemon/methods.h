/* SPDX-License-Identifier: MIT */
/* The Varlink methods: one table of name, handler and who may call it. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "protocol.h" /* method and error names */

struct manager;
struct kernel_features;

struct peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	bool privileged; /* uid 0 or member of group "thpd" */
};

struct method_reply {
	json_t *parameters; /* owned; NULL = {} */
	const char *error;  /* NULL on success */
	bool subscribe;	    /* Monitor: stream events to this client from now on */
};

struct manager_event;

/* The caller asked for "more" (streaming), needed by Monitor. */
struct call_flags {
	bool more;
};

/*
 * Dispatch one call. Returns 0 and fills reply (success or Varlink error).
 * The caller sends it unless the call was oneway. features: the kernel
 * features found at start (read-only; NULL shows every one as unknown).
 */
int methods_call(struct manager *m, const struct kernel_features *features, const struct peer *peer,
		 const char *method, json_t *parameters, const struct call_flags *flags,
		 struct method_reply *reply);

/* May this peer see this event? (another user's targets are invisible) */
bool methods_event_visible(const struct peer *peer, const struct manager_event *ev);
/* The event as Monitor reply parameters (new reference). */
json_t *methods_event_json(const struct manager_event *ev);
