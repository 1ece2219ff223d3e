/* SPDX-License-Identifier: MIT */
/* thpctl top's pure part: bars, rates from successive samples, sort orders, keys, frames. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <locale.h>
#include <string.h>
#include <wchar.h>

#include "../../client/top.h"

#define S   1000000ULL
#define MiB (1LL << 20)

static void test_bar(void **state)
{
	char b[64];
	(void)state;

	assert_string_equal(top_bar(b, 0, 100, 12), "[..........]");
	assert_string_equal(top_bar(b, 50, 100, 12), "[#####.....]");
	/* Rounded down: full only when all of it is huge. */
	assert_string_equal(top_bar(b, 99, 100, 12), "[#########.]");
	assert_string_equal(top_bar(b, 100, 100, 12), "[##########]");
	assert_string_equal(top_bar(b, 150, 100, 12), "[##########]");
	assert_string_equal(top_bar(b, 5, 0, 12), "[..........]");
	assert_string_equal(top_bar(b, -5, 100, 12), "[..........]");
	assert_string_equal(top_bar(b, 1, 2, 3), "[.]");
	assert_string_equal(top_bar(b, 2, 2, 3), "[#]");
	assert_string_equal(top_bar(b, 2, 2, 1), "[#]");
}

static void test_fmt_rate(void **state)
{
	char b[64];
	(void)state;

	assert_string_equal(top_fmt_rate(NAN, b, sizeof(b)), "-");
	assert_string_equal(top_fmt_rate(0, b, sizeof(b)), "0 B/s");
	assert_string_equal(top_fmt_rate(-3, b, sizeof(b)), "0 B/s");
	assert_string_equal(top_fmt_rate(32.0 * MiB, b, sizeof(b)), "32.0 MiB/s");
}

static void test_sort_names(void **state)
{
	enum top_sort s;
	(void)state;

	for (int i = 0; i < TOP_N_SORTS; i++) {
		assert_int_equal(top_sort_parse(top_sort_name((enum top_sort)i), &s), 0);
		assert_int_equal(s, i);
	}
	assert_int_equal(top_sort_parse("rate", &s), -EINVAL);
}

/* ---- samples ---- */

static json_t *status_json(const char *pauses_json)
{
	json_error_t e;
	json_t *p = json_loads(pauses_json, 0, &e);
	json_t *s;

	assert_non_null(p);
	s = json_pack("{s:s, s:f, s:s, s:I, s:{s:I}, s:o}", "version", "9.9", "uptime_sec", 5.0,
		      "thp_mode", "madvise", "collapsed_bytes", (json_int_t)7, "budget", "rate",
		      (json_int_t)(2 * MiB), "pauses", p);
	assert_non_null(s);
	return s;
}

/* {"targets": [...]} of (pid, comm, collapsed_bytes) triples, anon 100 MiB, huge 50 MiB. */
static json_t *list_json(int n, ...)
{
	json_t *a = json_array();
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		json_int_t pid = va_arg(ap, int);
		const char *comm = va_arg(ap, const char *);
		json_int_t collapsed = va_arg(ap, long long);

		json_array_append_new(a,
				      json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:n}", "pid",
						pid, "comm", comm, "policy", "p", "state", "active",
						"anon_bytes", 100 * MiB, "huge_bytes", 50 * MiB,
						"collapsed_bytes", collapsed, "last_errno"));
	}
	va_end(ap);
	return json_pack("{s:o}", "targets", a);
}

static json_t *counters_json(json_int_t attempts, json_int_t collapsed, json_int_t ok,
			     json_int_t eagain)
{
	return json_pack("{s:{s:I, s:I, s:{s:I, s:I}}}", "counters", "attempts", attempts,
			 "collapsed_bytes", collapsed, "by_result", "ok", ok, "eagain", eagain);
}

static const struct top_target *target(const struct top_model *m, json_int_t pid)
{
	for (size_t i = 0; i < m->n_targets; i++)
		if (m->targets[i].pid == pid)
			return &m->targets[i];
	fail_msg("no target %lld", (long long)pid);
	return NULL;
}

