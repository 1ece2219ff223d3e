/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/*
 * stderr capture. No cmocka assertion may run between capture_begin() and capture_end():
 * cmocka reports failures on stderr.
 */
struct capture {
	char path[64];
	int saved_fd;
	int fd;
};

static void capture_begin(struct capture *c)
{
	snprintf(c->path, sizeof(c->path), "/tmp/thpd-test-log.XXXXXX");
	c->fd = mkstemp(c->path);
	assert_true(c->fd >= 0);
	fflush(stderr);
	c->saved_fd = dup(STDERR_FILENO);
	assert_true(c->saved_fd >= 0);
	assert_true(dup2(c->fd, STDERR_FILENO) >= 0);
}

/* Returns the captured text (malloc'd). */
static char *capture_end(struct capture *c)
{
	char *buf = NULL;
	size_t len = 0;

	fflush(stderr);
	assert_true(dup2(c->saved_fd, STDERR_FILENO) >= 0);
	close(c->saved_fd);
	close(c->fd);
	assert_int_equal(read_file_at(AT_FDCWD, c->path, &buf, &len), 0);
	assert_int_equal(strlen(buf), len);
	unlink(c->path);
	return buf;
}

static void test_parse_level(void **state)
{
	static const struct {
		const char *s;
		int level;
	} good[] = {
	    {"error", LOG_ERR}, {"warning", LOG_WARNING}, {"notice", LOG_NOTICE},
	    {"info", LOG_INFO}, {"debug", LOG_DEBUG},
	};
	static const char *const bad[] = {"",	   "ERROR",  "warn", "err", "info ",
					  " info", "debugx", "crit", "7",   "emerg"};
	int level;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		level = -1;
		assert_int_equal(log_parse_level(good[i].s, &level), 0);
		assert_int_equal(level, good[i].level);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		level = -1;
		print_message("log_parse_level(\"%s\") should fail\n", bad[i]);
		assert_int_equal(log_parse_level(bad[i], &level), -EINVAL);
		assert_int_equal(level, -1);
	}
	assert_int_equal(log_parse_level(NULL, &level), -EINVAL);
}

static void test_setup_levels(void **state)
{
	log_setup(LOG_DEBUG, LOG_TARGET_STDERR);
	assert_int_equal(log_get_max_level(), LOG_DEBUG);
	log_setup(LOG_WARNING, LOG_TARGET_STDERR);
	assert_int_equal(log_get_max_level(), LOG_WARNING);
	log_setup(99, LOG_TARGET_STDERR);
	assert_int_equal(log_get_max_level(), LOG_DEBUG);
	log_setup(-3, LOG_TARGET_STDERR);
	assert_int_equal(log_get_max_level(), LOG_EMERG);
}

static void test_ratelimit_window(void **state)
{
	struct ratelimit rl = {.interval_usec = 1000, .burst = 3};

	/* A window starting at t=0 must work: 0 is not "unset". */
	assert_true(ratelimit_allow(&rl, 0));
	assert_true(ratelimit_allow(&rl, 10));
	assert_true(ratelimit_allow(&rl, 20));
	assert_false(ratelimit_allow(&rl, 30));
	assert_false(ratelimit_allow(&rl, 500));
	assert_false(ratelimit_allow(&rl, 999));
	assert_int_equal(rl.suppressed, 3);
	assert_int_equal(rl.begin_usec, 0);

	/* The window is [begin, begin + interval). */
	assert_true(ratelimit_allow(&rl, 1000));
	assert_int_equal(rl.begin_usec, 1000);
	assert_int_equal(rl.count, 1);
	assert_true(ratelimit_allow(&rl, 1500));
	assert_true(ratelimit_allow(&rl, 1999));
	assert_false(ratelimit_allow(&rl, 1999));
	assert_int_equal(rl.suppressed, 4); /* reset is the caller's business */

	/* A long gap opens a fresh window with the full burst. */
	assert_true(ratelimit_allow(&rl, 1000000));
	assert_true(ratelimit_allow(&rl, 1000001));
	assert_true(ratelimit_allow(&rl, 1000002));
	assert_false(ratelimit_allow(&rl, 1000003));
}

