/* SPDX-License-Identifier: MIT */
#include "workq.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

struct workq {
	struct event_base *base;
	void *userdata;
	char name[16];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct work *todo_head, *todo_tail; /* guarded by lock */
	struct work *done_head, *done_tail; /* guarded by lock */
	bool quit;			    /* guarded by lock */
	struct workq_sched sched;	    /* guarded by lock */
	unsigned sched_gen;		    /* guarded by lock: bumped by workq_set_sched */
	atomic_int sched_err;		    /* what applying sched last returned */
	atomic_bool stop;		    /* read by running jobs */
	int efd;
	struct event *ev;
};

static void list_push(struct work **head, struct work **tail, struct work *w)
{
	w->next = NULL;
	if (*tail)
		(*tail)->next = w;
	else
		*head = w;
	*tail = w;
}

/*
 * On the worker itself: on Linux, sched_setscheduler(0) and
 * setpriority(PRIO_PROCESS, 0) act on the calling thread only.
 */
static int apply_sched(const struct workq_sched *s)
{
	struct sched_param sp = {0};

	if (sched_setscheduler(0, s->policy, &sp) < 0)
		return -errno;
	if (setpriority(PRIO_PROCESS, 0, s->nice) < 0)
		return -errno;
	return 0;
}

static void *worker_main(void *arg)
{
	struct workq *q = arg;
	unsigned applied_gen = 0;

	pthread_setname_np(pthread_self(), q->name);
	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->todo_head && !q->quit)
			pthread_cond_wait(&q->cond, &q->lock);
		if (q->quit)
			break;
		if (q->sched_gen != applied_gen) {
			applied_gen = q->sched_gen;
			atomic_store(&q->sched_err, apply_sched(&q->sched));
		}
		struct work *w = q->todo_head;
		q->todo_head = w->next;
		if (!q->todo_head)
			q->todo_tail = NULL;
		pthread_mutex_unlock(&q->lock);

		w->run(w, &q->stop);

		pthread_mutex_lock(&q->lock);
		list_push(&q->done_head, &q->done_tail, w);
		uint64_t one = 1;
		/* A full eventfd counter still wakes the loop; nothing to handle. */
		(void)!write(q->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

static void deliver(struct workq *q, struct work *list)
{
	while (list) {
		struct work *next = list->next;
		list->done(list, list->cancelled, q->userdata);
		list = next;
	}
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
	struct workq *q = arg;
	uint64_t n;

	(void)!read(fd, &n, sizeof(n));
	pthread_mutex_lock(&q->lock);
	struct work *list = q->done_head;
	q->done_head = q->done_tail = NULL;
	pthread_mutex_unlock(&q->lock);
	deliver(q, list);
}

int workq_new(struct event_base *base, const char *name, void *userdata, struct workq **ret)
{
	struct workq *q = calloc(1, sizeof(*q));
	int r;

	if (!q)
		return -ENOMEM;
	q->base = base;
	q->userdata = userdata;
	snprintf(q->name, sizeof(q->name), "%s", name);
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->efd < 0) {
		r = -errno;
		goto fail;
	}
	q->ev = event_new(base, q->efd, EV_READ | EV_PERSIST, on_done, q);
	if (!q->ev || event_add(q->ev, NULL) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	r = -pthread_create(&q->thread, NULL, worker_main, q);
	if (r < 0)
		goto fail;
	*ret = q;
	return 0;
fail:
	if (q->ev)
		event_free(q->ev);
	if (q->efd >= 0)
		close(q->efd);
	free(q);
	return r;
}

void workq_set_sched(struct workq *q, const struct workq_sched *s)
{
	pthread_mutex_lock(&q->lock);
	if (q->sched_gen == 0 || q->sched.policy != s->policy || q->sched.nice != s->nice) {
		q->sched = *s;
		q->sched_gen++;
	}
	pthread_mutex_unlock(&q->lock);
}

int workq_sched_error(const struct workq *q)
{
	return atomic_load(&q->sched_err);
}

void workq_submit(struct workq *q, struct work *w)
{
	w->cancelled = false;
	pthread_mutex_lock(&q->lock);
	list_push(&q->todo_head, &q->todo_tail, w);
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

void workq_free(struct workq *q)
{
	if (!q)
		return;
	atomic_store(&q->stop, true);
	pthread_mutex_lock(&q->lock);
	q->quit = true;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);

	for (struct work *w = q->todo_head; w; w = w->next)
		w->cancelled = true;
	deliver(q, q->done_head);
	deliver(q, q->todo_head);
	event_free(q->ev);
	close(q->efd);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	free(q);
}
