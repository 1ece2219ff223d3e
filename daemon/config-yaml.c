/* SPDX-License-Identifier: MIT */
/*
 * Config diagnostics, and YAML -> tree (pure: over a buffer, no I/O).
 *
 * libyaml's event parser feeds a small private tree (ynode) so that every
 * value keeps the position it was written at; anchors and aliases are
 * rejected while building it, which also rules out alias bombs and cycles.
 * A YAML syntax error ends the parse of that file (the partial tree is not
 * walked).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "config-internal.h"
#include "util.h"

#define MAX_DEPTH 64 /* far more than the schema needs */

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
const char *config_esc(const char *s, char *buf, size_t size)
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

void config_perr_at(struct pctx *c, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;

	c->nerr++;
	va_start(ap, fmt);
	if (diag_vadd(c->diags, c->file, line, col, fmt, ap) < 0)
		c->oom = true;
	va_end(ap);
}

void ynode_free(struct ynode *n)
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

bool ynode_is_null(const struct ynode *n)
{
	return n->type == YN_SCALAR && n->plain &&
	       (n->str[0] == '\0' || streq(n->str, "~") || streq(n->str, "null") ||
		streq(n->str, "Null") || streq(n->str, "NULL"));
}

const char *ynode_kind(const struct ynode *n)
{
	switch (n->type) {
	case YN_SCALAR:
		return ynode_is_null(n) ? "null" : "scalar";
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
			config_perr_at(c, line, col, "invalid input: %s (0x%x)", problem,
				       (unsigned)p->problem_value);
		else
			config_perr_at(c, line, col, "invalid input: %s", problem);
		break;
	}
	default:
		if (p->context)
			config_perr_at(c, (unsigned)p->problem_mark.line + 1,
				       (unsigned)p->problem_mark.column + 1,
				       "YAML syntax error: %s (%s at %u:%u)", problem, p->context,
				       (unsigned)p->context_mark.line + 1,
				       (unsigned)p->context_mark.column + 1);
		else
			config_perr_at(c, (unsigned)p->problem_mark.line + 1,
				       (unsigned)p->problem_mark.column + 1,
				       "YAML syntax error: %s", problem);
		break;
	}
}

/* Anchors are rejected like aliases: the node itself is kept. */
static void check_anchor(struct pctx *c, const yaml_char_t *anchor, const yaml_mark_t *m)
{
	if (anchor)
		config_perr_at(c, (unsigned)m->line + 1, (unsigned)m->column + 1,
			       "anchors and aliases are not supported");
}

/*
 * Build the tree of the first document. Returns 0 when *ret is a complete
 * tree that may be walked (NULL for an empty stream), 1 when parsing ended on
 * an error that was reported (syntax error, nesting), -ENOMEM.
 */
int ynode_build_tree(struct pctx *c, const char *buf, size_t len, struct ynode **ret)
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
				config_perr_at(c, (unsigned)ev.start_mark.line + 1,
					       (unsigned)ev.start_mark.column + 1,
					       "only one YAML document per file is supported");
				done = true;
			}
			break;
		case YAML_ALIAS_EVENT:
			config_perr_at(c, (unsigned)ev.start_mark.line + 1,
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
