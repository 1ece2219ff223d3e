/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer entry point shared by the harnesses and replay-main.c. A harness
 * checks the contract of the code it feeds (header comments) with fuzz_check:
 * a violated invariant aborts, which libFuzzer reports as a crash.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fuzz_check(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__,     \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)
