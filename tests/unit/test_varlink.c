/* SPDX-License-Identifier: MIT */
/* varlink_parse_call: what control.c closes the connection on, what it
 * answers with InvalidParameter, and what it dispatches. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "methods.h"
#include "varlink.h"

static int parse(const char *s, struct varlink_call *call, const char **error, char **param)
{
	return varlink_parse_call(s, strlen(s), call, error, param);
}

static void test_call(void **state)
{
	struct varlink_call c;
	const char *error;
	char *param;

	assert_int_equal(parse("{\"method\":\"io.thpd.Manager.GetTarget\","
			       "\"parameters\":{\"pid\":1},\"more\":true}",
			       &c, &error, &param),
			 0);
	assert_null(error);
	assert_null(param);
	assert_string_equal(c.method, "io.thpd.Manager.GetTarget");
	assert_non_null(c.parameters);
	assert_int_equal(json_integer_value(json_object_get(c.parameters, "pid")), 1);
	assert_true(c.more);
	assert_false(c.oneway);
	assert_false(c.upgrade);
	varlink_call_free(&c);
	assert_null(c.message);

	assert_int_equal(
	    parse("{\"method\":\"a.b.C\",\"oneway\":true,\"upgrade\":false}", &c, &error, &param),
	    0);
	assert_null(c.parameters);
	assert_true(c.oneway);
	varlink_call_free(&c);
}

static void test_not_a_message(void **state)
{
	static const char *const bad[] = {"",  "{",    "[]",	"\"x\"",
					  "1", "null", "{} {}", "{\"a\":1,\"a\":2}"};
	struct varlink_call c;
	const char *error;
	char *param;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &c, &error, &param), -EBADMSG);
		assert_null(error);
		assert_non_null(param);
		assert_null(c.message);
		free(param);
	}
	/* Not NUL-terminated: only len bytes are read. */
	assert_int_equal(varlink_parse_call("{\"method\":\"a.b.C\"}xyz", 18, &c, &error, &param),
			 0);
	varlink_call_free(&c);
}

static void test_invalid_call(void **state)
{
	static const char *const bad[] = {
	    "{}",
	    "{\"method\":1}",
	    "{\"method\":\"a.b.C\",\"extra\":1}",
	    "{\"method\":\"a.b.C\",\"oneway\":1}",
	    "{\"method\":\"a.b.C\",\"more\":null}",
	    "{\"method\":\"a.b.C\",\"parameters\":[]}",
	    "{\"method\":\"a.b.C\",\"parameters\":null}",
	};
	struct varlink_call c;
	const char *error;
	char *param;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &c, &error, &param), -EINVAL);
		assert_string_equal(error, VARLINK_ERR_INVALID_PARAM);
		assert_non_null(param);
		assert_null(c.message);
		free(param);
	}
	assert_int_equal(parse("{\"method\":\"a.b.C\",\"parameters\":5}", &c, &error, &param),
			 -EINVAL);
	assert_string_equal(param, "parameters");
	free(param);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_call),
	    cmocka_unit_test(test_not_a_message),
	    cmocka_unit_test(test_invalid_call),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
