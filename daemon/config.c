/* SPDX-License-Identifier: MIT */
/*
 * Policy configuration: YAML -> validated struct.
 *
 * libyaml's event parser feeds a small private tree (ynode) so that every
 * value keeps the position it was written at; anchors and aliases are
 * rejected while building it, which also rules out alias bombs and cycles.
 * The tree is then walked against the schema, collecting every diagnostic
 * instead of stopping at the first one. A YAML syntax error ends the parse of
 * that file (the partial tree is not walked).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <yaml.h>

#include "config.h"
#include "units.h"
#include "util.h"

#define MIN_SCAN_INTERVAL_USEC (100 * USEC_PER_MSEC)
#define MAX_DEPTH	       64   /* far more than the schema needs */
#define MAX_POLICIES	       4096 /* per file */
#define COMM_MAX_LEN	       15   /* TASK_COMM_LEN - 1 */
#define ESC_MAX		       64   /* bytes of a user string quoted in a message */
#define ESC_BUF		       (ESC_MAX * 4 + 8)

static const char SIZE_EXPECTED[] = "expected a number with B, K, KiB, M, MiB, G, GiB, T, TiB";
static const char DURATION_EXPECTED[] = "expected a number with a unit: us, ms, s, m, h";

/* ---- diagnostics -------------------------------------------------------- */

static int diag_vadd(struct config_diags *d, const char *file, unsigned line, unsigned col,
		     const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
static int diag_vadd(struct config_diags *d, const char *file, unsigned line, unsigned col,
		     const char *fmt, va_list ap)
{
	struct config_diag *g;
	char *msg = NULL, *f = NULL;

	if (!d)
		return 0;
	if (vasprintf(&msg, fmt, ap) < 0)
		return -ENOMEM;
	if (file) {
		f = strdup(file);
		if (!f)
			goto oom;
	}
	if (grow_array((void **)&d->v, &d->cap, d->n + 1, sizeof(*d->v)) < 0)
		goto oom;
	g = &d->v[d->n++];
	g->file = f;
	g->line = line;
	g->col = col;
	g->msg = msg;
	return 0;
oom:
	free(f);
	free(msg);
	return -ENOMEM;
}

void config_diag_add(struct config_diags *d, const char *file, unsigned line, unsigned col,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)diag_vadd(d, file, line, col, fmt, ap);
	va_end(ap);
}

void config_diags_free(struct config_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
}

/*
 * Quote a user-supplied string for a message: escapes quotes, backslashes and
 * control characters (C0, DEL and C1), truncates long strings at a UTF-8
 * character boundary.
 */
static const char *esc(const char *s, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i = 0, slen = strlen(s);
	bool cut = false;

	if (slen > ESC_MAX) {
		slen = ESC_MAX;
		while (slen > 0 && ((unsigned char)s[slen] & 0xc0) == 0x80)
			slen--;
		cut = true;
	}
	while (i < slen && o + 8 < size) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
			i++;
		} else if (ch < 0x20 || ch == 0x7f) {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[ch >> 4];
			buf[o++] = hex[ch & 15];
			i++;
		} else if (ch == 0xc2 && i + 1 < slen && (unsigned char)s[i + 1] >= 0x80 &&
			   (unsigned char)s[i + 1] <= 0x9f) {
			unsigned char c1 = (unsigned char)s[i + 1];

			memcpy(buf + o, "\\u00", 4);
			o += 4;
			buf[o++] = hex[c1 >> 4];
			buf[o++] = hex[c1 & 15];
			i += 2;
		} else {
			buf[o++] = (char)ch;
			i++;
		}
	}
	if (i < slen)
		cut = true;
	if (cut && o + 4 <= size) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/* ---- YAML -> tree --------------------------------------------------------- */

enum ynode_type {
	YN_SCALAR,
	YN_SEQ,
	YN_MAP,
	YN_BAD, /* alias or rejected value: already reported, skipped silently */
};

struct ynode {
	enum ynode_type type;
	unsigned line, col;
	char *str;	     /* scalar value (NUL-terminated, no embedded NUL) */
	bool plain;	     /* scalar written without quotes */
	struct ynode **kids; /* seq: items; map: key, value, key, value, ... */
	size_t n, cap;
};

struct pctx {
	const char *file;
	struct config_diags *diags;
	unsigned nerr;
	bool oom;
};

