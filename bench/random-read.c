/* SPDX-License-Identifier: MIT */
/*
 * random-read: the TLB-sensitive workload of the benchmarks, and a target
 * whose memory something else (thpd, khugepaged, raw-collapse) collapses.
 *
 * Maps SIZE of anonymous memory (2 MiB aligned, one VMA), touches it (one
 * write per 4 KiB page, so every page is resident), writes a ready file,
 * optionally waits for SIGUSR1 (--wait: the handshake that lets something
 * else collapse the area first), then times READS random 8-byte reads and
 * prints ns per read.
 *
 * Reads are *dependent* by default (pointer-chasing style): the address of
 * read i+1 is computed from the value of read i (ANDed with a zero the
 * compiler cannot see), so the loads cannot overlap and every read pays the
 * full TLB miss + page walk + cache miss latency. The address sequence itself
 * comes from a fixed-seed xorshift64, so every mode reads the same addresses.
 * --access independent drops the dependency (addresses from xorshift only):
 * the CPU then overlaps many misses and the figure is a throughput, less
 * sensitive to the page size. --access both runs dependent, then
 * independent (READS each, one result line each).
 *
 * --thp none   never madvise: in THP mode "madvise" the area stays on 4 KiB
 *              pages unless thpd (or another MADV_COLLAPSE) collapses it.
 * --thp fault  madvise(MADV_HUGEPAGE) before touching: huge pages at fault
 *              time, the ceiling.
 * --thp late   madvise(MADV_HUGEPAGE) after touching: 4 KiB pages that
 *              khugepaged is allowed to collapse in the background.
 *
 * Usage:
 *   random-read --size SIZE [--name COMM] [--thp none|fault|late]
 *               [--ready-file PATH] [--wait] [--reads N]
 *               [--access dependent|independent|both] [--seed N] [--hold]
 *               [--serve]
 *
 * Ready file (written atomically after touching): "pid N", "start 0xA",
 * "end 0xA", "touch_ms N" lines. Result (stdout, one line
 * per access pattern, when READS > 0):
 *   access=dependent|independent reads=N ns_per_read=X wall_ns_per_read=W
 *   huge_pct=P touch_ms=T size=S checksum=C
 * ns_per_read is from this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so
 * time other processes had the CPU is left out; wall_ns_per_read includes it.
 * huge_pct is AnonHugePages/size of the area when the timed reads start.
 * --hold: after the reads (or right away with --reads 0) stay alive until
 * SIGTERM/SIGINT.
 * --serve: the paired A/B mode (bench/ab-random-read.sh). After the ready
 * file, every SIGUSR1 runs one measurement (the result lines as above, the
 * same READS addresses from the same seed every time, so measurements of
 * different processes and of the same process later read the same
 * addresses), then prints "served N" (N counts the measurements); SIGTERM
 * or SIGINT ends it.
 * Exit status: 0 ok, 1 a system call failed, 2 bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define PROG	     "random-read"
#define CHUNK_SIZE   ((size_t)2 << 20)
#define PAGE_SIZE_4K ((size_t)4096)
#define DEFAULT_SEED 0x9E3779B97F4A7C15ULL

enum thp_mode { THP_NONE, THP_FAULT, THP_LATE };

struct opts {
	size_t size;
	const char *name;
	enum thp_mode thp;
	const char *ready_path;
	bool wait;
	bool hold;
	bool serve;
	bool dependent;
	bool independent;
	uint64_t reads;
	uint64_t seed;
};

/* A zero the compiler cannot prove is zero: makes each address depend on
 * the previous load's value without changing the address. */
static volatile uint64_t hidden_zero;

static void die(const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
	exit(1);
}

static void die_usage(const char *msg, const char *arg)
{
	fprintf(stderr, PROG ": %s '%s'\nTry '" PROG " --help'.\n", msg, arg);
	exit(2);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " --size SIZE [--name COMM] [--thp none|fault|late]\n"
		"                   [--ready-file PATH] [--wait] [--reads N]\n"
		"                   [--access dependent|independent|both] [--seed N] [--hold]\n"
		"                   [--serve]\n"
		"  -s, --size SIZE        area, multiple of 2M, suffixes M/G\n"
		"  -n, --name COMM        process name (max 15 characters)\n"
		"  -t, --thp MODE         none (default): no madvise; fault: MADV_HUGEPAGE\n"
		"                         before touching; late: MADV_HUGEPAGE after touching\n"
		"  -r, --ready-file PATH  write pid/start/end/touch_ms here once touched\n"
		"  -w, --wait             after the ready file, wait for SIGUSR1 before reading\n"
		"  -N, --reads N          timed random reads (default 10000000; 0: none)\n"
		"  -a, --access PATTERN   dependent (default: TLB-bound), independent, both\n"
		"  -S, --seed N           xorshift64 seed (default 0x9E3779B97F4A7C15)\n"
		"  -H, --hold             stay alive until SIGTERM after the reads\n"
		"  -R, --serve            one measurement per SIGUSR1 (then \"served N\"),\n"
		"                         until SIGTERM\n");
}

