/* SPDX-License-Identifier: MIT */
/*
 * The manager's state across restarts: which chunks were backing off,
 * parked or quarantined, active pauses and counters, saved to
 * STATE_DIR/state.json every scan interval when something changed and at
 * stop, restored at start (see state.h for the format and its checks).
 */
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "manager-internal.h"
#include "persist.h"
#include "util.h"
#include "workq.h"

static bool worth_saving(const struct chunk *c)
{
	return c->retry.state == CHUNK_BACKOFF || c->retry.state == CHUNK_PARKED ||
	       c->retry.state == CHUNK_QUARANTINED;
}

/* The state as JSON text (malloc'd), or NULL on ENOMEM. */
static char *snapshot(struct manager *m)
{
	size_t n_targets = HASH_COUNT(m->targets), n_memcg = HASH_COUNT(m->memcg_pauses);
	struct saved_state s = {.counters = m->counters};
	uint64_t now = now_usec();
	char *text = NULL;

	snprintf(s.boot_id, sizeof(s.boot_id), "%s", m->boot_id);
	s.targets = calloc(n_targets + 1, sizeof(*s.targets));
	s.pauses = calloc(n_memcg + 2, sizeof(*s.pauses));
	if (!s.targets || !s.pauses)
		goto out;
	for (struct target *t = m->targets; t; t = t->hh.next) {
		size_t n = 0;
		for (size_t i = 0; i < t->table.n_chunks; i++)
			n += worth_saving(&t->table.chunks[i]);
		if (n == 0)
			continue;
		struct saved_target *st = &s.targets[s.n_targets++];
		*st = (struct saved_target){.pid = t->pid, .starttime = t->starttime};
		st->chunks = calloc(n, sizeof(*st->chunks));
		if (!st->chunks)
			goto out;
		for (size_t i = 0; i < t->table.n_chunks; i++) {
			const struct chunk *c = &t->table.chunks[i];
			if (worth_saving(c))
				st->chunks[st->n_chunks++] = (struct saved_chunk){
				    .addr = c->addr, .retry = c->retry, .splits = c->splits};
		}
	}
	/* Pauses: memcg strings are borrowed (not freed below). */
	if (pause_active(&m->enomem_pause, now))
		s.pauses[s.n_pauses++] = (struct saved_pause){.pause = m->enomem_pause};
	for (struct memcg_pause *p = m->memcg_pauses; p; p = p->hh.next)
		if (pause_active(&p->pause, now))
			s.pauses[s.n_pauses++] =
			    (struct saved_pause){.memcg = p->path, .pause = p->pause};
	json_t *j = state_to_json(&s);
	text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
out:
	for (size_t i = 0; s.targets && i < s.n_targets; i++)
		free(s.targets[i].chunks);
	free(s.targets);
	free(s.pauses);
	return text;
}

static void on_saved(struct work *w, bool cancelled, void *userdata)
{
	struct manager *m = userdata;
	struct persist_job *job = (struct persist_job *)w;

	m->save_in_flight = false;
	if (!cancelled && job->err < 0) {
		m->state_dirty = true; /* try again next tick */
		log_ratelimited(LOG_WARNING, NULL,
				"cannot save state to %s/%s: %s; running on without it",
				m->state_dir, STATE_FILE, strerror(-job->err));
	}
	persist_job_free(job);
}

/* Write the state in the background if it changed and no write is running. */
void state_save_async(struct manager *m)
{
	if (!m->state_dir || !m->state_dirty || m->save_in_flight || m->stopping)
		return;
	char *text = snapshot(m);
	struct persist_job *job = text ? persist_job_new(m->state_dir, text, on_saved) : NULL;
	if (!job)
		return;
	m->state_dirty = false;
	m->save_in_flight = true;
	workq_submit(m->scanq, &job->work);
}