static void update(struct top_model *m, json_t *status, json_t *list, json_t *counters,
		   uint64_t now)
{
	top_model_update(m, status, list, counters, now);
	json_decref(status);
	json_decref(list);
	json_decref(counters);
}

static void test_rates(void **state)
{
	struct top_model m = {0};
	(void)state;

	/* First sample: no rates yet. */
	update(&m, status_json("[]"), list_json(2, 10, "a", 0LL, 11, "b", 100LL),
	       counters_json(10, 0, 10, 0), 1 * S);
	assert_int_equal(m.n_targets, 2);
	assert_true(isnan(target(&m, 10)->collapse_rate));
	assert_true(isnan(m.attempts_rate));
	assert_true(m.have_counters);
	assert_string_equal(m.version, "9.9");
	assert_int_equal(m.budget_rate, 2 * MiB);
	assert_null(m.pauses);

	/* Two seconds later: 64 MiB collapsed is 32 MiB/s; pid 11 has another comm
	 * (another process); pid 12 is new. Listed out of pid order. */
	update(
	    &m,
	    status_json("[{\"reason\": \"operator\", \"remaining_sec\": null},"
			" {\"reason\": \"ebusy\", \"cgroup\": \"/a\", \"remaining_sec\": 12.0}]"),
	    list_json(3, 12, "n", 5LL, 10, "a", 64 * MiB, 11, "c", 200LL),
	    counters_json(30, 64 * MiB, 26, 4), 3 * S);
	assert_int_equal(m.n_targets, 3);
	assert_int_equal(m.targets[0].pid, 10); /* ordered by pid */
	assert_true(fabs(target(&m, 10)->collapse_rate - 32.0 * MiB) < 1);
	assert_true(isnan(target(&m, 11)->collapse_rate));
	assert_true(isnan(target(&m, 12)->collapse_rate));
	assert_true(fabs(m.attempts_rate - 10.0) < 1e-9);
	assert_true(fabs(m.bytes_rate - 32.0 * MiB) < 1);
	assert_true(fabs(m.result_rate[0] - 8.0) < 1e-9); /* ok: 16 in 2 s */
	assert_true(fabs(m.result_rate[1] - 2.0) < 1e-9); /* eagain: 4 in 2 s */
	assert_true(fabs(m.result_rate[2]) < 1e-9);	  /* enomem: none */
	assert_string_equal(m.pauses, "operator; ebusy /a in 12.0 s");

	/* Counters that went back (a restart of thpd) have no rate. */
	update(&m, status_json("[]"), list_json(1, 10, "a", 1LL), counters_json(3, 1, 3, 0), 4 * S);
	assert_true(isnan(target(&m, 10)->collapse_rate));
	assert_true(isnan(m.attempts_rate));

	/* Counters refused, then back: rates start over. */
	update(&m, status_json("[]"), list_json(1, 10, "a", 1LL), NULL, 5 * S);
	assert_false(m.have_counters);
	assert_true(fabs(target(&m, 10)->collapse_rate) < 1e-9);
	update(&m, status_json("[]"), list_json(1, 10, "a", 1LL), counters_json(5, 1, 5, 0), 6 * S);
	assert_true(m.have_counters);
	assert_true(isnan(m.attempts_rate));

	/* Cleared (disconnected): the next sample has no rates. */
	top_model_clear(&m);
	assert_int_equal(m.n_targets, 0);
	update(&m, status_json("[]"), list_json(1, 10, "a", 9LL), NULL, 7 * S);
	assert_true(isnan(target(&m, 10)->collapse_rate));
	top_model_clear(&m);
}

/* ---- sort orders ---- */

static struct top_target mk(json_int_t pid, json_int_t anon, json_int_t huge, double rate)
{
	return (struct top_target){.pid = pid,
				   .comm = (char *)"c",
				   .policy = (char *)"p",
				   .state = (char *)"active",
				   .anon_bytes = anon,
				   .huge_bytes = huge,
				   .collapse_rate = rate};
}

