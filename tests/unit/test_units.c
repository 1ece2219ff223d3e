/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "units.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define TiB (1ULL << 40)

static void check_size(const char *s, uint64_t want)
{
	uint64_t v = 0xdeadbeef;

	print_message("parse_size(\"%s\")\n", s);
	assert_int_equal(parse_size(s, &v), 0);
	assert_int_equal(v, want);
}

static void check_size_err(const char *s, int err)
{
	uint64_t v = 0xdeadbeef;

	print_message("parse_size(\"%s\") should fail\n", s ? s : "(null)");
	assert_int_equal(parse_size(s, &v), err);
	assert_int_equal(v, 0xdeadbeef); /* untouched on error */
}

static void check_dur(const char *s, uint64_t want)
{
	uint64_t v = 0xdeadbeef;

	print_message("parse_duration(\"%s\")\n", s);
	assert_int_equal(parse_duration(s, &v), 0);
	assert_int_equal(v, want);
}

static void check_dur_err(const char *s, int err)
{
	uint64_t v = 0xdeadbeef;

	print_message("parse_duration(\"%s\") should fail\n", s ? s : "(null)");
	assert_int_equal(parse_duration(s, &v), err);
	assert_int_equal(v, 0xdeadbeef);
}

static void check_pct(const char *s, uint32_t want)
{
	uint32_t v = 0xdead;

	print_message("parse_percent(\"%s\")\n", s);
	assert_int_equal(parse_percent(s, &v), 0);
	assert_int_equal(v, want);
}

static void check_pct_err(const char *s, int err)
{
	uint32_t v = 0xdead;

	print_message("parse_percent(\"%s\") should fail\n", s ? s : "(null)");
	assert_int_equal(parse_percent(s, &v), err);
	assert_int_equal(v, 0xdead);
}

static void test_size_plain(void **state)
{
	check_size("0", 0);
	check_size("1", 1);
	check_size("4096", 4096);
	check_size("007", 7);
	check_size("18446744073709551615", UINT64_MAX);
}

static void test_size_suffixes(void **state)
{
	check_size("10B", 10);
	check_size("1K", KiB);
	check_size("512KiB", 512 * KiB);
	check_size("3M", 3 * MiB);
	check_size("3MiB", 3 * MiB);
	check_size("2G", 2 * GiB);
	check_size("2GiB", 2 * GiB);
	check_size("1T", TiB);
	check_size("5TiB", 5 * TiB);
	check_size("1KB", 1000);
	check_size("64MB", 64000000ULL);
	check_size("3GB", 3000000000ULL);
	check_size("2TB", 2000000000000ULL);
	check_size("0GiB", 0);
	/* One space between number and unit, as format_size() prints it. */
	check_size("4 KiB", 4 * KiB);
	check_size("12 B", 12);
}

static void test_size_fractions(void **state)
{
	check_size("1.5G", GiB + GiB / 2);
	check_size("1.5GiB", GiB + GiB / 2);
	check_size("0.5KiB", 512);
	check_size("0.25MiB", MiB / 4);
	check_size("1.5KB", 1500);
	check_size("2.0 MiB", 2 * MiB);
	/* Rounded to the nearest byte, halves up. */
	check_size("0.1KiB", 102);  /* 102.4 */
	check_size("0.3KiB", 307);  /* 307.2 */
	check_size("0.0005KiB", 1); /* 0.512 */
	check_size("0.0004KiB", 0); /* 0.4096 */
	check_size("1.5", 2);
	check_size("1.4B", 1);
	check_size("1.000000000000000000001TiB", TiB);
	check_size("0.1TiB", 109951162778ULL); /* 109951162777.6 */
	check_size("16383.999TiB", 18014397409970356ULL);
}

static void test_size_overflow(void **state)
{
	check_size_err("18446744073709551616", -ERANGE);
	check_size_err("99999999999999999999999999", -ERANGE);
	check_size_err("16777216TiB", -ERANGE); /* 2^64 */
	check_size_err("17179869184GiB", -ERANGE);
	check_size("16777215.5TiB", 18446743523953737728ULL);
	check_size_err("18446744073709551615.5", -ERANGE);
	check_size_err("18446744073709552KB", -ERANGE);
	check_size("16777215TiB", 16777215ULL * TiB);
	/* Syntax errors win over range errors. */
	check_size_err("99999999999999999999999999X", -EINVAL);
}

