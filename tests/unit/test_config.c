/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "units.h"

#define REPO_DIR TEST_DATA_DIR "/../.."

/* ---- helpers ---------------------------------------------------------------- */

static void dump_diags(const struct config_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		print_message("  diag: %s:%u:%u: %s\n", d->v[i].file ? d->v[i].file : "(null)",
			      d->v[i].line, d->v[i].col, d->v[i].msg);
}

static int parse_str(const char *yaml, struct thpd_config *cfg, struct config_diags *d)
{
	config_init(cfg);
	return config_parse("t.yaml", yaml, strlen(yaml), cfg, d);
}

/* Does diagnostic i sit at line:col and contain text? */
static bool diag_is(const struct config_diags *d, size_t i, unsigned line, unsigned col,
		    const char *text)
{
	return i < d->n && d->v[i].line == line && d->v[i].col == col &&
	       strstr(d->v[i].msg, text) != NULL;
}

/* yaml must fail with its first diagnostic at line:col containing text. */
static void expect_error(const char *yaml, unsigned line, unsigned col, const char *text)
{
	struct thpd_config cfg;
	struct config_diags d = {0};
	int r = parse_str(yaml, &cfg, &d);

	if (r != -EINVAL || !diag_is(&d, 0, line, col, text)) {
		print_error("input:\n%s\nexpected %u:%u: ...%s... (r=%d), got:\n", yaml, line, col,
			    text, r);
		dump_diags(&d);
		fail();
	}
	assert_non_null(d.v[0].file);
	assert_string_equal(d.v[0].file, "t.yaml");
	config_free(&cfg);
	config_diags_free(&d);
}

/* yaml must parse without diagnostics. */
static void expect_ok(const char *yaml, struct thpd_config *cfg)
{
	struct config_diags d = {0};
	int r = parse_str(yaml, cfg, &d);

	if (r != 0 || d.n) {
		print_error("input:\n%s\nunexpected r=%d:\n", yaml, r);
		dump_diags(&d);
		fail();
	}
	config_diags_free(&d);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static char *path_join(const char *a, const char *b)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", a, b) > 0);
	return p;
}

static int load(const char *path, struct thpd_config **cfg, struct config_diags *d)
{
	*cfg = NULL;
	return config_load(path, cfg, d);
}

static void free_loaded(struct thpd_config *cfg)
{
	if (cfg) {
		config_free(cfg);
		free(cfg);
	}
}

/* ---- good input ----------------------------------------------------------------- */

static const char FULL[] = "daemon:\n"						 /* 1 */
			   "  scan_interval: 3s\n"				 /* 2 */
			   "  max_collapse_rate: 512MiB\n"			 /* 3 */
			   "  socket: /run/thpd/test.sock\n"			 /* 4 */
			   "  smaps_refresh: 7\n"				 /* 5 */
			   "retry:\n"						 /* 6 */
			   "  eagain: {initial: 200ms, max: 20s, attempts: 4}\n" /* 7 */
			   "  enomem: {pause: 45s}\n"				 /* 8 */
			   "  ebusy:  {pause: 2m}\n"				 /* 9 */
			   "policies:\n"					 /* 10 */
			   "  - name: skip\n"					 /* 11 */
			   "    match:\n"					 /* 12 */
			   "      comm: redis-server\n"				 /* 13 */
			   "    ignore: yes\n"					 /* 14 */
			   "  - name: demo\n"					 /* 15 */
			   "    match:\n"					 /* 16 */
			   "      comm: [hotcold, \"thp-*\"]\n"			 /* 17 */
			   "      exe: [\"/usr/bin/*\"]\n"			 /* 18 */
			   "      user: [www-data, \"1000\"]\n"			 /* 19 */
			   "      unit: [\"redis-server.service\"]\n"		 /* 20 */
			   "      cgroup: [\"/system.slice/*\"]\n"		 /* 21 */
			   "      min_anon: 64MiB\n"				 /* 22 */
			   "    ignore: false\n"				 /* 23 */
			   "    hotness: refs\n"				 /* 24 */
			   "    min_hot: 12.5%\n"				 /* 25 */
			   "    max_rate: 256MiB/s\n"				 /* 26 */
			   "    max_huge: 16GiB\n"				 /* 27 */
			   "    min_present: 75%\n"				 /* 28 */
			   "    shmem: true\n"					 /* 29 */
			   "    max_stall: 0.25%\n";				 /* 30 */

static void test_init_defaults(void **state)
{
	struct thpd_config cfg;

	config_init(&cfg);
	assert_int_equal(cfg.daemon.scan_interval_usec, DEFAULT_SCAN_INTERVAL_USEC);
	assert_int_equal(cfg.daemon.max_collapse_rate, DEFAULT_MAX_COLLAPSE_RATE);
	assert_null(cfg.daemon.socket_path);
	assert_int_equal(cfg.daemon.smaps_refresh, DEFAULT_SMAPS_REFRESH);
	assert_int_equal(cfg.retry.eagain_initial_usec, DEFAULT_EAGAIN_INITIAL_USEC);
	assert_int_equal(cfg.retry.eagain_max_usec, DEFAULT_EAGAIN_MAX_USEC);
	assert_int_equal(cfg.retry.eagain_attempts, DEFAULT_EAGAIN_ATTEMPTS);
	assert_int_equal(cfg.retry.enomem_pause_usec, DEFAULT_ENOMEM_PAUSE_USEC);
	assert_int_equal(cfg.retry.ebusy_pause_usec, DEFAULT_EBUSY_PAUSE_USEC);
	assert_null(cfg.policies);
	assert_int_equal(cfg.n_policies, 0);
	config_free(&cfg);
	config_free(&cfg); /* idempotent */
}

