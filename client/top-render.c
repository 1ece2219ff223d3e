/* SPDX-License-Identifier: MIT */
/* thpctl top: a frame of the model as lines of at most the terminal's width. Pure. */
#include "top.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "format.h"
#include "protocol.h"
#include "util.h"
#include "xalloc.h"

#define SGR_OFF	    "\033[0m"
#define SGR_BOLD    "\033[1m"
#define SGR_REVERSE "\033[7m"
#define SGR_RED	    "\033[1;31m"
#define SGR_GREEN   "\033[32m"
#define SGR_YELLOW  "\033[33m"
#define SGR_DIM	    "\033[2m"

/* Lines above the table (title, 3 of totals, column titles) and below it (hints). */
#define HEAD_LINES 5
#define FOOT_LINES 1

/* Column widths; 2 spaces between columns. */
#define W_PID	 7
#define W_COMM	 15 /* TASK_COMM_LEN - 1 */
#define W_POLICY 12
#define W_STATE	 12 /* thp-disabled */
#define W_SIZE	 10
#define W_PCT	 6  /* 100.0% */
#define W_RATE	 12 /* 1023.9 MiB/s */
#define W_ERRNO	 10
#define GAP	 2
#define BAR_MIN	 12
#define BAR_MAX	 50

/* ---- a line under construction ---- */

struct line {
	char *s;
	size_t len, cap;
	int cols, max;
	bool color, sgr_used;
	bool keep_spaces; /* a selected row: its colour to the end */
};

static void line_bytes(struct line *l, const char *b, size_t n)
{
	xgrow((void **)&l->s, &l->cap, l->len + n + 1, 1);
	memcpy(l->s + l->len, b, n);
	l->len += n;
	l->s[l->len] = '\0';
}

static void line_sgr(struct line *l, const char *sgr)
{
	if (!l->color)
		return;
	line_bytes(l, sgr, strlen(sgr));
	l->sgr_used = true;
}

/*
 * The character at s (left bytes): its length in bytes, and its width in
 * columns in *w; *bad when it is to be shown as '?' (a control character,
 * an undecodable byte, a character of no width known).
 */
static size_t next_char(const char *s, size_t left, mbstate_t *st, int *w, bool *bad)
{
	wchar_t wc;
	size_t n = mbrtowc(&wc, s, left, st);

	*bad = false;
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		memset(st, 0, sizeof(*st));
		*bad = true;
		*w = 1;
		return 1;
	}
	*w = wcwidth(wc);
	if (wc < 0x20 || (wc >= 0x7f && wc < 0xa0) || *w < 0) {
		*bad = true;
		*w = 1;
	}
	return n;
}

/* Columns s takes as line_put() shows it, cut to max. */
static int text_cols_max(const char *s, int max)
{
	mbstate_t st = {0};
	size_t left = strlen(s);
	int cols = 0, w;
	bool bad;

	while (left > 0) {
		size_t n = next_char(s, left, &st, &w, &bad);

		if (cols + w > max)
			break;
		cols += w;
		s += n;
		left -= n;
	}
	return cols;
}

static int text_cols(const char *s)
{
	return text_cols_max(s, INT_MAX);
}

/* Append s, at most cols columns and what is left of the line. */
static void line_put(struct line *l, const char *s, int cols)
{
	mbstate_t st = {0};
	size_t left = strlen(s);
	int w;
	bool bad;

	cols = MIN(cols, l->max - l->cols);
	while (left > 0) {
		size_t n = next_char(s, left, &st, &w, &bad);

		if (w > cols)
			break;
		if (bad)
			line_bytes(l, "?", 1);
		else
			line_bytes(l, s, n);
		l->cols += w;
		cols -= w;
		s += n;
		left -= n;
	}
}

static void line_text(struct line *l, const char *s)
{
	line_put(l, s, INT_MAX);
}

static void line_pad(struct line *l, int n)
{
	for (; n > 0 && l->cols < l->max; n--) {
		line_bytes(l, " ", 1);
		l->cols++;
	}
}

/* s in a column of width: cut or padded, aligned left or right. */
static void line_field(struct line *l, const char *s, int width, bool right)
{
	int pad = width - text_cols_max(s, width);

	if (right)
		line_pad(l, pad);
	line_put(l, s, width);
	if (!right)
		line_pad(l, pad);
}

static void __attribute__((format(printf, 2, 3))) line_printf(struct line *l, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	line_text(l, s);
	free(s);
}

