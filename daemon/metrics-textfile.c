/* SPDX-License-Identifier: MIT */
#include "metrics-textfile.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "manager.h"
#include "methods.h"
#include "metrics-format.h"
#include "persist.h"
#include "units.h"
#include "util.h"
#include "workq.h"

/* The same failure again is said once per this long. */
#define METRICS_RELOG_USEC (600 * USEC_PER_SEC)

struct metrics_textfile {
	struct event_base *base;
	struct manager *m;
	const struct kernel_features *kf;
	struct event *timer;
	struct workq *q; /* created by the first write */
	bool in_flight;
	char *path;		/* of the last write started; NULL: none yet */
	uint64_t interval_usec; /* in force for that write */
	uint64_t last_usec;	/* when it started */
	int last_err;		/* of the last write finished: 0 or a negative errno */
};

struct metrics_job {
	struct work work;
	struct metrics_textfile *mt;
	char *path;
	/* The replies, owned by the job: rendered on the worker. */
	json_t *status, *counters, *targets, *policy;
	int err;
};

static void metrics_job_free(struct metrics_job *job)
{
	if (!job)
		return;
	free(job->path);
	json_decref(job->status);
	json_decref(job->counters);
	json_decref(job->targets);
	json_decref(job->policy);
	free(job);
}

static void metrics_run(struct work *w, const atomic_bool *stop)
{
	struct metrics_job *job = (struct metrics_job *)w;
	struct metrics_sources s = {
	    .status = job->status,
	    .counters = json_object_get(job->counters, "counters"),
	    .targets = json_object_get(job->targets, "targets"),
	    .policy = json_object_get(job->policy, "policy"),
	};
	size_t len;
	char *text = metrics_render(&s, &len);

	/* node_exporter reads the file as another user (prometheus): 0644. */
	job->err = text ? persist_write_atomic(job->path, text, len, 0644) : -ENOMEM;
	free(text);
}

static void log_result(struct metrics_textfile *mt, const char *path, int err)
{
	static struct ratelimit rl = {.interval_usec = METRICS_RELOG_USEC, .burst = 1};

	char b[32];

	if (err < 0 && err != mt->last_err) {
		ratelimit_allow(&rl, now_usec()); /* the same again: not before the window ends */
		log_warning("cannot write metrics to %s: %s; trying again every %s", path,
			    strerror(-err), format_duration(mt->interval_usec, b, sizeof(b)));
	} else if (err < 0) {
		log_ratelimited_impl(&rl, LOG_WARNING, NULL, "still cannot write metrics to %s: %s",
				     path, strerror(-err));
	} else if (mt->last_err < 0) {
		log_info("metrics written to %s again", path);
	}
	mt->last_err = err;
}

static void metrics_done(struct work *w, bool cancelled, void *userdata)
{
	struct metrics_job *job = (struct metrics_job *)w;
	struct metrics_textfile *mt = job->mt;

	mt->in_flight = false;
	if (!cancelled)
		log_result(mt, job->path, job->err);
	metrics_job_free(job);
}

/* One method as root would call it: its reply parameters (new reference). */
static json_t *call(struct metrics_textfile *mt, const char *method)
{
	struct peer root = {.pid = getpid(), .privileged = true};
	struct call_flags flags = {0};
	struct method_reply reply;

	if (methods_call(mt->m, mt->kf, &root, method, NULL, &flags, &reply) < 0 || reply.error) {
		json_decref(reply.parameters);
		return NULL;
	}
	return reply.parameters;
}

static int start_write(struct metrics_textfile *mt, const char *path, uint64_t now)
{
	struct metrics_job *job = calloc(1, sizeof(*job));
	int r;

	if (!job || !(job->path = strdup(path))) {
		free(job);
		return -ENOMEM;
	}
	if (!mt->q && (r = workq_new(mt->base, "thpd-metrics", mt, &mt->q)) < 0) {
		metrics_job_free(job);
		return r;
	}
	job->mt = mt;
	job->status = call(mt, THPD_METHOD_GET_STATUS);
	job->counters = call(mt, THPD_METHOD_GET_COUNTERS);
	job->targets = call(mt, THPD_METHOD_LIST_TARGETS);
	job->policy = call(mt, THPD_METHOD_GET_POLICY);
	if (!job->status || !job->counters || !job->targets || !job->policy) {
		metrics_job_free(job);
		return -ENOMEM;
	}
	job->work.run = metrics_run;
	job->work.done = metrics_done;
	free(mt->path);
	mt->path = job->path ? strdup(job->path) : NULL;
	mt->last_usec = now;
	mt->in_flight = true;
	workq_submit(mt->q, &job->work);
	return 0;
}

static void arm(struct metrics_textfile *mt, uint64_t usec)
{
	struct timeval tv = {.tv_sec = (time_t)(usec / USEC_PER_SEC),
			     .tv_usec = (suseconds_t)(usec % USEC_PER_SEC)};

	evtimer_add(mt->timer, &tv);
}

/* Write when the interval is over, or at once for a new path or interval. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct metrics_textfile *mt = arg;
	const struct daemon_config *d = &manager_config(mt->m)->daemon;
	uint64_t now = now_usec(), next = METRICS_CHECK_USEC;

	char b[32];

	if (!d->metrics_textfile) {
		if (mt->path)
			log_info("no longer writing metrics to %s (daemon.metrics_textfile unset)",
				 mt->path);
		free(mt->path);
		mt->path = NULL;
		mt->last_err = 0;
		arm(mt, next);
		return;
	}
	bool changed = !mt->path || !streq(mt->path, d->metrics_textfile) ||
		       mt->interval_usec != d->metrics_interval_usec;
	mt->interval_usec = d->metrics_interval_usec;
	if (changed) {
		log_info("writing metrics to %s every %s", d->metrics_textfile,
			 format_duration(mt->interval_usec, b, sizeof(b)));
		mt->last_err = 0;
	}
	if (!mt->in_flight && (changed || now >= mt->last_usec + mt->interval_usec)) {
		int r = start_write(mt, d->metrics_textfile, now);
		if (r < 0)
			log_result(mt, d->metrics_textfile, r);
	}
	if (mt->last_usec + mt->interval_usec > now)
		next = MIN(next, mt->last_usec + mt->interval_usec - now);
	else
		next = MIN(next, mt->interval_usec);
	arm(mt, next);
}

int metrics_textfile_new(struct event_base *base, struct manager *m,
			 const struct kernel_features *kf, struct metrics_textfile **ret)
{
	struct metrics_textfile *mt = calloc(1, sizeof(*mt));

	if (!mt)
		return -ENOMEM;
	*mt = (struct metrics_textfile){.base = base, .m = m, .kf = kf};
	mt->timer = evtimer_new(base, on_timer, mt);
	if (!mt->timer) {
		free(mt);
		return -ENOMEM;
	}
	arm(mt, 0);
	*ret = mt;
	return 0;
}

void metrics_textfile_free(struct metrics_textfile *mt)
{
	if (!mt)
		return;
	if (mt->timer)
		event_free(mt->timer);
	/* Joins the worker; a write still queued comes back cancelled. */
	if (mt->q)
		workq_free(mt->q);
	free(mt->path);
	free(mt);
}
