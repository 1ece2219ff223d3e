/* SPDX-License-Identifier: MIT */
/*
 * The main() of a unit test with a group "kernel" (tests/unit/meson.build):
 * tests that may skip because of the kernel or privileges. cmocka counts a
 * skip() as a pass: SKIP() also counts it, so that the program can exit 77
 * (meson: SKIP) when a test skipped and none failed. Include after cmocka.h.
 */
#pragma once

#include <string.h>

static int skipped;
#define SKIP()                                                                                     \
	do {                                                                                       \
		skipped++;                                                                         \
		skip();                                                                            \
	} while (0)

/*
 * No argument: both groups. "pure" or "kernel": that group only. Returns the
 * exit status: 1 if a test failed, else 77 if one skipped, else 0.
 */
static inline int kernel_groups_run(int argc, char **argv, const struct CMUnitTest *pure,
				    size_t n_pure, const struct CMUnitTest *kernel, size_t n_kernel)
{
	const char *only = argc > 1 ? argv[1] : "";
	int failed = 0;

	if (strcmp(only, "kernel") != 0)
		failed += _cmocka_run_group_tests("pure", pure, n_pure, NULL, NULL);
	if (strcmp(only, "pure") != 0)
		failed += _cmocka_run_group_tests("kernel", kernel, n_kernel, NULL, NULL);
	return failed ? 1 : skipped ? 77 : 0;
}

#define KERNEL_GROUPS_RUN(argc, argv, pure, kernel)                                                \
	kernel_groups_run(argc, argv, pure, sizeof(pure) / sizeof((pure)[0]), kernel,              \
			  sizeof(kernel) / sizeof((kernel)[0]))
