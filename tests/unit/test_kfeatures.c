/* SPDX-License-Identifier: MIT */
/*
 * Kernel features, the pure parts: errnos of each probe as states, DAMON
 * avail_operations and kernel config text, the exit decision on a kernel
 * without MADV_COLLAPSE, and the start-up line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kfeatures.h"

static void test_state_names(void **state)
{
	assert_string_equal(feature_state_name(FEATURE_UNKNOWN), "unknown");
	assert_string_equal(feature_state_name(FEATURE_YES), "yes");
	assert_string_equal(feature_state_name(FEATURE_NO), "no");
	assert_string_equal(feature_state_name(FEATURE_DENIED), "denied");
	assert_string_equal(feature_state_name((enum feature_state)42), "unknown");
	assert_string_equal(feature_state_name((enum feature_state) - 1), "unknown");
}

static void test_collapse_state(void **state)
{
	assert_int_equal(features_collapse_state(0), FEATURE_YES);
	/* The capability checks come after the advice check: the kernel has it. */
	assert_int_equal(features_collapse_state(EPERM), FEATURE_DENIED);
	assert_int_equal(features_collapse_state(EACCES), FEATURE_DENIED);
	/* Before 6.1: MADV_COLLAPSE is an unknown advice. */
	assert_int_equal(features_collapse_state(EINVAL), FEATURE_NO);
	/* Before 5.10 (process_madvise) or 5.3 (pidfd_open). */
	assert_int_equal(features_collapse_state(ENOSYS), FEATURE_NO);
	/* The probe's own trouble says nothing about the kernel. */
	assert_int_equal(features_collapse_state(ESRCH), FEATURE_UNKNOWN);
	assert_int_equal(features_collapse_state(ENOMEM), FEATURE_UNKNOWN);
	assert_int_equal(features_collapse_state(EAGAIN), FEATURE_UNKNOWN);
}

static void test_other_states(void **state)
{
	assert_int_equal(features_pagemap_scan_state(0), FEATURE_YES);
	assert_int_equal(features_pagemap_scan_state(ENOTTY), FEATURE_NO);
	assert_int_equal(features_pagemap_scan_state(EINVAL), FEATURE_NO);
	assert_int_equal(features_pagemap_scan_state(EACCES), FEATURE_UNKNOWN);

	assert_int_equal(features_proc_connector_state(0), FEATURE_YES);
	assert_int_equal(features_proc_connector_state(EPERM), FEATURE_DENIED);
	assert_int_equal(features_proc_connector_state(EAFNOSUPPORT), FEATURE_DENIED);
	assert_int_equal(features_proc_connector_state(EPROTONOSUPPORT), FEATURE_NO);
	assert_int_equal(features_proc_connector_state(ENOBUFS), FEATURE_UNKNOWN);

	assert_int_equal(features_file_state(0), FEATURE_YES);
	assert_int_equal(features_file_state(ENOENT), FEATURE_NO);
	assert_int_equal(features_file_state(EOPNOTSUPP), FEATURE_NO);
	assert_int_equal(features_file_state(EACCES), FEATURE_DENIED);
	assert_int_equal(features_file_state(EIO), FEATURE_UNKNOWN);
}

static void test_damon_ops(void **state)
{
	/* 6.12 with vaddr: one name per line. */
	assert_true(features_damon_ops_have_vaddr("vaddr\nfvaddr\npaddr\n"));
	assert_true(features_damon_ops_have_vaddr("paddr\nvaddr"));
	assert_true(features_damon_ops_have_vaddr("  vaddr  "));
	/* This host: paddr only. fvaddr is not vaddr. */
	assert_false(features_damon_ops_have_vaddr("paddr\n"));
	assert_false(features_damon_ops_have_vaddr("fvaddr\npaddr\n"));
	assert_false(features_damon_ops_have_vaddr("vaddrx\nxvaddr\nvadd\n"));
	assert_false(features_damon_ops_have_vaddr(""));
	assert_false(features_damon_ops_have_vaddr("\n\n"));
}

