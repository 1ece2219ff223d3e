/* SPDX-License-Identifier: MIT */
/*
 * buddyinfo_free_blocks on /proc/buddyinfo recorded on Linux 6.18
 * (tests/data/proc/buddyinfo.sample) and on hand-made text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buddyinfo.h"

static char *load(const char *rel, size_t *ret_len)
{
	char path[512];
	FILE *f;
	char *buf;
	long sz;

	snprintf(path, sizeof(path), "%s/%s", TEST_DATA_DIR, rel);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	sz = ftell(f);
	assert_true(sz > 0);
	rewind(f);
	/* NUL-terminated, as read_file_at() hands it to the daemon. */
	buf = malloc((size_t)sz + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)sz, f), (size_t)sz);
	buf[sz] = '\0';
	fclose(f);
	*ret_len = (size_t)sz;
	return buf;
}

static uint64_t blocks(const char *s, unsigned order)
{
	return buddyinfo_free_blocks(s, strlen(s), order);
}

static void test_sample(void **state)
{
	size_t len;
	char *buf = load("proc/buddyinfo.sample", &len);

	/*
	 * Node 0, zone      DMA  0 0 0 0 0 0 0 0 1 1 3
	 * Node 0, zone    DMA32  1 2 4 2 5 4 3 3 4 2 752
	 * Node 0, zone   Normal  136 491 1331 1534 593 901 470 287 230 33 542
	 */
	assert_int_equal(buddyinfo_free_blocks(buf, len, 9),
			 (1 + 3 * 2) + (2 + 752 * 2) + (33 + 542 * 2));
	assert_int_equal(buddyinfo_free_blocks(buf, len, 9), 2630);
	assert_int_equal(buddyinfo_free_blocks(buf, len, 10), 3 + 752 + 542);
	assert_int_equal(buddyinfo_free_blocks(buf, len, 1), 765627);
	assert_int_equal(buddyinfo_free_blocks(buf, len, 0), 1531391);
	/* No order-11 column. */
	assert_int_equal(buddyinfo_free_blocks(buf, len, 11), 0);
	assert_int_equal(buddyinfo_free_blocks(buf, len, 64), 0);
	free(buf);
}

static const char multi[] =
    "Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      "
    "1      3 \n"
    "Node 0, zone    DMA32      1      2      4      2      5      4      3      3      4      "
    "2    100 \n"
    "Node 0, zone   Normal    137    589   1353   1536    558    467    472    284    230     "
    "33    541 \n"
    "Node 1, zone   Normal     10     20     30     40     50     60     70     80     90      "
    "7     11 \n"
    "Node 1, zone  Movable      1      1      1      1      1      1      1      1      1      "
    "1      1 \n";

static void test_nodes_and_zones(void **state)
{
	assert_int_equal(blocks(multi, 9), 1356);
	assert_int_equal(blocks(multi, 10), 3 + 100 + 541 + 11 + 1);
	assert_int_equal(blocks(multi, 3), 112407);
	assert_int_equal(blocks(multi, 0), 906181);

	/* Node 1 alone. */
	const char *n1 = strstr(multi, "Node 1");
	assert_int_equal(blocks(n1, 9), (7 + 11 * 2) + (1 + 1 * 2));
	/* The first line alone (len cuts at its newline). */
	assert_int_equal(buddyinfo_free_blocks(multi, (size_t)(strchr(multi, '\n') - multi), 9),
			 1 + 3 * 2);
}

static void test_order10_counts_twice(void **state)
{
	const char *s =
	    "Node 0, zone   Normal      0      0      0      0      0      0      0      "
	    "0      0      0      5\n";

	assert_int_equal(blocks(s, 10), 5);
	assert_int_equal(blocks(s, 9), 10);
	assert_int_equal(blocks(s, 8), 20);
	assert_int_equal(blocks(s, 0), 5 << 10);

	s = "Node 0, zone   Normal      0      0      0      0      0      0      0      "
	    "0      0      4      0\n";
	assert_int_equal(blocks(s, 10), 0);
	assert_int_equal(blocks(s, 9), 4);
	assert_int_equal(blocks(s, 2), 4 << 7);
}

static void test_order0(void **state)
{
	const char *s =
	    "Node 0, zone   Normal      1      1      1      1      1      1      1      "
	    "1      1      1      1\n";

	assert_int_equal(blocks(s, 0), 2047);
	assert_int_equal(blocks(s, 1), 1023);
	assert_int_equal(blocks(s, 9), 3);

	s = "Node 0, zone   Normal      7      0      0      0      0      0      0      "
	    "0      0      0      0\n";
	assert_int_equal(blocks(s, 0), 7);
	assert_int_equal(blocks(s, 1), 0);
	assert_int_equal(blocks(s, 9), 0);
}