static void test_full(void **state)
{
	struct thpd_config cfg;
	const struct policy *p;
	const struct policy_match *m;

	expect_ok(FULL, &cfg);
	assert_int_equal(cfg.daemon.scan_interval_usec, 3 * USEC_PER_SEC);
	assert_int_equal(cfg.daemon.max_collapse_rate, 512ULL << 20);
	assert_string_equal(cfg.daemon.socket_path, "/run/thpd/test.sock");
	assert_int_equal(cfg.daemon.smaps_refresh, 7);
	assert_int_equal(cfg.retry.eagain_initial_usec, 200 * USEC_PER_MSEC);
	assert_int_equal(cfg.retry.eagain_max_usec, 20 * USEC_PER_SEC);
	assert_int_equal(cfg.retry.eagain_attempts, 4);
	assert_int_equal(cfg.retry.enomem_pause_usec, 45 * USEC_PER_SEC);
	assert_int_equal(cfg.retry.ebusy_pause_usec, 120 * USEC_PER_SEC);
	assert_int_equal(cfg.n_policies, 2);

	p = &cfg.policies[0];
	assert_string_equal(p->name, "skip");
	assert_string_equal(p->file, "t.yaml");
	assert_int_equal(p->line, 11);
	assert_true(p->ignore);
	assert_int_equal(p->match.comm.n, 1);
	assert_string_equal(p->match.comm.v[0].pattern, "redis-server");
	assert_int_equal(p->match.comm.v[0].line, 13);
	assert_int_equal(p->match.comm.v[0].col, 13);
	assert_int_equal(p->match.exe.n, 0);
	assert_int_equal(p->match.min_anon, 0);
	assert_int_equal(p->hotness, HOTNESS_NONE);
	assert_int_equal(p->min_hot_bp, DEFAULT_MIN_HOT_BP);
	assert_int_equal(p->min_present_bp, DEFAULT_MIN_PRESENT_BP);
	assert_int_equal(p->max_rate, 0);
	assert_int_equal(p->max_stall_bp, 0);
	assert_int_equal(p->max_huge, 0);
	assert_false(p->shmem);

	p = &cfg.policies[1];
	m = &p->match;
	assert_string_equal(p->name, "demo");
	assert_int_equal(p->line, 15);
	assert_int_equal(m->comm.n, 2);
	assert_string_equal(m->comm.v[0].pattern, "hotcold");
	assert_int_equal(m->comm.v[0].line, 17);
	assert_int_equal(m->comm.v[0].col, 14);
	assert_string_equal(m->comm.v[1].pattern, "thp-*");
	assert_int_equal(m->comm.v[1].col, 23);
	assert_int_equal(m->exe.n, 1);
	assert_string_equal(m->exe.v[0].pattern, "/usr/bin/*");
	assert_int_equal(m->user.n, 2);
	assert_string_equal(m->user.v[0].pattern, "www-data");
	assert_int_equal(m->user.v[0].line, 19);
	assert_int_equal(m->user.v[0].col, 14);
	assert_string_equal(m->user.v[1].pattern, "1000");
	assert_null(m->uids); /* only config_resolve_users() fills these */
	assert_int_equal(m->unit.n, 1);
	assert_string_equal(m->unit.v[0].pattern, "redis-server.service");
	assert_int_equal(m->cgroup.n, 1);
	assert_string_equal(m->cgroup.v[0].pattern, "/system.slice/*");
	assert_int_equal(m->min_anon, 64ULL << 20);
	assert_false(p->ignore);
	assert_int_equal(p->hotness, HOTNESS_REFS);
	assert_int_equal(p->min_hot_bp, 1250);
	assert_int_equal(p->max_rate, 256ULL << 20);
	assert_int_equal(p->max_huge, 16ULL << 30);
	assert_int_equal(p->min_present_bp, 7500);
	assert_true(p->shmem);
	assert_int_equal(p->max_stall_bp, 25);
	config_free(&cfg);
}

static void test_defaults_applied(void **state)
{
	struct thpd_config cfg;
	const struct policy *p;

	expect_ok("policies:\n  - name: x\n    match: {min_anon: 1GiB}\n", &cfg);
	assert_int_equal(cfg.daemon.scan_interval_usec, DEFAULT_SCAN_INTERVAL_USEC);
	assert_int_equal(cfg.daemon.max_collapse_rate, DEFAULT_MAX_COLLAPSE_RATE);
	assert_null(cfg.daemon.socket_path);
	assert_int_equal(cfg.daemon.smaps_refresh, DEFAULT_SMAPS_REFRESH);
	assert_int_equal(cfg.retry.eagain_initial_usec, DEFAULT_EAGAIN_INITIAL_USEC);
	assert_int_equal(cfg.retry.eagain_max_usec, DEFAULT_EAGAIN_MAX_USEC);
	assert_int_equal(cfg.retry.eagain_attempts, DEFAULT_EAGAIN_ATTEMPTS);
	assert_int_equal(cfg.retry.enomem_pause_usec, DEFAULT_ENOMEM_PAUSE_USEC);
	assert_int_equal(cfg.retry.ebusy_pause_usec, DEFAULT_EBUSY_PAUSE_USEC);
	assert_int_equal(cfg.n_policies, 1);
	p = &cfg.policies[0];
	assert_false(p->ignore);
	assert_int_equal(p->hotness, HOTNESS_NONE);
	assert_int_equal(p->min_hot_bp, DEFAULT_MIN_HOT_BP);
	assert_int_equal(p->max_rate, 0);
	assert_int_equal(p->max_huge, 0);
	assert_int_equal(p->min_present_bp, DEFAULT_MIN_PRESENT_BP);
	assert_false(p->shmem);
	assert_int_equal(p->match.min_anon, 1ULL << 30);
	config_free(&cfg);

	/* Partial sections keep the defaults of the keys not given. */
	expect_ok("daemon: {smaps_refresh: 2}\n"
		  "retry: {eagain: {attempts: 3}}\n"
		  "policies: [{name: x, match: {comm: x}}]\n",
		  &cfg);
	assert_int_equal(cfg.daemon.smaps_refresh, 2);
	assert_int_equal(cfg.daemon.scan_interval_usec, DEFAULT_SCAN_INTERVAL_USEC);
	assert_int_equal(cfg.retry.eagain_attempts, 3);
	assert_int_equal(cfg.retry.eagain_initial_usec, DEFAULT_EAGAIN_INITIAL_USEC);
	assert_int_equal(cfg.daemon.pressure_some_bp, DEFAULT_PRESSURE_SOME_BP);
	assert_int_equal(cfg.daemon.pressure_full_bp, DEFAULT_PRESSURE_FULL_BP);
	config_free(&cfg);

	/* Pressure thresholds: one given, the other keeps its default; 0% turns
	 * one off. */
	expect_ok("daemon: {pressure: {some: 25%}}\n"
		  "policies: [{name: x, match: {comm: x}}]\n",
		  &cfg);
	assert_int_equal(cfg.daemon.pressure_some_bp, 2500);
	assert_int_equal(cfg.daemon.pressure_full_bp, DEFAULT_PRESSURE_FULL_BP);
	config_free(&cfg);
	expect_ok("daemon: {pressure: {some: 0%, full: 0.5%}}\n"
		  "policies: [{name: x, match: {comm: x}}]\n",
		  &cfg);
	assert_int_equal(cfg.daemon.pressure_some_bp, 0);
	assert_int_equal(cfg.daemon.pressure_full_bp, 50);
	config_free(&cfg);
}