static bool parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

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
	*out = (size_t)v;
	return true;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno == 0 && end != s && *end == '\0' && s[0] != '-';
}

static void parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"size", required_argument, NULL, 's'},
	    {"name", required_argument, NULL, 'n'},
	    {"thp", required_argument, NULL, 't'},
	    {"ready-file", required_argument, NULL, 'r'},
	    {"wait", no_argument, NULL, 'w'},
	    {"reads", required_argument, NULL, 'N'},
	    {"access", required_argument, NULL, 'a'},
	    {"seed", required_argument, NULL, 'S'},
	    {"hold", no_argument, NULL, 'H'},
	    {"serve", no_argument, NULL, 'R'}, /* bench/ab-random-read.sh */
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:n:t:r:wN:a:S:HRh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!parse_size(optarg, &o->size) || o->size == 0 || o->size % CHUNK_SIZE)
				die_usage("--size must be a positive multiple of 2M:", optarg);
			break;
		case 'n':
			if (optarg[0] == '\0' || strlen(optarg) > 15)
				die_usage("--name must be 1..15 characters:", optarg);
			o->name = optarg;
			break;
		case 't':
			if (strcmp(optarg, "none") == 0)
				o->thp = THP_NONE;
			else if (strcmp(optarg, "fault") == 0)
				o->thp = THP_FAULT;
			else if (strcmp(optarg, "late") == 0)
				o->thp = THP_LATE;
			else
				die_usage("unknown --thp", optarg);
			break;
		case 'r':
			o->ready_path = optarg;
			break;
		case 'w':
			o->wait = true;
			break;
		case 'N':
			if (!parse_u64(optarg, &o->reads))
				die_usage("bad --reads", optarg);
			break;
		case 'a':
			o->dependent =
			    strcmp(optarg, "dependent") == 0 || strcmp(optarg, "both") == 0;
			o->independent =
			    strcmp(optarg, "independent") == 0 || strcmp(optarg, "both") == 0;
			if (!o->dependent && !o->independent)
				die_usage("unknown --access", optarg);
			break;
		case 'S':
			if (!parse_u64(optarg, &o->seed) || o->seed == 0)
				die_usage("bad --seed (nonzero)", optarg);
			break;
		case 'H':
			o->hold = true;
			break;
		case 'R':
			o->serve = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc)
		die_usage("unexpected argument", argv[optind]);
	if (o->size == 0)
		die_usage("--size is required", "");
	if (o->serve && (o->wait || o->hold || o->reads == 0))
		die_usage("--serve goes without --wait, --hold and --reads 0", "--serve");
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* This thread's CPU time: unlike the wall clock, it leaves out the time other
 * work on a busy machine had the CPU. */
static double cpu_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* len bytes at a 2 MiB aligned address, with unmapped holes on both sides so
 * the kernel cannot merge the area with a neighbouring VMA. */
static uintptr_t map_aligned(size_t len)
{
	size_t total = len + 2 * CHUNK_SIZE;
	void *p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t raw, start;

	if (p == MAP_FAILED)
		die("mmap");
	raw = (uintptr_t)p;
	start = (raw + CHUNK_SIZE) & ~(uintptr_t)(CHUNK_SIZE - 1);
	if (munmap(p, start - raw) || munmap((void *)(start + len), raw + total - (start + len)))
		die("munmap");
	return start;
}

static void write_ready(const char *path, uintptr_t start, size_t size, long touch_ms)
{
	char tmp[PATH_MAX];
	FILE *f;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		die(path);
	}
	f = fopen(tmp, "we");
	if (!f)
		die(tmp);
	fprintf(f, "pid %d\nstart 0x%" PRIxPTR "\nend 0x%" PRIxPTR "\ntouch_ms %ld\n",
		(int)getpid(), start, start + size, touch_ms);
	if (fclose(f))
		die(tmp);
	if (rename(tmp, path))
		die("rename ready file");
}

/* AnonHugePages (kB) summed over this process's VMAs inside [start, end). */
static unsigned long self_huge_kb(uintptr_t start, uintptr_t end)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char *line = NULL;
	size_t cap = 0;
	bool inside = false;
	unsigned long total = 0;

	if (!f)
		die("/proc/self/smaps");
	while (getline(&line, &cap, f) > 0) {
		uintptr_t vs, ve;
		unsigned long kb;

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &vs, &ve) == 2) {
			inside = vs >= start && ve <= end;
			continue;
		}
		if (inside && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1)
			total += kb;
	}
	free(line);
	fclose(f);
	return total;
}

