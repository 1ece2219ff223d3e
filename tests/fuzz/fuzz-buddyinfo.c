/* SPDX-License-Identifier: MIT */
/*
 * buddyinfo_free_blocks (/proc/buddyinfo) for every order, and
 * thp_mode_parse (/sys/kernel/mm/transparent_hugepage/enabled) on the same
 * bytes.
 *
 * Contract checked: free blocks "of at least order" can only shrink as the
 * order grows (buddyinfo.h); the mode is a NUL-terminated string in the
 * caller's buffer (thpmode.h), for buffers from 1 byte up.
 */
#include <string.h>

#include "buddyinfo.h"
#include "fuzz.h"
#include "thpmode.h"

#define MAX_ORDER 12

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t lens[] = {1, 2, 8, 32, 256};
	uint64_t prev = UINT64_MAX;
	char *text;

	/* Not NUL-terminated: the parser must stay inside (buf, len). */
	for (unsigned order = 0; order <= MAX_ORDER; order++) {
		uint64_t n = buddyinfo_free_blocks((const char *)data, size, order);

		fuzz_check(n <= prev);
		prev = n;
	}

	/* thp_mode_parse takes a C string (read_file_at NUL-terminates). */
	text = malloc(size + 1);
	fuzz_check(text);
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		char *buf = malloc(lens[i]);
		const char *mode;

		fuzz_check(buf);
		mode = thp_mode_parse(text, buf, lens[i]);
		fuzz_check(mode == buf && strnlen(buf, lens[i]) < lens[i]);
		free(buf);
	}
	free(text);
	return 0;
}
