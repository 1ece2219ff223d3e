/* SPDX-License-Identifier: MIT */
/* thpctl top: the model (samples and rates), sort orders, keys. Pure. */
#include "top.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "protocol.h"
#include "util.h"
#include "xalloc.h"

const char *const top_results[TOP_N_RESULTS] = {"ok",	  "eagain", "enomem", "unmapped", "ebusy",
						"einval", "gone",   "denied", "other"};

static const char *const sort_names[TOP_N_SORTS] = {"activity", "coverage", "size", "pid"};

const char *top_sort_name(enum top_sort s)
{
	return s < TOP_N_SORTS ? sort_names[s] : "?";
}

int top_sort_parse(const char *s, enum top_sort *ret)
{
	for (size_t i = 0; i < TOP_N_SORTS; i++)
		if (streq(s, sort_names[i])) {
			*ret = (enum top_sort)i;
			return 0;
		}
	return -EINVAL;
}

/* ---- samples ---- */

static void target_free(struct top_target *t)
{
	free(t->comm);
	free(t->policy);
	free(t->state);
	free(t->last_errno);
}

static void free_targets(struct top_model *m)
{
	for (size_t i = 0; i < m->n_targets; i++)
		target_free(&m->targets[i]);
	free(m->targets);
	m->targets = NULL;
	m->n_targets = 0;
}

void top_model_clear(struct top_model *m)
{
	free_targets(m);
	free(m->version);
	free(m->thp_mode);
	free(m->pauses);
	*m = (struct top_model){0};
}

static int cmp_target_pid(const void *a, const void *b)
{
	json_int_t x = ((const struct top_target *)a)->pid, y = ((const struct top_target *)b)->pid;

	return (x > y) - (x < y);
}

static const struct top_target *find_target(const struct top_model *m, json_int_t pid)
{
	struct top_target key = {.pid = pid};

	if (!m->n_targets)
		return NULL;
	return bsearch(&key, m->targets, m->n_targets, sizeof(key), cmp_target_pid);
}

/* The change of a counter per second, NAN when it went back (a restart). */
static double per_sec(json_int_t now, json_int_t before, double dt)
{
	return dt > 0 && now >= before ? (double)(now - before) / dt : NAN;
}

static void read_targets(struct top_model *m, const json_t *list, const struct top_model *prev,
			 double dt)
{
	json_t *a = jget_array(list, "targets"), *x;
	size_t i;

	m->targets = xcalloc(json_array_size(a), sizeof(*m->targets));
	json_array_foreach(a, i, x)
	{
		struct top_target *t = &m->targets[m->n_targets++];
		const char *err = jget_str(x, "last_errno");
		const struct top_target *old;

		t->pid = jget_int(x, "pid");
		t->comm = xstrdup(jget_str_or(x, "comm", "-"));
		t->policy = xstrdup(jget_str_or(x, "policy", "-"));
		t->state = xstrdup(jget_str_or(x, "state", "-"));
		t->last_errno = err ? xstrdup(err) : NULL;
		t->anon_bytes = jget_int(x, "anon_bytes");
		t->huge_bytes = jget_int(x, "huge_bytes");
		t->collapsed_bytes = jget_int(x, "collapsed_bytes");
		old = find_target(prev, t->pid);
		/* Another comm under the same pid: another process. */
		t->collapse_rate = old && streq(old->comm, t->comm)
				       ? per_sec(t->collapsed_bytes, old->collapsed_bytes, dt)
				       : NAN;
	}
	qsort(m->targets, m->n_targets, sizeof(*m->targets), cmp_target_pid);
}

static void read_counters(struct top_model *m, const json_t *counters, const struct top_model *prev,
			  double dt)
{
	const json_t *k = jget_obj(counters, "counters"), *by = jget_obj(k, "by_result");
	bool rates = prev->have_counters;

	m->have_counters = k != NULL;
	m->attempts = jget_int(k, "attempts");
	m->collapsed_bytes = jget_int(k, "collapsed_bytes");
	m->attempts_rate = rates ? per_sec(m->attempts, prev->attempts, dt) : NAN;
	m->bytes_rate = rates ? per_sec(m->collapsed_bytes, prev->collapsed_bytes, dt) : NAN;
	for (size_t i = 0; i < TOP_N_RESULTS; i++) {
		m->by_result[i] = jget_int(by, top_results[i]);
		m->result_rate[i] = rates ? per_sec(m->by_result[i], prev->by_result[i], dt) : NAN;
	}
}

