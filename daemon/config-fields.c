/* SPDX-License-Identifier: MIT */
/*
 * Config fields (pure): a mapping's keys checked against the schema, and
 * scalars read as strings, sizes, durations, percentages, booleans and
 * integers, each problem reported where it was written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config-internal.h"
#include "units.h"
#include "util.h"

static const char SIZE_EXPECTED[] = "expected a number with B, K, KiB, M, MiB, G, GiB, T, TiB";
static const char DURATION_EXPECTED[] = "expected a number with a unit: us, ms, s, m, h";

/* ---- schema helpers ---------------------------------------------------------- */

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
bool config_map_fields(struct pctx *c, const struct ynode *n, const char *path, bool null_ok,
		       const char *const keys[], size_t nkeys, struct field f[])
{
	char eb[ESC_BUF], list[256];

	memset(f, 0, nkeys * sizeof(*f));
	if (n->type == YN_BAD)
		return false;
	if (null_ok && ynode_is_null(n))
		return true;
	if (n->type != YN_MAP) {
		perr(c, n, "%s: expected a mapping, got a %s", path, ynode_kind(n));
		return false;
	}
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct ynode *k = n->kids[i], *v = n->kids[i + 1];
		size_t j;

		if (k->type == YN_BAD)
			continue;
		if (k->type != YN_SCALAR) {
			perr(c, k, "%s: keys must be strings, got a %s", path, ynode_kind(k));
			continue;
		}
		for (j = 0; j < nkeys; j++)
			if (streq(k->str, keys[j]))
				break;
		if (j == nkeys) {
			config_esc(k->str, eb, sizeof(eb));
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
const char *config_scalar(struct pctx *c, const struct ynode *n, const char *path, const char *what)
{
	if (n->type == YN_BAD)
		return NULL;
	if (n->type != YN_SCALAR) {
		perr(c, n, "%s: expected %s, got a %s", path, what, ynode_kind(n));
		return NULL;
	}
	if (ynode_is_null(n)) {
		perr(c, n, "%s: missing value (expected %s)", path, what);
		return NULL;
	}
	return n->str;
}

bool config_get_string(struct pctx *c, const struct ynode *n, const char *path, const char **ret)
{
	const char *s = config_scalar(c, n, path, "a string");

	if (!s)
		return false;
	if (!*s) {
		perr(c, n, "%s: must not be empty", path);
		return false;
	}
	*ret = s;
	return true;
}

/* Report "PATH: bad WHAT "VALUE": DETAIL" at n; returns false. */
static bool bad_value(struct pctx *c, const struct ynode *n, const char *path, const char *what,
		      const char *detail)
{
	char eb[ESC_BUF];

	perr(c, n, "%s: bad %s \"%s\": %s", path, what, config_esc(n->str, eb, sizeof(eb)), detail);
	return false;
}

/* A parse_size() or parse_duration() result r: false after reporting a failure. */
static bool parsed(struct pctx *c, const struct ynode *n, const char *path, const char *what, int r,
		   const char *expected)
{
	if (r == -ERANGE)
		return bad_value(c, n, path, what, "too large");
	if (r < 0)
		return bad_value(c, n, path, what, expected);
	return true;
}

/* rate: a trailing "/s" is accepted ("256MiB/s"). */
bool config_get_size(struct pctx *c, const struct ynode *n, const char *path, bool rate,
		     uint64_t *ret)
{
	const char *s = config_scalar(c, n, path, rate ? "a size per second" : "a size");
	char *tmp = NULL;
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
	return parsed(c, n, path, "size", r, SIZE_EXPECTED);
}

bool config_get_duration(struct pctx *c, const struct ynode *n, const char *path, uint64_t min,
			 uint64_t *ret)
{
	const char *s = config_scalar(c, n, path, "a duration");
	char eb[ESC_BUF];
	uint64_t v;
	int r;

	if (!s)
		return false;
	r = parse_duration(s, &v);
	if (!parsed(c, n, path, "duration", r, DURATION_EXPECTED))
		return false;
	if (v < min) {
		if (min == 1)
			perr(c, n, "%s: duration \"%s\" must be greater than 0", path,
			     config_esc(s, eb, sizeof(eb)));
		else
			perr(c, n, "%s: duration \"%s\" is too short: must be at least %llums",
			     path, config_esc(s, eb, sizeof(eb)),
			     (unsigned long long)(min / USEC_PER_MSEC));
		return false;
	}
	*ret = v;
	return true;
}

bool config_get_percent(struct pctx *c, const struct ynode *n, const char *path, uint32_t *ret)
{
	const char *s = config_scalar(c, n, path, "a percentage");
	uint32_t v;

	if (!s)
		return false;
	if (parse_percent(s, &v) < 0 || v > BP_PER_100)
		return bad_value(c, n, path, "percentage", "expected 0% to 100%, e.g. \"90%\"");
	*ret = v;
	return true;
}

bool config_get_bool(struct pctx *c, const struct ynode *n, const char *path, bool *ret)
{
	const char *s = config_scalar(c, n, path, "a boolean");

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
	return bad_value(c, n, path, "boolean", "expected true, false, yes or no");
}

/* Plain decimal digits only; false on anything else or overflow. */
bool config_parse_decimal(const char *s, uint64_t max, uint64_t *ret)
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

bool config_get_uint32(struct pctx *c, const struct ynode *n, const char *path, uint32_t min,
		       uint32_t *ret)
{
	const char *s = config_scalar(c, n, path, "an integer");
	char detail[64];
	uint64_t v;

	if (!s)
		return false;
	if (!config_parse_decimal(s, UINT32_MAX, &v) || v < min) {
		snprintf(detail, sizeof(detail), "expected a whole number from %u to %u", min,
			 UINT32_MAX);
		return bad_value(c, n, path, "integer", detail);
	}
	*ret = (uint32_t)v;
	return true;
}
