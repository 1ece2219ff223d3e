/* SPDX-License-Identifier: MIT */
/*
 * maps_covers on hand-made maps text, and collapse_chunk on this very
 * process: a fully touched chunk becomes huge, an unmapped one is told
 * apart from memory pressure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "kernel-groups.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "collapse.h"
#include "procfs.h"
#include "util.h"

#define M2 PMD_SIZE_2M
#define PG PAGE_SIZE_4K

/* ---- maps_covers --------------------------------------------------------- */

/*
 * 0x400000-0x600000 (file), then A = 7f0000000000-7f0000400000 and
 * B = 7f0000400000-7f0000600000 adjacent, a hole up to 7f0000800000, then
 * C = 7f0000800000-7f0000a00000 (the last mapping).
 */
static const char maps[] =
    "00400000-00600000 r-xp 00000000 fd:01 1234                       /usr/bin/thing\n"
    "7f0000000000-7f0000400000 rw-p 00000000 00:00 0 \n"
    "7f0000400000-7f0000600000 r--p 00000000 00:00 0 \n"
    "7f0000800000-7f0000a00000 rw-p 00000000 00:00 0                  [anon:x]\n";

#define A 0x7f0000000000ULL

static bool covers(uint64_t start, uint64_t end)
{
	return maps_covers(maps, sizeof(maps) - 1, start, end);
}

static void test_covers_inside_one(void **state)
{
	assert_true(covers(A, A + M2));
	assert_true(covers(A + M2, A + 2 * M2));
	assert_true(covers(A, A + 2 * M2)); /* all of A */
	assert_true(covers(A + PG, A + 2 * PG));
	assert_true(covers(A + 4 * M2, A + 5 * M2)); /* all of C */
	assert_true(covers(0x400000, 0x600000));     /* the file mapping */
}

static void test_covers_two_adjacent(void **state)
{
	assert_true(covers(A + M2, A + 3 * M2));
	assert_true(covers(A, A + 3 * M2));
	assert_true(covers(A + 2 * M2 - PG, A + 2 * M2 + PG));
}

static void test_covers_hole(void **state)
{
	assert_false(covers(A + 3 * M2, A + 4 * M2));		/* inside the hole */
	assert_false(covers(A + 3 * M2 - PG, A + 3 * M2 + PG)); /* B into the hole */
	assert_false(covers(A + 4 * M2 - PG, A + 4 * M2 + PG)); /* hole into C */
	assert_false(covers(A + 2 * M2, A + 5 * M2));		/* B, hole, C */
	assert_false(covers(A, A + 5 * M2));
	assert_false(covers(0x600000, 0x800000));      /* after the file mapping */
	assert_false(covers(0x400000, A + M2));	       /* file mapping to A */
	assert_false(covers(A - M2, A + M2));	       /* starts before A */
	assert_false(covers(0, M2));		       /* before everything */
	assert_false(covers(0x200000, 0x400000 + PG)); /* ends inside the first */
}

static void test_covers_past_end(void **state)
{
	assert_false(covers(A + 4 * M2, A + 6 * M2));
	assert_false(covers(A + 5 * M2 - PG, A + 5 * M2 + PG));
	assert_false(covers(A + 5 * M2, A + 6 * M2));
	assert_false(covers(A + 64 * M2, A + 65 * M2));
	/* One byte past the end is not covered. */
	assert_false(covers(A + 4 * M2, A + 5 * M2 + 1));
	assert_true(covers(A + 4 * M2, A + 5 * M2));
}

