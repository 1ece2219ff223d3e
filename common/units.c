/* SPDX-License-Identifier: MIT */
#include "units.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct unit {
	const char *suffix;
	uint64_t mult;
};

/* Fractional digits beyond this are validated but ignored (1e-9 relative precision). */
#define FRAC_DIGITS_MAX 9

/* A decimal "digits[.digits]" split so it can be scaled without floating point. */
struct number {
	uint64_t ip;	   /* integer part */
	uint64_t frac;	   /* fractional digits as an integer ... */
	uint64_t den;	   /* ... over this power of ten (1 if none) */
	bool overflow;	   /* integer part did not fit */
	bool nonzero_frac; /* any nonzero fractional digit, including ignored ones */
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Parses "digits[.digits]" at *p and advances it. -EINVAL if no number is there. */
static int parse_number(const char **p, struct number *n)
{
	const char *s = *p;

	*n = (struct number){.den = 1};
	if (!is_digit(*s))
		return -EINVAL;
	for (; is_digit(*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (__builtin_mul_overflow(n->ip, 10, &n->ip) ||
		    __builtin_add_overflow(n->ip, d, &n->ip))
			n->overflow = true;
	}
	if (*s == '.') {
		unsigned ndigits = 0;

		s++;
		if (!is_digit(*s))
			return -EINVAL;
		for (; is_digit(*s); s++, ndigits++) {
			if (*s != '0')
				n->nonzero_frac = true;
			if (ndigits < FRAC_DIGITS_MAX) {
				n->frac = n->frac * 10 + (unsigned)(*s - '0');
				n->den *= 10;
			}
		}
	}
	*p = s;
	return 0;
}

/* n * mult, rounded to nearest (halves up). */
static int scale_number(const struct number *n, uint64_t mult, uint64_t *ret)
{
	uint64_t whole, part, q = mult / n->den, r = mult % n->den;

	if (n->overflow)
		return -ERANGE;
	/* frac/den * mult == q*frac + r*frac/den; r, frac < den <= 1e9, so nothing overflows. */
	part = q * n->frac + (r * n->frac + n->den / 2) / n->den;
	if (__builtin_mul_overflow(n->ip, mult, &whole) || __builtin_add_overflow(whole, part, ret))
		return -ERANGE;
	return 0;
}

/*
 * Number, then optionally one space and a suffix from units (so the output of format_*()
 * parses back). A space must be followed by a suffix; "" in units allows none.
 */
static int parse_with_units(const char *s, const struct unit *units, size_t n_units, uint64_t *ret)
{
	struct number num;
	const char *p = s;
	int r;

	if (!s)
		return -EINVAL;
	r = parse_number(&p, &num);
	if (r < 0)
		return r;
	if (*p == ' ') {
		p++;
		if (*p == '\0')
			return -EINVAL;
	}
	for (size_t i = 0; i < n_units; i++)
		if (strcmp(p, units[i].suffix) == 0)
			return scale_number(&num, units[i].mult, ret);
	return -EINVAL;
}

int parse_size(const char *s, uint64_t *ret_bytes)
{
	static const struct unit units[] = {
	    {"", 1},
	    {"B", 1},
	    {"K", 1ULL << 10},
	    {"KiB", 1ULL << 10},
	    {"M", 1ULL << 20},
	    {"MiB", 1ULL << 20},
	    {"G", 1ULL << 30},
	    {"GiB", 1ULL << 30},
	    {"T", 1ULL << 40},
	    {"TiB", 1ULL << 40},
	    {"KB", 1000ULL},
	    {"MB", 1000ULL * 1000},
	    {"GB", 1000ULL * 1000 * 1000},
	    {"TB", 1000ULL * 1000 * 1000 * 1000},
	};
	uint64_t v;
	int r;

	r = parse_with_units(s, units, sizeof(units) / sizeof(units[0]), &v);
	if (r < 0)
		return r;
	*ret_bytes = v;
	return 0;
}

int parse_duration(const char *s, uint64_t *ret_usec)
{
	static const struct unit units[] = {
	    {"us", 1},
	    {"ms", USEC_PER_MSEC},
	    {"s", USEC_PER_SEC},
	    {"m", 60 * USEC_PER_SEC},
	    {"min", 60 * USEC_PER_SEC},
	    {"h", 3600 * USEC_PER_SEC},
	};
	uint64_t v;
	int r;

	r = parse_with_units(s, units, sizeof(units) / sizeof(units[0]), &v);
	if (r < 0)
		return r;
	*ret_usec = v;
	return 0;
}

int parse_percent(const char *s, uint32_t *ret_bp)
{
	struct number num;
	const char *p = s;
	uint64_t v;
	int r;

	if (!s)
		return -EINVAL;
	r = parse_number(&p, &num);
	if (r < 0)
		return r;
	if (strcmp(p, "%") != 0)
		return -EINVAL;
	/* Compare before rounding so that "100.001%" is rejected too. */
	if (num.overflow || num.ip > 100 || (num.ip == 100 && num.nonzero_frac))
		return -ERANGE;
	r = scale_number(&num, BP_PER_100 / 100, &v);
	if (r < 0)
		return r;
	*ret_bp = (uint32_t)v;
	return 0;
}

/* value/unit rounded to one decimal, as whole and tenths. */
static void split_tenths(uint64_t value, uint64_t unit, uint64_t *whole, unsigned *tenths)
{
	uint64_t rem = value % unit;

	*whole = value / unit;
	/* rem * 10 < 10 * unit, which fits for every unit used here (<= 2^60). */
	*tenths = (unsigned)((rem * 10 + unit / 2) / unit);
	if (*tenths == 10) {
		(*whole)++;
		*tenths = 0;
	}
}

const char *format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const names[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	uint64_t whole;
	unsigned tenths, i;

	if (!buf || len == 0)
		return buf;
	if (bytes < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
		return buf;
	}
	for (i = 0; i + 1 < sizeof(names) / sizeof(names[0]); i++)
		if (bytes < (1ULL << (10 * (i + 2))))
			break;
	split_tenths(bytes, 1ULL << (10 * (i + 1)), &whole, &tenths);
	/* 1023.96 KiB rounds to 1024.0 KiB: show 1.0 MiB instead. */
	if (whole == 1024 && i + 1 < sizeof(names) / sizeof(names[0])) {
		i++;
		split_tenths(bytes, 1ULL << (10 * (i + 1)), &whole, &tenths);
	}
	snprintf(buf, len, "%llu.%u %s", (unsigned long long)whole, tenths, names[i]);
	return buf;
}

const char *format_duration(uint64_t usec, char *buf, size_t len)
{
	static const struct unit units[] = {
	    {"s", USEC_PER_SEC},
	    {"min", 60 * USEC_PER_SEC},
	    {"h", 3600 * USEC_PER_SEC},
	};
	uint64_t whole;
	unsigned tenths;
	size_t i;

	if (!buf || len == 0)
		return buf;
	if (usec < USEC_PER_MSEC) {
		snprintf(buf, len, "%llu us", (unsigned long long)usec);
		return buf;
	}
	if (usec < USEC_PER_SEC - USEC_PER_MSEC / 2) {
		snprintf(buf, len, "%llu ms",
			 (unsigned long long)((usec + USEC_PER_MSEC / 2) / USEC_PER_MSEC));
		return buf;
	}
	for (i = 0;; i++) {
		split_tenths(usec, units[i].mult, &whole, &tenths);
		/* Move up once the rounded value reaches 60 (59.96 s -> "1.0 min"). */
		if (i + 1 == sizeof(units) / sizeof(units[0]) || whole < 60)
			break;
	}
	snprintf(buf, len, "%llu.%u %s", (unsigned long long)whole, tenths, units[i].suffix);
	return buf;
}
