/* SPDX-License-Identifier: MIT */
#include "methods.h"
#include "methods-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "build-config.h"
#include "config-json.h"
#include "counters.h"
#include "kfeatures.h"
#include "discover.h"
#include "manager.h"
#include "protocol.h"
#include "thpmode.h"
#include "units.h"
#include "util.h"

extern const char thpd_varlink_idl[];

/* The standard interface every Varlink service implements. */
static const char varlink_service_idl[] =
    "# The Varlink Service Interface is provided by every varlink service. It\n"
    "# describes the service and the interfaces it implements.\n"
    "interface org.varlink.service\n"
    "\n"
    "method GetInfo() -> (\n"
    "  vendor: string,\n"
    "  product: string,\n"
    "  version: string,\n"
    "  url: string,\n"
    "  interfaces: []string\n"
    ")\n"
    "\n"
    "method GetInterfaceDescription(interface: string) -> (description: string)\n"
    "\n"
    "error InterfaceNotFound (interface: string)\n"
    "error MethodNotFound (method: string)\n"
    "error MethodNotImplemented (method: string)\n"
    "error InvalidParameter (parameter: string)\n"
    "error PermissionDenied ()\n"
    "error ExpectedMore ()\n";

struct method {
	const char *name;
	void (*fn)(struct call *c);
	bool privileged;
};

void methods_reply_error(struct call *c, const char *error, json_t *params)
{
	c->reply->error = error;
	c->reply->parameters = params;
}

void methods_reply_invalid(struct call *c, const char *what)
{
	methods_reply_error(c, VARLINK_ERR_INVALID_PARAM, json_pack("{s:s}", "parameter", what));
}

/*
 * Strict parameters failed to unpack: name the first field that is not one
 * of the known ones (NULL-terminated), else the first known one of the wrong
 * type (types: one per known field; JSON_TRUE for a boolean), else the first
 * known one (required and missing).
 */
void methods_reply_bad_params(struct call *c, const char *const *known, const json_type *types)
{
	const char *key;
	json_t *v;

	json_object_foreach(c->params, key, v)
	{
		bool ok = false;
		for (const char *const *k = known; *k; k++)
			ok = ok || streq(*k, key);
		if (!ok)
			return methods_reply_invalid(c, key);
	}
	for (size_t i = 0; known[i]; i++) {
		v = json_object_get(c->params, known[i]);
		bool is_bool = types[i] == JSON_TRUE || types[i] == JSON_FALSE;
		if (v && (is_bool ? !json_is_boolean(v) : json_typeof(v) != types[i]))
			return methods_reply_invalid(c, known[i]);
	}
	methods_reply_invalid(c, known[0]);
}

/* Strict: unknown fields are errors. Returns false after replying. */
static bool no_params(struct call *c)
{
	if (json_object_size(c->params) == 0)
		return true;
	methods_reply_invalid(c, json_object_iter_key(json_object_iter(c->params)));
	return false;
}

/* Root and group thpd see every target; a user those it owns: its uid, not
 * set-uid/set-gid, dumpable, as ptrace(2) would ask. The discovery's answer
 * (has_owner) is checked again now: a process may have made itself
 * non-dumpable since. */
bool methods_can_see(const struct peer *p, const struct target *t)
{
	return p->privileged || (t->has_owner && p->uid == t->uid && proc_owned_by(t->pid, p->uid));
}

/* Length of the valid UTF-8 sequence at s (1 to 4), 0 if there is none. */
static size_t utf8_len(const unsigned char *s)
{
	uint32_t cp, min;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	cp = s[0] & (0x7fu >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * A JSON string of text from a process (comm, paths): any bytes, but JSON
 * strings are UTF-8 (json_string() refuses the rest), so bytes that are not
 * become U+FFFD. NULL only when out of memory.
 */
json_t *methods_text_json(const char *s)
{
	json_t *j = json_string(s);
	char *buf, *o;

	if (j || !s)
		return j;
	buf = o = malloc(strlen(s) * 3 + 1);
	if (!buf)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = utf8_len(p);
		if (n) {
			memcpy(o, p, n);
			o += n;
			p += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3); /* U+FFFD */
			o += 3;
			p++;
		}
	}
	*o = '\0';
	j = json_string(buf);
	free(buf);
	return j;
}

