/* SPDX-License-Identifier: MIT */
/*
 * procfs parsers against samples recorded on Linux 6.18 (tests/data/smaps,
 * tests/data/proc) and hand-crafted nasty inputs.
 *
 * sample.* were recorded from a throwaway process that mapped, 2 MiB aligned:
 *   hugezero 7faf23600000 2M  MADV_HUGEPAGE, one read fault (huge zero page)
 *   named    7faf23a00000 2M  plain anon, 16 pages written
 *   col      7faf23e00000 4M  plain anon, written, MADV_COLLAPSE'd
 *   sysv     7faf24200000 2M  SysV shm, attached
 *   nh       7faf24400000 4M  MADV_NOHUGEPAGE, written
 *   shanon   7faf24800000 2M  MAP_SHARED|MAP_ANONYMOUS
 *   hg       7faf24a00000 8M  MADV_HUGEPAGE, written (THP faults)
 *   dd       7faf2528a000 64K MADV_DONTDUMP
 *   privzero 7faf2529a000 64K MAP_PRIVATE of /dev/zero
 *   file     7faf252aa000 64K MAP_PRIVATE of "/tmp/thpd sample file"
 *   dshm     7faf252ba000 64K shm_open("/thpd-sample")
 *   memfd    7faf252ca000 2M  memfd_create("thpd sample"), MAP_SHARED
 * and set its comm to "sam) (ple x)".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"

#define KB 1024ULL

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
	/* Exactly sz bytes, no NUL terminator: parsers must respect len. */
	buf = malloc((size_t)sz);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	*ret_len = (size_t)sz;
	return buf;
}

/* Copy of a string without its NUL, so over-reads are caught by sanitizers. */
static char *dup_nonul(const char *s, size_t *ret_len)
{
	size_t n = strlen(s);
	char *b = malloc(n ? n : 1);

	assert_non_null(b);
	memcpy(b, s, n);
	*ret_len = n;
	return b;
}

static const struct vma *find_vma(const struct vma_list *l, uint64_t start)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].start == start)
			return &l->v[i];
	fail_msg("no VMA at %llx", (unsigned long long)start);
	return NULL;
}

/* Flags that come from the header line alone (maps and smaps agree). */
#define HEADER_FLAGS (VMA_READ | VMA_WRITE | VMA_EXEC | VMA_SHARED | VMA_ANON | VMA_SHMEM)

