/* SPDX-License-Identifier: MIT */
/*
 * The errno policy table: what each answer of MADV_COLLAPSE does, and that
 * README.md's errno table is this table (argv[1]: the README's path).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collapse.h"
#include "errno-policy.h"

static const char *readme_path;

static void test_classes(void **state)
{
	(void)state;
	assert_int_equal(collapse_result_class(0), COLLAPSE_OK);
	assert_int_equal(collapse_result_class(EAGAIN), COLLAPSE_RETRY);
	assert_int_equal(collapse_result_class(ENOMEM), COLLAPSE_NOMEM);
	assert_int_equal(collapse_result_class(COLLAPSE_ERR_UNMAPPED), COLLAPSE_UNMAPPED);
	assert_int_equal(collapse_result_class(EBUSY), COLLAPSE_CGROUP_FULL);
	assert_int_equal(collapse_result_class(EINVAL), COLLAPSE_INELIGIBLE);
	assert_int_equal(collapse_result_class(ESRCH), COLLAPSE_GONE);
	assert_int_equal(collapse_result_class(EPERM), COLLAPSE_DENIED);
	assert_int_equal(collapse_result_class(EACCES), COLLAPSE_DENIED);
	assert_int_equal(collapse_result_class(EFAULT), COLLAPSE_OTHER);
	for (int c = 0; c < COLLAPSE_CLASS_MAX; c++)
		assert_int_equal(errno_policy((enum collapse_class)c)->cls, c);
	assert_int_equal(errno_policy(COLLAPSE_CLASS_MAX)->cls, COLLAPSE_OTHER);
}

/* The decisions, spelled out once more: a change to the table is a change
 * of behaviour and must show up here. */
static void test_decisions(void **state)
{
	(void)state;
	/* The rest of a job would fail the same way after these. */
	assert_true(errno_policy_ends_job(ENOMEM));
	assert_true(errno_policy_ends_job(EBUSY));
	assert_true(errno_policy_ends_job(ESRCH));
	assert_true(errno_policy_ends_job(EPERM));
	assert_true(errno_policy_ends_job(EACCES));
	assert_false(errno_policy_ends_job(0));
	assert_false(errno_policy_ends_job(EAGAIN));
	assert_false(errno_policy_ends_job(EINVAL));
	assert_false(errno_policy_ends_job(EFAULT));
	assert_false(errno_policy_ends_job(COLLAPSE_ERR_UNMAPPED));

	assert_int_equal(errno_policy(COLLAPSE_NOMEM)->pause, PAUSE_DAEMON);
	assert_int_equal(errno_policy(COLLAPSE_CGROUP_FULL)->pause, PAUSE_MEMCG);
	for (int c = 0; c < COLLAPSE_CLASS_MAX; c++) {
		const struct errno_policy *p = errno_policy((enum collapse_class)c);
		if (c != COLLAPSE_NOMEM && c != COLLAPSE_CGROUP_FULL)
			assert_int_equal(p->pause, PAUSE_NONE);
		assert_int_equal(p->rescan, c == COLLAPSE_UNMAPPED);
		assert_int_equal(p->drop_target, c == COLLAPSE_GONE);
		assert_int_equal(p->report_denied, c == COLLAPSE_DENIED);
	}
	assert_int_equal(errno_policy(COLLAPSE_OK)->chunk, EFFECT_HUGE);
	assert_int_equal(errno_policy(COLLAPSE_RETRY)->chunk, EFFECT_BACKOFF);
	assert_int_equal(errno_policy(COLLAPSE_UNMAPPED)->chunk, EFFECT_RESET);
	assert_int_equal(errno_policy(COLLAPSE_INELIGIBLE)->chunk, EFFECT_QUARANTINE);
	assert_int_equal(errno_policy(COLLAPSE_OTHER)->chunk, EFFECT_QUARANTINE);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* README.md's errno table holds exactly one row per README errno policy,
 * "| errnos | meaning | action |", in the table's order, and no other row. */
static void test_readme_table(void **state)
{
	static const char header[] = "| errno | meaning | what thpd does |\n|---|---|---|\n";
	char *readme = slurp(readme_path), *p, *end;
	char row[1024];

	(void)state;
	p = strstr(readme, header);
	assert_non_null(p);
	p += strlen(header);
	for (int c = 0; c < COLLAPSE_CLASS_MAX; c++) {
		const struct errno_policy *pol = errno_policy((enum collapse_class)c);
		if (!pol->readme_errnos)
			continue;
		snprintf(row, sizeof(row), "| %s | %s | %s |\n", pol->readme_errnos, pol->meaning,
			 pol->action);
		end = strchr(p, '\n');
		assert_non_null(end);
		if (strncmp(p, row, strlen(row)) != 0) {
			print_error("README.md row:\n%.*s\ntable (daemon/errno-policy.c):\n%s",
				    (int)(end - p + 1), p, row);
			fail();
		}
		p = end + 1;
	}
	/* The table ends there. */
	assert_true(*p != '|');
	free(readme);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_classes),
	    cmocka_unit_test(test_decisions),
	    cmocka_unit_test(test_readme_table),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s README.md\n", argv[0]);
		return 2;
	}
	readme_path = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