static void expect_order(const struct top_model *m, enum top_sort s, json_int_t a, json_int_t b,
			 json_int_t c)
{
	const struct top_target **rows = top_sorted(m, s);

	assert_int_equal(rows[0]->pid, a);
	assert_int_equal(rows[1]->pid, b);
	assert_int_equal(rows[2]->pid, c);
	free(rows);
}

static void test_sort(void **state)
{
	struct top_target t[] = {mk(1, 300, 0, NAN), mk(2, 200, 200, 10), mk(3, 100, 50, 10)};
	struct top_model m = {.targets = t, .n_targets = 3};
	(void)state;

	/* Activity: rate (a tie between 2 and 3), then huge bytes; unknown rates as 0. */
	expect_order(&m, TOP_SORT_ACTIVITY, 2, 3, 1);
	expect_order(&m, TOP_SORT_COVERAGE, 2, 3, 1);
	expect_order(&m, TOP_SORT_SIZE, 1, 2, 3);
	expect_order(&m, TOP_SORT_PID, 1, 2, 3);
	t[0].collapse_rate = 11;
	expect_order(&m, TOP_SORT_ACTIVITY, 1, 2, 3);
	/* No anonymous memory: last by coverage. */
	t[1].anon_bytes = 0;
	expect_order(&m, TOP_SORT_COVERAGE, 3, 1, 2);
}

/* ---- keys ---- */

static void expect_key(const char *in, int key, size_t used)
{
	size_t u = 0;

	assert_int_equal(top_key_decode(in, strlen(in), &u), key);
	assert_int_equal(u, used);
}

static void test_key_decode(void **state)
{
	(void)state;

	expect_key("q", 'q', 1);
	expect_key("jk", 'j', 1);
	expect_key("\033[A", TOP_KEY_UP, 3);
	expect_key("\033[Bq", TOP_KEY_DOWN, 3);
	expect_key("\033OA", TOP_KEY_UP, 3); /* application cursor keys */
	expect_key("\033OB", TOP_KEY_DOWN, 3);
	expect_key("\033[5~", TOP_KEY_PGUP, 4);
	expect_key("\033[6~", TOP_KEY_PGDN, 4);
	expect_key("\033[H", TOP_KEY_HOME, 3);
	expect_key("\033[1~", TOP_KEY_HOME, 4);
	expect_key("\033[F", TOP_KEY_END, 3);
	expect_key("\033[4~", TOP_KEY_END, 4);
	expect_key("\033[1;5A", TOP_KEY_UP, 6); /* Ctrl-Up */
	expect_key("\033[Z", TOP_KEY_UNKNOWN, 3);
	expect_key("\033[15~", TOP_KEY_UNKNOWN, 5); /* F5 */
	expect_key("\033", TOP_KEY_ESC, 1);
	expect_key("\033x", TOP_KEY_ESC, 1);
	expect_key("\033[", TOP_KEY_ESC, 1);
	expect_key("\033[1", TOP_KEY_ESC, 1); /* cut short: the rest are keys */
}