static void test_covers_text_edge_cases(void **state)
{
	/* Empty text: nothing is mapped. */
	assert_false(maps_covers("", 0, A, A + M2));
	assert_false(maps_covers(NULL, 0, A, A + M2));
	assert_false(maps_covers(maps, 0, A, A + M2));
	/* Garbage. */
	assert_false(maps_covers("garbage\n", 8, A, A + M2));
	/* Only the first two lines count (len cuts there). */
	size_t two = (size_t)(strstr(maps, "7f0000400000-") - maps);
	assert_true(maps_covers(maps, two, A, A + M2));
	assert_false(maps_covers(maps, two, A + M2, A + 3 * M2));
	/* No trailing newline. */
	assert_true(maps_covers(maps, sizeof(maps) - 2, A + 4 * M2, A + 5 * M2));
	/* A malformed line ends the parse; what came before still counts. */
	const char *bad = "7f0000000000-7f0000400000 rw-p 00000000 00:00 0\n"
			  "this is not a maps line\n"
			  "7f0000400000-7f0000600000 rw-p 00000000 00:00 0\n";
	assert_true(maps_covers(bad, strlen(bad), A, A + 2 * M2));
	assert_false(maps_covers(bad, strlen(bad), A + 3 * M2, A + 4 * M2));
}

/* ---- collapse_chunk on this process -------------------------------------- */

/* n PMDs of anonymous memory, 2 MiB aligned. */
static char *map_aligned(size_t n)
{
	size_t len = n * M2;
	char *raw =
	    mmap(NULL, len + M2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;

	assert_true(raw != MAP_FAILED);
	p = (char *)(((uintptr_t)raw + M2 - 1) & ~(uintptr_t)(M2 - 1));
	if (p > raw)
		munmap(raw, (size_t)(p - raw));
	munmap(p + len, (size_t)((raw + len + M2) - (p + len)));
	return p;
}

static int self_pidfd(void)
{
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);

	if (fd < 0 && errno == ENOSYS) {
		/* e.g. under valgrind 3.19, which does not implement it */
		print_message("pidfd_open not available (ENOSYS): skipped\n");
		SKIP();
	}
	if (fd < 0)
		fail_msg("pidfd_open: %s", strerror(errno));
	return fd;
}

/* AnonHugePages of the VMA of /proc/self/smaps that starts at addr. */
static uint64_t anon_huge_at(uint64_t addr, uint64_t *ret_end)
{
	struct vma_list l = {0};
	char *buf = NULL;
	size_t len;
	uint64_t r = UINT64_MAX;

	assert_int_equal(read_file_at(AT_FDCWD, "/proc/self/smaps", &buf, &len), 0);
	assert_int_equal(smaps_parse(buf, len, &l), 0);
	for (size_t i = 0; i < l.n; i++) {
		if (l.v[i].start == addr) {
			r = l.v[i].anon_huge;
			*ret_end = l.v[i].end;
		}
	}
	vma_list_free(&l);
	free(buf);
	if (r == UINT64_MAX)
		fail_msg("no VMA starts at %#llx", (unsigned long long)addr);
	return r;
}

static void test_collapse_self(void **state)
{
	char *p = map_aligned(3);
	char *chunk = p + M2;
	uint64_t addr = (uint64_t)(uintptr_t)chunk, end = 0;
	int pidfd = self_pidfd(), r;

	/*
	 * NOHUGEPAGE on both neighbours: no THP faults there, and the middle
	 * PMD is a VMA of its own, so its smaps entry is about it alone. The
	 * middle one gets no advice, so in "always" mode it may fault huge
	 * already; that is checked before collapsing.
	 */
	assert_int_equal(madvise(p, M2, MADV_NOHUGEPAGE), 0);
	assert_int_equal(madvise(p + 2 * M2, M2, MADV_NOHUGEPAGE), 0);
	for (size_t i = 0; i < PAGES_PER_PMD; i++)
		chunk[i * PG] = (char)(i + 1);
	uint64_t before = anon_huge_at(addr, &end);
	assert_int_equal(end, addr + M2);
	if (before)
		print_message("chunk faulted huge already (THP mode always?)\n");

	for (int tries = 0; tries < 5; tries++) {
		r = collapse_chunk(pidfd, getpid(), addr);
		if (r != EAGAIN)
			break;
		usleep(10000);
	}
	if (r == EPERM || r == EACCES) {
		print_message("process_madvise(MADV_COLLAPSE): %s (not root?): skipping\n",
			      strerror(r));
		close(pidfd);
		munmap(p, 3 * M2);
		SKIP();
	}
	if (r != 0)
		fail_msg("collapse_chunk: %d (%s)", r, r > 0 ? strerror(r) : "");
	assert_int_equal(anon_huge_at(addr, &end), M2);
	assert_int_equal(end, addr + M2);
	/* Contents survived the collapse. */
	for (size_t i = 0; i < PAGES_PER_PMD; i++)
		assert_int_equal(chunk[i * PG], (char)(i + 1));
	/* The NOHUGEPAGE neighbours stayed small. */
	assert_int_equal(anon_huge_at((uint64_t)(uintptr_t)p, &end), 0);

	close(pidfd);
	munmap(p, 3 * M2);
}