static void perr_at(struct pctx *c, unsigned line, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void perr_at(struct pctx *c, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;

	c->nerr++;
	va_start(ap, fmt);
	if (diag_vadd(c->diags, c->file, line, col, fmt, ap) < 0)
		c->oom = true;
	va_end(ap);
}

#define perr(c, node, ...) perr_at(c, (node)->line, (node)->col, __VA_ARGS__)

static void ynode_free(struct ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		ynode_free(n->kids[i]);
	free(n->kids);
	free(n->str);
	free(n);
}

static struct ynode *ynode_new(enum ynode_type type, const yaml_mark_t *mark)
{
	struct ynode *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->type = type;
	n->line = (unsigned)MIN(mark->line + 1, (size_t)UINT32_MAX);
	n->col = (unsigned)MIN(mark->column + 1, (size_t)UINT32_MAX);
	return n;
}

static int ynode_append(struct ynode *parent, struct ynode *kid)
{
	if (grow_array((void **)&parent->kids, &parent->cap, parent->n + 1, sizeof(*parent->kids)) <
	    0)
		return -ENOMEM;
	parent->kids[parent->n++] = kid;
	return 0;
}

static bool is_null(const struct ynode *n)
{
	return n->type == YN_SCALAR && n->plain &&
	       (n->str[0] == '\0' || streq(n->str, "~") || streq(n->str, "null") ||
		streq(n->str, "Null") || streq(n->str, "NULL"));
}

static const char *kind(const struct ynode *n)
{
	switch (n->type) {
	case YN_SCALAR:
		return is_null(n) ? "null" : "scalar";
	case YN_SEQ:
		return "sequence";
	case YN_MAP:
		return "mapping";
	default:
		return "alias";
	}
}

static void syntax_error(struct pctx *c, const yaml_parser_t *p, const char *buf, size_t len)
{
	const char *problem = p->problem ? p->problem : "unknown error";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		c->oom = true;
		break;
	case YAML_READER_ERROR: {
		/* Reader errors carry a byte offset only: derive line:col. */
		size_t off = MIN(p->problem_offset, len);
		unsigned line = 1, col = 1;

		for (size_t i = 0; i < off; i++) {
			if (buf[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		if (p->problem_value >= 0)
			perr_at(c, line, col, "invalid input: %s (0x%x)", problem,
				(unsigned)p->problem_value);
		else
			perr_at(c, line, col, "invalid input: %s", problem);
		break;
	}
	default:
		if (p->context)
			perr_at(c, (unsigned)p->problem_mark.line + 1,
				(unsigned)p->problem_mark.column + 1,
				"YAML syntax error: %s (%s at %u:%u)", problem, p->context,
				(unsigned)p->context_mark.line + 1,
				(unsigned)p->context_mark.column + 1);
		else
			perr_at(c, (unsigned)p->problem_mark.line + 1,
				(unsigned)p->problem_mark.column + 1, "YAML syntax error: %s",
				problem);
		break;
	}
}

/* Anchors are rejected like aliases: the node itself is kept. */
static void check_anchor(struct pctx *c, const yaml_char_t *anchor, const yaml_mark_t *m)
{
	if (anchor)
		perr_at(c, (unsigned)m->line + 1, (unsigned)m->column + 1,
			"anchors and aliases are not supported");
}

/*
 * Build the tree of the first document. Returns 0 when *ret is a complete
 * tree that may be walked (NULL for an empty stream), 1 when parsing ended on
 * an error that was reported (syntax error, nesting), -ENOMEM.
 */
static int build_tree(struct pctx *c, const char *buf, size_t len, struct ynode **ret)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	struct ynode *stack[MAX_DEPTH];
	struct ynode *root = NULL, *node;
	size_t depth = 0;
	unsigned ndocs = 0;
	bool done = false;
	int r = 0;

	*ret = NULL;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)(buf ? buf : ""),
				     buf ? len : 0);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			syntax_error(c, &parser, buf ? buf : "", buf ? len : 0);
			r = c->oom ? -ENOMEM : 1;
			break;
		}
		node = NULL;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++ndocs > 1) {
				perr_at(c, (unsigned)ev.start_mark.line + 1,
					(unsigned)ev.start_mark.column + 1,
					"only one YAML document per file is supported");
				done = true;
			}
			break;
		case YAML_ALIAS_EVENT:
			perr_at(c, (unsigned)ev.start_mark.line + 1,
				(unsigned)ev.start_mark.column + 1,
				"anchors and aliases are not supported");
			node = ynode_new(YN_BAD, &ev.start_mark);
			break;
		case YAML_SCALAR_EVENT:
			check_anchor(c, ev.data.scalar.anchor, &ev.start_mark);
			node = ynode_new(YN_SCALAR, &ev.start_mark);
			if (!node)
				break;
			node->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
			node->str =
			    strndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
			if (!node->str) {
				ynode_free(node);
				node = NULL;
			} else if (strlen(node->str) != ev.data.scalar.length) {
				perr(c, node, "strings must not contain NUL characters");
				node->type = YN_BAD;
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
			check_anchor(c, ev.data.sequence_start.anchor, &ev.start_mark);
			node = ynode_new(YN_SEQ, &ev.start_mark);
			break;
		case YAML_MAPPING_START_EVENT:
			check_anchor(c, ev.data.mapping_start.anchor, &ev.start_mark);
			node = ynode_new(YN_MAP, &ev.start_mark);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}

		if (ev.type == YAML_ALIAS_EVENT || ev.type == YAML_SCALAR_EVENT ||
		    ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) {
			bool push = ev.type == YAML_SEQUENCE_START_EVENT ||
				    ev.type == YAML_MAPPING_START_EVENT;

			if (!node) {
				c->oom = true;
				r = -ENOMEM;
				done = true;
			} else if (push && depth >= MAX_DEPTH) {
				perr(c, node, "nesting too deep (more than %d levels)", MAX_DEPTH);
				ynode_free(node);
				r = 1;
				done = true;
			} else if (depth == 0 && root) {
				/* cannot happen within one document */
				ynode_free(node);
				push = false;
			} else if (depth == 0) {
				root = node;
			} else if (ynode_append(stack[depth - 1], node) < 0) {
				ynode_free(node);
				c->oom = true;
				r = -ENOMEM;
				done = true;
			}
			if (!done && push)
				stack[depth++] = node;
		}
		yaml_event_delete(&ev);
	}

	yaml_parser_delete(&parser);
	if (r != 0) {
		ynode_free(root);
		return r;
	}
	*ret = root;
	return 0;
}

/* ---- schema helpers ---------------------------------------------------------- */

struct field {
	const struct ynode *key, *val;
};

/* "a, b, c" */
static const char *join_keys(const char *const keys[], size_t n, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && o < size; i++) {
		int w = snprintf(buf + o, size - o, "%s%s", i ? ", " : "", keys[i]);

		if (w < 0)
			break;
		o += (size_t)w;
	}
	return buf;
}

/*
 * Check that n is a mapping whose keys are all in keys[], without duplicates,
 * and fill f[i] with key i's nodes (or NULLs). A null value counts as an empty
 * mapping when null_ok. Returns false if n is not a mapping at all.
 */