static json_t *nullable_string(const char *s)
{
	return s ? methods_text_json(s) : json_null();
}

json_t *methods_errno_name(int err)
{
	const char *n = err ? strerrorname_np(err) : NULL;
	return n ? json_string(n) : json_null();
}

static json_t *by_result_json(const uint64_t *by_class)
{
	json_t *o = json_object();

	for (int i = 0; i < COLLAPSE_CLASS_MAX; i++)
		json_object_set_new(o, collapse_class_name((enum collapse_class)i),
				    json_integer((json_int_t)by_class[i]));
	return o;
}

static json_t *target_summary_json(const struct target *t)
{
	size_t by_state[CHUNK_STATE_MAX] = {0};
	json_t *chunks = json_object();

	for (size_t i = 0; i < t->table.n_chunks; i++)
		by_state[t->table.chunks[i].retry.state]++;
	for (int s = 0; s < CHUNK_STATE_MAX; s++)
		json_object_set_new(chunks, chunk_state_name((enum chunk_state)s),
				    json_integer((json_int_t)by_state[s]));
	return json_pack(
	    "{s:i, s:o, s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:s}", "pid", (int)t->pid,
	    "comm", methods_text_json(t->comm ? t->comm : ""), "uid", (json_int_t)t->uid, "policy",
	    t->policy ? t->policy->name : "", "state", target_state_name(t->state), "anon_bytes",
	    (json_int_t)t->anon_bytes, "huge_bytes", (json_int_t)t->huge_bytes, "resident_bytes",
	    (json_int_t)t->resident_bytes, "collapsed_bytes", (json_int_t)t->collapsed_bytes,
	    "chunks", chunks, "last_errno", methods_errno_name(t->last_err), "hotness",
	    hotness_source_name(t->hot_source));
}

static json_t *chunk_json(const struct chunk *ch, uint64_t now)
{
	const struct chunk_retry *r = &ch->retry;
	json_t *retry_in = json_null();

	if (r->state == CHUNK_BACKOFF)
		retry_in = json_real(r->next_usec > now ? (double)(r->next_usec - now) / 1e6 : 0);
	return json_pack("{s:I, s:i, s:s, s:i, s:o, s:o, s:i, s:f}", "addr", (json_int_t)ch->addr,
			 "present", (int)ch->present, "state", chunk_state_name(r->state),
			 "attempts", (int)r->attempts, "last_errno",
			 methods_errno_name(r->last_err), "retry_in_sec", retry_in, "splits",
			 (int)ch->splits, "hot_percent", ch->hot_bp / 100.0);
}

/* GetTarget's chunk pages: chunk_limit by default and at most. */
#define CHUNK_PAGE_MAX 4096

static json_t *area_json(const struct scan_area *a)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:f}", "start", (json_int_t)a->start, "end",
			 (json_int_t)a->end, "resident_bytes", (json_int_t)a->resident,
			 "huge_bytes", (json_int_t)a->huge, "hot_percent", a->hot_bp / 100.0);
}

/*
 * Chunks [off, off + limit) of t and the areas that start in the addresses
 * that page covers (from its first chunk, or 0 on the first page, to the
 * next page's first chunk, or the end on the last page), so that the pages
 * together list every area once; at most limit of them.
 */
static void chunk_page_json(const struct target *t, size_t off, size_t limit, json_t *o)
{
	const struct chunk_table *tb = &t->table;
	size_t end = off < tb->n_chunks ? off + MIN(limit, tb->n_chunks - off) : off;
	uint64_t lo = off == 0 ? 0 : off < tb->n_chunks ? tb->chunks[off].addr : UINT64_MAX;
	uint64_t hi = end < tb->n_chunks ? tb->chunks[end].addr : UINT64_MAX;
	json_t *areas = json_array(), *chunks = json_array();
	uint64_t now = now_usec();

	for (size_t i = 0; i < tb->n_areas && json_array_size(areas) < limit; i++)
		if (tb->areas[i].start >= lo && (tb->areas[i].start < hi || hi == UINT64_MAX))
			json_array_append_new(areas, area_json(&tb->areas[i]));
	for (size_t i = off; i < end; i++)
		json_array_append_new(chunks, chunk_json(&tb->chunks[i], now));
	json_object_set_new(o, "areas", areas);
	json_object_set_new(o, "chunks", chunks);
}

