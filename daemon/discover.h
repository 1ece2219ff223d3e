/* SPDX-License-Identifier: MIT */
/*
 * Finding target processes: a /proc walk on the scan worker that matches
 * every process against the policy and opens a pidfd for new matches, and
 * the proc connector (exec events) that makes new processes show up fast.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config_ref.h"
#include "workq.h"

/* Cheap "did this process touch memory?" signal from /proc/PID/stat. */
struct mem_fingerprint {
	uint64_t minflt, vsize, rss;
};

static inline bool mem_fingerprint_eq(const struct mem_fingerprint *a,
				      const struct mem_fingerprint *b)
{
	return a->minflt == b->minflt && a->vsize == b->vsize && a->rss == b->rss;
}

struct discovered {
	pid_t pid;
	int pidfd;     /* opened for new matches; -1 for already-known pids */
	bool identity; /* comm..memcg/uid set (new, or re-read for a known pid) */
	struct mem_fingerprint fp;
	uint64_t starttime;
	uid_t uid;
	/* An unprivileged client with this uid may see and steer it: its
	 * uids agree, its gids agree, and it is dumpable (as ptrace(2) asks). */
	bool has_owner;
	uint64_t anon_bytes;
	char *comm, *exe, *unit, *cgroup, *memcg; /* NULL when unknown */
	int policy;				  /* index into cfg->policies, -1 = no match */
};

/*
 * Identities seen by earlier walks, keyed by pid (and start time). A walk
 * then costs two small reads per process (stat, status); exe and cgroups are
 * re-read when the name or uid changed, at an exec event, or every
 * DISCOVER_REFRESH_WALKS walks. Used only on the scan worker thread.
 */
#define DISCOVER_REFRESH_WALKS 10
struct discover_cache;
struct discover_cache *discover_cache_new(void);
void discover_cache_free(struct discover_cache *c);

struct known_pid {
	pid_t pid;
	uint64_t starttime;
	struct mem_fingerprint fp; /* as last reported */
};

struct discover_job {
	struct work work;
	/* input */
	struct config_ref *cfg;	 /* reference owned by the job */
	struct known_pid *known; /* sorted by pid; owned */
	size_t n_known;
	pid_t self;
	pid_t *only; /* if set: look at these pids only (exec events); owned */
	size_t n_only;
	struct discover_cache *cache; /* borrowed from the manager */
	/* output: new matches, and known pids whose identity was re-read or
	 * whose memory fingerprint changed */
	struct discovered *found;
	size_t n_found, cap_found;
	size_t n_processes;
	uint64_t duration_usec;
};

struct discover_job *discover_job_new(struct config_ref *cfg, const struct known_pid *known,
				      size_t n_known, void (*done)(struct work *, bool, void *));
void discover_job_free(struct discover_job *job);
/* Free the strings of one entry and close its pidfd if still set. */
void discovered_clear(struct discovered *d);

/*
 * Is pid, now, a process of uid as ptrace(2) sees it (see has_owner in
 * struct discovered)? Reads /proc/PID/status and stats /proc/PID: a few
 * microseconds, for a control call of a user without privilege (the
 * discovery's answer may be older than a prctl(PR_SET_DUMPABLE) or setuid).
 */
bool proc_owned_by(pid_t pid, uid_t uid);

/* One process as discovery sees it, read now (thpctl why). */
struct proc_look {
	char state;	 /* /proc/PID/stat's: Z and X are exited */
	bool kthread;	 /* no exe: a kernel thread (or exiting) */
	bool has_owner;	 /* see struct discovered */
	int thp_enabled; /* status THP_enabled: 1, 0 (prctl), -1 absent */
	uid_t uid;
	uint64_t anon_bytes;
	char comm[64];
	char *exe, *unit, *cgroup, *memcg; /* NULL when unknown */
};

/* Read pid's identity (stat, status, exe, cgroup: a few small reads, as
 * proc_owned_by). Returns 0 or a negative errno (-ENOENT/-ESRCH: no such
 * process); clear with proc_look_clear() either way. */
int proc_look(pid_t pid, struct proc_look *out);
void proc_look_clear(struct proc_look *l);

/*
 * Proc connector: a netlink socket that reports exec events. Before Linux
 * 6.6 it needs CAP_NET_ADMIN; returns the fd (non-blocking) or a negative
 * errno.
 */
int proc_connector_open(void);
/* Unsubscribe (so the kernel stops counting this listener) and close. */
void proc_connector_close(int fd);
/*
 * Drain pending messages, appending the pids of exec/comm events to
 * *pids (grown as needed, capped at max_pids). Returns the number of events
 * seen (>= 0; more than appended when capped or when the socket overran, in
 * which case a full /proc walk is due) or a negative errno.
 */
int proc_connector_drain(int fd, pid_t **pids, size_t *n_pids, size_t *cap, size_t max_pids,
			 bool *overrun);
