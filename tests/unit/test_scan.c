/* SPDX-License-Identifier: MIT */
/*
 * scan_area_eligible and scan_hash (pure), and one run of the scan job on
 * this very process against memory with known residency.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "kernel-groups.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "procfs.h"
#include "scan.h"
#include "util.h"

#define M2 PMD_SIZE_2M
#define PG PAGE_SIZE_4K

/* ---- scan_area_eligible ------------------------------------------------ */

static bool elig(uint32_t f, bool have_smaps, bool shmem, bool thp_always)
{
	return scan_area_eligible(f, have_smaps, shmem, thp_always);
}

static void test_eligible_anon(void **state)
{
	const uint32_t anon = VMA_READ | VMA_WRITE | VMA_ANON;

	/* Without smaps THPeligible is unknown: all combinations pass. */
	for (int shm = 0; shm < 2; shm++)
		for (int always = 0; always < 2; always++)
			assert_true(elig(anon, false, shm, always));
	/* madvise mode: THPeligible 0 says nothing for an area without hg. */
	assert_true(elig(anon, true, false, false));
	assert_true(elig(anon | VMA_HAS_SMAPS, true, true, false));
	/* always mode: THPeligible is honoured. */
	assert_false(elig(anon | VMA_HAS_SMAPS, true, false, true));
	assert_false(elig(anon | VMA_HAS_SMAPS, true, true, true));
	assert_true(elig(anon | VMA_HAS_SMAPS | VMA_THP_ELIGIBLE, true, false, true));
	/* hg: THPeligible is honoured whatever the mode. */
	assert_false(elig(anon | VMA_HG, true, false, false));
	assert_false(elig(anon | VMA_HG, true, false, true));
	assert_true(elig(anon | VMA_HG | VMA_THP_ELIGIBLE, true, false, false));
	assert_true(elig(anon | VMA_HG | VMA_THP_ELIGIBLE, true, false, true));
	assert_true(elig(anon | VMA_HG, false, false, false)); /* maps only */
	/* Read-only or exec anonymous memory is still anonymous. */
	assert_true(elig(VMA_ANON, false, false, false));
	assert_true(elig(VMA_ANON | VMA_EXEC | VMA_READ, true, false, false));
}

static void test_eligible_shmem(void **state)
{
	const uint32_t shm = VMA_READ | VMA_WRITE | VMA_SHARED | VMA_SHMEM;

	for (int smaps = 0; smaps < 2; smaps++)
		for (int always = 0; always < 2; always++)
			assert_false(elig(shm | VMA_THP_ELIGIBLE, smaps, false, always));
	assert_true(elig(shm, false, true, false));
	assert_true(elig(shm, false, true, true));
	assert_true(elig(shm, true, true, false));
	assert_false(elig(shm, true, true, true));
	assert_true(elig(shm | VMA_THP_ELIGIBLE, true, true, true));
	assert_false(elig(shm | VMA_HG, true, true, false));
	assert_true(elig(shm | VMA_HG | VMA_THP_ELIGIBLE, true, true, false));
}

static void test_eligible_other(void **state)
{
	/* File-backed (neither anon nor shmem): never, even with the shmem flag. */
	const uint32_t file = VMA_READ | VMA_EXEC;
	const uint32_t bad[] = {
	    0,
	    file,
	    file | VMA_THP_ELIGIBLE | VMA_HG,
	    VMA_SHARED | VMA_READ | VMA_WRITE, /* shared file mapping */
	    VMA_ANON | VMA_NH,
	    VMA_ANON | VMA_NH | VMA_HG | VMA_THP_ELIGIBLE,
	    VMA_SHMEM | VMA_SHARED | VMA_NH,
	    VMA_SHMEM | VMA_SHARED | VMA_NH | VMA_THP_ELIGIBLE,
	    VMA_ANON | VMA_SPECIAL,
	    VMA_ANON | VMA_SPECIAL | VMA_THP_ELIGIBLE,
	    VMA_SPECIAL | VMA_READ,
	    VMA_SHMEM | VMA_SHARED | VMA_SPECIAL | VMA_THP_ELIGIBLE,
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		for (int smaps = 0; smaps < 2; smaps++)
			for (int shm = 0; shm < 2; shm++)
				for (int always = 0; always < 2; always++)
					if (elig(bad[i], smaps, shm, always))
						fail_msg("flags %#x smaps %d shmem %d always %d: "
							 "eligible",
							 bad[i], smaps, shm, always);
}

/* ---- scan_hash --------------------------------------------------------- */

static const char maps_text[] =
    "55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0                          [heap]\n"
    "7f3a1c000000-7f3a1c800000 rw-p 00000000 00:00 0 \n"
    "7f3a1ca00000-7f3a1ca22000 r--p 00000000 fd:01 1234567                    /usr/lib/libc.so.6\n"
    "7ffc0a1e0000-7ffc0a201000 rw-p 00000000 00:00 0                          [stack]\n";

static void test_hash_stable(void **state)
{
	size_t len = sizeof(maps_text) - 1;
	char *copy = malloc(len);
	uint64_t h = scan_hash(maps_text, len);

	assert_non_null(copy);
	memcpy(copy, maps_text, len);
	assert_int_equal(scan_hash(maps_text, len), h);
	assert_int_equal(scan_hash(copy, len), h);
	/* Only len bytes count. */
	copy[len - 1] = 'X';
	assert_int_equal(scan_hash(copy, len - 1), scan_hash(maps_text, len - 1));
	free(copy);
	assert_int_equal(scan_hash("", 0), scan_hash(NULL, 0));
}

static void test_hash_one_byte_change(void **state)
{
	size_t len = sizeof(maps_text) - 1;
	char *copy = malloc(len);
	uint64_t h = scan_hash(maps_text, len);

	assert_non_null(copy);
	for (size_t i = 0; i < len; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			memcpy(copy, maps_text, len);
			copy[i] = (char)(copy[i] ^ (1u << bit));
			if (scan_hash(copy, len) == h)
				fail_msg("flipping bit %u of byte %zu does not change the hash",
					 bit, i);
		}
	}
	/* A changed end address, as when a mapping grows by a page. */
	memcpy(copy, maps_text, len);
	copy[strstr(maps_text, "-7f3a1c800000") - maps_text + 8] = '9';
	assert_true(scan_hash(copy, len) != h);
	/* Dropping the last byte (or line) changes it too. */
	assert_true(scan_hash(maps_text, len - 1) != h);
	free(copy);
}