static bool map_fields(struct pctx *c, const struct ynode *n, const char *path, bool null_ok,
		       const char *const keys[], size_t nkeys, struct field f[])
{
	char eb[ESC_BUF], list[256];

	memset(f, 0, nkeys * sizeof(*f));
	if (n->type == YN_BAD)
		return false;
	if (null_ok && is_null(n))
		return true;
	if (n->type != YN_MAP) {
		perr(c, n, "%s: expected a mapping, got a %s", path, kind(n));
		return false;
	}
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct ynode *k = n->kids[i], *v = n->kids[i + 1];
		size_t j;

		if (k->type == YN_BAD)
			continue;
		if (k->type != YN_SCALAR) {
			perr(c, k, "%s: keys must be strings, got a %s", path, kind(k));
			continue;
		}
		for (j = 0; j < nkeys; j++)
			if (streq(k->str, keys[j]))
				break;
		if (j == nkeys) {
			esc(k->str, eb, sizeof(eb));
			perr(c, k, "%s%s%s: unknown key \"%s\" (expected one of: %s)", path,
			     *path ? "." : "", eb, eb, join_keys(keys, nkeys, list, sizeof(list)));
			continue;
		}
		if (f[j].key) {
			perr(c, k, "%s%s%s: duplicate key \"%s\" (first at %u:%u)", path,
			     *path ? "." : "", keys[j], keys[j], f[j].key->line, f[j].key->col);
			continue;
		}
		f[j].key = k;
		f[j].val = v;
	}
	return true;
}

/* The string of a non-null scalar, or NULL after reporting why not. */
static const char *scalar(struct pctx *c, const struct ynode *n, const char *path, const char *what)
{
	if (n->type == YN_BAD)
		return NULL;
	if (n->type != YN_SCALAR) {
		perr(c, n, "%s: expected %s, got a %s", path, what, kind(n));
		return NULL;
	}
	if (is_null(n)) {
		perr(c, n, "%s: missing value (expected %s)", path, what);
		return NULL;
	}
	return n->str;
}

static bool get_string(struct pctx *c, const struct ynode *n, const char *path, const char **ret)
{
	const char *s = scalar(c, n, path, "a string");

	if (!s)
		return false;
	if (!*s) {
		perr(c, n, "%s: must not be empty", path);
		return false;
	}
	*ret = s;
	return true;
}

/* rate: a trailing "/s" is accepted ("256MiB/s"). */
static bool get_size(struct pctx *c, const struct ynode *n, const char *path, bool rate,
		     uint64_t *ret)
{
	const char *s = scalar(c, n, path, rate ? "a size per second" : "a size");
	char eb[ESC_BUF], *tmp = NULL;
	size_t l;
	int r;

	if (!s)
		return false;
	l = strlen(s);
	if (rate && l > 2 && streq(s + l - 2, "/s")) {
		tmp = strndup(s, l - 2);
		if (!tmp) {
			c->oom = true;
			return false;
		}
	}
	r = parse_size(tmp ? tmp : s, ret);
	free(tmp);
	if (r == -ERANGE) {
		perr(c, n, "%s: bad size \"%s\": too large", path, esc(s, eb, sizeof(eb)));
		return false;
	}
	if (r < 0) {
		perr(c, n, "%s: bad size \"%s\": %s", path, esc(s, eb, sizeof(eb)), SIZE_EXPECTED);
		return false;
	}
	return true;
}

static bool get_duration(struct pctx *c, const struct ynode *n, const char *path, uint64_t min,
			 uint64_t *ret)
{
	const char *s = scalar(c, n, path, "a duration");
	char eb[ESC_BUF];
	uint64_t v;
	int r;

	if (!s)
		return false;
	r = parse_duration(s, &v);
	if (r == -ERANGE) {
		perr(c, n, "%s: bad duration \"%s\": too large", path, esc(s, eb, sizeof(eb)));
		return false;
	}
	if (r < 0) {
		perr(c, n, "%s: bad duration \"%s\": %s", path, esc(s, eb, sizeof(eb)),
		     DURATION_EXPECTED);
		return false;
	}
	if (v < min) {
		if (min == 1)
			perr(c, n, "%s: duration \"%s\" must be greater than 0", path,
			     esc(s, eb, sizeof(eb)));
		else
			perr(c, n, "%s: duration \"%s\" is too short: must be at least %llums",
			     path, esc(s, eb, sizeof(eb)),
			     (unsigned long long)(min / USEC_PER_MSEC));
		return false;
	}
	*ret = v;
	return true;
}

static bool get_percent(struct pctx *c, const struct ynode *n, const char *path, uint32_t *ret)
{
	const char *s = scalar(c, n, path, "a percentage");
	char eb[ESC_BUF];
	uint32_t v;

	if (!s)
		return false;
	if (parse_percent(s, &v) < 0 || v > BP_PER_100) {
		perr(c, n, "%s: bad percentage \"%s\": expected 0%% to 100%%, e.g. \"90%%\"", path,
		     esc(s, eb, sizeof(eb)));
		return false;
	}
	*ret = v;
	return true;
}

static bool get_bool(struct pctx *c, const struct ynode *n, const char *path, bool *ret)
{
	const char *s = scalar(c, n, path, "a boolean");
	char eb[ESC_BUF];

	if (!s)
		return false;
	if (!strcasecmp(s, "true") || !strcasecmp(s, "yes")) {
		*ret = true;
		return true;
	}
	if (!strcasecmp(s, "false") || !strcasecmp(s, "no")) {
		*ret = false;
		return true;
	}
	perr(c, n, "%s: bad boolean \"%s\": expected true, false, yes or no", path,
	     esc(s, eb, sizeof(eb)));
	return false;
}

/* Plain decimal digits only; false on anything else or overflow. */
static bool parse_decimal(const char *s, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*ret = v;
	return true;
}

