/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "errno-policy.h"
#include "retry.h"

#define MS 1000ULL
#define S  1000000ULL

static const struct retry_config cfg = {
    .eagain_initial_usec = 100 * MS,
    .eagain_max_usec = 1 * S,
    .eagain_attempts = 6,
    .enomem_pause_usec = 30 * S,
    .ebusy_pause_usec = 60 * S,
};

static const struct area_sig sig0 = {
    .start = 0x7f0000000000ULL,
    .end = 0x7f0000800000ULL,
    .flags = 0x3,
    .resident = 4ULL << 20,
};

static void test_classify(void **state)
{
	(void)state;
	assert_int_equal(collapse_classify(0), COLLAPSE_OK);
	assert_int_equal(collapse_classify(EAGAIN), COLLAPSE_RETRY);
	assert_int_equal(collapse_classify(ENOMEM), COLLAPSE_NOMEM);
	assert_int_equal(collapse_classify(EBUSY), COLLAPSE_CGROUP_FULL);
	assert_int_equal(collapse_classify(EINVAL), COLLAPSE_INELIGIBLE);
	assert_int_equal(collapse_classify(ESRCH), COLLAPSE_GONE);
	assert_int_equal(collapse_classify(EPERM), COLLAPSE_DENIED);
	assert_int_equal(collapse_classify(EACCES), COLLAPSE_DENIED);
	assert_int_equal(collapse_classify(EFAULT), COLLAPSE_OTHER);
	assert_int_equal(collapse_classify(ENOSYS), COLLAPSE_OTHER);
	assert_int_equal(collapse_classify(-1), COLLAPSE_OTHER);
	assert_int_equal(collapse_classify(12345), COLLAPSE_OTHER);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(collapse_class_name(COLLAPSE_OK), "ok");
	assert_string_equal(collapse_class_name(COLLAPSE_RETRY), "eagain");
	assert_string_equal(collapse_class_name(COLLAPSE_NOMEM), "enomem");
	assert_string_equal(collapse_class_name(COLLAPSE_UNMAPPED), "unmapped");
	assert_string_equal(collapse_class_name(COLLAPSE_CGROUP_FULL), "ebusy");
	assert_string_equal(collapse_class_name(COLLAPSE_INELIGIBLE), "einval");
	assert_string_equal(collapse_class_name(COLLAPSE_GONE), "gone");
	assert_string_equal(collapse_class_name(COLLAPSE_DENIED), "denied");
	assert_string_equal(collapse_class_name(COLLAPSE_OTHER), "other");
	assert_string_equal(collapse_class_name(COLLAPSE_CLASS_MAX), "unknown");
	assert_string_equal(collapse_class_name((enum collapse_class) - 1), "unknown");

	assert_string_equal(chunk_state_name(CHUNK_CANDIDATE), "candidate");
	assert_string_equal(chunk_state_name(CHUNK_BACKOFF), "backoff");
	assert_string_equal(chunk_state_name(CHUNK_PARKED), "parked");
	assert_string_equal(chunk_state_name(CHUNK_QUARANTINED), "quarantined");
	assert_string_equal(chunk_state_name(CHUNK_HUGE), "huge");
	assert_string_equal(chunk_state_name(CHUNK_STATE_MAX), "unknown");
}