static struct line line_new(const struct top_view *v)
{
	return (struct line){.max = v->width > 0 ? v->width : INT_MAX, .color = v->color};
}

/* Add l to f, without trailing spaces; the colours end with the line. */
static void frame_add(struct top_frame *f, struct line *l)
{
	while (!l->keep_spaces && l->len > 0 && l->s[l->len - 1] == ' ') {
		l->s[--l->len] = '\0';
		l->cols--;
	}
	if (l->sgr_used)
		line_bytes(l, SGR_OFF, strlen(SGR_OFF));
	if (!l->s)
		line_bytes(l, "", 0);
	xgrow((void **)&f->lines, &f->cap, f->n + 1, sizeof(*f->lines));
	f->cols = realloc(f->cols, f->cap * sizeof(*f->cols));
	if (!f->cols)
		oom();
	f->cols[f->n] = l->cols;
	f->lines[f->n++] = l->s;
}

void top_frame_clear(struct top_frame *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->lines[i]);
	free(f->lines);
	free(f->cols);
	*f = (struct top_frame){0};
}

/* ---- values ---- */

const char *top_bar(char *buf, json_int_t part, json_int_t whole, int width)
{
	int inner = MAX(width, 3) - 2, fill = 0;

	if (whole > 0 && part >= whole)
		fill = inner;
	else if (whole > 0 && part > 0)
		fill = (int)((double)part / (double)whole * inner);
	buf[0] = '[';
	for (int i = 0; i < inner; i++)
		buf[1 + i] = i < fill ? '#' : '.';
	buf[inner + 1] = ']';
	buf[inner + 2] = '\0';
	return buf;
}

const char *top_fmt_rate(double bytes_per_sec, char *buf, size_t len)
{
	char s[FMT_BUF];

	if (isnan(bytes_per_sec))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%s/s", fmt_size(llround(MAX(bytes_per_sec, 0)), s, sizeof(s)));
	return buf;
}

static const char *state_sgr(const char *s)
{
	if (streq(s, THPD_TARGET_ACTIVE))
		return SGR_GREEN;
	if (streq(s, THPD_TARGET_PAUSED))
		return SGR_YELLOW;
	if (streq(s, THPD_TARGET_DENIED))
		return SGR_RED;
	return SGR_DIM;
}

/* ---- the layout of a row: what fits in the width ---- */

struct layout {
	bool policy, anon, last_errno;
	int bar; /* 0: none */
};

static struct layout layout_for(int width)
{
	struct layout y = {.policy = true, .anon = true, .last_errno = true};
	int need = W_PID + GAP + W_COMM + GAP + W_POLICY + GAP + W_STATE + GAP + W_SIZE + GAP +
		   W_SIZE + GAP + W_PCT + GAP + W_RATE + GAP + W_ERRNO;

	if (width <= 0)
		width = INT_MAX / 2;
	/* Narrow terminals lose POLICY, then ANON, then LAST-ERRNO. */
	if (need + 1 + BAR_MIN > width) {
		y.policy = false;
		need -= W_POLICY + GAP;
	}
	if (need + 1 + BAR_MIN > width) {
		y.anon = false;
		need -= W_SIZE + GAP;
	}
	if (need + 1 + BAR_MIN > width) {
		y.last_errno = false;
		need -= W_ERRNO + GAP;
	}
	if (need + 1 + BAR_MIN <= width)
		y.bar = MIN(width - need - 1, BAR_MAX);
	return y;
}

static void render_columns(struct line *l, const struct layout *y)
{
	line_sgr(l, SGR_BOLD);
	line_field(l, "PID", W_PID, true);
	line_pad(l, GAP);
	line_field(l, "COMM", W_COMM, false);
	line_pad(l, GAP);
	if (y->policy) {
		line_field(l, "POLICY", W_POLICY, false);
		line_pad(l, GAP);
	}
	line_field(l, "STATE", W_STATE, false);
	line_pad(l, GAP);
	if (y->anon) {
		line_field(l, "ANON", W_SIZE, true);
		line_pad(l, GAP);
	}
	line_field(l, "HUGE", W_SIZE, true);
	line_pad(l, GAP);
	if (y->bar)
		line_field(l, "COVERAGE", y->bar + 1 + W_PCT, false);
	else
		line_field(l, "COVER%", W_PCT, true);
	line_pad(l, GAP);
	line_field(l, "RATE", W_RATE, true);
	if (y->last_errno) {
		line_pad(l, GAP);
		line_field(l, "LAST-ERRNO", W_ERRNO, false);
	}
}