static void test_hash_never_zero(void **state)
{
	/*
	 * Inputs whose FNV-1a state ends at 0, found by lattice reduction:
	 * the first with the offset basis scan.c uses (1469598103934665603),
	 * the second with the standard one (14695981039346656037). Without
	 * the "0 becomes 1" rule scan_hash would return 0 for them.
	 */
	static const unsigned char zero_here[16] = {0x0b, 0x38, 0x3b, 0x12, 0x00, 0x03, 0x16, 0x0b,
						    0x01, 0x00, 0x0b, 0x1b, 0x05, 0x1d, 0x07, 0x03};
	static const unsigned char zero_std[16] = {0x39, 0x03, 0x0e, 0x2e, 0x0b, 0x00, 0x03, 0x3c,
						   0x05, 0x0e, 0x1d, 0x03, 0x02, 0x0a, 0x38, 0x06};
	unsigned char b[2];

	assert_true(scan_hash((const char *)zero_here, sizeof(zero_here)) != 0);
	assert_true(scan_hash((const char *)zero_std, sizeof(zero_std)) != 0);
	assert_true(scan_hash("", 0) != 0);
	for (unsigned i = 0; i < 256; i++) {
		b[0] = (unsigned char)i;
		assert_true(scan_hash((const char *)b, 1) != 0);
		for (unsigned j = 0; j < 256; j++) {
			b[1] = (unsigned char)j;
			assert_true(scan_hash((const char *)b, 2) != 0);
		}
	}
}

/* ---- the scan job on this process --------------------------------------- */

static void dummy_done(struct work *w, bool cancelled, void *userdata)
{
	(void)w;
	(void)cancelled;
	(void)userdata;
}

static const struct scan_chunk *chunk_at(const struct scan_job *job, uint64_t addr)
{
	for (size_t i = 0; i < job->n_chunks; i++)
		if (job->chunks[i].addr == addr)
			return &job->chunks[i];
	return NULL;
}

static struct scan_job *run_scan(int pidfd, uint32_t min_present_bp)
{
	const struct scan_params p = {.min_present_bp = min_present_bp, .full = true};
	struct scan_job *job = scan_job_new(42, getpid(), pidfd, &p, dummy_done);
	atomic_bool stop = false;

	assert_non_null(job);
	assert_int_equal(job->target_id, 42);
	assert_int_equal(job->pid, getpid());
	job->work.run(&job->work, &stop);
	if (job->status != SCAN_OK)
		fail_msg("scan status %d, err %d (%s)", job->status, job->err, strerror(-job->err));
	assert_true(job->did_smaps);
	assert_true(job->maps_hash != 0);
	return job;
}

/* The area containing [start, end), checked against what we touched. */
static size_t check_area(const struct scan_job *job, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < job->n_areas; i++) {
		const struct scan_area *a = &job->areas[i];
		if (a->start <= start && a->end >= end) {
			assert_true(a->flags & VMA_ANON);
			assert_false(a->flags & (VMA_NH | VMA_SPECIAL));
			assert_int_equal(a->hot_bp, 10000);
			/* 2 full PMDs + 8 pages at least (neighbours may be merged in). */
			assert_true(a->resident >= (2 * PAGES_PER_PMD + 8) * PG);
			return i;
		}
	}
	fail_msg("no area contains %#llx-%#llx", (unsigned long long)start,
		 (unsigned long long)end);
	return 0;
}

