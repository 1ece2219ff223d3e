/* SPDX-License-Identifier: MIT */
/*
 * why_target and why_process: the decisive reason first, for each kind of
 * chunk (huge, candidate, cold, rate, backoff, parked, quarantined, sparse,
 * too small, not resident, a mapping that is no candidate, not mapped), the
 * target-wide blockers, and processes that are no targets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chunks.h"
#include "procfs.h"
#include "util.h"
#include "why.h"

#define M2   (2ULL << 20)
#define BASE 0x7f0000000000ULL
#define NOW  1000000000ULL

static char redis_glob[] = "redis-*";
static struct match_item comm_items[] = {{.pattern = redis_glob}};

static struct policy pol = {
    .name = (char *)"p",
    .file = (char *)"/etc/thpd/thpd.yaml",
    .line = 3,
    .match = {.comm = {.v = comm_items, .n = 1}},
    .min_present_bp = 5000,
    .min_hot_bp = 1000,
};

/* One area [BASE, BASE + 8 MiB + 1 MiB) of four chunks, one sparse chunk at
 * BASE + 6 MiB, a file mapping and an nh mapping after it. */
static struct scan_area area = {
    .start = BASE, .end = BASE + 4 * M2 + M2 / 2, .resident = 4 * M2, .hot_bp = 10000};
static struct scan_sparse sparse1 = {.addr = BASE + 3 * M2, .present = 8};
static struct scan_skipped skipped2[] = {
    {.start = BASE + 16 * M2, .end = BASE + 18 * M2, .why = SKIP_FILE},
    {.start = BASE + 20 * M2, .end = BASE + 24 * M2, .why = SKIP_NOHUGEPAGE},
};

static struct chunk chunks3[3];
static struct target tgt;

static void setup_target(void)
{
	memset(&tgt, 0, sizeof(tgt));
	memset(chunks3, 0, sizeof(chunks3));
	for (int i = 0; i < 3; i++) {
		chunks3[i].addr = BASE + (uint64_t)i * M2;
		chunks3[i].present = 512;
		chunks3[i].hot_bp = 10000;
	}
	chunks3[0].retry.state = CHUNK_HUGE;
	chunks3[1].retry.state = CHUNK_CANDIDATE;
	chunks3[2].retry.state = CHUNK_QUARANTINED;
	chunks3[2].retry.last_err = EINVAL;
	tgt.pid = 42;
	tgt.policy = &pol;
	tgt.state = TARGET_ACTIVE;
	tgt.scans = 3;
	tgt.hot_valid = true;
	tgt.anon_bytes = 10 * M2;
	tgt.huge_bytes = M2;
	tgt.table.areas = &area;
	tgt.table.n_areas = 1;
	tgt.table.chunks = chunks3;
	tgt.table.n_chunks = 3;
	tgt.table.sparse = &sparse1;
	tgt.table.n_sparse = 1;
	tgt.table.skipped = skipped2;
	tgt.table.n_skipped = 2;
}

static struct why_facts facts(uint64_t addr)
{
	return (struct why_facts){.t = &tgt,
				  .now = NOW,
				  .has_addr = true,
				  .addr = addr,
				  .hotness = "none",
				  .rate_available = 64 * M2};
}

static const char *code(const json_t *a, size_t i)
{
	return json_string_value(json_object_get(json_array_get(a, i), "code"));
}

static const char *text(const json_t *a, size_t i)
{
	return json_string_value(json_object_get(json_array_get(a, i), "text"));
}

/* The first reason's code for the chunk at addr under facts f. */
static void expect_first(const struct why_facts *f, const char *want, const char *in_text)
{
	json_t *a = why_target(f);

	assert_non_null(a);
	assert_true(json_array_size(a) >= 1);
	assert_string_equal(code(a, 0), want);
	if (in_text && !strstr(text(a, 0), in_text))
		fail_msg("'%s' not in '%s'", in_text, text(a, 0));
	json_decref(a);
}

static void test_chunk_states(void **state)
{
	(void)state;
	setup_target();
	struct why_facts f = facts(BASE + 100);
	expect_first(&f, "huge", "2 MiB page");
	f = facts(BASE + M2 + 5);
	expect_first(&f, "candidate", "512 of 512 pages");
	f = facts(BASE + 2 * M2);
	expect_first(&f, "quarantined", "after EINVAL (not collapsible");
	chunks3[1].retry.state = CHUNK_BACKOFF;
	chunks3[1].retry.last_err = EAGAIN;
	chunks3[1].retry.attempts = 2;
	chunks3[1].retry.next_usec = NOW + 1500000;
	f = facts(BASE + M2);
	expect_first(&f, "backoff", "after EAGAIN (");
	expect_first(&f, "backoff", "attempt 2, next retry in 1.5 s");
	chunks3[1].retry.state = CHUNK_PARKED;
	expect_first(&f, "parked", "2 attempts ending in EAGAIN");
}