static bool get_uint32(struct pctx *c, const struct ynode *n, const char *path, uint32_t min,
		       uint32_t *ret)
{
	const char *s = scalar(c, n, path, "an integer");
	char eb[ESC_BUF];
	uint64_t v;

	if (!s)
		return false;
	if (!parse_decimal(s, UINT32_MAX, &v) || v < min) {
		perr(c, n, "%s: bad integer \"%s\": expected a whole number from %u to %u", path,
		     esc(s, eb, sizeof(eb)), min, UINT32_MAX);
		return false;
	}
	*ret = (uint32_t)v;
	return true;
}

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static void match_list_free(struct match_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].pattern);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void policy_free(struct policy *p)
{
	free(p->name);
	free(p->file);
	match_list_free(&p->match.comm);
	match_list_free(&p->match.exe);
	match_list_free(&p->match.user);
	match_list_free(&p->match.unit);
	match_list_free(&p->match.cgroup);
	free(p->match.uids);
	memset(p, 0, sizeof(*p));
}

/* ---- sections ------------------------------------------------------------------ */

enum list_kind { LIST_COMM, LIST_EXE, LIST_USER, LIST_UNIT, LIST_CGROUP };

static bool check_pattern(struct pctx *c, const struct ynode *n, const char *path,
			  enum list_kind lk)
{
	char eb[ESC_BUF];

	if (!*n->str) {
		perr(c, n, "%s: empty pattern", path);
		return false;
	}
	if (lk == LIST_COMM && !has_glob(n->str) && strlen(n->str) > COMM_MAX_LEN) {
		perr(c, n, "%s: \"%s\" can never match: the kernel truncates comm to %d characters",
		     path, esc(n->str, eb, sizeof(eb)), COMM_MAX_LEN);
		return false;
	}
	return true;
}

/* A scalar is a one-item list. */
static void parse_list(struct pctx *c, const struct ynode *n, const char *path, enum list_kind lk,
		       struct match_list *l)
{
	const char *what =
	    lk == LIST_USER ? "a user or a list of users" : "a pattern or a list of patterns";
	const struct ynode *const *items;
	size_t count;
	unsigned nerr0 = c->nerr;
	bool bad = false;
	char ipath[128];

	if (n->type == YN_BAD)
		return;
	if (n->type == YN_MAP) {
		perr(c, n, "%s: expected %s, got a mapping", path, what);
		return;
	}
	if (n->type == YN_SCALAR) {
		if (is_null(n)) {
			perr(c, n, "%s: missing value (expected %s)", path, what);
			return;
		}
		items = (const struct ynode *const *)&n;
		count = 1;
	} else {
		items = (const struct ynode *const *)n->kids;
		count = n->n;
		if (!count) {
			perr(c, n, "%s: empty list: would never match", path);
			return;
		}
	}

	for (size_t i = 0; i < count; i++) {
		const struct ynode *it = items[i];

		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		if (it->type == YN_BAD) {
			bad = true; /* reported when the tree was built */
			continue;
		}
		if (it->type != YN_SCALAR || is_null(it)) {
			perr(c, it, "%s: expected a string, got a %s", ipath, kind(it));
			continue;
		}
		check_pattern(c, it, n->type == YN_SCALAR ? path : ipath, lk);
	}
	if (c->nerr != nerr0 || bad)
		return;

	l->v = calloc(count, sizeof(*l->v));
	if (!l->v) {
		c->oom = true;
		return;
	}
	for (size_t i = 0; i < count; i++) {
		l->v[i].pattern = strdup(items[i]->str);
		if (!l->v[i].pattern) {
			c->oom = true;
			return;
		}
		l->v[i].line = items[i]->line;
		l->v[i].col = items[i]->col;
		l->n++;
	}
}

enum { MK_COMM, MK_EXE, MK_USER, MK_UNIT, MK_CGROUP, MK_MIN_ANON, MK_MAX };
static const char *const match_keys[MK_MAX] = {"comm", "exe", "user", "unit", "cgroup", "min_anon"};

static void parse_match(struct pctx *c, const struct ynode *n, const char *ppath,
			struct policy_match *m)
{
	static const enum list_kind lists[] = {LIST_COMM, LIST_EXE, LIST_USER, LIST_UNIT,
					       LIST_CGROUP};
	struct match_list *dst[] = {&m->comm, &m->exe, &m->user, &m->unit, &m->cgroup};
	struct field f[MK_MAX];
	bool cond = false;
	char path[64], sub[96];

	snprintf(path, sizeof(path), "%s.match", ppath);
	if (is_null(n) || (n->type == YN_MAP && n->n == 0)) {
		perr(c, n, "%s: empty: would select every process; use min_anon to select by size",
		     path);
		return;
	}
	if (!map_fields(c, n, path, false, match_keys, MK_MAX, f))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
		if (!f[i].val)
			continue;
		snprintf(sub, sizeof(sub), "%s.%s", path, match_keys[i]);
		parse_list(c, f[i].val, sub, lists[i], dst[i]);
	}
	/* A condition that failed to parse was reported already: not "empty". */
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		if (f[i].val)
			cond = true;
	if (f[MK_MIN_ANON].val) {
		snprintf(sub, sizeof(sub), "%s.min_anon", path);
		if (!get_size(c, f[MK_MIN_ANON].val, sub, false, &m->min_anon) || m->min_anon)
			cond = true;
	}
	if (!cond)
		perr(c, n, "%s: empty: would select every process; use min_anon to select by size",
		     path);
}

static bool valid_policy_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

/* Add p to cfg (replacing a policy of the same name in place); takes p. */
static void merge_policy(struct pctx *c, struct thpd_config *cfg, struct policy *p)
{
	struct policy *v;

	for (size_t i = 0; i < cfg->n_policies; i++) {
		if (streq(cfg->policies[i].name, p->name)) {
			policy_free(&cfg->policies[i]);
			cfg->policies[i] = *p;
			memset(p, 0, sizeof(*p));
			return;
		}
	}
	v = reallocarray(cfg->policies, cfg->n_policies + 1, sizeof(*v));
	if (!v) {
		c->oom = true;
		policy_free(p);
		return;
	}
	cfg->policies = v;
	cfg->policies[cfg->n_policies++] = *p;
	memset(p, 0, sizeof(*p));
}