static void check_chunks_sorted(const struct scan_job *job)
{
	for (size_t i = 0; i < job->n_chunks; i++) {
		assert_true(job->chunks[i].addr % M2 == 0);
		assert_true(job->chunks[i].area < job->n_areas);
		const struct scan_area *a = &job->areas[job->chunks[i].area];
		assert_true(job->chunks[i].addr >= a->start);
		assert_true(job->chunks[i].addr + M2 <= a->end);
		if (i)
			assert_true(job->chunks[i - 1].addr < job->chunks[i].addr);
	}
}

static void test_scan_self(void **state)
{
	size_t len = 4 * M2;
	char *raw, *p;
	uintptr_t a;
	int pidfd;

	raw = mmap(NULL, len + M2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(raw != MAP_FAILED);
	a = ((uintptr_t)raw + M2 - 1) & ~(uintptr_t)(M2 - 1);
	p = (char *)a;
	if (p > raw)
		munmap(raw, (size_t)(p - raw));
	munmap(p + len, (size_t)((raw + len + M2) - (p + len)));

	/*
	 * In THP mode "always" the first touch of a PMD would fault a huge
	 * page; MADV_NOHUGEPAGE would make the area ineligible, so turn THP
	 * off for the process while touching instead.
	 */
	int thp_off = prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0;
	for (size_t i = 0; i < PAGES_PER_PMD; i++)
		p[0 * M2 + i * PG] = 1;
	for (size_t i = 0; i < 8; i++)
		p[1 * M2 + i * PG] = 1;
	for (size_t i = 0; i < PAGES_PER_PMD; i++)
		p[3 * M2 + i * PG] = 1;
	if (thp_off)
		assert_int_equal(prctl(PR_SET_THP_DISABLE, 0, 0, 0, 0), 0);

	pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (pidfd < 0 && errno == ENOSYS) {
		/* e.g. under valgrind 3.19, which does not implement it */
		print_message("pidfd_open not available (ENOSYS): skipped\n");
		munmap(p, len);
		SKIP();
	}
	if (pidfd < 0)
		fail_msg("pidfd_open: %s", strerror(errno));

	uint64_t base = (uint64_t)(uintptr_t)p;
	const struct scan_chunk *c;
	struct scan_job *job = run_scan(pidfd, 9000);
	size_t ai = check_area(job, base, base + len);
	check_chunks_sorted(job);
	assert_true(job->anon_bytes >= (2 * PAGES_PER_PMD + 8) * PG);

	c = chunk_at(job, base);
	assert_non_null(c);
	assert_int_equal(c->area, ai);
	assert_int_equal(c->present, PAGES_PER_PMD);
	assert_false(c->huge);
	assert_null(chunk_at(job, base + M2));	   /* 8 pages: too sparse */
	assert_null(chunk_at(job, base + 2 * M2)); /* empty */
	c = chunk_at(job, base + 3 * M2);
	assert_non_null(c);
	assert_int_equal(c->area, ai);
	assert_int_equal(c->present, PAGES_PER_PMD);
	assert_false(c->huge);
	scan_job_free(job);

	/* 8 of 512 pages = 1.56 %: dense enough for 1 %. */
	job = run_scan(pidfd, 100);
	ai = check_area(job, base, base + len);
	check_chunks_sorted(job);
	assert_non_null(chunk_at(job, base));
	c = chunk_at(job, base + M2);
	assert_non_null(c);
	assert_int_equal(c->area, ai);
	assert_int_equal(c->present, 8);
	assert_false(c->huge);
	assert_null(chunk_at(job, base + 2 * M2));
	assert_non_null(chunk_at(job, base + 3 * M2));
	scan_job_free(job);

	close(pidfd);
	munmap(p, len);
}

/*
 * No argument: all tests. "pure" or "kernel": that group only; the kernel
 * group needs pidfd_open. 77 (a skip, for meson) when a test skipped and
 * none failed.
 */
int main(int argc, char **argv)
{
	const struct CMUnitTest pure[] = {
	    /* scan_area_eligible */
	    cmocka_unit_test(test_eligible_anon),
	    cmocka_unit_test(test_eligible_shmem),
	    cmocka_unit_test(test_eligible_other),
	    /* scan_hash */
	    cmocka_unit_test(test_hash_stable),
	    cmocka_unit_test(test_hash_one_byte_change),
	    cmocka_unit_test(test_hash_never_zero),
	};
	const struct CMUnitTest kernel[] = {
	    cmocka_unit_test(test_scan_self),
	};
	return KERNEL_GROUPS_RUN(argc, argv, pure, kernel);
}
