/* SPDX-License-Identifier: MIT */
/*
 * status-latency SOCKET CLIENTS SECONDS: CLIENTS threads each call
 * io.thpd.Manager.GetStatus in a loop over their own connection for SECONDS
 * and record every round trip. Prints: calls, p50, p90, p99, max (ms).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES_PER_CLIENT 200000

struct client {
	const char *path;
	double seconds;
	uint64_t *samples; /* nanoseconds */
	size_t n;
	int err;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* One call: write the request, read up to and including the NUL. */
static int round_trip(int fd)
{
	static const char req[] = "{\"method\":\"io.thpd.Manager.GetStatus\"}";
	char buf[8192];

	if (write(fd, req, sizeof(req)) != (ssize_t)sizeof(req)) /* includes the NUL */
		return -EIO;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return -EIO;
		if (memchr(buf, '\0', (size_t)n))
			return 0;
	}
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	int fd = connect_to(c->path);

	if (fd < 0) {
		c->err = fd;
		return NULL;
	}
	uint64_t end = now_ns() + (uint64_t)(c->seconds * 1e9);
	while (c->n < MAX_SAMPLES_PER_CLIENT) {
		uint64_t t0 = now_ns();
		if (t0 >= end)
			break;
		if (round_trip(fd) < 0) {
			c->err = -EIO;
			break;
		}
		c->samples[c->n++] = now_ns() - t0;
	}
	close(fd);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: status-latency SOCKET CLIENTS SECONDS\n");
		return 2;
	}
	int nclients = atoi(argv[2]);
	double seconds = atof(argv[3]);
	if (nclients < 1 || nclients > 1024 || seconds <= 0) {
		fprintf(stderr, "status-latency: bad CLIENTS or SECONDS\n");
		return 2;
	}
	struct client *cl = calloc((size_t)nclients, sizeof(*cl));
	pthread_t *th = calloc((size_t)nclients, sizeof(*th));
	if (!cl || !th)
		return 1;
	for (int i = 0; i < nclients; i++) {
		cl[i] = (struct client){.path = argv[1], .seconds = seconds};
		cl[i].samples = malloc(MAX_SAMPLES_PER_CLIENT * sizeof(uint64_t));
		if (!cl[i].samples || pthread_create(&th[i], NULL, client_main, &cl[i]) != 0)
			return 1;
	}
	size_t total = 0;
	int errors = 0;
	for (int i = 0; i < nclients; i++) {
		pthread_join(th[i], NULL);
		total += cl[i].n;
		errors += cl[i].err != 0;
	}
	uint64_t *all = malloc((total ? total : 1) * sizeof(uint64_t));
	if (!all)
		return 1;
	size_t k = 0;
	for (int i = 0; i < nclients; i++) {
		memcpy(all + k, cl[i].samples, cl[i].n * sizeof(uint64_t));
		k += cl[i].n;
		free(cl[i].samples);
	}
	if (total == 0) {
		fprintf(stderr, "status-latency: no successful call (%d client errors)\n", errors);
		return 1;
	}
	qsort(all, total, sizeof(*all), cmp_u64);
#define PCT(p) ((double)all[(size_t)((double)(total - 1) * (p))] / 1e6)
	printf("calls=%zu p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%d\n", total,
	       PCT(0.50), PCT(0.90), PCT(0.99), (double)all[total - 1] / 1e6, errors);
	free(all);
	free(cl);
	free(th);
	return errors ? 1 : 0;
}
