/* SPDX-License-Identifier: MIT */
#include "output.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "util.h"
#include "xalloc.h"

/* Between table columns. */
#define COLUMN_GAP "  "

struct cell {
	char *text;
	enum color color;
};

struct column {
	char *header;
	char *json_key;
	enum align align;
	size_t min_width;
};

struct table {
	char *title;
	struct column *cols;
	size_t n_cols, cap_cols;
	struct cell *cells; /* n_rows * n_cols, row-major */
	size_t n_cells, cap_cells;
	size_t n_rows;
	char *footer;
};

struct field {
	char *key;
	char *value;
	enum color color;
};

struct fields {
	char *title;
	struct field *v;
	size_t n, cap;
};

enum block_type {
	BLOCK_FIELDS,
	BLOCK_TABLE,
	BLOCK_TEXT,
};

struct block {
	enum block_type type;
	struct fields *fields;
	struct table *table;
	struct cell text;
};

struct view {
	struct output_opts opts;
	json_t *raw;
	struct block *blocks;
	size_t n_blocks, cap_blocks;
};

static const char *color_on(enum color c)
{
	switch (c) {
	case COLOR_BOLD:
		return "\033[1m";
	case COLOR_DIM:
		return "\033[2m";
	case COLOR_RED:
		return "\033[1;31m";
	case COLOR_GREEN:
		return "\033[32m";
	case COLOR_YELLOW:
		return "\033[33m";
	case COLOR_NONE:
		break;
	}
	return "";
}

#define COLOR_OFF "\033[0m"

/* Copy of s with C0/C1 control characters and DEL replaced by '?'. */
static char *sanitize(const char *s)
{
	char *out = xstrdup(s), *p = out;

	for (unsigned char *q = (unsigned char *)out; *q; q++) {
		if (*q < 0x20 || *q == 0x7f) {
			*p++ = '?';
		} else if (*q == 0xc2 && q[1] >= 0x80 && q[1] <= 0x9f) {
			/* U+0080..U+009F in UTF-8: C1 controls (0x9b is CSI). */
			*p++ = '?';
			q++;
		} else {
			*p++ = (char)*q;
		}
	}
	*p = '\0';
	return out;
}

static char *vsanitized(const char *fmt, va_list ap)
{
	char *raw = xvasprintf(fmt, ap), *s = sanitize(raw);

	free(raw);
	return s;
}

/* Terminal columns taken by s: wide characters count 2, undecodable bytes 1. */
static size_t display_width(const char *s)
{
	mbstate_t st = {0};
	size_t w = 0, left = strlen(s);

	while (left > 0) {
		wchar_t wc;
		size_t n = mbrtowc(&wc, s, left, &st);

		if (n == (size_t)-1 || n == (size_t)-2) {
			memset(&st, 0, sizeof(st));
			n = 1;
			w++;
		} else {
			int cw = wcwidth(wc);
			if (n == 0)
				n = 1;
			w += cw >= 0 ? (size_t)cw : 1;
		}
		s += n;
		left -= n;
	}
	return w;
}

struct view *view_new(const struct output_opts *opts)
{
	struct view *v = xcalloc(1, sizeof(*v));

	v->opts = *opts;
	return v;
}

static struct block *add_block(struct view *v, enum block_type type)
{
	struct block *b;

	xgrow((void **)&v->blocks, &v->cap_blocks, v->n_blocks + 1, sizeof(*v->blocks));
	b = &v->blocks[v->n_blocks++];
	*b = (struct block){.type = type};
	return b;
}

void view_set_json(struct view *v, json_t *raw)
{
	json_decref(v->raw);
	v->raw = json_incref(raw);
}

struct fields *view_add_fields(struct view *v, const char *title)
{
	struct block *b = add_block(v, BLOCK_FIELDS);

	b->fields = xcalloc(1, sizeof(*b->fields));
	b->fields->title = title ? sanitize(title) : NULL;
	return b->fields;
}

void fields_add(struct fields *f, const char *key, enum color c, const char *fmt, ...)
{
	va_list ap;
	struct field *x;

	xgrow((void **)&f->v, &f->cap, f->n + 1, sizeof(*f->v));
	x = &f->v[f->n++];
	x->key = xstrdup(key);
	x->color = c;
	va_start(ap, fmt);
	x->value = vsanitized(fmt, ap);
	va_end(ap);
}

struct table *view_add_table(struct view *v, const char *title)
{
	struct block *b = add_block(v, BLOCK_TABLE);

	b->table = xcalloc(1, sizeof(*b->table));
	b->table->title = title ? sanitize(title) : NULL;
	return b->table;
}

void table_add_column(struct table *t, const char *header, const char *json_key, enum align a)
{
	assert(t->n_rows == 0);
	xgrow((void **)&t->cols, &t->cap_cols, t->n_cols + 1, sizeof(*t->cols));
	t->cols[t->n_cols++] =
	    (struct column){.header = xstrdup(header), .json_key = xstrdup(json_key), .align = a};
}

