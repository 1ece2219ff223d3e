/* SPDX-License-Identifier: MIT */
#include "metrics-format.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define STRINGIFY(x) #x
#define TOP_TEXT_(x) STRINGIFY(x)
#define TOP_TEXT     TOP_TEXT_(METRICS_TOP_TARGETS)

struct label {
	const char *name, *value;
};

/* A metric family: its HELP and TYPE lines come before its first sample,
 * and a family without samples is not written at all. */
struct family {
	FILE *f;
	const char *name, *type, *help;
	bool started;
};

/* Known keys of the daemon's count maps: always written (0 if absent), in
 * this order, before any others a newer daemon has. */
static const char *const results[] = {"ok",	"eagain", "enomem", "unmapped", "ebusy",
				      "einval", "gone",	  "denied", "other",	NULL};
static const char *const chunk_states[] = {"candidate",	  "backoff", "parked",
					   "quarantined", "huge",    NULL};
static const char *const target_states[] = {"active", "paused", "denied", "thp-disabled", NULL};
static const char *const pause_reasons[] = {"operator", "enomem", "ebusy", "pressure", NULL};

/* HELP text escapes backslash and newline; label values also the double quote. */
static void put_escaped(FILE *f, const char *s, bool label)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (label && *s == '"')
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

/* The shortest text that reads back as v (the C locale's decimal point). */
static void fmt_double(double v, char *buf, size_t len)
{
	if (isnan(v)) {
		snprintf(buf, len, "NaN");
	} else if (isinf(v)) {
		snprintf(buf, len, "%s", v > 0 ? "+Inf" : "-Inf");
	} else {
		snprintf(buf, len, "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, len, "%.17g", v);
	}
}

/* A bucket bound as a plain decimal ("0.00001", "2.5", "10"): bounds are
 * whole microseconds. */
static void fmt_le(double sec, char *buf, size_t len)
{
	char *end;

	snprintf(buf, len, "%.6f", sec);
	end = buf + strlen(buf);
	while (end > buf && end[-1] == '0')
		*--end = '\0';
	if (end > buf && end[-1] == '.')
		end[-1] = '\0';
}

/* A sample value from JSON: integers as they are, reals shortest. False if
 * v is not a number (absent, null). */
static bool value_text(const json_t *v, char *buf, size_t len)
{
	if (json_is_integer(v)) {
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
		return true;
	}
	if (json_is_real(v)) {
		fmt_double(json_real_value(v), buf, len);
		return true;
	}
	return false;
}

static void sample(struct family *m, const char *suffix, const struct label *l, size_t n,
		   const char *value)
{
	if (!m->started) {
		fprintf(m->f, "# HELP %s ", m->name);
		put_escaped(m->f, m->help, false);
		fprintf(m->f, "\n# TYPE %s %s\n", m->name, m->type);
		m->started = true;
	}
	fprintf(m->f, "%s%s", m->name, suffix ? suffix : "");
	for (size_t i = 0; i < n; i++) {
		fprintf(m->f, "%s%s=\"", i ? "," : "{", l[i].name);
		put_escaped(m->f, l[i].value ? l[i].value : "", true);
		fputc('"', m->f);
	}
	fprintf(m->f, "%s %s\n", n ? "}" : "", value);
}

static void sample_json(struct family *m, const struct label *l, size_t n, const json_t *v)
{
	char buf[64];

	if (value_text(v, buf, sizeof(buf)))
		sample(m, NULL, l, n, buf);
}

static void sample_int(struct family *m, const struct label *l, size_t n, long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	sample(m, NULL, l, n, buf);
}

/* A family of one sample without labels. */
static void scalar(FILE *f, const char *name, const char *type, const char *help, const json_t *v)
{
	struct family m = {f, name, type, help, false};

	sample_json(&m, NULL, 0, v);
}

static json_int_t jint(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : 0;
}

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (streq(s, *list))
			return true;
	return false;
}

