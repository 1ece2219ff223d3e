/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics-format.h"

static json_t *load(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);

	if (!j)
		fail_msg("bad test JSON: %s: %s", err.text, text);
	return j;
}

static char *render(const json_t *status, const json_t *counters, const json_t *targets,
		    const json_t *policy)
{
	struct metrics_sources s = {status, counters, targets, policy};
	size_t len = 0;
	char *text = metrics_render(&s, &len);

	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return text;
}

/* The line of text that starts with prefix (followed by a space), or NULL. */
static const char *line_of(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, prefix, n) == 0 && p[n] == ' ')
			return p;
	return NULL;
}

/* The value of the sample "prefix VALUE". */
static double value_of(const char *text, const char *prefix)
{
	const char *l = line_of(text, prefix);

	if (!l)
		fail_msg("no sample '%s' in:\n%s", prefix, text);
	return strtod(l + strlen(prefix) + 1, NULL);
}

static size_t count_lines(const char *text, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);

	for (const char *p = text; *p; p = strchr(p, '\n') + 1)
		n += strncmp(p, prefix, len) == 0;
	return n;
}

/*
 * The exposition format's structure: every family HELP, then TYPE, then its
 * samples, once; sample names are the family's (histograms: _bucket, _sum,
 * _count); counters end in _total; one space between sample and value.
 */
static void check_structure(const char *text)
{
	char family[128] = "", type[32] = "", seen[8192] = " ";
	const char *p = text;

	while (*p) {
		const char *end = strchr(p, '\n');
		char line[1024], name[128];

		assert_non_null(end);
		assert_true((size_t)(end - p) < sizeof(line));
		memcpy(line, p, (size_t)(end - p));
		line[end - p] = '\0';
		p = end + 1;
		if (sscanf(line, "# HELP %127s", name) == 1) {
			char key[140];
			snprintf(key, sizeof(key), " %s ", name);
			if (strstr(seen, key))
				fail_msg("family %s twice", name);
			assert_true(strlen(seen) + strlen(key) < sizeof(seen));
			strcat(seen, key + 1);
			snprintf(family, sizeof(family), "%s", name);
			type[0] = '\0';
			continue;
		}
		if (sscanf(line, "# TYPE %127s %31s", name, type) == 2) {
			assert_string_equal(name, family);
			if (strcmp(type, "counter") == 0)
				assert_non_null(strstr(family, "_total"));
			continue;
		}
		assert_true(line[0] != '#' || strncmp(line, "# ", 2) == 0);
		if (line[0] == '#')
			continue;
		assert_true(type[0] != '\0'); /* a sample after HELP and TYPE */
		size_t n = strcspn(line, "{ ");
		snprintf(name, sizeof(name), "%.*s", (int)n, line);
		if (strcmp(type, "histogram") == 0) {
			size_t f = strlen(family);
			assert_memory_equal(name, family, f);
			assert_true(strcmp(name + f, "_bucket") == 0 ||
				    strcmp(name + f, "_sum") == 0 ||
				    strcmp(name + f, "_count") == 0);
		} else {
			assert_string_equal(name, family);
		}
		const char *v = strrchr(line, ' ');
		assert_non_null(v);
		char *vend;
		strtod(v + 1, &vend);
		assert_true(*vend == '\0' && vend > v + 1);
	}
}

static const char status_json[] =
    "{\"version\": \"0.1.0\", \"uptime_sec\": 12.5, \"kernel\": \"6.1.0\", \"thp_mode\": "
    "\"madvise\", \"config_generation\": 2, \"policies\": 2, \"targets\": 3, \"collapsed_bytes\": "
    "4194304, \"budget\": {\"rate\": 1073741824, \"available\": 107374182}, \"pauses\": "
    "[{\"reason\": \"ebusy\", \"cgroup\": \"/a\", \"remaining_sec\": 3.0}, {\"reason\": \"ebusy\", "
    "\"cgroup\": \"/b\", \"remaining_sec\": 1.0}], \"kernel_features\": {\"madv_collapse\": "
    "{\"state\": \"yes\", \"errno\": null, \"source\": null}, \"thp_enabled\": \"madvise\"}, "
    "\"chunks_waiting\": [{\"state\": \"backoff\", \"errno\": \"EAGAIN\", \"chunks\": 7}, "
    "{\"state\": \"quarantined\", \"errno\": null, \"chunks\": 1}]}";