static void test_kconfig(void **state)
{
	static const char with[] = "#\n# DAMON\n#\nCONFIG_DAMON=y\nCONFIG_DAMON_VADDR=y\n"
				   "CONFIG_DAMON_PADDR=y\n";
	static const char without[] = "CONFIG_DAMON=y\n# CONFIG_DAMON_VADDR is not set\n"
				      "CONFIG_DAMON_PADDR=y\nCONFIG_DAMON_SYSFS=y\n";
	static const char no_damon[] = "CONFIG_PSI=y\n# CONFIG_DAMON is not set\n";
	const char *v = "CONFIG_DAMON_VADDR";

	assert_int_equal(features_kconfig_value(with, strlen(with), v), 'y');
	assert_int_equal(features_kconfig_value(without, strlen(without), v), 'n');
	/* Not mentioned at all: DAMON itself is off. */
	assert_int_equal(features_kconfig_value(no_damon, strlen(no_damon), v), 0);
	assert_int_equal(features_kconfig_value(no_damon, strlen(no_damon), "CONFIG_DAMON"), 'n');
	assert_int_equal(features_kconfig_value(with, strlen(with), "CONFIG_DAMON"), 'y');
	/* A longer name with the same prefix is another option. */
	static const char prefix[] = "CONFIG_DAMON_VADDR_KUNIT_TEST=y\nCONFIG_DAMON_VADDRX=y\n"
				     "# CONFIG_DAMON_VADDR_X is not set\n";
	assert_int_equal(features_kconfig_value(prefix, strlen(prefix), v), 0);
	/* Modules, CRLF, a last line without newline. */
	static const char crlf[] = "CONFIG_X=m\r\nCONFIG_DAMON_VADDR=y";
	assert_int_equal(features_kconfig_value(crlf, strlen(crlf), "CONFIG_X"), 'm');
	assert_int_equal(features_kconfig_value(crlf, strlen(crlf), v), 'y');
	/* Only len bytes are read (no NUL needed): the option is cut off. */
	assert_int_equal(features_kconfig_value(with, strlen("#\n# DAMON\n#\nCONFIG_DAMON=y\n"), v),
			 0);
	assert_int_equal(features_kconfig_value("", 0, v), 0);
	/* Garbage values are not values. */
	static const char odd[] = "CONFIG_DAMON_VADDR=\"y\"\nCONFIG_DAMON_VADDR=\n";
	assert_int_equal(features_kconfig_value(odd, strlen(odd), v), 0);
}

/* The features of Debian 12's 6.1 kernel, thpd running as root. */
static struct kernel_features debian_6_1(void)
{
	struct kernel_features f = {
	    .madv_collapse = {.state = FEATURE_YES},
	    .pagemap_scan = {.state = FEATURE_NO, .err = ENOTTY},
	    .proc_connector = {.state = FEATURE_YES},
	    .psi = {.state = FEATURE_YES},
	    .damon_sysfs = {.state = FEATURE_NO, .err = ENOENT},
	    .damon_vaddr = {.state = FEATURE_NO, .source = "no DAMON sysfs"},
	};

	snprintf(f.release, sizeof(f.release), "6.1.0-57-amd64");
	snprintf(f.thp_enabled, sizeof(f.thp_enabled), "madvise");
	snprintf(f.thp_defrag, sizeof(f.thp_defrag), "madvise");
	return f;
}