static void test_collapse_sched(void **state)
{
	struct thpd_config cfg;

	config_init(&cfg);
	assert_int_equal(cfg.daemon.collapse_sched, WORKER_SCHED_BATCH);
	assert_int_equal(cfg.daemon.collapse_nice, 10);
	config_free(&cfg);
	expect_ok("daemon: {collapse_scheduler: idle, collapse_nice: 0}\n"
		  "policies: [{name: x, match: {comm: x}}]\n",
		  &cfg);
	assert_int_equal(cfg.daemon.collapse_sched, WORKER_SCHED_IDLE);
	assert_int_equal(cfg.daemon.collapse_nice, 0);
	config_free(&cfg);
	expect_ok("daemon: {collapse_scheduler: other, collapse_nice: 19}\n"
		  "policies: [{name: x, match: {comm: x}}]\n",
		  &cfg);
	assert_int_equal(cfg.daemon.collapse_sched, WORKER_SCHED_OTHER);
	assert_int_equal(cfg.daemon.collapse_nice, 19);
	config_free(&cfg);
	expect_error("daemon:\n  collapse_nice: 20\n", 2, 18,
		     "daemon.collapse_nice: 20 is out of range 0..19");
	expect_error("daemon:\n  collapse_nice: -1\n", 2, 18, "daemon.collapse_nice");
	expect_error(
	    "daemon:\n  collapse_scheduler: fifo\n", 2, 23,
	    "daemon.collapse_scheduler: bad policy \"fifo\": expected other, batch or idle");
	assert_string_equal(worker_sched_name(WORKER_SCHED_BATCH), "batch");
}

static void test_metrics_textfile(void **state)
{
	struct thpd_config cfg;
	struct config_diags d = {0};
	static const char drop_in[] = "daemon: {metrics_textfile: \"\"}\n";

	config_init(&cfg);
	assert_null(cfg.daemon.metrics_textfile);
	assert_int_equal(cfg.daemon.metrics_interval_usec, 15 * 1000000ULL);
	config_free(&cfg);
	expect_ok("daemon: {metrics_textfile: /var/lib/prometheus/node-exporter/thpd.prom, "
		  "metrics_interval: 2s}\npolicies: [{name: x, match: {comm: x}}]\n",
		  &cfg);
	assert_string_equal(cfg.daemon.metrics_textfile,
			    "/var/lib/prometheus/node-exporter/thpd.prom");
	assert_int_equal(cfg.daemon.metrics_interval_usec, 2000000);
	/* A later file (a drop-in) turns it off with "". */
	assert_int_equal(config_parse("d.yaml", drop_in, strlen(drop_in), &cfg, &d), 0);
	assert_null(cfg.daemon.metrics_textfile);
	config_free(&cfg);
	expect_error("daemon:\n  metrics_textfile: thpd.prom\n", 2, 21,
		     "daemon.metrics_textfile: \"thpd.prom\" is not an absolute path");
	expect_error("daemon:\n  metrics_textfile: /var/lib/thpd.txt\n", 2, 21,
		     "daemon.metrics_textfile: \"/var/lib/thpd.txt\" does not end in .prom");
	expect_error("daemon:\n  metrics_textfile: /var/lib/.prom\n", 2, 21,
		     "does not end in .prom");
	expect_error("daemon:\n  metrics_textfile: [a]\n", 2, 21, "daemon.metrics_textfile");
	expect_error("daemon:\n  metrics_interval: 500ms\n", 2, 21,
		     "daemon.metrics_interval: duration \"500ms\" is too short: must be at least "
		     "1000ms");
}

static void test_value_forms(void **state)
{
	struct thpd_config cfg;

	/* Bare integer sizes are bytes; 0 = unlimited; yes/no; scalar as list; min. */
	expect_ok("daemon:\n"
		  "  scan_interval: 100ms\n"
		  "  max_collapse_rate: 0\n"
		  "policies:\n"
		  "  - name: A.b_c-9\n"
		  "    match: {exe: /opt/*, min_anon: 4096}\n"
		  "    shmem: no\n"
		  "    ignore: No\n"
		  "    max_rate: 1048576\n"
		  "    max_huge: 0\n"
		  "    min_present: 0%\n"
		  "  - name: refs\n"
		  "    match: {user: '0'}\n"
		  "    hotness: refs\n"
		  "    min_hot: 100%\n",
		  &cfg);
	assert_int_equal(cfg.daemon.scan_interval_usec, 100 * USEC_PER_MSEC);
	assert_int_equal(cfg.daemon.max_collapse_rate, 0);
	assert_int_equal(cfg.n_policies, 2);
	assert_string_equal(cfg.policies[0].name, "A.b_c-9");
	assert_int_equal(cfg.policies[0].match.exe.n, 1);
	assert_string_equal(cfg.policies[0].match.exe.v[0].pattern, "/opt/*");
	assert_int_equal(cfg.policies[0].match.min_anon, 4096);
	assert_false(cfg.policies[0].shmem);
	assert_int_equal(cfg.policies[0].max_rate, 1048576);
	assert_int_equal(cfg.policies[0].min_present_bp, 0);
	assert_int_equal(cfg.policies[1].min_hot_bp, 10000);
	config_free(&cfg);

	/* Null sections count as empty; comm globs may be longer than 15. */
	expect_ok("daemon:\nretry:\n  eagain:\npolicies:\n"
		  "  - {name: x, match: {comm: 'a-very-long-comm-name*'}}\n",
		  &cfg);
	assert_int_equal(cfg.daemon.scan_interval_usec, DEFAULT_SCAN_INTERVAL_USEC);
	config_free(&cfg);
}

/* ---- error classes, each at its exact position --------------------------------- */

static void test_err_unknown_key(void **state)
{
	expect_error("daemon:\n  scan_intervall: 2s\n", 2, 3,
		     "daemon.scan_intervall: unknown key \"scan_intervall\" (expected one of: "
		     "scan_interval, max_collapse_rate, socket, smaps_refresh, pressure, "
		     "collapse_scheduler, collapse_nice, metrics_textfile, metrics_interval)");
	expect_error("deamon: {}\npolicies: [{name: a, match: {comm: x}}]\n", 1, 1,
		     "deamon: unknown key \"deamon\" (expected one of: daemon, retry, policies)");
	expect_error("policies:\n  - name: a\n    match: {comm: x, pid: 1}\n", 3, 22,
		     "policies[0].match.pid: unknown key \"pid\"");
	expect_error("policies:\n  - name: a\n    match: {comm: x}\n    hot: refs\n", 4, 5,
		     "policies[0].hot: unknown key \"hot\"");
	expect_error("retry:\n  eagain: {initial: 1s, maximum: 2s}\n", 2, 25,
		     "retry.eagain.maximum: unknown key");
	/* Control characters in keys are escaped in the message. */
	expect_error("\"a\\x1b[2Jb\": 1\n", 1, 1, "unknown key \"a\\x1b[2Jb\"");
}