static void test_key_handle(void **state)
{
	struct top_target t[] = {mk(1, 300, 0, NAN), mk(2, 200, 200, 10), mk(3, 100, 50, 10)};
	struct top_model m = {.targets = t, .n_targets = 3}, empty = {0};
	struct top_view v = {.width = 120, .height = 40, .interactive = true, .sort = TOP_SORT_PID};
	(void)state;

	assert_int_equal(top_key_handle(&v, &m, 'j'), TOP_ACT_REDRAW);
	assert_int_equal(v.selected_pid, 2);
	top_key_handle(&v, &m, TOP_KEY_DOWN);
	top_key_handle(&v, &m, 'j'); /* clamped at the last row */
	assert_int_equal(v.selected_pid, 3);
	top_key_handle(&v, &m, 'k');
	assert_int_equal(v.selected_pid, 2);
	top_key_handle(&v, &m, 'g');
	assert_int_equal(v.selected_pid, 1);
	top_key_handle(&v, &m, TOP_KEY_END);
	assert_int_equal(v.selected_pid, 3);
	top_key_handle(&v, &m, TOP_KEY_PGUP);
	assert_int_equal(v.selected_pid, 1);
	assert_int_equal(top_key_handle(&v, &m, 'p'), TOP_ACT_PAUSE);
	assert_int_equal(v.selected_pid, 1);
	assert_int_equal(top_key_handle(&v, &m, 'r'), TOP_ACT_RESUME);
	assert_int_equal(top_key_handle(&v, &m, 'P'), TOP_ACT_PAUSE_ALL);
	assert_int_equal(top_key_handle(&v, &m, 'R'), TOP_ACT_RESUME_ALL);

	/* Sort orders cycle both ways. */
	top_key_handle(&v, &m, 's');
	assert_int_equal(v.sort, TOP_SORT_ACTIVITY);
	top_key_handle(&v, &m, 'S');
	assert_int_equal(v.sort, TOP_SORT_PID);
	top_key_handle(&v, &m, 'S');
	assert_int_equal(v.sort, TOP_SORT_SIZE);

	/* Help: any key closes it and does nothing else; q quits from anywhere. */
	top_key_handle(&v, &m, '?');
	assert_true(v.help);
	assert_int_equal(top_key_handle(&v, &m, 'p'), TOP_ACT_REDRAW);
	assert_false(v.help);
	assert_int_equal(top_key_handle(&v, &m, 'x'), TOP_ACT_NONE);
	top_key_handle(&v, &m, '?');
	assert_int_equal(top_key_handle(&v, &m, 'q'), TOP_ACT_QUIT);

	/* Nothing to pause: a message, no call. A key clears it. */
	v = (struct top_view){.width = 120, .height = 40, .interactive = true};
	assert_int_equal(top_key_handle(&v, &empty, 'p'), TOP_ACT_REDRAW);
	assert_string_equal(v.message, "no target to pause");
	assert_true(v.message_error);
	assert_int_equal(top_key_handle(&v, &empty, 'x'), TOP_ACT_REDRAW);
	assert_string_equal(v.message, "");
	assert_int_equal(top_key_handle(&v, &empty, 'j'), TOP_ACT_NONE);
}

/* ---- frames ---- */

/* Columns of a line without its SGR sequences; fails on any other control character. */
static int visible_cols(const char *s)
{
	mbstate_t st = {0};
	int n = 0;

	while (*s) {
		wchar_t wc;
		size_t len;

		if (*s == '\033') {
			assert_int_equal(s[1], '[');
			s += 2;
			while ((*s >= '0' && *s <= '9') || *s == ';')
				s++;
			assert_int_equal(*s, 'm');
			s++;
			continue;
		}
		len = mbrtowc(&wc, s, strlen(s), &st);
		assert_true(len > 0 && len <= 4);
		assert_true(wc >= 0x20 && !(wc >= 0x7f && wc < 0xa0));
		assert_true(wcwidth(wc) >= 1);
		n += wcwidth(wc);
		s += len;
	}
	return n;
}

/* The line of f that holds text, or NULL. */
static const char *find_line(const struct top_frame *f, const char *text)
{
	for (size_t i = 0; i < f->n; i++)
		if (strstr(f->lines[i], text))
			return f->lines[i];
	return NULL;
}

/* A comm with an escape sequence and a C1 CSI (U+009B); one wider than COMM. */
static const char *const comms[] = {"evil\033[2J\xc2\x9b", "worker", "worker",
				    "\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5"
				    "\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5"};

static struct top_model many_targets(size_t n)
{
	struct top_model m = {0};
	json_t *a = json_array(), *list;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(
		    a, json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:s?}", "pid",
				 (json_int_t)(100 + i), "comm", i < 4 ? comms[i] : "worker",
				 "policy", "a-very-long-policy-name", "state",
				 i == 1 ? "thp-disabled" : "active", "anon_bytes", 100 * MiB,
				 "huge_bytes", (json_int_t)(50 * MiB), "collapsed_bytes",
				 (json_int_t)(i * MiB), "last_errno", i == 2 ? "EAGAIN" : NULL));
	list = json_pack("{s:o}", "targets", a);
	update(&m, status_json("[]"), json_incref(list), counters_json(1, 0, 1, 0), 1 * S);
	/* The second sample, 0.25 s later: target i collapsed 8 MiB * (i + 1) more
	 * (32 MiB/s, 64 MiB/s, ...). */
	for (size_t i = 0; i < n; i++) {
		json_t *x = json_array_get(a, i);

		json_object_set_new(x, "collapsed_bytes",
				    json_integer((json_int_t)((i + 8 * (i + 1)) * MiB)));
	}
	update(&m, status_json("[]"), list, counters_json(9, 8 * MiB, 8, 1), 1 * S + S / 4);
	return m;
}

