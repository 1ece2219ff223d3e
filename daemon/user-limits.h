/* SPDX-License-Identifier: MIT */
/*
 * Per-user call limits: a token bucket of calls for each uid, for methods an
 * unprivileged caller could otherwise repeat without end (Collapse: each
 * call walks the target's chunk table on the event loop and may force a
 * rescan). Privileged callers are not limited. Pure: time is passed in.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct user_limits;

/* rate_per_min calls a minute, up to burst back to back. NULL if out of
 * memory. */
struct user_limits *user_limits_new(uint32_t rate_per_min, uint32_t burst);
void user_limits_free(struct user_limits *ul);
/* One call of uid now: true if within its limit (and counted); false, with
 * *retry_usec the time until one is allowed again, if not. */
bool user_limits_take(struct user_limits *ul, uid_t uid, uint64_t now, uint64_t *retry_usec);
/* Users with a bucket (for tests: idle ones are dropped as others come). */
size_t user_limits_count(const struct user_limits *ul);