void table_add_columns(struct table *t, const struct column_def *cols, size_t n)
{
	for (size_t i = 0; i < n; i++)
		table_add_column(t, cols[i].header, cols[i].json_key, cols[i].align);
}

void table_column_min_width(struct table *t, size_t width)
{
	assert(t->n_cols > 0);
	t->cols[t->n_cols - 1].min_width = width;
}

void table_add_row(struct table *t)
{
	assert(t->n_cols > 0);
	/* Cells left empty by the previous row stay empty strings. */
	xgrow((void **)&t->cells, &t->cap_cells, (t->n_rows + 1) * t->n_cols, sizeof(*t->cells));
	t->n_rows++;
	t->n_cells = (t->n_rows - 1) * t->n_cols;
}

void table_cell(struct table *t, enum color c, const char *fmt, ...)
{
	va_list ap;
	struct cell *x;

	assert(t->n_rows > 0 && t->n_cells < t->n_rows * t->n_cols);
	x = &t->cells[t->n_cells++];
	x->color = c;
	va_start(ap, fmt);
	x->text = vsanitized(fmt, ap);
	va_end(ap);
}

void table_set_footer(struct table *t, const char *fmt, ...)
{
	va_list ap;

	free(t->footer);
	va_start(ap, fmt);
	t->footer = vsanitized(fmt, ap);
	va_end(ap);
}

void view_add_text(struct view *v, enum color c, const char *fmt, ...)
{
	struct block *b = add_block(v, BLOCK_TEXT);
	va_list ap;

	b->text.color = c;
	va_start(ap, fmt);
	b->text.text = vsanitized(fmt, ap);
	va_end(ap);
}

static void fields_free(struct fields *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].key);
		free(f->v[i].value);
	}
	free(f->v);
	free(f->title);
	free(f);
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i].text);
	for (size_t i = 0; i < t->n_cols; i++) {
		free(t->cols[i].header);
		free(t->cols[i].json_key);
	}
	free(t->cells);
	free(t->cols);
	free(t->title);
	free(t->footer);
	free(t);
}

void view_free(struct view *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n_blocks; i++) {
		struct block *b = &v->blocks[i];
		if (b->fields)
			fields_free(b->fields);
		if (b->table)
			table_free(b->table);
		free(b->text.text);
	}
	free(v->blocks);
	json_decref(v->raw);
	free(v);
}

/* ---- text ---- */

static void put_colored(FILE *f, const struct output_opts *o, enum color c, const char *s)
{
	if (o->color && c != COLOR_NONE)
		fprintf(f, "%s%s%s", color_on(c), s, COLOR_OFF);
	else
		fputs(s, f);
}

static void put_padding(FILE *f, size_t n)
{
	while (n-- > 0)
		fputc(' ', f);
}

/* One cell padded to width; the last cell of a left-aligned line gets no padding. */
static void put_cell(FILE *f, const struct output_opts *o, const char *s, enum color c,
		     enum align a, size_t width, bool last)
{
	size_t w = display_width(s), pad = width > w ? width - w : 0;

	if (a == ALIGN_RIGHT)
		put_padding(f, pad);
	put_colored(f, o, c, s);
	if (a == ALIGN_LEFT && !last)
		put_padding(f, pad);
}

static void put_title(FILE *f, const struct output_opts *o, const char *title)
{
	char *s;

	if (!title || !o->legend)
		return;
	s = xasprintf("%s:", title);
	put_colored(f, o, COLOR_BOLD, s);
	fputc('\n', f);
	free(s);
}

static void fields_print(const struct fields *x, const struct output_opts *o, FILE *f)
{
	size_t kw = 0;

	put_title(f, o, x->title);
	for (size_t i = 0; i < x->n; i++)
		kw = MAX(kw, display_width(x->v[i].key));
	for (size_t i = 0; i < x->n; i++) {
		put_padding(f, kw - display_width(x->v[i].key));
		fprintf(f, "%s: ", x->v[i].key);
		put_colored(f, o, x->v[i].color, x->v[i].value);
		fputc('\n', f);
	}
}

static void table_print(const struct table *t, const struct output_opts *o, FILE *f)
{
	size_t *width;

	width = xcalloc(t->n_cols, sizeof(*width));
	for (size_t c = 0; c < t->n_cols; c++) {
		width[c] = t->cols[c].min_width;
		if (o->legend)
			width[c] = MAX(width[c], display_width(t->cols[c].header));
		for (size_t r = 0; r < t->n_rows; r++) {
			const char *s = t->cells[r * t->n_cols + c].text;
			width[c] = MAX(width[c], display_width(s ? s : ""));
		}
	}
	put_title(f, o, t->title);
	if (o->legend) {
		for (size_t c = 0; c < t->n_cols; c++) {
			if (c > 0)
				fputs(COLUMN_GAP, f);
			put_cell(f, o, t->cols[c].header, COLOR_BOLD, t->cols[c].align, width[c],
				 c + 1 == t->n_cols);
		}
		fputc('\n', f);
	}
	for (size_t r = 0; r < t->n_rows; r++) {
		for (size_t c = 0; c < t->n_cols; c++) {
			const struct cell *x = &t->cells[r * t->n_cols + c];
			if (c > 0)
				fputs(COLUMN_GAP, f);
			put_cell(f, o, x->text ? x->text : "", x->color, t->cols[c].align, width[c],
				 c + 1 == t->n_cols);
		}
		fputc('\n', f);
	}
	if (o->legend && t->footer) {
		fputc('\n', f);
		fputs(t->footer, f);
		fputc('\n', f);
	}
	free(width);
}

