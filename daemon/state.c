/* SPDX-License-Identifier: MIT */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "util.h"

/* Sanity limits for what a state file may claim. */
#define STATE_MAX_TARGETS   100000
#define STATE_MAX_CHUNKS    (1u << 22) /* 8 TiB of 2 MiB chunks per target */
#define STATE_MAX_PAUSES    10000
#define STATE_MAX_ATTEMPTS  1000000
#define STATE_MAX_MEMCG_LEN 4096

void saved_state_free(struct saved_state *s)
{
	for (size_t i = 0; i < s->n_targets; i++)
		free(s->targets[i].chunks);
	free(s->targets);
	for (size_t i = 0; i < s->n_pauses; i++)
		free(s->pauses[i].memcg);
	free(s->pauses);
	memset(s, 0, sizeof(*s));
}

static json_t *counters_json(const struct counters *c)
{
	json_t *o = json_object();

	for (size_t i = 0; i < counters_table_len; i++) {
		const struct counter_desc *d = &counters_table[i];
		const uint64_t *v = counters_value(c, d);
		json_t *j;

		if (d->kind == COUNTER_BY_CLASS) {
			j = json_array();
			for (size_t k = 0; k < COLLAPSE_CLASS_MAX; k++)
				json_array_append_new(j, json_integer((json_int_t)v[k]));
		} else if (d->kind == COUNTER_HISTOGRAM) {
			j = histogram_to_state((const struct histogram *)v);
		} else {
			j = json_integer((json_int_t)*v);
		}
		json_object_set_new(o, d->state_name, j);
	}
	return o;
}

static json_t *sig_json(const struct area_sig *s)
{
	return json_pack("{s:I, s:I, s:I, s:I}", "start", (json_int_t)s->start, "end",
			 (json_int_t)s->end, "flags", (json_int_t)s->flags, "resident",
			 (json_int_t)s->resident);
}

json_t *state_to_json(const struct saved_state *s)
{
	json_t *targets = json_array(), *pauses = json_array();

	for (size_t i = 0; i < s->n_targets; i++) {
		const struct saved_target *t = &s->targets[i];
		json_t *chunks = json_array();
		for (size_t k = 0; k < t->n_chunks; k++) {
			const struct saved_chunk *c = &t->chunks[k];
			json_array_append_new(
			    chunks, json_pack("{s:I, s:i, s:i, s:I, s:i, s:i, s:o}", "addr",
					      (json_int_t)c->addr, "state", (int)c->retry.state,
					      "attempts", (int)c->retry.attempts, "next_usec",
					      (json_int_t)c->retry.next_usec, "last_errno",
					      c->retry.last_err, "splits", (int)c->splits, "sig",
					      sig_json(&c->retry.sig)));
		}
		json_array_append_new(targets,
				      json_pack("{s:i, s:I, s:o}", "pid", (int)t->pid, "starttime",
						(json_int_t)t->starttime, "chunks", chunks));
	}
	for (size_t i = 0; i < s->n_pauses; i++)
		json_array_append_new(pauses, json_pack("{s:s?, s:I, s:i}", "memcg",
							s->pauses[i].memcg, "until_usec",
							(json_int_t)s->pauses[i].pause.until_usec,
							"errno", s->pauses[i].pause.err));
	return json_pack("{s:s, s:i, s:s, s:o, s:o, s:o}", "format", STATE_FORMAT, "version",
			 STATE_VERSION, "boot_id", s->boot_id, "counters",
			 counters_json(&s->counters), "targets", targets, "pauses", pauses);
}

