/* SPDX-License-Identifier: MIT */
#include "pressure.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "avg10=12.34" at the start of the line's fields -> 1234 basis points. */
static int parse_line(const char *line, const char *end, const char *kind, uint32_t *bp)
{
	size_t klen = strlen(kind);
	const char *p;
	unsigned long whole = 0, frac = 0;
	int digits = 0;

	if ((size_t)(end - line) < klen + 8 || memcmp(line, kind, klen) != 0 ||
	    memcmp(line + klen, " avg10=", 7) != 0)
		return -EINVAL;
	p = line + klen + 7;
	if (p >= end || *p < '0' || *p > '9')
		return -EINVAL;
	while (p < end && *p >= '0' && *p <= '9' && whole <= 100)
		whole = whole * 10 + (unsigned long)(*p++ - '0');
	if (p < end && *p == '.')
		for (p++; p < end && *p >= '0' && *p <= '9'; p++)
			if (digits < 2) {
				frac = frac * 10 + (unsigned long)(*p - '0');
				digits++;
			}
	while (digits++ < 2)
		frac *= 10;
	if (whole > 100 || (p < end && *p != ' '))
		return -EINVAL;
	*bp = (uint32_t)(whole * 100 + frac);
	if (*bp > 10000)
		*bp = 10000;
	return 0;
}

int psi_parse(const char *buf, size_t len, struct psi_avg *out)
{
	const char *p = buf, *end = buf + len;
	bool some = false;

	*out = (struct psi_avg){0};
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		if (parse_line(p, eol, "some", &out->some_bp) == 0)
			some = true;
		else if (parse_line(p, eol, "full", &out->full_bp) < 0)
			return -EINVAL;
		p = eol + 1;
	}
	return some ? 0 : -EINVAL;
}

static bool over(uint32_t value, uint32_t threshold, bool was_high)
{
	if (threshold == 0)
		return false;
	return was_high ? value > threshold / 2 : value > threshold;
}

bool psi_high(const struct psi_avg *v, uint32_t some_bp, uint32_t full_bp, bool was_high, char *why,
	      size_t why_len)
{
	bool some = over(v->some_bp, some_bp, was_high), full = over(v->full_bp, full_bp, was_high);
	const char *kind = full ? "full" : "some";
	uint32_t value = full ? v->full_bp : v->some_bp, limit = full ? full_bp : some_bp;

	if (!some && !full) {
		if (why_len)
			snprintf(why, why_len, "some avg10 %u.%02u%%, full avg10 %u.%02u%%",
				 v->some_bp / 100, v->some_bp % 100, v->full_bp / 100,
				 v->full_bp % 100);
		return false;
	}
	if (why_len)
		snprintf(why, why_len, "%s avg10 %u.%02u%% %s %u.%02u%%", kind, value / 100,
			 value % 100, was_high ? "still above half of" : ">", limit / 100,
			 limit % 100);
	return true;
}