enum {
	PK_NAME,
	PK_MATCH,
	PK_IGNORE,
	PK_HOTNESS,
	PK_MIN_HOT,
	PK_MAX_RATE,
	PK_MAX_HUGE,
	PK_MIN_PRESENT,
	PK_SHMEM,
	PK_MAX
};
static const char *const policy_keys[PK_MAX] = {
    "name", "match", "ignore", "hotness", "min_hot", "max_rate", "max_huge", "min_present", "shmem",
};

/* seen: name nodes of the policies before this one in the same file. */
static void parse_policy(struct pctx *c, const struct ynode *n, size_t idx,
			 const struct ynode **seen, size_t *n_seen, struct thpd_config *cfg)
{
	struct policy p = {
	    .hotness = HOTNESS_NONE,
	    .min_hot_bp = DEFAULT_MIN_HOT_BP,
	    .min_present_bp = DEFAULT_MIN_PRESENT_BP,
	    .line = n->line,
	};
	struct field f[PK_MAX];
	unsigned nerr0 = c->nerr, nerr_hot;
	bool hotness_ok;
	const char *name = NULL, *s;
	char path[48], sub[80], eb[ESC_BUF];

	snprintf(path, sizeof(path), "policies[%zu]", idx);
	if (!map_fields(c, n, path, false, policy_keys, PK_MAX, f))
		return;

#define SUB(k) (snprintf(sub, sizeof(sub), "%s.%s", path, policy_keys[k]), sub)
	if (!f[PK_NAME].val) {
		perr(c, n, "%s: missing required key \"name\"", path);
	} else if (get_string(c, f[PK_NAME].val, SUB(PK_NAME), &s)) {
		if (!valid_policy_name(s)) {
			perr(c, f[PK_NAME].val,
			     "%s: bad policy name \"%s\": use only letters, digits, '_', '.' and "
			     "'-'",
			     sub, esc(s, eb, sizeof(eb)));
		} else {
			name = s;
			for (size_t i = 0; i < *n_seen; i++) {
				if (streq(seen[i]->str, s)) {
					perr(c, f[PK_NAME].val,
					     "%s: duplicate policy name \"%s\" (first at %u:%u)",
					     sub, esc(s, eb, sizeof(eb)), seen[i]->line,
					     seen[i]->col);
					name = NULL;
					break;
				}
			}
			if (name)
				seen[(*n_seen)++] = f[PK_NAME].val;
		}
	}
	if (!f[PK_MATCH].val)
		perr(c, n, "%s: missing required key \"match\"", path);
	else
		parse_match(c, f[PK_MATCH].val, path, &p.match);
	if (f[PK_IGNORE].val)
		get_bool(c, f[PK_IGNORE].val, SUB(PK_IGNORE), &p.ignore);
	nerr_hot = c->nerr;
	if (f[PK_HOTNESS].val && (s = scalar(c, f[PK_HOTNESS].val, SUB(PK_HOTNESS),
					     "a hotness source (none or refs)"))) {
		if (streq(s, "none"))
			p.hotness = HOTNESS_NONE;
		else if (streq(s, "refs"))
			p.hotness = HOTNESS_REFS;
		else
			perr(c, f[PK_HOTNESS].val, "%s: bad hotness \"%s\": expected none or refs",
			     sub, esc(s, eb, sizeof(eb)));
	}
	hotness_ok = c->nerr == nerr_hot;
	if (f[PK_MIN_HOT].val &&
	    get_percent(c, f[PK_MIN_HOT].val, SUB(PK_MIN_HOT), &p.min_hot_bp) &&
	    p.hotness != HOTNESS_REFS && hotness_ok)
		perr(c, f[PK_MIN_HOT].key, "%s: only used with \"hotness: refs\"", sub);
	if (f[PK_MAX_RATE].val)
		get_size(c, f[PK_MAX_RATE].val, SUB(PK_MAX_RATE), true, &p.max_rate);
	if (f[PK_MAX_HUGE].val)
		get_size(c, f[PK_MAX_HUGE].val, SUB(PK_MAX_HUGE), false, &p.max_huge);
	if (f[PK_MIN_PRESENT].val)
		get_percent(c, f[PK_MIN_PRESENT].val, SUB(PK_MIN_PRESENT), &p.min_present_bp);
	if (f[PK_SHMEM].val)
		get_bool(c, f[PK_SHMEM].val, SUB(PK_SHMEM), &p.shmem);
#undef SUB

	if (c->nerr != nerr0 || c->oom || !name)
		goto fail;
	p.name = strdup(name);
	p.file = strdup(c->file);
	if (!p.name || !p.file) {
		c->oom = true;
		goto fail;
	}
	merge_policy(c, cfg, &p);
	return;
fail:
	policy_free(&p);
}

static void parse_policies(struct pctx *c, const struct ynode *n, struct thpd_config *cfg)
{
	const struct ynode **seen;
	size_t n_seen = 0;

	if (n->type == YN_BAD)
		return;
	if (is_null(n) || (n->type == YN_SEQ && n->n == 0)) {
		perr(c, n, "policies: empty: at least one policy is required");
		return;
	}
	if (n->type != YN_SEQ) {
		perr(c, n, "policies: expected a sequence of policies, got a %s", kind(n));
		return;
	}
	if (n->n > MAX_POLICIES) {
		perr(c, n, "policies: too many policies (%zu, at most %d)", n->n, MAX_POLICIES);
		return;
	}
	seen = calloc(n->n, sizeof(*seen));
	if (!seen) {
		c->oom = true;
		return;
	}
	for (size_t i = 0; i < n->n && !c->oom; i++)
		parse_policy(c, n->kids[i], i, seen, &n_seen, cfg);
	free(seen);
}