static void test_backoff_values(void **state)
{
	(void)state;
	/* n = 1: base = initial; jitter spans [base/2, base]. */
	assert_int_equal(eagain_backoff_usec(1, 100 * MS, 1 * S, 0), 50 * MS);
	assert_int_equal(eagain_backoff_usec(1, 100 * MS, 1 * S, UINT32_MAX), 100 * MS);
	assert_int_equal(eagain_backoff_usec(1, 100 * MS, 1 * S, 0x80000000u), 75 * MS);
	/* Doubling. */
	assert_int_equal(eagain_backoff_usec(2, 100 * MS, 1 * S, UINT32_MAX), 200 * MS);
	assert_int_equal(eagain_backoff_usec(3, 100 * MS, 1 * S, UINT32_MAX), 400 * MS);
	assert_int_equal(eagain_backoff_usec(4, 100 * MS, 1 * S, UINT32_MAX), 800 * MS);
	assert_int_equal(eagain_backoff_usec(4, 100 * MS, 1 * S, 0), 400 * MS);
	/* Capped at max. */
	assert_int_equal(eagain_backoff_usec(5, 100 * MS, 1 * S, UINT32_MAX), 1 * S);
	assert_int_equal(eagain_backoff_usec(5, 100 * MS, 1 * S, 0), 500 * MS);
	assert_int_equal(eagain_backoff_usec(40, 100 * MS, 1 * S, UINT32_MAX), 1 * S);
	/* Shift overflow. */
	assert_int_equal(eagain_backoff_usec(64, 100 * MS, 1 * S, UINT32_MAX), 1 * S);
	assert_int_equal(eagain_backoff_usec(65, 100 * MS, 1 * S, UINT32_MAX), 1 * S);
	assert_int_equal(eagain_backoff_usec(UINT32_MAX, 100 * MS, 1 * S, 0), 500 * MS);
	assert_int_equal(eagain_backoff_usec(UINT32_MAX, 1, UINT64_MAX, UINT32_MAX), UINT64_MAX);
	assert_int_equal(eagain_backoff_usec(UINT32_MAX, 1, UINT64_MAX, 0), UINT64_MAX / 2);
	assert_int_equal(eagain_backoff_usec(2, UINT64_MAX, UINT64_MAX, UINT32_MAX), UINT64_MAX);
	/* n = 0 is treated as the first attempt. */
	assert_int_equal(eagain_backoff_usec(0, 100 * MS, 1 * S, UINT32_MAX), 100 * MS);
	/* initial > max: max wins. */
	assert_int_equal(eagain_backoff_usec(1, 5 * S, 1 * S, UINT32_MAX), 1 * S);
	assert_int_equal(eagain_backoff_usec(1, 5 * S, 1 * S, 0), 500 * MS);
	/* Never 0 while initial > 0. */
	assert_int_equal(eagain_backoff_usec(1, 1, 1, 0), 1);
	assert_int_equal(eagain_backoff_usec(1, 1, 1, UINT32_MAX), 1);
	assert_int_equal(eagain_backoff_usec(3, 7, 0, 0), 1);
	assert_int_equal(eagain_backoff_usec(1, 0, 1 * S, UINT32_MAX), 0);
}

static void test_backoff_bounds(void **state)
{
	static const uint32_t rs[] = {0,	   1,		0x1234567u,	0x7fffffffu,
				      0x80000000u, 0xdeadbeefu, UINT32_MAX - 1, UINT32_MAX};
	(void)state;
	for (uint32_t n = 1; n <= 70; n++) {
		uint64_t prev = 0;

		for (size_t i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
			uint64_t v = eagain_backoff_usec(n, 3 * MS, 10 * S, rs[i]);
			uint64_t base = n <= 20 ? (3 * MS) << (n - 1) : 10 * S;

			if (base > 10 * S)
				base = 10 * S;
			assert_true(v >= base / 2);
			assert_true(v <= base);
			assert_true(v >= prev); /* monotonic in rand32 */
			prev = v;
		}
	}
}

static void test_eagain_lifecycle(void **state)
{
	struct chunk_retry c = {0};
	uint64_t now = 1000 * S;
	uint64_t prev_delay = 0;
	(void)state;

	assert_true(retry_due(&c, now, &sig0));

	/* Attempts 1..5 back off, with the delay growing (rand32 = max: base). */
	for (uint32_t i = 1; i < cfg.eagain_attempts; i++) {
		uint64_t delay;

		retry_record(&c, COLLAPSE_RETRY, EAGAIN, now, &cfg, UINT32_MAX, &sig0);
		assert_int_equal(c.state, CHUNK_BACKOFF);
		assert_int_equal(c.attempts, i);
		assert_int_equal(c.last_err, EAGAIN);
		delay = c.next_usec - now;
		assert_int_equal(delay, eagain_backoff_usec(i, cfg.eagain_initial_usec,
							    cfg.eagain_max_usec, UINT32_MAX));
		assert_true(delay <= cfg.eagain_max_usec);
		assert_true(delay >= prev_delay);
		if (i <= 4)
			assert_int_equal(delay, (100 * MS) << (i - 1));
		else
			assert_int_equal(delay, cfg.eagain_max_usec);
		prev_delay = delay;

		/* Not due before next_usec, due exactly at it. */
		assert_false(retry_due(&c, now, &sig0));
		now += delay - 1;
		assert_false(retry_due(&c, now, &sig0));
		now += 1;
		assert_true(retry_due(&c, now, &sig0));
		assert_int_equal(c.state, CHUNK_BACKOFF);
	}

	/* The last allowed attempt parks the chunk, remembering the area. */
	retry_record(&c, COLLAPSE_RETRY, EAGAIN, now, &cfg, 0, &sig0);
	assert_int_equal(c.state, CHUNK_PARKED);
	assert_int_equal(c.attempts, cfg.eagain_attempts);
	assert_memory_equal(&c.sig, &sig0, sizeof(sig0));

	/* Unchanged area (or shrunk resident): stays parked forever. */
	now += 1000 * S;
	assert_false(retry_due(&c, now, &sig0));
	{
		struct area_sig shrunk = sig0;

		shrunk.resident -= 4096;
		assert_false(retry_due(&c, now, &shrunk));
	}
	assert_int_equal(c.state, CHUNK_PARKED);
	assert_false(retry_due(&c, now, NULL));

	/* Resident grows: unparked with attempts reset. */
	{
		struct area_sig grown = sig0;

		grown.resident += 4096;
		assert_true(retry_due(&c, now, &grown));
		assert_int_equal(c.state, CHUNK_CANDIDATE);
		assert_int_equal(c.attempts, 0);
	}

	/* Backoff starts over from the initial delay. */
	retry_record(&c, COLLAPSE_RETRY, EAGAIN, now, &cfg, 0, &sig0);
	assert_int_equal(c.state, CHUNK_BACKOFF);
	assert_int_equal(c.attempts, 1);
	assert_int_equal(c.next_usec, now + 50 * MS);
}