static const char counters_json[] =
    "{\"attempts\": 10, \"collapsed_bytes\": 8388608, \"by_result\": {\"ok\": 4, \"eagain\": 5, "
    "\"einval\": 1, \"newer\": 3}, \"collapse_sec\": 0.1, \"scans\": 6, \"scan_sec\": 0.25, "
    "\"discoveries\": 2, \"targets_added\": 3, \"targets_removed\": 0, \"enomem_pauses\": 1, "
    "\"ebusy_pauses\": 2, \"splits\": 0, \"reloads\": 1, \"reload_failures\": 0, \"full_scans\": "
    "2, \"scan_cpu_sec\": 0.125, \"collapse_latency\": {\"buckets\": [{\"le_sec\": 1e-05, "
    "\"count\": 1}, {\"le_sec\": 0.0025, \"count\": 8}, {\"le_sec\": 10.0, \"count\": 9}], "
    "\"count\": 10, \"sum_sec\": 11.5}, \"scan_latency\": {\"buckets\": [], \"count\": 0, "
    "\"sum_sec\": 0.0}}";

static void test_status_and_counters(void **state)
{
	json_t *st = load(status_json), *k = load(counters_json);
	char *t;
	(void)state;

	t = render(st, k, NULL, NULL);
	check_structure(t);
	/* The counters' collapsed bytes, not the status's. */
	assert_true(value_of(t, "thpd_collapsed_bytes_total") == 8388608);
	assert_non_null(line_of(t, "thpd_build_info{version=\"0.1.0\"}"));
	assert_true(value_of(t, "thpd_uptime_seconds") == 12.5);
	assert_true(value_of(t, "thpd_collapse_budget_rate_bytes_per_second") == 1073741824);
	assert_true(value_of(t, "thpd_pauses_active{reason=\"ebusy\"}") == 2);
	assert_true(value_of(t, "thpd_pauses_active{reason=\"operator\"}") == 0);
	assert_true(value_of(t, "thpd_chunks_waiting{state=\"backoff\",errno=\"EAGAIN\"}") == 7);
	assert_true(value_of(t, "thpd_chunks_waiting{state=\"quarantined\",errno=\"\"}") == 1);
	assert_non_null(
	    line_of(t, "thpd_kernel_feature_info{feature=\"madv_collapse\",state=\"yes\"}"));
	assert_non_null(line_of(t, "thpd_thp_mode_info{mode=\"madvise\"}"));
	/* Results: the known ones even at 0, then what a newer daemon has. */
	assert_true(value_of(t, "thpd_collapses_total{result=\"eagain\"}") == 5);
	assert_true(value_of(t, "thpd_collapses_total{result=\"gone\"}") == 0);
	assert_true(value_of(t, "thpd_collapses_total{result=\"newer\"}") == 3);
	assert_true(value_of(t, "thpd_pauses_total{reason=\"ebusy\"}") == 2);
	assert_true(value_of(t, "thpd_scan_cpu_seconds_total") == 0.125);
	assert_non_null(strstr(t, "\nthpd_collapse_seconds_total 0.1\n"));
	/* The histogram: bounds as decimals, cumulative, +Inf = count. */
	assert_true(value_of(t, "thpd_collapse_duration_seconds_bucket{le=\"0.00001\"}") == 1);
	assert_true(value_of(t, "thpd_collapse_duration_seconds_bucket{le=\"0.0025\"}") == 8);
	assert_true(value_of(t, "thpd_collapse_duration_seconds_bucket{le=\"10\"}") == 9);
	assert_true(value_of(t, "thpd_collapse_duration_seconds_bucket{le=\"+Inf\"}") == 10);
	assert_true(value_of(t, "thpd_collapse_duration_seconds_count") == 10);
	assert_true(value_of(t, "thpd_collapse_duration_seconds_sum") == 11.5);
	assert_true(value_of(t, "thpd_scan_duration_seconds_count") == 0);
	assert_null(strstr(t, "thpd_target_"));
	free(t);

	/* Without counters (no privilege): the status's bytes, no counter families. */
	t = render(st, NULL, NULL, NULL);
	check_structure(t);
	assert_true(value_of(t, "thpd_collapsed_bytes_total") == 4194304);
	assert_null(strstr(t, "thpd_collapses_total"));
	assert_null(strstr(t, "thpd_scan_duration_seconds"));
	free(t);
	json_decref(st);
	json_decref(k);
}