static void test_collapse_unmapped(void **state)
{
	char *p = map_aligned(4);
	uint64_t addr = (uint64_t)(uintptr_t)p;
	int pidfd = self_pidfd(), r;

	/*
	 * PMD0 unmapped; PMD1 only its second half mapped, PMD3 only its
	 * first half: one VMA [PMD1 + 1 MiB, PMD3 + 1 MiB) that can hold
	 * PMD2, so the kernel skips the partial PMDs and says ENOMEM for the
	 * holes.
	 */
	assert_int_equal(munmap(p, M2 + M2 / 2), 0);
	assert_int_equal(munmap(p + 3 * M2 + M2 / 2, M2 / 2), 0);
	for (char *q = p + M2 + M2 / 2; q < p + 3 * M2 + M2 / 2; q += PG)
		*q = 1;

	assert_int_equal(collapse_chunk(pidfd, getpid(), addr), COLLAPSE_ERR_UNMAPPED);
	assert_int_equal(collapse_chunk(pidfd, getpid(), addr + M2), COLLAPSE_ERR_UNMAPPED);
	assert_int_equal(collapse_chunk(pidfd, getpid(), addr + 3 * M2), COLLAPSE_ERR_UNMAPPED);
	/* A bad pidfd is not "unmapped". */
	assert_int_equal(collapse_chunk(-1, getpid(), addr), EBADF);
	munmap(p + M2 + M2 / 2, 2 * M2);

	/*
	 * A lone half-PMD VMA: the kernel refuses it with EINVAL (the VMA
	 * cannot hold a huge page) rather than ENOMEM. Whatever it says, it
	 * is not a success and not memory pressure.
	 */
	p = map_aligned(1);
	addr = (uint64_t)(uintptr_t)p;
	assert_int_equal(munmap(p + M2 / 2, M2 / 2), 0);
	memset(p, 1, M2 / 2);
	r = collapse_chunk(pidfd, getpid(), addr);
	if (r != EINVAL && r != COLLAPSE_ERR_UNMAPPED)
		fail_msg("half-mapped chunk: %d (%s)", r, r > 0 ? strerror(r) : "");

	close(pidfd);
	munmap(p, M2 / 2);
}

/*
 * No argument: all tests. "pure" or "kernel": that group only; the kernel
 * group needs pidfd_open and process_madvise(MADV_COLLAPSE) as root. 77 (a
 * skip, for meson) when a test skipped and none failed.
 */
int main(int argc, char **argv)
{
	const struct CMUnitTest pure[] = {
	    cmocka_unit_test(test_covers_inside_one),
	    cmocka_unit_test(test_covers_two_adjacent),
	    cmocka_unit_test(test_covers_hole),
	    cmocka_unit_test(test_covers_past_end),
	    cmocka_unit_test(test_covers_text_edge_cases),
	};
	const struct CMUnitTest kernel[] = {
	    cmocka_unit_test(test_collapse_self),
	    cmocka_unit_test(test_collapse_unmapped),
	};
	return KERNEL_GROUPS_RUN(argc, argv, pure, kernel);
}