static json_t *target_json(const struct target *t)
{
	uint64_t now = now_usec();

	return json_pack(
	    "{s:o, s:o, s:o, s:o, s:o, s:i, s:i, s:I, s:o, s:f, s:f, s:I, s:I, s:I}", "summary",
	    target_summary_json(t), "exe", nullable_string(t->exe), "unit",
	    nullable_string(t->unit), "cgroup", nullable_string(t->cgroup), "memory_cgroup",
	    nullable_string(t->memcg), "scans", (int)t->scans, "full_scans", (int)t->full_scans,
	    "attempts", (json_int_t)t->attempts, "by_result", by_result_json(t->by_class),
	    "collapse_sec", (double)t->collapse_usec / 1e6, "target_sec",
	    now > t->added_usec ? (double)(now - t->added_usec) / 1e6 : 0.0, "areas_total",
	    (json_int_t)t->table.n_areas, "chunks_total", (json_int_t)t->table.n_chunks,
	    "sparse_chunks", (json_int_t)t->table.n_sparse);
}

/* Does the peer see a target in this memory cgroup? (An EBUSY pause names
 * the cgroup: a user sees the pauses of cgroups their own targets are in.) */
static bool can_see_memcg(const struct manager *m, const struct peer *peer, const char *memcg)
{
	if (peer->privileged)
		return true;
	for (const struct target *t = manager_targets(m); t; t = t->hh.next)
		if (methods_can_see(peer, t) && t->memcg && streq(t->memcg, memcg))
			return true;
	return false;
}

static json_t *pauses_json(const struct manager *m, const struct peer *peer, uint64_t now)
{
	json_t *a = json_array();
	uint64_t until;
	const char *why = manager_pause_reason(m, now, &until);

	if (why) {
		const char *detail = streq(why, "pressure") ? manager_pressure_detail(m) : NULL;

		json_array_append_new(
		    a, json_pack("{s:s, s:n, s:o, s:s?}", "reason", why, "cgroup", "remaining_sec",
				 until ? json_real((double)(until - now) / 1e6) : json_null(),
				 "detail", detail));
	}
	for (const struct memcg_pause *p = manager_memcg_pauses(m); p; p = p->hh.next)
		if (pause_active(&p->pause, now) && can_see_memcg(m, peer, p->path))
			json_array_append_new(
			    a, json_pack("{s:s, s:o, s:f}", "reason", "ebusy", "cgroup",
					 methods_text_json(p->path), "remaining_sec",
					 (double)(p->pause.until_usec - now) / 1e6));
	return a;
}

static json_t *feature_json(const struct feature *x)
{
	const char *err = x->err ? strerrorname_np(x->err) : NULL;

	return json_pack("{s:s, s:o, s:o}", "state", feature_state_name(x->state), "errno",
			 err ? json_string(err) : json_null(), "source",
			 x->source ? json_string(x->source) : json_null());
}

static json_t *kernel_features_json(const struct kernel_features *f)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:s}", "madv_collapse",
			 feature_json(&f->madv_collapse), "pagemap_scan",
			 feature_json(&f->pagemap_scan), "proc_connector",
			 feature_json(&f->proc_connector), "psi", feature_json(&f->psi),
			 "damon_sysfs", feature_json(&f->damon_sysfs), "damon_vaddr",
			 feature_json(&f->damon_vaddr), "thp_enabled",
			 *f->thp_enabled ? f->thp_enabled : "unknown", "thp_defrag",
			 *f->thp_defrag ? f->thp_defrag : "unknown");
}

/* GetStatus's chunks_waiting: the chunks of the targets the peer may see
 * that wait to be tried again, by state and the errno of their last try. */
static json_t *waiting_json(const struct manager *m, const struct peer *peer)
{
	static const enum chunk_state states[] = {CHUNK_BACKOFF, CHUNK_PARKED, CHUNK_QUARANTINED};
	uint64_t n[ARRAY_SIZE(states)][256] = {{0}}; /* [state][errno], 0: none or unknown */
	json_t *a = json_array();

	for (const struct target *t = manager_targets(m); t; t = t->hh.next) {
		if (!methods_can_see(peer, t))
			continue;
		for (size_t i = 0; i < t->table.n_chunks; i++) {
			const struct chunk_retry *r = &t->table.chunks[i].retry;
			int e = r->last_err > 0 && r->last_err < 256 ? r->last_err : 0;

			for (size_t k = 0; k < ARRAY_SIZE(states); k++)
				n[k][e] += r->state == states[k];
		}
	}
	for (size_t k = 0; k < ARRAY_SIZE(states); k++)
		for (int e = 0; e < 256; e++)
			if (n[k][e])
				json_array_append_new(a, json_pack("{s:s, s:o, s:I}", "state",
								   chunk_state_name(states[k]),
								   "errno", methods_errno_name(e),
								   "chunks", (json_int_t)n[k][e]));
	return a;
}