static void test_err_size(void **state)
{
	expect_error("policies:\n  - name: a\n    match: {comm: x}\n    max_huge: 12XB\n", 4, 15,
		     "policies[0].max_huge: bad size \"12XB\": expected a number with B, K, KiB, "
		     "M, MiB, G, GiB, T, TiB");
	expect_error("daemon: {max_collapse_rate: -1}\n", 1, 29,
		     "daemon.max_collapse_rate: bad size \"-1\"");
	expect_error("daemon: {max_collapse_rate: 99999999999TiB}\n", 1, 29, "too large");
	expect_error("policies:\n  - name: a\n    match: {min_anon: 1.5.5G}\n", 3, 23,
		     "policies[0].match.min_anon: bad size");
}

static void test_err_duration(void **state)
{
	expect_error("daemon:\n  scan_interval: 5\n", 2, 18,
		     "daemon.scan_interval: bad duration \"5\": expected a number with a unit: "
		     "us, ms, s, m, h");
	expect_error("daemon:\n  scan_interval: 5 parsecs\n", 2, 18, "bad duration");
	expect_error("daemon:\n  scan_interval: 50ms\n", 2, 18,
		     "daemon.scan_interval: duration \"50ms\" is too short: must be at least "
		     "100ms");
	expect_error("retry:\n  enomem: {pause: 0s}\n", 2, 19,
		     "retry.enomem.pause: duration \"0s\" must be greater than 0");
	expect_error("retry:\n  eagain: {initial: 20s, max: 10s}\n", 2, 21,
		     "retry.eagain.initial: must not be greater than retry.eagain.max");
}

static void test_err_percent(void **state)
{
	expect_error("policies:\n  - name: a\n    match: {comm: x}\n    min_present: 90\n", 4, 18,
		     "policies[0].min_present: bad percentage \"90\": expected 0% to 100%");
	expect_error("policies:\n  - name: a\n    match: {comm: x}\n    min_present: 101%\n", 4, 18,
		     "bad percentage \"101%\"");
	expect_error("policies:\n  - {name: a, match: {comm: x}, hotness: refs, min_hot: half}\n",
		     2, 57, "policies[0].min_hot: bad percentage");
	expect_error("daemon: {pressure: {some: 10}}\n", 1, 27,
		     "daemon.pressure.some: bad percentage \"10\"");
	expect_error("daemon: {pressure: {sum: 10%}}\n", 1, 21,
		     "daemon.pressure.sum: unknown key \"sum\" (expected one of: some, full)");
	/* min_hot only means something with hotness: refs. */
	expect_error("policies:\n  - name: a\n    match: {comm: x}\n    min_hot: 10%\n", 4, 5,
		     "policies[0].min_hot: only used with a hotness source (refs, damon, auto)");
}

static void test_err_type(void **state)
{
	expect_error("daemon:\n  scan_interval:\n    seconds: 2\n", 3, 5,
		     "daemon.scan_interval: expected a duration, got a mapping");
	expect_error("daemon: 5s\n", 1, 9, "daemon: expected a mapping, got a scalar");
	expect_error("daemon: [1]\n", 1, 9, "daemon: expected a mapping, got a sequence");
	expect_error("policies: {name: a}\n", 1, 11,
		     "policies: expected a sequence of policies, got a mapping");
	expect_error("policies:\n  - a\n", 2, 5, "policies[0]: expected a mapping, got a scalar");
	expect_error("policies:\n  - name: [a]\n    match: {comm: x}\n", 2, 11,
		     "policies[0].name: expected a string, got a sequence");
	expect_error("policies:\n  - name: a\n    match: {comm: {x: 1}}\n", 3, 19,
		     "policies[0].match.comm: expected a pattern or a list of patterns, got a "
		     "mapping");
	expect_error("policies:\n  - name: a\n    match: {comm: [x, [y]]}\n", 3, 23,
		     "policies[0].match.comm[1]: expected a string, got a sequence");
	expect_error("policies:\n  - name: a\n    match: {comm: x}\n    ignore: maybe\n", 4, 13,
		     "policies[0].ignore: bad boolean \"maybe\": expected true, false, yes or no");
	expect_error(
	    "policies:\n  - name: a\n    match: {comm: x}\n    hotness: warm\n", 4, 14,
	    "policies[0].hotness: bad hotness \"warm\": expected none, refs, damon or auto");
	expect_error("daemon: {smaps_refresh: 0}\n", 1, 25,
		     "daemon.smaps_refresh: bad integer \"0\": expected a whole number from 1 to");
	expect_error("daemon: {smaps_refresh: 1.5}\n", 1, 25, "bad integer \"1.5\"");
	expect_error("daemon: {smaps_refresh: 99999999999}\n", 1, 25, "bad integer");
	expect_error("retry:\n  eagain: {attempts: 0x10}\n", 2, 22, "bad integer");
	expect_error("daemon: {socket: run/thpd.sock}\n", 1, 18,
		     "daemon.socket: \"run/thpd.sock\" is not an absolute path");
	expect_error("daemon: {socket: ~}\n", 1, 18, "daemon.socket: missing value");
	expect_error("[a, b]\n", 1, 1, "expected a mapping at the top level, got a sequence");
	expect_error("just text\n", 1, 1, "expected a mapping at the top level, got a scalar");
	expect_error("? [a]\n: b\n", 1, 3, "keys must be strings, got a sequence");
	expect_error("policies:\n  - name: a\n    match: {comm: \"x\\0y\"}\n", 3, 19,
		     "must not contain NUL");
}

static void test_err_duplicates(void **state)
{
	expect_error("daemon:\n  scan_interval: 2s\n  scan_interval: 3s\n", 3, 3,
		     "daemon.scan_interval: duplicate key \"scan_interval\" (first at 2:3)");
	expect_error("policies:\n  - name: a\n    match: {comm: x, comm: y}\n", 3, 22,
		     "duplicate key \"comm\" (first at 3:13)");
	expect_error("policies:\n"
		     "  - name: a\n"
		     "    match: {comm: x}\n"
		     "  - name: b\n"
		     "    match: {comm: y}\n"
		     "  - name: a\n"
		     "    match: {comm: z}\n",
		     6, 11, "policies[2].name: duplicate policy name \"a\" (first at 2:11)");
}