/* The bar with its filled part in green. */
static void render_bar(struct line *l, const struct top_target *t, int width)
{
	char bar[BAR_MAX + 1], *p = bar + 1;
	size_t fill;

	top_bar(bar, t->huge_bytes, t->anon_bytes, width);
	fill = strspn(p, "#");
	line_put(l, "[", 1);
	line_sgr(l, SGR_GREEN);
	line_put(l, p, (int)fill);
	line_sgr(l, SGR_OFF);
	line_text(l, p + fill);
}

static void render_row(struct line *l, const struct layout *y, const struct top_target *t,
		       bool selected)
{
	char a[FMT_BUF];

	if (selected) {
		/* One colour for the whole row: the selection's. */
		line_bytes(l, SGR_REVERSE, strlen(SGR_REVERSE));
		l->color = false;
		l->sgr_used = true;
		l->keep_spaces = true;
	}
	snprintf(a, sizeof(a), "%lld", (long long)t->pid);
	line_field(l, a, W_PID, true);
	line_pad(l, GAP);
	line_field(l, t->comm, W_COMM, false);
	line_pad(l, GAP);
	if (y->policy) {
		line_field(l, t->policy, W_POLICY, false);
		line_pad(l, GAP);
	}
	line_sgr(l, state_sgr(t->state));
	line_field(l, t->state, W_STATE, false);
	line_sgr(l, SGR_OFF);
	line_pad(l, GAP);
	if (y->anon) {
		line_field(l, fmt_size(t->anon_bytes, a, sizeof(a)), W_SIZE, true);
		line_pad(l, GAP);
	}
	line_field(l, fmt_size(t->huge_bytes, a, sizeof(a)), W_SIZE, true);
	line_pad(l, GAP);
	if (y->bar) {
		render_bar(l, t, y->bar);
		line_pad(l, 1);
	}
	line_field(l, fmt_share(t->huge_bytes, t->anon_bytes, a, sizeof(a)), W_PCT, true);
	line_pad(l, GAP);
	line_field(l, top_fmt_rate(t->collapse_rate, a, sizeof(a)), W_RATE, true);
	if (y->last_errno) {
		line_pad(l, GAP);
		line_sgr(l, t->last_errno ? SGR_RED : SGR_OFF);
		line_field(l, t->last_errno ? t->last_errno : "-", W_ERRNO, false);
		line_sgr(l, SGR_OFF);
	}
	if (selected)
		line_pad(l, l->max - l->cols);
}

/* ---- the header ---- */

static void render_title(const struct top_model *m, const struct top_view *v, struct top_frame *f)
{
	struct line l = line_new(v);
	char a[FMT_BUF];

	line_sgr(&l, SGR_BOLD);
	if (v->disconnected)
		line_printf(&l, "thpd at %s", v->socket_path ? v->socket_path : "?");
	else
		line_printf(&l, "thpd %s, up %s, THP %s", m->version ? m->version : "?",
			    fmt_seconds(m->uptime_sec, a, sizeof(a)),
			    m->thp_mode ? m->thp_mode : "?");
	line_sgr(&l, SGR_OFF);
	line_printf(&l, "; every %s, sort: %s", fmt_seconds(v->interval_sec, a, sizeof(a)),
		    top_sort_name(v->sort));
	if (v->clock) {
		int room = l.max - l.cols - text_cols(v->clock);

		/* Right-aligned on a terminal, after the rest otherwise. */
		if (room >= GAP)
			line_pad(&l, v->width > 0 ? room : GAP);
		if (room >= GAP)
			line_text(&l, v->clock);
	}
	frame_add(f, &l);
}

static const char *const state_names[] = {THPD_TARGET_ACTIVE, THPD_TARGET_PAUSED,
					  THPD_TARGET_DENIED, THPD_TARGET_THP_DISABLED};