static void m_get_status(struct call *c)
{
	struct utsname u;
	char mode[32];
	uint64_t now = now_usec();
	const struct thpd_config *cfg = manager_config(c->m);

	if (!no_params(c))
		return;
	/* A user without privilege counts only the targets they may see. */
	size_t n_targets = 0;
	for (const struct target *t = manager_targets(c->m); t; t = t->hh.next)
		n_targets += methods_can_see(c->peer, t);
	uname(&u);
	c->reply->parameters = json_pack(
	    "{s:s, s:f, s:s, s:s, s:i, s:i, s:i, s:I, s:{s:I, s:I}, s:o, s:o, s:{s:s, s:s}}",
	    "version", THPD_VERSION, "uptime_sec", (double)(now - manager_started_usec(c->m)) / 1e6,
	    "kernel", u.release, "thp_mode", thp_mode_read(mode, sizeof(mode)), "config_generation",
	    (int)manager_config_generation(c->m), "policies", (int)cfg->n_policies, "targets",
	    (int)n_targets, "collapsed_bytes", (json_int_t)manager_counters(c->m)->collapsed_bytes,
	    "budget", "rate", (json_int_t)cfg->daemon.max_collapse_rate, "available",
	    (json_int_t)MIN(manager_budget_available(c->m), (uint64_t)INT64_MAX), "pauses",
	    pauses_json(c->m, c->peer, now), "kernel_features", kernel_features_json(c->features),
	    "hotness", "damon", manager_damon_status(c->m), "refs", manager_refs_status(c->m));
	json_object_set_new(c->reply->parameters, "chunks_waiting", waiting_json(c->m, c->peer));
}

static void m_list_targets(struct call *c)
{
	json_t *a = json_array();

	if (!no_params(c)) {
		json_decref(a);
		return;
	}
	for (const struct target *t = manager_targets(c->m); t; t = t->hh.next)
		if (methods_can_see(c->peer, t))
			json_array_append_new(a, target_summary_json(t));
	c->reply->parameters = json_pack("{s:o}", "targets", a);
}

static void m_get_target(struct call *c)
{
	json_error_t err;
	json_int_t pid, off = 0, limit = CHUNK_PAGE_MAX;
	int want_chunks = 0, want_areas = 0;

	if (json_unpack_ex(c->params, &err, JSON_STRICT, "{s:I, s?b, s?I, s?I, s?b}", "pid", &pid,
			   "chunks", &want_chunks, "chunk_offset", &off, "chunk_limit", &limit,
			   "areas", &want_areas) < 0)
		return methods_reply_bad_params(
		    c,
		    (const char *const[]){"pid", "chunks", "chunk_offset", "chunk_limit", "areas",
					  NULL},
		    (const json_type[]){JSON_INTEGER, JSON_TRUE, JSON_INTEGER, JSON_INTEGER,
					JSON_TRUE});
	if (off < 0)
		return methods_reply_invalid(c, "chunk_offset");
	if (limit < 1 || limit > CHUNK_PAGE_MAX)
		return methods_reply_invalid(c, "chunk_limit");
	const struct target *t =
	    pid > 0 && pid <= INT32_MAX ? manager_find_target(c->m, (pid_t)pid) : NULL;
	/* Another user's target is reported as absent: no probing. */
	if (!t || !methods_can_see(c->peer, t))
		return methods_reply_error(c, THPD_ERR_NO_SUCH_TARGET,
					   json_pack("{s:I}", "pid", pid));
	json_t *o = target_json(t);
	json_t *params =
	    json_pack("{s:o, s:I}", "target", o, "chunks_total", (json_int_t)t->table.n_chunks);
	if (want_areas && !want_chunks && o) {
		json_t *areas = json_array();
		for (size_t i = 0; i < t->table.n_areas && i < CHUNK_PAGE_MAX; i++)
			json_array_append_new(areas, area_json(&t->table.areas[i]));
		json_object_set_new(o, "areas", areas);
	}
	if (want_chunks && o && params) {
		size_t n = t->table.n_chunks, next = (size_t)off + (size_t)limit;
		chunk_page_json(t, (size_t)off, (size_t)limit, o);
		json_object_set_new(params, "next_chunk_offset",
				    (size_t)off < n && next < n ? json_integer((json_int_t)next)
								: json_null());
	}
	c->reply->parameters = params;
}

