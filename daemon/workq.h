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
/*
 * Stop: ask the running job to end early, cancel queued ones, join the
 * thread, then call done() for everything still owed (on this thread).
 */
void workq_free(struct workq *q);