static void test_err_policy(void **state)
{
	expect_error("policies:\n  - match: {comm: x}\n", 2, 5,
		     "policies[0]: missing required key \"name\"");
	expect_error("policies:\n  - name: a\n", 2, 5,
		     "policies[0]: missing required key \"match\"");
	expect_error("policies:\n  - name: a\n    match: {}\n", 3, 12,
		     "policies[0].match: empty: would select every process; use min_anon to "
		     "select by size");
	expect_error("policies:\n  - name: a\n    match:\n  - name: b\n    match: {comm: x}\n", 3,
		     11, "policies[0].match: empty");
	expect_error("policies:\n  - name: a\n    match: {min_anon: 0}\n", 3, 12,
		     "policies[0].match: empty");
	expect_error("policies:\n  - name: a b\n    match: {comm: x}\n", 2, 11,
		     "policies[0].name: bad policy name \"a b\"");
	expect_error("policies:\n  - name: ''\n    match: {comm: x}\n", 2, 11,
		     "policies[0].name: must not be empty");
	expect_error("policies:\n  - name: a\n    match: {comm: []}\n", 3, 19,
		     "policies[0].match.comm: empty list");
	expect_error("policies:\n  - name: a\n    match: {exe: ''}\n", 3, 18,
		     "policies[0].match.exe: empty pattern");
	expect_error("policies:\n  - name: a\n    match: {comm: [ok, a-very-long-process]}\n", 3,
		     24, "\"a-very-long-process\" can never match");
	expect_error("policies:\n  - name: a\n    match: {user: }\n", 3, 19,
		     "policies[0].match.user: missing value");
}

static void test_err_syntax(void **state)
{
	expect_error("policies:\n  - name: a\n    match: {comm: x}\n   bad: indentation\n", 4, 4,
		     "YAML syntax error: ");
	expect_error("daemon: {scan_interval: 2s\n", 2, 1,
		     "YAML syntax error: did not find expected ',' or '}' (while parsing a flow "
		     "mapping at 1:9)");
	expect_error("daemon:\n\tscan_interval: 2s\n", 2, 1, "YAML syntax error: ");
	expect_error("a: \"unterminated\n", 2, 1, "YAML syntax error: ");
	/* Reader errors only have a byte offset: turned into line:col. */
	expect_error("daemon:\n  socket: /x\xff\n", 2, 13, "invalid input: ");
	expect_error("a: b\x01\n", 1, 5, "invalid input: control characters are not allowed");
}

static void test_err_empty(void **state)
{
	expect_error("", 1, 1, "empty document");
	expect_error("# only a comment\n\n", 1, 1, "empty document");
	expect_error("---\n", 2, 1, "empty document");
	expect_error("~\n", 1, 1, "empty document");
	expect_error("{}\n", 1, 1, "empty document");
	expect_error("daemon: {}\npolicies: []\n", 2, 11,
		     "policies: empty: at least one policy is required");
	expect_error("daemon: {}\npolicies:\n", 2, 10, "policies: empty");
}

static void test_err_alias(void **state)
{
	expect_error("policies:\n"
		     "  - name: a\n"
		     "    match: &m {comm: x}\n"
		     "  - name: b\n"
		     "    match: *m\n",
		     3, 12, "anchors and aliases are not supported");
	expect_error("policies: &x [*x]\n", 1, 11, "anchors and aliases are not supported");
	expect_error("*x\n", 1, 1, "anchors and aliases are not supported");
}

static void test_err_multi_doc(void **state)
{
	expect_error("policies: [{name: a, match: {comm: x}}]\n---\ndaemon: {}\n", 2, 1,
		     "only one YAML document per file is supported");
}

static void test_err_nesting(void **state)
{
	char buf[4096];
	size_t n = 0;

	for (int i = 0; i < 1000; i++)
		buf[n++] = '[';
	buf[n] = '\0';
	expect_error(buf, 1, 65, "nesting too deep");
}

static void test_multiple_errors(void **state)
{
	static const char yaml[] = "daemon:\n"			 /* 1 */
				   "  scan_interval: 1\n"	 /* 2 */
				   "  max_collapse_rate: lots\n" /* 3 */
				   "  colour: blue\n"		 /* 4 */
				   "retry:\n"			 /* 5 */
				   "  ebusy: {pause: soon}\n"	 /* 6 */
				   "policies:\n"		 /* 7 */
				   "  - name: \"bad name\"\n"	 /* 8 */
				   "    match: {comm: x}\n"	 /* 9 */
				   "    hotness: warm\n"	 /* 10 */
				   "  - name: ok\n"		 /* 11 */
				   "    match: {comm: y}\n"	 /* 12 */
				   "    max_rate: fast\n"	 /* 13 */
				   "    max_stall: 120%\n";	 /* 14 */
	struct thpd_config cfg;
	struct config_diags d = {0};
	bool ok;

	assert_int_equal(parse_str(yaml, &cfg, &d), -EINVAL);
	/* Reported in file order. */
	ok = d.n == 8 && diag_is(&d, 0, 2, 18, "daemon.scan_interval: bad duration") &&
	     diag_is(&d, 1, 3, 22, "daemon.max_collapse_rate: bad size") &&
	     diag_is(&d, 2, 4, 3, "daemon.colour: unknown key") &&
	     diag_is(&d, 3, 6, 18, "retry.ebusy.pause: bad duration") &&
	     diag_is(&d, 4, 8, 11, "policies[0].name: bad policy name") &&
	     diag_is(&d, 5, 10, 14, "policies[0].hotness: bad hotness") &&
	     diag_is(&d, 6, 13, 15, "policies[1].max_rate: bad size") &&
	     diag_is(&d, 7, 14, 16, "policies[1].max_stall: bad percentage");
	if (!ok) {
		dump_diags(&d);
		fail();
	}
	config_free(&cfg);
	config_diags_free(&d);
}

/* ---- merging -------------------------------------------------------------------- */

