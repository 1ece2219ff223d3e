/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "policy.h"

#define MiB (1ULL << 20)

#define LIST(...)                                                                                  \
	((struct match_list){                                                                      \
	    .v = (struct match_item[]){__VA_ARGS__},                                               \
	    .n = sizeof((struct match_item[]){__VA_ARGS__}) / sizeof(struct match_item),           \
	})
#define ITEM(p)                                                                                    \
	{                                                                                          \
		.pattern = (char *)(p), .line = 1, .col = 1                                        \
	}

static struct proc_identity ident(void)
{
	return (struct proc_identity){
	    .pid = 4242,
	    .uid = 1000,
	    .comm = "postgres",
	    .exe = "/usr/lib/postgresql/16/bin/postgres",
	    .unit = "postgresql@16-main.service",
	    .cgroup = "/system.slice/system-postgresql.slice/postgresql@16-main.service",
	    .anon_bytes = 512 * MiB,
	};
}

static void test_empty_policy_matches_all(void **state)
{
	struct policy p = {.name = (char *)"all"};
	struct proc_identity id = ident();
	struct proc_identity unknown = {.pid = 1};
	(void)state;

	assert_true(policy_matches(&p, &id));
	assert_true(policy_matches(&p, &unknown));
}

static void test_globs(void **state)
{
	struct policy p = {0};
	struct proc_identity id = ident();
	(void)state;

	p.match.comm = LIST(ITEM("postgres"));
	assert_true(policy_matches(&p, &id));
	p.match.comm = LIST(ITEM("post*"));
	assert_true(policy_matches(&p, &id));
	p.match.comm = LIST(ITEM("p?stgre[rs]"));
	assert_true(policy_matches(&p, &id));
	p.match.comm = LIST(ITEM("postgre"));
	assert_false(policy_matches(&p, &id));
	p.match.comm = LIST(ITEM("Postgres"));
	assert_false(policy_matches(&p, &id));
	p.match.comm = LIST(ITEM("postgres*x"));
	assert_false(policy_matches(&p, &id));
	p.match.comm = (struct match_list){0};

	/* '*' crosses '/' (no FNM_PATHNAME). */
	p.match.exe = LIST(ITEM("/usr/lib/postgresql/*"));
	assert_true(policy_matches(&p, &id));
	p.match.exe = LIST(ITEM("*/bin/postgres"));
	assert_true(policy_matches(&p, &id));
	p.match.exe = LIST(ITEM("/usr/bin/*"));
	assert_false(policy_matches(&p, &id));
	p.match.exe = (struct match_list){0};

	p.match.unit = LIST(ITEM("postgresql@*.service"));
	assert_true(policy_matches(&p, &id));
	p.match.unit = LIST(ITEM("postgresql.service"));
	assert_false(policy_matches(&p, &id));
	p.match.unit = (struct match_list){0};

	p.match.cgroup = LIST(ITEM("/system.slice/*"));
	assert_true(policy_matches(&p, &id));
	p.match.cgroup = LIST(ITEM("/user.slice/*"));
	assert_false(policy_matches(&p, &id));
}

static void test_any_of(void **state)
{
	struct policy p = {0};
	struct proc_identity id = ident();
	(void)state;

	p.match.comm = LIST(ITEM("mysqld"), ITEM("redis-server"), ITEM("postgres"));
	assert_true(policy_matches(&p, &id));
	p.match.comm = LIST(ITEM("postgres"), ITEM("mysqld"));
	assert_true(policy_matches(&p, &id));
	p.match.comm = LIST(ITEM("mysqld"), ITEM("redis-server"));
	assert_false(policy_matches(&p, &id));
	/* A NULL pattern (never produced by the parser) is skipped. */
	p.match.comm = LIST(ITEM(NULL), ITEM("post*"));
	assert_true(policy_matches(&p, &id));
}

static void test_all_of(void **state)
{
	struct policy p = {0};
	struct proc_identity id = ident();
	uid_t uids[] = {1000};
	(void)state;

	p.match.comm = LIST(ITEM("postgres"));
	p.match.exe = LIST(ITEM("*/postgres"));
	p.match.unit = LIST(ITEM("postgresql@*"));
	p.match.cgroup = LIST(ITEM("/system.slice/*"));
	p.match.user = LIST(ITEM("postgres"));
	p.match.uids = uids;
	p.match.n_uids = 1;
	p.match.min_anon = 256 * MiB;
	assert_true(policy_matches(&p, &id));

	/* Breaking any one condition breaks the match. */
	id.comm = "psql";
	assert_false(policy_matches(&p, &id));
	id = ident();
	id.exe = "/usr/bin/psql";
	assert_false(policy_matches(&p, &id));
	id = ident();
	id.unit = "ssh.service";
	assert_false(policy_matches(&p, &id));
	id = ident();
	id.cgroup = "/user.slice/user-1000.slice";
	assert_false(policy_matches(&p, &id));
	id = ident();
	id.uid = 0;
	assert_false(policy_matches(&p, &id));
	id = ident();
	id.anon_bytes = 256 * MiB - 1;
	assert_false(policy_matches(&p, &id));
	id.anon_bytes = 256 * MiB;
	assert_true(policy_matches(&p, &id));
}

