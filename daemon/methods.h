/* SPDX-License-Identifier: MIT */
/* The Varlink methods: one table of name, handler and who may call it. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

struct manager;
struct kernel_features;

struct peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	bool privileged; /* uid 0 or member of group "thpd" */
};

/* Varlink error names. */
#define VARLINK_ERR_METHOD_NOT_FOUND	"org.varlink.service.MethodNotFound"
#define VARLINK_ERR_INVALID_PARAM	"org.varlink.service.InvalidParameter"
#define VARLINK_ERR_PERMISSION		"org.varlink.service.PermissionDenied"
#define VARLINK_ERR_INTERFACE_NOT_FOUND "org.varlink.service.InterfaceNotFound"
#define THPD_ERR_NO_SUCH_TARGET		"io.thpd.Manager.NoSuchTarget"
#define THPD_ERR_RELOAD_FAILED		"io.thpd.Manager.ReloadFailed"
#define THPD_ERR_TARGET_NOT_ACTIVE	"io.thpd.Manager.TargetNotActive"
#define VARLINK_ERR_EXPECTED_MORE	"org.varlink.service.ExpectedMore"

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