static void test_merge_parse(void **state)
{
	static const char a[] = "daemon: {scan_interval: 3s, smaps_refresh: 9}\n"
				"policies:\n"
				"  - {name: one, match: {comm: one}}\n"
				"  - {name: two, match: {comm: two}, max_huge: 1GiB}\n";
	static const char b[] = "daemon: {scan_interval: 4s}\n"
				"retry: {ebusy: {pause: 5s}}\n"
				"policies:\n"
				"  - {name: three, match: {comm: three}}\n"
				"  - {name: two, match: {exe: /bin/two}}\n";
	struct thpd_config cfg;
	struct config_diags d = {0};

	config_init(&cfg);
	assert_int_equal(config_parse("a.yaml", a, strlen(a), &cfg, &d), 0);
	assert_int_equal(config_parse("b.yaml", b, strlen(b), &cfg, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(cfg.daemon.scan_interval_usec, 4 * USEC_PER_SEC);
	assert_int_equal(cfg.daemon.smaps_refresh, 9);
	assert_int_equal(cfg.retry.ebusy_pause_usec, 5 * USEC_PER_SEC);
	assert_int_equal(cfg.n_policies, 3);
	assert_string_equal(cfg.policies[0].name, "one");
	assert_string_equal(cfg.policies[1].name, "two");
	assert_string_equal(cfg.policies[1].file, "b.yaml");
	assert_int_equal(cfg.policies[1].line, 5);
	/* replaced as a whole, not merged key by key */
	assert_int_equal(cfg.policies[1].match.comm.n, 0);
	assert_int_equal(cfg.policies[1].match.exe.n, 1);
	assert_int_equal(cfg.policies[1].max_huge, 0);
	assert_string_equal(cfg.policies[2].name, "three");
	assert_int_equal(config_validate(&cfg, &d), 0);
	config_free(&cfg);
	config_diags_free(&d);
}

static void test_validate(void **state)
{
	static const char a[] = "retry: {eagain: {initial: 5s}}\n";
	static const char b[] = "retry: {eagain: {max: 1s}}\n";
	struct thpd_config cfg;
	struct config_diags d = {0};

	config_init(&cfg);
	assert_int_equal(config_validate(&cfg, &d), -EINVAL);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].msg, "policies: empty"));
	assert_int_equal(d.v[0].line, 0);
	config_diags_free(&d);

	/* Each file is fine alone; merged, initial > max. */
	assert_int_equal(config_parse("a.yaml", a, strlen(a), &cfg, &d), 0);
	assert_int_equal(config_parse("b.yaml", b, strlen(b), &cfg, &d), 0);
	assert_int_equal(config_validate(&cfg, &d), -EINVAL);
	assert_int_equal(d.n, 2);
	assert_non_null(strstr(d.v[1].msg, "retry.eagain: initial"));
	config_free(&cfg);
	config_diags_free(&d);
}

static void test_resolve_users(void **state)
{
	static const char yaml[] =
	    "policies:\n"
	    "  - name: a\n"
	    "    match:\n"
	    "      user: [root, \"1234\", thpd-no-such-user-42, \"4294967295\"]\n"
	    "  - name: b\n"
	    "    match: {user: '0'}\n"
	    "  - name: c\n"
	    "    match: {comm: x}\n";
	struct thpd_config cfg;
	struct config_diags d = {0};
	bool ok;

	expect_ok(yaml, &cfg);
	assert_int_equal(config_resolve_users(&cfg, &d), -EINVAL);
	ok = d.n == 2 && diag_is(&d, 0, 4, 28, "unknown user \"thpd-no-such-user-42\"") &&
	     diag_is(&d, 1, 4, 50, "bad uid \"4294967295\"");
	if (!ok) {
		dump_diags(&d);
		fail();
	}
	assert_string_equal(d.v[0].file, "t.yaml");
	assert_int_equal(cfg.policies[0].match.n_uids, 2);
	assert_int_equal(cfg.policies[0].match.uids[0], 0);
	assert_int_equal(cfg.policies[0].match.uids[1], 1234);
	assert_int_equal(cfg.policies[1].match.n_uids, 1);
	assert_int_equal(cfg.policies[1].match.uids[0], 0);
	assert_int_equal(cfg.policies[2].match.n_uids, 0);
	assert_null(cfg.policies[2].match.uids);
	config_diags_free(&d);

	/* Resolving again does not leak or duplicate. */
	assert_int_equal(config_resolve_users(&cfg, &d), -EINVAL);
	assert_int_equal(cfg.policies[0].match.n_uids, 2);
	config_free(&cfg);
	config_diags_free(&d);
}

/* ---- loading ------------------------------------------------------------------------ */

struct tmpdir {
	char path[64];
};

static void tmpdir_make(struct tmpdir *t)
{
	char *d;

	snprintf(t->path, sizeof(t->path), "/tmp/thpd-test-config.XXXXXX");
	assert_non_null(mkdtemp(t->path));
	d = path_join(t->path, "thpd.d");
	assert_int_equal(mkdir(d, 0755), 0);
	free(d);
}

static void rm_tree(const char *path)
{
	struct dirent **ents;
	struct stat st;
	int n;

	if (lstat(path, &st) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	n = scandir(path, &ents, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, "..")) {
			char *p = path_join(path, ents[i]->d_name);

			rm_tree(p);
			free(p);
		}
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
	rmdir(path);
}

static void tmpdir_write(struct tmpdir *t, const char *name, const char *text)
{
	char *p = path_join(t->path, name);

	write_file(p, text);
	free(p);
}