/* "Targets: 3 (2 active, 1 paused)  Anon: ...  Huge: ... (60.0%)  Collapsing: on" */
static void render_summary(const struct top_model *m, const struct top_view *v, struct top_frame *f)
{
	size_t by_state[ARRAY_SIZE(state_names) + 1] = {0}, shown = 0;
	json_int_t anon = 0, huge = 0;
	struct line l = line_new(v);
	char a[FMT_BUF], b[FMT_BUF], c[FMT_BUF];

	for (size_t i = 0; i < m->n_targets; i++) {
		size_t k = 0;

		while (k < ARRAY_SIZE(state_names) && !streq(m->targets[i].state, state_names[k]))
			k++;
		by_state[k]++;
		anon += m->targets[i].anon_bytes;
		huge += m->targets[i].huge_bytes;
	}
	line_printf(&l, "Targets: %zu", m->n_targets);
	for (size_t k = 0; k <= ARRAY_SIZE(state_names); k++) {
		if (!by_state[k])
			continue;
		line_printf(&l, "%s%zu %s", shown++ ? ", " : " (", by_state[k],
			    k < ARRAY_SIZE(state_names) ? state_names[k] : "other");
	}
	if (shown)
		line_text(&l, ")");
	line_printf(&l, "  Anon: %s  Huge: %s (%s)  Collapsing: ", fmt_size(anon, a, sizeof(a)),
		    fmt_size(huge, b, sizeof(b)), fmt_share(huge, anon, c, sizeof(c)));
	if (m->pauses) {
		line_sgr(&l, SGR_YELLOW);
		line_printf(&l, "PAUSED (%s)", m->pauses);
		line_sgr(&l, SGR_OFF);
	} else {
		line_text(&l, "on");
	}
	frame_add(f, &l);
}

/* "Collapse rate: 32.0 MiB/s, 16.0 attempts/s  Collapsed: 1.2 GiB  Budget: 2.0 GiB/s" */
static void render_rates(const struct top_model *m, const struct top_view *v, struct top_frame *f)
{
	struct line l = line_new(v);
	char a[FMT_BUF], b[FMT_BUF];
	double sum = NAN;

	for (size_t i = 0; i < m->n_targets; i++)
		if (!isnan(m->targets[i].collapse_rate))
			sum = (isnan(sum) ? 0 : sum) + m->targets[i].collapse_rate;
	if (m->have_counters) {
		if (isnan(m->attempts_rate))
			snprintf(b, sizeof(b), "-");
		else
			snprintf(b, sizeof(b), "%.1f", m->attempts_rate);
		line_printf(&l, "Collapse rate: %s, %s attempts/s",
			    top_fmt_rate(m->bytes_rate, a, sizeof(a)), b);
	} else {
		line_printf(&l, "Collapse rate: %s (of the targets shown)",
			    top_fmt_rate(sum, a, sizeof(a)));
	}
	line_printf(
	    &l, "  Collapsed: %s",
	    fmt_size(m->have_counters ? m->collapsed_bytes : m->status_collapsed, a, sizeof(a)));
	line_printf(&l, "  Budget: %s", fmt_rate(m->budget_rate, a, sizeof(a)));
	frame_add(f, &l);
}

/* "Results: 600 ok (+16.0/s), 3 eagain (+1.0/s), 2 einval": attempts by errno. */
static void render_results(const struct top_model *m, const struct top_view *v, struct top_frame *f)
{
	struct line l = line_new(v);
	bool any = false;

	line_text(&l, "Results:");
	if (!m->have_counters) {
		line_text(&l, " not shown (GetCounters needs root or group thpd)");
		frame_add(f, &l);
		return;
	}
	for (size_t i = 0; i < TOP_N_RESULTS; i++) {
		double rate = m->result_rate[i];
		bool moving = !isnan(rate) && rate > 0;

		if (m->by_result[i] == 0)
			continue;
		line_text(&l, any ? ", " : " ");
		any = true;
		if (i > 0)
			line_sgr(&l, moving ? SGR_RED : SGR_YELLOW);
		line_printf(&l, "%lld %s", (long long)m->by_result[i], top_results[i]);
		if (moving)
			line_printf(&l, " (+%.1f/s)", rate);
		line_sgr(&l, SGR_OFF);
	}
	if (!any)
		line_text(&l, " no attempts yet");
	frame_add(f, &l);
}

static void render_disconnected(const struct top_view *v, struct top_frame *f)
{
	struct line l = line_new(v), empty = line_new(v), empty2 = line_new(v);
	char a[FMT_BUF];

	line_sgr(&l, SGR_RED);
	line_printf(&l, "disconnected, retrying every %s: %s",
		    fmt_seconds(v->interval_sec, a, sizeof(a)), v->disconnected);
	frame_add(f, &l);
	frame_add(f, &empty);
	frame_add(f, &empty2);
}

/* ---- the help, the last line ---- */

