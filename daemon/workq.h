/* SPDX-License-Identifier: MIT */
/*
 * A worker thread with a FIFO of jobs. run() executes on the worker; done()
 * runs later on the event loop thread, which owns all state. This is how
 * slow /proc reads and collapses stay off the event loop.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct workq;

struct work {
	/* On the worker thread. May poll *stop (workq_stop_flag) to end early. */
	void (*run)(struct work *w, const atomic_bool *stop);
	/* On the loop thread; owns w afterwards. cancelled: run() never ran. */
	void (*done)(struct work *w, bool cancelled, void *userdata);
	struct work *next;
	bool cancelled;
};

int workq_new(struct event_base *base, const char *name, void *userdata, struct workq **ret);
void workq_submit(struct workq *q, struct work *w);

/* The worker thread's CPU scheduling: a policy (SCHED_OTHER, SCHED_BATCH,
 * SCHED_IDLE) and a nice value. */
struct workq_sched {
	int policy;
	int nice;
};
/*
 * Ask the worker to run its next jobs with s. It applies s itself before
 * the next job it takes (a thread can set only its own policy this way);
 * workq_sched_error() then tells what that returned: 0, or a negative errno
 * (-EPERM: lowering nice needs CAP_SYS_NICE). Nothing happens when s is
 * what was asked last.
 */
void workq_set_sched(struct workq *q, const struct workq_sched *s);
int workq_sched_error(const struct workq *q);
/*
 * Stop: ask the running job to end early, cancel queued ones, join the
 * thread, then call done() for everything still owed (on this thread).
 */
void workq_free(struct workq *q);
