/* SPDX-License-Identifier: MIT */
/* Kernel features: the pure parts (see kfeatures.h; probing is in kfeatures-probe.c). */
#include "kfeatures.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

const char *feature_state_name(enum feature_state s)
{
	static const char *const names[] = {
	    [FEATURE_UNKNOWN] = "unknown",
	    [FEATURE_YES] = "yes",
	    [FEATURE_NO] = "no",
	    [FEATURE_DENIED] = "denied",
	};

	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "unknown";
}

enum feature_state features_collapse_state(int err)
{
	switch (err) {
	case 0:
		return FEATURE_YES;
	case EPERM:  /* capable(CAP_SYS_NICE), checked after the advice */
	case EACCES: /* mm_access(): ptrace, checked after the advice before 6.13 */
		return FEATURE_DENIED;
	case EINVAL: /* the advice: no MADV_COLLAPSE (before 6.1, or no THP) */
	case ENOSYS: /* no process_madvise (before 5.10) or pidfd_open (5.3) */
		return FEATURE_NO;
	default:
		return FEATURE_UNKNOWN;
	}
}

enum feature_state features_pagemap_scan_state(int err)
{
	switch (err) {
	case 0:
		return FEATURE_YES;
	case ENOTTY: /* /proc/PID/pagemap has no ioctl before 6.7 */
	case EINVAL:
		return FEATURE_NO;
	default:
		return FEATURE_UNKNOWN;
	}
}

enum feature_state features_proc_connector_state(int err)
{
	switch (err) {
	case 0:
		return FEATURE_YES;
	case EPERM:	   /* bind to the group without CAP_NET_ADMIN (before 6.6) */
	case EACCES:	   /* a sandbox */
	case EAFNOSUPPORT: /* systemd's RestrictAddressFamilies= */
		return FEATURE_DENIED;
	case EPROTONOSUPPORT: /* no CONFIG_CONNECTOR */
		return FEATURE_NO;
	default:
		return FEATURE_UNKNOWN;
	}
}

enum feature_state features_file_state(int err)
{
	switch (err) {
	case 0:
		return FEATURE_YES;
	case ENOENT:
	case ENOTDIR:
	case EOPNOTSUPP:
		return FEATURE_NO;
	case EACCES:
	case EPERM:
		return FEATURE_DENIED;
	default:
		return FEATURE_UNKNOWN;
	}
}

bool features_damon_ops_have_vaddr(const char *text)
{
	const char *p = text;

	while (p && *p) {
		while (*p && isspace((unsigned char)*p))
			p++;
		size_t n = 0;
		while (p[n] && !isspace((unsigned char)p[n]))
			n++;
		if (n == 5 && strncmp(p, "vaddr", 5) == 0)
			return true;
		p += n;
	}
	return false;
}

/* Does line [s, s+n) equal the concatenation a b c? */
static bool line_is(const char *s, size_t n, const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);

	return n == la + lb + lc && memcmp(s, a, la) == 0 && memcmp(s + la, b, lb) == 0 &&
	       memcmp(s + la + lb, c, lc) == 0;
}

char features_kconfig_value(const char *text, size_t len, const char *name)
{
	size_t name_len = strlen(name);
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (line_is(p, n, "# ", name, " is not set"))
			return 'n';
		if (n == name_len + 2 && memcmp(p, name, name_len) == 0 && p[name_len] == '=') {
			char v = p[name_len + 1];
			if (v == 'y' || v == 'm' || v == 'n')
				return v;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

static const char *err_name(int err)
{
	const char *n = err > 0 ? strerrorname_np(err) : NULL;
	return n ? n : "?";
}

const char *features_fatal(const struct kernel_features *f, char *buf, size_t len)
{
	const struct feature *c = &f->madv_collapse;

	if (c->state != FEATURE_NO)
		return NULL;
	if (c->err == ENOSYS)
		snprintf(buf, len,
			 "this kernel (%s) has no process_madvise (ENOSYS; Linux 6.1 or later is "
			 "needed); exiting",
			 f->release);
	else
		snprintf(buf, len,
			 "this kernel (%s) has no MADV_COLLAPSE (Linux 6.1 or later is needed); "
			 "exiting",
			 f->release);
	return buf;
}

/* "yes", "no (note)", "denied (EPERM)", "unknown (EIO)", "unknown". */
static void describe(char *out, size_t len, const struct feature *x, const char *no_note)
{
	const char *s = feature_state_name(x->state);

	if (x->state == FEATURE_YES && x->source)
		snprintf(out, len, "%s (%s)", s, x->source);
	else if (x->state == FEATURE_YES)
		snprintf(out, len, "%s", s);
	else if (x->state == FEATURE_NO && no_note)
		snprintf(out, len, "%s (%s)", s, no_note);
	else if (x->source)
		snprintf(out, len, "%s (%s)", s, x->source);
	else if (x->err)
		snprintf(out, len, "%s (%s)", s, err_name(x->err));
	else
		snprintf(out, len, "%s", s);
}

const char *features_format_line(const struct kernel_features *f, char *buf, size_t len)
{
	char c[64], pm[64], cn[64], psi[64], dv[96];

	describe(c, sizeof(c), &f->madv_collapse, NULL);
	describe(pm, sizeof(pm), &f->pagemap_scan, "pagemap fallback");
	describe(cn, sizeof(cn), &f->proc_connector, NULL);
	describe(psi, sizeof(psi), &f->psi, NULL);
	describe(dv, sizeof(dv), &f->damon_vaddr, NULL);
	snprintf(buf, len,
		 "kernel %s: MADV_COLLAPSE on other processes: %s; PAGEMAP_SCAN: %s; proc "
		 "connector: %s; PSI: %s; DAMON vaddr: %s; THP enabled=%s defrag=%s",
		 *f->release ? f->release : "unknown", c, pm, cn, psi, dv,
		 *f->thp_enabled ? f->thp_enabled : "unknown",
		 *f->thp_defrag ? f->thp_defrag : "unknown");
	return buf;
}
