/* SPDX-License-Identifier: MIT */
/* thp_mode_parse on sysfs-like text; thp_mode_read on this machine. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "thpmode.h"

static void test_parse(void **state)
{
	char buf[32];

	assert_string_equal(thp_mode_parse("always [madvise] never", buf, sizeof(buf)), "madvise");
	assert_string_equal(thp_mode_parse("[always] madvise never", buf, sizeof(buf)), "always");
	assert_string_equal(thp_mode_parse("always madvise [never]\n", buf, sizeof(buf)), "never");
	/* Returns buf itself. */
	assert_ptr_equal(thp_mode_parse("[always] madvise never\n", buf, sizeof(buf)), buf);
	/* shmem_enabled has more words. */
	assert_string_equal(
	    thp_mode_parse("always within_size advise [never] deny force\n", buf, sizeof(buf)),
	    "never");
}

static void test_parse_garbage(void **state)
{
	char buf[32];

	memset(buf, 'x', sizeof(buf));
	assert_string_equal(thp_mode_parse("garbage", buf, sizeof(buf)), "unknown");
	assert_string_equal(thp_mode_parse("", buf, sizeof(buf)), "unknown");
	assert_string_equal(thp_mode_parse("always madvise never", buf, sizeof(buf)), "unknown");
	assert_string_equal(thp_mode_parse("always [madvise never", buf, sizeof(buf)), "unknown");
	assert_string_equal(thp_mode_parse("always madvise] never", buf, sizeof(buf)), "unknown");
	assert_string_equal(thp_mode_parse("]always[ madvise", buf, sizeof(buf)), "unknown");
}

static void test_parse_small_buffer(void **state)
{
	char buf[4];

	memset(buf, 'x', sizeof(buf));
	assert_string_equal(thp_mode_parse("always [madvise] never", buf, sizeof(buf)), "mad");
	assert_string_equal(thp_mode_parse("garbage", buf, sizeof(buf)), "unk");
}

static void test_read(void **state)
{
	char buf[32];
	const char *m = thp_mode_read(buf, sizeof(buf));

	assert_ptr_equal(m, buf);
	if (access(THP_ENABLED_PATH, R_OK) != 0) {
		assert_string_equal(m, "unknown");
		return;
	}
	assert_true(strcmp(m, "always") == 0 || strcmp(m, "madvise") == 0 ||
		    strcmp(m, "never") == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_parse_garbage),
	    cmocka_unit_test(test_parse_small_buffer),
	    cmocka_unit_test(test_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