static void test_load_dropins(void **state)
{
	struct tmpdir t;
	struct thpd_config *cfg;
	struct config_diags d = {0};
	char *main_path, *sub;
	int r;

	tmpdir_make(&t);
	tmpdir_write(&t, "thpd.yaml",
		     "daemon: {scan_interval: 2s, max_collapse_rate: 64MiB}\n"
		     "policies:\n"
		     "  - {name: a, match: {comm: a}}\n"
		     "  - {name: b, match: {comm: b}}\n"
		     "  - {name: c, match: {comm: c}}\n");
	tmpdir_write(&t, "thpd.d/10-a.yaml",
		     "daemon: {scan_interval: 3s}\n"
		     "policies:\n"
		     "  - {name: b, match: {exe: /bin/b}, max_huge: 1GiB}\n"
		     "  - {name: d, match: {comm: d}}\n");
	tmpdir_write(&t, "thpd.d/20-b.yaml",
		     "daemon: {smaps_refresh: 3}\n"
		     "retry: {ebusy: {pause: 5s}}\n"
		     "policies:\n"
		     "  - {name: e, match: {comm: e}}\n"
		     "  - {name: a, match: {user: root}, ignore: true}\n");
	/* Not drop-ins: other suffixes, hidden files, directories. */
	tmpdir_write(&t, "thpd.d/README", "not yaml: [\n");
	tmpdir_write(&t, "thpd.d/30-c.yaml.bak", "not yaml: [\n");
	tmpdir_write(&t, "thpd.d/.hidden.yaml", "not yaml: [\n");
	sub = path_join(t.path, "thpd.d/40-dir.yaml");
	assert_int_equal(mkdir(sub, 0755), 0);
	free(sub);

	main_path = path_join(t.path, "thpd.yaml");
	r = load(main_path, &cfg, &d);
	if (r != 0 || d.n) {
		dump_diags(&d);
		fail();
	}
	assert_non_null(cfg);
	assert_int_equal(cfg->daemon.scan_interval_usec, 3 * USEC_PER_SEC);
	assert_int_equal(cfg->daemon.max_collapse_rate, 64ULL << 20);
	assert_int_equal(cfg->daemon.smaps_refresh, 3);
	assert_int_equal(cfg->retry.ebusy_pause_usec, 5 * USEC_PER_SEC);
	assert_int_equal(cfg->retry.enomem_pause_usec, DEFAULT_ENOMEM_PAUSE_USEC);
	assert_int_equal(cfg->n_policies, 5);
	assert_string_equal(cfg->policies[0].name, "a");
	assert_true(cfg->policies[0].ignore);
	assert_non_null(strstr(cfg->policies[0].file, "thpd.d/20-b.yaml"));
	assert_int_equal(cfg->policies[0].match.n_uids, 1);
	assert_int_equal(cfg->policies[0].match.uids[0], 0);
	assert_string_equal(cfg->policies[1].name, "b");
	assert_int_equal(cfg->policies[1].max_huge, 1ULL << 30);
	assert_non_null(strstr(cfg->policies[1].file, "thpd.d/10-a.yaml"));
	assert_string_equal(cfg->policies[2].name, "c");
	assert_string_equal(cfg->policies[2].file, main_path);
	assert_string_equal(cfg->policies[3].name, "d");
	assert_string_equal(cfg->policies[4].name, "e");
	free_loaded(cfg);

	/* An error in a drop-in fails the load, naming the drop-in; all errors collected. */
	tmpdir_write(&t, "thpd.d/15-bad.yaml", "daemon: {scan_intervall: 1s}\n");
	tmpdir_write(&t, "thpd.d/16-bad.yaml",
		     "policies: [{name: x, match: {user: nobody-xyz-42}}]\n");
	r = load(main_path, &cfg, &d);
	assert_int_equal(r, -EINVAL);
	assert_null(cfg);
	if (d.n != 2 || !diag_is(&d, 0, 1, 10, "unknown key") ||
	    !strstr(d.v[0].file, "thpd.d/15-bad.yaml") ||
	    !diag_is(&d, 1, 1, 36, "unknown user \"nobody-xyz-42\"") ||
	    !strstr(d.v[1].file, "thpd.d/16-bad.yaml")) {
		dump_diags(&d);
		fail();
	}
	config_diags_free(&d);

	/* Whole-config problems are reported against the main file. */
	sub = path_join(t.path, "thpd.d");
	rm_tree(sub);
	free(sub);
	tmpdir_write(&t, "thpd.yaml", "daemon: {scan_interval: 2s}\n");
	r = load(main_path, &cfg, &d);
	assert_int_equal(r, -EINVAL);
	assert_null(cfg);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].file, main_path);
	assert_non_null(strstr(d.v[0].msg, "policies: empty"));
	config_diags_free(&d);

	free(main_path);
	rm_tree(t.path);
}

static void test_load_missing(void **state)
{
	struct thpd_config *cfg;
	struct config_diags d = {0};

	assert_int_equal(load("/nonexistent/thpd.yaml", &cfg, &d), -ENOENT);
	assert_null(cfg);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].file, "/nonexistent/thpd.yaml");
	assert_int_equal(d.v[0].line, 0);
	assert_string_equal(d.v[0].msg, "cannot read: No such file or directory");
	config_diags_free(&d);
}

/* "# expect: L:C" on the first line of a bad sample. */
static void read_expect(const char *path, unsigned *line, unsigned *col)
{
	char buf[128] = "";
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	if (sscanf(buf, "# expect: %u:%u", line, col) != 2) {
		print_error("%s: first line lacks \"# expect: LINE:COL\"\n", path);
		fail();
	}
}

static int yaml_filter(const struct dirent *de)
{
	size_t l = strlen(de->d_name);

	return l > 5 && strcmp(de->d_name + l - 5, ".yaml") == 0;
}

static void test_sample_configs(void **state)
{
	const char *dir = TEST_DATA_DIR "/configs";
	struct dirent **ents;
	unsigned n_good = 0, n_bad = 0;
	int n = scandir(dir, &ents, yaml_filter, alphasort);

	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		char *path = path_join(dir, name);
		struct thpd_config *cfg;
		struct config_diags d = {0};
		int r = load(path, &cfg, &d);

		if (!strncmp(name, "good-", 5)) {
			if (r != 0 || d.n || !cfg) {
				print_error("%s: r=%d\n", path, r);
				dump_diags(&d);
				fail();
			}
			n_good++;
		} else if (!strncmp(name, "bad-", 4)) {
			unsigned line, col;

			read_expect(path, &line, &col);
			if (r >= 0 || cfg || !d.n || d.v[0].line != line || d.v[0].col != col ||
			    strcmp(d.v[0].file, path)) {
				print_error("%s: r=%d, expected first diagnostic at %u:%u\n", path,
					    r, line, col);
				dump_diags(&d);
				fail();
			}
			n_bad++;
		}
		free_loaded(cfg);
		config_diags_free(&d);
		free(path);
		free(ents[i]);
	}
	free(ents);
	assert_true(n_good >= 3);
	assert_true(n_bad >= 7);
}

static void load_clean(const char *path)
{
	struct thpd_config *cfg;
	struct config_diags d = {0};
	int r = load(path, &cfg, &d);

	if (r != 0 || d.n) {
		print_error("%s: r=%d\n", path, r);
		dump_diags(&d);
		fail();
	}
	assert_true(cfg->n_policies > 0);
	free_loaded(cfg);
}

