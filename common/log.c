/* SPDX-License-Identifier: MIT */
/* Location fields would all point here, which is useless. */
#define SD_JOURNAL_SUPPRESS_LOCATION 1

#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "util.h"

#define LOG_LINE_MAX 2048

/* Written by log_setup(), read by every thread: hence the atomics. */
static int log_max_level = LOG_INFO;
static enum log_target log_target = LOG_TARGET_STDERR;

static const struct {
	const char *name;
	int level;
} level_names[] = {
    {"error", LOG_ERR}, {"warning", LOG_WARNING}, {"notice", LOG_NOTICE},
    {"info", LOG_INFO}, {"debug", LOG_DEBUG},
};

/* systemd sets JOURNAL_STREAM=<dev>:<ino> when stderr is connected to the journal. */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int n = 0;

	if (!e || sscanf(e, "%llu:%llu%n", &dev, &ino, &n) != 2 || e[n] != '\0')
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_setup(int max_level, enum log_target target)
{
	if (max_level < LOG_EMERG)
		max_level = LOG_EMERG;
	if (max_level > LOG_DEBUG)
		max_level = LOG_DEBUG;
	if (target == LOG_TARGET_AUTO)
		target = stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_STDERR;
	__atomic_store_n(&log_max_level, max_level, __ATOMIC_RELAXED);
	__atomic_store_n(&log_target, target, __ATOMIC_RELAXED);
}

int log_get_max_level(void)
{
	return __atomic_load_n(&log_max_level, __ATOMIC_RELAXED);
}

int log_parse_level(const char *s, int *ret_level)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (streq(s, level_names[i].name)) {
			*ret_level = level_names[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *level_name(int level)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++)
		if (level_names[i].level == level)
			return level_names[i].name;
	return "error"; /* LOG_EMERG .. LOG_CRIT */
}

static void write_stderr(int level, const char *msg)
{
	/* One call, so stdio's stream lock keeps concurrent lines whole. */
	fprintf(stderr, "thpd: %s: %s\n", level_name(level), msg);
}

/* msg_field is "MESSAGE=<text>": built that way so no copy is needed here. */
static int write_journal(int level, const struct log_ctx *ctx, const char *msg_field)
{
	char prio[32], mid[64], pid[32], policy[128], err[32], bytes[48], addr[48];
	struct iovec iov[9];
	size_t n = 0;

#define IOV_ADD(buf, ...)                                                                          \
	do {                                                                                       \
		snprintf(buf, sizeof(buf), __VA_ARGS__);                                           \
		iov[n++] = (struct iovec){.iov_base = buf, .iov_len = strlen(buf)};                \
	} while (0)

	IOV_ADD(prio, "PRIORITY=%d", level);
	iov[n++] = (struct iovec){.iov_base = (void *)msg_field, .iov_len = strlen(msg_field)};
	iov[n++] = (struct iovec){.iov_base = (void *)"SYSLOG_IDENTIFIER=thpd",
				  .iov_len = strlen("SYSLOG_IDENTIFIER=thpd")};
	if (ctx) {
		if (ctx->message_id)
			IOV_ADD(mid, "MESSAGE_ID=%s", ctx->message_id);
		if (ctx->pid > 0)
			IOV_ADD(pid, "THPD_PID=%d", (int)ctx->pid);
		if (ctx->policy)
			IOV_ADD(policy, "THPD_POLICY=%s", ctx->policy);
		if (ctx->err > 0)
			IOV_ADD(err, "ERRNO=%d", ctx->err);
		if (ctx->bytes)
			IOV_ADD(bytes, "THPD_BYTES=%llu", (unsigned long long)ctx->bytes);
		if (ctx->addr)
			IOV_ADD(addr, "THPD_ADDR=0x%llx", (unsigned long long)ctx->addr);
	}
#undef IOV_ADD

	return sd_journal_sendv(iov, (int)n);
}

__attribute__((format(printf, 4, 0))) static void
log_vmsg(int level, const struct log_ctx *ctx, const char *prefix, const char *fmt, va_list ap)
{
	static const char field[] = "MESSAGE=";
	char line[sizeof(field) - 1 + LOG_LINE_MAX];
	char *msg = line + sizeof(field) - 1;
	size_t off = 0;

	memcpy(line, field, sizeof(field) - 1);
	if (prefix) {
		snprintf(msg, LOG_LINE_MAX, "%s", prefix);
		off = strlen(msg);
	}
	vsnprintf(msg + off, LOG_LINE_MAX - off, fmt, ap);

	if (__atomic_load_n(&log_target, __ATOMIC_RELAXED) == LOG_TARGET_JOURNAL &&
	    write_journal(level, ctx, line) >= 0)
		return;
	/* Send failed; libsystemd itself reports a missing socket as success. */
	write_stderr(level, msg);
}

static bool level_enabled(int level)
{
	return level <= log_get_max_level();
}

void log_ctx_msg(int level, const struct log_ctx *ctx, const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	level = LOG_PRI(level);
	if (!level_enabled(level))
		return;
	va_start(ap, fmt);
	log_vmsg(level, ctx, NULL, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

bool ratelimit_allow(struct ratelimit *rl, uint64_t now_usec)
{
	if (rl->interval_usec == 0 || rl->burst == 0)
		return true;
	/* count == 0: never used. now < begin: clock jumped back, start over. */
	if (rl->count == 0 || now_usec < rl->begin_usec ||
	    now_usec - rl->begin_usec >= rl->interval_usec) {
		rl->begin_usec = now_usec;
		rl->count = 1;
		return true;
	}
	if (rl->count < rl->burst) {
		rl->count++;
		return true;
	}
	rl->suppressed++;
	return false;
}

/* Call sites share a static struct ratelimit across threads. */
static pthread_mutex_t ratelimit_lock = PTHREAD_MUTEX_INITIALIZER;

void log_ratelimited_impl(struct ratelimit *rl, int level, const struct log_ctx *ctx,
			  const char *fmt, ...)
{
	int saved_errno = errno;
	char prefix[64];
	unsigned suppressed = 0;
	bool allow;
	va_list ap;

	level = LOG_PRI(level);
	if (!level_enabled(level))
		return;

	pthread_mutex_lock(&ratelimit_lock);
	allow = ratelimit_allow(rl, now_usec());
	/* Only a new window lets a message through after suppression. */
	if (allow) {
		suppressed = rl->suppressed;
		rl->suppressed = 0;
	}
	pthread_mutex_unlock(&ratelimit_lock);
	if (!allow) {
		errno = saved_errno;
		return;
	}

	if (suppressed)
		snprintf(prefix, sizeof(prefix), "(%u similar messages suppressed) ", suppressed);
	errno = saved_errno; /* for %m */
	va_start(ap, fmt);
	log_vmsg(level, ctx, suppressed ? prefix : NULL, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}