/* acc[key] += v */
static void add_count(json_t *acc, const char *key, json_int_t v)
{
	json_t *x = json_object_get(acc, key);

	if (x)
		json_integer_set(x, json_integer_value(x) + v);
	else
		json_object_set_new(acc, key, json_integer(v));
}

/* One sample per key of counts ({key: integer}) labelled label=key: the
 * known keys first (0 when absent), then the others. */
static void keyed_counts(struct family *m, const char *label, const json_t *counts,
			 const char *const *known)
{
	const char *key;
	json_t *v;

	for (const char *const *k = known; *k; k++)
		sample_int(m, &(struct label){label, *k}, 1, (long long)jint(counts, *k));
	json_object_foreach((json_t *)counts, key, v)
	{
		if (!in_list(key, known))
			sample_json(m, &(struct label){label, key}, 1, v);
	}
}

static void render_kernel(FILE *f, const json_t *st)
{
	struct family feat = {f, "thpd_kernel_feature_info", "gauge",
			      "A kernel feature as thpd found it at start (state: yes, no, denied, "
			      "unknown); always 1.",
			      false};
	struct family mode = {f, "thpd_thp_mode_info", "gauge",
			      "The THP sysfs enabled mode now, in a label; always 1.", false};
	const json_t *kf = json_object_get(st, "kernel_features"), *v;
	const char *key;

	json_object_foreach((json_t *)kf, key, v)
	{
		const char *state = json_string_value(json_object_get(v, "state"));

		if (state)
			sample(&feat, NULL,
			       (const struct label[]){{"feature", key}, {"state", state}}, 2, "1");
	}
	if (json_string_value(json_object_get(st, "thp_mode")))
		sample(&mode, NULL, &(struct label){"mode", jstr(st, "thp_mode")}, 1, "1");
}

/* Pauses in force by reason, and chunks waiting for a retry by state and errno. */
static void render_waits(FILE *f, const json_t *st)
{
	struct family pauses = {f, "thpd_pauses_active", "gauge",
				"Pauses in force by reason (ebusy: one per memory cgroup).", false};
	struct family waiting = {f, "thpd_chunks_waiting", "gauge",
				 "2 MiB chunks waiting to be tried again, by state (backoff, "
				 "parked, quarantined) and the errno of their last attempt.",
				 false};
	const json_t *p, *list = json_object_get(st, "pauses");
	json_t *acc = json_object();
	size_t i;

	if (json_is_array(list)) {
		json_array_foreach(list, i, p)
		{
			add_count(acc, jstr(p, "reason"), 1);
		}
		keyed_counts(&pauses, "reason", acc, pause_reasons);
	}
	json_decref(acc);
	list = json_object_get(st, "chunks_waiting");
	json_array_foreach(list, i, p)
	{
		sample_json(&waiting,
			    (const struct label[]){{"state", jstr(p, "state")},
						   {"errno", jstr(p, "errno")}},
			    2, json_object_get(p, "chunks"));
	}
}

static void render_status(FILE *f, const json_t *st)
{
	const json_t *budget = json_object_get(st, "budget");
	struct family build = {f, "thpd_build_info", "gauge",
			       "thpd's version, in a label; always 1.", false};

	if (json_string_value(json_object_get(st, "version")))
		sample(&build, NULL, &(struct label){"version", jstr(st, "version")}, 1, "1");
	scalar(f, "thpd_uptime_seconds", "gauge", "Seconds since thpd started.",
	       json_object_get(st, "uptime_sec"));
	scalar(f, "thpd_config_generation", "gauge",
	       "The policy's generation: 1 at start, one more per successful reload.",
	       json_object_get(st, "config_generation"));
	scalar(f, "thpd_policies", "gauge", "Policies in the configuration.",
	       json_object_get(st, "policies"));
	scalar(f, "thpd_targets", "gauge", "Processes thpd manages (that the caller may see).",
	       json_object_get(st, "targets"));
	scalar(f, "thpd_collapse_budget_rate_bytes_per_second", "gauge",
	       "daemon.max_collapse_rate: bytes per second all targets may collapse together "
	       "(0: unlimited).",
	       json_object_get(budget, "rate"));
	scalar(f, "thpd_collapse_budget_available_bytes", "gauge",
	       "Bytes the global collapse budget allows now.",
	       json_object_get(budget, "available"));
	render_waits(f, st);
	render_kernel(f, st);
}