static void test_render_widths(void **state)
{
	struct top_model m = many_targets(4);
	struct top_frame f = {0};
	static const int widths[] = {1, 20, 40, 60, 80, 100, 120, 160, 250};
	(void)state;

	for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
		for (int color = 0; color <= 1; color++) {
			struct top_view v = {.width = widths[w],
					     .height = 30,
					     .interactive = true,
					     .color = color,
					     .interval_sec = 1,
					     .clock = "12:00:00"};

			top_render(&m, &v, &f);
			assert_int_equal(f.n, 30);
			for (size_t i = 0; i < f.n; i++) {
				assert_true(visible_cols(f.lines[i]) <= widths[w]);
				assert_int_equal(f.cols[i], visible_cols(f.lines[i]));
			}
		}
	}

	/* 160 columns: every column, a bar, the rate (16 MiB in 0.25 s). */
	struct top_view v = {.width = 160, .height = 30, .interval_sec = 1};

	top_render(&m, &v, &f);
	assert_non_null(find_line(&f, "POLICY"));
	assert_non_null(find_line(&f, "COVERAGE"));
	assert_non_null(find_line(&f, "LAST-ERRNO"));
	const char *row = find_line(&f, "  101  worker");

	assert_non_null(row);
	assert_non_null(strstr(row, "a-very-long-"));
	assert_non_null(strstr(row, "thp-disabled"));
	assert_non_null(strstr(row, "["
				    "#######################"
				    "........................]  50.0%"));
	assert_non_null(strstr(row, "64.0 MiB/s"));
	assert_non_null(strstr(find_line(&f, "  102  worker"), "EAGAIN"));
	/* The comm's escape sequence and C1 CSI are shown, not sent. */
	assert_non_null(find_line(&f, "  100  evil?[2J?    "));
	/* Cut to 15 columns: 7 characters of 2, the 8th left out. */
	assert_non_null(find_line(&f, "  103  \xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5"
				      "\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5   a-very"));
	assert_non_null(find_line(&f, "Results: 8 ok (+28.0/s), 1 eagain (+4.0/s)"));
	assert_non_null(find_line(&f, "Collapse rate: 32.0 MiB/s, 32.0 attempts/s"));
	assert_non_null(find_line(&f, "Targets: 4 (3 active, 1 thp-disabled)"));
	assert_non_null(find_line(&f, "Budget: 2.0 MiB/s"));
	assert_non_null(
	    find_line(&f, "thpd 9.9, up 5.0 s, THP madvise; every 1.0 s, sort: activity"));

	/* Colours: the bar's filled part green, states and errnos coloured. */
	v.color = true;
	top_render(&m, &v, &f);
	row = find_line(&f, "  101  worker");
	assert_non_null(row);
	assert_non_null(strstr(row, "[\033[32m#####"));
	assert_non_null(strstr(find_line(&f, "  102  worker"), "\033[1;31mEAGAIN"));

	/* 80 columns: no policy, no bar, but coverage and rate. */
	v.width = 80;
	v.color = false;
	top_render(&m, &v, &f);
	assert_null(find_line(&f, "POLICY"));
	assert_non_null(find_line(&f, "COVER%"));
	row = find_line(&f, "  101  worker");
	assert_non_null(row);
	assert_non_null(strstr(row, "50.0%"));
	assert_non_null(strstr(row, "64.0 MiB/s"));
	assert_null(strchr(row, '['));
	top_frame_clear(&f);
	top_model_clear(&m);
}