static void park(struct chunk_retry *c, uint64_t now)
{
	memset(c, 0, sizeof(*c));
	for (uint32_t i = 0; i < cfg.eagain_attempts; i++)
		retry_record(c, COLLAPSE_RETRY, EAGAIN, now, &cfg, 0, &sig0);
	assert_int_equal(c->state, CHUNK_PARKED);
}

static void test_unpark_on_bounds_and_flags(void **state)
{
	struct chunk_retry c;
	struct area_sig s;
	uint64_t now = 5 * S;
	(void)state;

	park(&c, now);
	s = sig0;
	s.start += 2ULL << 20;
	assert_true(retry_due(&c, now, &s));
	assert_int_equal(c.state, CHUNK_CANDIDATE);

	park(&c, now);
	s = sig0;
	s.end += 2ULL << 20;
	assert_true(retry_due(&c, now, &s));
	assert_int_equal(c.attempts, 0);

	park(&c, now);
	s = sig0;
	s.flags ^= 0x4;
	assert_true(retry_due(&c, now, &s));
}

static void test_park_after_one_attempt(void **state)
{
	struct retry_config one = cfg;
	struct chunk_retry c = {0};
	(void)state;

	one.eagain_attempts = 1;
	retry_record(&c, COLLAPSE_RETRY, EAGAIN, 0, &one, 0, &sig0);
	assert_int_equal(c.state, CHUNK_PARKED);
}

static void test_next_usec_saturates(void **state)
{
	struct chunk_retry c = {0};
	(void)state;

	retry_record(&c, COLLAPSE_RETRY, EAGAIN, UINT64_MAX - 10, &cfg, UINT32_MAX, &sig0);
	assert_int_equal(c.state, CHUNK_BACKOFF);
	assert_int_equal(c.next_usec, UINT64_MAX);
}

static void test_einval_quarantine(void **state)
{
	struct chunk_retry c = {0};
	struct area_sig s = sig0;
	(void)state;

	retry_record(&c, COLLAPSE_INELIGIBLE, EINVAL, 10 * S, &cfg, 0, &sig0);
	assert_int_equal(c.state, CHUNK_QUARANTINED);
	assert_int_equal(c.last_err, EINVAL);
	assert_memory_equal(&c.sig, &sig0, sizeof(sig0));
	assert_false(retry_due(&c, 20 * S, &sig0));
	assert_false(retry_due(&c, UINT64_MAX, &sig0));

	s.flags = 0;
	assert_true(retry_due(&c, 30 * S, &s));
	assert_int_equal(c.state, CHUNK_CANDIDATE);
	assert_int_equal(c.attempts, 0);

	/* Other errors are quarantined the same way. */
	retry_record(&c, COLLAPSE_OTHER, EFAULT, 40 * S, &cfg, 0, &s);
	assert_int_equal(c.state, CHUNK_QUARANTINED);
	assert_int_equal(c.last_err, EFAULT);
	assert_false(retry_due(&c, 50 * S, &s));
	s.resident += 2ULL << 20;
	assert_true(retry_due(&c, 50 * S, &s));
}

static void test_ok_huge(void **state)
{
	struct chunk_retry c = {0};
	(void)state;

	retry_record(&c, COLLAPSE_RETRY, EAGAIN, 0, &cfg, 0, &sig0);
	retry_record(&c, COLLAPSE_RETRY, EAGAIN, 0, &cfg, 0, &sig0);
	assert_int_equal(c.attempts, 2);
	retry_record(&c, COLLAPSE_OK, 0, 1 * S, &cfg, 0, &sig0);
	assert_int_equal(c.state, CHUNK_HUGE);
	assert_int_equal(c.attempts, 0);
	assert_int_equal(c.last_err, 0);
	/* HUGE chunks are not attempted, whatever the area does. */
	assert_false(retry_due(&c, 2 * S, &sig0));
	{
		struct area_sig s = sig0;

		s.resident += 4096;
		assert_false(retry_due(&c, 2 * S, &s));
	}
	assert_int_equal(c.state, CHUNK_HUGE);
}

