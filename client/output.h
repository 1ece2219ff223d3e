/* SPDX-License-Identifier: MIT */
/*
 * The one way thpctl prints a result. A verb builds a view: an ordered list
 * of blocks (key: value fields, tables, lines of text), optionally with the
 * raw reply parameters attached. view_print() then renders it either as
 * aligned text, with colour when enabled, or as JSON: the raw reply when
 * one is attached, else the blocks themselves (fields as an object, tables
 * as arrays of row objects).
 *
 * Strings (titles included) are copied; control characters are shown as '?'
 * in text output so
 * that names chosen by other users (a process's comm) cannot drive the
 * terminal.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

enum color {
	COLOR_NONE,
	COLOR_BOLD,
	COLOR_DIM,
	COLOR_RED,
	COLOR_GREEN,
	COLOR_YELLOW,
};

enum align {
	ALIGN_LEFT,
	ALIGN_RIGHT,
};

struct output_opts {
	bool json;   /* --json */
	bool legend; /* headers, titles and footers (not --no-legend) */
	bool color;  /* ANSI colours */
	/* JSON Lines: each view's JSON compact on one line (streams). */
	bool json_lines;
};

struct view;
struct fields;
struct table;

struct view *view_new(const struct output_opts *opts);
void view_free(struct view *v);

/* Attach the reply parameters: printed as-is in JSON mode. Takes a reference. */
void view_set_json(struct view *v, json_t *raw);

/* A block of "Key: value" lines, keys right-aligned. title may be NULL. */
struct fields *view_add_fields(struct view *v, const char *title);
void fields_add(struct fields *f, const char *key, enum color c, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * A table. Add all columns first, then rows; each row is filled left to
 * right with table_cell(). json_key names the column in JSON output.
 */
struct table *view_add_table(struct view *v, const char *title);
void table_add_column(struct table *t, const char *header, const char *json_key, enum align a);
/* One column of a table_add_columns() list. */
struct column_def {
	const char *header, *json_key;
	enum align align;
};
/* table_add_column() for each of cols[0..n). */
void table_add_columns(struct table *t, const struct column_def *cols, size_t n);
/*
 * Pad the column added last to at least width terminal columns, so that
 * tables printed one row at a time (a stream of views) line up.
 */
void table_column_min_width(struct table *t, size_t width);
void table_add_row(struct table *t);
void table_cell(struct table *t, enum color c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* One line below the table ("3 targets listed."), part of the legend. */
void table_set_footer(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A line of text. */
void view_add_text(struct view *v, enum color c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Render to f. Returns 0, or -EIO when writing failed. */
int view_print(const struct view *v, FILE *f);

/* Pretty JSON of any value, one trailing newline. Returns 0 or -EIO. */
int output_json(const json_t *j, FILE *f);
/* Compact JSON of any value on one line (JSON Lines). Returns 0 or -EIO. */
int output_json_line(const json_t *j, FILE *f);