static void test_smaps_sample(void **state)
{
	struct vma_list l = {0};
	const struct vma *v;
	size_t len;
	char *buf = load("smaps/sample.smaps", &len);

	assert_int_equal(smaps_parse(buf, len, &l), 0);
	assert_int_equal(l.n, 36);
	for (size_t i = 0; i < l.n; i++) {
		assert_true(l.v[i].start < l.v[i].end);
		assert_true(l.v[i].flags & VMA_HAS_SMAPS);
		if (i)
			assert_true(l.v[i - 1].end <= l.v[i].start);
	}

	/* First VMA: the binary's text, a file mapping. */
	v = &l.v[0];
	assert_int_equal(v->start, 0x565017a7e000ULL);
	assert_int_equal(v->end, 0x565017a7f000ULL);
	assert_int_equal(v->inode, 10953115);
	assert_int_equal(v->flags & (VMA_ANON | VMA_SHMEM | VMA_SPECIAL | VMA_SHARED), 0);
	assert_true(v->flags & VMA_READ);

	v = find_vma(&l, 0x56501b08a000ULL); /* [heap] */
	assert_int_equal(v->flags & (VMA_ANON | VMA_SHARED | VMA_SPECIAL | VMA_SHMEM), VMA_ANON);
	assert_int_equal(v->flags & (VMA_READ | VMA_WRITE | VMA_EXEC), VMA_READ | VMA_WRITE);
	assert_true(v->rss > 0);
	assert_int_equal(v->rss, v->anonymous);

	v = find_vma(&l, 0x7faf23600000ULL); /* hg, huge zero page: not counted in Rss */
	assert_int_equal(v->end, 0x7faf23800000ULL);
	assert_true(v->flags & VMA_ANON);
	assert_true(v->flags & VMA_HG);
	assert_false(v->flags & VMA_NH);
	assert_true(v->flags & VMA_THP_ELIGIBLE);
	assert_int_equal(v->rss, 0);

	v = find_vma(&l, 0x7faf23a00000ULL); /* plain anon */
	assert_true(v->flags & VMA_ANON);
	assert_int_equal(v->flags & (VMA_HG | VMA_NH | VMA_THP_ELIGIBLE), 0);
	assert_int_equal(v->rss, 64 * KB);
	assert_int_equal(v->anonymous, 64 * KB);
	assert_int_equal(v->anon_huge, 0);

	v = find_vma(&l, 0x7faf23e00000ULL); /* collapsed: huge, yet not eligible in madvise mode */
	assert_int_equal(v->end, 0x7faf24200000ULL);
	assert_true(v->flags & VMA_ANON);
	assert_false(v->flags & VMA_THP_ELIGIBLE);
	assert_int_equal(v->rss, 4096 * KB);
	assert_int_equal(v->anon_huge, 4096 * KB);
	assert_int_equal(v->referenced, 4096 * KB);

	v = find_vma(&l, 0x7faf24200000ULL); /* /SYSV00000000 (deleted) */
	assert_int_equal(v->flags & (VMA_SHARED | VMA_SHMEM | VMA_ANON), VMA_SHARED | VMA_SHMEM);

	v = find_vma(&l, 0x7faf24400000ULL); /* nh */
	assert_true(v->flags & VMA_ANON);
	assert_true(v->flags & VMA_NH);
	assert_false(v->flags & VMA_HG);
	assert_int_equal(v->rss, 4096 * KB);
	assert_int_equal(v->anon_huge, 0);

	v = find_vma(&l, 0x7faf24800000ULL); /* /dev/zero (deleted), shared anon */
	assert_int_equal(v->flags & (VMA_SHARED | VMA_SHMEM | VMA_ANON), VMA_SHARED | VMA_SHMEM);
	assert_int_equal(v->inode, 26);
	assert_int_equal(v->rss, 32 * KB);
	assert_int_equal(v->anonymous, 0);

	v = find_vma(&l, 0x7faf24a00000ULL); /* hg, THP faulted */
	assert_int_equal(v->end, 0x7faf25200000ULL);
	assert_true(v->flags & VMA_HG);
	assert_true(v->flags & VMA_THP_ELIGIBLE);
	assert_int_equal(v->anon_huge, 8192 * KB);
	assert_int_equal(v->rss, 8192 * KB);

	v = find_vma(&l, 0x7faf2528a000ULL); /* VmFlags dd: MADV_DONTDUMP is collapsible */
	assert_true(v->flags & VMA_ANON);
	assert_false(v->flags & VMA_SPECIAL);

	v = find_vma(&l, 0x7faf2529a000ULL); /* private /dev/zero: anonymous memory */
	assert_int_equal(v->inode, 4);
	assert_int_equal(v->flags & (VMA_SHARED | VMA_SHMEM | VMA_ANON | VMA_SPECIAL), VMA_ANON);

	v = find_vma(&l, 0x7faf252aa000ULL); /* "/tmp/thpd sample file" */
	assert_int_equal(v->flags & (VMA_SHARED | VMA_SHMEM | VMA_ANON | VMA_SPECIAL), 0);
	assert_int_equal(v->flags & (VMA_READ | VMA_WRITE | VMA_EXEC), VMA_READ);
	assert_int_equal(v->rss, 64 * KB); /* one read, fault-around mapped all 16 pages */

	v = find_vma(&l, 0x7faf252ba000ULL); /* /dev/shm/thpd-sample */
	assert_int_equal(v->flags & (VMA_SHARED | VMA_SHMEM | VMA_ANON), VMA_SHARED | VMA_SHMEM);

	v = find_vma(&l, 0x7faf252ca000ULL); /* /memfd:thpd sample (deleted) */
	assert_int_equal(v->flags & (VMA_SHARED | VMA_SHMEM | VMA_ANON), VMA_SHARED | VMA_SHMEM);
	assert_int_equal(v->rss, 1024 * KB);

	/* [vvar], [vvar_vclock], [vdso], [vsyscall] */
	for (size_t i = 0; i < 4; i++) {
		static const uint64_t special[] = {0x7faf256bc000ULL, 0x7faf256c0000ULL,
						   0x7faf256c2000ULL, 0xffffffffff600000ULL};
		v = find_vma(&l, special[i]);
		assert_true(v->flags & VMA_SPECIAL);
		assert_false(v->flags & VMA_ANON);
	}

	v = find_vma(&l, 0x7ffee1652000ULL); /* [stack] */
	assert_int_equal(v->flags & (VMA_ANON | VMA_SPECIAL), VMA_ANON);

	vma_list_free(&l);
	assert_null(l.v);
	assert_int_equal(l.n, 0);
	free(buf);
}

