/* SPDX-License-Identifier: MIT */
#include "buddyinfo.h"

#include <string.h>

/* Lines: "Node 0, zone   Normal   c0 c1 ... c10". */
uint64_t buddyinfo_free_blocks(const char *buf, size_t len, unsigned order)
{
	const char *p = buf, *end = buf + len;
	uint64_t total = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *z = memmem(p, (size_t)(le - p), "zone", 4);
		if (z) {
			const char *q = z + 4;
			while (q < le && *q == ' ')
				q++;
			while (q < le && *q != ' ') /* zone name */
				q++;
			for (unsigned o = 0; q < le; o++) {
				while (q < le && *q == ' ')
					q++;
				if (q >= le || *q < '0' || *q > '9')
					break;
				/* Parse within the line only: buf need not be
				 * NUL-terminated. */
				uint64_t c = 0;
				while (q < le && *q >= '0' && *q <= '9') {
					unsigned d = (unsigned)(*q++ - '0');
					c = c > (UINT64_MAX - d) / 10 ? UINT64_MAX : c * 10 + d;
				}
				/* Saturate rather than drop or wrap an absurd count,
				 * so that a higher order never has more blocks. */
				if (o >= order && c) {
					unsigned k = o - order;
					uint64_t b =
					    k < 64 && c <= UINT64_MAX >> k ? c << k : UINT64_MAX;
					total = total > UINT64_MAX - b ? UINT64_MAX : total + b;
				}
			}
		}
		p = le + 1;
	}
	return total;
}