static json_t *counters_json(const struct counters *k)
{
	json_t *o = json_object();

	for (size_t i = 0; i < counters_table_len; i++) {
		const struct counter_desc *d = &counters_table[i];
		const uint64_t *v = counters_value(k, d);
		json_t *j = NULL;

		switch (d->kind) {
		case COUNTER_BY_CLASS:
			j = by_result_json(v);
			break;
		case COUNTER_USEC:
			j = json_real((double)*v / 1e6);
			break;
		case COUNTER_NUMBER:
			j = json_integer((json_int_t)*v);
			break;
		case COUNTER_HISTOGRAM:
			j = histogram_json((const struct histogram *)v);
			break;
		}
		json_object_set_new(o, d->api_name, j);
	}
	return o;
}

static void m_get_counters(struct call *c)
{
	if (!no_params(c))
		return;
	c->reply->parameters =
	    json_pack("{s:o}", "counters", counters_json(manager_counters(c->m)));
}

void methods_reload_reply(struct manager *m, int r, const struct config_diags *diags,
			  struct method_reply *reply)
{
	size_t n = diags ? diags->n : 0;

	if (r < 0) {
		json_t *problems = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(
			    problems, json_pack("{s:s, s:i, s:i, s:s}", "file", diags->v[i].file,
						"line", (int)diags->v[i].line, "column",
						(int)diags->v[i].col, "message", diags->v[i].msg));
		if (n == 0)
			json_array_append_new(problems,
					      json_pack("{s:s, s:i, s:i, s:s}", "file", "", "line",
							0, "column", 0, "message", strerror(-r)));
		reply->error = THPD_ERR_RELOAD_FAILED;
		reply->parameters = json_pack("{s:o}", "problems", problems);
	} else {
		reply->parameters =
		    json_pack("{s:i, s:i}", "policies", (int)manager_config(m)->n_policies,
			      "config_generation", (int)manager_config_generation(m));
	}
}

static void m_reload(struct call *c)
{
	struct config_diags diags = {0};

	if (!no_params(c))
		return;
	if (c->flags->reload_done) {
		int r =
		    manager_reload_async(c->m, c->flags->reload_done, c->flags->reload_userdata);
		if (r == 0)
			c->reply->pending = true;
		else
			methods_reload_reply(c->m, r, NULL, c->reply);
		return;
	}
	int r = manager_reload(c->m, &diags);
	methods_reload_reply(c->m, r, &diags, c->reply);
	config_diags_free(&diags);
}

static void m_get_info(struct call *c)
{
	if (!no_params(c))
		return;
	c->reply->parameters =
	    json_pack("{s:s, s:s, s:s, s:s, s:[s, s]}", "vendor", "thpd", "product", "thpd",
		      "version", THPD_VERSION, "url", "https://github.com/thpd/thpd", "interfaces",
		      VARLINK_SERVICE_INTERFACE, THPD_INTERFACE);
}

static void m_get_interface_description(struct call *c)
{
	json_error_t err;
	const char *iface;

	if (json_unpack_ex(c->params, &err, JSON_STRICT, "{s:s}", "interface", &iface) < 0)
		return methods_reply_bad_params(c, (const char *const[]){"interface", NULL},
						(const json_type[]){JSON_STRING});
	if (streq(iface, THPD_INTERFACE))
		c->reply->parameters = json_pack("{s:s}", "description", thpd_varlink_idl);
	else if (streq(iface, VARLINK_SERVICE_INTERFACE))
		c->reply->parameters = json_pack("{s:s}", "description", varlink_service_idl);
	else
		methods_reply_error(c, VARLINK_ERR_INTERFACE_NOT_FOUND,
				    json_pack("{s:s}", "interface", iface));
}

