/* SPDX-License-Identifier: MIT */
/* Per-user call limits (user-limits.h). Pure. */
#include "user-limits.h"

#include <stdlib.h>
#include <uthash.h>

#include "budget.h"

/* Buckets are kept for this many users at most; a bucket that is full again
 * says nothing a new one would not, so those go first. */
#define USER_LIMITS_MAX 1024

struct user_bucket {
	UT_hash_handle hh;
	uid_t uid;
	struct token_bucket tb; /* in calls x 60: the bucket counts per second */
};

struct user_limits {
	struct user_bucket *users;
	uint32_t rate_per_min, burst;
};

struct user_limits *user_limits_new(uint32_t rate_per_min, uint32_t burst)
{
	struct user_limits *ul = calloc(1, sizeof(*ul));

	if (!ul)
		return NULL;
	ul->rate_per_min = rate_per_min ? rate_per_min : 1;
	ul->burst = burst ? burst : 1;
	return ul;
}

void user_limits_free(struct user_limits *ul)
{
	struct user_bucket *b, *tmp;

	if (!ul)
		return;
	HASH_ITER(hh, ul->users, b, tmp)
	{
		HASH_DEL(ul->users, b);
		free(b);
	}
	free(ul);
}

/* Drop the buckets that are full (their users called long enough ago). */
static void prune(struct user_limits *ul, uint64_t now)
{
	struct user_bucket *b, *tmp;

	HASH_ITER(hh, ul->users, b, tmp)
	{
		struct token_bucket *tb = &b->tb;
		if (tb_available(tb, now) >= tb->burst) {
			HASH_DEL(ul->users, b);
			free(b);
		}
	}
}

bool user_limits_take(struct user_limits *ul, uid_t uid, uint64_t now, uint64_t *retry_usec)
{
	struct user_bucket *b;

	*retry_usec = 0;
	HASH_FIND(hh, ul->users, &uid, sizeof(uid), b);
	if (!b) {
		if (HASH_COUNT(ul->users) >= USER_LIMITS_MAX)
			prune(ul, now);
		if (HASH_COUNT(ul->users) >= USER_LIMITS_MAX) {
			*retry_usec = 1000000; /* every slot busy: a second */
			return false;
		}
		b = calloc(1, sizeof(*b));
		if (!b) {
			*retry_usec = 1000000;
			return false;
		}
		b->uid = uid;
		/* Per-minute rates as a per-second bucket: every unit is 1/60 call. */
		tb_init(&b->tb, ul->rate_per_min, (uint64_t)ul->burst * 60, now);
		HASH_ADD(hh, ul->users, uid, sizeof(b->uid), b);
	}
	if (tb_take(&b->tb, now, 60))
		return true;
	*retry_usec = tb_wait_usec(&b->tb, now, 60);
	return false;
}

size_t user_limits_count(const struct user_limits *ul)
{
	return HASH_COUNT(ul->users);
}
