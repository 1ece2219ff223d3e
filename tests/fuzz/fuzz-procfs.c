/* SPDX-License-Identifier: MIT */
/*
 * The /proc parsers of procfs.c. The first byte chooses (low 3 bits):
 *   0 smaps_parse   1 maps_parse   2 status_parse   3 cgroup_memory_path
 *   4 stat_starttime + stat_parse   5..7 all of them on the same text
 * and, for cgroup_memory_path, the size of the output buffer (high 5 bits:
 * 1..31 bytes, or 4096 for 31). The rest is the file's text, not
 * NUL-terminated (the parsers must stay inside (buf, len)); the output buffer
 * is a heap block of exactly that size, so an overflow is an ASan report.
 *
 * Contract checked (procfs.h): a VMA has start <= end, maps never yields
 * smaps fields, status fields are in range, a returned cgroup path fits,
 * stat_parse and stat_starttime agree on the start time.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "procfs.h"

static void fuzz_vmas(const char *buf, size_t len, bool smaps)
{
	struct vma_list l = {0};
	int r = smaps ? smaps_parse(buf, len, &l) : maps_parse(buf, len, &l);
	size_t lines = 1;

	fuzz_check(r == 0 || r == -EINVAL || r == -ENOMEM);
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	fuzz_check(l.n <= lines && l.n <= l.cap);
	for (size_t i = 0; i < l.n; i++) {
		const struct vma *v = &l.v[i];

		fuzz_check(v->start <= v->end);
		if (!smaps)
			fuzz_check(!(v->flags & VMA_HAS_SMAPS) && v->rss == 0 &&
				   v->anonymous == 0 && v->anon_huge == 0 &&
				   v->shmem_pmd_mapped == 0 && v->referenced == 0);
		/* Private anonymous and shared memory exclude each other. */
		fuzz_check(!(v->flags & VMA_ANON) || !(v->flags & VMA_SHMEM));
	}
	vma_list_free(&l);
}

static void fuzz_status(const char *buf, size_t len)
{
	struct proc_status st;
	int r = status_parse(buf, len, &st);

	fuzz_check(r == 0 || r == -EINVAL);
	fuzz_check(memchr(st.name, '\0', sizeof(st.name)) != NULL);
	fuzz_check(st.thp_enabled >= -1 && st.thp_enabled <= 1);
}

static void fuzz_cgroup(const char *buf, size_t len, size_t outlen)
{
	char *out = malloc(outlen);
	int r;

	fuzz_check(out);
	r = cgroup_memory_path(buf, len, out, outlen);
	fuzz_check(r == 0 || r == -ENOENT || r == -ENAMETOOLONG);
	if (r == 0)
		fuzz_check(strnlen(out, outlen) < outlen);
	free(out);
}

/* Two parsers of the same line: where both succeed they must agree. */
static void fuzz_stat(const char *buf, size_t len)
{
	struct proc_stat ps;
	uint64_t t = 0;
	int r = stat_starttime(buf, len, &t), r2 = stat_parse(buf, len, &ps);

	fuzz_check(r == 0 || r == -EINVAL);
	fuzz_check(r2 == 0 || r2 == -EINVAL);
	if (r2 == 0) {
		fuzz_check(memchr(ps.comm, '\0', sizeof(ps.comm)) != NULL);
		/* stat_parse checks every field stat_starttime skips. */
		fuzz_check(r == 0 && ps.starttime == t);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf;
	size_t len, outlen;
	unsigned sel;

	if (size < 1)
		return 0;
	sel = data[0] & 7;
	outlen = (data[0] >> 3) == 31 ? 4096 : (size_t)(data[0] >> 3) + 1;
	buf = (const char *)data + 1;
	len = size - 1;
	if (sel == 0 || sel >= 5)
		fuzz_vmas(buf, len, true);
	if (sel == 1 || sel >= 5)
		fuzz_vmas(buf, len, false);
	if (sel == 2 || sel >= 5)
		fuzz_status(buf, len);
	if (sel == 3 || sel >= 5)
		fuzz_cgroup(buf, len, outlen);
	if (sel == 4 || sel >= 5)
		fuzz_stat(buf, len);
	return 0;
}