/* A target the peer may see and steer, or an error reply (NULL). */
static struct target *steerable_target(struct call *c, json_int_t pid)
{
	struct target *t =
	    pid > 0 && pid <= INT32_MAX ? manager_find_target(c->m, (pid_t)pid) : NULL;

	/* Another user's target is reported as absent: no probing. */
	if (!t || !methods_can_see(c->peer, t)) {
		methods_reply_error(c, THPD_ERR_NO_SUCH_TARGET, json_pack("{s:I}", "pid", pid));
		return NULL;
	}
	return t;
}

static void m_collapse(struct call *c)
{
	json_error_t err;
	json_int_t pid, start = 0, end = 0;
	uint64_t until;

	if (json_unpack_ex(c->params, &err, JSON_STRICT, "{s:I, s?I, s?I}", "pid", &pid, "start",
			   &start, "end", &end) < 0)
		return methods_reply_bad_params(
		    c, (const char *const[]){"pid", "start", "end", NULL},
		    (const json_type[]){JSON_INTEGER, JSON_INTEGER, JSON_INTEGER});
	if (start < 0 || end < 0 || (end && end <= start))
		return methods_reply_invalid(c, "end");
	uint64_t retry_usec;
	if (!c->peer->privileged && !manager_user_may_collapse(c->m, c->peer->uid, &retry_usec)) {
		methods_reply_error(
		    c, THPD_ERR_TOO_MANY_CALLS,
		    json_pack("{s:s, s:I, s:f, s:i, s:i}", "method", THPD_METHOD_COLLAPSE, "uid",
			      (json_int_t)c->peer->uid, "retry_in_sec", (double)retry_usec / 1e6,
			      "per_minute", COLLAPSE_CALLS_PER_MIN, "burst", COLLAPSE_CALLS_BURST));
		return;
	}
	struct target *t = steerable_target(c, pid);
	if (!t)
		return;
	int n =
	    manager_collapse_now(c->m, t->pid, (uint64_t)start, (uint64_t)end, c->peer->privileged);
	if (n == -EBUSY) {
		const char *state = manager_pause_reason(c->m, now_usec(), &until)
					? "daemon-paused"
					: target_state_name(t->state);
		return methods_reply_error(c, THPD_ERR_TARGET_NOT_ACTIVE,
					   json_pack("{s:I, s:s}", "pid", pid, "state", state));
	}
	c->reply->parameters = json_pack("{s:i}", "chunks", n < 0 ? 0 : n);
}

static void pause_or_resume(struct call *c, int (*fn)(struct manager *, pid_t, bool))
{
	json_error_t err;
	json_int_t pid = 0;

	if (json_unpack_ex(c->params, &err, JSON_STRICT, "{s?I}", "pid", &pid) < 0)
		return methods_reply_bad_params(c, (const char *const[]){"pid", NULL},
						(const json_type[]){JSON_INTEGER});
	if (pid == 0) {
		if (!c->peer->privileged)
			return methods_reply_error(c, VARLINK_ERR_PERMISSION, NULL);
		fn(c->m, 0, true);
		return;
	}
	struct target *t = steerable_target(c, pid);
	if (t && fn(c->m, t->pid, c->peer->privileged) == -EPERM)
		methods_reply_error(c, VARLINK_ERR_PERMISSION,
				    json_pack("{s:I, s:s}", "pid", (json_int_t)t->pid, "reason",
					      "paused by root or group thpd"));
}

static void m_pause(struct call *c)
{
	pause_or_resume(c, manager_pause);
}

static void m_resume(struct call *c)
{
	pause_or_resume(c, manager_resume);
}

static void m_get_policy(struct call *c)
{
	if (!no_params(c))
		return;
	c->reply->parameters =
	    json_pack("{s:o, s:i}", "policy", config_to_json(manager_config(c->m)),
		      "config_generation", (int)manager_config_generation(c->m));
}

static void m_monitor(struct call *c)
{
	if (!no_params(c))
		return;
	if (!c->flags->more)
		return methods_reply_error(c, VARLINK_ERR_EXPECTED_MORE, NULL);
	c->reply->subscribe = true;
	c->reply->parameters = json_pack("{s:s}", "type", "subscribed");
}

