/* SPDX-License-Identifier: MIT */
/*
 * Kernel features found once at start: process_madvise(MADV_COLLAPSE) on
 * another process, PAGEMAP_SCAN, the proc connector, PSI, DAMON (sysfs and
 * virtual address monitoring) and the THP sysfs modes. main.c owns the
 * result; the methods layer shows it read-only (GetStatus).
 *
 * kfeatures.c holds the pure parts (classifying errnos, parsing sysfs and
 * kernel config text, the log line, the exit decision); kfeatures-probe.c
 * asks the kernel.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Zero is "unknown": a zeroed struct kernel_features claims nothing. */
enum feature_state {
	FEATURE_UNKNOWN, /* the probe could not tell */
	FEATURE_YES,
	FEATURE_NO,	/* the kernel lacks it */
	FEATURE_DENIED, /* the kernel has it; thpd may not use it (capability, sandbox) */
};

/* "unknown", "yes", "no", "denied" */
const char *feature_state_name(enum feature_state s);

struct feature {
	enum feature_state state;
	int err;	    /* positive errno behind the state, 0 if none */
	const char *source; /* static: where the answer comes from (DAMON vaddr), or NULL */
};

struct kernel_features {
	char release[65];	       /* uname -r */
	struct feature madv_collapse;  /* process_madvise(MADV_COLLAPSE) on another process */
	struct feature pagemap_scan;   /* PAGEMAP_SCAN ioctl on /proc/PID/pagemap (6.7+) */
	struct feature proc_connector; /* NETLINK_CONNECTOR bind + subscribe to proc events */
	struct feature psi;	       /* /proc/pressure/memory readable */
	struct feature damon_sysfs;    /* /sys/kernel/mm/damon/admin exists */
	struct feature damon_vaddr;    /* DAMON virtual address monitoring ("vaddr" ops) */
	char thp_enabled[32];	       /* sysfs bracketed mode, "unknown" if unreadable */
	char thp_defrag[32];
};

#define DAMON_ADMIN_PATH "/sys/kernel/mm/damon/admin"
#define THP_DEFRAG_PATH	 "/sys/kernel/mm/transparent_hugepage/defrag"

/* ---- pure ---- */

/*
 * The errno of process_madvise(pidfd of a child, {addr, 0}, 1, MADV_COLLAPSE,
 * 0) as a state. Every kernel checks the advice (EINVAL when it does not know
 * MADV_COLLAPSE, i.e. before 6.1) before CAP_SYS_NICE (EPERM); before 6.13 it
 * also checks the advice before ptrace access (EACCES), and 6.13+ all know
 * MADV_COLLAPSE. So: 0 yes, EPERM/EACCES denied (the kernel has it), EINVAL
 * or ENOSYS no, anything else unknown.
 */
enum feature_state features_collapse_state(int err);
/* PAGEMAP_SCAN ioctl errno: 0 yes, ENOTTY/EINVAL no, else unknown. */
enum feature_state features_pagemap_scan_state(int err);
/* proc_connector_open() errno: 0 yes, EPERM/EACCES/EAFNOSUPPORT denied,
 * EPROTONOSUPPORT no, else unknown. */
enum feature_state features_proc_connector_state(int err);
/* Opening/reading a file that exists when the feature does: 0 yes,
 * ENOENT/EOPNOTSUPP no, EACCES/EPERM denied, else unknown. */
enum feature_state features_file_state(int err);

/* DAMON avail_operations text: does it list "vaddr" (a whole word)? */
bool features_damon_ops_have_vaddr(const char *text);
/*
 * A kernel config (text of /boot/config-*, /proc/config.gz): the value of
 * option name ("CONFIG_DAMON_VADDR"): 'y', 'm', 'n' ("# ... is not set"), or
 * 0 when the option is not mentioned.
 */
char features_kconfig_value(const char *text, size_t len, const char *name);

/*
 * NULL when thpd can run on these features, else the one line to log before
 * exiting: the kernel has no MADV_COLLAPSE (EINVAL) or no process_madvise or
 * pidfd_open (ENOSYS).
 */
const char *features_fatal(const struct kernel_features *f, char *buf, size_t len);

/* The one-line summary logged at start ("kernel X: MADV_COLLAPSE on ..."). */
const char *features_format_line(const struct kernel_features *f, char *buf, size_t len);

/* ---- probing (kfeatures-probe.c) ---- */

/* Ask the kernel; never fails (what cannot be found out is "unknown"). */
void features_probe(struct kernel_features *f);
