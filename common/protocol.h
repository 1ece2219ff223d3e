/* SPDX-License-Identifier: MIT */
/*
 * The names thpd and thpctl exchange over Varlink: interfaces, methods,
 * errors and the state names of targets and chunks. The schema is
 * daemon/io.thpd.Manager.varlink; the unit test "protocol" checks that the
 * io.thpd.Manager methods and errors here are the ones declared there.
 */
#pragma once

#define THPD_INTERFACE		  "io.thpd.Manager"
#define VARLINK_SERVICE_INTERFACE "org.varlink.service"

/* io.thpd.Manager methods (full names, as in a call's "method"). */
#define THPD_METHOD_GET_STATUS	 THPD_INTERFACE ".GetStatus"
#define THPD_METHOD_LIST_TARGETS THPD_INTERFACE ".ListTargets"
#define THPD_METHOD_GET_TARGET	 THPD_INTERFACE ".GetTarget"
#define THPD_METHOD_GET_COUNTERS THPD_INTERFACE ".GetCounters"
#define THPD_METHOD_RELOAD	 THPD_INTERFACE ".Reload"
#define THPD_METHOD_COLLAPSE	 THPD_INTERFACE ".Collapse"
#define THPD_METHOD_PAUSE	 THPD_INTERFACE ".Pause"
#define THPD_METHOD_RESUME	 THPD_INTERFACE ".Resume"
#define THPD_METHOD_GET_POLICY	 THPD_INTERFACE ".GetPolicy"
#define THPD_METHOD_MONITOR	 THPD_INTERFACE ".Monitor"
#define THPD_METHOD_WHY		 THPD_INTERFACE ".Why"

/* io.thpd.Manager errors. */
#define THPD_ERR_NO_SUCH_TARGET	   THPD_INTERFACE ".NoSuchTarget"
#define THPD_ERR_RELOAD_FAILED	   THPD_INTERFACE ".ReloadFailed"
#define THPD_ERR_TARGET_NOT_ACTIVE THPD_INTERFACE ".TargetNotActive"
#define THPD_ERR_TOO_MANY_CALLS	   THPD_INTERFACE ".TooManyCalls"

/* Every THPD_METHOD_* and THPD_ERR_* above (a new one goes here too). */
#define THPD_ALL_METHODS                                                                           \
	THPD_METHOD_GET_STATUS, THPD_METHOD_LIST_TARGETS, THPD_METHOD_GET_TARGET,                  \
	    THPD_METHOD_GET_COUNTERS, THPD_METHOD_RELOAD, THPD_METHOD_COLLAPSE, THPD_METHOD_PAUSE, \
	    THPD_METHOD_RESUME, THPD_METHOD_GET_POLICY, THPD_METHOD_MONITOR, THPD_METHOD_WHY
#define THPD_ALL_ERRORS                                                                            \
	THPD_ERR_NO_SUCH_TARGET, THPD_ERR_RELOAD_FAILED, THPD_ERR_TARGET_NOT_ACTIVE,               \
	    THPD_ERR_TOO_MANY_CALLS

/* org.varlink.service, which every Varlink service implements. */
#define VARLINK_METHOD_GET_INFO VARLINK_SERVICE_INTERFACE ".GetInfo"
#define VARLINK_METHOD_GET_INTERFACE_DESCRIPTION                                                   \
	VARLINK_SERVICE_INTERFACE ".GetInterfaceDescription"
#define VARLINK_ERR_INTERFACE_NOT_FOUND	   VARLINK_SERVICE_INTERFACE ".InterfaceNotFound"
#define VARLINK_ERR_METHOD_NOT_FOUND	   VARLINK_SERVICE_INTERFACE ".MethodNotFound"
#define VARLINK_ERR_METHOD_NOT_IMPLEMENTED VARLINK_SERVICE_INTERFACE ".MethodNotImplemented"
#define VARLINK_ERR_INVALID_PARAM	   VARLINK_SERVICE_INTERFACE ".InvalidParameter"
#define VARLINK_ERR_PERMISSION		   VARLINK_SERVICE_INTERFACE ".PermissionDenied"
#define VARLINK_ERR_EXPECTED_MORE	   VARLINK_SERVICE_INTERFACE ".ExpectedMore"

/* TargetSummary.state */
#define THPD_TARGET_ACTIVE	 "active"
#define THPD_TARGET_PAUSED	 "paused"
#define THPD_TARGET_DENIED	 "denied"
#define THPD_TARGET_THP_DISABLED "thp-disabled"

/* Chunk.state and the keys of TargetSummary.chunks */
#define THPD_CHUNK_CANDIDATE   "candidate"
#define THPD_CHUNK_BACKOFF     "backoff"
#define THPD_CHUNK_PARKED      "parked"
#define THPD_CHUNK_QUARANTINED "quarantined"
#define THPD_CHUNK_HUGE	       "huge"