/* "operator; ebusy /sys/a (in 12.0 s)" from GetStatus' pauses; NULL if none. */
static char *read_pauses(const json_t *status)
{
	json_t *a = jget_array(status, "pauses"), *x;
	char *s = NULL;
	size_t i;

	json_array_foreach(a, i, x)
	{
		const json_t *rem = json_object_get(x, "remaining_sec");
		const char *cg = jget_str(x, "cgroup");
		char d[FMT_BUF] = "", *next;

		if (json_is_number(rem))
			fmt_relative(json_number_value(rem), d, sizeof(d));
		next = xasprintf("%s%s%s%s%s%s%s", s ? s : "", s ? "; " : "",
				 jget_str_or(x, "reason", "?"), cg ? " " : "", cg ? cg : "",
				 *d ? " " : "", *d ? d : "");
		free(s);
		s = next;
	}
	return s;
}

void top_model_update(struct top_model *m, const json_t *status, const json_t *list,
		      const json_t *counters, uint64_t now)
{
	struct top_model next = {.sampled_usec = now};
	double dt =
	    m->sampled_usec && now > m->sampled_usec ? (double)(now - m->sampled_usec) / 1e6 : 0;

	next.version = xstrdup(jget_str_or(status, "version", "?"));
	next.thp_mode = xstrdup(jget_str_or(status, "thp_mode", "?"));
	next.uptime_sec = jget_real(status, "uptime_sec");
	next.budget_rate = jget_int(jget_obj(status, "budget"), "rate");
	next.status_collapsed = jget_int(status, "collapsed_bytes");
	next.pauses = read_pauses(status);
	read_targets(&next, list, m, dt);
	read_counters(&next, counters, m, dt);
	top_model_clear(m);
	*m = next;
}

/* ---- sort orders ---- */

static double rate_or_0(const struct top_target *t)
{
	return isnan(t->collapse_rate) ? 0 : t->collapse_rate;
}

/* Huge share of anonymous memory; -1 (last) without anonymous memory. */
static double coverage(const struct top_target *t)
{
	return t->anon_bytes > 0 ? (double)t->huge_bytes / (double)t->anon_bytes : -1;
}

#define CMP_DESC(x, y) (((x) < (y)) - ((x) > (y)))
#define CMP_ASC(x, y)  (((x) > (y)) - ((x) < (y)))

static int cmp_pid(const void *a, const void *b)
{
	const struct top_target *x = *(const struct top_target *const *)a,
				*y = *(const struct top_target *const *)b;

	return CMP_ASC(x->pid, y->pid);
}

static int cmp_size(const void *a, const void *b)
{
	const struct top_target *x = *(const struct top_target *const *)a,
				*y = *(const struct top_target *const *)b;
	int r = CMP_DESC(x->anon_bytes, y->anon_bytes);

	return r ? r : cmp_pid(a, b);
}

static int cmp_coverage(const void *a, const void *b)
{
	const struct top_target *x = *(const struct top_target *const *)a,
				*y = *(const struct top_target *const *)b;
	int r = CMP_DESC(coverage(x), coverage(y));

	return r ? r : cmp_size(a, b);
}

static int cmp_activity(const void *a, const void *b)
{
	const struct top_target *x = *(const struct top_target *const *)a,
				*y = *(const struct top_target *const *)b;
	int r = CMP_DESC(rate_or_0(x), rate_or_0(y));

	if (!r)
		r = CMP_DESC(x->huge_bytes, y->huge_bytes);
	return r ? r : cmp_pid(a, b);
}

const struct top_target **top_sorted(const struct top_model *m, enum top_sort s)
{
	static int (*const cmp[TOP_N_SORTS])(const void *, const void *) = {
	    [TOP_SORT_ACTIVITY] = cmp_activity,
	    [TOP_SORT_COVERAGE] = cmp_coverage,
	    [TOP_SORT_SIZE] = cmp_size,
	    [TOP_SORT_PID] = cmp_pid,
	};
	const struct top_target **rows = xcalloc(m->n_targets, sizeof(*rows));

	for (size_t i = 0; i < m->n_targets; i++)
		rows[i] = &m->targets[i];
	qsort(rows, m->n_targets, sizeof(*rows), cmp[s < TOP_N_SORTS ? s : TOP_SORT_PID]);
	return rows;
}

/* ---- keys ---- */

/* The key of a CSI or SS3 sequence's final byte and first parameter. */
static int sequence_key(char final, int param)
{
	switch (final) {
	case 'A':
		return TOP_KEY_UP;
	case 'B':
		return TOP_KEY_DOWN;
	case 'H':
		return TOP_KEY_HOME;
	case 'F':
		return TOP_KEY_END;
	case '~':
		switch (param) {
		case 1:
		case 7:
			return TOP_KEY_HOME;
		case 4:
		case 8:
			return TOP_KEY_END;
		case 5:
			return TOP_KEY_PGUP;
		case 6:
			return TOP_KEY_PGDN;
		}
		break;
	}
	return TOP_KEY_UNKNOWN;
}