enum { DK_SCAN_INTERVAL, DK_MAX_COLLAPSE_RATE, DK_SOCKET, DK_SMAPS_REFRESH, DK_PRESSURE, DK_MAX };
static const char *const daemon_keys[DK_MAX] = {"scan_interval", "max_collapse_rate", "socket",
						"smaps_refresh", "pressure"};
enum { PRK_SOME, PRK_FULL, PRK_MAX };
static const char *const pressure_keys[PRK_MAX] = {"some", "full"};

static void parse_daemon(struct pctx *c, const struct ynode *n, struct daemon_config *d)
{
	struct field f[DK_MAX];
	const struct ynode *v;
	const char *s;
	char eb[ESC_BUF];

	if (!map_fields(c, n, "daemon", true, daemon_keys, DK_MAX, f))
		return;
	if ((v = f[DK_SCAN_INTERVAL].val))
		get_duration(c, v, "daemon.scan_interval", MIN_SCAN_INTERVAL_USEC,
			     &d->scan_interval_usec);
	if ((v = f[DK_MAX_COLLAPSE_RATE].val))
		get_size(c, v, "daemon.max_collapse_rate", true, &d->max_collapse_rate);
	if ((v = f[DK_SOCKET].val) && get_string(c, v, "daemon.socket", &s)) {
		if (s[0] != '/') {
			perr(c, v, "daemon.socket: \"%s\" is not an absolute path",
			     esc(s, eb, sizeof(eb)));
		} else if (strlen(s) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
			perr(c, v, "daemon.socket: path is too long (at most %zu bytes)",
			     sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1);
		} else {
			char *copy = strdup(s);

			if (!copy) {
				c->oom = true;
			} else {
				free(d->socket_path);
				d->socket_path = copy;
			}
		}
	}
	if ((v = f[DK_SMAPS_REFRESH].val))
		get_uint32(c, v, "daemon.smaps_refresh", 1, &d->smaps_refresh);
	struct field pr[PRK_MAX];
	if ((v = f[DK_PRESSURE].val) &&
	    map_fields(c, v, "daemon.pressure", true, pressure_keys, PRK_MAX, pr)) {
		if (pr[PRK_SOME].val)
			get_percent(c, pr[PRK_SOME].val, "daemon.pressure.some",
				    &d->pressure_some_bp);
		if (pr[PRK_FULL].val)
			get_percent(c, pr[PRK_FULL].val, "daemon.pressure.full",
				    &d->pressure_full_bp);
	}
}

enum { RK_EAGAIN, RK_ENOMEM, RK_EBUSY, RK_MAX };
static const char *const retry_keys[RK_MAX] = {"eagain", "enomem", "ebusy"};
enum { EK_INITIAL, EK_MAX_, EK_ATTEMPTS, EK_MAX };
static const char *const eagain_keys[EK_MAX] = {"initial", "max", "attempts"};
static const char *const pause_keys[] = {"pause"};

static void parse_retry(struct pctx *c, const struct ynode *n, struct retry_config *r)
{
	struct field f[RK_MAX], e[EK_MAX], p[1];
	uint64_t initial = 0, max = 0;
	bool have_initial = false, have_max = false;

	if (!map_fields(c, n, "retry", true, retry_keys, RK_MAX, f))
		return;
	if (f[RK_EAGAIN].val &&
	    map_fields(c, f[RK_EAGAIN].val, "retry.eagain", true, eagain_keys, EK_MAX, e)) {
		if (e[EK_INITIAL].val)
			have_initial =
			    get_duration(c, e[EK_INITIAL].val, "retry.eagain.initial", 1, &initial);
		if (e[EK_MAX_].val)
			have_max = get_duration(c, e[EK_MAX_].val, "retry.eagain.max", 1, &max);
		if (have_initial && have_max && initial > max) {
			perr(c, e[EK_INITIAL].val,
			     "retry.eagain.initial: must not be greater than retry.eagain.max");
		} else {
			if (have_initial)
				r->eagain_initial_usec = initial;
			if (have_max)
				r->eagain_max_usec = max;
		}
		if (e[EK_ATTEMPTS].val)
			get_uint32(c, e[EK_ATTEMPTS].val, "retry.eagain.attempts", 1,
				   &r->eagain_attempts);
	}
	if (f[RK_ENOMEM].val &&
	    map_fields(c, f[RK_ENOMEM].val, "retry.enomem", true, pause_keys, 1, p) && p[0].val)
		get_duration(c, p[0].val, "retry.enomem.pause", 1, &r->enomem_pause_usec);
	if (f[RK_EBUSY].val &&
	    map_fields(c, f[RK_EBUSY].val, "retry.ebusy", true, pause_keys, 1, p) && p[0].val)
		get_duration(c, p[0].val, "retry.ebusy.pause", 1, &r->ebusy_pause_usec);
}

enum { TK_DAEMON, TK_RETRY, TK_POLICIES, TK_MAX };
static const char *const top_keys[TK_MAX] = {"daemon", "retry", "policies"};

static void parse_root(struct pctx *c, const struct ynode *root, struct thpd_config *cfg)
{
	struct field f[TK_MAX];

	if (!root || is_null(root)) {
		perr_at(c, root ? root->line : 1, root ? root->col : 1, "empty document");
		return;
	}
	if (root->type == YN_MAP && root->n == 0) {
		perr(c, root, "empty document");
		return;
	}
	if (root->type != YN_MAP && root->type != YN_BAD) {
		perr(c, root, "expected a mapping at the top level, got a %s", kind(root));
		return;
	}
	if (!map_fields(c, root, "", false, top_keys, TK_MAX, f))
		return;
	if (f[TK_DAEMON].val)
		parse_daemon(c, f[TK_DAEMON].val, &cfg->daemon);
	if (f[TK_RETRY].val)
		parse_retry(c, f[TK_RETRY].val, &cfg->retry);
	if (f[TK_POLICIES].val)
		parse_policies(c, f[TK_POLICIES].val, cfg);
}

