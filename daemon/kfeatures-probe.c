/* SPDX-License-Identifier: MIT */
/*
 * Kernel features: asking the kernel, once at start. Read-only everywhere:
 * nothing under /sys/kernel/mm/damon is ever written (the host may run a
 * DAMON context of its own).
 */
#include "build-config.h"
#if HAVE_VALGRIND_MEMCHECK_H
#include <valgrind/memcheck.h>
#endif
#if HAVE_ZLIB
#include <zlib.h>
#endif
#include "kfeatures.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "discover.h"
#include "thpmode.h"
#include "util.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

/*
 * PAGEMAP_SCAN's argument (include/uapi/linux/fs.h, struct pm_scan_arg; see
 * pagemap.c). An empty walk needs only .size: the other fields stay zero.
 */
struct probe_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
_Static_assert(sizeof(struct probe_pm_scan_arg) == 96, "pm_scan_arg layout");
#define PROBE_PAGEMAP_SCAN _IOWR('f', 16, struct probe_pm_scan_arg)

static void set(struct feature *x, int err, enum feature_state (*classify)(int))
{
	x->err = err;
	x->state = classify(err);
}

static bool under_valgrind(void)
{
#if HAVE_VALGRIND_MEMCHECK_H
	return RUNNING_ON_VALGRIND;
#else
	return false;
#endif
}

/*
 * process_madvise(MADV_COLLAPSE) of an empty range in a child that waits
 * on a pipe: the kernel checks everything but does nothing. Returns the
 * errno (0 on success).
 */