static void test_maps_matches_smaps(void **state)
{
	struct vma_list s = {0}, m = {0};
	size_t slen, mlen;
	char *sbuf = load("smaps/sample.smaps", &slen);
	char *mbuf = load("smaps/sample.maps", &mlen);

	assert_int_equal(smaps_parse(sbuf, slen, &s), 0);
	assert_int_equal(maps_parse(mbuf, mlen, &m), 0);
	assert_int_equal(s.n, m.n);
	for (size_t i = 0; i < s.n; i++) {
		assert_int_equal(s.v[i].start, m.v[i].start);
		assert_int_equal(s.v[i].end, m.v[i].end);
		assert_int_equal(s.v[i].inode, m.v[i].inode);
		assert_int_equal(s.v[i].flags & HEADER_FLAGS, m.v[i].flags & HEADER_FLAGS);
		assert_false(m.v[i].flags & (VMA_HAS_SMAPS | VMA_HG | VMA_NH | VMA_THP_ELIGIBLE));
		assert_int_equal(m.v[i].rss, 0);
		assert_int_equal(m.v[i].anonymous, 0);
	}
	/* maps has no field lines: smaps text is malformed for it. */
	vma_list_free(&m);
	assert_int_equal(maps_parse(sbuf, slen, &m), -EINVAL);
	assert_int_equal(m.n, 1);

	vma_list_free(&s);
	vma_list_free(&m);
	free(sbuf);
	free(mbuf);
}

static void test_smaps_appends(void **state)
{
	struct vma_list l = {0};
	size_t len;
	char *buf = load("smaps/sample.maps", &len);

	assert_int_equal(maps_parse(buf, len, &l), 0);
	assert_int_equal(maps_parse(buf, len, &l), 0);
	assert_int_equal(l.n, 72);
	assert_int_equal(l.v[36].start, l.v[0].start);
	vma_list_free(&l);
	free(buf);
}