static const struct {
	const char *key, *name, *help;
} counter_families[] = {
    {"collapse_sec", "thpd_collapse_seconds_total",
     "Seconds the collapse worker spent in collapse jobs."},
    {"scans", "thpd_scans_total", "Scans of a target's memory (maps, residency)."},
    {"full_scans", "thpd_full_scans_total", "Scans that read /proc/PID/smaps in full."},
    {"scan_sec", "thpd_scan_seconds_total", "Seconds spent scanning (the scan worker's time)."},
    {"scan_cpu_sec", "thpd_scan_cpu_seconds_total", "CPU seconds the scan worker used in scans."},
    {"discoveries", "thpd_discoveries_total", "Walks of /proc for processes to manage."},
    {"targets_added", "thpd_targets_added_total", "Processes that became targets."},
    {"targets_removed", "thpd_targets_removed_total",
     "Targets dropped (exited, no policy matches any more)."},
    {"splits", "thpd_splits_total", "Collapsed chunks found split into 4 KiB pages again."},
    {"reloads", "thpd_reloads_total", "Policy reloads that succeeded."},
    {"reload_failures", "thpd_reload_failures_total",
     "Policy reloads that failed (the old policy stayed)."},
};

static void histogram(FILE *f, const char *name, const char *help, const json_t *h)
{
	const json_t *buckets = json_object_get(h, "buckets"), *b;
	const json_t *count = json_object_get(h, "count"), *sum = json_object_get(h, "sum_sec");
	struct family m = {f, name, "histogram", help, false};
	char le[32], v[64], n[64];
	size_t i;

	if (!json_is_array(buckets) || !value_text(count, n, sizeof(n)) ||
	    !value_text(sum, v, sizeof(v)))
		return;
	json_array_foreach(buckets, i, b)
	{
		const json_t *bound = json_object_get(b, "le_sec");
		char c[64];

		if (!json_is_number(bound) ||
		    !value_text(json_object_get(b, "count"), c, sizeof(c)))
			continue;
		fmt_le(json_number_value(bound), le, sizeof(le));
		sample(&m, "_bucket", &(struct label){"le", le}, 1, c);
	}
	sample(&m, "_bucket", &(struct label){"le", "+Inf"}, 1, n);
	sample(&m, "_sum", NULL, 0, v);
	sample(&m, "_count", NULL, 0, n);
}

static void render_counters(FILE *f, const json_t *k)
{
	struct family by = {f, "thpd_collapses_total", "counter",
			    "Collapse attempts (one per 2 MiB chunk tried) by result: ok or the "
			    "errno class (unmapped: ENOMEM on memory unmapped meanwhile).",
			    false};
	struct family pauses = {f, "thpd_pauses_total", "counter",
				"Pauses the kernel's answers started: enomem (all collapsing), "
				"ebusy (one memory cgroup).",
				false};
	const json_t *by_result = json_object_get(k, "by_result");

	if (json_is_object(by_result))
		keyed_counts(&by, "result", by_result, results);
	for (size_t i = 0; i < ARRAY_SIZE(counter_families); i++)
		scalar(f, counter_families[i].name, "counter", counter_families[i].help,
		       json_object_get(k, counter_families[i].key));
	sample_json(&pauses, &(struct label){"reason", "enomem"}, 1,
		    json_object_get(k, "enomem_pauses"));
	sample_json(&pauses, &(struct label){"reason", "ebusy"}, 1,
		    json_object_get(k, "ebusy_pauses"));
	histogram(f, "thpd_collapse_duration_seconds",
		  "Time of each 2 MiB chunk's collapse (its process_madvise calls).",
		  json_object_get(k, "collapse_latency"));
	histogram(f, "thpd_scan_duration_seconds", "Time of each scan of a target.",
		  json_object_get(k, "scan_latency"));
}

