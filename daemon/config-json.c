/* SPDX-License-Identifier: MIT */
#include "config-json.h"

static json_t *list_json(const struct match_list *l)
{
	json_t *a = json_array();

	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i].pattern));
	return a;
}

static double sec(uint64_t usec)
{
	return (double)usec / 1e6;
}

static json_t *policy_json(const struct policy *p)
{
	const struct policy_match *m = &p->match;

	return json_pack(
	    "{s:s, s:s?, s:i, s:{s:o, s:o, s:o, s:o, s:o, s:I}, s:b, s:s, s:f, s:I, s:f, s:I, "
	    "s:f, s:b}",
	    "name", p->name, "file", p->file, "line", (int)p->line, "match", "comm",
	    list_json(&m->comm), "exe", list_json(&m->exe), "user", list_json(&m->user), "unit",
	    list_json(&m->unit), "cgroup", list_json(&m->cgroup), "min_anon",
	    (json_int_t)m->min_anon, "ignore", p->ignore, "hotness",
	    hotness_source_name(p->hotness), "min_hot_percent", p->min_hot_bp / 100.0, "max_rate",
	    (json_int_t)p->max_rate, "max_stall_percent", p->max_stall_bp / 100.0, "max_huge",
	    (json_int_t)p->max_huge, "min_present_percent", p->min_present_bp / 100.0, "shmem",
	    p->shmem);
}

json_t *config_to_json(const struct thpd_config *cfg)
{
	json_t *policies = json_array();

	for (size_t i = 0; i < cfg->n_policies; i++)
		json_array_append_new(policies, policy_json(&cfg->policies[i]));
	return json_pack(
	    "{s:{s:f, s:I, s:s?, s:i, s:{s:f, s:f}, s:s, s:i, s:s?, s:f}, "
	    "s:{s:{s:f, s:f, s:i}, s:{s:f}, s:{s:f}}, s:o}",
	    "daemon", "scan_interval_sec", sec(cfg->daemon.scan_interval_usec), "max_collapse_rate",
	    (json_int_t)cfg->daemon.max_collapse_rate, "socket", cfg->daemon.socket_path,
	    "smaps_refresh", (int)cfg->daemon.smaps_refresh, "pressure", "some_percent",
	    cfg->daemon.pressure_some_bp / 100.0, "full_percent",
	    cfg->daemon.pressure_full_bp / 100.0, "collapse_scheduler",
	    worker_sched_name(cfg->daemon.collapse_sched), "collapse_nice",
	    (int)cfg->daemon.collapse_nice, "metrics_textfile", cfg->daemon.metrics_textfile,
	    "metrics_interval_sec", sec(cfg->daemon.metrics_interval_usec), "retry", "eagain",
	    "initial_sec", sec(cfg->retry.eagain_initial_usec), "max_sec",
	    sec(cfg->retry.eagain_max_usec), "attempts", (int)cfg->retry.eagain_attempts, "enomem",
	    "pause_sec", sec(cfg->retry.enomem_pause_usec), "ebusy", "pause_sec",
	    sec(cfg->retry.ebusy_pause_usec), "policies", policies);
}