static void test_smaps_crafted(void **state)
{
	struct vma_list l = {0};
	const struct vma *v;
	size_t len;
	char *buf = load("smaps/crafted.smaps", &len);

	assert_int_equal(smaps_parse(buf, len, &l), 0);
	assert_int_equal(l.n, 9);

	v = &l.v[0]; /* "/opt/my lib (deleted)": unknown field ignored */
	assert_int_equal(v->start, 0x400000);
	assert_int_equal(v->inode, 1234);
	assert_int_equal(v->flags & (VMA_ANON | VMA_SHMEM | VMA_SPECIAL | VMA_THP_ELIGIBLE), 0);
	assert_int_equal(v->flags & (VMA_READ | VMA_WRITE | VMA_EXEC), VMA_READ | VMA_EXEC);
	assert_int_equal(v->rss, 4 * KB);
	assert_int_equal(v->referenced, 4 * KB);

	v = &l.v[1]; /* [anon:my buf], saturating numbers, trailing blank in VmFlags */
	assert_int_equal(v->flags & (VMA_ANON | VMA_SPECIAL), VMA_ANON);
	assert_true(v->flags & VMA_HG);
	assert_true(v->flags & VMA_THP_ELIGIBLE);
	assert_int_equal(v->rss, UINT64_MAX);
	assert_int_equal(v->referenced, UINT64_MAX);
	assert_int_equal(v->anonymous, 4096 * KB);
	assert_int_equal(v->anon_huge, 2048 * KB);

	v = &l.v[2]; /* [anon_shmem:shared name] */
	assert_int_equal(v->flags & (VMA_SHARED | VMA_SHMEM | VMA_ANON | VMA_SPECIAL),
			 VMA_SHARED | VMA_SHMEM);
	assert_int_equal(v->shmem_pmd_mapped, 2048 * KB);
	assert_true(v->flags & VMA_HG);

	v = &l.v[3]; /* /dev/mem with io pf dd */
	assert_true(v->flags & VMA_SPECIAL);
	assert_false(v->flags & VMA_SHMEM);

	v = &l.v[4]; /* private /dev/zero */
	assert_true(v->flags & VMA_ANON);
	assert_int_equal(v->rss, 8 * KB);

	v = &l.v[5]; /* [stack] */
	assert_int_equal(v->flags & (VMA_ANON | VMA_SPECIAL), VMA_ANON);

	v = &l.v[6]; /* [uprobes], header only: no smaps fields */
	assert_int_equal(v->flags & (VMA_ANON | VMA_SPECIAL | VMA_HAS_SMAPS), VMA_SPECIAL);

	v = &l.v[7]; /* [vsyscall] */
	assert_int_equal(v->start, 0xffffffffff600000ULL);
	assert_true(v->flags & VMA_SPECIAL);
	assert_true(v->flags & VMA_HAS_SMAPS);

	v = &l.v[8]; /* last line without '\n' */
	assert_true(v->flags & VMA_ANON);
	assert_true(v->flags & VMA_NH);

	vma_list_free(&l);
	free(buf);
}

static int parse_str(int (*fn)(const char *, size_t, struct vma_list *), const char *s,
		     struct vma_list *l)
{
	size_t len;
	char *b = dup_nonul(s, &len);
	int r = fn(b, len, l);

	free(b);
	return r;
}