/* ---- public API ----------------------------------------------------------------- */

void config_init(struct thpd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->daemon.scan_interval_usec = DEFAULT_SCAN_INTERVAL_USEC;
	cfg->daemon.max_collapse_rate = DEFAULT_MAX_COLLAPSE_RATE;
	cfg->daemon.smaps_refresh = DEFAULT_SMAPS_REFRESH;
	cfg->daemon.pressure_some_bp = DEFAULT_PRESSURE_SOME_BP;
	cfg->daemon.pressure_full_bp = DEFAULT_PRESSURE_FULL_BP;
	cfg->retry.eagain_initial_usec = DEFAULT_EAGAIN_INITIAL_USEC;
	cfg->retry.eagain_max_usec = DEFAULT_EAGAIN_MAX_USEC;
	cfg->retry.eagain_attempts = DEFAULT_EAGAIN_ATTEMPTS;
	cfg->retry.enomem_pause_usec = DEFAULT_ENOMEM_PAUSE_USEC;
	cfg->retry.ebusy_pause_usec = DEFAULT_EBUSY_PAUSE_USEC;
}

void config_free(struct thpd_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_policies; i++)
		policy_free(&cfg->policies[i]);
	free(cfg->policies);
	free(cfg->daemon.socket_path);
	cfg->policies = NULL;
	cfg->n_policies = 0;
	cfg->daemon.socket_path = NULL;
}

struct diag_pos {
	struct config_diag d;
	size_t idx;
};

static int diag_pos_cmp(const void *a, const void *b)
{
	const struct diag_pos *x = a, *y = b;

	if (x->d.line != y->d.line)
		return x->d.line < y->d.line ? -1 : 1;
	if (x->d.col != y->d.col)
		return x->d.col < y->d.col ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Stable sort of d->v[from..] by position, so a file's diagnostics read in order. */
static void diags_sort(struct config_diags *d, size_t from)
{
	struct diag_pos *t;
	size_t n;

	if (!d || d->n - from < 2)
		return;
	n = d->n - from;
	t = calloc(n, sizeof(*t));
	if (!t)
		return; /* unsorted is still correct */
	for (size_t i = 0; i < n; i++) {
		t[i].d = d->v[from + i];
		t[i].idx = i;
	}
	qsort(t, n, sizeof(*t), diag_pos_cmp);
	for (size_t i = 0; i < n; i++)
		d->v[from + i] = t[i].d;
	free(t);
}

int config_parse(const char *filename, const char *buf, size_t len, struct thpd_config *cfg,
		 struct config_diags *diags)
{
	struct pctx c = {.file = filename ? filename : "<input>", .diags = diags};
	struct ynode *root = NULL;
	size_t n0 = diags ? diags->n : 0;
	int r;

	r = build_tree(&c, buf, len, &root);
	if (r == 0)
		parse_root(&c, root, cfg);
	ynode_free(root);
	diags_sort(diags, n0);
	if (c.oom) {
		config_diag_add(diags, c.file, 0, 0, "out of memory");
		return -ENOMEM;
	}
	return c.nerr ? -EINVAL : 0;
}

int config_validate(const struct thpd_config *cfg, struct config_diags *diags)
{
	struct config_diags *d = diags;
	char b1[32], b2[32];
	unsigned nerr = 0;

#define VERR(file, line, ...)                                                                      \
	do {                                                                                       \
		nerr++;                                                                            \
		config_diag_add(d, file, line, 0, __VA_ARGS__);                                    \
	} while (0)

	if (cfg->n_policies == 0)
		VERR(NULL, 0, "policies: empty: at least one policy is required");
	if (cfg->daemon.scan_interval_usec < MIN_SCAN_INTERVAL_USEC)
		VERR(NULL, 0, "daemon.scan_interval: must be at least 100ms");
	if (cfg->daemon.smaps_refresh < 1)
		VERR(NULL, 0, "daemon.smaps_refresh: must be at least 1");
	if (cfg->retry.eagain_initial_usec == 0 ||
	    cfg->retry.eagain_initial_usec > cfg->retry.eagain_max_usec)
		VERR(NULL, 0,
		     "retry.eagain: initial (%s) must be greater than 0 and not greater than max "
		     "(%s)",
		     format_duration(cfg->retry.eagain_initial_usec, b1, sizeof(b1)),
		     format_duration(cfg->retry.eagain_max_usec, b2, sizeof(b2)));
	if (cfg->retry.eagain_attempts < 1)
		VERR(NULL, 0, "retry.eagain.attempts: must be at least 1");
	for (size_t i = 0; i < cfg->n_policies; i++) {
		const struct policy *p = &cfg->policies[i];
		const struct policy_match *m = &p->match;

		if (!p->name || !*p->name)
			VERR(p->file, p->line, "policies[%zu]: missing name", i);
		if (!m->comm.n && !m->exe.n && !m->user.n && !m->unit.n && !m->cgroup.n &&
		    !m->min_anon)
			VERR(p->file, p->line,
			     "policy \"%s\": match: empty: would select every process; use "
			     "min_anon to select by size",
			     p->name ? p->name : "");
		if (p->min_hot_bp > BP_PER_100 || p->min_present_bp > BP_PER_100)
			VERR(p->file, p->line, "policy \"%s\": percentage above 100%%",
			     p->name ? p->name : "");
	}
#undef VERR
	return nerr ? -EINVAL : 0;
}

/* getpwnam_r with a growing buffer: 1 found, 0 unknown, negative errno. */
static int lookup_user(const char *name, uid_t *ret)
{
	struct passwd pw, *res = NULL;
	size_t size = 1024;
	char *buf = NULL;
	int r;

	for (;;) {
		char *nb = realloc(buf, size);

		if (!nb) {
			r = -ENOMEM;
			goto out;
		}
		buf = nb;
		r = getpwnam_r(name, &pw, buf, size, &res);
		if (r != ERANGE || size >= (1U << 20))
			break;
		size *= 2;
	}
	if (res) {
		*ret = pw.pw_uid;
		r = 1;
	} else if (r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM) {
		r = 0;
	} else {
		r = -r;
	}
out:
	free(buf);
	return r;
}

int config_resolve_users(struct thpd_config *cfg, struct config_diags *diags)
{
	char eb[ESC_BUF];
	bool failed = false;
	int res = 0;

	for (size_t i = 0; i < cfg->n_policies; i++) {
		struct policy_match *m = &cfg->policies[i].match;
		const char *file = cfg->policies[i].file;

		free(m->uids);
		m->uids = NULL;
		m->n_uids = 0;
		if (!m->user.n)
			continue;
		m->uids = calloc(m->user.n, sizeof(*m->uids));
		if (!m->uids) {
			config_diag_add(diags, file, 0, 0, "out of memory");
			return -ENOMEM;
		}
		for (size_t j = 0; j < m->user.n; j++) {
			const struct match_item *it = &m->user.v[j];
			uint64_t v;
			uid_t uid = 0;
			int r;

			if (parse_decimal(it->pattern, UINT32_MAX, &v)) {
				if ((uid_t)v != v || (uid_t)v == (uid_t)-1) {
					config_diag_add(diags, file, it->line, it->col,
							"bad uid \"%s\"",
							esc(it->pattern, eb, sizeof(eb)));
					failed = true;
					continue;
				}
				m->uids[m->n_uids++] = (uid_t)v;
				continue;
			}
			r = lookup_user(it->pattern, &uid);
			if (r > 0) {
				m->uids[m->n_uids++] = uid;
			} else if (r == 0) {
				config_diag_add(diags, file, it->line, it->col,
						"unknown user \"%s\"",
						esc(it->pattern, eb, sizeof(eb)));
				failed = true;
			} else {
				config_diag_add(diags, file, it->line, it->col,
						"cannot look up user \"%s\": %s",
						esc(it->pattern, eb, sizeof(eb)), strerror(-r));
				failed = true;
				if (r == -ENOMEM)
					res = -ENOMEM;
			}
		}
	}
	if (res < 0)
		return res;
	return failed ? -EINVAL : 0;
}

/* Regular-looking drop-in names: "*.yaml", not hidden. */
static int dropin_filter(const struct dirent *de)
{
	size_t l = strlen(de->d_name);

	return de->d_name[0] != '.' && l > 5 && streq(de->d_name + l - 5, ".yaml");
}

/* Keep the most telling error: anything beats -EINVAL, the first one wins. */
static void keep_err(int *res, int r)
{
	if (r < 0 && (*res == 0 || *res == -EINVAL))
		*res = r;
}

static int load_one(const char *path, struct thpd_config *cfg, struct config_diags *diags)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	r = read_file_at(AT_FDCWD, path, &buf, &len);
	if (r < 0) {
		config_diag_add(diags, path, 0, 0, "cannot read: %s", strerror(-r));
		return r;
	}
	r = config_parse(path, buf, len, cfg, diags);
	free(buf);
	return r;
}