/* Per-policy sums of the targets' figures. */
static const char *const policy_fields[] = {"anon_bytes", "resident_bytes", "huge_bytes",
					    "collapsed_bytes"};

static void render_policies(FILE *f, const json_t *acc)
{
	static const char *const help[] = {
	    "Anonymous resident memory of the policy's targets (RssAnon).",
	    "Resident memory in the candidate areas of the policy's targets.",
	    "Memory of the policy's targets in huge pages.",
	    "Bytes thpd collapsed in the policy's current targets.",
	};
	struct family targets = {f, "thpd_policy_targets", "gauge", "Targets of the policy.",
				 false};
	struct family cover = {f, "thpd_policy_coverage_ratio", "gauge",
			       "Huge pages over resident memory in candidate areas, of the "
			       "policy's targets (absent while they have none).",
			       false};
	const char *name;
	json_t *p;
	char buf[64];

	json_object_foreach((json_t *)acc, name, p)
	{
		sample_json(&targets, &(struct label){"policy", name}, 1,
			    json_object_get(p, "targets"));
	}
	for (size_t i = 0; i < ARRAY_SIZE(policy_fields); i++) {
		char fam_name[64];
		struct family m = {f, fam_name, "gauge", help[i], false};

		snprintf(fam_name, sizeof(fam_name), "thpd_policy_%s", policy_fields[i]);
		json_object_foreach((json_t *)acc, name, p)
		{
			sample_json(&m, &(struct label){"policy", name}, 1,
				    json_object_get(p, policy_fields[i]));
		}
	}
	json_object_foreach((json_t *)acc, name, p)
	{
		json_int_t res = jint(p, "resident_bytes"), huge = jint(p, "huge_bytes");

		if (res <= 0)
			continue;
		fmt_double(MIN(1.0, (double)huge / (double)res), buf, sizeof(buf));
		sample(&cover, NULL, &(struct label){"policy", name}, 1, buf);
	}
}

/* Policies in the configuration's order (all of them, from GetPolicy), then
 * any a target names that it does not (a reload in between). */
static json_t *policy_sums(const json_t *targets, const json_t *policy)
{
	json_t *acc = json_object(), *p, *t;
	size_t i;

	json_array_foreach(json_object_get(policy, "policies"), i, p)
	{
		if (json_string_value(json_object_get(p, "name")) &&
		    !json_object_get(acc, jstr(p, "name")))
			json_object_set_new(acc, jstr(p, "name"),
					    json_pack("{s:i, s:i, s:i, s:i, s:i}", "targets", 0,
						      "anon_bytes", 0, "resident_bytes", 0,
						      "huge_bytes", 0, "collapsed_bytes", 0));
	}
	json_array_foreach(targets, i, t)
	{
		const char *name = jstr(t, "policy");

		if (!json_object_get(acc, name))
			json_object_set_new(acc, name,
					    json_pack("{s:i, s:i, s:i, s:i, s:i}", "targets", 0,
						      "anon_bytes", 0, "resident_bytes", 0,
						      "huge_bytes", 0, "collapsed_bytes", 0));
		p = json_object_get(acc, name);
		add_count(p, "targets", 1);
		for (size_t k = 0; k < ARRAY_SIZE(policy_fields); k++)
			add_count(p, policy_fields[k], jint(t, policy_fields[k]));
	}
	return acc;
}

static int cmp_targets(const void *a, const void *b)
{
	const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
	json_int_t rx = jint(x, "resident_bytes"), ry = jint(y, "resident_bytes");
	json_int_t px = jint(x, "pid"), py = jint(y, "pid");

	if (rx != ry)
		return rx > ry ? -1 : 1;
	return px < py ? -1 : px > py;
}