bool methods_event_visible(const struct peer *peer, const struct manager_event *ev)
{
	/* A failed reload names a line of root's policy file. */
	if (ev->type == MANAGER_EVENT_RELOAD_FAILED)
		return peer->privileged;
	return peer->privileged || !ev->has_target || (ev->has_owner && ev->uid == peer->uid);
}

json_t *methods_event_json(const struct manager_event *ev)
{
	struct timespec now;
	json_t *o = json_pack("{s:s}", "type", manager_event_type_name(ev->type));

	if (!o)
		return NULL;
	/* Built as the event happens (the control layer's sink): its time. */
	clock_gettime(CLOCK_REALTIME, &now);
	json_object_set_new(o, "time", json_real((double)now.tv_sec + now.tv_nsec / 1e9));
	if (ev->has_target) {
		json_object_set_new(o, "pid", json_integer(ev->pid));
		json_object_set_new(o, "comm", methods_text_json(ev->comm ? ev->comm : ""));
		if (ev->policy)
			json_object_set_new(o, "policy", json_string(ev->policy));
	}
	if (ev->reason)
		json_object_set_new(o, "reason", json_string(ev->reason));
	if (ev->cgroup)
		json_object_set_new(o, "cgroup", json_string(ev->cgroup));
	if (ev->err)
		json_object_set_new(o, "errno", methods_errno_name(ev->err));
	if (ev->type == MANAGER_EVENT_COLLAPSE_ERROR)
		json_object_set_new(o, "addr", json_integer((json_int_t)ev->addr));
	if (ev->type == MANAGER_EVENT_COLLAPSE_DONE) {
		json_object_set_new(o, "bytes", json_integer((json_int_t)ev->bytes));
		json_object_set_new(o, "chunks_ok", json_integer(ev->chunks_ok));
		json_object_set_new(o, "chunks_failed", json_integer(ev->chunks_failed));
	}
	if (ev->duration_usec)
		json_object_set_new(o, "duration_sec", json_real((double)ev->duration_usec / 1e6));
	return o;
}

static const struct method method_table[] = {
    {VARLINK_METHOD_GET_INFO, m_get_info, false},
    {VARLINK_METHOD_GET_INTERFACE_DESCRIPTION, m_get_interface_description, false},
    {THPD_METHOD_GET_STATUS, m_get_status, false},
    {THPD_METHOD_LIST_TARGETS, m_list_targets, false},
    {THPD_METHOD_GET_TARGET, m_get_target, false},
    {THPD_METHOD_GET_COUNTERS, m_get_counters, true},
    {THPD_METHOD_RELOAD, m_reload, true},
    {THPD_METHOD_COLLAPSE, m_collapse, false},
    {THPD_METHOD_PAUSE, m_pause, false},
    {THPD_METHOD_RESUME, m_resume, false},
    {THPD_METHOD_GET_POLICY, m_get_policy, false},
    {THPD_METHOD_MONITOR, m_monitor, false},
    {THPD_METHOD_WHY, methods_why, false},
};

int methods_call(struct manager *m, const struct kernel_features *features, const struct peer *peer,
		 const char *method, json_t *parameters, const struct call_flags *flags,
		 struct method_reply *reply)
{
	static const struct kernel_features unknown; /* every feature "unknown" */
	struct call c = {.m = m,
			 .features = features ? features : &unknown,
			 .peer = peer,
			 .params = parameters,
			 .flags = flags,
			 .reply = reply};
	const char *key;
	void *tmp;
	json_t *v, *owned;

	*reply = (struct method_reply){0};
	/* Varlink: a null field is an absent one (optional "?type" fields). */
	c.params = owned = parameters ? json_copy(parameters) : json_object();
	if (!c.params)
		c.params = parameters; /* out of memory: nulls stay */
	else
		json_object_foreach_safe(c.params, tmp, key, v)
		{
			if (json_is_null(v))
				json_object_del(c.params, key);
		}
	for (size_t i = 0; i < ARRAY_SIZE(method_table); i++) {
		const struct method *x = &method_table[i];
		if (!streq(x->name, method))
			continue;
		if (x->privileged && !peer->privileged)
			methods_reply_error(&c, VARLINK_ERR_PERMISSION, NULL);
		else
			x->fn(&c);
		json_decref(owned);
		return 0;
	}
	methods_reply_error(&c, VARLINK_ERR_METHOD_NOT_FOUND, json_pack("{s:s}", "method", method));
	json_decref(owned);
	return 0;
}