static void test_smaps_malformed(void **state)
{
	static const char *const bad[] = {
	    "7f00-7f",
	    "7f00-7f10 rw-p",
	    "7f00-7f10 rw-p 0 00:00",
	    "7f00-7f10 rwxq 00000000 00:00 0",
	    "7f00-7f10 rw-p 00000000 0000 0",
	    "7f00-7f10 rw-p 00000000 00:00 12ab",
	    "7f00-7f10 rw-p 00000000 00:00 -1",
	    "7f10-7f00 rw-p 00000000 00:00 0",
	    "7f00+7f10 rw-p 00000000 00:00 0",
	    "0-11111111111111111 rw-p 00000000 00:00 0",
	    "7f00-7f10  rw-p 00000000 00:00 0",
	    "Rss: 4 kB\n",
	    "garbage\n",
	};
	static const char good[] = "1000-2000 rw-p 00000000 00:00 0\nRss: 8 kB\n";
	struct vma_list l = {0};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char s[256];

		assert_int_equal(parse_str(smaps_parse, bad[i], &l), -EINVAL);
		assert_int_equal(l.n, 0);
		assert_int_equal(parse_str(maps_parse, bad[i], &l), -EINVAL);
		assert_int_equal(l.n, 0);

		/* After a good VMA: it is kept (a field line there is valid). */
		if (bad[i][0] == 'R')
			continue;
		snprintf(s, sizeof(s), "%s%s\n", good, bad[i]);
		assert_int_equal(parse_str(smaps_parse, s, &l), -EINVAL);
		assert_int_equal(l.n, 1);
		assert_int_equal(l.v[0].start, 0x1000);
		assert_int_equal(l.v[0].rss, 8 * KB);
		vma_list_free(&l);
	}

	/* Malformed values of known fields. */
	assert_int_equal(parse_str(smaps_parse, "1000-2000 rw-p 0 00:00 0\nRss: x kB\n", &l),
			 -EINVAL);
	assert_int_equal(l.n, 1);
	vma_list_free(&l);
	assert_int_equal(parse_str(smaps_parse, "1000-2000 rw-p 0 00:00 0\nRss:\n", &l), -EINVAL);
	vma_list_free(&l);
	assert_int_equal(parse_str(smaps_parse, "1000-2000 rw-p 0 00:00 0\nRss: 4 MB\n", &l),
			 -EINVAL);
	vma_list_free(&l);
	assert_int_equal(parse_str(smaps_parse, "1000-2000 rw-p 0 00:00 0\nTHPeligible: yes\n", &l),
			 -EINVAL);
	vma_list_free(&l);
	/* A line that is not "Name: value" below a header. */
	assert_int_equal(parse_str(smaps_parse, "1000-2000 rw-p 0 00:00 0\nno colon here\n", &l),
			 -EINVAL);
	vma_list_free(&l);

	/* Empty input and blank lines are fine. */
	assert_int_equal(smaps_parse("", 0, &l), 0);
	assert_int_equal(smaps_parse(NULL, 0, &l), 0);
	assert_int_equal(parse_str(smaps_parse, "\n\n1000-2000 r--p 0 00:00 0\n\n", &l), 0);
	assert_int_equal(l.n, 1);
	assert_false(l.v[0].flags & VMA_HAS_SMAPS);
	assert_true(l.v[0].flags & VMA_ANON);
	vma_list_free(&l);

	/* Embedded NUL in a name does not confuse the parser. */
	{
		static const char withnul[] = "1000-2000 rw-s 0 00:01 5  /memfd:a\0b\nRss: 4 kB\n";
		assert_int_equal(smaps_parse(withnul, sizeof(withnul) - 1, &l), 0);
		assert_int_equal(l.n, 1);
		assert_true(l.v[0].flags & VMA_SHMEM);
		assert_int_equal(l.v[0].rss, 4 * KB);
		vma_list_free(&l);
	}
}

/* Every prefix of a real smaps parses without crashing and agrees with the whole. */
static void test_smaps_truncated(void **state)
{
	static const char *const files[] = {"smaps/sample.smaps", "smaps/crafted.smaps",
					    "smaps/sample.maps"};

	for (size_t f = 0; f < 3; f++) {
		struct vma_list full = {0};
		size_t len;
		char *buf = load(files[f], &len);
		int (*fn)(const char *, size_t, struct vma_list *) =
		    f == 2 ? maps_parse : smaps_parse;

		assert_int_equal(fn(buf, len, &full), 0);
		for (size_t cut = 0; cut <= len; cut++) {
			struct vma_list l = {0};
			char *p = malloc(cut ? cut : 1);
			int r;

			assert_non_null(p);
			memcpy(p, buf, cut);
			r = fn(p, cut, &l);
			assert_true(r == 0 || r == -EINVAL);
			assert_true(l.n <= full.n);
			for (size_t i = 0; i < l.n; i++) {
				assert_int_equal(l.v[i].start, full.v[i].start);
				/* Only the last one can be cut short. */
				if (i + 1 < l.n) {
					assert_int_equal(l.v[i].end, full.v[i].end);
					assert_int_equal(l.v[i].flags, full.v[i].flags);
					assert_int_equal(l.v[i].rss, full.v[i].rss);
				}
			}
			vma_list_free(&l);
			free(p);
		}
		vma_list_free(&full);
		free(buf);
	}
}