static void test_fatal(void **state)
{
	struct kernel_features f = debian_6_1();
	char buf[256];

	assert_null(features_fatal(&f, buf, sizeof(buf)));
	/* Before 6.1: EINVAL for the advice. */
	snprintf(f.release, sizeof(f.release), "6.0.12-amd64");
	f.madv_collapse = (struct feature){.state = features_collapse_state(EINVAL), .err = EINVAL};
	assert_ptr_equal(features_fatal(&f, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "this kernel (6.0.12-amd64) has no MADV_COLLAPSE (Linux 6.1 or "
				 "later is needed); exiting");
	/* Before 5.10: no process_madvise at all. */
	snprintf(f.release, sizeof(f.release), "5.4.0-150-generic");
	f.madv_collapse = (struct feature){.state = features_collapse_state(ENOSYS), .err = ENOSYS};
	assert_non_null(features_fatal(&f, buf, sizeof(buf)));
	assert_string_equal(buf, "this kernel (5.4.0-150-generic) has no process_madvise (ENOSYS; "
				 "Linux 6.1 or later is needed); exiting");
	/* A missing capability is not the kernel's fault: main.c warns, thpd runs. */
	f.madv_collapse = (struct feature){.state = features_collapse_state(EPERM), .err = EPERM};
	assert_null(features_fatal(&f, buf, sizeof(buf)));
	f.madv_collapse = (struct feature){.state = features_collapse_state(EACCES), .err = EACCES};
	assert_null(features_fatal(&f, buf, sizeof(buf)));
	/* A probe that could not tell (valgrind, fork failed) does not stop thpd. */
	f.madv_collapse = (struct feature){.state = FEATURE_UNKNOWN, .err = ENOSYS};
	assert_null(features_fatal(&f, buf, sizeof(buf)));
	f.madv_collapse = (struct feature){.state = features_collapse_state(EAGAIN), .err = EAGAIN};
	assert_null(features_fatal(&f, buf, sizeof(buf)));
	/* Nothing known at all. */
	struct kernel_features zero = {0};
	assert_null(features_fatal(&zero, buf, sizeof(buf)));
}

static void test_line(void **state)
{
	struct kernel_features f = debian_6_1();
	char buf[512];

	assert_ptr_equal(features_format_line(&f, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "kernel 6.1.0-57-amd64: MADV_COLLAPSE on other processes: yes; "
				 "PAGEMAP_SCAN: no (pagemap fallback); proc connector: yes; PSI: "
				 "yes; DAMON vaddr: no (no DAMON sysfs); THP enabled=madvise "
				 "defrag=madvise");

	/* This host, as the thpd service user: no CAP_SYS_NICE, no netlink. */
	snprintf(f.release, sizeof(f.release), "6.18.44");
	f.madv_collapse = (struct feature){.state = FEATURE_DENIED, .err = EPERM};
	f.pagemap_scan = (struct feature){.state = FEATURE_YES};
	f.proc_connector = (struct feature){.state = FEATURE_DENIED, .err = EAFNOSUPPORT};
	f.psi = (struct feature){.state = FEATURE_NO, .err = ENOENT};
	f.damon_sysfs = (struct feature){.state = FEATURE_YES};
	f.damon_vaddr = (struct feature){.state = FEATURE_NO, .source = "/proc/config.gz"};
	snprintf(f.thp_defrag, sizeof(f.thp_defrag), "defer+madvise");
	features_format_line(&f, buf, sizeof(buf));
	assert_string_equal(buf,
			    "kernel 6.18.44: MADV_COLLAPSE on other processes: denied (EPERM); "
			    "PAGEMAP_SCAN: yes; proc connector: denied (EAFNOSUPPORT); PSI: "
			    "no (ENOENT); DAMON vaddr: no (/proc/config.gz); THP "
			    "enabled=madvise defrag=defer+madvise");

	f.damon_vaddr = (struct feature){.state = FEATURE_YES, .source = "avail_operations"};
	f.madv_collapse =
	    (struct feature){.state = FEATURE_UNKNOWN, .source = "not probed under valgrind"};
	features_format_line(&f, buf, sizeof(buf));
	assert_non_null(strstr(buf, "MADV_COLLAPSE on other processes: unknown (not probed under "
				    "valgrind); "));
	assert_non_null(strstr(buf, "DAMON vaddr: yes (avail_operations);"));

	/* Nothing known: every part still there, nothing empty. */
	struct kernel_features zero = {0};
	features_format_line(&zero, buf, sizeof(buf));
	assert_string_equal(buf, "kernel unknown: MADV_COLLAPSE on other processes: unknown; "
				 "PAGEMAP_SCAN: unknown; proc connector: unknown; PSI: unknown; "
				 "DAMON vaddr: unknown; THP enabled=unknown defrag=unknown");

	/* A short buffer is cut, not overrun. */
	char small[16];
	memset(small, 'x', sizeof(small));
	features_format_line(&f, small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_state_names),	 cmocka_unit_test(test_collapse_state),
	    cmocka_unit_test(test_other_states), cmocka_unit_test(test_damon_ops),
	    cmocka_unit_test(test_kconfig),	 cmocka_unit_test(test_fatal),
	    cmocka_unit_test(test_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