int top_key_decode(const char *buf, size_t len, size_t *used)
{
	size_t i;
	int param = 0;
	bool in_param = true;

	*used = 1;
	if ((unsigned char)buf[0] != 0x1b)
		return (unsigned char)buf[0];
	if (len < 3 || (buf[1] != '[' && buf[1] != 'O'))
		return TOP_KEY_ESC;
	/* Parameters (digits and ';'), then a final byte 0x40..0x7e. */
	for (i = 2; i < len; i++) {
		unsigned char ch = (unsigned char)buf[i];

		if (ch >= '0' && ch <= '9') {
			if (in_param && param < 1000)
				param = param * 10 + (ch - '0');
		} else if (ch == ';') {
			in_param = false; /* modifiers ("1;5A", Ctrl-Up): the key is the same */
		} else if (ch >= 0x40 && ch <= 0x7e) {
			*used = i + 1;
			return sequence_key((char)ch, param);
		} else {
			break;
		}
	}
	/* Not a sequence in one piece: a lone ESC, the rest are keys of their own. */
	return TOP_KEY_ESC;
}

/* Move the selection by delta rows in the current order, clamped. */
static enum top_action select_move(struct top_view *v, const struct top_model *m, long delta)
{
	const struct top_target **rows;
	size_t n = m->n_targets, at;
	long to;

	if (n == 0)
		return TOP_ACT_NONE;
	/* The selected pid's row, else (it went away) the row it was in. */
	at = MIN(v->selected_row, n - 1);
	rows = top_sorted(m, v->sort);
	for (size_t i = 0; i < n; i++)
		if (rows[i]->pid == v->selected_pid)
			at = i;
	to = (long)at + delta;
	to = to < 0 ? 0 : to >= (long)n ? (long)n - 1 : to;
	v->selected_row = (size_t)to;
	v->selected_pid = rows[to]->pid;
	free(rows);
	return TOP_ACT_REDRAW;
}

/* Rows the table shows (see top_render: 5 lines above it, 1 below). */
static long page_rows(const struct top_view *v)
{
	return v->height > 7 ? v->height - 6 : 1;
}

static enum top_action steer(struct top_view *v, const struct top_model *m, enum top_action a)
{
	if (a == TOP_ACT_PAUSE || a == TOP_ACT_RESUME) {
		select_move(v, m, 0); /* a pid that is still there */
		if (m->n_targets == 0) {
			snprintf(v->message, sizeof(v->message), "no target to %s",
				 a == TOP_ACT_PAUSE ? "pause" : "resume");
			v->message_error = true;
			return TOP_ACT_REDRAW;
		}
	}
	return a;
}

enum top_action top_key_handle(struct top_view *v, const struct top_model *m, int key)
{
	bool had_message = v->message[0] != '\0';

	v->message[0] = '\0';
	v->message_error = false;
	if (key == 'q' || key == 'Q')
		return TOP_ACT_QUIT;
	if (v->help) {
		v->help = false;
		return TOP_ACT_REDRAW;
	}
	switch (key) {
	case '?':
	case 'h':
		v->help = true;
		return TOP_ACT_REDRAW;
	case 's':
		v->sort = (v->sort + 1) % TOP_N_SORTS;
		return TOP_ACT_REDRAW;
	case 'S':
		v->sort = (v->sort + TOP_N_SORTS - 1) % TOP_N_SORTS;
		return TOP_ACT_REDRAW;
	case 'j':
	case TOP_KEY_DOWN:
		return select_move(v, m, 1);
	case 'k':
	case TOP_KEY_UP:
		return select_move(v, m, -1);
	case TOP_KEY_PGDN:
		return select_move(v, m, page_rows(v));
	case TOP_KEY_PGUP:
		return select_move(v, m, -page_rows(v));
	case 'g':
	case TOP_KEY_HOME:
		return select_move(v, m, -(long)m->n_targets);
	case 'G':
	case TOP_KEY_END:
		return select_move(v, m, (long)m->n_targets);
	case 'p':
		return steer(v, m, TOP_ACT_PAUSE);
	case 'r':
		return steer(v, m, TOP_ACT_RESUME);
	case 'P':
		return TOP_ACT_PAUSE_ALL;
	case 'R':
		return TOP_ACT_RESUME_ALL;
	}
	return had_message ? TOP_ACT_REDRAW : TOP_ACT_NONE;
}