/* Random byte mutations: must not crash; results stay within the contract. */
static void test_smaps_mutations(void **state)
{
	static const char alphabet[] = "0123456789abcdef-: \n\t[]/kBrwxps\0\xff";
	size_t len;
	char *buf = load("smaps/crafted.smaps", &len);
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	for (int iter = 0; iter < 20000; iter++) {
		struct vma_list l = {0};
		char *p = malloc(len);
		int nmut, r;

		assert_non_null(p);
		memcpy(p, buf, len);
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		nmut = 1 + (int)((seed >> 33) % 4);
		for (int k = 0; k < nmut; k++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			p[(seed >> 33) % len] = alphabet[(seed >> 17) % (sizeof(alphabet) - 1)];
		}
		r = smaps_parse(p, len, &l);
		assert_true(r == 0 || r == -EINVAL);
		for (size_t i = 0; i < l.n; i++)
			assert_true(l.v[i].start <= l.v[i].end);
		vma_list_free(&l);
		r = maps_parse(p, len, &l);
		assert_true(r == 0 || r == -EINVAL);
		vma_list_free(&l);
		free(p);
	}
	free(buf);
}

static void test_status_sample(void **state)
{
	struct proc_status st;
	size_t len;
	char *buf = load("proc/sample.status", &len);

	assert_int_equal(status_parse(buf, len, &st), 0);
	assert_string_equal(st.name, "sam) (ple x)");
	assert_int_equal(st.uid, 0);
	assert_int_equal(st.thp_enabled, 1);
	assert_int_equal(st.rss_anon, 16728 * KB);
	assert_int_equal(st.rss_shmem, 1136 * KB);
	free(buf);

	buf = load("proc/minimal.status", &len);
	assert_int_equal(status_parse(buf, len, &st), 0);
	assert_int_equal(strlen(st.name), sizeof(st.name) - 1);
	assert_memory_equal(st.name, "my prog with a very long name", 29);
	assert_int_equal(st.uid, 1000);
	assert_int_equal(st.euid, 1001);
	assert_int_equal(st.suid, 1002);
	assert_int_equal(st.gid, 100);
	assert_int_equal(st.egid, 101);
	assert_int_equal(st.sgid, 102);
	assert_int_equal(st.thp_enabled, -1);
	assert_int_equal(st.rss_anon, 18014398509481983ULL * KB);
	assert_int_equal(st.rss_shmem, 0);
	free(buf);
}

static int status_str(const char *s, struct proc_status *st)
{
	size_t len;
	char *b = dup_nonul(s, &len);
	int r = status_parse(b, len, st);

	free(b);
	return r;
}

static void test_status_nasty(void **state)
{
	struct proc_status st;

	const char *gid = "Gid:\t0\t0\t0\t0\n";
	char b[256];

	assert_int_equal(status_str("Name:\tx\nRssAnon:\t4 kB\n", &st), -EINVAL);
	assert_int_equal(status_str("Uid:\n", &st), -EINVAL);
	assert_int_equal(status_str("Uid:\tabc\t0\t0\t0\n", &st), -EINVAL);
	assert_int_equal(status_str("Uid:\t-1\t0\t0\t0\n", &st), -EINVAL);
	assert_int_equal(status_str("Uid:\t4294967296\t0\t0\t0\n", &st), -EINVAL);
	assert_int_equal(status_str("Uid:\t12x\t0\t0\t0\n", &st), -EINVAL);
	assert_int_equal(status_str("", &st), -EINVAL);
	/* Four ids each, Gid: too. */
	assert_int_equal(status_str("Uid:\t1\t1\t1\t1\n", &st), -EINVAL);
	snprintf(b, sizeof(b), "Uid:\t5\t0\n%s", gid);
	assert_int_equal(status_str(b, &st), -EINVAL);
	snprintf(b, sizeof(b), "Uid:\t5\t0\t0\t0\t0\n%s", gid);
	assert_int_equal(status_str(b, &st), -EINVAL);
	assert_int_equal(status_str("Uid:\t1\t1\t1\t1\nGid:\t1\t1\t1\n", &st), -EINVAL);

	/* No trailing newline; real, effective, saved (the fourth is fs). */
	assert_int_equal(
	    status_str("THP_enabled:\t0\nGid:\t7\t8\t9\t10\nUid:\t4294967295\t1\t2\t3", &st), 0);
	assert_int_equal(st.uid, 4294967295U);
	assert_int_equal(st.euid, 1);
	assert_int_equal(st.suid, 2);
	assert_int_equal(st.gid, 7);
	assert_int_equal(st.egid, 8);
	assert_int_equal(st.sgid, 9);
	assert_int_equal(st.thp_enabled, 0);
	assert_string_equal(st.name, "");

	/* Huge kB values saturate; garbage in optional fields is ignored. */
	assert_int_equal(
	    status_str("Uid:\t5\t5\t5\t5\nGid:\t0 0 0 0\nRssAnon:\t99999999999999999999 kB\n"
		       "RssShmem:\tlots\nTHP_enabled:\tmaybe\n",
		       &st),
	    0);
	assert_int_equal(st.uid, 5);
	assert_int_equal(st.rss_anon, UINT64_MAX);
	assert_int_equal(st.rss_shmem, 0);
	assert_int_equal(st.thp_enabled, -1);

	/* Uid: must match the whole field name, not a prefix. */
	assert_int_equal(status_str("Uidx:\t1\n", &st), -EINVAL);
	assert_int_equal(status_str("Name:\tUid: 3\n", &st), -EINVAL);
}