/* Waits for one of the blocked signals; returns its number. */
static int wait_signal(int sfd)
{
	struct signalfd_siginfo si;

	for (;;) {
		ssize_t r = read(sfd, &si, sizeof(si));

		if (r == (ssize_t)sizeof(si))
			return (int)si.ssi_signo;
		if (r < 0 && errno != EINTR)
			die("read signalfd");
	}
}

static inline uint64_t xorshift64(uint64_t x)
{
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

/* Maps a 64-bit random value onto [0, n) without division (Lemire). */
static inline uint64_t reduce(uint64_t x, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)x * n) >> 64);
}

static uint64_t read_dependent(const uint64_t *buf, uint64_t words, uint64_t n, uint64_t *x)
{
	uint64_t dep = hidden_zero, v = 0, sum = 0, s = *x;

	for (uint64_t i = 0; i < n; i++) {
		s = xorshift64(s);
		v = buf[reduce(s ^ (v & dep), words)];
		sum += v;
	}
	*x = s;
	return sum;
}

static uint64_t read_independent(const uint64_t *buf, uint64_t words, uint64_t n, uint64_t *x)
{
	uint64_t sum = 0, s = *x;

	for (uint64_t i = 0; i < n; i++) {
		s = xorshift64(s);
		sum += buf[reduce(s, words)];
	}
	*x = s;
	return sum;
}

/* Warm-up (a tenth), then READS timed reads; prints the result line. */
static void timed_reads(const struct opts *o, uintptr_t start, bool independent,
			unsigned long huge_kb, long touch_ms)
{
	const uint64_t *buf = (const uint64_t *)start;
	uint64_t words = o->size / sizeof(uint64_t), x = o->seed, sum;
	uint64_t (*fn)(const uint64_t *, uint64_t, uint64_t, uint64_t *) =
	    independent ? read_independent : read_dependent;

	sum = fn(buf, words, o->reads / 10, &x); /* page-table caches, CPU clock */
	double r0 = now_sec(), c0 = cpu_sec();
	sum += fn(buf, words, o->reads, &x);
	double cpu = cpu_sec() - c0, elapsed = now_sec() - r0;

	printf("access=%s reads=%" PRIu64 " ns_per_read=%.2f wall_ns_per_read=%.2f huge_pct=%.1f "
	       "touch_ms=%ld size=%zu checksum=%" PRIu64 "\n",
	       independent ? "independent" : "dependent", o->reads, cpu * 1e9 / (double)o->reads,
	       elapsed * 1e9 / (double)o->reads, 100.0 * (double)huge_kb * 1024 / (double)o->size,
	       touch_ms, o->size, sum);
}

int main(int argc, char **argv)
{
	struct opts o = {.name = PROG,
			 .thp = THP_NONE,
			 .reads = 10000000,
			 .seed = DEFAULT_SEED,
			 .dependent = true};
	sigset_t mask;
	int sfd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(&o, argc, argv);
	if (o.ready_path && unlink(o.ready_path) && errno != ENOENT)
		die("unlink ready file");
	if (prctl(PR_SET_NAME, o.name, 0, 0, 0))
		die("prctl(PR_SET_NAME)");

	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		die("sigprocmask");
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0)
		die("signalfd");

	uintptr_t start = map_aligned(o.size);
	if (o.thp == THP_FAULT && madvise((void *)start, o.size, MADV_HUGEPAGE))
		die("madvise(MADV_HUGEPAGE)");
	double t0 = now_sec();
	for (size_t off = 0; off < o.size; off += PAGE_SIZE_4K)
		*(volatile unsigned char *)(start + off) = 1;
	long touch_ms = (long)((now_sec() - t0) * 1000 + 0.5);
	if (o.thp == THP_LATE && madvise((void *)start, o.size, MADV_HUGEPAGE))
		die("madvise(MADV_HUGEPAGE)");
	if (o.ready_path)
		write_ready(o.ready_path, start, o.size, touch_ms);

	for (unsigned long served = 1; o.serve; served++) {
		if (wait_signal(sfd) != SIGUSR1)
			return 0;
		unsigned long huge_kb = self_huge_kb(start, start + o.size);

		if (o.dependent)
			timed_reads(&o, start, false, huge_kb, touch_ms);
		if (o.independent)
			timed_reads(&o, start, true, huge_kb, touch_ms);
		printf("served %lu\n", served);
	}

	if (o.wait) {
		int sig = wait_signal(sfd);

		if (sig != SIGUSR1)
			return 0;
	}

	if (o.reads > 0) {
		unsigned long huge_kb = self_huge_kb(start, start + o.size);

		if (o.dependent)
			timed_reads(&o, start, false, huge_kb, touch_ms);
		if (o.independent)
			timed_reads(&o, start, true, huge_kb, touch_ms);
	}

	while (o.hold) {
		int sig = wait_signal(sfd);

		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	return 0;
}