/* v as a non-negative integer; false if NULL, negative or of another type. */
static bool u64_value(const json_t *v, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

/* A non-negative integer field; false if absent or of another type. */
static bool get_u64(const json_t *o, const char *key, uint64_t *out)
{
	return u64_value(json_object_get(o, key), out);
}

static bool counter_from_json(const json_t *j, const struct counter_desc *d, struct counters *c)
{
	const json_t *v = json_object_get(j, d->state_name);
	uint64_t *field = counters_field(c, d);

	/* Absent: a counter added after the file was written starts at 0
	 * (present but malformed is an error). */
	if (!v) {
		for (size_t k = 0; k < counters_words(d); k++)
			field[k] = 0;
		return true;
	}
	if (d->kind == COUNTER_HISTOGRAM)
		return histogram_from_state(v, (struct histogram *)field);
	if (d->kind != COUNTER_BY_CLASS)
		return u64_value(v, field);
	if (!json_is_array(v) || json_array_size(v) != COLLAPSE_CLASS_MAX)
		return false;
	for (size_t k = 0; k < COLLAPSE_CLASS_MAX; k++)
		if (!u64_value(json_array_get(v, k), &field[k]))
			return false;
	return true;
}

static int counters_from_json(const json_t *j, struct counters *c, const char **why)
{
	bool ok = json_is_object(j);

	for (size_t i = 0; ok && i < counters_table_len; i++)
		ok = counter_from_json(j, &counters_table[i], c);
	if (!ok) {
		*why = "malformed counters";
		return -EINVAL;
	}
	return 0;
}

static int chunk_from_json(const json_t *j, struct saved_chunk *c)
{
	uint64_t state, attempts, splits, err;
	const json_t *sig = json_object_get(j, "sig");
	uint64_t flags;

	if (!json_is_object(j) || !json_is_object(sig) || !get_u64(j, "addr", &c->addr) ||
	    !get_u64(j, "state", &state) || !get_u64(j, "attempts", &attempts) ||
	    !get_u64(j, "next_usec", &c->retry.next_usec) || !get_u64(j, "last_errno", &err) ||
	    !get_u64(j, "splits", &splits) || !get_u64(sig, "start", &c->retry.sig.start) ||
	    !get_u64(sig, "end", &c->retry.sig.end) || !get_u64(sig, "flags", &flags) ||
	    !get_u64(sig, "resident", &c->retry.sig.resident))
		return -EINVAL;
	/* Only the states worth saving, and plausible values. */
	if ((state != CHUNK_BACKOFF && state != CHUNK_PARKED && state != CHUNK_QUARANTINED) ||
	    c->addr % PMD_SIZE_2M || attempts > STATE_MAX_ATTEMPTS || err > 4095 ||
	    splits > UINT16_MAX || flags > UINT32_MAX || c->retry.sig.start > c->retry.sig.end)
		return -EINVAL;
	c->retry.state = (enum chunk_state)state;
	c->retry.attempts = (uint32_t)attempts;
	c->retry.last_err = (int)err;
	c->retry.sig.flags = (uint32_t)flags;
	c->splits = (uint16_t)splits;
	return 0;
}

static int target_from_json(const json_t *j, struct saved_target *t)
{
	const json_t *chunks = json_object_get(j, "chunks");
	uint64_t pid;

	if (!json_is_object(j) || !get_u64(j, "pid", &pid) || pid == 0 || pid > INT32_MAX ||
	    !get_u64(j, "starttime", &t->starttime) || !json_is_array(chunks) ||
	    json_array_size(chunks) > STATE_MAX_CHUNKS)
		return -EINVAL;
	t->pid = (pid_t)pid;
	t->n_chunks = json_array_size(chunks);
	t->chunks = calloc(t->n_chunks ? t->n_chunks : 1, sizeof(*t->chunks));
	if (!t->chunks)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_chunks; i++)
		if (chunk_from_json(json_array_get(chunks, i), &t->chunks[i]) < 0)
			return -EINVAL;
	return 0;
}

static int pause_from_json(const json_t *j, struct saved_pause *p)
{
	const json_t *memcg = json_object_get(j, "memcg");
	uint64_t err;

	if (!json_is_object(j) || !get_u64(j, "until_usec", &p->pause.until_usec) ||
	    !get_u64(j, "errno", &err) || (err != ENOMEM && err != EBUSY))
		return -EINVAL;
	p->pause.err = (int)err;
	if (memcg && !json_is_null(memcg)) {
		if (!json_is_string(memcg) || json_string_length(memcg) > STATE_MAX_MEMCG_LEN ||
		    json_string_value(memcg)[0] != '/')
			return -EINVAL;
		p->memcg = strdup(json_string_value(memcg));
		if (!p->memcg)
			return -ENOMEM;
	}
	return 0;
}

int state_from_json(const json_t *j, struct saved_state *out, const char **why)
{
	const char *format = NULL, *boot = NULL;
	const json_t *targets, *pauses;
	json_int_t version = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(j) ||
	    json_unpack((json_t *)j, "{s:s, s:I, s:s}", "format", &format, "version", &version,
			"boot_id", &boot) < 0 ||
	    !streq(format, STATE_FORMAT)) {
		*why = "not a thpd state file";
		return -EINVAL;
	}
	if (version != STATE_VERSION) {
		*why = "unknown state file version";
		return -EINVAL;
	}
	if (strlen(boot) >= sizeof(out->boot_id)) {
		*why = "malformed boot_id";
		return -EINVAL;
	}
	strcpy(out->boot_id, boot);
	r = counters_from_json(json_object_get(j, "counters"), &out->counters, why);
	if (r < 0)
		goto fail;
	targets = json_object_get(j, "targets");
	pauses = json_object_get(j, "pauses");
	if (!json_is_array(targets) || json_array_size(targets) > STATE_MAX_TARGETS ||
	    !json_is_array(pauses) || json_array_size(pauses) > STATE_MAX_PAUSES) {
		*why = "malformed targets or pauses";
		r = -EINVAL;
		goto fail;
	}
	out->targets = calloc(json_array_size(targets) + 1, sizeof(*out->targets));
	out->pauses = calloc(json_array_size(pauses) + 1, sizeof(*out->pauses));
	if (!out->targets || !out->pauses) {
		*why = "out of memory";
		r = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < json_array_size(targets); i++) {
		out->n_targets++;
		r = target_from_json(json_array_get(targets, i), &out->targets[i]);
		if (r < 0) {
			*why = "malformed target entry";
			goto fail;
		}
	}
	for (size_t i = 0; i < json_array_size(pauses); i++) {
		out->n_pauses++;
		r = pause_from_json(json_array_get(pauses, i), &out->pauses[i]);
		if (r < 0) {
			*why = "malformed pause entry";
			goto fail;
		}
	}
	return 0;
fail:
	saved_state_free(out);
	return r;
}

int state_boot_id(char *buf, size_t len)
{
	char *text = NULL;
	size_t n;
	int r = read_file_at(AT_FDCWD, "/proc/sys/kernel/random/boot_id", &text, &n);

	if (r < 0)
		return r;
	while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
		text[--n] = '\0';
	if (n == 0 || n >= len) {
		free(text);
		return -EINVAL;
	}
	memcpy(buf, text, n + 1);
	free(text);
	return 0;
}