static void test_shipped_configs(void **state)
{
	const char *dir = REPO_DIR "/config/examples";
	struct thpd_config *cfg;
	struct config_diags d = {0};
	struct dirent **ents;
	unsigned seen = 0;
	int n;

	load_clean(REPO_DIR "/config/thpd.yaml");

	/* The shipped policy: ignore THP-averse software first, then large users. */
	assert_int_equal(load(REPO_DIR "/config/thpd.yaml", &cfg, &d), 0);
	assert_true(cfg->n_policies >= 2);
	assert_true(cfg->policies[0].ignore);
	assert_true(cfg->daemon.max_collapse_rate > 0);
	assert_true(cfg->daemon.max_collapse_rate <= 512ULL << 20);
	assert_true(cfg->daemon.scan_interval_usec >= 2 * USEC_PER_SEC);
	assert_true(cfg->daemon.scan_interval_usec <= 5 * USEC_PER_SEC);
	assert_false(cfg->policies[1].ignore);
	assert_true(cfg->policies[1].match.min_anon >= 512ULL << 20);
	assert_true(cfg->policies[1].max_huge > 0);
	assert_int_equal(cfg->policies[1].min_present_bp, 9000);
	free_loaded(cfg);

	n = scandir(dir, &ents, yaml_filter, alphasort);
	assert_true(n >= 3);
	for (int i = 0; i < n; i++) {
		char *path = path_join(dir, ents[i]->d_name);

		load_clean(path);
		free(path);
		free(ents[i]);
		seen++;
	}
	free(ents);
	assert_true(seen >= 3);

	/* The demo example is what the integration tests run against thp-target. */
	assert_int_equal(load(REPO_DIR "/config/examples/demo.yaml", &cfg, &d), 0);
	assert_int_equal(cfg->daemon.scan_interval_usec, USEC_PER_SEC);
	assert_int_equal(cfg->policies[0].match.comm.n, 1);
	assert_string_equal(cfg->policies[0].match.comm.v[0].pattern, "thp-target");
	assert_int_equal(cfg->policies[0].match.min_anon, 64ULL << 20);
	free_loaded(cfg);
}

/* ---- robustness: nothing may crash or leak (run under valgrind/ASan) --------------- */

static void parse_any(const char *buf, size_t len)
{
	struct thpd_config cfg;
	struct config_diags d = {0};
	int r;

	config_init(&cfg);
	r = config_parse("f.yaml", buf, len, &cfg, &d);
	assert_true(r == 0 || r == -EINVAL);
	assert_true((r == 0) == (d.n == 0));
	for (size_t i = 0; i < d.n; i++) {
		assert_non_null(d.v[i].msg);
		assert_true(d.v[i].line > 0);
	}
	config_validate(&cfg, &d);
	config_free(&cfg);
	config_diags_free(&d);
}

static void test_robust(void **state)
{
	static const char *const nasty[] = {
	    "a: &x [*x]\n",
	    "policies: [*x]\n",
	    "policies: [{name: a, match: {comm: [x, *x], exe: *x, user: [*x]}}]\n",
	    "policies: [{name: *x, match: *x, ignore: *x}, {*x : 1}]\n",
	    "- - - - - -\n",
	    "{",
	    "}",
	    "'",
	    "\xef\xbb\xbfpolicies: [{name: a, match: {comm: x}}]\n",
	    "\xff\xfe",
	    "policies: [{name: a, match: {comm: x}}, *x]\n",
	    "policies: !!map {}\n",
	    "policies:\n  - !!binary aGVsbG8=\n",
	    "%YAML 1.1\n---\npolicies: []\n",
	    "%TAG ! tag:x,2000:\n--- !foo\npolicies: 1\n",
	    "? \n",
	    ": \n",
	    "policies: [{name: a, match: {comm: x}}]\n--- \n--- \n",
	    "daemon: {socket: /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}\n",
	    "\"\\u0085\\x9b2J\": 1\n",
	    "policies: [{name: "
	    "\"\\xe9\\xe9\\xe9\\xe9\\xe9\\xe9\\xe9\\xe9\\xe9\\xe9\\xe9\\xe9\\xe9\\xe9"
	    "\\xe9\\xe9\\xe9\\xe9\\xe9\\xe9\\xe9\\xe9\\xe9\\xe9\\xe9\\xe9\\xe9\\xe9\\xe9\\xe9\\xe9"
	    "\\xe9\\xe9\\xe9\\xe9\\xe9\\xe9\\xe9\", match: {}}]\n",
	};
	char *buf;
	size_t len = strlen(FULL);
	uint32_t seed = 12345;

	for (size_t i = 0; i < sizeof(nasty) / sizeof(nasty[0]); i++)
		parse_any(nasty[i], strlen(nasty[i]));
	parse_any(NULL, 0);

	/* Every prefix of a full config. */
	for (size_t l = 0; l <= len; l++)
		parse_any(FULL, l);

	/* Random byte mutations of it. */
	buf = malloc(len);
	assert_non_null(buf);
	for (int it = 0; it < 3000; it++) {
		memcpy(buf, FULL, len);
		for (int k = 0; k < 1 + it % 4; k++) {
			seed = seed * 1103515245 + 12345;
			size_t pos = (seed >> 8) % len;
			seed = seed * 1103515245 + 12345;
			buf[pos] = (char)"{}[]:,-&*!|>'\"#%@ \n\tax0%.\xff"[(seed >> 8) % 27];
		}
		parse_any(buf, len);
	}
	free(buf);

	/* Deep nesting of both kinds, and many policies. */
	buf = malloc(200001);
	assert_non_null(buf);
	memset(buf, '[', 100000);
	memset(buf + 100000, '{', 100000);
	parse_any(buf, 200000);
	free(buf);
	{
		size_t cap = 5000 * 48, o = 0;

		buf = malloc(cap);
		assert_non_null(buf);
		o += (size_t)snprintf(buf + o, cap - o, "policies:\n");
		for (int i = 0; i < 4097 && o + 64 < cap; i++)
			o += (size_t)snprintf(buf + o, cap - o, "- {name: p%d, match: {comm: x}}\n",
					      i);
		parse_any(buf, o);
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_defaults),    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_collapse_sched),   cmocka_unit_test(test_metrics_textfile),
	    cmocka_unit_test(test_defaults_applied), cmocka_unit_test(test_value_forms),
	    cmocka_unit_test(test_err_unknown_key),  cmocka_unit_test(test_err_size),
	    cmocka_unit_test(test_err_duration),     cmocka_unit_test(test_err_percent),
	    cmocka_unit_test(test_err_type),	     cmocka_unit_test(test_err_duplicates),
	    cmocka_unit_test(test_err_policy),	     cmocka_unit_test(test_err_syntax),
	    cmocka_unit_test(test_err_empty),	     cmocka_unit_test(test_err_alias),
	    cmocka_unit_test(test_err_multi_doc),    cmocka_unit_test(test_err_nesting),
	    cmocka_unit_test(test_multiple_errors),  cmocka_unit_test(test_merge_parse),
	    cmocka_unit_test(test_validate),	     cmocka_unit_test(test_resolve_users),
	    cmocka_unit_test(test_load_dropins),     cmocka_unit_test(test_load_missing),
	    cmocka_unit_test(test_sample_configs),   cmocka_unit_test(test_shipped_configs),
	    cmocka_unit_test(test_robust),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