static int cgroup_str(const char *s, char *out, size_t outlen)
{
	size_t len;
	char *b = dup_nonul(s, &len);
	int r = cgroup_memory_path(b, len, out, outlen);

	free(b);
	return r;
}

static void test_cgroup(void **state)
{
	char out[256];
	size_t len;
	char *buf;

	buf = load("proc/sample.cgroup", &len); /* hybrid v1 + v2, memory on v1 */
	assert_int_equal(cgroup_memory_path(buf, len, out, sizeof(out)), 0);
	assert_string_equal(out, "/process_api/c6d4d8284687141ea7a461ec37a430f7");
	free(buf);

	buf = load("proc/v2.cgroup", &len);
	assert_int_equal(cgroup_memory_path(buf, len, out, sizeof(out)), 0);
	assert_string_equal(out, "/system.slice/my:odd service.service");
	free(buf);

	buf = load("proc/hybrid.cgroup", &len); /* memory_foo is not memory */
	assert_int_equal(cgroup_memory_path(buf, len, out, sizeof(out)), 0);
	assert_string_equal(out, "/user.slice/mem path:x");
	/* Exactly fitting and one byte short. */
	assert_int_equal(cgroup_memory_path(buf, len, out, strlen("/user.slice/mem path:x") + 1),
			 0);
	assert_int_equal(cgroup_memory_path(buf, len, out, strlen("/user.slice/mem path:x")),
			 -ENAMETOOLONG);
	assert_int_equal(cgroup_memory_path(buf, len, out, 0), -ENAMETOOLONG);
	free(buf);

	/* v2 line wins only without a v1 memory line, wherever it is. */
	assert_int_equal(cgroup_str("0::/v2\n3:memory:/v1\n", out, sizeof(out)), 0);
	assert_string_equal(out, "/v1");
	assert_int_equal(cgroup_str("3:cpu:/v1\n0::/v2", out, sizeof(out)), 0);
	assert_string_equal(out, "/v2");

	assert_int_equal(cgroup_str("", out, sizeof(out)), -ENOENT);
	assert_int_equal(cgroup_str("3:cpu:/a\n2:name=systemd:/b\n", out, sizeof(out)), -ENOENT);
	assert_int_equal(cgroup_str("garbage\n::\n0:\nx::/y\n1::/\n", out, sizeof(out)), -ENOENT);
	assert_int_equal(cgroup_str("0::\n", out, sizeof(out)), -ENOENT);
	assert_int_equal(cgroup_memory_path(NULL, 0, out, sizeof(out)), -ENOENT);
}

static uint64_t stat_ok(const char *s)
{
	size_t len;
	char *b = dup_nonul(s, &len);
	uint64_t v = 0;

	assert_int_equal(stat_starttime(b, len, &v), 0);
	free(b);
	return v;
}

