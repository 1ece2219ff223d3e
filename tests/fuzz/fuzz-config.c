/* SPDX-License-Identifier: MIT */
/*
 * config_parse on arbitrary bytes, then config_validate, as config_load does
 * for a main file followed by a drop-in: the input is parsed twice into the
 * same config, so the second parse replaces every policy in place (merge by
 * name). Everything is freed (leaks are findings).
 *
 * Contract checked (config.h): 0 means no diagnostic was added; every
 * diagnostic has a file and a message; a policy that made it into the config
 * has a valid name, a non-empty match and percentages of at most 100%.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "units.h"

/* Whole-config (validate) diagnostics have no file: config_load names it. */
static void check_diags(const struct config_diags *d, size_t from, int r, bool need_file)
{
	fuzz_check(r == 0 || r == -EINVAL || r == -ENOMEM);
	fuzz_check((r == 0) == (d->n == from));
	for (size_t i = from; i < d->n; i++)
		fuzz_check((d->v[i].file || !need_file) && d->v[i].msg && d->v[i].msg[0]);
}

static void check_policies(const struct thpd_config *cfg)
{
	for (size_t i = 0; i < cfg->n_policies; i++) {
		const struct policy *p = &cfg->policies[i];
		const struct policy_match *m = &p->match;

		fuzz_check(p->name && p->name[0] && p->file);
		fuzz_check(m->comm.n || m->exe.n || m->user.n || m->unit.n || m->cgroup.n ||
			   m->min_anon);
		fuzz_check(p->min_hot_bp <= BP_PER_100 && p->min_present_bp <= BP_PER_100);
		for (size_t j = 0; j < i; j++)
			fuzz_check(strcmp(cfg->policies[j].name, p->name) != 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct thpd_config cfg;
	struct config_diags diags = {0};
	size_t n0;
	int r;

	config_init(&cfg);
	r = config_parse("fuzz.yaml", (const char *)data, size, &cfg, &diags);
	check_diags(&diags, 0, r, true);
	if (r == 0) {
		size_t n_policies = cfg.n_policies;

		check_policies(&cfg);
		n0 = diags.n;
		r = config_parse("thpd.d/fuzz.yaml", (const char *)data, size, &cfg, &diags);
		check_diags(&diags, n0, r, true);
		/* Pure: the same input parses the same way; same names are
		 * replaced in place, never appended. */
		fuzz_check(r == 0 && cfg.n_policies == n_policies);
		check_policies(&cfg);
	}
	n0 = diags.n;
	r = config_validate(&cfg, &diags);
	check_diags(&diags, n0, r, false);
	config_free(&cfg);
	config_diags_free(&diags);
	return 0;
}
