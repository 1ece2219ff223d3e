/* SPDX-License-Identifier: MIT */
/*
 * Stall budget: the share of wall time one target may spend behind thpd's
 * collapses (a policy's max_stall). MADV_COLLAPSE holds the target's memory
 * map lock for writing while it copies a chunk, and a thread of the target
 * that touches that chunk, or faults anywhere, waits until it is done. For a
 * service that reads its memory at random, nearly every collapse delays the
 * requests in flight, so the share of its requests that a collapse slows is
 * about the share of time it spends collapsing: kept under 1%, the p99
 * latency does not feel thpd. The budget is spent after the fact, with the
 * call's measured duration (the lock hold is only known once the call
 * returns), so the balance may go below zero; the next collapse waits until
 * it is back at zero. Pure: time is passed in.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct stall_budget {
	uint32_t share_bp;    /* of wall time, basis points; 0 = no budget */
	int64_t balance_usec; /* may go negative after a long call */
	uint64_t last_usec;   /* when balance was last brought up to date */
	uint32_t frac;	      /* earned since, below one microsecond (x 10000) */
};

/* Starts full: the share of one second (0.5%: 5 ms of collapse time). */
void stall_init(struct stall_budget *sb, uint32_t share_bp, uint64_t now);
/* A new share (reload, another policy), keeping the balance. */
void stall_reconfigure(struct stall_budget *sb, uint32_t share_bp, uint64_t now);
/* Microseconds until the next collapse may start (0: now, or no budget). */
uint64_t stall_wait_usec(struct stall_budget *sb, uint64_t now);
/* A collapse call (or job) took used_usec. */
void stall_charge(struct stall_budget *sb, uint64_t now, uint64_t used_usec);
/* Nobody waited on what was charged (the process did not run): the debt,
 * if any, is dropped. */
void stall_forgive(struct stall_budget *sb, uint64_t now);