static void test_render_scroll(void **state)
{
	struct top_model m = many_targets(20);
	struct top_frame f = {0};
	struct top_view v = {.width = 120,
			     .height = 10,
			     .interactive = true,
			     .sort = TOP_SORT_PID,
			     .interval_sec = 1};
	(void)state;

	/* 4 rows fit (5 lines above, 1 below). */
	top_render(&m, &v, &f);
	assert_int_equal(f.n, 10);
	assert_non_null(strstr(f.lines[5], "  100  evil"));
	assert_non_null(strstr(f.lines[8], "  103  "));
	assert_non_null(strstr(f.lines[9], "q quit"));
	assert_non_null(strstr(f.lines[9], "rows 1-4 of 20"));
	/* The selected row is in reverse video, to the end of the line. */
	assert_true(strncmp(f.lines[5], "\033[7m", 4) == 0);
	assert_int_equal(f.cols[5], 120);

	/* The last row selected: scrolled to it. */
	top_key_handle(&v, &m, 'G');
	top_render(&m, &v, &f);
	assert_int_equal(v.selected_pid, 119);
	assert_non_null(strstr(f.lines[8], "  119  worker"));
	assert_non_null(strstr(f.lines[9], "rows 17-20 of 20"));

	/* The selection keeps its pid when the order changes. */
	top_key_handle(&v, &m, 'k');
	assert_int_equal(v.selected_pid, 118);
	v.sort = TOP_SORT_ACTIVITY; /* 119 collapsed fastest, then 118 */
	top_render(&m, &v, &f);
	assert_int_equal(v.selected_pid, 118);
	assert_int_equal(v.selected_row, 1);
	/* Scrolled up to it. */
	assert_true(strncmp(f.lines[5], "\033[7m", 4) == 0);
	assert_non_null(strstr(f.lines[5], "  118  worker"));

	/* A message replaces the key hints. */
	snprintf(v.message, sizeof(v.message), "no target with pid 7");
	v.message_error = true;
	top_render(&m, &v, &f);
	assert_non_null(strstr(f.lines[9], "no target with pid 7"));

	/* Help instead of rows. */
	v.help = true;
	top_render(&m, &v, &f);
	assert_int_equal(f.n, 10);
	assert_non_null(strstr(f.lines[5], "Keys:"));

	/* --batch: every row, no hints, no selection. */
	v = (struct top_view){.width = 0, .height = 0, .interval_sec = 1};
	top_render(&m, &v, &f);
	assert_int_equal(f.n, 5 + 20);
	assert_null(find_line(&f, "q quit"));
	assert_null(find_line(&f, "\033"));
	top_frame_clear(&f);
	top_model_clear(&m);
}

static void test_render_disconnected(void **state)
{
	struct top_model m = {0};
	struct top_frame f = {0};
	struct top_view v = {.width = 120,
			     .height = 12,
			     .interactive = true,
			     .interval_sec = 0.5,
			     .socket_path = "/run/x.sock",
			     .disconnected = "thpd is not running (no socket at /run/x.sock)"};
	(void)state;

	top_render(&m, &v, &f);
	assert_int_equal(f.n, 12);
	assert_non_null(strstr(f.lines[0], "thpd at /run/x.sock"));
	assert_non_null(strstr(f.lines[1], "disconnected, retrying every 500 ms: thpd is not "
					   "running (no socket at /run/x.sock)"));
	assert_non_null(strstr(f.lines[4], "PID"));
	for (size_t i = 5; i < 11; i++)
		assert_string_equal(f.lines[i], "");
	top_frame_clear(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bar),		  cmocka_unit_test(test_fmt_rate),
	    cmocka_unit_test(test_sort_names),	  cmocka_unit_test(test_rates),
	    cmocka_unit_test(test_sort),	  cmocka_unit_test(test_key_decode),
	    cmocka_unit_test(test_key_handle),	  cmocka_unit_test(test_render_widths),
	    cmocka_unit_test(test_render_scroll), cmocka_unit_test(test_render_disconnected),
	};

	/* Character widths as thpctl has them in a UTF-8 locale. */
	if (!setlocale(LC_CTYPE, "C.UTF-8")) {
		fprintf(stderr, "no C.UTF-8 locale\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
