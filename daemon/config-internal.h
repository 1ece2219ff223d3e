/* SPDX-License-Identifier: MIT */
/*
 * What the pieces of the config module share: the position-keeping YAML tree
 * (config-yaml.c), the parse context that collects diagnostics, and the field
 * readers (config-fields.c) that the schema (config-schema.c) and the loader
 * (config.c) use. Nothing outside daemon/config*.c includes this.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "units.h"

#define MIN_SCAN_INTERVAL_USEC (100 * USEC_PER_MSEC)
#define ESC_MAX		       64 /* bytes of a user string quoted in a message */
#define ESC_BUF		       (ESC_MAX * 4 + 8)

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

/* One file's parse: its diagnostics go to diags, nerr counts them. */
struct pctx {
	const char *file;
	struct config_diags *diags;
	unsigned nerr;
	bool oom;
};

/* A mapping's key and value nodes (both NULL when the key is absent). */
struct field {
	const struct ynode *key, *val;
};

/* config-yaml.c */
void config_perr_at(struct pctx *c, unsigned line, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define perr(c, node, ...) config_perr_at(c, (node)->line, (node)->col, __VA_ARGS__)
/* Quote a user string for a message into buf (ESC_BUF bytes); returns buf. */
const char *config_esc(const char *s, char *buf, size_t size);
void ynode_free(struct ynode *n);
bool ynode_is_null(const struct ynode *n);
const char *ynode_kind(const struct ynode *n); /* "null", "scalar", "mapping", ... */
/*
 * Build the tree of the first document. Returns 0 when *ret is a complete
 * tree that may be walked (NULL for an empty stream), 1 when parsing ended on
 * an error that was reported (syntax error, nesting), -ENOMEM.
 */
int ynode_build_tree(struct pctx *c, const char *buf, size_t len, struct ynode **ret);

/* config-fields.c: each returns false after reporting what is wrong. */
bool config_map_fields(struct pctx *c, const struct ynode *n, const char *path, bool null_ok,
		       const char *const keys[], size_t nkeys, struct field f[]);
const char *config_scalar(struct pctx *c, const struct ynode *n, const char *path,
			  const char *what);
bool config_get_string(struct pctx *c, const struct ynode *n, const char *path, const char **ret);
bool config_get_size(struct pctx *c, const struct ynode *n, const char *path, bool rate,
		     uint64_t *ret);
bool config_get_duration(struct pctx *c, const struct ynode *n, const char *path, uint64_t min,
			 uint64_t *ret);
bool config_get_percent(struct pctx *c, const struct ynode *n, const char *path, uint32_t *ret);
bool config_get_bool(struct pctx *c, const struct ynode *n, const char *path, bool *ret);
bool config_get_uint32(struct pctx *c, const struct ynode *n, const char *path, uint32_t min,
		       uint32_t *ret);
/* Plain decimal digits only; false on anything else or overflow. */
bool config_parse_decimal(const char *s, uint64_t max, uint64_t *ret);