static const char *const help_text[] = {
    "Keys:",
    "  q, Ctrl-C          quit",
    "  j, k, Up, Down     select a target (PgUp, PgDn, Home, End, g, G)",
    "  s, S               next, previous sort order: activity, coverage, size, pid",
    "  p, r               pause, resume collapsing of the selected target",
    "  P, R               pause, resume the whole daemon (root or group thpd)",
    "  ?                  this help; any key closes it",
    "",
    "Columns:",
    "  ANON, HUGE         anonymous memory, and of it in huge pages",
    "  COVERAGE           HUGE as a share of ANON",
    "  RATE               bytes thpd collapsed per second since the last refresh",
    "  LAST-ERRNO         the error of the target's last failed collapse",
    "Activity order: RATE, then HUGE. Results: attempts by result since thpd started.",
};

static void render_help(const struct top_view *v, struct top_frame *f, size_t max)
{
	for (size_t i = 0; i < ARRAY_SIZE(help_text) && i < max; i++) {
		struct line l = line_new(v);

		line_text(&l, help_text[i]);
		frame_add(f, &l);
	}
}

static void render_status(const struct top_view *v, struct top_frame *f, size_t n, size_t vis)
{
	struct line l = line_new(v);
	char right[FMT_BUF] = "";

	if (v->message[0]) {
		line_sgr(&l, v->message_error ? SGR_RED : SGR_BOLD);
		line_text(&l, v->message);
		line_sgr(&l, SGR_OFF);
	} else {
		line_text(&l, "q quit  j/k select  s sort  p/r pause/resume target  P/R daemon  "
			      "? help");
	}
	if (n > vis && !v->help)
		snprintf(right, sizeof(right), "rows %zu-%zu of %zu", vis ? v->scroll + 1 : 0,
			 v->scroll + vis, n);
	if (*right && l.max - l.cols - text_cols(right) >= GAP) {
		line_pad(&l, l.max - l.cols - text_cols(right));
		line_text(&l, right);
	}
	frame_add(f, &l);
}

/* ---- the frame ---- */

/* The selected pid's row, else (it went away) the row it was in; and in sight. */
static void place_selection(struct top_view *v, const struct top_target **rows, size_t n,
			    size_t vis)
{
	size_t i = 0;

	while (i < n && rows[i]->pid != v->selected_pid)
		i++;
	if (i < n)
		v->selected_row = i;
	else if (n > 0)
		v->selected_row = MIN(v->selected_row, n - 1);
	else
		v->selected_row = 0;
	v->selected_pid = n > 0 ? rows[v->selected_row]->pid : 0;
	if (v->selected_row < v->scroll)
		v->scroll = v->selected_row;
	if (vis && v->selected_row >= v->scroll + vis)
		v->scroll = v->selected_row - vis + 1;
	if (v->scroll + vis > n)
		v->scroll = n > vis ? n - vis : 0;
}

void top_render(const struct top_model *m, struct top_view *v, struct top_frame *f)
{
	const struct top_target **rows = top_sorted(m, v->sort);
	struct layout y = layout_for(v->width);
	size_t n = v->disconnected ? 0 : m->n_targets, vis = n;
	struct line cols = line_new(v);

	top_frame_clear(f);
	if (v->height > 0)
		vis = v->height > HEAD_LINES + FOOT_LINES
			  ? (size_t)v->height - HEAD_LINES - FOOT_LINES
			  : 0;
	if (v->interactive)
		place_selection(v, rows, n, vis);
	else
		v->scroll = 0;
	vis = MIN(vis, n - v->scroll);
	render_title(m, v, f);
	if (v->disconnected) {
		render_disconnected(v, f);
	} else {
		render_summary(m, v, f);
		render_rates(m, v, f);
		render_results(m, v, f);
	}
	render_columns(&cols, &y);
	frame_add(f, &cols);
	if (v->help && v->height > 0) {
		render_help(v, f,
			    (size_t)v->height - MIN((size_t)v->height, HEAD_LINES + FOOT_LINES));
	} else {
		for (size_t i = v->scroll; i < v->scroll + vis; i++) {
			struct line l = line_new(v);

			render_row(&l, &y, rows[i], v->interactive && i == v->selected_row);
			frame_add(f, &l);
		}
	}
	if (v->interactive) {
		/* The last line at the bottom of the screen. */
		while (v->height > 0 && f->n + FOOT_LINES < (size_t)v->height) {
			struct line l = line_new(v);

			frame_add(f, &l);
		}
		render_status(v, f, n, vis);
	}
	/* A terminal too small for the header: what fits. */
	while (v->height > 0 && f->n > (size_t)v->height)
		free(f->lines[--f->n]);
	free(rows);
}