/* True if the block prints nothing in text mode. */
static bool block_empty(const struct block *b, const struct output_opts *o)
{
	switch (b->type) {
	case BLOCK_FIELDS:
		return b->fields->n == 0;
	case BLOCK_TABLE:
		return b->table->n_rows == 0 && !o->legend;
	case BLOCK_TEXT:
		break;
	}
	return false;
}

static void view_print_text(const struct view *v, FILE *f)
{
	bool printed = false;

	for (size_t i = 0; i < v->n_blocks; i++) {
		const struct block *b = &v->blocks[i];

		if (block_empty(b, &v->opts))
			continue;
		/* A blank line between blocks. */
		if (printed)
			fputc('\n', f);
		printed = true;
		switch (b->type) {
		case BLOCK_FIELDS:
			fields_print(b->fields, &v->opts, f);
			break;
		case BLOCK_TABLE:
			table_print(b->table, &v->opts, f);
			break;
		case BLOCK_TEXT:
			put_colored(f, &v->opts, b->text.color, b->text.text);
			fputc('\n', f);
			break;
		}
	}
}

/* ---- JSON (views without a raw reply) ---- */

/* "Last errno" -> "last_errno". */
static char *json_name(const char *s)
{
	char *out = xstrdup(s);

	for (char *p = out; *p; p++)
		*p = *p == ' ' || *p == '-' ? '_' : (char)tolower((unsigned char)*p);
	return out;
}

static json_t *xjson(json_t *j)
{
	if (!j)
		oom();
	return j;
}

static void xset(json_t *o, const char *key, json_t *value)
{
	if (json_object_set_new(o, key, xjson(value)) < 0)
		oom();
}

static void xappend(json_t *a, json_t *value)
{
	if (json_array_append_new(a, xjson(value)) < 0)
		oom();
}

static json_t *fields_json(const struct fields *x)
{
	json_t *o = xjson(json_object());

	for (size_t i = 0; i < x->n; i++) {
		char *k = json_name(x->v[i].key);
		xset(o, k, json_string(x->v[i].value));
		free(k);
	}
	return o;
}

static json_t *table_json(const struct table *t)
{
	json_t *a = xjson(json_array());

	for (size_t r = 0; r < t->n_rows; r++) {
		json_t *row = xjson(json_object());
		for (size_t c = 0; c < t->n_cols; c++) {
			const char *s = t->cells[r * t->n_cols + c].text;
			xset(row, t->cols[c].json_key, json_string(s ? s : ""));
		}
		xappend(a, row);
	}
	return a;
}

static json_t *view_json(const struct view *v)
{
	json_t *o = xjson(json_object()), *text = NULL;

	for (size_t i = 0; i < v->n_blocks; i++) {
		const struct block *b = &v->blocks[i];
		const char *title = b->fields  ? b->fields->title
				    : b->table ? b->table->title
					       : NULL;
		char *key = title ? json_name(title) : xasprintf("block%zu", i);

		switch (b->type) {
		case BLOCK_FIELDS:
			xset(o, key, fields_json(b->fields));
			break;
		case BLOCK_TABLE:
			xset(o, key, table_json(b->table));
			break;
		case BLOCK_TEXT:
			if (!text) {
				text = xjson(json_array());
				xset(o, "text", text);
			}
			xappend(text, json_string(b->text.text));
			break;
		}
		free(key);
	}
	return o;
}

int output_json(const json_t *j, FILE *f)
{
	/* 15 significant digits: the daemon's microsecond values print as
	 * 7.521657 rather than 7.5216570000000003. */
	if (json_dumpf(j, f, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15)) < 0)
		return -EIO;
	fputc('\n', f);
	return 0;
}

int output_json_line(const json_t *j, FILE *f)
{
	if (json_dumpf(j, f, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15)) < 0)
		return -EIO;
	fputc('\n', f);
	return 0;
}

int view_print(const struct view *v, FILE *f)
{
	int (*dump)(const json_t *j, FILE *f) = v->opts.json_lines ? output_json_line : output_json;
	int r = 0;

	if (v->opts.json) {
		if (v->raw) {
			r = dump(v->raw, f);
		} else {
			json_t *j = view_json(v);
			r = dump(j, f);
			json_decref(j);
		}
	} else {
		view_print_text(v, f);
	}
	if (fflush(f) != 0 || ferror(f))
		r = -EIO;
	return r;
}
