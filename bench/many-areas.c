/* SPDX-License-Identifier: MIT */
/*
 * many-areas NAME AREAS HUGE_AREAS [AREA_KB]: a process with AREAS separate
 * small anonymous mappings (AREA_KB each, default 16, kept apart by PROT_NONE guards so the
 * kernel cannot merge them) plus HUGE_AREAS 2 MiB areas made huge at fault
 * (MADV_HUGEPAGE): "nothing left to collapse". Prints "ready" and sleeps
 * until killed. For the daemon-cost benchmark.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#define PMD (2UL << 20)

static void *map_or_die(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("many-areas: mmap");
		exit(1);
	}
	return p;
}

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: many-areas NAME AREAS HUGE_AREAS [AREA_KB]\n");
		return 2;
	}
	int areas = atoi(argv[2]), huge = atoi(argv[3]);
	size_t small = (size_t)(argc == 5 ? atoi(argv[4]) : 16) * 1024;
	if (small == 0 || small % 4096) {
		fprintf(stderr, "many-areas: AREA_KB must be a multiple of 4\n");
		return 2;
	}
	prctl(PR_SET_NAME, argv[1]);
	for (int i = 0; i < areas; i++) {
		/* area + guard page: a PROT_NONE neighbour keeps VMAs apart */
		char *p = map_or_die(small + 4096, PROT_READ | PROT_WRITE);
		mprotect(p + small, 4096, PROT_NONE);
		memset(p, 1, small);
	}
	for (int i = 0; i < huge; i++) {
		char *raw = map_or_die(2 * PMD, PROT_READ | PROT_WRITE);
		char *p = (char *)(((unsigned long)raw + PMD - 1) & ~(PMD - 1));
		madvise(p, PMD, MADV_HUGEPAGE);
		memset(p, 1, PMD);
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