static void test_candidate_blockers(void **state)
{
	(void)state;
	setup_target();
	struct why_facts f = facts(BASE + M2);
	f.rate_available = 4096;
	expect_first(&f, "rate", "rate budget");
	f = facts(BASE + M2);
	f.hot_measured = true;
	chunks3[1].hot_bp = 300;
	expect_first(&f, "cold", "3.0% is below the policy's min_hot 10.0%");
	tgt.hot_valid = false;
	expect_first(&f, "hotness-pending", NULL);
	chunks3[1].in_flight = true;
	expect_first(&f, "collapsing", NULL);
}

static void test_target_blockers_come_first(void **state)
{
	(void)state;
	setup_target();
	struct why_facts f = facts(BASE + M2);
	tgt.state = TARGET_THP_DISABLED;
	expect_first(&f, "thp-disabled", "PR_SET_THP_DISABLE");
	tgt.state = TARGET_PAUSED;
	tgt.paused_by_privileged = true;
	expect_first(&f, "paused", "an operator");
	tgt.state = TARGET_ACTIVE;
	pol.max_huge = M2;
	expect_first(&f, "max-huge", "max_huge 2.0 MiB is reached");
	pol.max_huge = 0;
	f.daemon_pause = "pressure";
	expect_first(&f, "daemon-paused", "pressure");
	/* A blocked candidate says nothing more of itself. */
	json_t *a = why_target(&f);
	assert_int_equal(json_array_size(a), 1);
	json_decref(a);
}

static void test_addresses_without_chunk(void **state)
{
	(void)state;
	setup_target();
	struct why_facts f = facts(BASE + 3 * M2 + 7);
	expect_first(&f, "sparse",
		     "8 of 512 pages present; the policy's min_present 50.0% needs 256");
	f = facts(BASE + 4 * M2 + 4096); /* the last half chunk of the area */
	expect_first(&f, "too-small", "does not fit");
	f = facts(BASE + 17 * M2);
	expect_first(&f, "file", "file-backed");
	f = facts(BASE + 21 * M2);
	expect_first(&f, "nohugepage", "MADV_NOHUGEPAGE");
	f = facts(BASE + 40 * M2);
	expect_first(&f, "not-mapped", NULL);
	/* A chunk of the area the scan did not list: nothing present. */
	tgt.table.n_chunks = 2;
	f = facts(BASE + 2 * M2);
	expect_first(&f, "not-resident", NULL);
}

static void test_whole_target(void **state)
{
	(void)state;
	setup_target();
	struct why_facts f = facts(0);
	f.has_addr = false;
	json_t *a = why_target(&f);
	const char *want[] = {"coverage", "quarantined", "sparse", "nohugepage", "file"};

	assert_int_equal(json_array_size(a), ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		assert_string_equal(code(a, i), want[i]);
	assert_non_null(strstr(text(a, 0), "1 chunks huge, 1 candidates"));
	json_decref(a);
}

static void test_processes(void **state)
{
	(void)state;
	struct thpd_config cfg = {.policies = &pol, .n_policies = 1};
	struct proc_look l = {.state = 'S', .comm = "sleep", .thp_enabled = 1, .uid = 1000};
	json_t *a = why_process(7, 0, &l, &cfg);

	assert_string_equal(code(a, 0), "no-policy");
	assert_string_equal(code(a, 1), "policy-mismatch");
	assert_string_equal(text(a, 1), "policy 'p': comm 'sleep' matches none of redis-*");
	json_decref(a);

	snprintf(l.comm, sizeof(l.comm), "redis-server");
	a = why_process(7, 0, &l, &cfg);
	assert_string_equal(code(a, 0), "not-yet");
	json_decref(a);

	l.thp_enabled = 0;
	a = why_process(7, 0, &l, &cfg);
	assert_string_equal(code(a, 0), "thp-disabled");
	json_decref(a);

	pol.ignore = true;
	l.thp_enabled = 1;
	a = why_process(7, 0, &l, &cfg);
	assert_string_equal(code(a, 0), "ignored");
	assert_non_null(strstr(text(a, 0), "/etc/thpd/thpd.yaml:3"));
	json_decref(a);
	pol.ignore = false;

	a = why_process(7, -ESRCH, &l, &cfg);
	assert_string_equal(code(a, 0), "no-process");
	json_decref(a);
	l.kthread = true;
	a = why_process(2, 0, &l, &cfg);
	assert_string_equal(code(a, 0), "kernel-thread");
	json_decref(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_chunk_states),
	    cmocka_unit_test(test_candidate_blockers),
	    cmocka_unit_test(test_target_blockers_come_first),
	    cmocka_unit_test(test_addresses_without_chunk),
	    cmocka_unit_test(test_whole_target),
	    cmocka_unit_test(test_processes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