static void render_top(FILE *f, const json_t *targets)
{
	static const char *const help[] = {
	    "Anonymous resident memory of the target (RssAnon).",
	    "Resident memory in the target's candidate areas.",
	    "Memory of the target in huge pages.",
	    "Bytes thpd collapsed in the target.",
	};
	struct family info = {f, "thpd_target_info", "gauge",
			      "A target with series of its own (the " TOP_TEXT " with the most "
			      "resident memory): its policy, state and hotness source; always 1.",
			      false};
	size_t n = json_array_size(targets), top = MIN(n, (size_t)METRICS_TOP_TARGETS);
	const json_t **v = calloc(n ? n : 1, sizeof(*v));
	char pid[24];

	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(targets, i);
	qsort(v, n, sizeof(*v), cmp_targets);
	for (size_t i = 0; i < top; i++) {
		snprintf(pid, sizeof(pid), "%lld", (long long)jint(v[i], "pid"));
		sample(&info, NULL,
		       (const struct label[]){{"pid", pid},
					      {"comm", jstr(v[i], "comm")},
					      {"policy", jstr(v[i], "policy")},
					      {"state", jstr(v[i], "state")},
					      {"hotness", jstr(v[i], "hotness")}},
		       5, "1");
	}
	for (size_t k = 0; k < ARRAY_SIZE(policy_fields); k++) {
		char fam_name[64];
		struct family m = {f, fam_name, "gauge", help[k], false};
		long long other = 0;

		snprintf(fam_name, sizeof(fam_name), "thpd_target_%s", policy_fields[k]);
		for (size_t i = 0; i < top; i++) {
			snprintf(pid, sizeof(pid), "%lld", (long long)jint(v[i], "pid"));
			sample_json(&m,
				    (const struct label[]){{"pid", pid},
							   {"comm", jstr(v[i], "comm")},
							   {"policy", jstr(v[i], "policy")}},
				    3, json_object_get(v[i], policy_fields[k]));
		}
		for (size_t i = top; i < n; i++)
			other += jint(v[i], policy_fields[k]);
		if (n > top)
			sample_int(&m, &(struct label){"pid", "other"}, 1, other);
	}
	free(v);
}

static void render_targets(FILE *f, const json_t *targets, const json_t *policy)
{
	struct family states = {f, "thpd_targets_in_state", "gauge",
				"Targets by state (active, paused, denied, thp-disabled).", false};
	struct family chunks = {f, "thpd_chunks", "gauge", "2 MiB chunks of all targets by state.",
				false};
	json_t *by_state = json_object(), *by_chunk = json_object(), *t, *v;
	const char *key;
	size_t i;

	json_array_foreach(targets, i, t)
	{
		add_count(by_state, jstr(t, "state"), 1);
		json_object_foreach(json_object_get(t, "chunks"), key, v)
		{
			add_count(by_chunk, key, json_is_integer(v) ? json_integer_value(v) : 0);
		}
	}
	keyed_counts(&states, "state", by_state, target_states);
	keyed_counts(&chunks, "state", by_chunk, chunk_states);
	json_decref(by_state);
	json_decref(by_chunk);
	json_t *sums = policy_sums(targets, policy);
	render_policies(f, sums);
	json_decref(sums);
	render_top(f, targets);
}

char *metrics_render(const struct metrics_sources *s, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	const json_t *collapsed = s->counters ? json_object_get(s->counters, "collapsed_bytes")
					      : json_object_get(s->status, "collapsed_bytes");

	if (!f)
		return NULL;
	scalar(f, "thpd_collapsed_bytes_total", "counter",
	       "Bytes that became huge pages by thpd's collapses.", collapsed);
	if (s->status)
		render_status(f, s->status);
	if (s->counters)
		render_counters(f, s->counters);
	if (json_is_array(s->targets))
		render_targets(f, s->targets, s->policy);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	if (len)
		*len = n;
	return buf;
}
