/* SPDX-License-Identifier: MIT */
/*
 * Logging: to the journal (with structured fields) when running under
 * systemd, to stderr otherwise. Only the top of a flow logs; pure helpers
 * return errors instead.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <syslog.h>

/* Optional structured context, sent as journal fields. Zero = absent. */
struct log_ctx {
	const char *message_id; /* 32 hex chars, MESSAGE_ID= */
	pid_t pid;		/* THPD_PID= */
	const char *policy;	/* THPD_POLICY= */
	int err;		/* ERRNO= (positive errno) */
	uint64_t bytes;		/* THPD_BYTES= */
	uint64_t addr;		/* THPD_ADDR= (hex) */
};

enum log_target { LOG_TARGET_AUTO, LOG_TARGET_STDERR, LOG_TARGET_JOURNAL };

/* max_level: a syslog level (LOG_ERR .. LOG_DEBUG). */
void log_setup(int max_level, enum log_target target);
int log_get_max_level(void);
/* "error", "warning", "notice", "info", "debug" -> LOG_*; -EINVAL if unknown. */
int log_parse_level(const char *s, int *ret_level);

void log_ctx_msg(int level, const struct log_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(...)	 log_ctx_msg(LOG_ERR, NULL, __VA_ARGS__)
#define log_warning(...) log_ctx_msg(LOG_WARNING, NULL, __VA_ARGS__)
#define log_notice(...)	 log_ctx_msg(LOG_NOTICE, NULL, __VA_ARGS__)
#define log_info(...)	 log_ctx_msg(LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...)	 log_ctx_msg(LOG_DEBUG, NULL, __VA_ARGS__)

/* Token-bucket rate limit for repeated messages: burst per interval. */
struct ratelimit {
	uint64_t interval_usec;
	unsigned burst;
	uint64_t begin_usec;
	unsigned count;
	unsigned suppressed;
};

/* True if a message may be emitted now. Pure given now_usec. */
bool ratelimit_allow(struct ratelimit *rl, uint64_t now_usec);

/*
 * Log at most 10 times per 10 s from one call site; when messages were
 * dropped, the next one that passes says how many.
 */
#define log_ratelimited(level, ctx, ...)                                                           \
	do {                                                                                       \
		static struct ratelimit _rl = {.interval_usec = 10000000ULL, .burst = 10};         \
		log_ratelimited_impl(&_rl, level, ctx, __VA_ARGS__);                               \
	} while (0)

void log_ratelimited_impl(struct ratelimit *rl, int level, const struct log_ctx *ctx,
			  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