static void test_garbage(void **state)
{
	/* Lines without "zone" are ignored. */
	assert_int_equal(blocks("garbage 1 2 3 4 5 6 7 8 9 10 11\n", 0), 0);
	assert_int_equal(blocks("Node 0, Normal 0 0 0 0 0 0 0 0 0 1 1\n", 9), 0);
	assert_int_equal(blocks("\n\n\n", 9), 0);
	assert_int_equal(blocks("zone", 9), 0);
	assert_int_equal(blocks("Node 0, zone", 9), 0);
	assert_int_equal(blocks("Node 0, zone   Normal", 9), 0);
	assert_int_equal(blocks("Node 0, zone   Normal   \n", 0), 0);
	/* Parsing stops at the first non-number. */
	assert_int_equal(blocks("Node 0, zone Normal 0 0 0 0 0 0 0 0 0 x 3\n", 10), 0);
	assert_int_equal(blocks("Node 0, zone Normal 0 0 0 0 0 0 0 0 0 2 3 junk 9 9\n", 9), 8);
	assert_int_equal(blocks("Node 0, zone Normal abc 0 0 0 0 0 0 0 0 2 3\n", 9), 0);

	/* Garbage between good lines does not hide them. */
	const char *s = "Node 0, zone   Normal 0 0 0 0 0 0 0 0 0 1 1\n"
			"\x01\x02\xff garbage zone \xfe\n"
			"some text without the word\n"
			"Node 0, zone Movable 0 0 0 0 0 0 0 0 0 0 2\n";
	assert_int_equal(blocks(s, 9), 3 + 4);
	assert_int_equal(blocks(s, 10), 1 + 2);
}

static void test_truncated(void **state)
{
	/* Only orders 0..2 present. */
	const char *s =
	    "Node 0, zone   Normal      1      2      3\n"
	    "Node 0, zone  Movable      0      0      0      0      0      0      0      "
	    "0      0      1      1\n";

	assert_int_equal(blocks(s, 0), (1 + 4 + 12) + (512 + 1024));
	assert_int_equal(blocks(s, 9), 3);
	assert_int_equal(blocks(s, 10), 1);

	/* Cut in the middle of the last line, then in the middle of "zone". */
	s = "Node 0, zone   Normal 0 0 0 0 0 0 0 0 0 1 1\nNode 0, zone  Movable 0 0 0 0 0 0 0 0 0 "
	    "1";
	assert_int_equal(blocks(s, 9), 3 + 1);
	s = "Node 0, zone   Normal 0 0 0 0 0 0 0 0 0 1 1\nNode 0, zo";
	assert_int_equal(blocks(s, 9), 3);
}

static void test_no_trailing_newline(void **state)
{
	assert_int_equal(blocks("Node 0, zone Normal 0 0 0 0 0 0 0 0 0 1 5", 9), 11);
	assert_int_equal(blocks("Node 0, zone Normal 0 0 0 0 0 0 0 0 0 1 5   ", 9), 11);
	/* The whole multi-node sample minus its final newline. */
	assert_int_equal(buddyinfo_free_blocks(multi, strlen(multi) - 1, 9), 1356);
}

static void test_empty(void **state)
{
	assert_int_equal(buddyinfo_free_blocks("", 0, 9), 0);
	assert_int_equal(buddyinfo_free_blocks(NULL, 0, 9), 0);
	assert_int_equal(buddyinfo_free_blocks(multi, 0, 0), 0);
}

/*
 * The buffer is (buf, len): bytes after len must not count, even when they
 * continue a number (as in a slice of a bigger buffer, or a file read that
 * is not NUL-terminated).
 */
static void test_len_is_honoured(void **state)
{
	const char *s = "Node 0, zone Normal 0 0 0 0 0 0 0 0 0 1 57";

	/* len ends after "5": the line reads "... 1 5". */
	assert_int_equal(buddyinfo_free_blocks(s, strlen(s) - 1, 9), 1 + 5 * 2);

	/* len ends after the order-9 column; a newline follows beyond len. */
	s = "Node 0, zone Normal 0 0 0 0 0 0 0 0 0 1\n7 7 7";
	assert_int_equal(buddyinfo_free_blocks(s, strlen(s) - 6, 9), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sample),
	    cmocka_unit_test(test_nodes_and_zones),
	    cmocka_unit_test(test_order10_counts_twice),
	    cmocka_unit_test(test_order0),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_no_trailing_newline),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_len_is_honoured),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