static void test_size_garbage(void **state)
{
	check_size_err(NULL, -EINVAL);
	check_size_err("", -EINVAL);
	check_size_err(" ", -EINVAL);
	check_size_err("-1", -EINVAL);
	check_size_err("-1K", -EINVAL);
	check_size_err("+1", -EINVAL);
	check_size_err(" 1K", -EINVAL);
	check_size_err("1K ", -EINVAL);
	check_size_err("1 ", -EINVAL);
	check_size_err("1  K", -EINVAL);
	check_size_err("1\tK", -EINVAL);
	check_size_err("K", -EINVAL);
	check_size_err("KiB", -EINVAL);
	check_size_err("1X", -EINVAL);
	check_size_err("1k", -EINVAL);
	check_size_err("1kb", -EINVAL);
	check_size_err("1Ki", -EINVAL);
	check_size_err("1KiBx", -EINVAL);
	check_size_err("1PiB", -EINVAL);
	check_size_err("1.", -EINVAL);
	check_size_err(".5G", -EINVAL);
	check_size_err("1.G", -EINVAL);
	check_size_err("1..5G", -EINVAL);
	check_size_err("1.5.G", -EINVAL);
	check_size_err("1,5G", -EINVAL);
	check_size_err("0x10", -EINVAL);
	check_size_err("1e3", -EINVAL);
	check_size_err("nan", -EINVAL);
	check_size_err("inf", -EINVAL);
}

static void test_duration_units(void **state)
{
	check_dur("0us", 0);
	check_dur("500us", 500);
	check_dur("100ms", 100 * USEC_PER_MSEC);
	check_dur("2s", 2 * USEC_PER_SEC);
	check_dur("5m", 300 * USEC_PER_SEC);
	check_dur("5min", 300 * USEC_PER_SEC);
	check_dur("1h", 3600 * USEC_PER_SEC);
	check_dur("24h", 86400 * USEC_PER_SEC);
	check_dur("100 ms", 100 * USEC_PER_MSEC);
	check_dur("0s", 0);
}

static void test_duration_fractions(void **state)
{
	check_dur("1.5s", 1500000);
	check_dur("0.5ms", 500);
	check_dur("1.5us", 2); /* rounds half up */
	check_dur("1.4us", 1);
	check_dur("0.1s", 100000);
	check_dur("0.5m", 30 * USEC_PER_SEC);
	check_dur("1.5h", 5400 * USEC_PER_SEC);
	check_dur("0.000001s", 1);
	check_dur("0.0000004s", 0);
	check_dur("2.0 s", 2 * USEC_PER_SEC);
}

static void test_duration_errors(void **state)
{
	check_dur_err(NULL, -EINVAL);
	check_dur_err("", -EINVAL);
	check_dur_err("5", -EINVAL); /* bare number is ambiguous */
	check_dur_err("1.5", -EINVAL);
	check_dur_err("-1s", -EINVAL);
	check_dur_err("s", -EINVAL);
	check_dur_err(" 1s", -EINVAL);
	check_dur_err("1s ", -EINVAL);
	check_dur_err("1 ", -EINVAL);
	check_dur_err("1sec", -EINVAL);
	check_dur_err("1S", -EINVAL);
	check_dur_err("1d", -EINVAL);
	check_dur_err("1ns", -EINVAL);
	check_dur_err("1s1ms", -EINVAL);
	check_dur_err("1.s", -EINVAL);
	check_dur_err("5mx", -EINVAL);
	check_dur_err("18446744073709551616us", -ERANGE);
	check_dur_err("18446744073709551615ms", -ERANGE);
	check_dur_err("5124095577h", -ERANGE); /* > 2^64 us */
	check_dur("5124095576h", 5124095576ULL * 3600 * USEC_PER_SEC);
	check_dur("18446744073709551615us", UINT64_MAX);
}

static void test_percent(void **state)
{
	check_pct("0%", 0);
	check_pct("50%", 5000);
	check_pct("100%", BP_PER_100);
	check_pct("12.5%", 1250);
	check_pct("1.56%", 156);
	check_pct("0.01%", 1);
	check_pct("0.005%", 1); /* 0.5 bp rounds up */
	check_pct("0.004%", 0);
	check_pct("100.0%", BP_PER_100);
	check_pct("100.000%", BP_PER_100);
	check_pct("099%", 9900);
}

static void test_percent_errors(void **state)
{
	check_pct_err(NULL, -EINVAL);
	check_pct_err("", -EINVAL);
	check_pct_err("%", -EINVAL);
	check_pct_err("50", -EINVAL); /* '%' is required */
	check_pct_err("-5%", -EINVAL);
	check_pct_err("50%%", -EINVAL);
	check_pct_err("50 %", -EINVAL);
	check_pct_err(" 50%", -EINVAL);
	check_pct_err("50% ", -EINVAL);
	check_pct_err("0.5", -EINVAL);
	check_pct_err("abc%", -EINVAL);
	check_pct_err("101%", -ERANGE);
	check_pct_err("100.01%", -ERANGE);
	check_pct_err("100.0000000000001%", -ERANGE);
	check_pct_err("99999999999999999999999%", -ERANGE);
}