/* Label values escape backslash, double quote and newline; nothing else. */
static void test_escaping(void **state)
{
	json_t *targets = json_pack(
	    "[{s:i, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:{s:i, s:i}}]", "pid", 42, "comm",
	    "a\"b\\c\nd \xc3\xa9", "policy", "p{1}=", "state", "active", "hotness", "none",
	    "anon_bytes", (json_int_t)100, "resident_bytes", (json_int_t)200, "huge_bytes",
	    (json_int_t)50, "collapsed_bytes", (json_int_t)50, "chunks", "huge", 1, "candidate", 3);
	char *t;
	(void)state;

	assert_non_null(targets);
	t = render(NULL, NULL, targets, NULL);
	check_structure(t);
	assert_non_null(line_of(t, "thpd_target_resident_bytes{pid=\"42\",comm=\"a\\\"b\\\\c\\nd "
				   "\xc3\xa9\",policy=\"p{1}=\"}"));
	assert_true(value_of(t, "thpd_target_huge_bytes{pid=\"42\",comm=\"a\\\"b\\\\c\\nd "
				"\xc3\xa9\",policy=\"p{1}=\"}") == 50);
	assert_true(value_of(t, "thpd_policy_coverage_ratio{policy=\"p{1}=\"}") == 0.25);
	assert_true(value_of(t, "thpd_chunks{state=\"candidate\"}") == 3);
	assert_true(value_of(t, "thpd_chunks{state=\"parked\"}") == 0);
	assert_true(value_of(t, "thpd_targets_in_state{state=\"active\"}") == 1);
	/* One target: no aggregate series. */
	assert_null(strstr(t, "pid=\"other\""));
	free(t);
	json_decref(targets);
}

/* Per-process series: the METRICS_TOP_TARGETS largest, the rest summed. */
static void test_bounded(void **state)
{
	json_t *targets = json_array();
	json_t *policy = load("{\"policies\": [{\"name\": \"big\"}, {\"name\": \"idle\"}]}");
	size_t n = METRICS_TOP_TARGETS + 5;
	long long rest = 0;
	char *t, key[128];
	(void)state;

	for (size_t i = 0; i < n; i++) {
		/* resident grows with i: the last METRICS_TOP_TARGETS are the top */
		json_int_t res = (json_int_t)(i + 1) << 21;
		json_array_append_new(
		    targets,
		    json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:{}}", "pid",
			      (int)(1000 + i), "comm", "w", "policy", "big", "state", "active",
			      "hotness", "none", "anon_bytes", res, "resident_bytes", res,
			      "huge_bytes", res / 2, "collapsed_bytes", (json_int_t)0, "chunks"));
		if (i < n - METRICS_TOP_TARGETS)
			rest += res;
	}
	t = render(NULL, NULL, targets, policy);
	check_structure(t);
	assert_int_equal(count_lines(t, "thpd_target_resident_bytes{"), METRICS_TOP_TARGETS + 1);
	assert_int_equal(count_lines(t, "thpd_target_info{"), METRICS_TOP_TARGETS);
	assert_true(value_of(t, "thpd_target_resident_bytes{pid=\"other\"}") == (double)rest);
	/* The largest first; the smallest only in the sum. */
	snprintf(key, sizeof(key), "thpd_target_resident_bytes{pid=\"%zu\"", 1000 + n - 1);
	assert_true(strstr(t, key) < strstr(t, "thpd_target_resident_bytes{pid=\"1005\""));
	assert_null(strstr(t, "pid=\"1000\""));
	/* Every policy of the configuration, even without targets. */
	assert_true(value_of(t, "thpd_policy_targets{policy=\"big\"}") == (double)n);
	assert_true(value_of(t, "thpd_policy_targets{policy=\"idle\"}") == 0);
	assert_true(value_of(t, "thpd_policy_coverage_ratio{policy=\"big\"}") == 0.5);
	assert_null(line_of(t, "thpd_policy_coverage_ratio{policy=\"idle\"}"));
	free(t);
	json_decref(targets);
	json_decref(policy);
}

/* No sources: no families; fields missing from a reply are left out. */
static void test_empty(void **state)
{
	json_t *st = load("{\"version\": \"x\"}");
	char *t;
	(void)state;

	t = render(NULL, NULL, NULL, NULL);
	assert_string_equal(t, "");
	free(t);
	t = render(st, NULL, NULL, NULL);
	check_structure(t);
	assert_null(strstr(t, "thpd_uptime_seconds"));
	assert_null(strstr(t, "thpd_collapsed_bytes_total"));
	assert_non_null(line_of(t, "thpd_build_info{version=\"x\"}"));
	free(t);
	json_decref(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_and_counters),
	    cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_bounded),
	    cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
