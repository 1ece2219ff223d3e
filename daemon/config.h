/* SPDX-License-Identifier: MIT */
/*
 * Policy configuration: YAML -> validated struct. Parsing (config_parse,
 * over a buffer) and validating (config_validate) are pure; the module is
 * not: config_load() reads the main file and its drop-ins, and
 * config_resolve_users() asks NSS (getpwnam). Every problem is reported as
 * a diagnostic naming file, line and column (1-based).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum hotness_source {
	HOTNESS_NONE,  /* all eligible resident memory, densest first */
	HOTNESS_REFS,  /* clear_refs + smaps Referenced over one window, per area */
	HOTNESS_DAMON, /* DAMON vaddr regions, per region */
	HOTNESS_AUTO,  /* the best of those the kernel and privileges allow */
};

/* "none", "refs", "damon", "auto" */
const char *hotness_source_name(enum hotness_source s);

/* One glob/exact pattern of a match list, with where it was written. */
struct match_item {
	char *pattern;
	unsigned line, col;
};

struct match_list {
	struct match_item *v;
	size_t n;
};

struct policy_match {
	struct match_list comm;	  /* fnmatch() globs against /proc/PID/comm */
	struct match_list exe;	  /* globs against the /proc/PID/exe target */
	struct match_list user;	  /* user names or numeric uids */
	struct match_list unit;	  /* globs against sd_pid_get_unit() */
	struct match_list cgroup; /* globs against the cgroup path */
	uid_t *uids;		  /* user[] resolved by config_resolve_users() */
	size_t n_uids;
	uint64_t min_anon; /* bytes of anonymous RSS; 0 = no condition */
};

struct policy {
	char *name;
	char *file; /* where it was defined */
	unsigned line;
	struct policy_match match;
	bool ignore;
	enum hotness_source hotness;
	uint32_t min_hot_bp;	 /* refs: Referenced/Rss threshold */
	uint64_t max_rate;	 /* bytes/s for this policy's processes; 0 = no own limit */
	uint32_t max_stall_bp;	 /* share of time a process may wait on collapses; 0 = any */
	uint64_t max_huge;	 /* THP bytes per process; 0 = unlimited */
	uint32_t min_present_bp; /* bloat guard: present pages of 512 */
	bool shmem;		 /* also collapse shared memory areas */
};

struct retry_config {
	uint64_t eagain_initial_usec;
	uint64_t eagain_max_usec;
	uint32_t eagain_attempts;
	uint64_t enomem_pause_usec;
	uint64_t ebusy_pause_usec;
};

enum worker_sched { WORKER_SCHED_OTHER, WORKER_SCHED_BATCH, WORKER_SCHED_IDLE };
/* "other", "batch", "idle" */
const char *worker_sched_name(enum worker_sched s);

struct daemon_config {
	uint64_t scan_interval_usec;
	uint64_t max_collapse_rate; /* bytes/s, all targets together; 0 = unlimited */
	char *socket_path;	    /* NULL = built-in default or --socket */
	uint32_t smaps_refresh;	    /* full smaps re-read every N scans */
	/* Memory pressure (PSI avg10, basis points) above which collapsing
	 * pauses, system-wide and in a target's cgroup; 0 = not watched. */
	uint32_t pressure_some_bp;
	uint32_t pressure_full_bp;
	/* CPU scheduling of the collapse worker thread (the event loop keeps
	 * the daemon's own): Linux policy and nice 0..19. */
	enum worker_sched collapse_sched;
	uint32_t collapse_nice;
	/* Prometheus metrics written for node_exporter's textfile collector:
	 * an absolute path ending in .prom (NULL = none), every interval. */
	char *metrics_textfile;
	uint64_t metrics_interval_usec;
};

struct thpd_config {
	struct daemon_config daemon;
	struct retry_config retry;
	struct policy *policies; /* first match wins */
	size_t n_policies;
};

/* Defaults (documented in man/thpd.yaml.5 and config/thpd.yaml). */
#define DEFAULT_SCAN_INTERVAL_USEC  (2 * 1000000ULL)
#define DEFAULT_MAX_COLLAPSE_RATE   (1ULL << 30) /* 1 GiB/s */
#define DEFAULT_SMAPS_REFRESH	    5
#define DEFAULT_PRESSURE_SOME_BP    1000 /* 10%: tasks wait on memory 10% of the time */
#define DEFAULT_PRESSURE_FULL_BP    200	 /* 2%: all tasks wait on memory 2% of the time */
#define DEFAULT_COLLAPSE_SCHED	    WORKER_SCHED_BATCH
#define DEFAULT_COLLAPSE_NICE	    10
#define MAX_NICE		    19
#define DEFAULT_EAGAIN_INITIAL_USEC (100 * 1000ULL)
#define DEFAULT_EAGAIN_MAX_USEC	    (10 * 1000000ULL)
#define DEFAULT_EAGAIN_ATTEMPTS	    8
#define DEFAULT_ENOMEM_PAUSE_USEC   (30 * 1000000ULL)
#define DEFAULT_EBUSY_PAUSE_USEC    (60 * 1000000ULL)
#define DEFAULT_MIN_HOT_BP	    5000 /* 50% */
#define DEFAULT_MIN_PRESENT_BP	    9000 /* 90%: at most ~11% bloat per chunk */

/* daemon.metrics_interval */
#define DEFAULT_METRICS_INTERVAL_USEC (15 * 1000000ULL)
#define MIN_METRICS_INTERVAL_USEC     (1000000ULL)

struct config_diag {
	char *file;
	unsigned line, col; /* 0 when not tied to a position */
	char *msg;
};

struct config_diags {
	struct config_diag *v;
	size_t n, cap;
};

void config_init(struct thpd_config *cfg); /* zero + defaults */
void config_free(struct thpd_config *cfg); /* frees members, not cfg */

/*
 * Parse one YAML document from buf (filename only labels diagnostics) and
 * merge it into cfg: daemon/retry keys override, policies append in order; a
 * policy whose name already exists replaces that one in place. Pure: no I/O.
 * Returns 0 if no diagnostic was added, -EINVAL otherwise (cfg may then hold
 * a partial merge: callers parse into a scratch config).
 */
int config_parse(const char *filename, const char *buf, size_t len, struct thpd_config *cfg,
		 struct config_diags *diags);

/* Checks that need the whole merged config (at least one policy, ...). */
int config_validate(const struct thpd_config *cfg, struct config_diags *diags);

/* user: names -> uids via getpwnam (numeric strings taken as uids). */
int config_resolve_users(struct thpd_config *cfg, struct config_diags *diags);

/*
 * Load main_path, then every *.yaml in "<dir of main_path>/thpd.d/" in name
 * order, validate and resolve users. On success *ret is a new config owned by
 * the caller (free with config_free + free). Returns 0 or -EINVAL (diags
 * filled) or another negative errno (diags filled too).
 */
int config_load(const char *main_path, struct thpd_config **ret, struct config_diags *diags);

/* Append a diagnostic (printf-style). */
void config_diag_add(struct config_diags *d, const char *file, unsigned line, unsigned col,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void config_diags_free(struct config_diags *d);