static void test_unmapped_reset(void **state)
{
	struct chunk_retry c = {0};
	(void)state;

	retry_record(&c, COLLAPSE_RETRY, EAGAIN, 0, &cfg, 0, &sig0);
	retry_record(&c, COLLAPSE_RETRY, EAGAIN, 0, &cfg, 0, &sig0);
	retry_record(&c, COLLAPSE_UNMAPPED, ENOMEM, 1 * S, &cfg, 0, &sig0);
	assert_int_equal(c.state, CHUNK_CANDIDATE);
	assert_int_equal(c.attempts, 0);
	assert_int_equal(c.last_err, ENOMEM);
	assert_true(retry_due(&c, 1 * S, &sig0));
}

static void test_pausing_classes_keep_candidate(void **state)
{
	static const struct {
		enum collapse_class cls;
		int err;
	} cases[] = {
	    {COLLAPSE_NOMEM, ENOMEM}, {COLLAPSE_CGROUP_FULL, EBUSY}, {COLLAPSE_GONE, ESRCH},
	    {COLLAPSE_DENIED, EPERM}, {COLLAPSE_DENIED, EACCES},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct chunk_retry c = {0};

		retry_record(&c, COLLAPSE_RETRY, EAGAIN, 0, &cfg, 0, &sig0);
		assert_int_equal(c.state, CHUNK_BACKOFF);
		retry_record(&c, cases[i].cls, cases[i].err, 1 * S, &cfg, 0, &sig0);
		assert_int_equal(c.state, CHUNK_CANDIDATE);
		assert_int_equal(c.attempts, 1);
		assert_int_equal(c.last_err, cases[i].err);
		assert_true(retry_due(&c, 1 * S, &sig0));
	}
}

static void test_area_changed(void **state)
{
	struct area_sig s = sig0;
	(void)state;

	assert_false(area_changed(&sig0, &s));
	s.resident = 0;
	assert_false(area_changed(&sig0, &s));
	s = sig0;
	s.resident++;
	assert_true(area_changed(&sig0, &s));
	s = sig0;
	s.start--;
	assert_true(area_changed(&sig0, &s));
	s = sig0;
	s.end++;
	assert_true(area_changed(&sig0, &s));
	s = sig0;
	s.flags = 0;
	assert_true(area_changed(&sig0, &s));
}

static void test_pause(void **state)
{
	struct pause p = {0};
	(void)state;

	assert_false(pause_active(&p, 0));
	assert_false(pause_active(&p, 100 * S));

	pause_set(&p, 100 * S, 30 * S, ENOMEM);
	assert_int_equal(p.until_usec, 130 * S);
	assert_int_equal(p.err, ENOMEM);
	assert_true(pause_active(&p, 100 * S));
	assert_true(pause_active(&p, 130 * S - 1));
	assert_false(pause_active(&p, 130 * S));

	/* A shorter pause does not cut a longer one. */
	pause_set(&p, 110 * S, 5 * S, EBUSY);
	assert_int_equal(p.until_usec, 130 * S);
	assert_int_equal(p.err, EBUSY);

	/* A longer one extends it. */
	pause_set(&p, 120 * S, 60 * S, EBUSY);
	assert_int_equal(p.until_usec, 180 * S);

	/* After expiry a new pause starts from now. */
	pause_set(&p, 500 * S, 1 * S, ENOMEM);
	assert_int_equal(p.until_usec, 501 * S);
	assert_int_equal(p.err, ENOMEM);

	/* Saturates rather than wrapping. */
	pause_set(&p, UINT64_MAX - 5, 100, ENOMEM);
	assert_int_equal(p.until_usec, UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_classify),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_backoff_values),
	    cmocka_unit_test(test_backoff_bounds),
	    cmocka_unit_test(test_eagain_lifecycle),
	    cmocka_unit_test(test_unpark_on_bounds_and_flags),
	    cmocka_unit_test(test_park_after_one_attempt),
	    cmocka_unit_test(test_next_usec_saturates),
	    cmocka_unit_test(test_einval_quarantine),
	    cmocka_unit_test(test_ok_huge),
	    cmocka_unit_test(test_unmapped_reset),
	    cmocka_unit_test(test_pausing_classes_keep_candidate),
	    cmocka_unit_test(test_area_changed),
	    cmocka_unit_test(test_pause),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