static int stat_err(const char *s)
{
	size_t len;
	char *b = dup_nonul(s, &len);
	uint64_t v = 0xdead;
	int r = stat_starttime(b, len, &v);

	assert_int_equal(v, 0xdead);
	free(b);
	return r;
}

static void test_stat(void **state)
{
	size_t len;
	uint64_t v;
	char *buf;
	struct proc_stat ps;

	buf = load("proc/sample.stat", &len); /* comm "sam) (ple x)" */
	assert_int_equal(stat_starttime(buf, len, &v), 0);
	assert_int_equal(v, 48495);
	/* The fields thpd keeps, by their place after the comm. */
	assert_int_equal(stat_parse(buf, len, &ps), 0);
	assert_string_equal(ps.comm, "sam) (ple x)");
	assert_int_equal(ps.starttime, 48495);
	assert_int_equal(ps.minflt, 2476);
	assert_int_equal(ps.majflt, 1);
	assert_int_equal(ps.utime, 0);
	assert_int_equal(ps.stime, 1);
	assert_int_equal(ps.vsize, 30060544);
	assert_int_equal(ps.rss, 4741);
	{
		char *b = dup_nonul(
		    "7 (x) S 1 7 7 0 -1 0 11 0 12 0 1314 1516 0 0 20 0 1 0 22 23 24\n", &len);
		assert_int_equal(stat_parse(b, len, &ps), 0);
		assert_int_equal(ps.utime, 1314);
		assert_int_equal(ps.stime, 1516);
		assert_int_equal(ps.minflt, 11);
		assert_int_equal(ps.majflt, 12);
		free(b);
		b = dup_nonul("7 (x) S 1 7 7 0 -1 0 11 0 12 0 -1314 1516 0 0 20 0 1 0 22 23 24\n",
			      &len);
		assert_int_equal(stat_parse(b, len, &ps), -EINVAL); /* utime is unsigned */
		free(b);
	}
	/* Every truncation either fails or gives the right value. */
	for (size_t cut = 0; cut < len; cut++) {
		uint64_t w = 0;
		int r = stat_starttime(buf, cut, &w);
		assert_true(r == 0 || r == -EINVAL);
		if (r == 0)
			assert_int_equal(w, 48495);
		else
			assert_int_equal(w, 0);
	}
	free(buf);

	buf = load("proc/nasty.stat", &len); /* comm "a) (b) c)", no trailing newline */
	assert_int_equal(stat_starttime(buf, len, &v), 0);
	assert_int_equal(v, 987654321);
	free(buf);

	assert_int_equal(stat_ok("1 (x) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 18446744073709551615 "
				 "1\n"),
			 UINT64_MAX);
	assert_int_equal(
	    stat_ok("1 (1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22) S 2 3 "
		    "4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 77 5\n"),
	    77);
	assert_int_equal(
	    stat_err("1 (x) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 18446744073709551616 "
		     "1\n"),
	    -EINVAL);
	assert_int_equal(stat_err("1 (x) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 12"), -EINVAL);
	assert_int_equal(stat_err("1 (x) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 -5 1"), -EINVAL);
	assert_int_equal(stat_err("1 (x) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1x 1"), -EINVAL);
	assert_int_equal(stat_err("1 (x) S 0 0 0"), -EINVAL);
	assert_int_equal(stat_err("1 x S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5 1"), -EINVAL);
	assert_int_equal(stat_err(")"), -EINVAL);
	assert_int_equal(stat_err(""), -EINVAL);
	assert_int_equal(stat_starttime(NULL, 0, &v), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_smaps_sample),
	    cmocka_unit_test(test_maps_matches_smaps),
	    cmocka_unit_test(test_smaps_appends),
	    cmocka_unit_test(test_smaps_crafted),
	    cmocka_unit_test(test_smaps_malformed),
	    cmocka_unit_test(test_smaps_truncated),
	    cmocka_unit_test(test_smaps_mutations),
	    cmocka_unit_test(test_status_sample),
	    cmocka_unit_test(test_status_nasty),
	    cmocka_unit_test(test_cgroup),
	    cmocka_unit_test(test_stat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
