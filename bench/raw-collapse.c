/* SPDX-License-Identifier: MIT */
/*
 * raw-collapse [--call-size SIZE | --big] PID START END: the baseline for
 * thpd's collapse throughput. Collapses [START, END) of another process from
 * this one with a plain loop of process_madvise(pidfd, MADV_COLLAPSE) calls,
 * one iovec per call: 2 MiB per call by default (what thpd does), or 1 GiB
 * per call with --big. No scanning, no budget: one pass, then up to 8
 * rounds, 10 ms apart, over the calls that failed with EAGAIN ("try again").
 *
 * START and END are hex (0x optional), 2 MiB aligned, as written by the
 * ready file of bench/random-read or tests/fixtures/thp-target. Every 2 MiB
 * of the range must be populated (an empty PMD aborts a call with EINVAL).
 *
 * Prints one line:
 *   bytes=N calls=N retried=N failed=N elapsed_s=S gib_per_s=R cpu_s=S runq_s=S
 *   [errors=NAME:N,...]
 * elapsed_s covers the loop of calls only (not pidfd_open); cpu_s and runq_s
 * are this thread's time on a CPU and waiting for one during the loop (from
 * /proc/thread-self/schedstat; -1 if unreadable): the rest of elapsed_s was
 * spent blocked (locks of the target's memory map, ...).
 * Exit status: 0 every call succeeded, 1 some call failed or a setup system
 * call failed, 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define PMD_SIZE       ((uint64_t)2 << 20)
#define BIG_CALL       ((uint64_t)1 << 30)
#define MAX_ERRNOS     134
#define RETRY_ROUNDS   8
#define RETRY_DELAY_US 10000

static void usage(FILE *f)
{
	fprintf(f, "usage: raw-collapse [--call-size SIZE | --big] PID START END\n"
		   "  -c, --call-size SIZE  bytes per process_madvise call: a multiple of 2M,\n"
		   "                        at most 1G (suffixes M/G; default 2M, as thpd)\n"
		   "  -b, --big             one call per 1 GiB (same as --call-size 1G)\n"
		   "  START, END            hex addresses, 2 MiB aligned\n");
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* On-CPU and run-queue wait time of this thread, in seconds. */
static void sched_times(double *cpu, double *runq)
{
	unsigned long long c, q;
	FILE *f = fopen("/proc/thread-self/schedstat", "re");

	*cpu = *runq = -1;
	if (!f)
		return;
	if (fscanf(f, "%llu %llu", &c, &q) == 2) {
		*cpu = (double)c / 1e9;
		*runq = (double)q / 1e9;
	}
	fclose(f);
}

/* One call over [addr, min(addr + size, end)): 0 or the errno (EIO: partial). */
static int collapse(int pidfd, uint64_t addr, uint64_t end, uint64_t size)
{
	uint64_t len = end - addr < size ? end - addr : size;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
	long r = syscall(SYS_process_madvise, pidfd, &iov, 1, MADV_COLLAPSE, 0);

	if (r < 0)
		return errno > 0 ? errno : EIO;
	return (uint64_t)r == len ? 0 : EIO;
}

static bool parse_hex(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 16); /* accepts an optional 0x */
	return errno == 0 && end != s && *end == '\0';
}

static bool parse_size(const char *s, uint64_t *out)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return false;
	if (*end == 'M' || *end == 'm') {
		v <<= 20;
		end++;
	} else if (*end == 'G' || *end == 'g') {
		v <<= 30;
		end++;
	}
	if (*end != '\0')
		return false;
	*out = v;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"call-size", required_argument, NULL, 'c'},
	    {"big", no_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	uint64_t call_size = PMD_SIZE, start, end, calls = 0, failed = 0, retried = 0;
	unsigned long err_count[MAX_ERRNOS] = {0};
	long pid;
	int c, pidfd;
	char *endp;

	while ((c = getopt_long(argc, argv, "c:bh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (!parse_size(optarg, &call_size) || call_size == 0 ||
			    call_size % PMD_SIZE || call_size > BIG_CALL) {
				fprintf(stderr, "raw-collapse: bad --call-size '%s'\n", optarg);
				return 2;
			}
			break;
		case 'b':
			call_size = BIG_CALL;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 3) {
		usage(stderr);
		return 2;
	}
	errno = 0;
	pid = strtol(argv[optind], &endp, 10);
	if (errno || *endp || pid <= 0 || !parse_hex(argv[optind + 1], &start) ||
	    !parse_hex(argv[optind + 2], &end) || start % PMD_SIZE || end % PMD_SIZE ||
	    end <= start) {
		fprintf(stderr, "raw-collapse: bad PID, START or END (2 MiB aligned hex)\n");
		return 2;
	}

	pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (pidfd < 0) {
		fprintf(stderr, "raw-collapse: pidfd_open %ld: %s\n", pid, strerror(errno));
		return 1;
	}

	double cpu0, runq0, cpu1, runq1;

	sched_times(&cpu0, &runq0);
	uint64_t n_calls = (end - start + call_size - 1) / call_size, n_retry = 0;
	uint64_t *retry = calloc(n_calls, sizeof(*retry));
	bool gone = false;

	if (!retry) {
		fprintf(stderr, "raw-collapse: out of memory\n");
		return 1;
	}
	double t0 = now_sec();
	for (uint64_t addr = start; addr < end && !gone; addr += call_size) {
		int e = collapse(pidfd, addr, end, call_size);

		calls++;
		if (e == EAGAIN) {
			retry[n_retry++] = addr;
		} else if (e) {
			failed++;
			err_count[e < MAX_ERRNOS ? e : 0]++;
			gone = e == ESRCH;
		}
	}
	/* EAGAIN means "try again": a few rounds, 10 ms apart, like a daemon would */
	for (int round = 0; round < RETRY_ROUNDS && n_retry && !gone; round++) {
		uint64_t left = 0;

		usleep(RETRY_DELAY_US);
		for (uint64_t i = 0; i < n_retry; i++) {
			int e = collapse(pidfd, retry[i], end, call_size);

			calls++;
			retried++;
			if (e == EAGAIN) {
				retry[left++] = retry[i];
			} else if (e) {
				failed++;
				err_count[e < MAX_ERRNOS ? e : 0]++;
				gone = e == ESRCH;
			}
		}
		n_retry = left;
	}
	failed += n_retry;
	err_count[EAGAIN] += n_retry;
	free(retry);
	double elapsed = now_sec() - t0;
	sched_times(&cpu1, &runq1);

	printf("bytes=%" PRIu64 " calls=%" PRIu64 " retried=%" PRIu64 " failed=%" PRIu64
	       " elapsed_s=%.6f gib_per_s=%.3f cpu_s=%.3f runq_s=%.3f",
	       end - start, calls, retried, failed, elapsed,
	       (double)(end - start) / (double)(1ULL << 30) / elapsed,
	       cpu0 < 0 || cpu1 < 0 ? -1.0 : cpu1 - cpu0,
	       runq0 < 0 || runq1 < 0 ? -1.0 : runq1 - runq0);
	if (failed) {
		const char *sep = " errors=";

		for (int e = 0; e < MAX_ERRNOS; e++) {
			if (!err_count[e])
				continue;
			printf("%s%s:%lu", sep, e ? strerrorname_np(e) : "other", err_count[e]);
			sep = ",";
		}
	}
	printf("\n");
	close(pidfd);
	return failed ? 1 : 0;
}