static void test_ratelimit_disabled(void **state)
{
	struct ratelimit no_interval = {.interval_usec = 0, .burst = 1};
	struct ratelimit no_burst = {.interval_usec = 1000, .burst = 0};

	for (int i = 0; i < 100; i++) {
		assert_true(ratelimit_allow(&no_interval, 5));
		assert_true(ratelimit_allow(&no_burst, 5));
	}
	assert_int_equal(no_interval.suppressed, 0);
}

static void test_stderr_line(void **state)
{
	struct capture c;
	char *out;

	log_setup(LOG_INFO, LOG_TARGET_STDERR);
	capture_begin(&c);
	log_info("hello %d", 42);
	out = capture_end(&c);
	assert_string_equal(out, "thpd: info: hello 42\n");
	free(out);
}

static void test_stderr_levels(void **state)
{
	struct log_ctx ctx = {
	    .pid = 1234, .policy = "db", .err = EIO, .bytes = 4096, .addr = 0x7f00};
	struct capture c;
	char *out;

	log_setup(LOG_DEBUG, LOG_TARGET_STDERR);
	capture_begin(&c);
	log_error("e");
	log_warning("w");
	log_notice("n");
	log_info("i");
	log_debug("d");
	log_ctx_msg(LOG_CRIT, NULL, "c");
	log_ctx_msg(LOG_DAEMON | LOG_INFO, NULL, "facility bits ignored");
	log_ctx_msg(LOG_NOTICE, &ctx, "with ctx %s", "fields");
	out = capture_end(&c);
	assert_string_equal(out, "thpd: error: e\n"
				 "thpd: warning: w\n"
				 "thpd: notice: n\n"
				 "thpd: info: i\n"
				 "thpd: debug: d\n"
				 "thpd: error: c\n"
				 "thpd: info: facility bits ignored\n"
				 "thpd: notice: with ctx fields\n");
	free(out);
}

static void test_stderr_filtered(void **state)
{
	struct capture c;
	char *out;

	log_setup(LOG_NOTICE, LOG_TARGET_STDERR);
	capture_begin(&c);
	log_debug("dropped");
	log_info("dropped");
	log_notice("kept");
	log_error("kept too");
	out = capture_end(&c);
	assert_string_equal(out, "thpd: notice: kept\nthpd: error: kept too\n");
	free(out);

	log_setup(LOG_ERR, LOG_TARGET_STDERR);
	capture_begin(&c);
	log_warning("dropped");
	out = capture_end(&c);
	assert_string_equal(out, "");
	free(out);
}

static void test_errno_preserved(void **state)
{
	struct capture c;
	char *out;
	int e;

	log_setup(LOG_INFO, LOG_TARGET_STDERR);
	capture_begin(&c);
	errno = ENOENT;
	log_info("open: %m");
	e = errno;
	errno = EBUSY;
	log_debug("filtered");
	out = capture_end(&c);
	assert_int_equal(e, ENOENT);
	assert_string_equal(out, "thpd: info: open: No such file or directory\n");
	free(out);
}

static void test_long_message(void **state)
{
	char big[10000];
	struct capture c;
	char *out;
	size_t len;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_setup(LOG_INFO, LOG_TARGET_STDERR);
	capture_begin(&c);
	log_info("%s", big);
	out = capture_end(&c);
	len = strlen(out);
	/* Truncated, but still one whole line. */
	assert_true(len > 1000 && len < sizeof(big));
	assert_int_equal(strncmp(out, "thpd: info: xxx", 15), 0);
	assert_int_equal(out[len - 1], '\n');
	assert_ptr_equal(strchr(out, '\n'), out + len - 1);
	free(out);
}

static void test_ratelimited_output(void **state)
{
	struct ratelimit rl = {.interval_usec = 3600 * 1000000ULL, .burst = 2};
	struct capture c;
	char *out;

	log_setup(LOG_INFO, LOG_TARGET_STDERR);
	capture_begin(&c);
	for (int i = 0; i < 5; i++)
		log_ratelimited_impl(&rl, LOG_WARNING, NULL, "msg %d", i);
	/* Pretend the hour is over (a wrap to the future also opens a new window). */
	rl.begin_usec -= rl.interval_usec;
	log_ratelimited_impl(&rl, LOG_WARNING, NULL, "msg %d", 5);
	log_ratelimited_impl(&rl, LOG_WARNING, NULL, "msg %d", 6);
	/* Filtered levels do not use up the burst. */
	log_ratelimited_impl(&rl, LOG_DEBUG, NULL, "debug");
	out = capture_end(&c);
	assert_string_equal(out, "thpd: warning: msg 0\n"
				 "thpd: warning: msg 1\n"
				 "thpd: warning: (3 similar messages suppressed) msg 5\n"
				 "thpd: warning: msg 6\n");
	assert_int_equal(rl.suppressed, 0);
	assert_int_equal(rl.count, 2);
	free(out);
}