static void check_fmt_size(uint64_t v, const char *want)
{
	char buf[32];

	assert_string_equal(format_size(v, buf, sizeof(buf)), want);
}

static void check_fmt_dur(uint64_t v, const char *want)
{
	char buf[32];

	assert_string_equal(format_duration(v, buf, sizeof(buf)), want);
}

static void test_format_size(void **state)
{
	char buf[32], small[4];

	check_fmt_size(0, "0 B");
	check_fmt_size(1, "1 B");
	check_fmt_size(512, "512 B");
	check_fmt_size(1023, "1023 B");
	check_fmt_size(1024, "1.0 KiB");
	check_fmt_size(4096, "4.0 KiB");
	check_fmt_size(1536, "1.5 KiB");
	check_fmt_size(512 * MiB, "512.0 MiB");
	check_fmt_size(GiB + GiB / 2, "1.5 GiB");
	check_fmt_size(2 * MiB, "2.0 MiB");
	check_fmt_size(3 * TiB, "3.0 TiB");
	check_fmt_size(1ULL << 50, "1.0 PiB");
	check_fmt_size(UINT64_MAX, "16.0 EiB");
	/* Rounding carries into the next unit rather than printing 1024.0. */
	check_fmt_size(MiB - 1, "1.0 MiB");
	check_fmt_size(1023 * KiB + 1000, "1.0 MiB");
	check_fmt_size(1023 * KiB, "1023.0 KiB");
	check_fmt_size(KiB + 51, "1.0 KiB");
	check_fmt_size(KiB + 52, "1.1 KiB");

	/* Returns buf, truncates safely. */
	assert_ptr_equal(format_size(4096, buf, sizeof(buf)), buf);
	assert_string_equal(format_size(4096, small, sizeof(small)), "4.0");
}

static void test_format_duration(void **state)
{
	char small[3];

	check_fmt_dur(0, "0 us");
	check_fmt_dur(500, "500 us");
	check_fmt_dur(999, "999 us");
	check_fmt_dur(1000, "1 ms");
	check_fmt_dur(100 * USEC_PER_MSEC, "100 ms");
	check_fmt_dur(1499, "1 ms");
	check_fmt_dur(1500, "2 ms");
	check_fmt_dur(999499, "999 ms");
	check_fmt_dur(999500, "1.0 s");
	check_fmt_dur(2 * USEC_PER_SEC, "2.0 s");
	check_fmt_dur(1500 * USEC_PER_MSEC, "1.5 s");
	check_fmt_dur(59 * USEC_PER_SEC, "59.0 s");
	check_fmt_dur(59960 * USEC_PER_MSEC, "1.0 min");
	check_fmt_dur(60 * USEC_PER_SEC, "1.0 min");
	check_fmt_dur(300 * USEC_PER_SEC, "5.0 min");
	check_fmt_dur(90 * USEC_PER_SEC, "1.5 min");
	check_fmt_dur(3600 * USEC_PER_SEC, "1.0 h");
	check_fmt_dur(7200 * USEC_PER_SEC, "2.0 h");
	check_fmt_dur(48 * 3600 * USEC_PER_SEC, "48.0 h");
	check_fmt_dur(UINT64_MAX, "5124095576.0 h");

	assert_string_equal(format_duration(500, small, sizeof(small)), "50");
}

static void test_round_trip(void **state)
{
	static const uint64_t sizes[] = {0,    1,	512,	   1023,	  1024,	   4096,
					 1536, 2 * MiB, 512 * MiB, GiB + GiB / 2, 3 * GiB, 7 * TiB};
	static const uint64_t durs[] = {0,
					500,
					999,
					1000,
					100 * USEC_PER_MSEC,
					2 * USEC_PER_SEC,
					1500 * USEC_PER_MSEC,
					300 * USEC_PER_SEC,
					90 * USEC_PER_SEC,
					2 * 3600 * USEC_PER_SEC,
					5400 * USEC_PER_SEC};
	char buf[32];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_size(format_size(sizes[i], buf, sizeof(buf)), sizes[i]);
	for (size_t i = 0; i < sizeof(durs) / sizeof(durs[0]); i++)
		check_dur(format_duration(durs[i], buf, sizeof(buf)), durs[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_size_plain),
	    cmocka_unit_test(test_size_suffixes),
	    cmocka_unit_test(test_size_fractions),
	    cmocka_unit_test(test_size_overflow),
	    cmocka_unit_test(test_size_garbage),
	    cmocka_unit_test(test_duration_units),
	    cmocka_unit_test(test_duration_fractions),
	    cmocka_unit_test(test_duration_errors),
	    cmocka_unit_test(test_percent),
	    cmocka_unit_test(test_percent_errors),
	    cmocka_unit_test(test_format_size),
	    cmocka_unit_test(test_format_duration),
	    cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