void state_save_now(struct manager *m)
{
	if (!m->state_dir)
		return;
	char *text = snapshot(m);
	int r = text ? persist_write(m->state_dir, text) : -ENOMEM;
	if (r < 0)
		log_warning("cannot save state to %s/%s: %s", m->state_dir, STATE_FILE,
			    strerror(-r));
	free(text);
}

static void restore_pauses(struct manager *m, const struct saved_state *s, uint64_t now)
{
	for (size_t i = 0; i < s->n_pauses; i++) {
		const struct saved_pause *p = &s->pauses[i];
		if (!pause_active(&p->pause, now))
			continue;
		if (!p->memcg) {
			m->enomem_pause = p->pause;
			continue;
		}
		struct memcg_pause *mp = calloc(1, sizeof(*mp));
		if (!mp || !(mp->path = strdup(p->memcg))) {
			free(mp);
			continue;
		}
		mp->pause = p->pause;
		HASH_ADD_KEYPTR(hh, m->memcg_pauses, mp->path, strlen(mp->path), mp);
	}
}

/* At start: counters always; chunk states and pauses only from this boot. */
void state_restore(struct manager *m)
{
	struct saved_state s;
	const char *why = NULL;
	size_t chunks = 0;

	if (!m->state_dir)
		return;
	int r = persist_load(m->state_dir, &s, &why);
	if (r == -ENOENT)
		return;
	if (r < 0) {
		log_warning("state file %s/%s ignored: %s", m->state_dir, STATE_FILE,
			    why ? why : strerror(-r));
		return;
	}
	m->counters = s.counters;
	if (!streq(s.boot_id, m->boot_id)) {
		log_notice("state file %s/%s is from another boot: counters kept, backoffs, "
			   "quarantines and pauses dropped",
			   m->state_dir, STATE_FILE);
		saved_state_free(&s);
		return;
	}
	restore_pauses(m, &s, now_usec());
	for (size_t i = 0; i < s.n_targets; i++)
		chunks += s.targets[i].n_chunks;
	m->pending = s.targets;
	m->n_pending = s.n_targets;
	s.targets = NULL;
	s.n_targets = 0;
	saved_state_free(&s);
	log_info("restored state from %s/%s: %zu processes with %zu chunks backing off, parked "
		 "or quarantined; %" PRIu64 " MiB collapsed so far",
		 m->state_dir, STATE_FILE, m->n_pending, chunks, m->counters.collapsed_bytes >> 20);
}

static void pending_remove(struct manager *m, size_t i)
{
	free(m->pending[i].chunks);
	m->pending[i] = m->pending[--m->n_pending];
}

/* A target's first scan: give its chunks back the states they had. */
void state_restore_target(struct manager *m, struct target *t)
{
	for (size_t i = 0; i < m->n_pending; i++) {
		struct saved_target *st = &m->pending[i];
		if (st->pid != t->pid || st->starttime != t->starttime)
			continue;
		for (size_t k = 0; k < st->n_chunks; k++) {
			struct chunk *c = chunk_table_find(&t->table, st->chunks[k].addr);
			if (c && c->retry.state == CHUNK_CANDIDATE) {
				c->retry = st->chunks[k].retry;
				c->splits = st->chunks[k].splits;
			}
		}
		pending_remove(m, i);
		return;
	}
}

/* After the first /proc walk: saved processes that are gone are forgotten. */
void state_prune_pending(struct manager *m)
{
	for (size_t i = 0; i < m->n_pending;) {
		struct target *t = manager_find_target(m, m->pending[i].pid);
		if (t && t->starttime == m->pending[i].starttime)
			i++;
		else
			pending_remove(m, i);
	}
}

int manager_set_state_dir(struct manager *m, const char *dir)
{
	char *copy = dir ? strdup(dir) : NULL;

	if (dir && !copy)
		return -ENOMEM;
	free(m->state_dir);
	m->state_dir = copy;
	return 0;
}

void state_free_pending(struct manager *m)
{
	while (m->n_pending)
		pending_remove(m, 0);
	free(m->pending);
	m->pending = NULL;
}