static void test_ratelimited_macro(void **state)
{
	struct capture c;
	char *out, *p;
	int lines = 0;

	log_setup(LOG_INFO, LOG_TARGET_STDERR);
	capture_begin(&c);
	for (int i = 0; i < 25; i++)
		log_ratelimited(LOG_INFO, NULL, "spam %d", i);
	out = capture_end(&c);
	for (p = out; (p = strchr(p, '\n')); p++)
		lines++;
	assert_int_equal(lines, 10);
	assert_non_null(strstr(out, "thpd: info: spam 9\n"));
	assert_null(strstr(out, "spam 10"));
	free(out);
}

static void test_auto_target(void **state)
{
	struct capture c;
	char *out;

	unsetenv("JOURNAL_STREAM");
	log_setup(LOG_INFO, LOG_TARGET_AUTO);
	capture_begin(&c);
	log_info("auto without journal");
	out = capture_end(&c);
	assert_string_equal(out, "thpd: info: auto without journal\n");
	free(out);

	/* A JOURNAL_STREAM inherited from elsewhere (stderr redirected) must be ignored. */
	setenv("JOURNAL_STREAM", "1:1", 1);
	capture_begin(&c);
	log_setup(LOG_INFO, LOG_TARGET_AUTO);
	log_info("stale stream");
	out = capture_end(&c);
	assert_string_equal(out, "thpd: info: stale stream\n");
	free(out);

	setenv("JOURNAL_STREAM", "garbage", 1);
	capture_begin(&c);
	log_setup(LOG_INFO, LOG_TARGET_AUTO);
	log_info("garbage stream");
	out = capture_end(&c);
	assert_string_equal(out, "thpd: info: garbage stream\n");
	free(out);
	unsetenv("JOURNAL_STREAM");
	log_setup(LOG_INFO, LOG_TARGET_STDERR);
}

#define N_THREADS 8
#define N_LINES	  300

static void *log_thread(void *arg)
{
	int id = (int)(intptr_t)arg;

	for (int i = 0; i < N_LINES; i++)
		log_info("thread %d line %d %s", id, i, "payload-payload-payload-payload");
	return NULL;
}

static void test_concurrent_lines(void **state)
{
	pthread_t t[N_THREADS];
	int seen[N_THREADS] = {0};
	struct capture c;
	char *out, *line, *save = NULL;
	int lines = 0;

	log_setup(LOG_INFO, LOG_TARGET_STDERR);
	capture_begin(&c);
	for (int i = 0; i < N_THREADS; i++)
		if (pthread_create(&t[i], NULL, log_thread, (void *)(intptr_t)i) != 0)
			abort();
	for (int i = 0; i < N_THREADS; i++)
		pthread_join(t[i], NULL);
	out = capture_end(&c);

	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int id, n, end = 0;

		assert_int_equal(sscanf(line,
					"thpd: info: thread %d line %d "
					"payload-payload-payload-payload%n",
					&id, &n, &end),
				 2);
		assert_int_equal(line[end], '\0');
		assert_true(id >= 0 && id < N_THREADS);
		assert_int_equal(n, seen[id]); /* in order per thread */
		seen[id]++;
		lines++;
	}
	assert_int_equal(lines, N_THREADS * N_LINES);
	free(out);
}

/* util.c is linked here too; these cover what the logger depends on. */
static void test_now_usec(void **state)
{
	uint64_t a = now_usec(), b;

	usleep(2000);
	b = now_usec();
	assert_true(b >= a + 2000);
	assert_true(b - a < 10 * 1000000ULL);
}

