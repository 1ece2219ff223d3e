/* SPDX-License-Identifier: MIT */
/* The Varlink methods: one table of name, handler and who may call it. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "manager.h"
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
	bool pending;	    /* Reload: the reply comes later (call_flags.reload_done) */
};

struct manager_event;

struct call_flags {
	bool more; /* the caller asked for "more" (streaming), needed by Monitor */
	/* Reload does not block the loop: with reload_done set it starts the
	 * reload, sets reply->pending and the caller gets reload_done(r, diags,
	 * reload_userdata) later (manager_reload_async); it builds the reply
	 * with methods_reload_reply(). Without, Reload blocks (fuzz harness). */
	manager_reload_fn reload_done;
	void *reload_userdata;
};

/*
 * Dispatch one call. Returns 0 and fills reply (success or Varlink error),
 * or sets reply->pending (see call_flags). The caller sends it unless the
 * call was oneway. features: the kernel
 * features found at start (read-only; NULL shows every one as unknown).
 */
int methods_call(struct manager *m, const struct kernel_features *features, const struct peer *peer,
		 const char *method, json_t *parameters, const struct call_flags *flags,
		 struct method_reply *reply);

/* The reply of Reload for the result r (diags may be NULL: none). */
void methods_reload_reply(struct manager *m, int r, const struct config_diags *diags,
			  struct method_reply *reply);

/* May this peer see this event? (another user's targets are invisible) */
bool methods_event_visible(const struct peer *peer, const struct manager_event *ev);
/* The event as Monitor reply parameters (new reference). */
json_t *methods_event_json(const struct manager_event *ev);
