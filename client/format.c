/* SPDX-License-Identifier: MIT */
#include "format.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "units.h"

#define SEC_PER_DAY 86400.0

const char *fmt_size(json_int_t bytes, char *buf, size_t len)
{
	return format_size(bytes > 0 ? (uint64_t)bytes : 0, buf, len);
}

const char *fmt_rate(json_int_t bytes_per_sec, char *buf, size_t len)
{
	char size[FMT_BUF];

	if (bytes_per_sec <= 0)
		snprintf(buf, len, "unlimited");
	else
		snprintf(buf, len, "%s/s", fmt_size(bytes_per_sec, size, sizeof(size)));
	return buf;
}

const char *fmt_percent(double percent, char *buf, size_t len)
{
	if (isnan(percent) || percent < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f%%", percent);
	return buf;
}

const char *fmt_share(json_int_t part, json_int_t whole, char *buf, size_t len)
{
	if (whole <= 0 || part < 0)
		return fmt_percent(NAN, buf, len);
	return fmt_percent(100.0 * (double)part / (double)whole, buf, len);
}

const char *fmt_seconds(double sec, char *buf, size_t len)
{
	if (isnan(sec) || sec < 0)
		sec = 0;
	if (sec >= 2 * SEC_PER_DAY) {
		/* Whole days and hours; tenths of a day read badly. */
		double days = floor(sec / SEC_PER_DAY);
		unsigned hours = (unsigned)((sec - days * SEC_PER_DAY) / 3600.0);

		snprintf(buf, len, "%.0f days %u h", days, hours);
		return buf;
	}
	/* Below 2^53 microseconds (285 years) a double converts exactly enough. */
	return format_duration((uint64_t)llround(sec * 1e6), buf, len);
}

const char *fmt_relative(double sec, char *buf, size_t len)
{
	char d[FMT_BUF];

	if (isnan(sec) || fabs(sec) < 0.0005)
		snprintf(buf, len, "now");
	else if (sec > 0)
		snprintf(buf, len, "in %s", fmt_seconds(sec, d, sizeof(d)));
	else
		snprintf(buf, len, "%s ago", fmt_seconds(-sec, d, sizeof(d)));
	return buf;
}

const char *fmt_addr(json_int_t addr, char *buf, size_t len)
{
	snprintf(buf, len, "0x%" PRIx64, (uint64_t)addr);
	return buf;
}

json_int_t jget_int(const json_t *o, const char *key)
{
	const json_t *x = json_object_get(o, key);

	if (json_is_integer(x))
		return json_integer_value(x);
	if (json_is_real(x)) {
		double d = json_real_value(x);
		/* Out of range (or NaN) reads as 0 rather than undefined behaviour. */
		return d > -9.2e18 && d < 9.2e18 ? (json_int_t)d : 0;
	}
	return 0;
}

double jget_real(const json_t *o, const char *key)
{
	const json_t *x = json_object_get(o, key);

	return json_is_number(x) ? json_number_value(x) : 0;
}

const char *jget_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

bool jget_bool(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

const char *jget_str_or(const json_t *o, const char *key, const char *dflt)
{
	const char *s = jget_str(o, key);

	return s ? s : dflt;
}

json_t *jget_obj(const json_t *o, const char *key)
{
	json_t *x = json_object_get(o, key);

	return json_is_object(x) ? x : NULL;
}

json_t *jget_array(const json_t *o, const char *key)
{
	json_t *x = json_object_get(o, key);

	return json_is_array(x) ? x : NULL;
}