static void test_read_file_proc(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	struct stat st;

	/* stat says 0 bytes; the contents are not empty. */
	assert_int_equal(stat("/proc/self/status", &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(read_file_at(AT_FDCWD, "/proc/self/status", &buf, &len), 0);
	assert_true(len > 0);
	assert_int_equal(strlen(buf), len);
	assert_non_null(strstr(buf, "\nPid:\t"));
	free(buf);

	/* Relative to a directory fd. */
	int dfd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(read_file_at(dfd, "stat", &buf, NULL), 0);
	assert_true(strlen(buf) > 0);
	free(buf);
	close(dfd);

	buf = (char *)0x1;
	assert_int_equal(read_file_at(AT_FDCWD, "/nonexistent/thpd", &buf, &len), -ENOENT);
	assert_ptr_equal(buf, (char *)0x1);
	assert_int_equal(read_file_at(AT_FDCWD, "/proc/self", &buf, &len), -EISDIR);
}

static void test_read_fd_all(void **state)
{
	char path[] = "/tmp/thpd-test-util.XXXXXX";
	size_t n = 100000, len = 0;
	char *data = malloc(n), *buf = NULL;
	int fd;

	assert_non_null(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)('a' + i % 26);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, data, n), (ssize_t)n);

	/* The file offset is at the end: read_fd_all still reads from 0. */
	assert_int_equal(read_fd_all(fd, &buf, &len), 0);
	assert_int_equal(len, n);
	assert_memory_equal(buf, data, n);
	assert_int_equal(buf[n], '\0');
	free(buf);

	/* Twice in a row gives the same. */
	assert_int_equal(read_fd_all(fd, &buf, &len), 0);
	assert_int_equal(len, n);
	free(buf);

	/* Empty file. */
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(read_fd_all(fd, &buf, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
	close(fd);

	assert_int_equal(read_fd_all(-1, &buf, &len), -EBADF);
	free(data);
}

static void test_read_fd_all_proc(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(read_fd_all(fd, &buf, &len), 0);
	assert_true(len > 0);
	assert_int_equal(strlen(buf), len);
	free(buf);
	close(fd);
}

static void test_grow_array(void **state)
{
	uint64_t *v = NULL;
	size_t cap = 0;

	assert_int_equal(grow_array((void **)&v, &cap, 1, sizeof(*v)), 0);
	assert_non_null(v);
	assert_true(cap >= 1);
	for (size_t i = 0; i < cap; i++)
		assert_int_equal(v[i], 0);
	v[0] = 42;

	size_t old = cap;
	assert_int_equal(grow_array((void **)&v, &cap, old, sizeof(*v)), 0);
	assert_int_equal(cap, old); /* already big enough */

	assert_int_equal(grow_array((void **)&v, &cap, old + 1, sizeof(*v)), 0);
	assert_int_equal(cap, 2 * old); /* doubling */
	assert_int_equal(v[0], 42);
	for (size_t i = 1; i < cap; i++)
		assert_int_equal(v[i], 0);

	assert_int_equal(grow_array((void **)&v, &cap, 1000, sizeof(*v)), 0);
	assert_true(cap >= 1000);
	assert_int_equal(v[0], 42);
	v[999] = 7;

	/* Overflow: untouched on failure. */
	uint64_t *before = v;
	size_t cap_before = cap;
	assert_int_equal(grow_array((void **)&v, &cap, SIZE_MAX / 4, sizeof(*v)), -ENOMEM);
	assert_int_equal(grow_array((void **)&v, &cap, SIZE_MAX, sizeof(*v)), -ENOMEM);
	assert_ptr_equal(v, before);
	assert_int_equal(cap, cap_before);
	assert_int_equal(v[999], 7);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_level),	      cmocka_unit_test(test_setup_levels),
	    cmocka_unit_test(test_ratelimit_window),  cmocka_unit_test(test_ratelimit_disabled),
	    cmocka_unit_test(test_stderr_line),	      cmocka_unit_test(test_stderr_levels),
	    cmocka_unit_test(test_stderr_filtered),   cmocka_unit_test(test_errno_preserved),
	    cmocka_unit_test(test_long_message),      cmocka_unit_test(test_ratelimited_output),
	    cmocka_unit_test(test_ratelimited_macro), cmocka_unit_test(test_auto_target),
	    cmocka_unit_test(test_concurrent_lines),  cmocka_unit_test(test_now_usec),
	    cmocka_unit_test(test_read_file_proc),    cmocka_unit_test(test_read_fd_all),
	    cmocka_unit_test(test_read_fd_all_proc),  cmocka_unit_test(test_grow_array),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