static int collapse_other_errno(void)
{
	int pipefd[2], err = 0;
	pid_t child;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return errno;
	child = fork();
	if (child < 0) {
		err = errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return err;
	}
	if (child == 0) {
		char c;
		/* Until the parent closes its end (or dies). */
		close(pipefd[1]);
		while (read(pipefd[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(pipefd[0]);
	int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
	if (pidfd < 0) {
		err = errno;
	} else {
		/* A 2 MiB aligned address, length 0. */
		struct iovec iov = {.iov_base = (void *)(uintptr_t)PMD_SIZE_2M, .iov_len = 0};
		if (syscall(SYS_process_madvise, pidfd, &iov, 1, MADV_COLLAPSE, 0) < 0)
			err = errno;
		close(pidfd);
	}
	close(pipefd[1]);
	kill(child, SIGKILL);
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;
	return err;
}

static void probe_collapse(struct feature *x)
{
	/* valgrind (3.19) implements neither pidfd_open nor process_madvise
	 * (and reports calling them): its ENOSYS says nothing about the kernel. */
	const char *seam = getenv("THPD_TEST_MADV_COLLAPSE_ERRNO");
	char *end;
	long e;

	if (under_valgrind()) {
		x->state = FEATURE_UNKNOWN;
		x->source = "not probed under valgrind";
		return;
	}
	/* Test seam: a kernel without MADV_COLLAPSE cannot be had on the test
	 * machines, so pretend the probe got this errno. */
	if (seam && *seam && (e = strtol(seam, &end, 10)) > 0 && e < 4096 && !*end) {
		set(x, (int)e, features_collapse_state);
		return;
	}
	set(x, collapse_other_errno(), features_collapse_state);
}

static void probe_pagemap_scan(struct feature *x)
{
	struct probe_pm_scan_arg arg = {.size = sizeof(arg)};
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		x->state = FEATURE_UNKNOWN;
		x->err = errno;
		return;
	}
	set(x, ioctl(fd, PROBE_PAGEMAP_SCAN, &arg) < 0 ? errno : 0, features_pagemap_scan_state);
	close(fd);
}

static void probe_proc_connector(struct feature *x)
{
	int fd = proc_connector_open();

	set(x, fd < 0 ? -fd : 0, features_proc_connector_state);
	proc_connector_close(fd);
}

static int read_errno(const char *path)
{
	char *text = NULL;
	size_t n;
	int r = read_file_at(AT_FDCWD, path, &text, &n);

	free(text);
	return -r;
}

/* avail_operations of any existing DAMON context: 1 lists vaddr, 0 not, -1 none readable. */
static int damon_avail_ops_vaddr(void)
{
	glob_t g;
	int found = -1;

	if (glob(DAMON_ADMIN_PATH "/kdamonds/*/contexts/*/avail_operations", GLOB_NOSORT, NULL,
		 &g) != 0)
		return -1;
	for (size_t i = 0; i < g.gl_pathc && found < 0; i++) {
		char *text = NULL;
		size_t n;
		if (read_file_at(AT_FDCWD, g.gl_pathv[i], &text, &n) == 0)
			found = features_damon_ops_have_vaddr(text);
		free(text);
	}
	globfree(&g);
	return found;
}

#if HAVE_ZLIB
static int read_gz(const char *path, char **ret, size_t *ret_len)
{
	gzFile gz = gzopen(path, "rb");
	size_t len = 0, cap = 0;
	char *buf = NULL;
	int n;

	if (!gz)
		return -(errno ? errno : EIO);
	do {
		if (grow_array((void **)&buf, &cap, len + 65536 + 1, 1) < 0) {
			gzclose(gz);
			free(buf);
			return -ENOMEM;
		}
		n = gzread(gz, buf + len, 65536);
		if (n > 0)
			len += (size_t)n;
	} while (n > 0);
	gzclose(gz);
	if (n < 0) {
		free(buf);
		return -EIO;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}
#endif

/* CONFIG_DAMON_VADDR from a kernel config: 1 y, 0 not set, -1 no config readable. */
static int kconfig_damon_vaddr(const char *release, const char **source)
{
	char path[128], *text = NULL;
	size_t n;
	int r;

	snprintf(path, sizeof(path), "/boot/config-%s", release);
	r = read_file_at(AT_FDCWD, path, &text, &n);
	*source = "/boot/config";
#if HAVE_ZLIB
	if (r < 0) {
		r = read_gz("/proc/config.gz", &text, &n);
		*source = "/proc/config.gz";
	}
#endif
	if (r < 0)
		return -1;
	r = features_kconfig_value(text, n, "CONFIG_DAMON_VADDR") == 'y';
	free(text);
	return r;
}

static void probe_damon(struct kernel_features *f)
{
	struct stat st;
	const char *source;
	int v;

	set(&f->damon_sysfs, stat(DAMON_ADMIN_PATH, &st) < 0 ? errno : 0, features_file_state);
	if (f->damon_sysfs.state == FEATURE_NO) {
		f->damon_vaddr.state = FEATURE_NO;
		f->damon_vaddr.source = "no DAMON sysfs";
		return;
	}
	if (f->damon_sysfs.state != FEATURE_YES) {
		f->damon_vaddr.state = FEATURE_UNKNOWN;
		f->damon_vaddr.source = "DAMON sysfs not readable";
		return;
	}
	v = damon_avail_ops_vaddr();
	source = "avail_operations";
	if (v < 0)
		v = kconfig_damon_vaddr(f->release, &source);
	if (v < 0) {
		f->damon_vaddr.state = FEATURE_UNKNOWN;
		f->damon_vaddr.source = "no DAMON context or kernel config readable";
		return;
	}
	f->damon_vaddr.state = v ? FEATURE_YES : FEATURE_NO;
	f->damon_vaddr.source = source;
}

void features_probe(struct kernel_features *f)
{
	struct utsname u;

	*f = (struct kernel_features){0};
	if (uname(&u) == 0)
		snprintf(f->release, sizeof(f->release), "%s", u.release);
	probe_collapse(&f->madv_collapse);
	probe_pagemap_scan(&f->pagemap_scan);
	probe_proc_connector(&f->proc_connector);
	set(&f->psi, read_errno("/proc/pressure/memory"), features_file_state);
	probe_damon(f);
	thp_mode_read(f->thp_enabled, sizeof(f->thp_enabled));
	thp_mode_read_path(THP_DEFRAG_PATH, f->thp_defrag, sizeof(f->thp_defrag));
}