int config_load(const char *main_path, struct thpd_config **ret, struct config_diags *diags)
{
	struct thpd_config *cfg = NULL;
	struct dirent **ents = NULL;
	char *dcopy = NULL, *ddir = NULL, *path = NULL;
	size_t diag0 = diags ? diags->n : 0;
	int nents = 0, res = 0, r;

	*ret = NULL;
	cfg = malloc(sizeof(*cfg));
	if (!cfg) {
		config_diag_add(diags, main_path, 0, 0, "out of memory");
		return -ENOMEM;
	}
	config_init(cfg);

	r = load_one(main_path, cfg, diags);
	if (r < 0 && r != -EINVAL) {
		res = r;
		goto out;
	}
	keep_err(&res, r);

	dcopy = strdup(main_path);
	if (!dcopy || asprintf(&ddir, "%s/thpd.d", dirname(dcopy)) < 0) {
		ddir = NULL;
		res = -ENOMEM;
		config_diag_add(diags, main_path, 0, 0, "out of memory");
		goto out;
	}
	nents = scandir(ddir, &ents, dropin_filter, alphasort);
	if (nents < 0) {
		r = -errno;
		nents = 0;
		if (r != -ENOENT && r != -ENOTDIR) {
			config_diag_add(diags, ddir, 0, 0, "cannot read directory: %s",
					strerror(-r));
			keep_err(&res, r);
		}
	}
	for (int i = 0; i < nents; i++) {
		struct stat st;

		free(path);
		if (asprintf(&path, "%s/%s", ddir, ents[i]->d_name) < 0) {
			path = NULL;
			keep_err(&res, -ENOMEM);
			config_diag_add(diags, main_path, 0, 0, "out of memory");
			break;
		}
		if (stat(path, &st) < 0) {
			r = -errno;
			config_diag_add(diags, path, 0, 0, "cannot read: %s", strerror(-r));
			keep_err(&res, r);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		keep_err(&res, load_one(path, cfg, diags));
	}

	if (res == 0)
		keep_err(&res, config_validate(cfg, diags));
	keep_err(&res, config_resolve_users(cfg, diags));

	/* Whole-config diagnostics have no file of their own: name the main one. */
	for (size_t i = diag0; diags && i < diags->n; i++) {
		if (!diags->v[i].file) {
			diags->v[i].file = strdup(main_path);
			if (!diags->v[i].file)
				keep_err(&res, -ENOMEM);
		}
	}
	if (res == 0) {
		*ret = cfg;
		cfg = NULL;
	}
out:
	for (int i = 0; i < nents; i++)
		free(ents[i]);
	free(ents);
	free(path);
	free(ddir);
	free(dcopy);
	if (cfg) {
		config_free(cfg);
		free(cfg);
	}
	return res;
}