static void test_null_fields(void **state)
{
	struct policy p = {0};
	struct proc_identity id = ident();
	(void)state;

	/* Unknown fields never match a non-empty list, even "*". */
	p.match.comm = LIST(ITEM("*"));
	id.comm = NULL;
	assert_false(policy_matches(&p, &id));
	id = ident();
	assert_true(policy_matches(&p, &id));
	p.match.comm = (struct match_list){0};

	p.match.exe = LIST(ITEM("*"));
	id.exe = NULL;
	assert_false(policy_matches(&p, &id));
	p.match.exe = (struct match_list){0};
	id = ident();

	p.match.unit = LIST(ITEM("*"));
	id.unit = NULL;
	assert_false(policy_matches(&p, &id));
	p.match.unit = (struct match_list){0};
	id = ident();

	p.match.cgroup = LIST(ITEM("*"));
	id.cgroup = NULL;
	assert_false(policy_matches(&p, &id));
	p.match.cgroup = (struct match_list){0};

	/* ...but with no list for them, unknown fields are fine. */
	id = (struct proc_identity){.pid = 7, .uid = 1000};
	assert_true(policy_matches(&p, &id));
}

static void test_uids(void **state)
{
	struct policy p = {0};
	struct proc_identity id = ident();
	uid_t uids[] = {0, 33, 1000};
	(void)state;

	p.match.user = LIST(ITEM("root"), ITEM("www-data"), ITEM("1000"));
	p.match.uids = uids;
	p.match.n_uids = 3;
	assert_true(policy_matches(&p, &id));
	id.uid = 33;
	assert_true(policy_matches(&p, &id));
	id.uid = 0;
	assert_true(policy_matches(&p, &id));
	id.uid = 1001;
	assert_false(policy_matches(&p, &id));

	/* A user list that resolved to nothing matches nothing. */
	p.match.uids = NULL;
	p.match.n_uids = 0;
	id.uid = 0;
	assert_false(policy_matches(&p, &id));
	id.uid = 1000;
	assert_false(policy_matches(&p, &id));
}

static void test_min_anon(void **state)
{
	struct policy p = {0};
	struct proc_identity id = ident();
	(void)state;

	p.match.min_anon = 0;
	id.anon_bytes = 0;
	assert_true(policy_matches(&p, &id));
	p.match.min_anon = 1 * MiB;
	assert_false(policy_matches(&p, &id));
	id.anon_bytes = 1 * MiB - 1;
	assert_false(policy_matches(&p, &id));
	id.anon_bytes = 1 * MiB;
	assert_true(policy_matches(&p, &id));
	id.anon_bytes = UINT64_MAX;
	assert_true(policy_matches(&p, &id));
}

static void test_find_first_match_wins(void **state)
{
	struct policy pols[4] = {0};
	struct thpd_config cfg = {0};
	struct proc_identity id = ident();
	(void)state;

	pols[0].name = (char *)"redis";
	pols[0].match.comm = LIST(ITEM("redis-server"));
	pols[1].name = (char *)"big-postgres";
	pols[1].match.comm = LIST(ITEM("postgres"));
	pols[1].match.min_anon = 1024 * MiB;
	pols[2].name = (char *)"system";
	pols[2].match.cgroup = LIST(ITEM("/system.slice/*"));
	pols[3].name = (char *)"default";
	cfg.policies = pols;
	cfg.n_policies = 4;

	assert_ptr_equal(policy_find(&cfg, &id), &pols[2]);
	id.anon_bytes = 2048 * MiB;
	assert_ptr_equal(policy_find(&cfg, &id), &pols[1]);
	id.comm = "redis-server";
	assert_ptr_equal(policy_find(&cfg, &id), &pols[0]);
	id = (struct proc_identity){.pid = 9, .uid = 1000, .comm = "bash"};
	assert_ptr_equal(policy_find(&cfg, &id), &pols[3]);

	/* Without the catch-all: no match. */
	cfg.n_policies = 3;
	assert_null(policy_find(&cfg, &id));

	/* No policies. */
	cfg.n_policies = 0;
	assert_null(policy_find(&cfg, &id));
	cfg.policies = NULL;
	assert_null(policy_find(&cfg, &id));
}

static void test_find_returns_ignore(void **state)
{
	struct policy pols[2] = {0};
	struct thpd_config cfg = {.policies = pols, .n_policies = 2};
	struct proc_identity id = ident();
	const struct policy *p;
	(void)state;

	pols[0].name = (char *)"no-postgres";
	pols[0].match.comm = LIST(ITEM("postgres"));
	pols[0].ignore = true;
	pols[1].name = (char *)"default";

	p = policy_find(&cfg, &id);
	assert_ptr_equal(p, &pols[0]);
	assert_true(p->ignore);

	id.comm = "java";
	p = policy_find(&cfg, &id);
	assert_ptr_equal(p, &pols[1]);
	assert_false(p->ignore);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_policy_matches_all),
	    cmocka_unit_test(test_globs),
	    cmocka_unit_test(test_any_of),
	    cmocka_unit_test(test_all_of),
	    cmocka_unit_test(test_null_fields),
	    cmocka_unit_test(test_uids),
	    cmocka_unit_test(test_min_anon),
	    cmocka_unit_test(test_find_first_match_wins),
	    cmocka_unit_test(test_find_returns_ignore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
